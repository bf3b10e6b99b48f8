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
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	discoveryv1 "signet.dev/api/discovery/v1"

	"signet.dev/signet/pkg/proxy/topology"
)

const (
	labelHost = corev1.LabelHostname
	labelZone = corev1.LabelTopologyZone
)

// clusterIPService returns a ClusterIP Service with the given cluster IPs
// and ports ("name/PROTO/port"; an empty name makes an unnamed port).
func clusterIPService(ns, name string, ips []string, ports ...string) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: ips[0], ClusterIPs: ips},
	}
	for _, p := range ports {
		parts := strings.Split(p, "/")
		port, err := strconv.Atoi(parts[2])
		if len(parts) != 3 || err != nil {
			panic(fmt.Sprintf("bad port %q", p))
		}
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: parts[0], Protocol: corev1.Protocol(parts[1]), Port: int32(port)})
	}
	return svc
}

// headlessService returns a headless Service with one named port.
func headlessService(ns, name string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: corev1.ClusterIPNone, ClusterIPs: []string{corev1.ClusterIPNone},
			Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}},
		},
	}
}

func withTopologyKeys(svc *corev1.Service, keys string) *corev1.Service {
	svc.Annotations = map[string]string{topology.AnnotationKeys: keys}
	return svc
}

func externalNameService(ns, name, target string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: target},
	}
}

// ep describes an endpoint of a test slice.
type ep struct {
	addr, hostname, node, zone string
	notReady                   bool
}

func (e ep) endpoint() discoveryv1.Endpoint {
	out := discoveryv1.Endpoint{
		Addresses:  []string{e.addr},
		Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(!e.notReady)},
	}
	if e.hostname != "" {
		out.Hostname = ptr.To(e.hostname)
	}
	if e.node != "" {
		out.NodeName = ptr.To(e.node)
		out.Topology = map[string]string{labelHost: e.node}
		if e.zone != "" {
			out.Zone = ptr.To(e.zone)
			out.Topology[labelZone] = e.zone
		}
	}
	return out
}

// slice returns an EndpointSlice of the Service with one port named http.
func slice(ns, service, name string, family discoveryv1.AddressType, port int32, eps ...ep) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name,
			Labels: map[string]string{discoveryv1.LabelServiceName: service},
		},
		AddressType: family,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(port)}},
	}
	for _, e := range eps {
		s.Endpoints = append(s.Endpoints, e.endpoint())
	}
	return s
}

// testNodes are the Nodes the tests' endpoints run on, by name: node-a,
// node-b and node-c run endpoints; node-d (zone-a) and node-e (zone-c)
// run none.
var testNodes = map[string]map[string]string{
	"node-a": {labelHost: "node-a", labelZone: "zone-a"},
	"node-b": {labelHost: "node-b", labelZone: "zone-b"},
	"node-c": {labelHost: "node-c", labelZone: "zone-a"},
	"node-d": {labelHost: "node-d", labelZone: "zone-a"},
	"node-e": {labelHost: "node-e", labelZone: "zone-c"},
}

func testNodeLabels(name string) (map[string]string, bool) {
	l, ok := testNodes[name]
	return l, ok
}

// fixture fills a store with the Services of the spec table tests.
func fixture(s *Store) {
	v4, v6 := discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6
	s.Set(clusterIPService("default", "kubernetes", []string{"10.96.0.1"}, "https/TCP/443"), nil)
	s.Set(clusterIPService("default", "dual", []string{"10.96.0.10", "fd00:10:96::a"}, "http/TCP/80", "dns/UDP/53", "/TCP/8080"), nil)
	s.Set(clusterIPService("default", "v6only", []string{"fd00:10:96::b"}, "http/TCP/80"), nil)
	s.Set(clusterIPService("other", "web", []string{"10.96.5.5"}), nil)

	s.Set(headlessService("default", "headless"), []*discoveryv1.EndpointSlice{
		slice("default", "headless", "headless-v4", v4, 8080,
			ep{addr: "10.244.1.1", hostname: "web-0", node: "node-a", zone: "zone-a"},
			ep{addr: "10.244.2.2", hostname: "web-1", node: "node-b", zone: "zone-b"},
			ep{addr: "10.244.3.3", node: "node-c", zone: "zone-a"},
			ep{addr: "10.244.9.9", hostname: "web-9", node: "node-b", zone: "zone-b", notReady: true}),
		slice("default", "headless", "headless-v6", v6, 8080,
			ep{addr: "fd00:10:244::1", hostname: "web-0", node: "node-a", zone: "zone-a"}),
	})
	s.Set(headlessService("default", "notready"), []*discoveryv1.EndpointSlice{
		slice("default", "notready", "notready-v4", v4, 80, ep{addr: "10.244.4.4", hostname: "n-0", notReady: true}),
	})
	publish := headlessService("default", "publish")
	publish.Spec.PublishNotReadyAddresses = true
	s.Set(publish, []*discoveryv1.EndpointSlice{
		slice("default", "publish", "publish-v4", v4, 80, ep{addr: "10.244.5.5", hostname: "p-0", notReady: true}),
	})
	s.Set(headlessService("default", "empty"), nil)

	s.Set(externalNameService("default", "ext", "www.example.com"), nil)
	s.Set(externalNameService("default", "alias", "kubernetes.default.svc.cluster.local"), nil)
	s.Set(externalNameService("default", "dangling", "missing.default.svc.cluster.local."), nil)
	s.Set(externalNameService("default", "loop1", "loop2.default.svc.cluster.local"), nil)
	s.Set(externalNameService("default", "loop2", "loop1.default.svc.cluster.local"), nil)

	s.Set(withTopologyKeys(headlessService("default", "topo"), labelHost+","+labelZone), []*discoveryv1.EndpointSlice{
		slice("default", "topo", "topo-v4", v4, 80,
			ep{addr: "10.244.10.1", hostname: "t-a", node: "node-a", zone: "zone-a"},
			ep{addr: "10.244.10.2", hostname: "t-b", node: "node-b", zone: "zone-b"},
			ep{addr: "10.244.10.3", hostname: "t-c", node: "node-c", zone: "zone-a"}),
		slice("default", "topo", "topo-v6", v6, 80,
			ep{addr: "fd00:10:244::10:2", hostname: "t-b", node: "node-b", zone: "zone-b"}),
	})
	s.Set(withTopologyKeys(headlessService("default", "topo-any"), labelHost+",*"), []*discoveryv1.EndpointSlice{
		slice("default", "topo-any", "topo-any-v4", v4, 80,
			ep{addr: "10.244.11.1", node: "node-a", zone: "zone-a"},
			ep{addr: "10.244.11.2", node: "node-b", zone: "zone-b"}),
	})
	s.Set(withTopologyKeys(headlessService("default", "topo-invalid"), "*,"+labelHost), []*discoveryv1.EndpointSlice{
		slice("default", "topo-invalid", "topo-invalid-v4", v4, 80,
			ep{addr: "10.244.12.1", node: "node-a", zone: "zone-a"},
			ep{addr: "10.244.12.2", node: "node-b", zone: "zone-b"}),
	})
}

// newTestHandler returns a handler over the fixture, with the test nodes.
func newTestHandler(t testing.TB, mutate func(*HandlerConfig)) (*Handler, *Store) {
	t.Helper()
	store := NewStore()
	fixture(store)
	cfg := HandlerConfig{}
	if mutate != nil {
		mutate(&cfg)
	}
	h, err := NewHandler(cfg, store, testNodeLabels, nil, nil, klog.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h, store
}

// queryOpt changes a test query.
type queryOpt func(*dns.Msg)

func fromNode(name string) queryOpt {
	return func(m *dns.Msg) {
		opt := m.IsEdns0()
		if opt == nil {
			m.SetEdns0(1232, false)
			opt = m.IsEdns0()
		}
		opt.Option = append(opt.Option, &dns.EDNS0_LOCAL{Code: NodeNameOption, Data: []byte(name)})
	}
}

func newQuery(name string, qtype uint16, opts ...queryOpt) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	for _, o := range opts {
		o(m)
	}
	return m
}

// ask sends a query through Respond over TCP (no truncation) and checks the
// invariants of every answer.
func ask(t *testing.T, h *Handler, name string, qtype uint16, opts ...queryOpt) *dns.Msg {
	t.Helper()
	q := newQuery(name, qtype, opts...)
	r := h.Respond(q, true)
	if r == nil {
		t.Fatalf("no answer to %s %s", name, dns.TypeToString[qtype])
	}
	if r.Id != q.Id || !r.Response || len(r.Question) != 1 || r.Question[0] != q.Question[0] {
		t.Fatalf("answer header or question do not match the query: %v", r)
	}
	if _, err := r.Pack(); err != nil {
		t.Fatalf("answer does not pack: %v", err)
	}
	return r
}

// rrStrings renders records one per string, fields separated by one space,
// in order.
func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		out = append(out, strings.Join(strings.Fields(rr.String()), " "))
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

const (
	negNone    = 0 // no SOA in the authority section
	negSOA     = 1 // the cluster domain's SOA
	negSOARev4 = 2 // in-addr.arpa.'s SOA
	negSOARev6 = 3 // ip6.arpa.'s SOA
)

type answerCase struct {
	name   string
	qname  string
	qtype  uint16
	opts   []queryOpt
	rcode  int
	answer []string // in any order
	extra  []string // in any order
	soa    int
}

func checkAnswer(t *testing.T, h *Handler, tc answerCase) {
	t.Helper()
	r := ask(t, h, tc.qname, tc.qtype, tc.opts...)
	if r.Rcode != tc.rcode {
		t.Errorf("rcode %s, want %s; answer %v", dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode], r)
	}
	if got, want := sorted(rrStrings(r.Answer)), sorted(tc.answer); !slices.Equal(got, want) {
		t.Errorf("answer section\n got %q\nwant %q", got, want)
	}
	if got, want := sorted(rrStrings(r.Extra)), sorted(tc.extra); !slices.Equal(got, want) {
		t.Errorf("additional section\n got %q\nwant %q", got, want)
	}
	wantNs := map[int]string{negSOA: "cluster.local.", negSOARev4: "in-addr.arpa.", negSOARev6: "ip6.arpa."}[tc.soa]
	switch {
	case tc.soa == negNone && len(r.Ns) != 0:
		t.Errorf("authority section %v, want empty", r.Ns)
	case tc.soa != negNone && (len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA || r.Ns[0].Header().Name != wantNs):
		t.Errorf("authority section %v, want the SOA of %s", r.Ns, wantNs)
	}
	if (r.Rcode == dns.RcodeSuccess || r.Rcode == dns.RcodeNameError) && !r.Authoritative {
		t.Errorf("answer not authoritative")
	}
}

const z = ".cluster.local."

func TestSpecification(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	tests := []answerCase{
		// 2.2 Schema version.
		{name: "dns-version TXT", qname: "dns-version" + z, qtype: dns.TypeTXT,
			answer: []string{`dns-version.cluster.local. 30 IN TXT "1.1.0"`}},
		{name: "dns-version A is NODATA", qname: "dns-version.cluster.local.", qtype: dns.TypeA, soa: negSOA},

		// 2.3.1 ClusterIP A/AAAA by family.
		{name: "ClusterIP A", qname: "kubernetes.default.svc" + z, qtype: dns.TypeA,
			answer: []string{"kubernetes.default.svc.cluster.local. 30 IN A 10.96.0.1"}},
		{name: "IPv4-only ClusterIP AAAA is NODATA", qname: "kubernetes.default.svc" + z, qtype: dns.TypeAAAA, soa: negSOA},
		{name: "dual-stack A", qname: "dual.default.svc" + z, qtype: dns.TypeA,
			answer: []string{"dual.default.svc.cluster.local. 30 IN A 10.96.0.10"}},
		{name: "dual-stack AAAA", qname: "dual.default.svc" + z, qtype: dns.TypeAAAA,
			answer: []string{"dual.default.svc.cluster.local. 30 IN AAAA fd00:10:96::a"}},
		{name: "dual-stack ANY", qname: "dual.default.svc" + z, qtype: dns.TypeANY,
			answer: []string{"dual.default.svc.cluster.local. 30 IN A 10.96.0.10", "dual.default.svc.cluster.local. 30 IN AAAA fd00:10:96::a"}},
		{name: "IPv6-only A is NODATA", qname: "v6only.default.svc" + z, qtype: dns.TypeA, soa: negSOA},
		{name: "IPv6-only AAAA", qname: "v6only.default.svc" + z, qtype: dns.TypeAAAA,
			answer: []string{"v6only.default.svc.cluster.local. 30 IN AAAA fd00:10:96::b"}},
		{name: "ClusterIP TXT is NODATA", qname: "kubernetes.default.svc" + z, qtype: dns.TypeTXT, soa: negSOA},
		{name: "other namespace", qname: "web.other.svc" + z, qtype: dns.TypeA,
			answer: []string{"web.other.svc.cluster.local. 30 IN A 10.96.5.5"}},
		{name: "Service in the wrong namespace", qname: "web.default.svc" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, soa: negSOA},

		// 2.3.2 ClusterIP SRV for named ports.
		{name: "ClusterIP SRV", qname: "_https._tcp.kubernetes.default.svc" + z, qtype: dns.TypeSRV,
			answer: []string{"_https._tcp.kubernetes.default.svc.cluster.local. 30 IN SRV 0 100 443 kubernetes.default.svc.cluster.local."},
			extra:  []string{"kubernetes.default.svc.cluster.local. 30 IN A 10.96.0.1"}},
		{name: "dual-stack SRV over UDP port", qname: "_dns._udp.dual.default.svc" + z, qtype: dns.TypeSRV,
			answer: []string{"_dns._udp.dual.default.svc.cluster.local. 30 IN SRV 0 100 53 dual.default.svc.cluster.local."},
			extra:  []string{"dual.default.svc.cluster.local. 30 IN A 10.96.0.10", "dual.default.svc.cluster.local. 30 IN AAAA fd00:10:96::a"}},
		{name: "SRV of a port under another protocol", qname: "_dns._tcp.dual.default.svc" + z, qtype: dns.TypeSRV, rcode: dns.RcodeNameError, soa: negSOA},
		{name: "SRV of an unknown port", qname: "_grpc._tcp.dual.default.svc" + z, qtype: dns.TypeSRV, rcode: dns.RcodeNameError, soa: negSOA},
		{name: "SRV name asked for A is NODATA", qname: "_http._tcp.dual.default.svc" + z, qtype: dns.TypeA, soa: negSOA},
		{name: "protocol name is an empty non-terminal", qname: "_tcp.dual.default.svc" + z, qtype: dns.TypeSRV, soa: negSOA},
		{name: "protocol without ports does not exist", qname: "_sctp.dual.default.svc" + z, qtype: dns.TypeSRV, rcode: dns.RcodeNameError, soa: negSOA},
		{name: "SRV without underscores does not exist", qname: "http.tcp.dual.default.svc" + z, qtype: dns.TypeSRV, rcode: dns.RcodeNameError, soa: negSOA},
		{name: "ClusterIP has no hostnames", qname: "web-0.kubernetes.default.svc" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, soa: negSOA},
		{name: "names below an SRV name do not exist", qname: "x._https._tcp.kubernetes.default.svc" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, soa: negSOA},

		// 2.3.3 PTR for cluster IPs, both families.
		{name: "PTR of an IPv4 cluster IP", qname: "1.0.96.10.in-addr.arpa.", qtype: dns.TypePTR,
			answer: []string{"1.0.96.10.in-addr.arpa. 30 IN PTR kubernetes.default.svc.cluster.local."}},
		{name: "PTR of an IPv6 cluster IP", qname: reverse(t, "fd00:10:96::a"), qtype: dns.TypePTR,
			answer: []string{reverse(t, "fd00:10:96::a") + " 30 IN PTR dual.default.svc.cluster.local."}},
		{name: "PTR name asked for A is NODATA", qname: "1.0.96.10.in-addr.arpa.", qtype: dns.TypeA, soa: negSOARev4},
		{name: "PTR of an unknown address", qname: "4.3.2.1.in-addr.arpa.", qtype: dns.TypePTR, rcode: dns.RcodeNameError, soa: negSOARev4},
		{name: "PTR of an unknown IPv6 address", qname: reverse(t, "2001:db8::1"), qtype: dns.TypePTR, rcode: dns.RcodeNameError, soa: negSOARev6},
		{name: "reverse network with cluster IPs exists", qname: "96.10.in-addr.arpa.", qtype: dns.TypePTR, soa: negSOARev4},
		{name: "reverse network without addresses", qname: "97.10.in-addr.arpa.", qtype: dns.TypePTR, rcode: dns.RcodeNameError, soa: negSOARev4},
		{name: "IPv6 reverse network with cluster IPs exists", qname: "0.0.d.f.ip6.arpa.", qtype: dns.TypePTR, soa: negSOARev6},
		{name: "malformed reverse name", qname: "01.0.96.10.in-addr.arpa.", qtype: dns.TypePTR, rcode: dns.RcodeNameError, soa: negSOARev4},
		{name: "too long reverse name", qname: "1.1.0.96.10.in-addr.arpa.", qtype: dns.TypePTR, rcode: dns.RcodeNameError, soa: negSOARev4},
		{name: "reverse zone SOA", qname: "in-addr.arpa.", qtype: dns.TypeSOA,
			answer: []string{"in-addr.arpa. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. SERIAL 7200 1800 86400 30"}},

		// 2.4.1 Headless A/AAAA: ready endpoints only.
		{name: "headless A", qname: "headless.default.svc" + z, qtype: dns.TypeA, answer: []string{
			"headless.default.svc.cluster.local. 30 IN A 10.244.1.1",
			"headless.default.svc.cluster.local. 30 IN A 10.244.2.2",
			"headless.default.svc.cluster.local. 30 IN A 10.244.3.3",
		}},
		{name: "headless AAAA", qname: "headless.default.svc" + z, qtype: dns.TypeAAAA,
			answer: []string{"headless.default.svc.cluster.local. 30 IN AAAA fd00:10:244::1"}},
		{name: "headless hostname A", qname: "web-0.headless.default.svc" + z, qtype: dns.TypeA,
			answer: []string{"web-0.headless.default.svc.cluster.local. 30 IN A 10.244.1.1"}},
		{name: "headless hostname AAAA", qname: "web-0.headless.default.svc" + z, qtype: dns.TypeAAAA,
			answer: []string{"web-0.headless.default.svc.cluster.local. 30 IN AAAA fd00:10:244::1"}},
		{name: "IPv4-only hostname AAAA is NODATA", qname: "web-1.headless.default.svc" + z, qtype: dns.TypeAAAA, soa: negSOA},
		{name: "generated hostname", qname: "10-244-3-3.headless.default.svc" + z, qtype: dns.TypeA,
			answer: []string{"10-244-3-3.headless.default.svc.cluster.local. 30 IN A 10.244.3.3"}},
		{name: "not-ready endpoint's hostname", qname: "web-9.headless.default.svc" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, soa: negSOA},
		{name: "headless without ready endpoints is NXDOMAIN", qname: "notready.default.svc" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, soa: negSOA},
		{name: "headless without endpoints is NXDOMAIN", qname: "empty.default.svc" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, soa: negSOA},
		{name: "publishNotReadyAddresses publishes every endpoint", qname: "publish.default.svc" + z, qtype: dns.TypeA,
			answer: []string{"publish.default.svc.cluster.local. 30 IN A 10.244.5.5"}},
		{name: "publishNotReadyAddresses hostname", qname: "p-0.publish.default.svc" + z, qtype: dns.TypeA,
			answer: []string{"p-0.publish.default.svc.cluster.local. 30 IN A 10.244.5.5"}},

		// 2.4.2 Headless SRV: one per ready endpoint and named port, the
		// endpoint's port, targets' addresses in the additional section.
		{name: "headless SRV", qname: "_http._tcp.headless.default.svc" + z, qtype: dns.TypeSRV, answer: []string{
			"_http._tcp.headless.default.svc.cluster.local. 30 IN SRV 0 100 8080 web-0.headless.default.svc.cluster.local.",
			"_http._tcp.headless.default.svc.cluster.local. 30 IN SRV 0 100 8080 web-1.headless.default.svc.cluster.local.",
			"_http._tcp.headless.default.svc.cluster.local. 30 IN SRV 0 100 8080 10-244-3-3.headless.default.svc.cluster.local.",
		}, extra: []string{
			"web-0.headless.default.svc.cluster.local. 30 IN A 10.244.1.1",
			"web-0.headless.default.svc.cluster.local. 30 IN AAAA fd00:10:244::1",
			"web-1.headless.default.svc.cluster.local. 30 IN A 10.244.2.2",
			"10-244-3-3.headless.default.svc.cluster.local. 30 IN A 10.244.3.3",
		}},
		{name: "headless SRV of another protocol", qname: "_http._udp.headless.default.svc" + z, qtype: dns.TypeSRV, rcode: dns.RcodeNameError, soa: negSOA},
		{name: "headless SRV without ready endpoints", qname: "_http._tcp.notready.default.svc" + z, qtype: dns.TypeSRV, rcode: dns.RcodeNameError, soa: negSOA},

		// 2.4.3 Headless PTR.
		{name: "PTR of an endpoint with a hostname", qname: "1.1.244.10.in-addr.arpa.", qtype: dns.TypePTR,
			answer: []string{"1.1.244.10.in-addr.arpa. 30 IN PTR web-0.headless.default.svc.cluster.local."}},
		{name: "PTR of an IPv6 endpoint", qname: reverse(t, "fd00:10:244::1"), qtype: dns.TypePTR,
			answer: []string{reverse(t, "fd00:10:244::1") + " 30 IN PTR web-0.headless.default.svc.cluster.local."}},
		{name: "PTR of an endpoint without a hostname", qname: "3.3.244.10.in-addr.arpa.", qtype: dns.TypePTR,
			answer: []string{"3.3.244.10.in-addr.arpa. 30 IN PTR 10-244-3-3.headless.default.svc.cluster.local."}},
		{name: "no PTR for a not-ready endpoint", qname: "9.9.244.10.in-addr.arpa.", qtype: dns.TypePTR, rcode: dns.RcodeNameError, soa: negSOARev4},

		// 2.5 ExternalName.
		{name: "ExternalName A", qname: "ext.default.svc" + z, qtype: dns.TypeA,
			answer: []string{"ext.default.svc.cluster.local. 30 IN CNAME www.example.com."}},
		{name: "ExternalName CNAME", qname: "ext.default.svc" + z, qtype: dns.TypeCNAME,
			answer: []string{"ext.default.svc.cluster.local. 30 IN CNAME www.example.com."}},
		{name: "ExternalName SRV", qname: "ext.default.svc" + z, qtype: dns.TypeSRV,
			answer: []string{"ext.default.svc.cluster.local. 30 IN CNAME www.example.com."}},
		{name: "ExternalName into the cluster is followed", qname: "alias.default.svc" + z, qtype: dns.TypeA, answer: []string{
			"alias.default.svc.cluster.local. 30 IN CNAME kubernetes.default.svc.cluster.local.",
			"kubernetes.default.svc.cluster.local. 30 IN A 10.96.0.1",
		}},
		{name: "ExternalName into the cluster, NODATA at the target", qname: "alias.default.svc" + z, qtype: dns.TypeAAAA, soa: negSOA,
			answer: []string{"alias.default.svc.cluster.local. 30 IN CNAME kubernetes.default.svc.cluster.local."}},
		{name: "ExternalName to a missing name in the cluster", qname: "dangling.default.svc" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, soa: negSOA,
			answer: []string{"dangling.default.svc.cluster.local. 30 IN CNAME missing.default.svc.cluster.local."}},
		{name: "ExternalName has no names below", qname: "x.ext.default.svc" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, soa: negSOA},

		// NXDOMAIN versus NODATA for the names in between.
		{name: "missing Service", qname: "nope.default.svc" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, soa: negSOA},
		{name: "namespace with Services is NODATA", qname: "default.svc" + z, qtype: dns.TypeA, soa: negSOA},
		{name: "namespace without Services is NXDOMAIN", qname: "kube-system.svc" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, soa: negSOA},
		{name: "svc is NODATA", qname: "svc" + z, qtype: dns.TypeA, soa: negSOA},
		{name: "zone apex SOA", qname: "cluster.local.", qtype: dns.TypeSOA,
			answer: []string{"cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. SERIAL 7200 1800 86400 30"}},
		{name: "zone apex NS is NODATA", qname: "cluster.local.", qtype: dns.TypeNS, soa: negSOA},
		{name: "unknown name in the zone", qname: "foo" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, soa: negSOA},
		{name: "too deep", qname: "a.b.c.kubernetes.default.svc" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, soa: negSOA},

		// Pod records (dropped from schema 1.1.0, served as an extension).
		{name: "pod A", qname: "10-244-1-1.default.pod" + z, qtype: dns.TypeA,
			answer: []string{"10-244-1-1.default.pod.cluster.local. 30 IN A 10.244.1.1"}},
		{name: "pod AAAA of an IPv4 name is NODATA", qname: "10-244-1-1.default.pod" + z, qtype: dns.TypeAAAA, soa: negSOA},
		{name: "IPv6 pod AAAA", qname: "fd00-10-244--1.default.pod" + z, qtype: dns.TypeAAAA,
			answer: []string{"fd00-10-244--1.default.pod.cluster.local. 30 IN AAAA fd00:10:244::1"}},
		{name: "pod name that is no address", qname: "web.default.pod" + z, qtype: dns.TypeA, rcode: dns.RcodeNameError, soa: negSOA},
		{name: "pod namespace is NODATA", qname: "default.pod" + z, qtype: dns.TypeA, soa: negSOA},

		// Letter case: matched ignoring it, answered as asked.
		{name: "mixed case ClusterIP", qname: "KuBeRnEtEs.Default.SVC.Cluster.Local.", qtype: dns.TypeA,
			answer: []string{"KuBeRnEtEs.Default.SVC.Cluster.Local. 30 IN A 10.96.0.1"}},
		{name: "mixed case SRV", qname: "_HTTPS._Tcp.Kubernetes.DEFAULT.svc.cluster.local.", qtype: dns.TypeSRV,
			answer: []string{"_HTTPS._Tcp.Kubernetes.DEFAULT.svc.cluster.local. 30 IN SRV 0 100 443 kubernetes.default.svc.cluster.local."},
			extra:  []string{"kubernetes.default.svc.cluster.local. 30 IN A 10.96.0.1"}},
		{name: "mixed case NXDOMAIN", qname: "Nope.Default.SVC.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError, soa: negSOA},
		{name: "mixed case hostname", qname: "WEB-0.Headless.default.svc.cluster.local.", qtype: dns.TypeA,
			answer: []string{"WEB-0.Headless.default.svc.cluster.local. 30 IN A 10.244.1.1"}},
		{name: "mixed case IPv6 PTR", qname: strings.ToUpper(reverse(t, "fd00:10:96::a")), qtype: dns.TypePTR,
			answer: []string{strings.ToUpper(reverse(t, "fd00:10:96::a")) + " 30 IN PTR dual.default.svc.cluster.local."}},

		// Outside the served zones.
		{name: "outside the cluster domain", qname: "www.example.com.", qtype: dns.TypeA, rcode: dns.RcodeRefused},
		{name: "parent of the cluster domain", qname: "local.", qtype: dns.TypeSOA, rcode: dns.RcodeRefused},
		{name: "suffix that is not a subdomain", qname: "kubernetes.default.svc.notcluster.local.", qtype: dns.TypeA, rcode: dns.RcodeRefused},
		{name: "zone transfer", qname: "cluster.local.", qtype: dns.TypeAXFR, rcode: dns.RcodeRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i, a := range tc.answer {
				tc.answer[i] = strings.ReplaceAll(a, "SERIAL", fmt.Sprint(h.store.Serial()))
			}
			checkAnswer(t, h, tc)
		})
	}
}

// reverse returns the reverse name of an address.
func reverse(t *testing.T, ip string) string {
	t.Helper()
	r, err := dns.ReverseAddr(ip)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestExternalNameLoopIsBounded(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	r := ask(t, h, "loop1.default.svc.cluster.local.", dns.TypeA)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != maxChase {
		t.Fatalf("answer %v, want NOERROR with %d CNAMEs", r, maxChase)
	}
	for _, rr := range r.Answer {
		if rr.Header().Rrtype != dns.TypeCNAME {
			t.Errorf("record %v, want only CNAMEs", rr)
		}
	}
}

func TestTTLAndZoneFlags(t *testing.T) {
	h, _ := newTestHandler(t, func(c *HandlerConfig) {
		c.Zone = "Corp.Example"
		c.TTL = 5 * time.Second
		c.DisablePodRecords = true
	})
	tests := []answerCase{
		{name: "A with the TTL", qname: "kubernetes.default.svc.corp.example.", qtype: dns.TypeA,
			answer: []string{"kubernetes.default.svc.corp.example. 5 IN A 10.96.0.1"}},
		{name: "default domain is not served", qname: "kubernetes.default.svc.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeRefused},
		{name: "pod records off", qname: "10-244-1-1.default.pod.corp.example.", qtype: dns.TypeA, rcode: dns.RcodeNameError},
		{name: "PTR names the configured domain", qname: "1.0.96.10.in-addr.arpa.", qtype: dns.TypePTR,
			answer: []string{"1.0.96.10.in-addr.arpa. 5 IN PTR kubernetes.default.svc.corp.example."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ask(t, h, tc.qname, tc.qtype)
			if r.Rcode != tc.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
			}
			if got := rrStrings(r.Answer); !slices.Equal(got, tc.answer) {
				t.Errorf("answer %q, want %q", got, tc.answer)
			}
			if r.Rcode == dns.RcodeNameError {
				if len(r.Ns) != 1 || r.Ns[0].(*dns.SOA).Minttl != 5 || r.Ns[0].Header().Ttl != 5 || r.Ns[0].Header().Name != "corp.example." {
					t.Errorf("authority %v, want the SOA of corp.example. with TTL and minimum 5", r.Ns)
				}
			}
		})
	}
}

func TestServfailUntilSynced(t *testing.T) {
	store := NewStore()
	fixture(store)
	synced := false
	h, err := NewHandler(HandlerConfig{}, store, nil, func() bool { return synced }, nil, klog.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		name  string
		qtype uint16
		want  int
	}{
		{"kubernetes.default.svc.cluster.local.", dns.TypeA, dns.RcodeServerFailure},
		{"dns-version.cluster.local.", dns.TypeTXT, dns.RcodeServerFailure},
		{"1.0.96.10.in-addr.arpa.", dns.TypePTR, dns.RcodeServerFailure},
		{"www.example.com.", dns.TypeA, dns.RcodeRefused}, // never ours
	} {
		if r := ask(t, h, q.name, q.qtype); r.Rcode != q.want {
			t.Errorf("before sync: %s %s: rcode %s, want %s", q.name, dns.TypeToString[q.qtype], dns.RcodeToString[r.Rcode], dns.RcodeToString[q.want])
		}
	}
	synced = true
	if r := ask(t, h, "kubernetes.default.svc.cluster.local.", dns.TypeA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Errorf("after sync: %v, want the A record", r)
	}
}

func TestMalformedQueries(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	base := func() *dns.Msg { return newQuery("kubernetes.default.svc.cluster.local.", dns.TypeA) }
	tests := []struct {
		name   string
		msg    func() *dns.Msg
		rcode  int
		noResp bool
	}{
		{name: "no question", msg: func() *dns.Msg { m := base(); m.Question = nil; return m }, rcode: dns.RcodeFormatError},
		{name: "two questions", msg: func() *dns.Msg {
			m := base()
			m.Question = append(m.Question, dns.Question{Name: "dual.default.svc.cluster.local.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
			return m
		}, rcode: dns.RcodeFormatError},
		{name: "two OPT records", msg: func() *dns.Msg {
			m := base()
			m.SetEdns0(1232, false)
			m.SetEdns0(1232, false)
			m.Extra = append(m.Extra, &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}})
			return m
		}, rcode: dns.RcodeFormatError},
		{name: "EDNS version 1", msg: func() *dns.Msg { m := base(); m.SetEdns0(1232, false); m.IsEdns0().SetVersion(1); return m }, rcode: dns.RcodeBadVers},
		{name: "query type OPT", msg: func() *dns.Msg { return newQuery("cluster.local.", dns.TypeOPT) }, rcode: dns.RcodeFormatError},
		{name: "name not fully qualified", msg: func() *dns.Msg {
			m := base()
			m.Question[0].Name = "kubernetes.default"
			return m
		}, rcode: dns.RcodeFormatError},
		{name: "notify", msg: func() *dns.Msg { m := base(); m.Opcode = dns.OpcodeNotify; return m }, rcode: dns.RcodeNotImplemented},
		{name: "update", msg: func() *dns.Msg { m := base(); m.Opcode = dns.OpcodeUpdate; return m }, rcode: dns.RcodeNotImplemented},
		{name: "CHAOS class", msg: func() *dns.Msg { m := base(); m.Question[0].Qclass = dns.ClassCHAOS; return m }, rcode: dns.RcodeRefused},
		{name: "a response", msg: func() *dns.Msg { m := base(); m.Response = true; return m }, noResp: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.msg()
			r := h.Respond(q, false)
			if tc.noResp {
				if r != nil {
					t.Fatalf("answered %v, want no answer", r)
				}
				return
			}
			if r == nil || r.Rcode != tc.rcode || r.Id != q.Id || !r.Response || len(r.Answer) != 0 {
				t.Fatalf("answer %v, want an empty %s", r, dns.RcodeToString[tc.rcode])
			}
			wire, err := r.Pack()
			if err != nil {
				t.Fatalf("answer does not pack: %v", err)
			}
			back := new(dns.Msg)
			if err := back.Unpack(wire); err != nil || back.Rcode != tc.rcode {
				t.Fatalf("answer unpacks to rcode %s (%v), want %s", dns.RcodeToString[back.Rcode], err, dns.RcodeToString[tc.rcode])
			}
		})
	}
}

func TestEDNS(t *testing.T) {
	h, _ := newTestHandler(t, nil)
	t.Run("no OPT without one in the query", func(t *testing.T) {
		if r := ask(t, h, "kubernetes.default.svc.cluster.local.", dns.TypeA); r.IsEdns0() != nil {
			t.Errorf("answer carries OPT %v", r.IsEdns0())
		}
	})
	t.Run("OPT with our size and the DO bit", func(t *testing.T) {
		r := ask(t, h, "kubernetes.default.svc.cluster.local.", dns.TypeA, func(m *dns.Msg) { m.SetEdns0(4096, true) })
		opt := r.IsEdns0()
		if opt == nil || opt.UDPSize() != DefaultMaxUDPSize || !opt.Do() || len(opt.Option) != 0 {
			t.Errorf("OPT %v, want size %d, DO and no options", opt, DefaultMaxUDPSize)
		}
	})
	t.Run("node option is not echoed", func(t *testing.T) {
		r := ask(t, h, "topo.default.svc.cluster.local.", dns.TypeA, fromNode("node-a"))
		if opt := r.IsEdns0(); opt == nil || len(opt.Option) != 0 {
			t.Errorf("OPT %v, want one without options", opt)
		}
	})
}

func TestTruncation(t *testing.T) {
	store := NewStore()
	var eps []ep
	for i := range 200 {
		eps = append(eps, ep{addr: fmt.Sprintf("10.244.%d.%d", i/250, i%250+1)})
	}
	store.Set(headlessService("default", "big"), []*discoveryv1.EndpointSlice{
		slice("default", "big", "big-v4", discoveryv1.AddressTypeIPv4, 80, eps...),
	})
	h, err := NewHandler(HandlerConfig{}, store, nil, nil, nil, klog.Background())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		tcp     bool
		edns    uint16
		wantTC  bool
		maxSize int
	}{
		{"UDP without EDNS", false, 0, true, 512},
		{"UDP with EDNS 1232", false, 1232, true, 1232},
		{"UDP with EDNS 65000 is capped", false, 65000, true, DefaultMaxUDPSize},
		{"TCP", true, 0, false, dns.MaxMsgSize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := newQuery("big.default.svc.cluster.local.", dns.TypeA)
			if tc.edns > 0 {
				q.SetEdns0(tc.edns, false)
			}
			r := h.Respond(q, tc.tcp)
			wire, err := r.Pack()
			if err != nil {
				t.Fatal(err)
			}
			if len(wire) > tc.maxSize {
				t.Errorf("answer of %d bytes, over %d", len(wire), tc.maxSize)
			}
			if r.Truncated != tc.wantTC {
				t.Errorf("TC = %v, want %v", r.Truncated, tc.wantTC)
			}
			if !tc.wantTC && len(r.Answer) != 200 {
				t.Errorf("%d records, want 200", len(r.Answer))
			}
		})
	}
}
