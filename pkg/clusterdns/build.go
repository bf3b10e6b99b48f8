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

package clusterdns

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	discoveryv1 "signet.dev/api/discovery/v1"

	"signet.dev/signet/pkg/proxy/topology"
)

// serviceKind is what a Service's name answers with.
type serviceKind int

const (
	// kindClusterIP answers A and AAAA with the Service's cluster IPs.
	kindClusterIP serviceKind = iota
	// kindHeadless answers A and AAAA with the addresses of its ready
	// endpoints.
	kindHeadless
	// kindExternalName answers with a CNAME to spec.externalName.
	kindExternalName
)

// srvPort is a named port, the <port> and <proto> of an SRV name.
type srvPort struct {
	// Name is the port's name, lower-case.
	Name string
	// Proto is "tcp", "udp" or "sctp".
	Proto string
	// Port is the port number.
	Port uint16
}

// endpoint is one address of a headless Service that DNS publishes.
type endpoint struct {
	// Addr is the address, IPv4 or IPv6.
	Addr netip.Addr
	// Hostname is the endpoint's hostname, lower-case, or, when it has
	// none, one generated from Addr (see generatedHostname).
	Hostname string
	// NodeName is the node the endpoint runs on ("" when unknown).
	NodeName string
	// Topology holds the endpoint's node label values, as the EndpointSlice
	// controller copied them. Shared with the informer cache: read only.
	Topology map[string]string
	// Ports are the named ports of the endpoint's slice.
	Ports []srvPort
}

// TopologyValue implements topology.Endpoint.
func (e *endpoint) TopologyValue(key string) (string, bool) {
	v, ok := e.Topology[key]
	return v, ok
}

// serviceEntry is everything DNS answers for one Service. It is immutable
// once built: the store replaces it whole.
type serviceEntry struct {
	Namespace, Name string
	Kind            serviceKind
	// ClusterIPs are the cluster IPs (kindClusterIP), in spec order.
	ClusterIPs []netip.Addr
	// ExternalName is the CNAME target, fully qualified (kindExternalName);
	// "" when spec.externalName is not a domain name.
	ExternalName string
	// Ports are the Service's named ports (kindClusterIP).
	Ports []srvPort
	// TopologyKeys are the Service's valid topology keys; nil when it has
	// none or the annotation is invalid (TopologyErr), which, as in
	// kube-proxy, turns topology off.
	TopologyKeys []string
	TopologyErr  error
	// Endpoints are the ready endpoints (every endpoint with
	// publishNotReadyAddresses) of a headless Service, one per address,
	// ordered by address.
	Endpoints []*endpoint
	// byHostname indexes Endpoints by Hostname.
	byHostname map[string][]*endpoint
}

// hasPortProto reports whether an SRV record of the protocol exists under
// the Service, which makes _<proto>.<service>... an existing name.
func (e *serviceEntry) hasPortProto(proto string) bool {
	for _, p := range e.Ports {
		if p.Proto == proto {
			return true
		}
	}
	for _, ep := range e.Endpoints {
		for _, p := range ep.Ports {
			if p.Proto == proto {
				return true
			}
		}
	}
	return false
}

// buildService turns a Service and the EndpointSlices labelled with its
// name into what DNS answers for it. Slices matter only for a headless
// Service; slices of another address type than IPv4 or IPv6 are ignored.
func buildService(svc *corev1.Service, endpointSlices []*discoveryv1.EndpointSlice) *serviceEntry {
	e := &serviceEntry{Namespace: svc.Namespace, Name: svc.Name}
	switch {
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		e.Kind = kindExternalName
		e.ExternalName = externalTarget(svc.Spec.ExternalName)
		return e
	case svc.Spec.ClusterIP == corev1.ClusterIPNone:
		e.Kind = kindHeadless
	default:
		e.Kind = kindClusterIP
		e.ClusterIPs = clusterIPs(svc)
		e.Ports = servicePorts(svc)
		return e
	}

	e.TopologyKeys, e.TopologyErr = topology.ParseKeys(svc.Annotations[topology.AnnotationKeys])
	e.Endpoints = headlessEndpoints(endpointSlices, svc.Spec.PublishNotReadyAddresses)
	e.byHostname = make(map[string][]*endpoint, len(e.Endpoints))
	for _, ep := range e.Endpoints {
		e.byHostname[ep.Hostname] = append(e.byHostname[ep.Hostname], ep)
	}
	return e
}

// externalTarget returns an ExternalName as a fully qualified name, or ""
// when it is not a domain name below the root.
func externalTarget(name string) string {
	name = strings.TrimSpace(name)
	if name == "" || name == "." {
		return ""
	}
	if len(validation.IsDNS1123Subdomain(strings.ToLower(strings.TrimSuffix(name, ".")))) > 0 {
		return ""
	}
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

// clusterIPs parses spec.clusterIPs (spec.clusterIP for objects written
// before the plural field existed).
func clusterIPs(svc *corev1.Service) []netip.Addr {
	raw := svc.Spec.ClusterIPs
	if len(raw) == 0 && svc.Spec.ClusterIP != "" {
		raw = []string{svc.Spec.ClusterIP}
	}
	var out []netip.Addr
	for _, s := range raw {
		if a, err := netip.ParseAddr(s); err == nil && !slices.Contains(out, a.Unmap()) {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// servicePorts returns the Service's named ports.
func servicePorts(svc *corev1.Service) []srvPort {
	var out []srvPort
	for _, p := range svc.Spec.Ports {
		if p.Name == "" || p.Port < 1 || p.Port > 65535 {
			continue
		}
		out = append(out, srvPort{Name: strings.ToLower(p.Name), Proto: protoName(p.Protocol), Port: uint16(p.Port)})
	}
	return out
}

// protoName is the <proto> label of a protocol: TCP when unset.
func protoName(p corev1.Protocol) string {
	if p == "" {
		return "tcp"
	}
	return strings.ToLower(string(p))
}

// headlessEndpoints collects the published endpoints of a headless Service
// from its slices: one per address (the first slice by name wins when an
// address is in two, as it may be for a moment while the controller moves
// it), ordered by address.
func headlessEndpoints(endpointSlices []*discoveryv1.EndpointSlice, publishNotReady bool) []*endpoint {
	sorted := slices.DeleteFunc(slices.Clone(endpointSlices), func(s *discoveryv1.EndpointSlice) bool { return s == nil })
	slices.SortFunc(sorted, func(a, b *discoveryv1.EndpointSlice) int { return cmp.Compare(a.Name, b.Name) })
	seen := map[netip.Addr]bool{}
	var out []*endpoint
	for _, s := range sorted {
		if s.AddressType != discoveryv1.AddressTypeIPv4 && s.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		ports := slicePorts(s.Ports)
		for i := range s.Endpoints {
			ep := &s.Endpoints[i]
			if !publishNotReady && ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, raw := range ep.Addresses {
				a, err := netip.ParseAddr(raw)
				if err != nil || a.Zone() != "" {
					continue
				}
				a = a.Unmap()
				if a.Is4() != (s.AddressType == discoveryv1.AddressTypeIPv4) || seen[a] {
					continue
				}
				seen[a] = true
				e := &endpoint{Addr: a, Topology: ep.Topology, Ports: ports}
				if ep.NodeName != nil {
					e.NodeName = *ep.NodeName
				}
				e.Hostname = generatedHostname(a)
				if ep.Hostname != nil && len(validation.IsDNS1123Label(*ep.Hostname)) == 0 {
					e.Hostname = strings.ToLower(*ep.Hostname)
				}
				out = append(out, e)
			}
		}
	}
	slices.SortFunc(out, func(a, b *endpoint) int { return a.Addr.Compare(b.Addr) })
	return out
}

// slicePorts returns the named ports of a slice.
func slicePorts(ports []discoveryv1.EndpointPort) []srvPort {
	var out []srvPort
	for _, p := range ports {
		if p.Name == nil || *p.Name == "" || p.Port == nil || *p.Port < 1 || *p.Port > 65535 {
			continue
		}
		var proto corev1.Protocol
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		out = append(out, srvPort{Name: strings.ToLower(*p.Name), Proto: protoName(proto), Port: uint16(*p.Port)})
	}
	return out
}

// generatedHostname is the hostname of an endpoint that has none, the
// "unique, system-assigned identifier" of the specification: its address
// with dashes for dots or colons, such as 10-244-1-5 or fd00-10-244--5.
func generatedHostname(a netip.Addr) string {
	if a.Is4() {
		return strings.ReplaceAll(a.String(), ".", "-")
	}
	return strings.ReplaceAll(a.String(), ":", "-")
}

// parseDashedAddr is the inverse of generatedHostname, for the pod records
// <a>-<b>-<c>-<d>.<ns>.pod.<zone>.
func parseDashedAddr(label string) (netip.Addr, bool) {
	if strings.Count(label, "-") == 3 {
		if a, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ".")); err == nil && a.Is4() {
			return a, true
		}
	}
	if a, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ":")); err == nil && a.Is6() && !a.Is4In6() && a.Zone() == "" {
		return a, true
	}
	return netip.Addr{}, false
}
