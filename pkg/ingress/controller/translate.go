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

package controller

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"

	discoveryv1 "signet.dev/api/discovery/v1"
	networkingv1 "signet.dev/api/networking/v1"

	"signet.dev/signet/pkg/apis/networking"
	"signet.dev/signet/pkg/ingress/proxy"
	"signet.dev/signet/pkg/ingress/routes"
)

// Reasons of the Accepted and Programmed conditions.
const (
	// ReasonAccepted: the Ingress is ours and every part of it is usable.
	ReasonAccepted = "Accepted"
	// ReasonInvalidPath: a path cannot be matched (the API server refuses
	// these, so only objects that bypassed validation have one).
	ReasonInvalidPath = "InvalidPath"
	// ReasonInvalidBackend: a backend names neither a Service nor a
	// resource (also refused by the API server).
	ReasonInvalidBackend = "InvalidBackend"
	// ReasonBackendNotFound: a backend's Service, Service port,
	// health-check port or ConfigMap does not exist; its requests get 503.
	ReasonBackendNotFound = "BackendNotFound"
	// ReasonUnsupportedResourceKind: a resource backend of a kind other
	// than ConfigMap; its requests get 503.
	ReasonUnsupportedResourceKind = "UnsupportedResourceKind"
	// ReasonConflict: a path or the default backend is also defined by an
	// older Ingress (or earlier in this one) and is ignored.
	ReasonConflict = "Conflict"
	// ReasonInvalidSecret: a spec.tls Secret exists but holds no usable
	// certificate and key; its hosts get a self-signed certificate.
	ReasonInvalidSecret = "InvalidSecret"
	// ReasonSecretNotFound: a spec.tls Secret (of type kubernetes.io/tls)
	// does not exist or is not named; its hosts get a self-signed
	// certificate.
	ReasonSecretNotFound = "SecretNotFound"

	// ReasonProgrammed: the Ingress's routes are live in the proxy.
	ReasonProgrammed = "Programmed"
	// ReasonPending: the current generation is not live in the proxy yet.
	ReasonPending = "Pending"
)

// reasonOrder ranks the reasons of Accepted=False: the condition carries
// the first of its problems' reasons in this order (the message lists all
// problems). Problems that break routing come before those that only
// affect TLS.
var reasonOrder = []string{
	ReasonInvalidPath,
	ReasonInvalidBackend,
	ReasonBackendNotFound,
	ReasonUnsupportedResourceKind,
	ReasonConflict,
	ReasonInvalidSecret,
	ReasonSecretNotFound,
}

// State is what translation reads besides the Ingresses: the objects they
// reference, as the informers' caches hold them. A method returns nil when
// the object does not exist. The objects must not be modified.
type State interface {
	Service(namespace, name string) *corev1.Service
	// EndpointSlices returns the signet EndpointSlices labelled with the
	// Service's name (kubernetes.io/service-name).
	EndpointSlices(namespace, service string) []*discoveryv1.EndpointSlice
	// Secret returns a Secret of type kubernetes.io/tls.
	Secret(namespace, name string) *corev1.Secret
	ConfigMap(namespace, name string) *corev1.ConfigMap
}

// Problem is one thing wrong with an Ingress, reported on its Accepted
// condition.
type Problem struct {
	// Reason is one of the Reason constants.
	Reason string
	// Message starts with the field path of the problem.
	Message string
}

// IngressResult is what one translation found about one of our Ingresses.
type IngressResult struct {
	// UID and Generation identify the object that was translated.
	UID        types.UID
	Generation int64
	// Routes counts the Ingress's routes in the table (paths and default
	// backend that were neither skipped nor lost a conflict).
	Routes int
	// Problems are in the order they were found: skipped paths,
	// conflicts, backends in route order, then TLS in spec order.
	Problems []Problem
}

// Translation is the result of translating our Ingresses.
type Translation struct {
	// Config is the proxy configuration; Generation and Changed are left
	// for the caller to set.
	Config *proxy.Config
	// Ingresses holds a result for every Ingress translated.
	Ingresses map[types.NamespacedName]*IngressResult
}

// Translator turns Ingresses into a proxy.Config. It remembers parsed
// certificates between translations, so it is not safe for concurrent
// use; the controller runs one translation at a time.
type Translator struct {
	certs map[types.NamespacedName]*certEntry
}

// certEntry is a parsed Secret, reused while its data is unchanged.
type certEntry struct {
	crt, key []byte
	cert     *tls.Certificate
	err      error
}

// NewTranslator returns a Translator with an empty certificate cache.
func NewTranslator() *Translator {
	return &Translator{certs: map[types.NamespacedName]*certEntry{}}
}

// Translate builds the proxy configuration of ours, the Ingresses of our
// classes (in any order), from the objects in state. It never fails: what
// cannot be used becomes a 503 backend or a self-signed certificate, and a
// Problem of the Ingress concerned.
func (t *Translator) Translate(ours []*networkingv1.Ingress, state State) *Translation {
	ours = slices.Clone(ours)
	slices.SortFunc(ours, compareAge)

	table, conflicts := routes.Build(ours)
	tr := &Translation{
		Config: &proxy.Config{
			Routes:   table,
			Backends: map[*routes.Route]*proxy.Backend{},
		},
		Ingresses: make(map[types.NamespacedName]*IngressResult, len(ours)),
	}
	for _, ing := range ours {
		tr.Ingresses[keyOf(ing)] = &IngressResult{UID: ing.UID, Generation: ing.Generation}
	}
	report := func(ing types.NamespacedName, reason, msg string) {
		if r := tr.Ingresses[ing]; r != nil {
			r.Problems = append(r.Problems, Problem{Reason: reason, Message: msg})
		}
	}
	for _, s := range table.Skipped() {
		report(s.Ingress, ReasonInvalidPath, s.Field+": "+s.Reason)
	}
	for _, c := range conflicts {
		report(c.Loser, ReasonConflict, c.Message())
	}

	// Routes of one Ingress that name the same backend share one Backend,
	// so the proxy balances and health-checks them as one.
	type resolved struct {
		backend  *proxy.Backend
		problems []relProblem
	}
	cache := map[string]resolved{}
	for _, r := range table.Routes() {
		res := tr.Ingresses[r.Ingress]
		if res == nil {
			continue
		}
		res.Routes++
		key := r.Ingress.String() + "|" + backendKey(&r.Backend)
		rb, ok := cache[key]
		if !ok {
			rb.backend, rb.problems = resolveBackend(r.Ingress.Namespace, &r.Backend, state)
			rb.backend.Ingress = r.Ingress.String()
			cache[key] = rb
		}
		tr.Config.Backends[r] = rb.backend
		field := r.Field
		if r.Kind == routes.KindPath {
			field += ".backend"
		}
		for _, p := range rb.problems {
			report(r.Ingress, p.reason, field+p.field+": "+p.msg)
		}
	}

	tr.Config.TLS = t.translateTLS(ours, state, report)
	return tr
}

func keyOf(ing *networkingv1.Ingress) types.NamespacedName {
	return types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
}

// relProblem is a backend problem with a field path relative to the
// backend.
type relProblem struct {
	reason, field, msg string
}

// backendKey identifies what a backend refers to, health check included.
func backendKey(b *networkingv1.IngressBackend) string {
	switch {
	case b.Service != nil:
		s := b.Service
		k := "service|" + s.Name + "|" + s.Port.Name + "|" + strconv.Itoa(int(s.Port.Number))
		if hc := s.HealthCheck; hc != nil {
			k += "|hc|" + hc.Path + "|" + int32Key(hc.IntervalSeconds) + "|" + int32Key(hc.TimeoutSeconds) +
				"|" + int32Key(hc.HealthyThreshold) + "|" + int32Key(hc.UnhealthyThreshold)
			if hc.Port != nil {
				k += "|" + hc.Port.Name + "|" + strconv.Itoa(int(hc.Port.Number))
			}
		}
		return k
	case b.Resource != nil:
		group := ""
		if b.Resource.APIGroup != nil {
			group = *b.Resource.APIGroup
		}
		return "resource|" + group + "|" + b.Resource.Kind + "|" + b.Resource.Name
	}
	return "none"
}

func int32Key(p *int32) string {
	if p == nil {
		return "-"
	}
	return strconv.Itoa(int(*p))
}

// resolveBackend resolves one backend of an Ingress in namespace ns.
func resolveBackend(ns string, b *networkingv1.IngressBackend, state State) (*proxy.Backend, []relProblem) {
	switch {
	case b.Service != nil:
		return resolveService(ns, b.Service, state)
	case b.Resource != nil:
		return resolveResource(ns, b.Resource, state)
	}
	return &proxy.Backend{Name: ns + "/<none>", Unavailable: "the backend names neither a Service nor a resource"},
		[]relProblem{{ReasonInvalidBackend, "", "exactly one of service and resource must be set"}}
}

// portString is a ServiceBackendPort as written: its name or number.
func portString(p networkingv1.ServiceBackendPort) string {
	if p.Name != "" {
		return p.Name
	}
	return strconv.Itoa(int(p.Number))
}

func resolveService(ns string, sb *networkingv1.IngressServiceBackend, state State) (*proxy.Backend, []relProblem) {
	b := &proxy.Backend{Name: ns + "/" + sb.Name + ":" + portString(sb.Port)}
	svc := state.Service(ns, sb.Name)
	if svc == nil {
		msg := fmt.Sprintf("Service %q not found in namespace %q", sb.Name, ns)
		b.Unavailable = msg
		return b, []relProblem{{ReasonBackendNotFound, ".service.name", msg}}
	}
	sp, field, msg := findServicePort(svc, sb.Port)
	if sp == nil {
		b.Unavailable = msg
		return b, []relProblem{{ReasonBackendNotFound, ".service.port" + field, msg}}
	}
	hc, healthSP, problems := resolveHealthCheck(svc, sb, sp)
	eps, hcPorts := readyEndpoints(state.EndpointSlices(ns, sb.Name), sp.Name, healthSP)
	b.Service = &proxy.ServiceBackend{Endpoints: eps, HealthCheck: hc, HealthCheckPorts: hcPorts}
	return b, problems
}

// findServicePort finds the Service port p names. When there is none, it
// returns the field that names it (".name" or ".number") and why.
func findServicePort(svc *corev1.Service, p networkingv1.ServiceBackendPort) (*corev1.ServicePort, string, string) {
	var sp *corev1.ServicePort
	var field string
	switch {
	case p.Name != "":
		field = ".name"
		for i := range svc.Spec.Ports {
			if svc.Spec.Ports[i].Name == p.Name {
				sp = &svc.Spec.Ports[i]
				break
			}
		}
		if sp == nil {
			return nil, field, fmt.Sprintf("Service %s/%s has no port named %q (its ports: %s)", svc.Namespace, svc.Name, p.Name, portList(svc))
		}
	case p.Number != 0:
		field = ".number"
		for i := range svc.Spec.Ports {
			if svc.Spec.Ports[i].Port == p.Number {
				sp = &svc.Spec.Ports[i]
				break
			}
		}
		if sp == nil {
			return nil, field, fmt.Sprintf("Service %s/%s has no port %d (its ports: %s)", svc.Namespace, svc.Name, p.Number, portList(svc))
		}
	default:
		return nil, "", "neither name nor number is set"
	}
	if sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP {
		return nil, field, fmt.Sprintf("port %s of Service %s/%s is %s; an Ingress backend needs a TCP port", portString(p), svc.Namespace, svc.Name, sp.Protocol)
	}
	return sp, field, ""
}

// portList describes a Service's ports for messages: "80/http, 443".
func portList(svc *corev1.Service) string {
	if len(svc.Spec.Ports) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(svc.Spec.Ports))
	for _, p := range svc.Spec.Ports {
		s := strconv.Itoa(int(p.Port))
		if p.Name != "" {
			s += "/" + p.Name
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// slicePort returns the TCP port of a slice for the Service port named
// name ("" for an unnamed port), or 0.
func slicePort(slice *discoveryv1.EndpointSlice, name string) uint16 {
	for _, p := range slice.Ports {
		pn := ""
		if p.Name != nil {
			pn = *p.Name
		}
		if pn != name || p.Port == nil || *p.Port < 1 || *p.Port > 65535 {
			continue
		}
		if p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP {
			continue
		}
		return uint16(*p.Port)
	}
	return 0
}

// readyEndpoints returns the ready endpoints of all slices with the
// target port of the Service port named portName, both families,
// de-duplicated and sorted. An endpoint's first address is the one used
// (the others are alternatives of the same endpoint); an unset ready
// condition counts as ready.
//
// When health is not nil (a health check on another Service port than
// the serving one), healthPorts is parallel to the endpoints: each
// endpoint's own target port of health, from the slice it comes from, so
// that pods whose named target ports differ are each checked on theirs.
// It is 0 for an endpoint whose slice does not carry that port (the check
// then falls back to HealthCheck.Port). An endpoint listed by several
// slices with different health ports gets the lowest.
func readyEndpoints(slices_ []*discoveryv1.EndpointSlice, portName string, health *corev1.ServicePort) (endpoints []netip.AddrPort, healthPorts []uint16) {
	seen := map[netip.AddrPort]uint16{}
	for _, s := range slices_ {
		var want4 bool
		switch s.AddressType {
		case discoveryv1.AddressTypeIPv4:
			want4 = true
		case discoveryv1.AddressTypeIPv6:
		default:
			continue
		}
		port := slicePort(s, portName)
		if port == 0 {
			continue
		}
		var hport uint16
		if health != nil {
			hport = slicePort(s, health.Name)
		}
		for i := range s.Endpoints {
			ep := &s.Endpoints[i]
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			if len(ep.Addresses) == 0 {
				continue
			}
			addr, err := netip.ParseAddr(ep.Addresses[0])
			if err != nil || addr.Zone() != "" {
				continue
			}
			addr = addr.Unmap()
			if addr.Is4() != want4 {
				continue
			}
			ap := netip.AddrPortFrom(addr, port)
			if old, ok := seen[ap]; !ok || old == 0 || hport != 0 && hport < old {
				seen[ap] = hport
			}
		}
	}
	endpoints = make([]netip.AddrPort, 0, len(seen))
	for ap := range seen {
		endpoints = append(endpoints, ap)
	}
	slices.SortFunc(endpoints, netip.AddrPort.Compare)
	if health != nil {
		healthPorts = make([]uint16, len(endpoints))
		for i, ap := range endpoints {
			healthPorts[i] = seen[ap]
		}
	}
	return endpoints, healthPorts
}

// numericTargetPort is the target port of a Service port when the Service
// gives it as a number (the port itself when unset), or 0 for a named
// target port, which only the slices resolve.
func numericTargetPort(sp *corev1.ServicePort) uint16 {
	switch {
	case sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal > 0 && sp.TargetPort.IntVal <= 65535:
		return uint16(sp.TargetPort.IntVal)
	case sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal == 0 && sp.Port > 0 && sp.Port <= 65535:
		return uint16(sp.Port)
	}
	return 0
}

// resolveHealthCheck turns a backend's healthCheck into the proxy's form,
// defaults filled in. When the check names a Service port other than the
// serving one, that port is returned too: the endpoints are then checked
// each on its own target port of it (ServiceBackend.HealthCheckPorts, see
// readyEndpoints), and HealthCheck.Port is the fallback for endpoints
// whose slice does not carry it: the Service's numeric targetPort, or 0
// (the serving port) when the target port is a name. A check of the
// serving port keeps Port 0 and no health port: each endpoint is checked
// on the port it serves on.
func resolveHealthCheck(svc *corev1.Service, sb *networkingv1.IngressServiceBackend, serving *corev1.ServicePort) (*proxy.HealthCheck, *corev1.ServicePort, []relProblem) {
	hc := sb.HealthCheck
	if hc == nil {
		return nil, nil, nil
	}
	out := &proxy.HealthCheck{
		Path:               hc.Path,
		Interval:           seconds(hc.IntervalSeconds, networking.DefaultHealthCheckIntervalSeconds),
		Timeout:            seconds(hc.TimeoutSeconds, networking.DefaultHealthCheckTimeoutSeconds),
		HealthyThreshold:   count(hc.HealthyThreshold, networking.DefaultHealthCheckHealthyThreshold),
		UnhealthyThreshold: count(hc.UnhealthyThreshold, networking.DefaultHealthCheckUnhealthyThreshold),
	}
	if out.Path == "" {
		out.Path = networking.DefaultHealthCheckPath
	}
	if out.Timeout > out.Interval {
		out.Timeout = out.Interval
	}
	if hc.Port == nil || hc.Port.Name == "" && hc.Port.Number == 0 {
		return out, nil, nil
	}
	p, field, msg := findServicePort(svc, *hc.Port)
	if p == nil {
		return nil, nil, []relProblem{{ReasonBackendNotFound, ".service.healthCheck.port" + field,
			msg + "; the backend is served without health checks"}}
	}
	// The serving Service port (which the API server fills in when the
	// check names none) stays 0: each endpoint is checked on the port it
	// serves on.
	if p.Name == serving.Name {
		return out, nil, nil
	}
	out.Port = numericTargetPort(p)
	return out, p, nil
}

func seconds(p *int32, def int32) time.Duration {
	if p == nil || *p < 1 {
		return time.Duration(def) * time.Second
	}
	return time.Duration(*p) * time.Second
}

func count(p *int32, def int32) int {
	if p == nil || *p < 1 {
		return int(def)
	}
	return int(*p)
}

// resolveResource resolves a resource backend: a ConfigMap of the core
// group is served as static files; any other kind answers 503.
func resolveResource(ns string, r *corev1.TypedLocalObjectReference, state State) (*proxy.Backend, []relProblem) {
	group := ""
	if r.APIGroup != nil {
		group = *r.APIGroup
	}
	if group != "" || r.Kind != "ConfigMap" {
		kind := r.Kind
		if group != "" {
			kind += "." + group
		}
		msg := fmt.Sprintf("kind %q of API group %q is not supported (only ConfigMap of the core group is); its requests are answered with 503", r.Kind, group)
		return &proxy.Backend{Name: ns + "/" + kind + "/" + r.Name, Unavailable: "unsupported resource kind " + kind},
			[]relProblem{{ReasonUnsupportedResourceKind, ".resource", msg}}
	}
	b := &proxy.Backend{Name: ns + "/ConfigMap/" + r.Name}
	cm := state.ConfigMap(ns, r.Name)
	if cm == nil {
		msg := fmt.Sprintf("ConfigMap %q not found in namespace %q", r.Name, ns)
		b.Unavailable = msg
		return b, []relProblem{{ReasonBackendNotFound, ".resource.name", msg}}
	}
	files := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.Data {
		files[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		files[k] = v
	}
	b.Static = &proxy.StaticBackend{Files: files}
	return b, nil
}

// translateTLS collects the certificates of our Ingresses' spec.tls. When
// two Ingresses name a certificate for one host, the older Ingress's is
// used. Hosts whose Secret is missing or unusable are served a
// self-signed certificate, unless another Ingress provides a real one.
func (t *Translator) translateTLS(ours []*networkingv1.Ingress, state State, report func(types.NamespacedName, string, string)) proxy.TLSConfig {
	certs := map[string]*tls.Certificate{}
	selfSigned := sets.New[string]()
	used := sets.New[types.NamespacedName]()
	// Problems are reported at the end, when it is known which of their
	// hosts got a certificate from another entry.
	type tlsProblem struct {
		ing           types.NamespacedName
		reason, msg   string
		fallbackHosts []string
	}
	var problems []tlsProblem
	for _, ing := range ours {
		for i, entry := range ing.Spec.TLS {
			field := fmt.Sprintf("spec.tls[%d].secretName", i)
			hosts := normalizeHosts(entry.Hosts)
			var cert *tls.Certificate
			reason, msg := ReasonSecretNotFound, field+": no Secret is named"
			if entry.SecretName != "" {
				key := types.NamespacedName{Namespace: ing.Namespace, Name: entry.SecretName}
				used.Insert(key)
				cert, reason, msg = t.certificate(key, state)
				msg = field + ": " + msg
			}
			if cert == nil {
				if len(hosts) == 0 {
					hosts = ruleHosts(ing)
				}
				selfSigned.Insert(hosts...)
				problems = append(problems, tlsProblem{keyOf(ing), reason, msg, hosts})
				continue
			}
			if len(hosts) == 0 {
				hosts = normalizeHosts(cert.Leaf.DNSNames)
			}
			for _, h := range hosts {
				if _, ok := certs[h]; !ok {
					certs[h] = cert
				}
			}
		}
	}
	for h := range certs {
		selfSigned.Delete(h)
	}
	for _, p := range problems {
		var fallback []string
		for _, h := range p.fallbackHosts {
			if selfSigned.Has(h) {
				fallback = append(fallback, h)
			}
		}
		if len(fallback) > 0 {
			p.msg += "; " + strings.Join(fallback, ", ") + " served with a self-signed certificate"
		}
		report(p.ing, p.reason, p.msg)
	}
	for k := range t.certs {
		if !used.Has(k) {
			delete(t.certs, k)
		}
	}
	return proxy.TLSConfig{Certificates: certs, SelfSigned: sets.List(selfSigned)}
}

// certificate returns the parsed key pair of a Secret, or the reason and
// message of why there is none.
func (t *Translator) certificate(key types.NamespacedName, state State) (*tls.Certificate, string, string) {
	s := state.Secret(key.Namespace, key.Name)
	if s == nil {
		delete(t.certs, key)
		return nil, ReasonSecretNotFound, fmt.Sprintf("Secret %q of type %s not found in namespace %q", key.Name, corev1.SecretTypeTLS, key.Namespace)
	}
	if s.Type != corev1.SecretTypeTLS {
		return nil, ReasonInvalidSecret, fmt.Sprintf("Secret %s has type %q, not %s", key, s.Type, corev1.SecretTypeTLS)
	}
	crt, pk := s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey]
	e := t.certs[key]
	if e == nil || !bytes.Equal(e.crt, crt) || !bytes.Equal(e.key, pk) {
		e = &certEntry{crt: crt, key: pk}
		e.cert, e.err = parseKeyPair(crt, pk)
		t.certs[key] = e
	}
	if e.err != nil {
		return nil, ReasonInvalidSecret, fmt.Sprintf("Secret %s: %v", key, e.err)
	}
	return e.cert, "", ""
}

func parseKeyPair(crt, key []byte) (*tls.Certificate, error) {
	if len(crt) == 0 || len(key) == 0 {
		return nil, fmt.Errorf("%s and %s must both be set", corev1.TLSCertKey, corev1.TLSPrivateKeyKey)
	}
	c, err := tls.X509KeyPair(crt, key)
	if err != nil {
		return nil, fmt.Errorf("%s and %s are not a usable key pair: %w", corev1.TLSCertKey, corev1.TLSPrivateKeyKey, err)
	}
	if c.Leaf == nil {
		leaf, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", corev1.TLSCertKey, err)
		}
		c.Leaf = leaf
	}
	return &c, nil
}

// normalizeHosts lower-cases host names and drops one trailing dot,
// empty names and duplicates, keeping the order.
func normalizeHosts(hosts []string) []string {
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
		if h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// ruleHosts returns the hosts of an Ingress's rules.
func ruleHosts(ing *networkingv1.Ingress) []string {
	hosts := make([]string, 0, len(ing.Spec.Rules))
	for _, r := range ing.Spec.Rules {
		hosts = append(hosts, r.Host)
	}
	return normalizeHosts(hosts)
}

// References are the objects our Ingresses name; events about other
// Services, slices, Secrets and ConfigMaps do not trigger a rebuild.
type References struct {
	Services   sets.Set[types.NamespacedName]
	Secrets    sets.Set[types.NamespacedName]
	ConfigMaps sets.Set[types.NamespacedName]
}

// ReferencesOf collects what ours name, including paths that lose
// conflicts (a superset is harmless).
func ReferencesOf(ours []*networkingv1.Ingress) References {
	refs := References{
		Services:   sets.New[types.NamespacedName](),
		Secrets:    sets.New[types.NamespacedName](),
		ConfigMaps: sets.New[types.NamespacedName](),
	}
	add := func(ns string, b *networkingv1.IngressBackend) {
		if b == nil {
			return
		}
		if b.Service != nil {
			refs.Services.Insert(types.NamespacedName{Namespace: ns, Name: b.Service.Name})
		}
		if r := b.Resource; r != nil && (r.APIGroup == nil || *r.APIGroup == "") && r.Kind == "ConfigMap" {
			refs.ConfigMaps.Insert(types.NamespacedName{Namespace: ns, Name: r.Name})
		}
	}
	for _, ing := range ours {
		add(ing.Namespace, ing.Spec.DefaultBackend)
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			for i := range rule.HTTP.Paths {
				add(ing.Namespace, &rule.HTTP.Paths[i].Backend)
			}
		}
		for _, entry := range ing.Spec.TLS {
			if entry.SecretName != "" {
				refs.Secrets.Insert(types.NamespacedName{Namespace: ing.Namespace, Name: entry.SecretName})
			}
		}
	}
	return refs
}
