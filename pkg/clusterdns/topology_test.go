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
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/klog/v2"

	nodecache "signet.dev/signet/pkg/nodecache/server"
)

// The option cluster-dns reads is the one node-cache sends.
func TestNodeNameOptionMatchesNodeCache(t *testing.T) {
	if NodeNameOption != nodecache.DefaultNodeNameOption {
		t.Fatalf("cluster-dns reads EDNS0 option %d, node-cache sends %d", NodeNameOption, nodecache.DefaultNodeNameOption)
	}
}

func TestTopology(t *testing.T) {
	const (
		topo    = "topo.default.svc.cluster.local."
		topoAny = "topo-any.default.svc.cluster.local."
		topoBad = "topo-invalid.default.svc.cluster.local."
		srv     = "_http._tcp.topo.default.svc.cluster.local."
	)
	a := func(owner, ip string) string { return owner + " 30 IN A " + ip }
	aaaa := func(owner, ip string) string { return owner + " 30 IN AAAA " + ip }
	srvTo := func(host string) string {
		return srv + " 30 IN SRV 0 100 80 " + host + ".topo.default.svc.cluster.local."
	}
	extra := func(host, ip string) string { return a(host+".topo.default.svc.cluster.local.", ip) }

	// topo:      keys hostname, zone. Endpoints t-a (node-a, zone-a),
	//            t-b (node-b, zone-b, both families), t-c (node-c, zone-a).
	// topo-any:  keys hostname, *. Endpoints on node-a and node-b.
	// node-d is in zone-a and runs nothing; node-e is alone in zone-c.
	tests := []answerCase{
		{name: "same node", qname: topo, qtype: dns.TypeA, opts: []queryOpt{fromNode("node-a")},
			answer: []string{a(topo, "10.244.10.1")}},
		{name: "same node, per family: no IPv6 endpoint on node-a or in zone-a", qname: topo, qtype: dns.TypeAAAA, opts: []queryOpt{fromNode("node-a")}, soa: negSOA},
		{name: "same node, IPv6", qname: topo, qtype: dns.TypeAAAA, opts: []queryOpt{fromNode("node-b")},
			answer: []string{aaaa(topo, "fd00:10:244::10:2")}},
		{name: "fallback to the zone", qname: topo, qtype: dns.TypeA, opts: []queryOpt{fromNode("node-d")},
			answer: []string{a(topo, "10.244.10.1"), a(topo, "10.244.10.3")}},
		{name: "no key matches: no endpoint for this node", qname: topo, qtype: dns.TypeA, opts: []queryOpt{fromNode("node-e")}, soa: negSOA},
		{name: "unknown node has no labels", qname: topo, qtype: dns.TypeA, opts: []queryOpt{fromNode("node-unknown")}, soa: negSOA},
		{name: "no option: every endpoint", qname: topo, qtype: dns.TypeA,
			answer: []string{a(topo, "10.244.10.1"), a(topo, "10.244.10.2"), a(topo, "10.244.10.3")}},
		{name: "invalid node name counts as no option", qname: topo, qtype: dns.TypeA, opts: []queryOpt{fromNode("Not_A_Node!")},
			answer: []string{a(topo, "10.244.10.1"), a(topo, "10.244.10.2"), a(topo, "10.244.10.3")}},
		{name: "star after the node key: local endpoint", qname: topoAny, qtype: dns.TypeA, opts: []queryOpt{fromNode("node-a")},
			answer: []string{a(topoAny, "10.244.11.1")}},
		{name: "star: every endpoint when nothing is local", qname: topoAny, qtype: dns.TypeA, opts: []queryOpt{fromNode("node-d")},
			answer: []string{a(topoAny, "10.244.11.1"), a(topoAny, "10.244.11.2")}},
		{name: "star matches an unknown node", qname: topoAny, qtype: dns.TypeA, opts: []queryOpt{fromNode("node-unknown")},
			answer: []string{a(topoAny, "10.244.11.1"), a(topoAny, "10.244.11.2")}},
		{name: "invalid keys turn topology off, as in kube-proxy", qname: topoBad, qtype: dns.TypeA, opts: []queryOpt{fromNode("node-a")},
			answer: []string{a(topoBad, "10.244.12.1"), a(topoBad, "10.244.12.2")}},
		{name: "no keys: the node does not matter", qname: "headless.default.svc.cluster.local.", qtype: dns.TypeAAAA, opts: []queryOpt{fromNode("node-b")},
			answer: []string{aaaa("headless.default.svc.cluster.local.", "fd00:10:244::1")}},
		{name: "SRV follows topology", qname: srv, qtype: dns.TypeSRV, opts: []queryOpt{fromNode("node-d")},
			answer: []string{srvTo("t-a"), srvTo("t-c")},
			extra:  []string{extra("t-a", "10.244.10.1"), extra("t-c", "10.244.10.3")}},
		{name: "SRV of both families on one node", qname: srv, qtype: dns.TypeSRV, opts: []queryOpt{fromNode("node-b")},
			answer: []string{srvTo("t-b")},
			extra:  []string{extra("t-b", "10.244.10.2"), aaaa("t-b.topo.default.svc.cluster.local.", "fd00:10:244::10:2")}},
		{name: "SRV without an endpoint for the node is NODATA", qname: srv, qtype: dns.TypeSRV, opts: []queryOpt{fromNode("node-e")}, soa: negSOA},
		{name: "hostnames ignore topology", qname: "t-b.topo.default.svc.cluster.local.", qtype: dns.TypeA, opts: []queryOpt{fromNode("node-a")},
			answer: []string{a("t-b.topo.default.svc.cluster.local.", "10.244.10.2")}},
		{name: "ClusterIP Services ignore the option", qname: "kubernetes.default.svc.cluster.local.", qtype: dns.TypeA, opts: []queryOpt{fromNode("node-e")},
			answer: []string{a("kubernetes.default.svc.cluster.local.", "10.96.0.1")}},
	}
	h, _ := newTestHandler(t, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkAnswer(t, h, tc) })
	}
}

func TestTopologyMetrics(t *testing.T) {
	store := NewStore()
	fixture(store)
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg, store)
	h, err := NewHandler(HandlerConfig{}, store, testNodeLabels, nil, m, klog.Background())
	if err != nil {
		t.Fatal(err)
	}
	queries := []struct {
		name string
		node string
	}{
		{"topo.default.svc.cluster.local.", "node-a"},          // filtered, known
		{"topo.default.svc.cluster.local.", "node-d"},          // filtered (zone), known
		{"topo.default.svc.cluster.local.", "node-e"},          // none, known
		{"topo.default.svc.cluster.local.", "ghost"},           // none, unknown
		{"topo-any.default.svc.cluster.local.", "node-d"},      // all, known
		{"topo.default.svc.cluster.local.", ""},                // no_node
		{"topo.default.svc.cluster.local.", "Bad_Name"},        // no_node, invalid
		{"headless.default.svc.cluster.local.", "node-a"},      // no keys: not counted
		{"kubernetes.default.svc.cluster.local.", "Also_Bad!"}, // invalid
	}
	for _, q := range queries {
		var opts []queryOpt
		if q.node != "" {
			opts = append(opts, fromNode(q.node))
		}
		ask(t, h, q.name, dns.TypeA, opts...)
	}
	for _, c := range []struct {
		vec    *prometheus.CounterVec
		label  string
		expect float64
	}{
		{m.topologies, topologyFiltered, 2},
		{m.topologies, topologyNone, 2},
		{m.topologies, topologyAll, 1},
		{m.topologies, topologyNoNode, 2},
		{m.nodeOptions, nodeOptionKnown, 4},
		{m.nodeOptions, nodeOptionUnknown, 1},
		{m.nodeOptions, nodeOptionInvalid, 2},
	} {
		if got := testutil.ToFloat64(c.vec.WithLabelValues(c.label)); got != c.expect {
			t.Errorf("%s = %v, want %v", c.label, got, c.expect)
		}
	}
	if n := testutil.CollectAndCount(reg, "cluster_dns_services", "cluster_dns_headless_endpoints"); n != 2 {
		t.Errorf("%d store gauges, want 2", n)
	}
	if got := testutil.ToFloat64(prometheus.Collector(m.requests.WithLabelValues(protoUDP, "A"))); got != 0 {
		t.Errorf("Respond counted requests (%v); only ServeDNS does", got)
	}
}
