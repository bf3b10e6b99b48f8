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

package validation

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"signet.dev/signet/pkg/apis/discovery"
)

func ptr[T any](v T) *T { return &v }

// baseSlice returns a valid IPv4 EndpointSlice that exercises every optional
// field. Test cases start from it and break one thing at a time.
func baseSlice() *discovery.EndpointSlice {
	endpoint := func(i int) discovery.Endpoint {
		zone := "zone-a"
		if i%2 == 1 {
			zone = "zone-b"
		}
		node := fmt.Sprintf("node-%d.example.internal", i)
		return discovery.Endpoint{
			Addresses: []string{fmt.Sprintf("10.0.0.%d", i+1)},
			Conditions: discovery.EndpointConditions{
				Ready:       ptr(i != 3),
				Serving:     ptr(true),
				Terminating: ptr(i == 3),
			},
			Hostname: ptr(fmt.Sprintf("web-%d", i)),
			TargetRef: &corev1.ObjectReference{
				Kind:      "Pod",
				Namespace: "shop",
				Name:      fmt.Sprintf("web-%d", i),
				UID:       types.UID(fmt.Sprintf("0c7e0a5e-2b4f-4d8c-9a57-6a8f2f9d4b1%d", i)),
			},
			NodeName: ptr(node),
			Zone:     ptr(zone),
			Topology: map[string]string{
				corev1.LabelHostname:       node,
				corev1.LabelTopologyZone:   zone,
				corev1.LabelTopologyRegion: "region-1",
			},
		}
	}
	return &discovery.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name:      "web-x7k2p",
			Namespace: "shop",
			Labels: map[string]string{
				discovery.LabelServiceName: "web",
				discovery.LabelManagedBy:   "endpointslice-controller.signet.dev",
			},
		},
		AddressType: discovery.AddressTypeIPv4,
		Endpoints:   []discovery.Endpoint{endpoint(0), endpoint(1), endpoint(2), endpoint(3)},
		Ports: []discovery.EndpointPort{
			{Name: ptr("http"), Protocol: ptr(corev1.ProtocolTCP), Port: ptr[int32](8080), AppProtocol: ptr("http")},
			{Name: ptr("metrics"), Protocol: ptr(corev1.ProtocolTCP), Port: ptr[int32](9090)},
		},
	}
}

// asIPv6 turns the baseline into an IPv6 slice with canonical addresses.
func asIPv6(s *discovery.EndpointSlice) {
	s.AddressType = discovery.AddressTypeIPv6
	for i := range s.Endpoints {
		s.Endpoints[i].Addresses = []string{fmt.Sprintf("2001:db8::%x", i+1)}
	}
}

// asFQDN turns the baseline into an FQDN slice.
func asFQDN(s *discovery.EndpointSlice) {
	s.AddressType = discovery.AddressTypeFQDN
	for i := range s.Endpoints {
		s.Endpoints[i].Addresses = []string{fmt.Sprintf("web-%d.backend.example.com", i)}
	}
}

// ipv4Addresses returns n distinct valid IPv4 addresses.
func ipv4Addresses(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)
	}
	return out
}

// minimalEndpoints returns n valid endpoints with one address each.
func minimalEndpoints(n int) []discovery.Endpoint {
	out := make([]discovery.Endpoint, n)
	for i, a := range ipv4Addresses(n) {
		out[i] = discovery.Endpoint{Addresses: []string{a}}
	}
	return out
}

// namedPorts returns n valid TCP ports with distinct names.
func namedPorts(n int) []discovery.EndpointPort {
	out := make([]discovery.EndpointPort, n)
	for i := range out {
		out[i] = discovery.EndpointPort{
			Name:     ptr(fmt.Sprintf("p%d", i)),
			Protocol: ptr(corev1.ProtocolTCP),
			Port:     ptr(int32(10000 + i)),
		}
	}
	return out
}

// setAddr replaces the only address of endpoint i.
func setAddr(i int, addr string) func(*discovery.EndpointSlice) {
	return func(s *discovery.EndpointSlice) { s.Endpoints[i].Addresses = []string{addr} }
}

// want is one expected error: its type and path exactly, and optionally a
// piece of text its detail must contain.
type want struct {
	typ    field.ErrorType
	path   string
	detail string
}

func checkErrors(t *testing.T, got field.ErrorList, wants []want) {
	t.Helper()
	ok := len(got) == len(wants)
	for i := 0; ok && i < len(got); i++ {
		g, w := got[i], wants[i]
		if g.Type != w.typ || g.Field != w.path || !strings.Contains(g.Detail, w.detail) {
			ok = false
		}
	}
	if ok {
		return
	}
	var b strings.Builder
	b.WriteString("got errors:\n")
	for _, g := range got {
		fmt.Fprintf(&b, "  %s %s: %s\n", g.Type, g.Field, g.Detail)
	}
	b.WriteString("want errors:\n")
	for _, w := range wants {
		fmt.Fprintf(&b, "  %s %s (detail containing %q)\n", w.typ, w.path, w.detail)
	}
	t.Error(b.String())
}

const (
	required     = field.ErrorTypeRequired
	invalid      = field.ErrorTypeInvalid
	notSupported = field.ErrorTypeNotSupported
	duplicate    = field.ErrorTypeDuplicate
	tooMany      = field.ErrorTypeTooMany
)

func TestValidateEndpointSliceAccepts(t *testing.T) {
	cases := map[string]func(*discovery.EndpointSlice){
		"baseline": func(*discovery.EndpointSlice) {},
		// Name generation runs before validation, so both are set by then.
		"generateName":              func(s *discovery.EndpointSlice) { s.GenerateName = "web-"; s.Name = "web-x7k2p" },
		"ipv6 slice":                asIPv6,
		"fqdn slice":                asFQDN,
		"fqdn single label":         func(s *discovery.EndpointSlice) { asFQDN(s); s.Endpoints[0].Addresses = []string{"backend"} },
		"no endpoints and no ports": func(s *discovery.EndpointSlice) { s.Endpoints = nil; s.Ports = nil },
		"endpoint with only an address": func(s *discovery.EndpointSlice) {
			s.Endpoints = []discovery.Endpoint{{Addresses: []string{"192.168.7.9"}}}
		},
		"several addresses per endpoint": setAddrs(0, "10.0.0.1", "10.0.0.200", "172.16.0.1"),
		"addresses next to the rejected ranges": setAddrs(0,
			"0.0.0.1", "126.255.255.255", "128.0.0.1", "169.253.255.255", "169.255.0.0",
			"224.0.1.0", "223.255.255.255", "239.1.2.3", "255.255.255.255"),
		"ipv6 addresses next to the rejected ranges": func(s *discovery.EndpointSlice) {
			asIPv6(s)
			s.Endpoints[0].Addresses = []string{"::2", "fec0::1", "fe7f::1", "ff05::1", "ff01::1", "2001:db8::ffff:0:1", "fd00::1"}
		},
		"empty zone":                  func(s *discovery.EndpointSlice) { s.Endpoints[0].Zone = ptr("") },
		"empty topology value":        func(s *discovery.EndpointSlice) { s.Endpoints[0].Topology["example.com/rack"] = "" },
		"topology key without prefix": func(s *discovery.EndpointSlice) { s.Endpoints[0].Topology["rack"] = "r1" },
		"targetRef with kind and name only": func(s *discovery.EndpointSlice) {
			s.Endpoints[0].TargetRef = &corev1.ObjectReference{Kind: "Pod", Name: "web-0"}
		},
		"one unnamed port": func(s *discovery.EndpointSlice) {
			s.Ports = []discovery.EndpointPort{{Name: ptr(""), Protocol: ptr(corev1.ProtocolTCP), Port: ptr[int32](80)}}
		},
		"one port with nil name": func(s *discovery.EndpointSlice) {
			s.Ports = []discovery.EndpointPort{{Protocol: ptr(corev1.ProtocolTCP), Port: ptr[int32](80)}}
		},
		"port without number means all ports": func(s *discovery.EndpointSlice) { s.Ports[0].Port = nil },
		"lowest and highest port numbers": func(s *discovery.EndpointSlice) {
			s.Ports[0].Port = ptr[int32](1)
			s.Ports[1].Port = ptr[int32](65535)
		},
		"udp and sctp": func(s *discovery.EndpointSlice) {
			s.Ports[0].Protocol = ptr(corev1.ProtocolUDP)
			s.Ports[1].Protocol = ptr(corev1.ProtocolSCTP)
		},
		"same number different names":   func(s *discovery.EndpointSlice) { s.Ports[1].Port = s.Ports[0].Port },
		"appProtocol kubernetes.io/h2c": func(s *discovery.EndpointSlice) { s.Ports[0].AppProtocol = ptr("kubernetes.io/h2c") },
		"appProtocol example.com/proto": func(s *discovery.EndpointSlice) { s.Ports[0].AppProtocol = ptr("example.com/proto") },
		"appProtocol IANA name":         func(s *discovery.EndpointSlice) { s.Ports[0].AppProtocol = ptr("grpc-web") },
		"exactly 1000 endpoints": func(s *discovery.EndpointSlice) {
			s.Endpoints = minimalEndpoints(discovery.MaxEndpointsPerSlice)
		},
		"exactly 100 addresses": func(s *discovery.EndpointSlice) {
			s.Endpoints[0].Addresses = ipv4Addresses(discovery.MaxAddressesPerEndpoint)
		},
		"exactly 100 ports": func(s *discovery.EndpointSlice) { s.Ports = namedPorts(discovery.MaxPortsPerSlice) },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			s := baseSlice()
			mutate(s)
			checkErrors(t, ValidateEndpointSlice(s), nil)
		})
	}
}

func setAddrs(i int, addrs ...string) func(*discovery.EndpointSlice) {
	return func(s *discovery.EndpointSlice) { s.Endpoints[i].Addresses = addrs }
}

func TestValidateEndpointSliceRejects(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*discovery.EndpointSlice)
		want   []want
	}{
		// metadata
		{
			name:   "no name or generateName",
			mutate: func(s *discovery.EndpointSlice) { s.Name = "" },
			want:   []want{{required, "metadata.name", "name or generateName"}},
		},
		{
			name:   "name not a DNS subdomain",
			mutate: func(s *discovery.EndpointSlice) { s.Name = "Web_Slice" },
			want:   []want{{invalid, "metadata.name", "RFC 1123 subdomain"}},
		},
		{
			name:   "generateName not a DNS subdomain prefix",
			mutate: func(s *discovery.EndpointSlice) { s.Name = ""; s.GenerateName = "Web_" },
			want:   []want{{invalid, "metadata.generateName", ""}, {required, "metadata.name", ""}},
		},
		{
			name:   "no namespace",
			mutate: func(s *discovery.EndpointSlice) { s.Namespace = "" },
			want:   []want{{required, "metadata.namespace", ""}},
		},
		{
			name:   "bad label value",
			mutate: func(s *discovery.EndpointSlice) { s.Labels[discovery.LabelServiceName] = "not a name" },
			want:   []want{{invalid, "metadata.labels", ""}},
		},

		// addressType
		{
			name: "addressType missing",
			mutate: func(s *discovery.EndpointSlice) {
				s.AddressType = ""
				s.Endpoints[0].Addresses = []string{"not checked without a type"}
			},
			want: []want{{required, "addressType", "IPv4, IPv6 or FQDN"}},
		},
		{
			name:   "addressType unknown",
			mutate: func(s *discovery.EndpointSlice) { s.AddressType = "IPv5" },
			want:   []want{{notSupported, "addressType", `"IPv4", "IPv6", "FQDN"`}},
		},
		{
			name:   "addressType wrong case",
			mutate: func(s *discovery.EndpointSlice) { s.AddressType = "ipv4" },
			want:   []want{{notSupported, "addressType", ""}},
		},

		// endpoint counts
		{
			name:   "1001 endpoints",
			mutate: func(s *discovery.EndpointSlice) { s.Endpoints = minimalEndpoints(discovery.MaxEndpointsPerSlice + 1) },
			want:   []want{{tooMany, "endpoints", "at most 1000"}},
		},
		{
			name:   "endpoint without addresses",
			mutate: func(s *discovery.EndpointSlice) { s.Endpoints[1].Addresses = nil },
			want:   []want{{required, "endpoints[1].addresses", "at least 1"}},
		},
		{
			name:   "endpoint with empty address list",
			mutate: func(s *discovery.EndpointSlice) { s.Endpoints[3].Addresses = []string{} },
			want:   []want{{required, "endpoints[3].addresses", ""}},
		},
		{
			name: "101 addresses",
			mutate: func(s *discovery.EndpointSlice) {
				s.Endpoints[2].Addresses = ipv4Addresses(discovery.MaxAddressesPerEndpoint + 1)
			},
			want: []want{{tooMany, "endpoints[2].addresses", "at most 100"}},
		},

		// IPv4 addresses
		{
			name:   "ipv4: leading zeros",
			mutate: setAddr(3, "010.0.0.1"),
			want:   []want{{invalid, "endpoints[3].addresses[0]", "write 10.0.0.1"}},
		},
		{
			name:   "ipv4: leading zero in last octet",
			mutate: setAddr(0, "10.0.0.01"),
			want:   []want{{invalid, "endpoints[0].addresses[0]", "leading zeros"}},
		},
		{
			name:   "ipv4: leading zeros with octet over 255",
			mutate: setAddr(0, "010.0.0.256"),
			want:   []want{{invalid, "endpoints[0].addresses[0]", "valid IPv4 address"}},
		},
		{
			name:   "ipv4: ipv6 address with zone",
			mutate: setAddr(0, "fe80::1%eth0"),
			want:   []want{{invalid, "endpoints[0].addresses[0]", "addressType is IPv6"}},
		},
		{
			name:   "ipv4: ipv6 address",
			mutate: setAddr(0, "2001:db8::1"),
			want:   []want{{invalid, "endpoints[0].addresses[0]", "addressType is IPv6"}},
		},
		{
			name:   "ipv4: ipv4-mapped ipv6",
			mutate: setAddr(0, "::ffff:10.0.0.1"),
			want:   []want{{invalid, "endpoints[0].addresses[0]", "use 10.0.0.1"}},
		},
		{
			name:   "ipv4: unspecified",
			mutate: setAddr(0, "0.0.0.0"),
			want:   []want{{invalid, "endpoints[0].addresses[0]", "unspecified"}},
		},
		{
			name:   "ipv4: loopback",
			mutate: setAddr(0, "127.0.0.1"),
			want:   []want{{invalid, "endpoints[0].addresses[0]", "loopback"}},
		},
		{
			name:   "ipv4: loopback at top of range",
			mutate: setAddr(0, "127.255.255.254"),
			want:   []want{{invalid, "endpoints[0].addresses[0]", "127.0.0.0/8"}},
		},
		{
			name:   "ipv4: link-local",
			mutate: setAddr(0, "169.254.169.254"),
			want:   []want{{invalid, "endpoints[0].addresses[0]", "link-local address (169.254.0.0/16)"}},
		},
		{
			name:   "ipv4: link-local multicast",
			mutate: setAddr(0, "224.0.0.251"),
			want:   []want{{invalid, "endpoints[0].addresses[0]", "link-local multicast"}},
		},
		{
			name:   "ipv4: not an address",
			mutate: setAddr(0, "web-0"),
			want:   []want{{invalid, "endpoints[0].addresses[0]", "valid IPv4 address"}},
		},
		{
			name:   "ipv4: cidr",
			mutate: setAddr(0, "10.0.0.1/32"),
			want:   []want{{invalid, "endpoints[0].addresses[0]", "valid IPv4 address"}},
		},
		{
			name:   "ipv4: surrounding space",
			mutate: setAddr(0, " 10.0.0.1"),
			want:   []want{{invalid, "endpoints[0].addresses[0]", ""}},
		},
		{
			name:   "ipv4: empty address",
			mutate: setAddr(0, ""),
			want:   []want{{required, "endpoints[0].addresses[0]", "IPv4"}},
		},
		{
			name:   "ipv4: second address bad",
			mutate: setAddrs(1, "10.0.0.2", "127.0.0.1", "10.0.0.3", "0.0.0.0"),
			want: []want{
				{invalid, "endpoints[1].addresses[1]", "loopback"},
				{invalid, "endpoints[1].addresses[3]", "unspecified"},
			},
		},

		// IPv6 addresses
		{
			name:   "ipv6: ipv4 address",
			mutate: func(s *discovery.EndpointSlice) { asIPv6(s); s.Endpoints[2].Addresses = []string{"10.0.0.1"} },
			want:   []want{{invalid, "endpoints[2].addresses[0]", "addressType is IPv4"}},
		},
		{
			name:   "ipv6: ipv4-mapped",
			mutate: func(s *discovery.EndpointSlice) { asIPv6(s); s.Endpoints[0].Addresses = []string{"::ffff:10.0.0.1"} },
			want:   []want{{invalid, "endpoints[0].addresses[0]", "IPv4-mapped"}},
		},
		{
			name:   "ipv6: unspecified",
			mutate: func(s *discovery.EndpointSlice) { asIPv6(s); s.Endpoints[0].Addresses = []string{"::"} },
			want:   []want{{invalid, "endpoints[0].addresses[0]", "unspecified"}},
		},
		{
			name:   "ipv6: loopback",
			mutate: func(s *discovery.EndpointSlice) { asIPv6(s); s.Endpoints[0].Addresses = []string{"::1"} },
			want:   []want{{invalid, "endpoints[0].addresses[0]", "loopback address (::1)"}},
		},
		{
			name:   "ipv6: link-local",
			mutate: func(s *discovery.EndpointSlice) { asIPv6(s); s.Endpoints[0].Addresses = []string{"fe80::1"} },
			want:   []want{{invalid, "endpoints[0].addresses[0]", "fe80::/10"}},
		},
		{
			name:   "ipv6: link-local at top of range",
			mutate: func(s *discovery.EndpointSlice) { asIPv6(s); s.Endpoints[0].Addresses = []string{"febf::1"} },
			want:   []want{{invalid, "endpoints[0].addresses[0]", "link-local address"}},
		},
		{
			name:   "ipv6: link-local multicast",
			mutate: func(s *discovery.EndpointSlice) { asIPv6(s); s.Endpoints[0].Addresses = []string{"ff02::1"} },
			want:   []want{{invalid, "endpoints[0].addresses[0]", "link-local multicast"}},
		},
		{
			name:   "ipv6: upper case",
			mutate: func(s *discovery.EndpointSlice) { asIPv6(s); s.Endpoints[0].Addresses = []string{"2001:DB8::1"} },
			want:   []want{{invalid, "endpoints[0].addresses[0]", "use 2001:db8::1"}},
		},
		{
			name: "ipv6: zeros not compressed",
			mutate: func(s *discovery.EndpointSlice) {
				asIPv6(s)
				s.Endpoints[0].Addresses = []string{"2001:db8:0:0:0:0:0:1"}
			},
			want: []want{{invalid, "endpoints[0].addresses[0]", "canonical"}},
		},
		{
			name:   "ipv6: zone",
			mutate: func(s *discovery.EndpointSlice) { asIPv6(s); s.Endpoints[0].Addresses = []string{"fe80::1%eth0"} },
			want:   []want{{invalid, "endpoints[0].addresses[0]", "zone"}},
		},
		{
			name:   "ipv6: ipv4 with leading zeros",
			mutate: func(s *discovery.EndpointSlice) { asIPv6(s); s.Endpoints[0].Addresses = []string{"010.0.0.1"} },
			want:   []want{{invalid, "endpoints[0].addresses[0]", "valid IPv6 address"}},
		},
		{
			name:   "ipv6: not an address",
			mutate: func(s *discovery.EndpointSlice) { asIPv6(s); s.Endpoints[0].Addresses = []string{"2001:db8::g"} },
			want:   []want{{invalid, "endpoints[0].addresses[0]", "valid IPv6 address"}},
		},

		// FQDN addresses
		{
			name:   "fqdn: upper case and underscore",
			mutate: func(s *discovery.EndpointSlice) { asFQDN(s); s.Endpoints[1].Addresses = []string{"Web_1.example.com"} },
			want:   []want{{invalid, "endpoints[1].addresses[0]", "RFC 1123 subdomain"}},
		},
		{
			name:   "fqdn: trailing dot",
			mutate: func(s *discovery.EndpointSlice) { asFQDN(s); s.Endpoints[0].Addresses = []string{"web.example.com."} },
			want:   []want{{invalid, "endpoints[0].addresses[0]", ""}},
		},
		{
			name:   "fqdn: empty",
			mutate: func(s *discovery.EndpointSlice) { asFQDN(s); s.Endpoints[0].Addresses = []string{""} },
			want:   []want{{required, "endpoints[0].addresses[0]", "domain name"}},
		},
		{
			name: "fqdn: too long",
			mutate: func(s *discovery.EndpointSlice) {
				asFQDN(s)
				s.Endpoints[0].Addresses = []string{strings.Repeat("a.", 127) + "a"}
			},
			want: []want{{invalid, "endpoints[0].addresses[0]", "no more than 253"}},
		},

		// hostname, nodeName, zone
		{
			name:   "hostname with dots",
			mutate: func(s *discovery.EndpointSlice) { s.Endpoints[0].Hostname = ptr("web.example") },
			want:   []want{{invalid, "endpoints[0].hostname", "dots"}},
		},
		{
			name:   "hostname upper case",
			mutate: func(s *discovery.EndpointSlice) { s.Endpoints[2].Hostname = ptr("Web-2") },
			want:   []want{{invalid, "endpoints[2].hostname", "RFC 1123 label"}},
		},
		{
			name:   "hostname empty",
			mutate: func(s *discovery.EndpointSlice) { s.Endpoints[0].Hostname = ptr("") },
			want:   []want{{invalid, "endpoints[0].hostname", ""}},
		},
		{
			name:   "nodeName not a subdomain",
			mutate: func(s *discovery.EndpointSlice) { s.Endpoints[1].NodeName = ptr("Node_1") },
			want:   []want{{invalid, "endpoints[1].nodeName", "valid Node name"}},
		},
		{
			name:   "nodeName empty",
			mutate: func(s *discovery.EndpointSlice) { s.Endpoints[0].NodeName = ptr("") },
			want:   []want{{invalid, "endpoints[0].nodeName", ""}},
		},
		{
			name:   "zone not a label value",
			mutate: func(s *discovery.EndpointSlice) { s.Endpoints[0].Zone = ptr("zone a") },
			want:   []want{{invalid, "endpoints[0].zone", "valid label"}},
		},
		{
			name:   "zone too long",
			mutate: func(s *discovery.EndpointSlice) { s.Endpoints[0].Zone = ptr(strings.Repeat("z", 64)) },
			want:   []want{{invalid, "endpoints[0].zone", "no more than 63"}},
		},

		// topology
		{
			name:   "topology key invalid",
			mutate: func(s *discovery.EndpointSlice) { s.Endpoints[1].Topology["bad key"] = "x" },
			want:   []want{{invalid, "endpoints[1].topology[bad key]", "label key"}},
		},
		{
			name:   "topology key with bad prefix",
			mutate: func(s *discovery.EndpointSlice) { s.Endpoints[0].Topology["Example.COM/rack"] = "r1" },
			want:   []want{{invalid, "endpoints[0].topology[Example.COM/rack]", "prefix"}},
		},
		{
			name:   "topology value invalid",
			mutate: func(s *discovery.EndpointSlice) { s.Endpoints[0].Topology[corev1.LabelTopologyRegion] = "us east" },
			want:   []want{{invalid, "endpoints[0].topology[topology.kubernetes.io/region]", "label value"}},
		},
		{
			name: "topology key and value invalid, keys in sorted order",
			mutate: func(s *discovery.EndpointSlice) {
				s.Endpoints[3].Topology["z/"] = "ok"
				s.Endpoints[3].Topology["a b"] = "-bad-"
			},
			want: []want{
				{invalid, "endpoints[3].topology[a b]", "label key"},
				{invalid, "endpoints[3].topology[a b]", "label value"},
				{invalid, "endpoints[3].topology[z/]", "label key"},
			},
		},

		// targetRef
		{
			name:   "targetRef without kind",
			mutate: func(s *discovery.EndpointSlice) { s.Endpoints[0].TargetRef.Kind = "" },
			want:   []want{{required, "endpoints[0].targetRef.kind", ""}},
		},
		{
			name:   "targetRef empty",
			mutate: func(s *discovery.EndpointSlice) { s.Endpoints[2].TargetRef = &corev1.ObjectReference{} },
			want: []want{
				{required, "endpoints[2].targetRef.kind", ""},
				{required, "endpoints[2].targetRef.name", ""},
			},
		},

		// ports
		{
			name:   "101 ports",
			mutate: func(s *discovery.EndpointSlice) { s.Ports = namedPorts(discovery.MaxPortsPerSlice + 1) },
			want:   []want{{tooMany, "ports", "at most 100"}},
		},
		{
			name:   "port name upper case",
			mutate: func(s *discovery.EndpointSlice) { s.Ports[1].Name = ptr("Metrics") },
			want:   []want{{invalid, "ports[1].name", "RFC 1123 label"}},
		},
		{
			name:   "port name too long",
			mutate: func(s *discovery.EndpointSlice) { s.Ports[0].Name = ptr(strings.Repeat("p", 64)) },
			want:   []want{{invalid, "ports[0].name", "no more than 63"}},
		},
		{
			name:   "duplicate port name",
			mutate: func(s *discovery.EndpointSlice) { s.Ports[1].Name = ptr("http") },
			want:   []want{{duplicate, "ports[1].name", "ports[0]"}},
		},
		{
			name: "duplicate name with other protocol",
			mutate: func(s *discovery.EndpointSlice) {
				s.Ports[1].Name = ptr("http")
				s.Ports[1].Protocol = ptr(corev1.ProtocolUDP)
			},
			want: []want{{duplicate, "ports[1].name", ""}},
		},
		{
			name: "two unnamed ports",
			mutate: func(s *discovery.EndpointSlice) {
				s.Ports[0].Name = ptr("")
				s.Ports[1].Name = nil
			},
			want: []want{{duplicate, "ports[1].name", "unnamed"}},
		},
		{
			name:   "three ports with one name",
			mutate: func(s *discovery.EndpointSlice) { s.Ports = append(namedPorts(1), namedPorts(1)[0], namedPorts(1)[0]) },
			want: []want{
				{duplicate, "ports[1].name", ""},
				{duplicate, "ports[2].name", ""},
			},
		},
		{
			name:   "protocol missing",
			mutate: func(s *discovery.EndpointSlice) { s.Ports[0].Protocol = nil },
			want:   []want{{required, "ports[0].protocol", "TCP, UDP or SCTP"}},
		},
		{
			name:   "protocol unknown",
			mutate: func(s *discovery.EndpointSlice) { s.Ports[1].Protocol = ptr(corev1.Protocol("ICMP")) },
			want:   []want{{notSupported, "ports[1].protocol", `"TCP", "UDP", "SCTP"`}},
		},
		{
			name:   "protocol lower case",
			mutate: func(s *discovery.EndpointSlice) { s.Ports[0].Protocol = ptr(corev1.Protocol("tcp")) },
			want:   []want{{notSupported, "ports[0].protocol", ""}},
		},
		{
			name:   "port zero",
			mutate: func(s *discovery.EndpointSlice) { s.Ports[0].Port = ptr[int32](0) },
			want:   []want{{invalid, "ports[0].port", "between 1 and 65535"}},
		},
		{
			name:   "port too high",
			mutate: func(s *discovery.EndpointSlice) { s.Ports[1].Port = ptr[int32](65536) },
			want:   []want{{invalid, "ports[1].port", "unset"}},
		},
		{
			name:   "port negative",
			mutate: func(s *discovery.EndpointSlice) { s.Ports[0].Port = ptr[int32](-80) },
			want:   []want{{invalid, "ports[0].port", ""}},
		},
		{
			name:   "appProtocol with space",
			mutate: func(s *discovery.EndpointSlice) { s.Ports[0].AppProtocol = ptr("my proto") },
			want:   []want{{invalid, "ports[0].appProtocol", "kubernetes.io/h2c"}},
		},
		{
			name:   "appProtocol empty",
			mutate: func(s *discovery.EndpointSlice) { s.Ports[1].AppProtocol = ptr("") },
			want:   []want{{invalid, "ports[1].appProtocol", ""}},
		},
		{
			name:   "appProtocol empty name after prefix",
			mutate: func(s *discovery.EndpointSlice) { s.Ports[0].AppProtocol = ptr("example.com/") },
			want:   []want{{invalid, "ports[0].appProtocol", ""}},
		},

		// several problems at once are all reported, in field order
		{
			name: "errors across the object",
			mutate: func(s *discovery.EndpointSlice) {
				s.Namespace = ""
				s.Endpoints[0].Addresses = []string{"127.0.0.1"}
				s.Endpoints[0].Hostname = ptr("A")
				s.Endpoints[3].Addresses = []string{"010.0.0.1"}
				s.Endpoints[3].TargetRef.Name = ""
				s.Ports[0].Protocol = nil
				s.Ports[1].Name = ptr("http")
				s.Ports[1].Port = ptr[int32](0)
			},
			want: []want{
				{required, "metadata.namespace", ""},
				{invalid, "endpoints[0].addresses[0]", "loopback"},
				{invalid, "endpoints[0].hostname", ""},
				{invalid, "endpoints[3].addresses[0]", "leading zeros"},
				{required, "endpoints[3].targetRef.name", ""},
				{required, "ports[0].protocol", ""},
				{duplicate, "ports[1].name", ""},
				{invalid, "ports[1].port", ""},
			},
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := baseSlice()
			tc.mutate(s)
			checkErrors(t, ValidateEndpointSlice(s), tc.want)
		})
	}
}

func TestValidateEndpointSliceUpdate(t *testing.T) {
	stored := func() *discovery.EndpointSlice {
		s := baseSlice()
		s.ResourceVersion = "42"
		s.UID = "5b3c1d0e-7a2f-4c55-8e1b-1f9a6c3d2e70"
		return s
	}

	cases := []struct {
		name   string
		old    func(*discovery.EndpointSlice)
		update func(*discovery.EndpointSlice)
		want   []want
	}{
		{
			name:   "no change",
			update: func(*discovery.EndpointSlice) {},
		},
		{
			name: "endpoints and ports change",
			update: func(s *discovery.EndpointSlice) {
				s.Endpoints = s.Endpoints[:2]
				s.Endpoints[0].Conditions.Ready = ptr(false)
				s.Ports = append(s.Ports, discovery.EndpointPort{Name: ptr("grpc"), Protocol: ptr(corev1.ProtocolTCP), Port: ptr[int32](9000)})
			},
		},
		{
			name:   "labels change",
			update: func(s *discovery.EndpointSlice) { s.Labels[discovery.LabelSkipMirror] = "true" },
		},
		{
			name:   "addressType IPv4 to IPv6",
			update: asIPv6,
			want:   []want{{invalid, "addressType", apivalidation.FieldImmutableErrorMsg}},
		},
		{
			name:   "addressType IPv4 to FQDN",
			update: asFQDN,
			want:   []want{{invalid, "addressType", apivalidation.FieldImmutableErrorMsg}},
		},
		{
			name:   "addressType to unknown value",
			update: func(s *discovery.EndpointSlice) { s.AddressType = "IPv5" },
			want: []want{
				{notSupported, "addressType", ""},
				{invalid, "addressType", apivalidation.FieldImmutableErrorMsg},
			},
		},
		{
			name:   "addressType cleared",
			update: func(s *discovery.EndpointSlice) { s.AddressType = "" },
			want: []want{
				{required, "addressType", ""},
				{invalid, "addressType", apivalidation.FieldImmutableErrorMsg},
			},
		},
		{
			name:   "new object invalid",
			update: setAddr(1, "169.254.1.1"),
			want:   []want{{invalid, "endpoints[1].addresses[0]", "link-local"}},
		},
		{
			name:   "new object over the endpoint limit",
			update: func(s *discovery.EndpointSlice) { s.Endpoints = minimalEndpoints(discovery.MaxEndpointsPerSlice + 1) },
			want:   []want{{tooMany, "endpoints", ""}},
		},
		{
			name: "invalid data already stored is still rejected",
			old:  setAddr(0, "127.0.0.1"),
			update: func(s *discovery.EndpointSlice) {
				s.Endpoints[0].Addresses = []string{"127.0.0.1"}
			},
			want: []want{{invalid, "endpoints[0].addresses[0]", "loopback"}},
		},
		{
			name:   "name change",
			update: func(s *discovery.EndpointSlice) { s.Name = "web-other" },
			want:   []want{{invalid, "metadata.name", apivalidation.FieldImmutableErrorMsg}},
		},
		{
			name:   "namespace change",
			update: func(s *discovery.EndpointSlice) { s.Namespace = "other" },
			want:   []want{{invalid, "metadata.namespace", apivalidation.FieldImmutableErrorMsg}},
		},
		{
			name:   "resourceVersion missing",
			update: func(s *discovery.EndpointSlice) { s.ResourceVersion = "" },
			want:   []want{{invalid, "metadata.resourceVersion", ""}},
		},
		{
			name:   "bad label reported once",
			update: func(s *discovery.EndpointSlice) { s.Labels["bad key!"] = "x" },
			want:   []want{{invalid, "metadata.labels", ""}},
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldSlice := stored()
			if tc.old != nil {
				tc.old(oldSlice)
			}
			newSlice := stored()
			if tc.old != nil {
				tc.old(newSlice)
			}
			tc.update(newSlice)
			checkErrors(t, ValidateEndpointSliceUpdate(newSlice, oldSlice), tc.want)
		})
	}
}
