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

package server

import (
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"signet.dev/signet/pkg/nodecache/dnswire"
)

// typeLabels are the query types counted under their own label; the rest are
// counted as "other".
var typeLabels = []uint16{
	dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeMX, dns.TypeNS, dns.TypePTR,
	dns.TypeSOA, dns.TypeSRV, dns.TypeTXT, dns.TypeHTTPS, dns.TypeSVCB, dns.TypeANY,
	dns.TypeDS, dns.TypeDNSKEY, dns.TypeCAA, dns.TypeHINFO,
}

const (
	dropMalformed = iota
	dropResponse
)

// maxRcode bounds the response codes with their own counter.
const maxRcode = 24

type metrics struct {
	requests    [2][]prometheus.Counter // [protocol][index in typeLabels, then other]
	rcodes      [maxRcode]prometheus.Counter
	otherRcode  prometheus.Counter
	dropped     [2]prometheus.Counter
	overload    prometheus.Counter
	tcpRejected prometheus.Counter

	requestsVec  *prometheus.CounterVec
	responsesVec *prometheus.CounterVec
	droppedVec   *prometheus.CounterVec
	tcpConns     prometheus.GaugeFunc
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		requestsVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "node_cache_requests_total",
			Help: "DNS queries received, by transport and query type.",
		}, []string{"proto", "type"}),
		responsesVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "node_cache_responses_total",
			Help: "DNS answers sent, by response code.",
		}, []string{"rcode"}),
		droppedVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "node_cache_requests_dropped_total",
			Help: "Messages dropped unanswered: shorter than a header, or responses.",
		}, []string{"reason"}),
		overload: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "node_cache_requests_overload_total",
			Help: "Cache misses refused because the maximum of queries in flight was reached.",
		}),
		tcpRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "node_cache_tcp_connections_rejected_total",
			Help: "Client TCP connections closed on accept because the maximum was reached.",
		}),
		tcpConns: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "node_cache_tcp_connections",
			Help: "Open client TCP connections.",
		}, func() float64 {
			s.mu.Lock()
			defer s.mu.Unlock()
			return float64(len(s.tcpConns))
		}),
	}
	for p, proto := range []protocol{protoUDP, protoTCP} {
		for _, t := range typeLabels {
			m.requests[p] = append(m.requests[p], m.requestsVec.WithLabelValues(proto.String(), dns.TypeToString[t]))
		}
		m.requests[p] = append(m.requests[p], m.requestsVec.WithLabelValues(proto.String(), "other"))
	}
	for r := range m.rcodes {
		label, ok := dns.RcodeToString[r]
		switch {
		case r == dns.RcodeBadVers:
			label = "BADVERS" // shares code 16 with BADSIG, which needs TSIG
		case !ok:
			label = "other"
		}
		m.rcodes[r] = m.responsesVec.WithLabelValues(label)
	}
	m.otherRcode = m.responsesVec.WithLabelValues("other")
	m.dropped[dropMalformed] = m.droppedVec.WithLabelValues("malformed")
	m.dropped[dropResponse] = m.droppedVec.WithLabelValues("response")
	return m
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requestsVec, m.responsesVec, m.droppedVec, m.overload, m.tcpRejected, m.tcpConns}
}

func (m *metrics) request(p protocol, q *dnswire.Query) {
	i := len(typeLabels)
	if q.HasQuestion {
		for j, t := range typeLabels {
			if t == q.Qtype {
				i = j
				break
			}
		}
	}
	m.requests[p][i].Inc()
}

func (m *metrics) rcode(r int) {
	if r >= 0 && r < maxRcode {
		m.rcodes[r].Inc()
		return
	}
	m.otherRcode.Inc()
}

// response counts the response code in the header of resp.
func (m *metrics) response(resp []byte) {
	if r := dnswire.Rcode(resp); r >= 0 {
		m.rcode(r)
	}
}
