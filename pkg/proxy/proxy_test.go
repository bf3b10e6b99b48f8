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

package proxy

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	discoveryv1 "signet.dev/api/discovery/v1"
	"signet.dev/signet/pkg/proxy/topology"
)

var svcName = types.NamespacedName{Namespace: "ns", Name: "web"}

func dualStackService() *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec: corev1.ServiceSpec{
			Type:        corev1.ServiceTypeLoadBalancer,
			ClusterIP:   "10.96.0.10",
			ClusterIPs:  []string{"10.96.0.10", "fd00:10:96::a"},
			ExternalIPs: []string{"192.0.2.1", "2001:db8::1", "not-an-ip"},
			Ports: []corev1.ServicePort{
				{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, NodePort: 30080},
				{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, NodePort: 30053},
			},
			SessionAffinity:       corev1.ServiceAffinityClientIP,
			ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal,
			HealthCheckNodePort:   32000,
		},
		Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{
			{IP: "198.51.100.7"}, {IP: "2001:db8::7"},
			{IP: "198.51.100.8", IPMode: ptr.To(corev1.LoadBalancerIPModeProxy)},
		}}},
	}
}

func TestServicePortsByFamily(t *testing.T) {
	svc := dualStackService()
	v4 := ServicePorts(svc, corev1.IPv4Protocol)
	v6 := ServicePorts(svc, corev1.IPv6Protocol)
	if len(v4) != 2 || len(v6) != 2 {
		t.Fatalf("got %d IPv4 and %d IPv6 ports, want 2 each", len(v4), len(v6))
	}
	p := v4[0]
	if p.Name.String() != "ns/web:http" || p.Protocol != corev1.ProtocolTCP || p.Port != 80 || p.NodePort != 30080 {
		t.Errorf("port %+v", p)
	}
	if !slices.Equal(p.ClusterIPs, []netip.Addr{netip.MustParseAddr("10.96.0.10")}) ||
		!slices.Equal(p.ExternalIPs, []netip.Addr{netip.MustParseAddr("192.0.2.1")}) ||
		!slices.Equal(p.LoadBalancerIPs, []netip.Addr{netip.MustParseAddr("198.51.100.7")}) {
		t.Errorf("IPv4 addresses %v %v %v", p.ClusterIPs, p.ExternalIPs, p.LoadBalancerIPs)
	}
	q := v6[1]
	if q.Name.String() != "ns/web:dns" || q.Protocol != corev1.ProtocolUDP ||
		!slices.Equal(q.ClusterIPs, []netip.Addr{netip.MustParseAddr("fd00:10:96::a")}) ||
		!slices.Equal(q.LoadBalancerIPs, []netip.Addr{netip.MustParseAddr("2001:db8::7")}) {
		t.Errorf("IPv6 port %+v", q)
	}
	if p.AffinityTimeout != corev1.DefaultClientIPServiceAffinitySeconds || !p.ExternalPolicyLocal || p.HealthCheckNodePort != 32000 {
		t.Errorf("affinity %d, external local %v, health port %d", p.AffinityTimeout, p.ExternalPolicyLocal, p.HealthCheckNodePort)
	}

	single := dualStackService()
	single.Spec.ClusterIPs = []string{"10.96.0.10"}
	if got := ServicePorts(single, corev1.IPv6Protocol); got != nil {
		t.Errorf("a single-stack IPv4 Service has IPv6 ports %v", got)
	}
	headless := dualStackService()
	headless.Spec.ClusterIP, headless.Spec.ClusterIPs = corev1.ClusterIPNone, []string{corev1.ClusterIPNone}
	if got := ServicePorts(headless, corev1.IPv4Protocol); got != nil {
		t.Errorf("a headless Service has ports %v", got)
	}
	ext := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.com"}}
	if got := ServicePorts(ext, corev1.IPv4Protocol); got != nil {
		t.Errorf("an ExternalName Service has ports %v", got)
	}
	clusterIP := dualStackService()
	clusterIP.Spec.Type = corev1.ServiceTypeClusterIP
	clusterIP.Spec.ExternalTrafficPolicy = ""
	cp := ServicePorts(clusterIP, corev1.IPv4Protocol)[0]
	if cp.NodePort != 0 || len(cp.LoadBalancerIPs) != 0 || cp.HealthCheckNodePort != 0 || cp.ExternalPolicyLocal {
		t.Errorf("a ClusterIP Service kept node port, load balancer or Local policy: %+v", cp)
	}
}

func TestServicePortsTopology(t *testing.T) {
	svc := dualStackService()
	svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	svc.Annotations = map[string]string{topology.AnnotationKeys: "kubernetes.io/hostname,*"}
	p := ServicePorts(svc, corev1.IPv4Protocol)[0]
	if !slices.Equal(p.TopologyKeys, []string{"kubernetes.io/hostname", "*"}) || p.TopologyError != nil || p.TopologyConflict {
		t.Errorf("valid keys: %+v", p)
	}

	svc.Annotations[topology.AnnotationKeys] = "*,kubernetes.io/hostname"
	p = ServicePorts(svc, corev1.IPv4Protocol)[0]
	if p.TopologyKeys != nil || p.TopologyError == nil {
		t.Errorf("invalid keys are used: %+v", p)
	}

	svc.Annotations[topology.AnnotationKeys] = "kubernetes.io/hostname"
	svc.Spec.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyLocal)
	p = ServicePorts(svc, corev1.IPv4Protocol)[0]
	if p.TopologyKeys != nil || !p.TopologyConflict || !p.InternalPolicyLocal {
		t.Errorf("keys with a Local internal policy: %+v", p)
	}
}

func slice(name string, family discoveryv1.AddressType, port int32, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: family,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(port), Protocol: ptr.To(corev1.ProtocolTCP)}},
		Endpoints:   eps,
	}
}

func ep(ip string, ready bool, node string) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{
		Addresses:  []string{ip},
		Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready), Serving: ptr.To(ready), Terminating: ptr.To(false)},
		NodeName:   ptr.To(node),
		Topology:   map[string]string{"kubernetes.io/hostname": node},
	}
}

func epStrings(eps []*Endpoint) string {
	var out []string
	for _, e := range eps {
		s := e.String()
		if !e.Ready {
			s += "(not ready)"
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

var httpPort = ServicePortName{NamespacedName: svcName, Port: "http", Protocol: corev1.ProtocolTCP}

func TestSliceCacheMergesAndDeduplicates(t *testing.T) {
	c := NewSliceCache()
	if _, changed := c.Update(slice("web-a", discoveryv1.AddressTypeIPv4, 8080, ep("10.0.0.2", true, "n1"), ep("10.0.0.1", true, "n1"))); !changed {
		t.Fatal("a new slice is no change")
	}
	// The controller moves 10.0.0.2 to web-b: it is in both for a moment,
	// and not ready in the new one yet.
	c.Update(slice("web-b", discoveryv1.AddressTypeIPv4, 8080, ep("10.0.0.2", false, "n2"), ep("10.0.0.3", true, "n2")))
	c.Update(slice("web-v6", discoveryv1.AddressTypeIPv6, 8080, ep("fd00::1", true, "n1")))
	got := c.Endpoints(svcName, corev1.IPv4Protocol)
	if s := epStrings(got[httpPort]); s != "10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080" {
		t.Errorf("IPv4 endpoints %s", s)
	}
	for _, e := range got[httpPort] {
		if e.IP.String() == "10.0.0.2" && (!e.Ready || e.NodeName != "n1") {
			t.Errorf("the duplicate kept the less usable copy: %+v", e)
		}
	}
	if s := epStrings(c.Endpoints(svcName, corev1.IPv6Protocol)[httpPort]); s != "[fd00::1]:8080" {
		t.Errorf("IPv6 endpoints %s", s)
	}
	// A resync of the same slice is not a change.
	if _, changed := c.Update(slice("web-b", discoveryv1.AddressTypeIPv4, 8080, ep("10.0.0.2", false, "n2"), ep("10.0.0.3", true, "n2"))); changed {
		t.Error("an identical slice counts as a change")
	}
	c.Delete(slice("web-a", discoveryv1.AddressTypeIPv4, 8080))
	if s := epStrings(c.Endpoints(svcName, corev1.IPv4Protocol)[httpPort]); s != "10.0.0.2:8080(not ready),10.0.0.3:8080" {
		t.Errorf("after deleting web-a: %s", s)
	}
	if _, changed := c.Delete(slice("web-a", discoveryv1.AddressTypeIPv4, 8080)); changed {
		t.Error("deleting an unknown slice counts as a change")
	}
	noLabel := slice("x", discoveryv1.AddressTypeIPv4, 1)
	noLabel.Labels = nil
	if _, changed := c.Update(noLabel); changed {
		t.Error("a slice without a Service is cached")
	}
}

func TestSliceCacheNamedPortsDiffer(t *testing.T) {
	c := NewSliceCache()
	c.Update(slice("web-a", discoveryv1.AddressTypeIPv4, 8080, ep("10.0.0.1", true, "n1")))
	c.Update(slice("web-b", discoveryv1.AddressTypeIPv4, 9090, ep("10.0.0.2", true, "n1")))
	if s := epStrings(c.Endpoints(svcName, corev1.IPv4Protocol)[httpPort]); s != "10.0.0.1:8080,10.0.0.2:9090" {
		t.Errorf("endpoints %s", s)
	}
}

func TestSelect(t *testing.T) {
	mk := func(ip, node string, ready, serving, terminating bool) *Endpoint {
		return &Endpoint{IP: netip.MustParseAddr(ip), Port: 80, Ready: ready, Serving: serving, Terminating: terminating,
			NodeName: node, Topology: map[string]string{"kubernetes.io/hostname": node, "topology.kubernetes.io/zone": "z-" + node[len(node)-1:]}}
	}
	ready1 := mk("10.0.0.1", "node-1", true, true, false)
	ready2 := mk("10.0.0.2", "node-2", true, true, false)
	term1 := mk("10.0.0.3", "node-1", false, true, true)
	gone2 := mk("10.0.0.4", "node-2", false, false, true)
	notReady := mk("10.0.0.5", "node-2", false, false, false)
	port := &ServicePort{}
	for _, tc := range []struct {
		name           string
		port           *ServicePort
		eps            []*Endpoint
		node           string
		labels         map[string]string
		cluster, local string
	}{
		{"ready endpoints only", port, []*Endpoint{ready1, ready2, term1, gone2, notReady}, "node-1", nil,
			"10.0.0.1:80,10.0.0.2:80", "10.0.0.1:80"},
		{"serving terminating when nothing is ready", port, []*Endpoint{term1, gone2, notReady}, "node-2", nil,
			"10.0.0.3:80(not ready)", ""},
		{"local falls back to its serving terminating endpoint", port, []*Endpoint{ready2, term1}, "node-1", nil, "10.0.0.2:80", "10.0.0.3:80(not ready)"},
		{"topology: same host", &ServicePort{TopologyKeys: []string{"kubernetes.io/hostname", "*"}},
			[]*Endpoint{ready1, ready2}, "node-2", map[string]string{"kubernetes.io/hostname": "node-2"}, "10.0.0.2:80", "10.0.0.2:80"},
		{"topology ignores a terminating local endpoint while others are ready", &ServicePort{TopologyKeys: []string{"kubernetes.io/hostname"}},
			[]*Endpoint{term1, ready2}, "node-1", map[string]string{"kubernetes.io/hostname": "node-1"}, "", "10.0.0.3:80(not ready)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel := Select(tc.port, tc.eps, tc.node, tc.labels)
			if got := epStrings(sel.Cluster); got != tc.cluster {
				t.Errorf("cluster %s, want %s", got, tc.cluster)
			}
			if got := epStrings(sel.Local); got != tc.local {
				t.Errorf("local %s, want %s", got, tc.local)
			}
		})
	}
}
