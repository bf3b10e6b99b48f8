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

package discovery

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	// LabelServiceName names the Service an EndpointSlice belongs to.
	LabelServiceName = "kubernetes.io/service-name"
	// LabelManagedBy names the controller or user that manages an
	// EndpointSlice, so that controllers leave each other's slices alone.
	LabelManagedBy = "endpointslice.kubernetes.io/managed-by"
	// LabelSkipMirror, set to "true", tells mirroring controllers to leave
	// the object alone.
	LabelSkipMirror = "endpointslice.kubernetes.io/skip-mirror"
)

const (
	// MaxEndpointsPerSlice is the most endpoints one EndpointSlice may hold.
	MaxEndpointsPerSlice = 1000
	// MaxPortsPerSlice is the most ports one EndpointSlice may hold.
	MaxPortsPerSlice = 100
	// MaxAddressesPerEndpoint is the most addresses one endpoint may hold.
	MaxAddressesPerEndpoint = 100
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// EndpointSlice holds a subset of the network endpoints of a Service, all
// of one address family. A Service's endpoints are the union of its slices,
// found by the label kubernetes.io/service-name. Splitting endpoints into
// slices keeps each write small: a rolling update rewrites the few slices
// that changed instead of one object with every endpoint.
type EndpointSlice struct {
	metav1.TypeMeta

	// Standard object metadata. The labels kubernetes.io/service-name and
	// endpointslice.kubernetes.io/managed-by say which Service the slice
	// belongs to and who manages it.
	// +optional
	metav1.ObjectMeta

	// addressType is the kind of address every endpoint of this slice
	// holds: IPv4, IPv6 or FQDN. Required and immutable.
	AddressType AddressType

	// endpoints are the endpoints of this slice, at most 1000.
	Endpoints []Endpoint

	// ports are the ports every endpoint of this slice serves, at most 100.
	// An empty list means no ports are known; a port without a number
	// means every port. Port names must be unique within the slice.
	// +optional
	Ports []EndpointPort
}

// AddressType is the kind of address an EndpointSlice holds.
// +enum
type AddressType string

const (
	// AddressTypeIPv4 means every address is an IPv4 address.
	AddressTypeIPv4 = AddressType(corev1.IPv4Protocol)
	// AddressTypeIPv6 means every address is an IPv6 address.
	AddressTypeIPv6 = AddressType(corev1.IPv6Protocol)
	// AddressTypeFQDN means every address is a fully qualified domain name.
	AddressTypeFQDN = AddressType("FQDN")
)

// Endpoint is one backend of a Service: usually a Pod.
type Endpoint struct {
	// addresses of this endpoint, of the slice's addressType; 1 to 100.
	// Consumers use the first one: the others are alternatives of the same
	// family (kube-proxy and DNS treat them as one endpoint).
	Addresses []string

	// conditions say whether the endpoint can take traffic.
	Conditions EndpointConditions

	// hostname of the endpoint, a DNS-1123 label, under which DNS publishes
	// it for headless Services (for a Pod, its spec.hostname when it also
	// sets spec.subdomain). Endpoints of a slice that share a hostname are
	// the same host.
	// +optional
	Hostname *string

	// targetRef is the object this endpoint stands for, usually a Pod.
	// +optional
	TargetRef *corev1.ObjectReference

	// nodeName is the name of the Node hosting the endpoint.
	// +optional
	NodeName *string

	// zone is the topology.kubernetes.io/zone of the Node hosting the
	// endpoint.
	// +optional
	Zone *string

	// topology holds the labels of the endpoint's Node that the
	// EndpointSlice controller was told to copy (its --topology-labels;
	// by default kubernetes.io/hostname, topology.kubernetes.io/zone and
	// topology.kubernetes.io/region). Service topology keys are matched
	// against these values, so that kube-proxy need not watch every Node.
	// Keys are label keys and values are label values.
	// +optional
	Topology map[string]string
}

// EndpointConditions is the state of an endpoint.
type EndpointConditions struct {
	// ready says the endpoint can take new connections: for a Pod, it is
	// Ready and not terminating (or the Service publishes not-ready
	// addresses). Unset means unknown, which consumers treat as ready.
	// +optional
	Ready *bool

	// serving is like ready but ignores termination: a terminating Pod
	// that still passes its readiness check is serving but not ready.
	// Consumers fall back to serving endpoints when none is ready. Unset
	// means unknown, which consumers treat as serving.
	// +optional
	Serving *bool

	// terminating says the endpoint is shutting down (for a Pod, it has a
	// deletion timestamp). Unset means unknown, which consumers treat as
	// not terminating.
	// +optional
	Terminating *bool
}

// EndpointPort is one port served by the endpoints of a slice.
type EndpointPort struct {
	// name of the port, matching the Service port's name: empty or a
	// DNS-1123 label (lowercase letters, digits and '-', at most 63
	// characters). Unique within the slice. Defaults to "".
	// +optional
	Name *string

	// protocol of the port: TCP, UDP or SCTP. Defaults to TCP.
	// +optional
	Protocol *corev1.Protocol

	// port is the port number the endpoints listen on, 1-65535. Unset means
	// every port.
	// +optional
	Port *int32

	// appProtocol is the application protocol of the port, such as
	// kubernetes.io/h2c or a domain-prefixed name like example.com/proto,
	// or an IANA service name. Copied from the Service port.
	// +optional
	AppProtocol *string
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// EndpointSliceList is a list of EndpointSlices.
type EndpointSliceList struct {
	metav1.TypeMeta

	// Standard list metadata.
	// +optional
	metav1.ListMeta

	// items are the EndpointSlices.
	Items []EndpointSlice
}
