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
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	testingclock "k8s.io/utils/clock/testing"

	"signet.dev/signet/pkg/nodecache/cache"
	"signet.dev/signet/pkg/nodecache/dnswire"
	"signet.dev/signet/pkg/nodecache/forward"
	"signet.dev/signet/pkg/nodecache/internal/dnstest"
)

// clusterHandler plays cluster DNS: an A record for every name under
// cluster.local, many for big.cluster.local, PTRs, and NXDOMAIN with an SOA
// for nx.cluster.local.
func clusterHandler(w dns.ResponseWriter, r *dns.Msg) {
	q := r.Question[0]
	soa := "cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5"
	var m *dns.Msg
	switch {
	case strings.EqualFold(q.Name, "nx.cluster.local."):
		m = dnstest.Reply(r, dns.RcodeNameError, soa)
	case strings.EqualFold(q.Name, "big.cluster.local."):
		m = dnstest.Reply(r, dns.RcodeSuccess)
		for i := range 100 {
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 30},
				A:   net.IPv4(10, 0, byte(i/250), byte(i%250+1)),
			})
		}
	case q.Qtype == dns.TypePTR:
		m = dnstest.Reply(r, dns.RcodeSuccess, q.Name+" 30 IN PTR kubernetes.default.svc.cluster.local.")
	case q.Qtype == dns.TypeA:
		m = dnstest.Reply(r, dns.RcodeSuccess, q.Name+" 30 IN A 10.96.0.1")
	default:
		m = dnstest.Reply(r, dns.RcodeSuccess, soa)
	}
	_ = w.WriteMsg(m)
}

// fixedA answers A queries with ip, and NODATA otherwise.
func fixedA(ip string) dns.HandlerFunc {
	return func(w dns.ResponseWriter, r *dns.Msg) {
		q := r.Question[0]
		if q.Qtype != dns.TypeA {
			_ = w.WriteMsg(dnstest.Reply(r, dns.RcodeSuccess, ". 30 IN SOA a.root. b.root. 1 2 3 4 5"))
			return
		}
		_ = w.WriteMsg(dnstest.Reply(r, dns.RcodeSuccess, q.Name+" 60 IN A "+ip))
	}
}

type env struct {
	cluster, dflt, stub *dnstest.Upstream
	srv                 *Server
	addr                string
	reg                 *prometheus.Registry
}

func newEnv(t testing.TB, mutate func(*Config), opts ...Option) *env {
	t.Helper()
	e := &env{
		cluster: dnstest.Start(t, dnstest.Options{TCPOnly: true, MaxTCPQueries: -1}, clusterHandler),
		dflt:    dnstest.Start(t, dnstest.Options{}, fixedA("192.0.2.53")),
		stub:    dnstest.Start(t, dnstest.Options{}, fixedA("192.0.2.99")),
		reg:     prometheus.NewPedanticRegistry(),
	}
	cfg := Config{
		ListenAddrs:     []string{"127.0.0.1:0"},
		ClusterDNS:      []string{e.cluster.Addr},
		UpstreamServers: []string{e.dflt.Addr},
		StubDomains:     map[string][]string{"acme.test": {e.stub.Addr}},
		NodeName:        "node-1",
		UDPReaders:      2,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	e.start(t, cfg, opts...)
	return e
}

func (e *env) start(t testing.TB, cfg Config, opts ...Option) {
	t.Helper()
	srv, err := New(cfg, e.reg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown() = %v", err)
		}
	})
	e.srv, e.addr = srv, srv.Addrs()[0]
}

// exchange sends m to addr over network and returns the answer.
func exchange(t *testing.T, network, addr string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	if opt := m.IsEdns0(); opt != nil {
		c.UDPSize = opt.UDPSize()
	}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s query %v: %v", network, m.Question, err)
	}
	if r.Id != m.Id {
		t.Fatalf("answer ID %d, want %d", r.Id, m.Id)
	}
	return r
}

// rawExchange sends the query msg over network and returns the answer's bytes.
func rawExchange(t *testing.T, network, addr string, msg []byte) []byte {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if network == "tcp" {
		msg = append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...)
	}
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	if network == "tcp" {
		var hdr [2]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, binary.BigEndian.Uint16(hdr[:]))
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := make([]byte, 65535)
	n, err := c.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	return b[:n]
}

func newQuery(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

func TestRouting(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name     string
		qname    string
		qtype    uint16
		via      string // client transport
		upstream *dnstest.Upstream
		network  string // transport to the upstream
	}{
		{"cluster service over UDP", "kubernetes.default.svc.cluster.local.", dns.TypeA, "udp", e.cluster, "tcp"},
		{"cluster service over TCP", "db.prod.svc.cluster.local.", dns.TypeA, "tcp", e.cluster, "tcp"},
		{"cluster domain, other case", "Web.Prod.SVC.Cluster.Local.", dns.TypeA, "udp", e.cluster, "tcp"},
		{"IPv4 reverse zone", "1.0.96.10.in-addr.arpa.", dns.TypePTR, "udp", e.cluster, "tcp"},
		{"IPv6 reverse zone", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", dns.TypePTR, "udp", e.cluster, "tcp"},
		{"external name", "www.example.com.", dns.TypeA, "udp", e.dflt, "udp"},
		{"external name over TCP", "api.example.org.", dns.TypeA, "tcp", e.dflt, "udp"},
		{"stub domain", "db.acme.test.", dns.TypeA, "udp", e.stub, "udp"},
		{"suffix lookalike is external", "cluster.local.example.com.", dns.TypeA, "udp", e.dflt, "udp"},
	}
	all := []*dnstest.Upstream{e.cluster, e.dflt, e.stub}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := exchange(t, tt.via, e.addr, newQuery(tt.qname, tt.qtype))
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Question[0].Name != tt.qname {
				t.Fatalf("answer %v", r)
			}
			for _, u := range all {
				got := u.Queries(tt.qname)
				want := 0
				if u == tt.upstream {
					want = 1
				}
				if len(got) != want {
					t.Fatalf("upstream %s got %d queries, want %d", u.Addr, len(got), want)
				}
				if want == 1 && got[0].Network != tt.network {
					t.Errorf("upstream asked over %s, want %s", got[0].Network, tt.network)
				}
			}
			// The second query is a cache hit.
			exchange(t, tt.via, e.addr, newQuery(tt.qname, tt.qtype))
			if got := len(tt.upstream.Queries(tt.qname)); got != 1 {
				t.Errorf("upstream got %d queries after a repeat, want 1 (cached)", got)
			}
		})
	}
	if n := e.cluster.Count("udp"); n != 0 {
		t.Errorf("cluster DNS got %d UDP queries, want none", n)
	}
	if n := e.cluster.Accepted(); n < 1 || n > 4 {
		t.Errorf("cluster DNS accepted %d TCP connections, want them reused (1 to MaxConnsPerUpstream)", n)
	}
}

func TestNodeNameTag(t *testing.T) {
	e := newEnv(t, nil)
	// A client's own tag, true or forged, never passes through: queries
	// upstream are built afresh, and only the cluster group adds the tag.
	forged := func(name string) *dns.Msg {
		m := newQuery(name, dns.TypeA)
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_LOCAL{Code: DefaultNodeNameOption, Data: []byte("forged")})
		return m
	}
	exchange(t, "udp", e.addr, newQuery("tagged.default.svc.cluster.local.", dns.TypeA))
	exchange(t, "udp", e.addr, newQuery("untagged.example.com.", dns.TypeA))
	exchange(t, "udp", e.addr, forged("forged.default.svc.cluster.local."))
	exchange(t, "udp", e.addr, forged("forged.example.com."))
	exchange(t, "udp", e.addr, forged("stub.acme.test."))
	exchange(t, "tcp", e.addr, newQuery("10.in-addr.arpa.", dns.TypeSOA))

	tag := func(m *dns.Msg) string {
		if opt := m.IsEdns0(); opt != nil {
			for _, o := range opt.Option {
				if l, ok := o.(*dns.EDNS0_LOCAL); ok && l.Code == DefaultNodeNameOption {
					return string(l.Data)
				}
			}
		}
		return ""
	}
	if got := tag(e.cluster.Queries("tagged.default.svc.cluster.local.")[0].Msg); got != "node-1" {
		t.Errorf("cluster query tag %q, want node-1", got)
	}
	if got := tag(e.dflt.Queries("untagged.example.com.")[0].Msg); got != "" {
		t.Errorf("external query tagged %q; the node name must not leave the cluster", got)
	}
	if got := tag(e.cluster.Queries("forged.default.svc.cluster.local.")[0].Msg); got != "node-1" {
		t.Errorf("cluster query with a client's tag carries %q, want node-1", got)
	}
	if got := tag(e.cluster.Queries("10.in-addr.arpa.")[0].Msg); got != "node-1" {
		t.Errorf("reverse query to cluster DNS tagged %q, want node-1", got)
	}
	if got := tag(e.dflt.Queries("forged.example.com.")[0].Msg); got != "" {
		t.Errorf("external query carries the client's tag %q", got)
	}
	if got := tag(e.stub.Queries("stub.acme.test.")[0].Msg); got != "" {
		t.Errorf("stub domain query tagged %q; the node name must not leave the cluster", got)
	}
}

func TestNegativeAnswerCached(t *testing.T) {
	e := newEnv(t, nil)
	for range 3 {
		r := exchange(t, "udp", e.addr, newQuery("nx.cluster.local.", dns.TypeA))
		if r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 {
			t.Fatalf("answer %v, want NXDOMAIN with SOA", r)
		}
	}
	if got := len(e.cluster.Queries("nx.cluster.local.")); got != 1 {
		t.Errorf("cluster DNS asked %d times, want 1", got)
	}
}

func TestEDNSSizeAndTruncation(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name    string
		network string
		edns    uint16 // 0: no OPT
		wantTC  bool
		maxLen  int
	}{
		{"UDP without EDNS gets 512", "udp", 0, true, 512},
		{"UDP EDNS 1232", "udp", 1232, true, 1232},
		{"UDP EDNS below 512 gets 512", "udp", 300, true, 512},
		{"UDP EDNS 4096 fits", "udp", 4096, false, 4096},
		{"TCP fits", "tcp", 0, false, 65535},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newQuery("big.cluster.local.", dns.TypeA)
			if tt.edns > 0 {
				m.SetEdns0(tt.edns, false)
			}
			wire := rawExchange(t, tt.network, e.addr, packQuery(t, m))
			if len(wire) > tt.maxLen {
				t.Errorf("answer is %d bytes, over %d", len(wire), tt.maxLen)
			}
			r := new(dns.Msg)
			if err := r.Unpack(wire); err != nil {
				t.Fatal(err)
			}
			if r.Truncated != tt.wantTC {
				t.Errorf("TC = %v, want %v", r.Truncated, tt.wantTC)
			}
			if !tt.wantTC && len(r.Answer) != 100 {
				t.Errorf("%d answers, want 100", len(r.Answer))
			}
			if opt := r.IsEdns0(); (opt != nil) != (tt.edns > 0) {
				t.Errorf("OPT in answer = %v, want %v", opt != nil, tt.edns > 0)
			} else if opt != nil && opt.UDPSize() != DefaultMaxUDPSize {
				t.Errorf("advertised UDP size %d, want %d", opt.UDPSize(), DefaultMaxUDPSize)
			}
		})
	}
	if got := len(e.cluster.Queries("big.cluster.local.")); got != 1 {
		t.Errorf("cluster DNS asked %d times, want 1 (truncated answers come from the cache)", got)
	}
}

func packQuery(t *testing.T, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMalformedQueries(t *testing.T) {
	e := newEnv(t, nil)
	valid := packQuery(t, newQuery("ok.cluster.local.", dns.TypeA))
	edit := func(b []byte, f func([]byte)) []byte {
		c := append([]byte(nil), b...)
		f(c)
		return c
	}
	v1 := newQuery("v1.cluster.local.", dns.TypeA)
	v1.SetEdns0(1232, false)
	v1.IsEdns0().SetVersion(1)
	notify := newQuery("cluster.local.", dns.TypeSOA)
	notify.Opcode = dns.OpcodeNotify
	withAnswer := newQuery("x.cluster.local.", dns.TypeA)
	withAnswer.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "x.cluster.local.", Rrtype: dns.TypeA, Class: dns.ClassINET}, A: net.IPv4(1, 2, 3, 4)}}

	tests := []struct {
		name      string
		msg       []byte
		wantReply bool
		rcode     int
		questions int
	}{
		{"empty", nil, false, 0, 0},
		{"garbage shorter than a header", []byte("hello"), false, 0, 0},
		{"response", edit(valid, func(b []byte) { b[2] |= 0x80 }), false, 0, 0},
		{"no question", edit(valid[:12], func(b []byte) { b[5] = 0 }), true, dns.RcodeFormatError, 0},
		{"two questions", edit(valid, func(b []byte) { b[5] = 2 }), true, dns.RcodeFormatError, 0},
		{"header only", valid[:12], true, dns.RcodeFormatError, 0},
		{"truncated question", valid[:len(valid)-3], true, dns.RcodeFormatError, 0},
		{"compression pointer loop", edit(valid, func(b []byte) { b[12], b[13] = 0xc0, 12 }), true, dns.RcodeFormatError, 0},
		{"label past the end", edit(valid, func(b []byte) { b[12] = 63 }), true, dns.RcodeFormatError, 0},
		{"random bytes", []byte{0xde, 0xad, 0x01, 0xef, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff}, true, dns.RcodeFormatError, 0},
		{"answer section in query", packQuery(t, withAnswer), true, dns.RcodeFormatError, 1},
		{"notify", packQuery(t, notify), true, dns.RcodeNotImplemented, 0},
		{"EDNS version 1", packQuery(t, v1), true, dns.RcodeBadVers, 1},
		{"zone transfer", packQuery(t, newQuery("cluster.local.", dns.TypeAXFR)), true, dns.RcodeRefused, 1},
		{"valid", valid, true, dns.RcodeSuccess, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, proto := range []protocol{protoUDP, protoTCP} {
				resp, ok := e.srv.serve(context.Background(), proto, tt.msg, nil)
				if ok != tt.wantReply {
					t.Fatalf("%v: replied = %v, want %v", proto, ok, tt.wantReply)
				}
				if !ok {
					continue
				}
				r := new(dns.Msg)
				if err := r.Unpack(resp); err != nil {
					t.Fatalf("%v: answer does not unpack: %v", proto, err)
				}
				if r.Rcode != tt.rcode || len(r.Question) != tt.questions || !r.Response {
					t.Errorf("%v: answer rcode %s with %d questions, want %s with %d", proto,
						dns.RcodeToString[r.Rcode], len(r.Question), dns.RcodeToString[tt.rcode], tt.questions)
				}
				if r.Id != binary.BigEndian.Uint16(tt.msg) {
					t.Errorf("%v: answer ID %d does not match", proto, r.Id)
				}
			}
		})
	}

	// Over a real socket, garbage does not stop the server.
	c, err := net.Dial("udp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tt := range tests {
		_, _ = c.Write(tt.msg)
	}
	r := exchange(t, "udp", e.addr, newQuery("after.cluster.local.", dns.TypeA))
	if r.Rcode != dns.RcodeSuccess {
		t.Errorf("server unhealthy after garbage: %v", r)
	}
}

func TestTCPClientPipelining(t *testing.T) {
	e := newEnv(t, nil)
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	names := []string{"p1.cluster.local.", "p2.example.com.", "p3.cluster.local.", "p1.cluster.local."}
	var out []byte
	for i, n := range names {
		m := newQuery(n, dns.TypeA)
		m.Id = uint16(100 + i)
		b := packQuery(t, m)
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	got := map[uint16]string{}
	for range names {
		var hdr [2]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, binary.BigEndian.Uint16(hdr[:]))
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		r := new(dns.Msg)
		if err := r.Unpack(b); err != nil {
			t.Fatal(err)
		}
		got[r.Id] = r.Question[0].Name
	}
	for i, n := range names {
		if got[uint16(100+i)] != n {
			t.Errorf("answer to query %d is for %q, want %q", 100+i, got[uint16(100+i)], n)
		}
	}
}

func TestMaxInFlight(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	slow := dnstest.Start(t, dnstest.Options{}, func(w dns.ResponseWriter, r *dns.Msg) {
		if strings.HasPrefix(r.Question[0].Name, "slow") {
			arrived <- struct{}{}
			<-release
		}
		fixedA("192.0.2.1")(w, r)
	})
	e := newEnv(t, func(c *Config) {
		c.MaxInFlight = 1
		c.UpstreamServers = []string{slow.Addr}
	})
	done := make(chan *dns.Msg)
	go func() {
		c := &dns.Client{Net: "udp", Timeout: 10 * time.Second}
		r, _, _ := c.Exchange(newQuery("slow.example.", dns.TypeA), e.addr)
		done <- r
	}()
	<-arrived
	if r := exchange(t, "udp", e.addr, newQuery("other.example.", dns.TypeA)); r.Rcode != dns.RcodeRefused {
		t.Errorf("second miss got %s, want REFUSED while the only slot is taken", dns.RcodeToString[r.Rcode])
	}
	close(release)
	if r := <-done; r == nil || r.Rcode != dns.RcodeSuccess {
		t.Errorf("first query got %v", r)
	}
	if got := testutil.ToFloat64(e.srv.metrics.overload); got != 1 {
		t.Errorf("overload counter = %v, want 1", got)
	}
}

func TestShutdownAbortsInFlight(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	defer close(release)
	stuck := dnstest.Start(t, dnstest.Options{}, func(w dns.ResponseWriter, r *dns.Msg) {
		if strings.HasPrefix(r.Question[0].Name, "stuck") {
			arrived <- struct{}{}
			<-release
		}
		fixedA("192.0.2.1")(w, r)
	})
	srv, err := New(Config{
		ListenAddrs:     []string{"127.0.0.1:0"},
		ClusterDNS:      []string{stuck.Addr},
		UpstreamServers: []string{stuck.Addr},
		Forward:         forward.Config{Timeout: time.Hour},
		Cache:           cache.Config{ResolveTimeout: time.Hour},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	answered := make(chan *dns.Msg)
	go func() {
		r, _, _ := (&dns.Client{Net: "tcp", Timeout: time.Hour}).Exchange(newQuery("stuck.example.", dns.TypeA), srv.Addrs()[0])
		answered <- r
	}()
	<-arrived
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no grace period at all
	if err := srv.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown() = %v, want context.Canceled", err)
	}
	if r := <-answered; r != nil && r.Rcode != dns.RcodeServerFailure {
		t.Errorf("in-flight query got %v, want SERVFAIL or a closed connection", r)
	}
	if srv.Serving() {
		t.Error("still serving after Shutdown")
	}
}

func TestStaticLoopDetection(t *testing.T) {
	resolvConf := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(resolvConf, []byte("nameserver 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"cluster DNS is our address", Config{ListenAddrs: []string{"127.0.0.1:5300"}, ClusterDNS: []string{"127.0.0.1:5300"}, UpstreamServers: []string{"192.0.2.1"}}},
		{"resolv.conf points at our wildcard listener", Config{ListenAddrs: []string{":53"}, ClusterDNS: []string{"10.0.0.10"}, ResolvConf: resolvConf}},
		{"stub domain is our address", Config{ListenAddrs: []string{"[fd00::10]:53"}, ClusterDNS: []string{"10.0.0.10"}, UpstreamServers: []string{"192.0.2.1"},
			StubDomains: map[string][]string{"acme.test": {"fd00::10"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, nil)
			if !errors.Is(err, ErrForwardingLoop) {
				t.Errorf("New() error = %v, want ErrForwardingLoop", err)
			}
		})
	}
	t.Run("resolv.conf upstream on another address is fine", func(t *testing.T) {
		s, err := New(Config{ListenAddrs: []string{"169.254.20.10:53"}, ClusterDNS: []string{"10.0.0.10"}, ResolvConf: resolvConf}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Shutdown(context.Background())
		groups := s.Forwarder().Groups()
		if def := groups[len(groups)-1]; def.Name() != "default" || def.Upstreams()[0].Addr() != "127.0.0.1:53" {
			t.Errorf("default group %s uses %s, want resolv.conf's 127.0.0.1:53", def.Name(), def.Upstreams()[0].Addr())
		}
	})
}

func TestProbeLoopDetection(t *testing.T) {
	// The resolv.conf upstream forwards everything back to node-cache.
	var srv atomic.Pointer[Server]
	relay := dnstest.Start(t, dnstest.Options{}, func(w dns.ResponseWriter, r *dns.Msg) {
		c := &dns.Client{Net: "udp", Timeout: time.Second}
		resp, _, err := c.Exchange(r, srv.Load().Addrs()[0])
		if err != nil {
			resp = new(dns.Msg)
			resp.SetRcode(r, dns.RcodeServerFailure)
		}
		_ = w.WriteMsg(resp)
	})
	cluster := dnstest.Start(t, dnstest.Options{TCPOnly: true}, clusterHandler)
	s, err := New(Config{
		ListenAddrs:     []string{"127.0.0.1:0"},
		ClusterDNS:      []string{cluster.Addr},
		UpstreamServers: []string{relay.Addr},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Store(s)
	err = s.Start(context.Background())
	if !errors.Is(err, ErrForwardingLoop) || !strings.Contains(err.Error(), relay.Addr) {
		t.Fatalf("Start() error = %v, want ErrForwardingLoop naming %s", err, relay.Addr)
	}
	if s.Serving() {
		t.Error("server serving after a loop was found")
	}
	// Its sockets are released.
	for _, network := range []string{"udp", "tcp"} {
		if _, _, err := (&dns.Client{Net: network, Timeout: 200 * time.Millisecond}).Exchange(newQuery("x.", dns.TypeA), s.Addrs()[0]); err == nil {
			t.Errorf("%s: still answering after a failed start", network)
		}
	}
}

func TestHealthAndReady(t *testing.T) {
	clock := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := newEnv(t, func(c *Config) { c.ReadyWindow = 30 * time.Second }, WithClock(clock))
	h := e.srv.Handler()
	get := func(path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	for _, p := range []string{"/health", "/healthz", "/ready", "/readyz"} {
		if got := get(p); got != http.StatusOK {
			t.Errorf("%s = %d while serving with upstreams answering, want 200", p, got)
		}
	}

	// The upstreams go away; once the window passes the server is not ready,
	// but still healthy.
	e.cluster.Close()
	e.dflt.Close()
	e.stub.Close()
	clock.Step(31 * time.Second)
	if got := get("/ready"); got != http.StatusServiceUnavailable {
		t.Errorf("/ready = %d with no upstream answer for 31s, want 503", got)
	}
	if got := get("/health"); got != http.StatusOK {
		t.Errorf("/health = %d, want 200", got)
	}

	if err := e.srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/health", "/ready"} {
		if got := get(p); got != http.StatusServiceUnavailable {
			t.Errorf("%s = %d after shutdown, want 503", p, got)
		}
	}
}

func TestNotReadyWithoutUpstreams(t *testing.T) {
	dead := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
	e := &env{reg: prometheus.NewPedanticRegistry()}
	e.start(t, Config{ListenAddrs: []string{"127.0.0.1:0"}, ClusterDNS: []string{dead()}, UpstreamServers: []string{dead()}, DisableLoopProbe: true})
	if e.srv.Ready() || !e.srv.Serving() {
		t.Errorf("Ready() = %v Serving() = %v, want not ready but serving", e.srv.Ready(), e.srv.Serving())
	}
	if r := exchange(t, "udp", e.addr, newQuery("x.cluster.local.", dns.TypeA)); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("got %s with every upstream down, want SERVFAIL", dns.RcodeToString[r.Rcode])
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, nil)
	for range 3 {
		exchange(t, "udp", e.addr, newQuery("m.cluster.local.", dns.TypeA))
	}
	exchange(t, "tcp", e.addr, newQuery("m.example.com.", dns.TypeAAAA))
	exchange(t, "udp", e.addr, newQuery("nx.cluster.local.", dns.TypeA))

	tests := []struct {
		metric string
		labels map[string]string
		min    float64
	}{
		{"node_cache_requests_total", map[string]string{"proto": "udp", "type": "A"}, 4},
		{"node_cache_requests_total", map[string]string{"proto": "tcp", "type": "AAAA"}, 1},
		{"node_cache_responses_total", map[string]string{"rcode": "NOERROR"}, 4},
		{"node_cache_responses_total", map[string]string{"rcode": "NXDOMAIN"}, 1},
		{"node_cache_cache_hits_total", nil, 2},
		{"node_cache_cache_misses_total", nil, 3},
		{"node_cache_cache_entries", nil, 3},
		{"node_cache_upstream_request_duration_seconds", map[string]string{"upstream": e.cluster.Addr, "proto": "tcp"}, 2},
		{"node_cache_upstream_responses_total", map[string]string{"upstream": e.dflt.Addr, "rcode": "NOERROR"}, 1},
		{"node_cache_upstream_tcp_connections_opened_total", map[string]string{"upstream": e.cluster.Addr}, 1},
	}
	families, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.metric, tt.labels), func(t *testing.T) {
			var got float64
			found := false
			for _, f := range families {
				if f.GetName() != tt.metric {
					continue
				}
			metrics:
				for _, m := range f.GetMetric() {
					for k, v := range tt.labels {
						match := false
						for _, l := range m.GetLabel() {
							if l.GetName() == k && l.GetValue() == v {
								match = true
							}
						}
						if !match {
							continue metrics
						}
					}
					found = true
					switch {
					case m.Counter != nil:
						got += m.Counter.GetValue()
					case m.Gauge != nil:
						got += m.Gauge.GetValue()
					case m.Histogram != nil:
						got += float64(m.Histogram.GetSampleCount())
					}
				}
			}
			if !found || got < tt.min {
				t.Errorf("%s%v = %v (found %v), want at least %v", tt.metric, tt.labels, got, found, tt.min)
			}
		})
	}
}

func TestCacheHitDoesNotAllocate(t *testing.T) {
	e := newEnv(t, nil)
	m := newQuery("alloc.cluster.local.", dns.TypeA)
	m.SetEdns0(1232, false)
	msg := packQuery(t, m)
	dst := make([]byte, 0, 4096)
	if _, ok := e.srv.serve(context.Background(), protoUDP, msg, dst); !ok {
		t.Fatal("no answer")
	}
	var q dnswire.Query
	allocs := testing.AllocsPerRun(200, func() {
		resp, act := e.srv.handleFast(protoUDP, msg, &q, dst)
		if act != actReply || len(resp) == 0 {
			t.Fatal("cache hit expected")
		}
	})
	if allocs != 0 {
		t.Errorf("cache hit allocates %v times, want 0", allocs)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no listen address", Config{ClusterDNS: []string{"10.0.0.10"}, UpstreamServers: []string{"10.0.0.2"}}},
		{"listen on a host name", Config{ListenAddrs: []string{"localhost:53"}, ClusterDNS: []string{"10.0.0.10"}, UpstreamServers: []string{"10.0.0.2"}}},
		{"no cluster DNS", Config{ListenAddrs: []string{"127.0.0.1:53"}, UpstreamServers: []string{"10.0.0.2"}}},
		{"root as cluster domain", Config{ListenAddrs: []string{"127.0.0.1:53"}, ClusterDomain: ".", ClusterDNS: []string{"10.0.0.10"}, UpstreamServers: []string{"10.0.0.2"}}},
		{"stub domain without servers", Config{ListenAddrs: []string{"127.0.0.1:53"}, ClusterDNS: []string{"10.0.0.10"}, UpstreamServers: []string{"10.0.0.2"}, StubDomains: map[string][]string{"x.test": nil}}},
		{"stub domain is the cluster domain", Config{ListenAddrs: []string{"127.0.0.1:53"}, ClusterDNS: []string{"10.0.0.10"}, UpstreamServers: []string{"10.0.0.2"}, StubDomains: map[string][]string{"Cluster.Local": {"10.0.0.3"}}}},
		{"missing resolv.conf", Config{ListenAddrs: []string{"127.0.0.1:53"}, ClusterDNS: []string{"10.0.0.10"}, ResolvConf: "/nonexistent/resolv.conf"}},
		{"tiny UDP size", Config{ListenAddrs: []string{"127.0.0.1:53"}, ClusterDNS: []string{"10.0.0.10"}, UpstreamServers: []string{"10.0.0.2"}, MaxUDPSize: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg, nil); err == nil {
				t.Error("New() succeeded, want an error")
			}
		})
	}
	t.Run("metrics registered twice", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		cfg := Config{ListenAddrs: []string{"127.0.0.1:53"}, ClusterDNS: []string{"10.0.0.10"}, UpstreamServers: []string{"10.0.0.2"}}
		s, err := New(cfg, reg)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Shutdown(context.Background())
		if _, err := New(cfg, reg); err == nil {
			t.Error("second New() on the same registry succeeded, want a registration error")
		}
	})
}

// BenchmarkHandleFastHit measures the cache-hit path without sockets: parse,
// look up, patch and count.
func BenchmarkHandleFastHit(b *testing.B) {
	e := newEnv(b, nil)
	m := newQuery("bench.cluster.local.", dns.TypeA)
	m.SetEdns0(1232, false)
	msg, err := m.Pack()
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, 0, 4096)
	if _, ok := e.srv.serve(context.Background(), protoUDP, msg, dst); !ok {
		b.Fatal("no answer")
	}
	var q dnswire.Query
	b.ReportAllocs()
	for b.Loop() {
		if _, act := e.srv.handleFast(protoUDP, msg, &q, dst); act != actReply {
			b.Fatal("cache hit expected")
		}
	}
}
