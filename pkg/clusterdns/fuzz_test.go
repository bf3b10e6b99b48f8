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
)

// FuzzRespond feeds arbitrary messages to the query path, as the server
// hands them over once they parse, over UDP and TCP, and checks that the
// handler never panics and that every answer is well formed: a response to
// the same ID and question, that packs and parses again, within the size
// the transport allows. The seed corpus is in testdata/fuzz/FuzzRespond.
func FuzzRespond(f *testing.F) {
	h, _ := newTestHandler(f, nil)
	f.Fuzz(func(t *testing.T, wire []byte) {
		q := new(dns.Msg)
		if err := q.Unpack(wire); err != nil {
			return // the server answers FORMERR or drops it; the handler never sees it
		}
		for _, tcp := range []bool{false, true} {
			r := h.Respond(q, tcp)
			if q.Response {
				if r != nil {
					t.Fatalf("answered a response: %v", r)
				}
				continue
			}
			if r == nil {
				t.Fatalf("no answer to a query: %v", q)
			}
			if !r.Response || r.Id != q.Id || r.Opcode != q.Opcode {
				t.Fatalf("answer header %+v does not match the query %+v", r.MsgHdr, q.MsgHdr)
			}
			if len(r.Question) > 1 || len(r.Question) == 1 && (len(q.Question) != 1 || r.Question[0] != q.Question[0]) {
				t.Fatalf("answer question %v, query question %v", r.Question, q.Question)
			}
			out, err := r.Pack()
			if err != nil {
				t.Fatalf("answer does not pack: %v\n%v", err, r)
			}
			limit := dns.MaxMsgSize
			if !tcp {
				limit = DefaultMaxUDPSize
			}
			if len(out) > limit {
				t.Fatalf("answer of %d bytes over %s, limit %d", len(out), map[bool]string{true: "TCP", false: "UDP"}[tcp], limit)
			}
			back := new(dns.Msg)
			if err := back.Unpack(out); err != nil {
				t.Fatalf("answer does not parse: %v", err)
			}
			if back.Rcode != r.Rcode {
				t.Fatalf("rcode %d packed as %d", r.Rcode, back.Rcode)
			}
		}
	})
}
