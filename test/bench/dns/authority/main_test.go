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

package main

import (
	"net"
	"testing"

	"github.com/miekg/dns"
)

func TestAnswer(t *testing.T) {
	a := newAuthority("cluster.local", 1000, 30)
	tests := []struct {
		name      string
		qname     string
		qtype     uint16
		wantRcode int
		wantA     net.IP // the one A record expected, if any
		wantSOA   bool   // an SOA in the authority section
	}{
		{name: "first service", qname: "svc-0.ns.svc.cluster.local.", qtype: dns.TypeA, wantA: net.IPv4(10, 0, 0, 0)},
		{name: "last service, mixed case", qname: "SVC-999.Ns.svc.cluster.local.", qtype: dns.TypeA, wantA: net.IPv4(10, 0, 3, 231)},
		{name: "beyond --services", qname: "svc-1000.ns.svc.cluster.local.", qtype: dns.TypeA, wantRcode: dns.RcodeNameError, wantSOA: true},
		{name: "leading zero", qname: "svc-01.ns.svc.cluster.local.", qtype: dns.TypeA, wantRcode: dns.RcodeNameError, wantSOA: true},
		{name: "sign", qname: "svc-+1.ns.svc.cluster.local.", qtype: dns.TypeA, wantRcode: dns.RcodeNameError, wantSOA: true},
		{name: "other name in zone", qname: "nx-4.ns.svc.cluster.local.", qtype: dns.TypeA, wantRcode: dns.RcodeNameError, wantSOA: true},
		{name: "NODATA", qname: "svc-1.ns.svc.cluster.local.", qtype: dns.TypeAAAA, wantSOA: true},
		{name: "apex SOA", qname: "cluster.local.", qtype: dns.TypeSOA},
		{name: "outside the zone", qname: "example.com.", qtype: dns.TypeA, wantRcode: dns.RcodeRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := new(dns.Msg).SetQuestion(tc.qname, tc.qtype)
			m := a.answer(req)
			if m.Rcode != tc.wantRcode {
				t.Fatalf("rcode %s, want %s", dns.RcodeToString[m.Rcode], dns.RcodeToString[tc.wantRcode])
			}
			if m.Id != req.Id || !m.Response {
				t.Errorf("not a response to the query: id %d (want %d), QR %v", m.Id, req.Id, m.Response)
			}
			if tc.wantA != nil {
				if len(m.Answer) != 1 {
					t.Fatalf("answer %v, want one A record", m.Answer)
				}
				rr, ok := m.Answer[0].(*dns.A)
				if !ok || !rr.A.Equal(tc.wantA) || rr.Hdr.Ttl != 30 || rr.Hdr.Name != tc.qname {
					t.Errorf("answer %v, want %s 30 IN A %s", m.Answer[0], tc.qname, tc.wantA)
				}
			}
			if gotSOA := len(m.Ns) == 1 && m.Ns[0].Header().Rrtype == dns.TypeSOA; gotSOA != tc.wantSOA {
				t.Errorf("authority section %v, want SOA: %v", m.Ns, tc.wantSOA)
			}
		})
	}
}
