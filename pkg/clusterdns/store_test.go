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
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	discoveryv1 "signet.dev/api/discovery/v1"
)

func netipMust(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestBuildHeadlessEndpoints(t *testing.T) {
	v4, v6 := discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6
	fqdn := slice("ns", "svc", "fqdn", discoveryv1.AddressTypeFQDN, 80, ep{addr: "example.com"})
	wrongFamily := slice("ns", "svc", "c-wrong", v4, 80, ep{addr: "fd00::9"})
	badHost := slice("ns", "svc", "d-bad", v4, 80, ep{addr: "10.0.0.4", hostname: "Not_A_Label"})
	unset := slice("ns", "svc", "e-unset", v4, 80, ep{addr: "10.0.0.5"})
	unset.Endpoints[0].Conditions.Ready = nil // unknown counts as ready
	unnamed := slice("ns", "svc", "f-unnamed", v4, 80, ep{addr: "10.0.0.6"})
	unnamed.Ports[0].Name = nil
	udp := slice("ns", "svc", "g-udp", v6, 53, ep{addr: "fd00::7", hostname: "udp-0"})
	udp.Ports[0].Protocol = ptr.To(corev1.ProtocolUDP)

	e := buildService(headlessService("ns", "svc"), []*discoveryv1.EndpointSlice{
		slice("ns", "svc", "b-dup", v4, 81, ep{addr: "10.0.0.1", hostname: "second"}),
		slice("ns", "svc", "a-first", v4, 80, ep{addr: "10.0.0.1", hostname: "first"}, ep{addr: "10.0.0.3", notReady: true}),
		fqdn, wrongFamily, badHost, unset, unnamed, udp, nil,
	})
	var got []string
	for _, ep := range e.Endpoints {
		got = append(got, ep.Hostname+"="+ep.Addr.String())
	}
	want := []string{"first=10.0.0.1", "10-0-0-4=10.0.0.4", "10-0-0-5=10.0.0.5", "10-0-0-6=10.0.0.6", "udp-0=fd00::7"}
	if !slices.Equal(got, want) {
		t.Errorf("endpoints %v, want %v", got, want)
	}
	if p := e.byHostname["first"][0].Ports; !slices.Equal(p, []srvPort{{"http", "tcp", 80}}) {
		t.Errorf("ports of the first slice's endpoint %v", p)
	}
	if p := e.byHostname["10-0-0-6"][0].Ports; len(p) != 0 {
		t.Errorf("unnamed port published for SRV: %v", p)
	}
	if !e.hasPortProto("udp") || !e.hasPortProto("tcp") || e.hasPortProto("sctp") {
		t.Errorf("hasPortProto wrong")
	}
}

func TestBuildServiceKinds(t *testing.T) {
	legacy := clusterIPService("ns", "legacy", []string{"10.96.0.1"})
	legacy.Spec.ClusterIPs = nil
	tests := []struct {
		name   string
		svc    *corev1.Service
		kind   serviceKind
		ips    []string
		target string
	}{
		{"ClusterIP from clusterIP alone", legacy, kindClusterIP, []string{"10.96.0.1"}, ""},
		{"dual-stack", clusterIPService("ns", "d", []string{"fd00::1", "10.96.0.2"}), kindClusterIP, []string{"fd00::1", "10.96.0.2"}, ""},
		{"headless", headlessService("ns", "h"), kindHeadless, nil, ""},
		{"ExternalName made absolute", externalNameService("ns", "e", "db.example.com"), kindExternalName, nil, "db.example.com."},
		{"ExternalName already absolute", externalNameService("ns", "e", "db.example.com."), kindExternalName, nil, "db.example.com."},
		{"invalid ExternalName", externalNameService("ns", "e", "not a name"), kindExternalName, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := buildService(tc.svc, nil)
			var ips []string
			for _, a := range e.ClusterIPs {
				ips = append(ips, a.String())
			}
			if e.Kind != tc.kind || !slices.Equal(ips, tc.ips) || e.ExternalName != tc.target {
				t.Errorf("got kind %v, IPs %v, target %q; want %v, %v, %q", e.Kind, ips, e.ExternalName, tc.kind, tc.ips, tc.target)
			}
		})
	}
}

func TestStoreIndexes(t *testing.T) {
	s := NewStore()
	v4 := discoveryv1.AddressTypeIPv4
	// The same pod address behind two headless Services, and a cluster IP.
	s.Set(headlessService("a", "one"), []*discoveryv1.EndpointSlice{slice("a", "one", "one-1", v4, 80, ep{addr: "10.0.0.1", hostname: "h"})})
	s.Set(headlessService("a", "two"), []*discoveryv1.EndpointSlice{slice("a", "two", "two-1", v4, 80, ep{addr: "10.0.0.1"})})
	s.Set(clusterIPService("b", "three", []string{"10.96.0.3"}), nil)
	serial := s.Serial()

	if got := s.ptrTargets(netipMust("10.0.0.1")); !slices.Equal(got, []ptrTarget{{"a", "one", "h"}, {"a", "two", "10-0-0-1"}}) {
		t.Errorf("PTR targets %v", got)
	}
	if !s.anyAddressIn(netip.MustParsePrefix("10.0.0.0/8")) || s.anyAddressIn(netip.MustParsePrefix("11.0.0.0/8")) || s.anyAddressIn(netip.MustParsePrefix("fd00::/8")) {
		t.Errorf("anyAddressIn wrong")
	}
	if n, eps := s.Counts(); n != 3 || eps != 2 {
		t.Errorf("counts %d, %d; want 3 Services, 2 endpoints", n, eps)
	}

	s.Set(headlessService("a", "one"), nil) // its endpoint is gone
	if got := s.ptrTargets(netipMust("10.0.0.1")); !slices.Equal(got, []ptrTarget{{"a", "two", "10-0-0-1"}}) {
		t.Errorf("PTR targets after the update %v", got)
	}
	s.Delete(types.NamespacedName{Namespace: "a", Name: "two"})
	s.Delete(types.NamespacedName{Namespace: "a", Name: "missing"})
	if len(s.ptrTargets(netipMust("10.0.0.1"))) != 0 || s.anyAddressIn(netip.MustParsePrefix("10.0.0.0/24")) {
		t.Errorf("PTR of a deleted endpoint remains")
	}
	if !s.namespaceExists("a") {
		t.Errorf("namespace a has Service one")
	}
	s.Delete(types.NamespacedName{Namespace: "a", Name: "one"})
	if s.namespaceExists("a") || !s.namespaceExists("b") {
		t.Errorf("namespaces wrong after deletes")
	}
	if s.Serial() <= serial {
		t.Errorf("serial %d did not grow from %d", s.Serial(), serial)
	}
}

func TestParseReverse(t *testing.T) {
	tests := []struct {
		labels []string
		v6     bool
		want   string
		ok     bool
	}{
		{[]string{"4", "3", "2", "1"}, false, "1.2.3.4/32", true},
		{[]string{"2", "1"}, false, "1.2.0.0/16", true},
		{[]string{"256", "3", "2", "1"}, false, "", false},
		{[]string{"04", "3", "2", "1"}, false, "", false},
		{[]string{"x"}, false, "", false},
		{[]string{"1", "2", "3", "4", "5"}, false, "", false},
		{[]string{"d", "f"}, true, "fd00::/8", true},
		{[]string{"0", "d", "f"}, true, "fd00::/12", true},
		{[]string{"dd", "f"}, true, "", false},
		{[]string{"g"}, true, "", false},
	}
	for _, tc := range tests {
		p, ok := parseReverse(tc.labels, tc.v6)
		if ok != tc.ok || (ok && p.String() != tc.want) {
			t.Errorf("parseReverse(%v, v6=%v) = %v, %v; want %s, %v", tc.labels, tc.v6, p, ok, tc.want, tc.ok)
		}
	}
	full := []string{}
	for range 31 {
		full = append(full, "0")
	}
	full = append([]string{"1"}, full...)
	if p, ok := parseReverse(full, true); !ok || p.String() != "::1/128" {
		t.Errorf("full IPv6 reverse name: %v %v", p, ok)
	}
}

func TestDashedAddresses(t *testing.T) {
	for _, s := range []string{"10.244.1.5", "fd00:10:244::5", "2001:db8::1:2"} {
		a := netipMust(s)
		back, ok := parseDashedAddr(generatedHostname(a))
		if !ok || back != a {
			t.Errorf("%s -> %q -> %v %v", s, generatedHostname(a), back, ok)
		}
	}
	for _, bad := range []string{"10-244-1", "10-244-1-5-6", "web", "1-2-3-256", "::ffff:1.2.3.4", "fd00--1%eth0"} {
		if a, ok := parseDashedAddr(bad); ok {
			t.Errorf("parseDashedAddr(%q) = %v", bad, a)
		}
	}
}
