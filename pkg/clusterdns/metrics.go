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
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// Transports, the values of the proto label.
const (
	protoUDP = "udp"
	protoTCP = "tcp"
)

// Reasons a message is dropped unanswered, the values of the reason label
// of cluster_dns_requests_dropped_total.
const (
	dropMalformed = "malformed" // shorter than a header or not parseable
	dropResponse  = "response"  // a response, not a query
)

// countedTypes are the query types counted under their own label; the rest
// are counted as "other", which keeps the label bounded. Read only.
var countedTypes = map[uint16]bool{
	dns.TypeA: true, dns.TypeAAAA: true, dns.TypeCNAME: true, dns.TypeMX: true, dns.TypeNS: true,
	dns.TypePTR: true, dns.TypeSOA: true, dns.TypeSRV: true, dns.TypeTXT: true, dns.TypeHTTPS: true,
	dns.TypeSVCB: true, dns.TypeANY: true, dns.TypeAXFR: true, dns.TypeIXFR: true, dns.TypeHINFO: true,
}

func typeLabel(t uint16) string {
	if countedTypes[t] {
		return dns.TypeToString[t]
	}
	return "other"
}

func rcodeLabel(rcode int) string {
	if rcode == dns.RcodeBadVers {
		return "BADVERS" // shares code 16 with BADSIG, which needs TSIG
	}
	if l, ok := dns.RcodeToString[rcode]; ok {
		return l
	}
	return "other"
}

// Metrics are cluster-dns' Prometheus metrics, named cluster_dns_*.
type Metrics struct {
	requests    *prometheus.CounterVec
	responses   *prometheus.CounterVec
	durations   *prometheus.HistogramVec
	drops       *prometheus.CounterVec
	topologies  *prometheus.CounterVec
	nodeOptions *prometheus.CounterVec
	tcpRejected prometheus.Counter
}

// NewMetrics creates the metrics and registers them with reg, with gauges
// of store's size when store is not nil. A nil reg registers nothing.
func NewMetrics(reg prometheus.Registerer, store *Store) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cluster_dns_requests_total",
			Help: "DNS queries received, by transport (udp, tcp) and query type (other for uncommon types).",
		}, []string{"proto", "type"}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cluster_dns_responses_total",
			Help: "DNS answers sent, by response code (NOERROR, NXDOMAIN, SERVFAIL, REFUSED, FORMERR, ...).",
		}, []string{"rcode"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cluster_dns_request_duration_seconds",
			Help:    "Time from receiving a query to having its answer ready to write, by transport.",
			Buckets: []float64{0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05},
		}, []string{"proto"}),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cluster_dns_requests_dropped_total",
			Help: "Messages dropped unanswered, by reason: malformed (no full header) or response.",
		}, []string{"reason"}),
		topologies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cluster_dns_topology_answers_total",
			Help: "Answers for headless Services with topology keys, by result: filtered (a node label key chose the endpoints), all (\"*\" chose every endpoint), none (no key matched: no endpoint for that node) or no_node (the query carried no node name: every endpoint).",
		}, []string{"result"}),
		nodeOptions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cluster_dns_node_option_total",
			Help: "Node names received in EDNS0 option 65001 and used for topology, by result: known (a Node of that name exists), unknown_node (no such Node: only \"*\" matches) or invalid (not a node name: ignored).",
		}, []string{"result"}),
		tcpRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cluster_dns_tcp_connections_rejected_total",
			Help: "TCP connections closed on accept because the maximum was reached.",
		}),
	}
	for _, r := range []string{topologyFiltered, topologyAll, topologyNone, topologyNoNode} {
		m.topologies.WithLabelValues(r)
	}
	for _, r := range []string{nodeOptionKnown, nodeOptionUnknown, nodeOptionInvalid} {
		m.nodeOptions.WithLabelValues(r)
	}
	for _, r := range []string{dropMalformed, dropResponse} {
		m.drops.WithLabelValues(r)
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.requests, m.responses, m.durations, m.drops, m.topologies, m.nodeOptions, m.tcpRejected)
	if store != nil {
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "cluster_dns_services",
				Help: "Services with DNS records.",
			}, func() float64 { n, _ := store.Counts(); return float64(n) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "cluster_dns_headless_endpoints",
				Help: "Addresses published for headless Services (ready endpoints, or all with publishNotReadyAddresses).",
			}, func() float64 { _, n := store.Counts(); return float64(n) }),
		)
	}
	return m
}

func (m *Metrics) request(proto string, qtype uint16) {
	m.requests.WithLabelValues(proto, typeLabel(qtype)).Inc()
}

func (m *Metrics) response(rcode int) { m.responses.WithLabelValues(rcodeLabel(rcode)).Inc() }

func (m *Metrics) duration(proto string, d time.Duration) {
	m.durations.WithLabelValues(proto).Observe(d.Seconds())
}

func (m *Metrics) dropped(reason string) { m.drops.WithLabelValues(reason).Inc() }

func (m *Metrics) topology(result string) { m.topologies.WithLabelValues(result).Inc() }

func (m *Metrics) nodeOption(result string) { m.nodeOptions.WithLabelValues(result).Inc() }
