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

package endpointslice

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	discoveryv1 "signet.dev/api/discovery/v1"
)

// LabelPodTemplateHash is the pod label by which the layout keeps the
// endpoints of one ReplicaSet together.
const LabelPodTemplateHash = "pod-template-hash"

// desiredEndpoint is one endpoint the pods imply, with what the layout needs
// to know about it.
type desiredEndpoint struct {
	// key identifies the endpoint: the name of its pod (slices of a Service
	// only reference pods in the Service's namespace).
	key string
	// rs is the pod's pod-template-hash label ("" when absent).
	rs string
	// group is the (family, ports) group the endpoint belongs to.
	group groupKey
	ep    discoveryv1.Endpoint
}

// groupKey names a set of endpoints that may share a slice: one address
// family and one resolved port list.
type groupKey struct {
	family discoveryv1.AddressType
	ports  string
}

// desiredGroup is the desired content of one group.
type desiredGroup struct {
	key       groupKey
	ports     []discoveryv1.EndpointPort
	endpoints map[string]*desiredEndpoint
}

// desiredState is everything the pods imply for one Service.
type desiredState struct {
	families     []discoveryv1.AddressType
	groups       map[groupKey]*desiredGroup
	byFamily     map[discoveryv1.AddressType]map[string]*desiredEndpoint
	missingNodes []string
}

// serviceFamilies returns the address families the Service asks for, in
// the order of spec.ipFamilies. A Service whose ipFamilies is not set yet
// (an old apiserver) gets the family of its clusterIP, or both families
// when headless, as upstream does.
func serviceFamilies(svc *corev1.Service) []discoveryv1.AddressType {
	var out []discoveryv1.AddressType
	seen := map[discoveryv1.AddressType]bool{}
	for _, f := range svc.Spec.IPFamilies {
		var t discoveryv1.AddressType
		switch f {
		case corev1.IPv4Protocol:
			t = discoveryv1.AddressTypeIPv4
		case corev1.IPv6Protocol:
			t = discoveryv1.AddressTypeIPv6
		default:
			continue
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) > 0 {
		return out
	}
	if ip, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil {
		if ip.Unmap().Is4() {
			return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4}
		}
		return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv6}
	}
	return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6}
}

// isHeadless reports whether the Service has no cluster IP.
func isHeadless(svc *corev1.Service) bool {
	return svc.Spec.ClusterIP == corev1.ClusterIPNone || svc.Spec.ClusterIP == ""
}

// buildDesired turns the pods of a Service into the endpoints they imply,
// grouped by family and resolved ports.
func buildDesired(svc *corev1.Service, pods []*corev1.Pod, nodes NodeLookup, topologyLabels []string) *desiredState {
	ds := &desiredState{
		families: serviceFamilies(svc),
		groups:   map[groupKey]*desiredGroup{},
		byFamily: map[discoveryv1.AddressType]map[string]*desiredEndpoint{},
	}
	for _, f := range ds.families {
		ds.byFamily[f] = map[string]*desiredEndpoint{}
	}
	selector := labels.SelectorFromValidatedSet(labels.Set(svc.Spec.Selector))
	missing := map[string]bool{}

	sorted := make([]*corev1.Pod, 0, len(pods))
	for _, p := range pods {
		if p != nil {
			sorted = append(sorted, p)
		}
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })

	for _, pod := range sorted {
		if pod.Namespace != svc.Namespace || !selector.Matches(labels.Set(pod.Labels)) {
			continue
		}
		if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		var node *corev1.Node
		if pod.Spec.NodeName != "" && nodes != nil {
			n, ok := nodes(pod.Spec.NodeName)
			if !ok {
				missing[pod.Spec.NodeName] = true
				// Without its Node the endpoint's topology is unknown; leave
				// the pod out unless the Service publishes every address.
				if !svc.Spec.PublishNotReadyAddresses {
					continue
				}
			}
			node = n
		}
		ports := endpointPorts(svc, pod)
		pk := portsKey(ports)
		for _, fam := range ds.families {
			addrs := podAddresses(pod, fam)
			if len(addrs) == 0 {
				continue
			}
			gk := groupKey{family: fam, ports: pk}
			g := ds.groups[gk]
			if g == nil {
				g = &desiredGroup{key: gk, ports: ports, endpoints: map[string]*desiredEndpoint{}}
				ds.groups[gk] = g
			}
			de := &desiredEndpoint{
				key:   pod.Name,
				rs:    pod.Labels[LabelPodTemplateHash],
				group: gk,
				ep:    podToEndpoint(svc, pod, node, addrs, topologyLabels),
			}
			g.endpoints[de.key] = de
			ds.byFamily[fam][de.key] = de
		}
	}
	for n := range missing {
		ds.missingNodes = append(ds.missingNodes, n)
	}
	sort.Strings(ds.missingNodes)
	return ds
}

// podAddresses returns the pod's IPs of the family, normalised, at most
// MaxAddressesPerEndpoint.
func podAddresses(pod *corev1.Pod, fam discoveryv1.AddressType) []string {
	ips := make([]string, 0, len(pod.Status.PodIPs))
	for _, pip := range pod.Status.PodIPs {
		ips = append(ips, pip.IP)
	}
	if len(ips) == 0 && pod.Status.PodIP != "" {
		ips = append(ips, pod.Status.PodIP)
	}
	var out []string
	for _, s := range ips {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			continue
		}
		ip = ip.Unmap()
		if (fam == discoveryv1.AddressTypeIPv4) != ip.Is4() {
			continue
		}
		out = append(out, ip.String())
		if len(out) == discoveryv1.MaxAddressesPerEndpoint {
			break
		}
	}
	return out
}

// podToEndpoint builds the endpoint of a pod for one family.
func podToEndpoint(svc *corev1.Service, pod *corev1.Pod, node *corev1.Node, addrs []string, topologyLabels []string) discoveryv1.Endpoint {
	serving := podReady(pod)
	terminating := pod.DeletionTimestamp != nil
	// As upstream: a terminating pod is never ready, unless the Service
	// publishes not-ready addresses, which makes every endpoint ready.
	ready := svc.Spec.PublishNotReadyAddresses || (serving && !terminating)
	ep := discoveryv1.Endpoint{
		Addresses: addrs,
		Conditions: discoveryv1.EndpointConditions{
			Ready:       &ready,
			Serving:     &serving,
			Terminating: &terminating,
		},
		TargetRef: &corev1.ObjectReference{
			Kind:      "Pod",
			Namespace: pod.Namespace,
			Name:      pod.Name,
			UID:       pod.UID,
		},
	}
	if pod.Spec.NodeName != "" {
		n := pod.Spec.NodeName
		ep.NodeName = &n
	}
	if node != nil {
		if z := node.Labels[corev1.LabelTopologyZone]; z != "" {
			ep.Zone = &z
		}
		for _, k := range topologyLabels {
			if v, ok := node.Labels[k]; ok {
				if ep.Topology == nil {
					ep.Topology = map[string]string{}
				}
				ep.Topology[k] = v
			}
		}
	}
	if isHeadless(svc) && pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name {
		h := pod.Spec.Hostname
		ep.Hostname = &h
	}
	return ep
}

// podReady reports whether the pod's Ready condition is True.
func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// endpointPorts resolves the Service's ports for one pod, in the order of
// the Service's ports. A port whose named targetPort the pod does not
// declare is left out for that pod, as upstream does.
func endpointPorts(svc *corev1.Service, pod *corev1.Pod) []discoveryv1.EndpointPort {
	out := []discoveryv1.EndpointPort{}
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		proto := sp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		num, ok := findPort(pod, sp, proto)
		if !ok {
			continue
		}
		name := sp.Name
		ep := discoveryv1.EndpointPort{Name: &name, Protocol: &proto, Port: &num}
		if sp.AppProtocol != nil {
			ap := *sp.AppProtocol
			ep.AppProtocol = &ap
		}
		out = append(out, ep)
	}
	return out
}

// findPort resolves a Service port's targetPort in a pod: a number is used
// as is (0 means the Service port), a name is looked up among the ports of
// the pod's containers and sidecar (restartable init) containers with the
// same protocol.
func findPort(pod *corev1.Pod, sp *corev1.ServicePort, proto corev1.Protocol) (int32, bool) {
	tp := sp.TargetPort
	if tp.Type == intstr.Int {
		if tp.IntVal == 0 {
			return sp.Port, true
		}
		return tp.IntVal, true
	}
	if tp.StrVal == "" {
		return sp.Port, true
	}
	match := func(cs []corev1.Container, sidecarsOnly bool) (int32, bool) {
		for _, c := range cs {
			if sidecarsOnly && (c.RestartPolicy == nil || *c.RestartPolicy != corev1.ContainerRestartPolicyAlways) {
				continue
			}
			for _, p := range c.Ports {
				pp := p.Protocol
				if pp == "" {
					pp = corev1.ProtocolTCP
				}
				if p.Name == tp.StrVal && pp == proto {
					return p.ContainerPort, true
				}
			}
		}
		return 0, false
	}
	if n, ok := match(pod.Spec.Containers, false); ok {
		return n, true
	}
	return match(pod.Spec.InitContainers, true)
}

// portsKey is a canonical string for a port list, independent of order.
func portsKey(ports []discoveryv1.EndpointPort) string {
	parts := make([]string, 0, len(ports))
	for _, p := range ports {
		var b strings.Builder
		if p.Name != nil {
			b.WriteString(*p.Name)
		}
		b.WriteByte('/')
		if p.Protocol != nil {
			b.WriteString(string(*p.Protocol))
		} else {
			b.WriteString(string(corev1.ProtocolTCP))
		}
		b.WriteByte('/')
		if p.Port != nil {
			b.WriteString(strconv.Itoa(int(*p.Port)))
		}
		b.WriteByte('/')
		if p.AppProtocol != nil {
			b.WriteString(*p.AppProtocol)
		}
		parts = append(parts, b.String())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}
