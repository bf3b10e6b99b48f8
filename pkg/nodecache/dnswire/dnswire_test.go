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

package dnswire

import (
	"bytes"
	"errors"
	"testing"

	"github.com/miekg/dns"
)

func pack(t *testing.T, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatalf("packing %v: %v", m, err)
	}
	return b
}

func query(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = 0x1234
	return m
}

func TestParseQuery(t *testing.T) {
	plain := pack(t, query("www.Example.com.", dns.TypeA))
	edns := query("example.com.", dns.TypeAAAA)
	edns.SetEdns0(1232, true)
	edns.CheckingDisabled = true
	ednsWire := pack(t, edns)

	withHeader := func(b []byte, f func(h []byte)) []byte {
		c := append([]byte(nil), b...)
		f(c)
		return c
	}
	pointer := withHeader(plain, func(h []byte) {
		// Replace the name by a pointer to the header.
		h[12], h[13] = 0xc0, 0x00
	})
	longName := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	for range 5 {
		longName = append(longName, 63)
		longName = append(longName, bytes.Repeat([]byte{'a'}, 63)...)
	}
	longName = append(longName, 0, 0, 1, 0, 1)

	twoOPT := query("example.com.", dns.TypeA)
	twoOPT.SetEdns0(1232, false)
	twoOPT.Extra = append(twoOPT.Extra, twoOPT.Extra[0])
	nonRootOPT := query("example.com.", dns.TypeA)
	nonRootOPT.SetEdns0(1232, false)
	nonRootOPT.Extra[0].Header().Name = "x."
	v1 := query("example.com.", dns.TypeA)
	v1.SetEdns0(1232, false)
	v1.IsEdns0().SetVersion(1)
	notify := query("example.com.", dns.TypeSOA)
	notify.Opcode = dns.OpcodeNotify
	withAnswer := query("example.com.", dns.TypeA)
	withAnswer.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "example.com.", Rrtype: dns.TypeA, Class: dns.ClassINET}, A: []byte{1, 2, 3, 4}}}
	optQuestion := query("example.com.", dns.TypeOPT)

	tests := []struct {
		name         string
		msg          []byte
		wantErr      error
		wantQuestion bool
		check        func(t *testing.T, q *Query)
	}{
		{name: "plain", msg: plain, wantQuestion: true, check: func(t *testing.T, q *Query) {
			if q.ID != 0x1234 || !q.RD || q.EDNS || q.Qtype != dns.TypeA || q.Qclass != dns.ClassINET || q.QuestionEnd != len(plain) {
				t.Errorf("unexpected %+v", q)
			}
		}},
		{name: "edns", msg: ednsWire, wantQuestion: true, check: func(t *testing.T, q *Query) {
			if !q.EDNS || q.UDPSize != 1232 || !q.DO || !q.CD || q.Version != 0 {
				t.Errorf("unexpected %+v", q)
			}
		}},
		{name: "edns version 1 parses", msg: pack(t, v1), wantQuestion: true, check: func(t *testing.T, q *Query) {
			if q.Version != 1 {
				t.Errorf("version %d, want 1", q.Version)
			}
		}},
		{name: "trailing garbage tolerated", msg: append(append([]byte(nil), plain...), 1, 2, 3), wantQuestion: true},
		{name: "empty", msg: nil, wantErr: ErrShort},
		{name: "short header", msg: plain[:11], wantErr: ErrShort},
		{name: "response", msg: withHeader(plain, func(h []byte) { h[2] |= 0x80 }), wantErr: ErrNotQuery},
		{name: "notify", msg: pack(t, notify), wantErr: ErrNotImplemented},
		{name: "no question", msg: withHeader(plain[:12], func(h []byte) { h[5] = 0 }), wantErr: ErrFormat},
		{name: "two questions", msg: withHeader(plain, func(h []byte) { h[5] = 2 }), wantErr: ErrFormat},
		{name: "header only", msg: plain[:12], wantErr: ErrFormat},
		{name: "truncated name", msg: plain[:15], wantErr: ErrFormat},
		{name: "missing class", msg: plain[:len(plain)-2], wantErr: ErrFormat},
		{name: "pointer in question", msg: pointer, wantErr: ErrFormat},
		{name: "name longer than 255", msg: longName, wantErr: ErrFormat},
		{name: "answer in query", msg: pack(t, withAnswer), wantErr: ErrFormat, wantQuestion: true},
		{name: "two OPT records", msg: pack(t, twoOPT), wantErr: ErrFormat, wantQuestion: true},
		{name: "OPT not owned by root", msg: pack(t, nonRootOPT), wantErr: ErrFormat, wantQuestion: true},
		{name: "truncated OPT", msg: ednsWire[:len(ednsWire)-3], wantErr: ErrFormat, wantQuestion: true},
		{name: "OPT as question type", msg: pack(t, optQuestion), wantErr: ErrFormat},
		{name: "additional count too high", msg: withHeader(ednsWire, func(h []byte) { h[11] = 9 }), wantErr: ErrFormat, wantQuestion: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q Query
			err := ParseQuery(tt.msg, &q)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("ParseQuery() error = %v, want %v", err, tt.wantErr)
			}
			if q.HasQuestion != tt.wantQuestion {
				t.Errorf("HasQuestion = %v, want %v", q.HasQuestion, tt.wantQuestion)
			}
			if tt.check != nil {
				tt.check(t, &q)
			}
		})
	}
}

func TestAppendKey(t *testing.T) {
	key := func(name string, qtype uint16, do, cd bool) string {
		m := query(name, qtype)
		m.CheckingDisabled = cd
		if do {
			m.SetEdns0(1232, true)
		}
		b := pack(t, m)
		var q Query
		if err := ParseQuery(b, &q); err != nil {
			t.Fatal(err)
		}
		return string(AppendKey(nil, b, &q))
	}
	base := key("www.example.com.", dns.TypeA, false, false)
	tests := []struct {
		name  string
		other string
		equal bool
	}{
		{"letter case ignored", key("WWW.eXample.COM.", dns.TypeA, false, false), true},
		{"type matters", key("www.example.com.", dns.TypeAAAA, false, false), false},
		{"DO matters", key("www.example.com.", dns.TypeA, true, false), false},
		{"CD matters", key("www.example.com.", dns.TypeA, false, true), false},
		{"name matters", key("ww.example.com.", dns.TypeA, false, false), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (base == tt.other) != tt.equal {
				t.Errorf("keys %q and %q: equal = %v, want %v", base, tt.other, !tt.equal, tt.equal)
			}
		})
	}
}

func TestLimitsFor(t *testing.T) {
	tests := []struct {
		name string
		q    Query
		tcp  bool
		want int
	}{
		{"udp without EDNS", Query{}, false, 512},
		{"udp with EDNS", Query{EDNS: true, UDPSize: 1232}, false, 1232},
		{"udp EDNS below 512", Query{EDNS: true, UDPSize: 100}, false, 512},
		{"udp EDNS above our maximum", Query{EDNS: true, UDPSize: 65000}, false, 4096},
		{"tcp", Query{}, true, MaxMsgSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LimitsFor(&tt.q, tt.tcp, 4096); got.Size != tt.want || got.UDPSize != 4096 {
				t.Errorf("LimitsFor() = %+v, want size %d", got, tt.want)
			}
		})
	}
}

func TestAppendError(t *testing.T) {
	edns := query("Example.com.", dns.TypeA)
	edns.SetEdns0(1232, true)
	tests := []struct {
		name       string
		msg        []byte
		rcode      int
		wantRcode  int
		wantQCount int
		wantOPT    bool
	}{
		{"formerr echoes question", pack(t, query("Example.com.", dns.TypeA)), dns.RcodeFormatError, dns.RcodeFormatError, 1, false},
		{"header only", pack(t, query("Example.com.", dns.TypeA))[:12], dns.RcodeFormatError, dns.RcodeFormatError, 0, false},
		{"badvers with OPT", pack(t, edns), dns.RcodeBadVers, dns.RcodeBadVers, 1, true},
		{"servfail with OPT", pack(t, edns), dns.RcodeServerFailure, dns.RcodeServerFailure, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q Query
			_ = ParseQuery(tt.msg, &q)
			if len(tt.msg) == 12 {
				q.HasQuestion = false
			}
			prefix := []byte{9, 9}
			out := AppendError(prefix, tt.msg, &q, tt.rcode, 4096)
			if !bytes.Equal(out[:2], prefix) {
				t.Fatalf("prefix overwritten")
			}
			m := new(dns.Msg)
			if err := m.Unpack(out[2:]); err != nil {
				t.Fatalf("unpacking answer: %v", err)
			}
			if m.Id != 0x1234 || !m.Response || !m.RecursionDesired || m.Rcode != tt.wantRcode || len(m.Question) != tt.wantQCount || (m.IsEdns0() != nil) != tt.wantOPT {
				t.Errorf("unexpected answer %v", m)
			}
			if tt.wantQCount == 1 && m.Question[0].Name != "Example.com." {
				t.Errorf("question name %q, want the query's case", m.Question[0].Name)
			}
		})
	}
}

func rr(t *testing.T, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTemplate(t *testing.T) {
	upstream := new(dns.Msg)
	upstream.SetQuestion("WWW.example.com.", dns.TypeA)
	upstream.Response, upstream.Authoritative = true, true
	upstream.Answer = []dns.RR{
		rr(t, "www.EXAMPLE.com. 300 IN CNAME web.example.net."),
		rr(t, "web.example.net. 60 IN A 192.0.2.1"),
	}
	upstream.SetEdns0(1232, false)
	tmpl, err := NewTemplate(upstream)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.MinTTL() != 60 || tmpl.Records() != 2 {
		t.Fatalf("MinTTL %d records %d, want 60 and 2 (OPT dropped)", tmpl.MinTTL(), tmpl.Records())
	}

	tests := []struct {
		name    string
		qname   string
		edns    bool
		ttl     uint32
		setTTL  bool
		wantTTL uint32
	}{
		{"query case kept", "www.Example.COM.", false, 42, true, 42},
		{"EDNS query gets OPT", "WWW.EXAMPLE.COM.", true, 7, true, 7},
		{"TTLs untouched", "www.example.com.", false, 1, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			qm := query(tt.qname, dns.TypeA)
			qm.Id = 0xbeef
			if tt.edns {
				qm.SetEdns0(4096, true)
			}
			msg := pack(t, qm)
			var q Query
			if err := ParseQuery(msg, &q); err != nil {
				t.Fatal(err)
			}
			out := tmpl.Append(nil, msg, &q, tt.ttl, tt.setTTL, LimitsFor(&q, false, 4096))
			m := new(dns.Msg)
			if err := m.Unpack(out); err != nil {
				t.Fatal(err)
			}
			if m.Id != 0xbeef || m.Authoritative || !m.RecursionAvailable || m.Question[0].Name != tt.qname {
				t.Errorf("header or question wrong: %v", m)
			}
			if got := m.Answer[0].Header().Name; got != tt.qname {
				t.Errorf("answer owner %q, want the query's spelling %q", got, tt.qname)
			}
			for _, a := range m.Answer {
				want := tt.wantTTL
				if !tt.setTTL {
					want = map[uint16]uint32{dns.TypeCNAME: 300, dns.TypeA: 60}[a.Header().Rrtype]
				}
				if a.Header().Ttl != want {
					t.Errorf("TTL of %v = %d, want %d", a, a.Header().Ttl, want)
				}
			}
			if opt := m.IsEdns0(); (opt != nil) != tt.edns || opt != nil && (!opt.Do() || opt.UDPSize() != 4096) {
				t.Errorf("OPT %v, want present=%v with DO and size 4096", opt, tt.edns)
			}
		})
	}
}

func TestTemplateTruncates(t *testing.T) {
	upstream := new(dns.Msg)
	upstream.SetQuestion("big.example.", dns.TypeTXT)
	for i := range 20 {
		upstream.Answer = append(upstream.Answer, &dns.TXT{
			Hdr: dns.RR_Header{Name: "big.example.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 30},
			Txt: []string{string(bytes.Repeat([]byte{'a' + byte(i)}, 100))},
		})
	}
	tmpl, err := NewTemplate(upstream)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		size    uint16 // 0: no EDNS
		tcp     bool
		wantTC  bool
		wantMax int
	}{
		{"no EDNS, 512", 0, false, true, 512},
		{"EDNS 1232", 1232, false, true, 1232},
		{"EDNS 4096 fits", 4096, false, false, 4096},
		{"TCP fits", 0, true, false, MaxMsgSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			qm := query("big.example.", dns.TypeTXT)
			if tt.size > 0 {
				qm.SetEdns0(tt.size, false)
			}
			msg := pack(t, qm)
			var q Query
			if err := ParseQuery(msg, &q); err != nil {
				t.Fatal(err)
			}
			out := tmpl.Append([]byte{0, 0}, msg, &q, 30, true, LimitsFor(&q, tt.tcp, 4096))[2:]
			if len(out) > tt.wantMax {
				t.Errorf("answer is %d bytes, limit %d", len(out), tt.wantMax)
			}
			m := new(dns.Msg)
			if err := m.Unpack(out); err != nil {
				t.Fatal(err)
			}
			if m.Truncated != tt.wantTC {
				t.Errorf("TC = %v, want %v", m.Truncated, tt.wantTC)
			}
			if !tt.wantTC && len(m.Answer) != 20 {
				t.Errorf("%d answers, want 20", len(m.Answer))
			}
			if (m.IsEdns0() != nil) != (tt.size > 0) {
				t.Errorf("OPT present = %v, want %v", m.IsEdns0() != nil, tt.size > 0)
			}
		})
	}
}

func TestMinimal(t *testing.T) {
	qm := query("Example.com.", dns.TypeA)
	qm.SetEdns0(1232, false)
	msg := pack(t, qm)
	var q Query
	if err := ParseQuery(msg, &q); err != nil {
		t.Fatal(err)
	}
	resp := AppendError([]byte{7}, msg, &q, dns.RcodeSuccess, 1232)
	resp = append(resp[:len(resp)-11], append([]byte{0xde, 0xad}, resp[len(resp)-11:]...)...) // junk before OPT
	out := minimal(resp, 1)
	m := new(dns.Msg)
	if err := m.Unpack(out[1:]); err != nil {
		t.Fatal(err)
	}
	if !m.Truncated || len(m.Question) != 1 || m.IsEdns0() == nil || len(m.Answer) != 0 {
		t.Errorf("unexpected minimal answer %v", m)
	}
}

func FuzzParseQuery(f *testing.F) {
	f.Add([]byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var q Query
		err := ParseQuery(b, &q)
		if err == nil {
			out := AppendError(nil, b, &q, dns.RcodeServerFailure, 1232)
			if err := new(dns.Msg).Unpack(out); err != nil {
				t.Fatalf("error answer does not unpack: %v", err)
			}
			_ = AppendKey(nil, b, &q)
			_, _ = q.Question(b)
		}
	})
}
