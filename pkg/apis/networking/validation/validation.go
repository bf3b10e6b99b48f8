/*
Copyright 2026 The signet Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package validation checks Ingresses and IngressClasses of the
// networking.signet.dev group, in their internal form and after defaulting,
// before they are stored. Every function returns all the problems it finds,
// each tied to the path of the offending field.
package validation

import (
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"signet.dev/signet/pkg/apis/networking"
)

const (
	// maxControllerLength bounds spec.controller of an IngressClass.
	maxControllerLength = 250

	// maxPortStatusErrorLength bounds status.loadBalancer.ingress[].ports[].error;
	// it is the limit Kubernetes puts on the same field.
	maxPortStatusErrorLength = 316
)

// pathTypes lists the accepted pathType values, in the order shown to users.
var pathTypes = []networking.PathType{
	networking.PathTypeExact,
	networking.PathTypePrefix,
	networking.PathTypeImplementationSpecific,
}

// Substrings and endings an Exact or Prefix path may not have: each of them
// either reads differently once a proxy normalises the request path or
// smuggles in a path separator.
var (
	badPathSubstrings = []string{"//", "/./", "/../", "%2f", "%2F"}
	badPathEndings    = []string{"/.", "/.."}
)

// portProtocols lists the accepted protocols of a load-balancer port, in the
// order shown to users.
var portProtocols = []corev1.Protocol{
	corev1.ProtocolTCP,
	corev1.ProtocolUDP,
	corev1.ProtocolSCTP,
}

// parameterScopes lists the accepted IngressClass parameters scopes, in the
// order shown to users.
var parameterScopes = []string{
	networking.IngressClassParametersReferenceScopeCluster,
	networking.IngressClassParametersReferenceScopeNamespace,
}

// portStatusErrorPattern accepts a CamelCase reason, optionally followed by
// ": " and a free-text message on one line.
var portStatusErrorPattern = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*(: [^\n]+)?$`)

// omit keeps a bad value out of an error message when printing it would not
// help the user (a whole struct, say).
var omit = field.OmitValueType{}

// ValidateIngress checks a whole Ingress as it would be stored on create: its
// metadata (namespaced, name a DNS-1123 subdomain), its spec, and that the
// legacy kubernetes.io/ingress.class annotation, when set next to
// spec.ingressClassName, names the same class.
func ValidateIngress(ing *networking.Ingress) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMeta(&ing.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, validateIngressSpec(&ing.Spec, field.NewPath("spec"))...)
	allErrs = append(allErrs, validateClassAnnotation(ing)...)
	return allErrs
}

// ValidateIngressUpdate checks newIng as a replacement of oldIng: the
// metadata update rules and every spec rule of ValidateIngress. The class
// annotation is deliberately not compared with spec.ingressClassName again,
// so that objects stored before that rule existed can still be updated.
func ValidateIngressUpdate(newIng, oldIng *networking.Ingress) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newIng.ObjectMeta, &oldIng.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateIngressSpec(&newIng.Spec, field.NewPath("spec"))...)
	return allErrs
}

// ValidateIngressStatusUpdate checks a write to the status subresource: the
// metadata update rules and the new status (addresses, ports, conditions).
func ValidateIngressStatusUpdate(newIng, oldIng *networking.Ingress) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newIng.ObjectMeta, &oldIng.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateIngressStatus(&newIng.Status, field.NewPath("status"))...)
	return allErrs
}

// ValidateIngressClass checks a whole IngressClass as it would be stored on
// create: its metadata (cluster-scoped, name a DNS-1123 subdomain) and spec.
func ValidateIngressClass(ic *networking.IngressClass) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMeta(&ic.ObjectMeta, false, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, validateIngressClassSpec(&ic.Spec, field.NewPath("spec"))...)
	return allErrs
}

// ValidateIngressClassUpdate checks newIC as a replacement of oldIC: the
// metadata update rules, the spec rules of ValidateIngressClass, and that
// spec.controller did not change.
func ValidateIngressClassUpdate(newIC, oldIC *networking.IngressClass) field.ErrorList {
	specPath := field.NewPath("spec")
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newIC.ObjectMeta, &oldIC.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateIngressClassSpec(&newIC.Spec, specPath)...)
	allErrs = append(allErrs, apivalidation.ValidateImmutableField(newIC.Spec.Controller, oldIC.Spec.Controller, specPath.Child("controller"))...)
	return allErrs
}

// validateClassAnnotation reports a legacy class annotation that disagrees
// with spec.ingressClassName. Either one alone is fine.
func validateClassAnnotation(ing *networking.Ingress) field.ErrorList {
	annotated, ok := ing.Annotations[networking.AnnotationIngressClass]
	if !ok || ing.Spec.IngressClassName == nil || annotated == *ing.Spec.IngressClassName {
		return nil
	}
	fldPath := field.NewPath("metadata", "annotations").Key(networking.AnnotationIngressClass)
	return field.ErrorList{field.Invalid(fldPath, annotated,
		fmt.Sprintf("must match spec.ingressClassName (%q) when both are set; change one of them or remove the annotation", *ing.Spec.IngressClassName))}
}

// validateIngressSpec checks everything under spec.
func validateIngressSpec(spec *networking.IngressSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList

	if len(spec.Rules) == 0 && spec.DefaultBackend == nil {
		allErrs = append(allErrs, field.Required(fldPath, "either a defaultBackend or at least one rule is required"))
	}

	if spec.IngressClassName != nil {
		allErrs = append(allErrs, validateIngressClassName(*spec.IngressClassName, fldPath.Child("ingressClassName"))...)
	}

	// The default backend is visited first and the rule paths in order, so
	// a health-check conflict is reported at the later of two backends.
	checks := healthChecks{}
	if spec.DefaultBackend != nil {
		allErrs = append(allErrs, validateBackend(spec.DefaultBackend, fldPath.Child("defaultBackend"), checks)...)
	}
	for i := range spec.Rules {
		allErrs = append(allErrs, validateRule(&spec.Rules[i], fldPath.Child("rules").Index(i), checks)...)
	}
	for i := range spec.TLS {
		allErrs = append(allErrs, validateTLS(&spec.TLS[i], fldPath.Child("tls").Index(i))...)
	}
	return allErrs
}

func validateIngressClassName(name string, fldPath *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(fldPath, "must name an IngressClass when set; leave it unset to use the default class")}
	}
	var allErrs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(name) {
		allErrs = append(allErrs, field.Invalid(fldPath, name, msg))
	}
	return allErrs
}

func validateTLS(tls *networking.IngressTLS, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for j, host := range tls.Hosts {
		hostPath := fldPath.Child("hosts").Index(j)
		if host == "" {
			allErrs = append(allErrs, field.Required(hostPath, "a TLS host must name a host such as foo.example.com or *.example.com; remove empty entries"))
			continue
		}
		allErrs = append(allErrs, validateHost(host, hostPath)...)
	}
	if tls.SecretName != "" {
		for _, msg := range validation.IsDNS1123Subdomain(tls.SecretName) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("secretName"), tls.SecretName, msg))
		}
	}
	return allErrs
}

func validateRule(rule *networking.IngressRule, fldPath *field.Path, checks healthChecks) field.ErrorList {
	var allErrs field.ErrorList
	if rule.Host != "" {
		allErrs = append(allErrs, validateHost(rule.Host, fldPath.Child("host"))...)
	}

	httpPath := fldPath.Child("http")
	if rule.HTTP == nil {
		// A rule with a host and nothing else routes nothing but does no
		// harm; a rule with neither is certainly a mistake.
		if rule.Host == "" {
			allErrs = append(allErrs, field.Required(httpPath, "a rule must set host, http or both; a rule with neither has no effect"))
		}
		return allErrs
	}

	pathsPath := httpPath.Child("paths")
	if len(rule.HTTP.Paths) == 0 {
		allErrs = append(allErrs, field.Required(pathsPath, "at least one path is required when http is set"))
	}
	for i := range rule.HTTP.Paths {
		allErrs = append(allErrs, validateHTTPPath(&rule.HTTP.Paths[i], pathsPath.Index(i), checks)...)
	}
	return allErrs
}

// validateHost checks a non-empty host of a rule or a TLS entry: a lowercase
// DNS-1123 subdomain, optionally with "*." in place of its first label, never
// an IP address and never with a port.
func validateHost(host string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range hostProblems(host) {
		allErrs = append(allErrs, field.Invalid(fldPath, host, msg))
	}
	return allErrs
}

func hostProblems(host string) []string {
	if looksLikeIP(host) {
		return []string{"must be a DNS name, not an IP address"}
	}
	name, wildcard := strings.CutPrefix(host, "*.")
	if strings.Contains(name, "*") {
		return []string{"a wildcard '*' is allowed only as the entire first label, followed by a domain (such as *.example.com)"}
	}
	if wildcard && looksLikeIP(name) {
		return []string{"a wildcard must be followed by a DNS name, not an IP address"}
	}
	if strings.Contains(name, ":") {
		return []string{"must not include a port; the port of a request's Host header is ignored when matching"}
	}
	var msgs []string
	if wildcard && len(host) > validation.DNS1123SubdomainMaxLength {
		msgs = append(msgs, validation.MaxLenError(validation.DNS1123SubdomainMaxLength))
	}
	return append(msgs, validation.IsDNS1123Subdomain(name)...)
}

// looksLikeIP reports whether s is an IP address of either family, including
// the IPv4 form with leading zeros (010.0.0.1) that some resolvers still
// read as an address.
func looksLikeIP(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

func validateHTTPPath(p *networking.HTTPIngressPath, fldPath *field.Path, checks healthChecks) field.ErrorList {
	var allErrs field.ErrorList
	pathPath := fldPath.Child("path")
	typePath := fldPath.Child("pathType")

	switch {
	case p.PathType == nil:
		allErrs = append(allErrs, field.Required(typePath, "must be one of Exact, Prefix or ImplementationSpecific"))
	case *p.PathType == networking.PathTypeExact || *p.PathType == networking.PathTypePrefix:
		if !strings.HasPrefix(p.Path, "/") {
			allErrs = append(allErrs, field.Invalid(pathPath, p.Path, "must be an absolute path: it must start with '/'"))
		}
		for _, bad := range badPathSubstrings {
			if strings.Contains(p.Path, bad) {
				allErrs = append(allErrs, field.Invalid(pathPath, p.Path, fmt.Sprintf("must not contain '%s'", bad)))
			}
		}
		for _, bad := range badPathEndings {
			if strings.HasSuffix(p.Path, bad) {
				allErrs = append(allErrs, field.Invalid(pathPath, p.Path, fmt.Sprintf("must not end with '%s'", bad)))
			}
		}
	case *p.PathType == networking.PathTypeImplementationSpecific:
		if p.Path != "" {
			if !strings.HasPrefix(p.Path, "/") {
				allErrs = append(allErrs, field.Invalid(pathPath, p.Path, "must be empty or start with '/'"))
			}
			if _, err := regexp.Compile(p.Path); err != nil {
				allErrs = append(allErrs, field.Invalid(pathPath, p.Path,
					fmt.Sprintf("must be a valid RE2 regular expression for pathType ImplementationSpecific: %v", err)))
			}
		}
	default:
		allErrs = append(allErrs, field.NotSupported(typePath, *p.PathType, pathTypes))
	}

	allErrs = append(allErrs, validateBackend(&p.Backend, fldPath.Child("backend"), checks)...)
	return allErrs
}

// validateBackend checks one backend (spec.defaultBackend or a path's) and
// records its health check in checks so that later backends of the same
// Ingress can be compared with it.
func validateBackend(b *networking.IngressBackend, fldPath *field.Path, checks healthChecks) field.ErrorList {
	var allErrs field.ErrorList
	switch {
	case b.Service == nil && b.Resource == nil:
		allErrs = append(allErrs, field.Required(fldPath, "exactly one of service or resource is required"))
	case b.Service != nil && b.Resource != nil:
		allErrs = append(allErrs, field.Invalid(fldPath, omit, "service and resource are mutually exclusive; set exactly one of them"))
	}
	if b.Service != nil {
		allErrs = append(allErrs, validateServiceBackend(b.Service, fldPath.Child("service"), checks)...)
	}
	if b.Resource != nil {
		r := b.Resource
		allErrs = append(allErrs, validateObjectReference(r.APIGroup, r.Kind, r.Name, fldPath.Child("resource"))...)
	}
	return allErrs
}

func validateServiceBackend(svc *networking.IngressServiceBackend, fldPath *field.Path, checks healthChecks) field.ErrorList {
	var allErrs field.ErrorList
	namePath := fldPath.Child("name")
	if svc.Name == "" {
		allErrs = append(allErrs, field.Required(namePath, "the name of a Service in the Ingress's namespace"))
	} else {
		for _, msg := range apivalidation.NameIsDNS1035Label(svc.Name, false) {
			allErrs = append(allErrs, field.Invalid(namePath, svc.Name, msg))
		}
	}
	allErrs = append(allErrs, validateServicePort(svc.Port, fldPath.Child("port"))...)
	if svc.HealthCheck != nil {
		hcPath := fldPath.Child("healthCheck")
		allErrs = append(allErrs, validateHealthCheck(svc.HealthCheck, hcPath)...)
		allErrs = append(allErrs, checks.add(svc, hcPath)...)
	}
	return allErrs
}

// validateServicePort checks a Service port given by exactly one of name
// (an IANA service name) or number (1-65535); a zero number means unset.
func validateServicePort(port networking.ServiceBackendPort, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	hasName, hasNumber := port.Name != "", port.Number != 0
	switch {
	case !hasName && !hasNumber:
		allErrs = append(allErrs, field.Required(fldPath, "exactly one of name or number is required"))
	case hasName && hasNumber:
		allErrs = append(allErrs, field.Invalid(fldPath, omit, "name and number are mutually exclusive; set exactly one of them"))
	}
	if hasName {
		for _, msg := range validation.IsValidPortName(port.Name) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("name"), port.Name, msg))
		}
	}
	if hasNumber {
		for _, msg := range validation.IsValidPortNum(int(port.Number)) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("number"), port.Number, msg))
		}
	}
	return allErrs
}

// validateHealthCheck checks the ranges of a health check. Unset fields are
// accepted: defaulting fills them before validation runs, and the defaults
// stand in for them where two fields are compared.
func validateHealthCheck(hc *networking.IngressHealthCheck, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if hc.Path != "" && !strings.HasPrefix(hc.Path, "/") {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("path"), hc.Path, "must start with '/'"))
	}
	if hc.Port != nil {
		allErrs = append(allErrs, validateServicePort(*hc.Port, fldPath.Child("port"))...)
	}

	intervalErrs := validateRange(hc.IntervalSeconds, networking.MinHealthCheckIntervalSeconds, networking.MaxHealthCheckIntervalSeconds, fldPath.Child("intervalSeconds"))
	timeoutErrs := validateRange(hc.TimeoutSeconds, networking.MinHealthCheckTimeoutSeconds, networking.MaxHealthCheckTimeoutSeconds, fldPath.Child("timeoutSeconds"))
	allErrs = append(allErrs, intervalErrs...)
	allErrs = append(allErrs, timeoutErrs...)
	if len(intervalErrs) == 0 && len(timeoutErrs) == 0 {
		interval := valueOr(hc.IntervalSeconds, networking.DefaultHealthCheckIntervalSeconds)
		timeout := valueOr(hc.TimeoutSeconds, networking.DefaultHealthCheckTimeoutSeconds)
		if timeout > interval {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("timeoutSeconds"), timeout,
				fmt.Sprintf("must not be greater than intervalSeconds (%d)", interval)))
		}
	}

	allErrs = append(allErrs, validateRange(hc.HealthyThreshold, networking.MinHealthCheckThreshold, networking.MaxHealthCheckThreshold, fldPath.Child("healthyThreshold"))...)
	allErrs = append(allErrs, validateRange(hc.UnhealthyThreshold, networking.MinHealthCheckThreshold, networking.MaxHealthCheckThreshold, fldPath.Child("unhealthyThreshold"))...)
	return allErrs
}

// validateRange checks that v, when set, lies in [lo, hi].
func validateRange(v *int32, lo, hi int, fldPath *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	var allErrs field.ErrorList
	for _, msg := range validation.IsInRange(int(*v), lo, hi) {
		allErrs = append(allErrs, field.Invalid(fldPath, *v, msg))
	}
	return allErrs
}

func valueOr(v *int32, def int32) int32 {
	if v == nil {
		return def
	}
	return *v
}

// servicePort identifies the Service port a backend sends traffic to. Ports
// are compared as written: port name "http" and port number 80 are
// different keys even when the Service maps one to the other.
type servicePort struct {
	service string
	port    networking.ServiceBackendPort
}

// seenHealthCheck is the first health check met for a Service port.
type seenHealthCheck struct {
	at    *field.Path
	check networking.IngressHealthCheck
}

// healthChecks records, per Service port, the first health check asked for
// within one Ingress.
type healthChecks map[servicePort]seenHealthCheck

// add records the health check of svc (found at hcPath) or, when an earlier
// backend asked for a different check of the same Service port, reports the
// conflict at hcPath.
func (h healthChecks) add(svc *networking.IngressServiceBackend, hcPath *field.Path) field.ErrorList {
	key := servicePort{service: svc.Name, port: svc.Port}
	check := effectiveHealthCheck(svc)
	earlier, ok := h[key]
	if !ok {
		h[key] = seenHealthCheck{at: hcPath, check: check}
		return nil
	}
	if reflect.DeepEqual(earlier.check, check) {
		return nil
	}
	return field.ErrorList{field.Invalid(hcPath, omit, fmt.Sprintf(
		"differs from the health check at %s, which targets the same port (%s) of Service %q; backends sharing a Service port must use the same health check or leave it unset",
		earlier.at, describePort(svc.Port), svc.Name))}
}

// effectiveHealthCheck returns svc's health check with every unset field
// replaced by the value defaulting would give it, so that a check written
// out in full and one relying on defaults compare as equal.
func effectiveHealthCheck(svc *networking.IngressServiceBackend) networking.IngressHealthCheck {
	hc := svc.HealthCheck
	out := networking.IngressHealthCheck{Path: hc.Path}
	if out.Path == "" {
		out.Path = networking.DefaultHealthCheckPath
	}
	port := svc.Port
	if hc.Port != nil {
		port = *hc.Port
	}
	out.Port = &port
	out.IntervalSeconds = int32Ptr(valueOr(hc.IntervalSeconds, networking.DefaultHealthCheckIntervalSeconds))
	out.TimeoutSeconds = int32Ptr(valueOr(hc.TimeoutSeconds, networking.DefaultHealthCheckTimeoutSeconds))
	out.HealthyThreshold = int32Ptr(valueOr(hc.HealthyThreshold, networking.DefaultHealthCheckHealthyThreshold))
	out.UnhealthyThreshold = int32Ptr(valueOr(hc.UnhealthyThreshold, networking.DefaultHealthCheckUnhealthyThreshold))
	return out
}

func int32Ptr(v int32) *int32 { return &v }

func describePort(p networking.ServiceBackendPort) string {
	if p.Name != "" {
		return fmt.Sprintf("name %q", p.Name)
	}
	return "number " + strconv.Itoa(int(p.Number))
}

// validateObjectReference checks a typed reference (a resource backend or
// IngressClass parameters): kind and name are required and must be usable
// as URL path segments; apiGroup, when non-empty, is a DNS-1123 subdomain.
// An empty apiGroup means the core group.
func validateObjectReference(apiGroup *string, kind, name string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if apiGroup != nil && *apiGroup != "" {
		for _, msg := range validation.IsDNS1123Subdomain(*apiGroup) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("apiGroup"), *apiGroup, msg))
		}
	}
	allErrs = append(allErrs, validateSegment(kind, fldPath.Child("kind"), "the kind of the referenced object, such as Bucket")...)
	allErrs = append(allErrs, validateSegment(name, fldPath.Child("name"), "the name of the referenced object")...)
	return allErrs
}

func validateSegment(value string, fldPath *field.Path, what string) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(fldPath, what)}
	}
	var allErrs field.ErrorList
	for _, msg := range content.IsPathSegmentName(value) {
		allErrs = append(allErrs, field.Invalid(fldPath, value, msg))
	}
	return allErrs
}

// validateIngressStatus checks everything under status.
func validateIngressStatus(status *networking.IngressStatus, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	lbPath := fldPath.Child("loadBalancer", "ingress")
	for i := range status.LoadBalancer.Ingress {
		allErrs = append(allErrs, validateLoadBalancerIngress(&status.LoadBalancer.Ingress[i], lbPath.Index(i))...)
	}
	allErrs = append(allErrs, metav1validation.ValidateConditions(status.Conditions, fldPath.Child("conditions"))...)
	return allErrs
}

func validateLoadBalancerIngress(lb *networking.IngressLoadBalancerIngress, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if lb.IP == "" && lb.Hostname == "" {
		allErrs = append(allErrs, field.Required(fldPath, "at least one of ip or hostname is required"))
	}
	if lb.IP != "" {
		allErrs = append(allErrs, validation.IsValidIP(fldPath.Child("ip"), lb.IP)...)
	}
	if lb.Hostname != "" {
		hostPath := fldPath.Child("hostname")
		if looksLikeIP(lb.Hostname) {
			allErrs = append(allErrs, field.Invalid(hostPath, lb.Hostname, "must be a DNS name, not an IP address; report IP addresses in ip"))
		} else {
			for _, msg := range validation.IsDNS1123Subdomain(lb.Hostname) {
				allErrs = append(allErrs, field.Invalid(hostPath, lb.Hostname, msg))
			}
		}
	}
	for j := range lb.Ports {
		allErrs = append(allErrs, validatePortStatus(&lb.Ports[j], fldPath.Child("ports").Index(j))...)
	}
	return allErrs
}

func validatePortStatus(ps *networking.IngressPortStatus, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range validation.IsValidPortNum(int(ps.Port)) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("port"), ps.Port, msg))
	}

	protoPath := fldPath.Child("protocol")
	switch {
	case ps.Protocol == "":
		allErrs = append(allErrs, field.Required(protoPath, "must be one of TCP, UDP or SCTP"))
	case !isOneOf(ps.Protocol, portProtocols):
		allErrs = append(allErrs, field.NotSupported(protoPath, ps.Protocol, portProtocols))
	}

	// An empty error says the port works, like an unset one.
	if ps.Error != nil && *ps.Error != "" {
		errPath := fldPath.Child("error")
		msg := *ps.Error
		if len(msg) > maxPortStatusErrorLength {
			allErrs = append(allErrs, field.TooLong(errPath, omit, maxPortStatusErrorLength))
		}
		if !portStatusErrorPattern.MatchString(msg) {
			allErrs = append(allErrs, field.Invalid(errPath, msg,
				"must be a CamelCase reason (such as CertificateInvalid), optionally followed by ': ' and a one-line message"))
		}
	}
	return allErrs
}

func isOneOf[T comparable](v T, allowed []T) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// validateIngressClassSpec checks everything under an IngressClass's spec.
func validateIngressClassSpec(spec *networking.IngressClassSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	ctrlPath := fldPath.Child("controller")
	if len(spec.Controller) > maxControllerLength {
		allErrs = append(allErrs, field.TooLong(ctrlPath, omit, maxControllerLength))
	}
	if spec.Controller == "" {
		allErrs = append(allErrs, field.Required(ctrlPath, "the controller that implements this class, as a domain-prefixed path such as signet.dev/ingress"))
	} else {
		allErrs = append(allErrs, validation.IsDomainPrefixedPath(ctrlPath, spec.Controller)...)
	}
	if spec.Parameters != nil {
		allErrs = append(allErrs, validateParameters(spec.Parameters, fldPath.Child("parameters"))...)
	}
	return allErrs
}

func validateParameters(params *networking.IngressClassParametersReference, fldPath *field.Path) field.ErrorList {
	allErrs := validateObjectReference(params.APIGroup, params.Kind, params.Name, fldPath)

	scopePath := fldPath.Child("scope")
	nsPath := fldPath.Child("namespace")
	if params.Scope == nil {
		return append(allErrs, field.Required(scopePath, "must be one of Cluster or Namespace"))
	}
	switch *params.Scope {
	case networking.IngressClassParametersReferenceScopeNamespace:
		switch {
		case params.Namespace == nil || *params.Namespace == "":
			allErrs = append(allErrs, field.Required(nsPath, "the namespace of the parameters object is required when scope is Namespace"))
		default:
			for _, msg := range apivalidation.ValidateNamespaceName(*params.Namespace, false) {
				allErrs = append(allErrs, field.Invalid(nsPath, *params.Namespace, msg))
			}
		}
	case networking.IngressClassParametersReferenceScopeCluster:
		if params.Namespace != nil {
			allErrs = append(allErrs, field.Forbidden(nsPath, "must not be set when scope is Cluster; set scope to Namespace to refer to a namespaced object"))
		}
	default:
		allErrs = append(allErrs, field.NotSupported(scopePath, *params.Scope, parameterScopes))
	}
	return allErrs
}
