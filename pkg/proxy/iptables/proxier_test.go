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

package iptables

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	discoveryv1 "signet.dev/api/discovery/v1"
	"signet.dev/signet/pkg/proxy/conntrack"
	ctfake "signet.dev/signet/pkg/proxy/conntrack/fake"
	"signet.dev/signet/pkg/proxy/topology"
	utiliptables "signet.dev/signet/pkg/util/iptables"
	"signet.dev/signet/pkg/util/iptables/fake"
)

const (
	thisNode = "node-1"
	nodeIPv4 = "192.168.0.1"
	nodeIPv6 = "fd00:192::1"
	podCIDR4 = "10.244.0.0/16"
	podCIDR6 = "fd00:244::/32"
)

// env is a proxier on a fake iptables of one family.
type env struct {
	t        *testing.T
	ipt      *fake.IPTables
	ct       *ctfake.Conntrack
	rec      *record.FakeRecorder
	p        *Proxier
	nodeIP   string
	external string // a client outside the cluster
	pod      string // a client pod on this node
}

func newEnv(t *testing.T, family corev1.IPFamily, mutate ...func(*Config)) *env {
	t.Helper()
	proto, nodeIP, cidr, external, pod := utiliptables.ProtocolIPv4, nodeIPv4, podCIDR4, "203.0.113.9", "10.244.1.99"
	if family == corev1.IPv6Protocol {
		proto, nodeIP, cidr, external, pod = utiliptables.ProtocolIPv6, nodeIPv6, podCIDR6, "2001:db8:99::9", "fd00:244:1::99"
	}
	ipt := fake.New(proto)
	ipt.SetLocalAddresses(nodeIP)
	ct := &ctfake.Conntrack{}
	rec := record.NewFakeRecorder(100)
	cfg := Config{
		IPTables:    ipt,
		Conntrack:   ct,
		NodeName:    thisNode,
		ClusterCIDR: netip.MustParsePrefix(cidr),
		Recorder:    rec,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.OnServicesSynced()
	p.OnEndpointSlicesSynced()
	p.OnNodeSynced()
	return &env{t: t, ipt: ipt, ct: ct, rec: rec, p: p, nodeIP: nodeIP, external: external, pod: pod}
}

func (e *env) sync() {
	e.t.Helper()
	if err := e.p.Sync(context.Background()); err != nil {
		e.t.Fatalf("Sync: %v", err)
	}
}

// trace returns the outcomes of a packet as sorted strings.
func (e *env) trace(proto, src, dst string, port int, local bool) []string {
	e.t.Helper()
	out, err := e.ipt.Trace(fake.Packet{Protocol: proto, Source: src, Destination: dst, SourcePort: 40000, DestinationPort: port, Local: local})
	if err != nil {
		e.t.Fatalf("Trace %s %s -> %s:%d: %v", proto, src, dst, port, err)
	}
	var s []string
	for _, o := range out {
		s = append(s, o.String())
	}
	slices.Sort(s)
	return s
}

func (e *env) expect(what string, got []string, want ...string) {
	e.t.Helper()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		e.t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func dnat(to string, p float64, masq bool) string {
	s := "ACCEPT, DNAT to " + to
	if masq {
		s += ", masqueraded"
	}
	return s + fmt.Sprintf(", p=%.4g", p)
}

func service(name string, ips []string, mutate ...func(*corev1.Service)) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Spec: corev1.ServiceSpec{
			Type:       corev1.ServiceTypeClusterIP,
			ClusterIP:  ips[0],
			ClusterIPs: ips,
			Selector:   map[string]string{"app": name},
			Ports: []corev1.ServicePort{{
				Name: "p", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080),
			}},
		},
	}
	for _, m := range mutate {
		m(svc)
	}
	return svc
}

func nodePort(np int32) func(*corev1.Service) {
	return func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeNodePort
		s.Spec.Ports[0].NodePort = np
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
}

func udp(s *corev1.Service) { s.Spec.Ports[0].Protocol = corev1.ProtocolUDP }

// epSpec describes one endpoint: "ip@node" plus state flags.
type epSpec struct {
	ip, node                    string
	ready, serving, terminating bool
	topo                        map[string]string
}

func ready(ip, node string) epSpec { return epSpec{ip: ip, node: node, ready: true, serving: true} }

func endpointSlice(svc, name string, family discoveryv1.AddressType, proto corev1.Protocol, eps ...epSpec) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: family,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("p"), Port: ptr.To[int32](8080), Protocol: ptr.To(proto)}},
	}
	for _, e := range eps {
		topo := e.topo
		if topo == nil {
			topo = map[string]string{"kubernetes.io/hostname": e.node}
		}
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{e.ip},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(e.ready), Serving: ptr.To(e.serving), Terminating: ptr.To(e.terminating)},
			NodeName:   ptr.To(e.node),
			Topology:   topo,
		})
	}
	return s
}

func TestClusterIP(t *testing.T) {
	for _, family := range []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol} {
		t.Run(string(family), func(t *testing.T) {
			e := newEnv(t, family)
			vip, ep1, ep2, addrType := "10.96.0.10", "10.244.1.2", "10.244.2.2", discoveryv1.AddressTypeIPv4
			if family == corev1.IPv6Protocol {
				vip, ep1, ep2, addrType = "fd00:10:96::a", "fd00:244:1::2", "fd00:244:2::2", discoveryv1.AddressTypeIPv6
			}
			e.p.OnServiceUpdate(service("web", []string{vip}))
			e.p.OnEndpointSliceUpdate(endpointSlice("web", "web-1", addrType, corev1.ProtocolTCP, ready(ep1, thisNode), ready(ep2, "node-2")))
			e.sync()
			a1 := netip.AddrPortFrom(netip.MustParseAddr(ep1), 8080).String()
			a2 := netip.AddrPortFrom(netip.MustParseAddr(ep2), 8080).String()
			// From a pod: spread over both endpoints, source kept.
			e.expect("pod to cluster IP", e.trace("tcp", e.pod, vip, 80, false), dnat(a1, 0.5, false), dnat(a2, 0.5, false))
			// From the node itself (outside the pod network): masqueraded.
			e.expect("node to cluster IP", e.trace("tcp", e.nodeIP, vip, 80, true), dnat(a1, 0.5, true), dnat(a2, 0.5, true))
			// A pod reaching itself through the Service (hairpin): masqueraded.
			out := e.trace("tcp", ep1, vip, 80, false)
			if !slices.Contains(out, dnat(a1, 0.5, true)) {
				t.Errorf("hairpin: %q lacks a masqueraded DNAT to itself", out)
			}
			// Another port or protocol is not the Service.
			e.expect("other port", e.trace("tcp", e.pod, vip, 81, false), "ACCEPT, p=1")
			e.expect("other protocol", e.trace("udp", e.pod, vip, 80, false), "ACCEPT, p=1")

			// No endpoints: rejected, from pods and from the node.
			e.p.OnEndpointSliceDelete(endpointSlice("web", "web-1", addrType, corev1.ProtocolTCP))
			e.sync()
			e.expect("pod, no endpoints", e.trace("tcp", e.pod, vip, 80, false), "REJECT, p=1")
			e.expect("node, no endpoints", e.trace("tcp", e.nodeIP, vip, 80, true), "REJECT, p=1")
		})
	}
}

func TestThreeEndpointsEvenly(t *testing.T) {
	e := newEnv(t, corev1.IPv4Protocol)
	e.p.OnServiceUpdate(service("web", []string{"10.96.0.10"}))
	e.p.OnEndpointSliceUpdate(endpointSlice("web", "web-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP,
		ready("10.244.1.2", "n1"), ready("10.244.1.3", "n2"), ready("10.244.1.4", "n3")))
	e.sync()
	e.expect("three endpoints", e.trace("tcp", e.pod, "10.96.0.10", 80, false),
		dnat("10.244.1.2:8080", 1.0/3, false), dnat("10.244.1.3:8080", 1.0/3, false), dnat("10.244.1.4:8080", 1.0/3, false))
}

func TestMasqueradeAll(t *testing.T) {
	e := newEnv(t, corev1.IPv4Protocol, func(c *Config) { c.MasqueradeAll = true })
	e.p.OnServiceUpdate(service("web", []string{"10.96.0.10"}))
	e.p.OnEndpointSliceUpdate(endpointSlice("web", "web-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP, ready("10.244.1.2", "n1")))
	e.sync()
	e.expect("pod with --masquerade-all", e.trace("tcp", e.pod, "10.96.0.10", 80, false), dnat("10.244.1.2:8080", 1, true))
}

func TestNodePortExternalIPsLoadBalancer(t *testing.T) {
	e := newEnv(t, corev1.IPv4Protocol)
	svc := service("web", []string{"10.96.0.10"}, nodePort(30080), func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeLoadBalancer
		s.Spec.ExternalIPs = []string{"192.0.2.10"}
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "198.51.100.7"}}
	})
	e.p.OnServiceUpdate(svc)
	e.p.OnEndpointSliceUpdate(endpointSlice("web", "web-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP,
		ready("10.244.1.2", thisNode), ready("10.244.2.2", "node-2")))
	e.sync()
	both := []string{dnat("10.244.1.2:8080", 0.5, true), dnat("10.244.2.2:8080", 0.5, true)}
	e.expect("external client to the node port", e.trace("tcp", e.external, e.nodeIP, 30080, false), both...)
	e.expect("the node to its own node port", e.trace("tcp", e.nodeIP, e.nodeIP, 30080, true), both...)
	e.expect("external client to the external IP", e.trace("tcp", e.external, "192.0.2.10", 80, false), both...)
	e.expect("external client to the load balancer IP", e.trace("tcp", e.external, "198.51.100.7", 80, false), both...)
	e.expect("loopback is not a node port address", e.trace("tcp", "127.0.0.1", "127.0.0.1", 30080, true), "ACCEPT, p=1")

	// Without endpoints every external address rejects.
	e.p.OnEndpointSliceDelete(endpointSlice("web", "web-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP))
	e.sync()
	for _, dst := range []struct {
		ip   string
		port int
	}{{e.nodeIP, 30080}, {"192.0.2.10", 80}, {"198.51.100.7", 80}} {
		e.expect("no endpoints: "+dst.ip, e.trace("tcp", e.external, dst.ip, dst.port, false), "REJECT, p=1")
	}
}

func TestNodePortAddresses(t *testing.T) {
	e := newEnv(t, corev1.IPv4Protocol, func(c *Config) {
		c.NodePortAddresses = []netip.Prefix{netip.MustParsePrefix("192.168.0.0/24")}
	})
	e.ipt.SetLocalAddresses(e.nodeIP, "172.16.0.1")
	e.p.OnServiceUpdate(service("web", []string{"10.96.0.10"}, nodePort(30080)))
	e.p.OnEndpointSliceUpdate(endpointSlice("web", "web-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP, ready("10.244.1.2", "n1")))
	e.sync()
	e.expect("node port on an allowed address", e.trace("tcp", e.external, e.nodeIP, 30080, false), dnat("10.244.1.2:8080", 1, true))
	e.expect("node port on another local address", e.trace("tcp", e.external, "172.16.0.1", 30080, false), "ACCEPT, p=1")
}

func TestExternalTrafficPolicyLocal(t *testing.T) {
	e := newEnv(t, corev1.IPv4Protocol)
	svc := service("web", []string{"10.96.0.10"}, nodePort(30080), func(s *corev1.Service) {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	})
	e.p.OnServiceUpdate(svc)
	e.p.OnEndpointSliceUpdate(endpointSlice("web", "web-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP,
		ready("10.244.1.2", thisNode), ready("10.244.2.2", "node-2")))
	e.sync()
	// External clients reach only the local endpoint, with their address.
	e.expect("external client, Local policy", e.trace("tcp", e.external, e.nodeIP, 30080, false), dnat("10.244.1.2:8080", 1, false))
	// Pods and the node itself use every endpoint.
	e.expect("pod to the node port", e.trace("tcp", e.pod, e.nodeIP, 30080, false),
		dnat("10.244.1.2:8080", 0.5, false), dnat("10.244.2.2:8080", 0.5, false))
	e.expect("cluster IP is unaffected", e.trace("tcp", e.pod, "10.96.0.10", 80, false),
		dnat("10.244.1.2:8080", 0.5, false), dnat("10.244.2.2:8080", 0.5, false))

	// No local endpoint: external traffic is dropped (a load balancer
	// retries elsewhere), not rejected.
	e.p.OnEndpointSliceUpdate(endpointSlice("web", "web-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP, ready("10.244.2.2", "node-2")))
	e.sync()
	e.expect("external client, no local endpoint", e.trace("tcp", e.external, e.nodeIP, 30080, false), "DROP, p=1")
	e.expect("cluster IP still works", e.trace("tcp", e.pod, "10.96.0.10", 80, false), dnat("10.244.2.2:8080", 1, false))
}

func TestInternalTrafficPolicyLocal(t *testing.T) {
	e := newEnv(t, corev1.IPv4Protocol)
	svc := service("web", []string{"10.96.0.10"}, func(s *corev1.Service) {
		s.Spec.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyLocal)
	})
	e.p.OnServiceUpdate(svc)
	e.p.OnEndpointSliceUpdate(endpointSlice("web", "web-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP,
		ready("10.244.1.2", thisNode), ready("10.244.2.2", "node-2")))
	e.sync()
	e.expect("Local internal policy", e.trace("tcp", e.pod, "10.96.0.10", 80, false), dnat("10.244.1.2:8080", 1, false))
	e.p.OnEndpointSliceUpdate(endpointSlice("web", "web-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP, ready("10.244.2.2", "node-2")))
	e.sync()
	e.expect("Local internal policy without a local endpoint", e.trace("tcp", e.pod, "10.96.0.10", 80, false), "REJECT, p=1")
}

func TestSessionAffinity(t *testing.T) {
	e := newEnv(t, corev1.IPv4Protocol)
	svc := service("web", []string{"10.96.0.10"}, func(s *corev1.Service) {
		s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](600)}}
	})
	e.p.OnServiceUpdate(svc)
	e.p.OnEndpointSliceUpdate(endpointSlice("web", "web-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP,
		ready("10.244.1.2", "n1"), ready("10.244.2.2", "n2")))
	e.sync()
	e.expect("a new client", e.trace("tcp", e.pod, "10.96.0.10", 80, false),
		dnat("10.244.1.2:8080", 0.5, false), dnat("10.244.2.2:8080", 0.5, false))
	// The client was sent to the second endpoint before: it sticks.
	pn := portName("web")
	e.ipt.SetRecent(endpointChain(pn, epOf("10.244.2.2")), e.pod)
	e.expect("a returning client", e.trace("tcp", e.pod, "10.96.0.10", 80, false), dnat("10.244.2.2:8080", 1, false))
	if !strings.Contains(string(lastRestore(e)), "--seconds 600") {
		t.Error("the affinity timeout is not in the rules")
	}
}

func TestTerminatingFallback(t *testing.T) {
	e := newEnv(t, corev1.IPv4Protocol)
	e.p.OnServiceUpdate(service("web", []string{"10.96.0.10"}))
	e.p.OnEndpointSliceUpdate(endpointSlice("web", "web-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP,
		ready("10.244.1.2", "n1"),
		epSpec{ip: "10.244.1.3", node: "n1", serving: true, terminating: true},
		epSpec{ip: "10.244.1.4", node: "n1", terminating: true}))
	e.sync()
	e.expect("ready first", e.trace("tcp", e.pod, "10.96.0.10", 80, false), dnat("10.244.1.2:8080", 1, false))
	e.p.OnEndpointSliceUpdate(endpointSlice("web", "web-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP,
		epSpec{ip: "10.244.1.3", node: "n1", serving: true, terminating: true},
		epSpec{ip: "10.244.1.4", node: "n1", terminating: true},
		epSpec{ip: "10.244.1.5", node: "n1"}))
	e.sync()
	e.expect("serving terminating when nothing is ready", e.trace("tcp", e.pod, "10.96.0.10", 80, false), dnat("10.244.1.3:8080", 1, false))
}

func TestTopologyKeys(t *testing.T) {
	const host, zone = "kubernetes.io/hostname", "topology.kubernetes.io/zone"
	topo := func(node, z string) map[string]string { return map[string]string{host: node, zone: z} }
	e := newEnv(t, corev1.IPv4Protocol)
	e.p.OnNodeUpdate(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: thisNode, Labels: topo(thisNode, "zone-a")}})
	svc := service("web", []string{"10.96.0.10"}, func(s *corev1.Service) {
		s.Annotations = map[string]string{topology.AnnotationKeys: host + "," + zone + ",*"}
	})
	e.p.OnServiceUpdate(svc)
	slice := func(eps ...epSpec) {
		e.p.OnEndpointSliceUpdate(endpointSlice("web", "web-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP, eps...))
		e.sync()
	}
	local := epSpec{ip: "10.244.1.2", node: thisNode, ready: true, serving: true, topo: topo(thisNode, "zone-a")}
	sameZone := epSpec{ip: "10.244.2.2", node: "node-2", ready: true, serving: true, topo: topo("node-2", "zone-a")}
	otherZone := epSpec{ip: "10.244.3.2", node: "node-3", ready: true, serving: true, topo: topo("node-3", "zone-b")}

	slice(local, sameZone, otherZone)
	e.expect("same node", e.trace("tcp", e.pod, "10.96.0.10", 80, false), dnat("10.244.1.2:8080", 1, false))
	slice(sameZone, otherZone)
	e.expect("same zone", e.trace("tcp", e.pod, "10.96.0.10", 80, false), dnat("10.244.2.2:8080", 1, false))
	slice(otherZone)
	e.expect("anywhere", e.trace("tcp", e.pod, "10.96.0.10", 80, false), dnat("10.244.3.2:8080", 1, false))

	// Without "*", nothing in reach means rejected.
	svc = svc.DeepCopy()
	svc.Annotations[topology.AnnotationKeys] = host + "," + zone
	e.p.OnServiceUpdate(svc)
	e.sync()
	e.expect("no key matches", e.trace("tcp", e.pod, "10.96.0.10", 80, false), "REJECT, p=1")

	// The node moving to zone-b changes the choice without any Service or
	// slice event.
	e.p.OnNodeUpdate(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: thisNode, Labels: topo(thisNode, "zone-b")}})
	e.sync()
	e.expect("after the node's zone changed", e.trace("tcp", e.pod, "10.96.0.10", 80, false), dnat("10.244.3.2:8080", 1, false))

	// An invalid annotation turns topology off and is reported once.
	svc = svc.DeepCopy()
	svc.Annotations[topology.AnnotationKeys] = "*," + host
	e.p.OnServiceUpdate(svc)
	slice(local, otherZone)
	e.expect("invalid keys: everything", e.trace("tcp", e.pod, "10.96.0.10", 80, false),
		dnat("10.244.1.2:8080", 0.5, false), dnat("10.244.3.2:8080", 0.5, false))
	events := drain(e.rec)
	if len(events) != 1 || !strings.Contains(events[0], "Warning "+ReasonInvalidTopologyKeys) {
		t.Errorf("events %q, want one %s warning", events, ReasonInvalidTopologyKeys)
	}
	e.p.OnServiceUpdate(svc.DeepCopy())
	e.sync()
	if events := drain(e.rec); len(events) != 0 {
		t.Errorf("the same problem was reported again: %q", events)
	}

	// Keys together with a Local traffic policy: the policy wins, and the
	// conflict is reported.
	svc = svc.DeepCopy()
	svc.Annotations[topology.AnnotationKeys] = zone
	svc.Spec.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyLocal)
	e.p.OnServiceUpdate(svc)
	e.sync()
	e.expect("Local policy over keys", e.trace("tcp", e.pod, "10.96.0.10", 80, false), dnat("10.244.1.2:8080", 1, false))
	if events := drain(e.rec); len(events) != 1 || !strings.Contains(events[0], ReasonTopologyKeysConflict) {
		t.Errorf("events %q, want one %s warning", events, ReasonTopologyKeysConflict)
	}
}

func TestDualStackServiceInEachFamily(t *testing.T) {
	v4 := newEnv(t, corev1.IPv4Protocol)
	v6 := newEnv(t, corev1.IPv6Protocol)
	dual := service("dual", []string{"10.96.0.20", "fd00:10:96::20"})
	only6 := service("only6", []string{"fd00:10:96::30"})
	for _, e := range []*env{v4, v6} {
		e.p.OnServiceUpdate(dual)
		e.p.OnServiceUpdate(only6)
		// Both proxiers see every slice here; each uses its family only.
		e.p.OnEndpointSliceUpdate(endpointSlice("dual", "dual-4", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP, ready("10.244.1.2", "n1")))
		e.p.OnEndpointSliceUpdate(endpointSlice("dual", "dual-6", discoveryv1.AddressTypeIPv6, corev1.ProtocolTCP, ready("fd00:244:1::2", "n1")))
		e.p.OnEndpointSliceUpdate(endpointSlice("only6", "only6-6", discoveryv1.AddressTypeIPv6, corev1.ProtocolTCP, ready("fd00:244:1::3", "n1")))
		e.sync()
	}
	v4.expect("IPv4 cluster IP", v4.trace("tcp", v4.pod, "10.96.0.20", 80, false), dnat("10.244.1.2:8080", 1, false))
	v6.expect("IPv6 cluster IP", v6.trace("tcp", v6.pod, "fd00:10:96::20", 80, false), dnat("[fd00:244:1::2]:8080", 1, false))
	v6.expect("IPv6-only Service", v6.trace("tcp", v6.pod, "fd00:10:96::30", 80, false), dnat("[fd00:244:1::3]:8080", 1, false))
	if strings.Contains(string(lastRestore(v4)), "only6") {
		t.Error("the IPv4 proxier programs the IPv6-only Service")
	}
}

func TestPartialSync(t *testing.T) {
	e := newEnv(t, corev1.IPv4Protocol)
	for i, name := range []string{"a", "b", "c"} {
		e.p.OnServiceUpdate(service(name, []string{fmt.Sprintf("10.96.0.%d", 10+i)}))
		e.p.OnEndpointSliceUpdate(endpointSlice(name, name+"-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP,
			ready(fmt.Sprintf("10.244.%d.2", i), "n1"), ready(fmt.Sprintf("10.244.%d.3", i), "n2")))
	}
	e.sync()
	full := lastRestore(e)
	aChain, _, _ := portChains(portName("a"))
	bChain, _, _ := portChains(portName("b"))
	if !strings.Contains(string(full), ":"+aChain) || !strings.Contains(string(full), ":"+bChain) {
		t.Fatal("the first sync is not a full one")
	}

	// Only b changes: its endpoint 10.244.1.3 goes away.
	e.p.OnEndpointSliceUpdate(endpointSlice("b", "b-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP, ready("10.244.1.2", "n1")))
	e.sync()
	partial := string(lastRestore(e))
	if strings.Contains(partial, ":"+aChain) || !strings.Contains(partial, ":"+bChain) {
		t.Errorf("the partial sync rewrote a or did not rewrite b:\n%s", partial)
	}
	gone := endpointChain(portName("b"), epOf("10.244.1.3"))
	if !strings.Contains(partial, "-X "+gone) {
		t.Errorf("the chain of the removed endpoint is not deleted:\n%s", partial)
	}
	if len(partial) >= len(full) {
		t.Errorf("the partial sync writes %d bytes, the full one %d", len(partial), len(full))
	}
	e.expect("a, untouched", e.trace("tcp", e.pod, "10.96.0.10", 80, false), dnat("10.244.0.2:8080", 0.5, false), dnat("10.244.0.3:8080", 0.5, false))
	e.expect("b, changed", e.trace("tcp", e.pod, "10.96.0.11", 80, false), dnat("10.244.1.2:8080", 1, false))

	// Deleting c removes all of its chains.
	e.p.OnServiceDelete(service("c", []string{"10.96.0.12"}))
	e.sync()
	cChain, _, _ := portChains(portName("c"))
	if slices.Contains(e.ipt.Chains(utiliptables.TableNAT), utiliptables.Chain(cChain)) {
		t.Errorf("chain %s of the deleted Service is still there", cChain)
	}
	e.expect("c, deleted", e.trace("tcp", e.pod, "10.96.0.12", 80, false), "ACCEPT, p=1")
	if got := countChains(e, prefixEndpoint); got != 3 {
		t.Errorf("%d endpoint chains remain, want 3 (a: 2, b: 1)", got)
	}
}

func TestFullSyncRemovesLeftovers(t *testing.T) {
	e := newEnv(t, corev1.IPv4Protocol)
	// Chains an earlier kube-proxy left behind.
	if err := e.ipt.Restore(context.Background(), []byte("*nat\n:KUBE-SVC-LEFTOVER0000000 - [0:0]\n:KUBE-SEP-LEFTOVER0000000 - [0:0]\n-A KUBE-SVC-LEFTOVER0000000 -j KUBE-SEP-LEFTOVER0000000\nCOMMIT\n"), true); err != nil {
		t.Fatal(err)
	}
	e.p.OnServiceUpdate(service("web", []string{"10.96.0.10"}))
	e.sync()
	for _, c := range e.ipt.Chains(utiliptables.TableNAT) {
		if strings.Contains(string(c), "LEFTOVER") {
			t.Errorf("leftover chain %s survived a full sync", c)
		}
	}
}

func TestRestoreFailureKeepsRules(t *testing.T) {
	metrics := NewMetrics(nil)
	e := newEnv(t, corev1.IPv4Protocol, func(c *Config) { c.Metrics = metrics })
	e.p.OnServiceUpdate(service("web", []string{"10.96.0.10"}))
	e.p.OnEndpointSliceUpdate(endpointSlice("web", "web-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP, ready("10.244.1.2", "n1")))
	e.sync()

	e.ipt.RestoreErr = fmt.Errorf("iptables-restore: line 7 failed")
	e.p.OnEndpointSliceUpdate(endpointSlice("web", "web-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP, ready("10.244.1.9", "n1")))
	if err := e.p.Sync(context.Background()); err == nil {
		t.Fatal("Sync succeeded although iptables-restore failed")
	}
	e.expect("old rules after the failure", e.trace("tcp", e.pod, "10.96.0.10", 80, false), dnat("10.244.1.2:8080", 1, false))
	if got := counterValue(t, metrics.RestoreFailures.WithLabelValues("IPv4")); got != 1 {
		t.Errorf("restore failures = %v, want 1", got)
	}
	if e.p.Pending() == 0 {
		t.Error("the change was forgotten after the failure")
	}

	e.ipt.RestoreErr = nil
	e.sync()
	if !strings.Contains(string(lastRestore(e)), ":"+chainServices) || !strings.Contains(string(lastRestore(e)), "KUBE-SVC-") {
		t.Error("the retry is not a full sync")
	}
	e.expect("new rules after the retry", e.trace("tcp", e.pod, "10.96.0.10", 80, false), dnat("10.244.1.9:8080", 1, false))
}

func TestNoRulesBeforeSync(t *testing.T) {
	ipt := fake.New(utiliptables.ProtocolIPv4)
	p, err := New(Config{IPTables: ipt, NodeName: thisNode})
	if err != nil {
		t.Fatal(err)
	}
	p.OnServiceUpdate(service("web", []string{"10.96.0.10"}))
	p.OnServicesSynced()
	if err := p.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(ipt.Restores()); n != 0 {
		t.Errorf("%d restores before the slice informer synced; a partial view would cut Services off", n)
	}
}

func TestStaleUDPConntrack(t *testing.T) {
	e := newEnv(t, corev1.IPv4Protocol)
	e.p.OnServiceUpdate(service("dns", []string{"10.96.0.53"}, udp, nodePort(30053)))
	e.p.OnEndpointSliceUpdate(endpointSlice("dns", "dns-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolUDP))
	e.sync()
	if d := e.ct.Deletions(); len(d) != 0 {
		t.Errorf("deletions without any endpoint change: %+v", d)
	}

	// The first endpoint: entries made while the Service rejected are
	// cleared, so clients get DNATed now.
	e.p.OnEndpointSliceUpdate(endpointSlice("dns", "dns-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolUDP,
		ready("10.244.1.2", "n1"), ready("10.244.2.2", "n2")))
	e.sync()
	vip := netip.MustParseAddr("10.96.0.53")
	want := []conntrack.Filter{
		{Protocol: corev1.ProtocolUDP, OrigDst: vip, OrigDstPort: 80},
		{Protocol: corev1.ProtocolUDP, OrigDstPort: 30053},
	}
	checkDeletions(t, "first endpoints", e.ct.Deletions(), want)

	// One endpoint goes: its entries go, the other's stay.
	e.p.OnEndpointSliceUpdate(endpointSlice("dns", "dns-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolUDP, ready("10.244.2.2", "n2")))
	e.sync()
	dead := netip.MustParseAddr("10.244.1.2")
	want = []conntrack.Filter{
		{Protocol: corev1.ProtocolUDP, OrigDst: vip, OrigDstPort: 80, DNATDst: dead},
		{Protocol: corev1.ProtocolUDP, OrigDstPort: 30053, DNATDst: dead},
	}
	checkDeletions(t, "endpoint removed", e.ct.Deletions(), want)

	// TCP Services are left alone: their connections end themselves.
	e.p.OnServiceUpdate(service("web", []string{"10.96.0.10"}))
	e.p.OnEndpointSliceUpdate(endpointSlice("web", "web-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP, ready("10.244.1.2", "n1")))
	e.sync()
	e.p.OnEndpointSliceDelete(endpointSlice("web", "web-1", discoveryv1.AddressTypeIPv4, corev1.ProtocolTCP))
	e.sync()
	if d := e.ct.Deletions(); len(d) != 0 {
		t.Errorf("deletions for a TCP Service: %+v", d)
	}
}

func checkDeletions(t *testing.T, what string, got []ctfake.Deletion, want []conntrack.Filter) {
	t.Helper()
	var filters []conntrack.Filter
	for _, d := range got {
		if d.Family != corev1.IPv4Protocol {
			t.Errorf("%s: deletion in family %s", what, d.Family)
		}
		filters = append(filters, d.Filter)
	}
	key := func(f conntrack.Filter) string { return fmt.Sprintf("%+v", f) }
	slices.SortFunc(filters, func(a, b conntrack.Filter) int { return strings.Compare(key(a), key(b)) })
	slices.SortFunc(want, func(a, b conntrack.Filter) int { return strings.Compare(key(a), key(b)) })
	if !slices.Equal(filters, want) {
		t.Errorf("%s: conntrack deletions\n got  %+v\n want %+v", what, filters, want)
	}
}
