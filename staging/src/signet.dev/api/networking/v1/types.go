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

package v1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AnnotationIngressClass is the legacy annotation that named an Ingress's
// class before spec.ingressClassName existed. signet still honours it: an
// Ingress without spec.ingressClassName belongs to the class the annotation
// names, and an Ingress may not set both to different values.
const AnnotationIngressClass = "kubernetes.io/ingress.class"

// AnnotationIsDefaultIngressClass marks an IngressClass as the cluster
// default when its value is "true": Ingresses created without a class are
// given that class by the DefaultIngressClass admission plugin.
const AnnotationIsDefaultIngressClass = "ingressclass.kubernetes.io/is-default-class"

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Ingress routes HTTP and HTTPS traffic from outside the cluster to Services
// (or other backends) inside it, by host name and URL path. The controller
// that implements an Ingress is chosen by its IngressClass.
type Ingress struct {
	metav1.TypeMeta `json:",inline"`

	// Standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is what the user asks for: the class, the routing rules, TLS and
	// the default backend.
	// +optional
	Spec IngressSpec `json:"spec,omitempty"`

	// status is what the implementing controller reports: the addresses the
	// Ingress is reachable at and conditions saying whether it was accepted
	// and programmed. Users do not write it.
	// +optional
	Status IngressStatus `json:"status,omitempty"`
}

// IngressSpec describes how traffic reaching an Ingress is routed.
type IngressSpec struct {
	// ingressClassName is the name of the IngressClass whose controller
	// implements this Ingress. When it is unset and no legacy
	// kubernetes.io/ingress.class annotation is present, the IngressClass
	// marked as default (annotation ingressclass.kubernetes.io/is-default-class:
	// "true") is filled in when the Ingress is created. Must be a DNS
	// subdomain. If the legacy annotation is also set, both must name the
	// same class.
	// +optional
	IngressClassName *string `json:"ingressClassName,omitempty"`

	// defaultBackend receives every request that matches no rule (no host
	// matched, or the host matched but no path did). Replaces spec.backend of
	// the legacy v1beta1 shape. An Ingress must have rules, a default
	// backend, or both.
	// +optional
	DefaultBackend *IngressBackend `json:"defaultBackend,omitempty"`

	// tls lists the TLS certificates used to terminate HTTPS, each for a list
	// of hosts. Traffic for a host listed here is served on the HTTPS port
	// with the certificate from secretName.
	// +listType=atomic
	// +optional
	TLS []IngressTLS `json:"tls,omitempty"`

	// rules route requests by host and then by path. Rules are matched by
	// host first (an exact host beats a wildcard, a rule without host matches
	// any host); a request that matches no rule goes to defaultBackend.
	// +listType=atomic
	// +optional
	Rules []IngressRule `json:"rules,omitempty"`
}

// IngressTLS names a certificate and the hosts it serves.
type IngressTLS struct {
	// hosts are the host names the certificate is used for. Each must match a
	// host of the rules exactly (a wildcard host such as *.example.com is
	// listed as written). Same syntax as rules[].host. Defaults to the
	// wildcard host of the implementing controller when empty.
	// +listType=atomic
	// +optional
	Hosts []string `json:"hosts,omitempty"`

	// secretName is the name of a kubernetes.io/tls Secret in the Ingress's
	// namespace that holds the certificate and key. It may be left empty
	// for controllers that terminate TLS for hosts by SNI alone.
	// +optional
	SecretName string `json:"secretName,omitempty"`
}

// IngressRule maps requests for one host (or any host) to backends by path.
type IngressRule struct {
	// host is the fully qualified domain name this rule serves, as a
	// lowercase DNS-1123 subdomain (for example foo.example.com), without a
	// port and never an IP address. A wildcard is allowed as the whole first
	// label only: *.example.com matches bar.example.com but neither
	// example.com nor baz.bar.example.com (exactly one label). The port and
	// letter case of the request's Host header are ignored when matching. An
	// empty host matches every request.
	// +optional
	Host string `json:"host,omitempty"`

	// IngressRuleValue holds how requests for the host are routed. Only
	// HTTP is defined today.
	// +optional
	IngressRuleValue `json:",inline,omitempty"`
}

// IngressRuleValue says how requests for a rule's host are routed.
type IngressRuleValue struct {
	// http routes HTTP and HTTPS requests by URL path.
	// +optional
	HTTP *HTTPIngressRuleValue `json:"http,omitempty"`
}

// HTTPIngressRuleValue routes requests by URL path.
type HTTPIngressRuleValue struct {
	// paths lists the paths and their backends. At least one is required.
	// When several paths match a request, the longest one (counted in path
	// elements) wins; on a tie Exact beats Prefix and Prefix beats
	// ImplementationSpecific.
	// +listType=atomic
	Paths []HTTPIngressPath `json:"paths"`
}

// PathType says how an Ingress path is compared with the request path.
// +enum
type PathType string

const (
	// PathTypeExact matches the request path exactly, compared
	// case-sensitively and including any trailing slash.
	PathTypeExact = PathType("Exact")

	// PathTypePrefix matches when the path elements (split on '/') are a
	// prefix of the request's path elements; trailing slashes are ignored on
	// both sides. /foo matches /foo, /foo/ and /foo/bar but not /foobar.
	PathTypePrefix = PathType("Prefix")

	// PathTypeImplementationSpecific leaves the meaning to the controller of
	// the IngressClass. signet's own controller treats such a path as an
	// RE2 regular expression anchored at the start of the request path, and
	// the API rejects paths that do not compile as one.
	PathTypeImplementationSpecific = PathType("ImplementationSpecific")
)

// HTTPIngressPath sends requests whose path matches to a backend.
type HTTPIngressPath struct {
	// path is compared with the request path as pathType says. For Exact and
	// Prefix it must be an absolute path ("/" at the start) free of "//",
	// "/./", "/../", encoded slashes (%2F) and a trailing "/." or "/..". For
	// ImplementationSpecific it is empty or starts with "/", and must compile
	// as an RE2 regular expression. Defaults to "/" in meaning when empty.
	// +optional
	Path string `json:"path,omitempty"`

	// pathType says how path is matched: Exact, Prefix or
	// ImplementationSpecific. Required.
	PathType *PathType `json:"pathType"`

	// backend receives the requests this path matches.
	Backend IngressBackend `json:"backend"`
}

// IngressBackend is where matching requests are sent: exactly one of a
// Service port or a typed reference to another kind of object.
type IngressBackend struct {
	// service sends requests to a port of a Service in the Ingress's
	// namespace. Mutually exclusive with resource.
	// +optional
	Service *IngressServiceBackend `json:"service,omitempty"`

	// resource refers to a non-Service backend in the Ingress's namespace,
	// such as a storage bucket served by the load balancer. Controllers that
	// do not understand the kind report it in status and ignore the path.
	// Mutually exclusive with service.
	// +optional
	Resource *corev1.TypedLocalObjectReference `json:"resource,omitempty"`
}

// IngressServiceBackend names a Service port and how to check its health.
type IngressServiceBackend struct {
	// name is the Service's name, in the Ingress's namespace. Required.
	Name string `json:"name"`

	// port is the Service port to send requests to, by name or by number.
	Port ServiceBackendPort `json:"port,omitempty"`

	// healthCheck tells the load balancer how to decide whether the
	// backend's endpoints can take traffic. When unset, the controller uses
	// its own default. Two backends of one Ingress that name the same
	// Service port must not ask for different health checks.
	// +optional
	HealthCheck *IngressHealthCheck `json:"healthCheck,omitempty"`
}

// ServiceBackendPort names a Service port: exactly one of name or number.
type ServiceBackendPort struct {
	// name is the name of the port as declared in the Service's spec.ports,
	// an IANA service name (lowercase letters, digits and '-', at most 15
	// characters). Mutually exclusive with number.
	// +optional
	Name string `json:"name,omitempty"`

	// number is the port number of the Service port (1-65535). Mutually
	// exclusive with name.
	// +optional
	Number int32 `json:"number,omitempty"`
}

// IngressHealthCheck is a basic HTTP health check run by the load balancer
// against each endpoint of a backend.
type IngressHealthCheck struct {
	// path is the HTTP path requested; a 2xx or 3xx answer counts as
	// healthy. Must start with '/'. Defaults to "/".
	// +optional
	Path string `json:"path,omitempty"`

	// port is the Service port to check, by name or by number. Defaults to
	// the port the backend serves on.
	// +optional
	Port *ServiceBackendPort `json:"port,omitempty"`

	// intervalSeconds is the time between two checks of one endpoint.
	// Defaults to 10; 1 to 300.
	// +optional
	IntervalSeconds *int32 `json:"intervalSeconds,omitempty"`

	// timeoutSeconds is how long a check may take before it counts as a
	// failure. Defaults to 5; 1 to 60, and not more than intervalSeconds.
	// +optional
	TimeoutSeconds *int32 `json:"timeoutSeconds,omitempty"`

	// healthyThreshold is the number of consecutive successes after which a
	// failing endpoint takes traffic again. Defaults to 2; 1 to 10.
	// +optional
	HealthyThreshold *int32 `json:"healthyThreshold,omitempty"`

	// unhealthyThreshold is the number of consecutive failures after which
	// an endpoint stops taking traffic. Defaults to 3; 1 to 10.
	// +optional
	UnhealthyThreshold *int32 `json:"unhealthyThreshold,omitempty"`
}

// IngressStatus is what the implementing controller reports.
type IngressStatus struct {
	// loadBalancer lists the addresses at which the Ingress is reachable.
	// +optional
	LoadBalancer IngressLoadBalancerStatus `json:"loadBalancer,omitempty"`

	// conditions report the controller's view of the Ingress, for example
	// Accepted (the controller took responsibility for it, or why not) and
	// Programmed (its routes are live in the data plane), each with a reason
	// and message a user can act on.
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// Condition types that controllers report on an Ingress.
const (
	// IngressConditionAccepted is True when a controller of the Ingress's
	// class accepted the Ingress, False with a reason when it rejected it.
	IngressConditionAccepted = "Accepted"
	// IngressConditionProgrammed is True when the Ingress's routes are
	// serving traffic in the data plane.
	IngressConditionProgrammed = "Programmed"
)

// IngressLoadBalancerStatus lists the addresses of the load balancer.
type IngressLoadBalancerStatus struct {
	// ingress lists the addresses (IPs or host names) the Ingress answers on.
	// +listType=atomic
	// +optional
	Ingress []IngressLoadBalancerIngress `json:"ingress,omitempty"`
}

// IngressLoadBalancerIngress is one address of the load balancer.
type IngressLoadBalancerIngress struct {
	// ip is an IPv4 or IPv6 address the Ingress answers on.
	// +optional
	IP string `json:"ip,omitempty"`

	// hostname is a DNS name the Ingress answers on, for load balancers
	// reached by name.
	// +optional
	Hostname string `json:"hostname,omitempty"`

	// ports reports the state of each port served at this address.
	// +listType=atomic
	// +optional
	Ports []IngressPortStatus `json:"ports,omitempty"`
}

// IngressPortStatus is the state of one port of a load-balancer address.
type IngressPortStatus struct {
	// port is the port number served.
	Port int32 `json:"port"`

	// protocol is the port's protocol: TCP, UDP or SCTP.
	Protocol corev1.Protocol `json:"protocol"`

	// error is empty while the port works; otherwise a CamelCase reason such
	// as CertificateInvalid, optionally followed by ": " and a message.
	// +optional
	Error *string `json:"error,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// IngressList is a list of Ingresses.
type IngressList struct {
	metav1.TypeMeta `json:",inline"`

	// Standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`

	// items are the Ingresses.
	Items []Ingress `json:"items"`
}

// +genclient
// +genclient:nonNamespaced
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// IngressClass describes one kind of Ingress implementation that the
// cluster offers, like a StorageClass does for volumes: which controller
// implements it and with which parameters. Ingresses choose one by name in
// spec.ingressClassName. The annotation
// ingressclass.kubernetes.io/is-default-class: "true" makes a class the
// default for Ingresses created without one.
type IngressClass struct {
	metav1.TypeMeta `json:",inline"`

	// Standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec names the controller and its parameters.
	// +optional
	Spec IngressClassSpec `json:"spec,omitempty"`
}

// IngressClassSpec names the controller and its parameters.
type IngressClassSpec struct {
	// controller names the controller that implements Ingresses of this
	// class, as a domain-prefixed path such as signet.dev/ingress (at most
	// 250 characters). Controllers watch for the classes carrying their own
	// name. Required and immutable.
	Controller string `json:"controller,omitempty"`

	// parameters points at an object holding controller-specific settings
	// for this class. Optional.
	// +optional
	Parameters *IngressClassParametersReference `json:"parameters,omitempty"`
}

// Scopes of an IngressClass's parameters object.
const (
	// IngressClassParametersReferenceScopeNamespace means the parameters
	// object lives in the namespace named by parameters.namespace.
	IngressClassParametersReferenceScopeNamespace = "Namespace"
	// IngressClassParametersReferenceScopeCluster means the parameters
	// object is cluster-scoped.
	IngressClassParametersReferenceScopeCluster = "Cluster"
)

// IngressClassParametersReference points at a controller-specific object,
// cluster-scoped or in one namespace.
type IngressClassParametersReference struct {
	// apiGroup is the API group of the referenced object. Unset means the
	// core group.
	// +optional
	APIGroup *string `json:"apiGroup,omitempty"`

	// kind is the kind of the referenced object. Required.
	Kind string `json:"kind"`

	// name is the name of the referenced object. Required.
	Name string `json:"name"`

	// scope says whether the referenced object is cluster-scoped ("Cluster")
	// or namespaced ("Namespace"). Defaults to "Cluster".
	// +optional
	Scope *string `json:"scope,omitempty"`

	// namespace is the namespace of the referenced object. Required when
	// scope is "Namespace" and forbidden when scope is "Cluster".
	// +optional
	Namespace *string `json:"namespace,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// IngressClassList is a list of IngressClasses.
type IngressClassList struct {
	metav1.TypeMeta `json:",inline"`

	// Standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`

	// items are the IngressClasses.
	Items []IngressClass `json:"items"`
}
