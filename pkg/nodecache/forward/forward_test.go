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

package forward

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"signet.dev/signet/pkg/nodecache/dnswire"
	"signet.dev/signet/pkg/nodecache/internal/dnstest"
)

// answerA answers every A query with 192.0.2.1 and a TXT record holding the
// query name, so a test can tell answers apart.
func answerA(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	q := r.Question[0]
	m.Answer = append(m.Answer,
		&dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)},
		&dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{strings.ToLower(q.Name)}})
	_ = w.WriteMsg(m)
}

// deadAddr returns a 127.0.0.1 address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// blackhole returns a UDP address that reads queries and never answers.
func blackhole(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return pc.LocalAddr().String()
}

func newForwarder(t *testing.T, cfg Config, groups ...GroupConfig) *Forwarder {
	t.Helper()
	f, err := New(cfg, groups)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

func question(name string) dnswire.Question {
	return dnswire.Question{Name: name, Type: dns.TypeA, Class: dns.ClassINET}
}

func checkAnswer(t *testing.T, m *dns.Msg, name string) {
	t.Helper()
	if m == nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 2 {
		t.Fatalf("answer for %s: %v", name, m)
	}
	if got := m.Answer[1].(*dns.TXT).Txt[0]; got != strings.ToLower(name) {
		t.Fatalf("answer for %s carries %s: answers were mixed up", name, got)
	}
}

func TestTCPConnectionReuse(t *testing.T) {
	up := dnstest.Start(t, dnstest.Options{MaxTCPQueries: -1}, answerA)
	f := newForwarder(t, Config{MaxConnsPerUpstream: 3}, GroupConfig{Name: "cluster", Zones: []string{"cluster.local"}, Servers: []string{up.Addr}, Protocol: TCP})
	ctx := context.Background()

	t.Run("sequential queries share one connection", func(t *testing.T) {
		for i := range 50 {
			name := "s" + string(rune('a'+i%26)) + ".cluster.local."
			m, err := f.Resolve(ctx, question(name))
			if err != nil {
				t.Fatal(err)
			}
			checkAnswer(t, m, name)
		}
		if got := up.Accepted(); got != 1 {
			t.Errorf("upstream accepted %d connections, want 1", got)
		}
	})
	t.Run("concurrent queries use at most MaxConnsPerUpstream", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 300 {
			wg.Go(func() {
				name := strings.Repeat("x", 1+i%40) + ".cluster.local."
				m, err := f.Resolve(ctx, question(name))
				if err != nil {
					t.Error(err)
					return
				}
				checkAnswer(t, m, name)
			})
		}
		wg.Wait()
		if got := up.Accepted(); got > 3 {
			t.Errorf("upstream accepted %d connections, want at most 3", got)
		}
	})
	if got := up.Count("udp"); got != 0 {
		t.Errorf("upstream got %d UDP queries, want none", got)
	}
	if got := up.Count("tcp"); got != 350 {
		t.Errorf("upstream got %d TCP queries, want 350", got)
	}
}

func TestTCPUpstreamClosesConnections(t *testing.T) {
	// The upstream closes each connection after 3 queries, as servers do
	// after a query limit or an idle timeout; queries must not fail.
	up := dnstest.Start(t, dnstest.Options{MaxTCPQueries: 3}, answerA)
	f := newForwarder(t, Config{MaxConnsPerUpstream: 1}, GroupConfig{Name: "c", Zones: []string{"."}, Servers: []string{up.Addr}, Protocol: TCP})
	for i := range 20 {
		name := strings.Repeat("y", i+1) + ".example."
		m, err := f.Resolve(context.Background(), question(name))
		if err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		checkAnswer(t, m, name)
	}
	if got := up.Accepted(); got < 7 || got > 20 {
		t.Errorf("upstream accepted %d connections, want about one per 3 queries", got)
	}
}

// reorderingUpstream answers each batch of n pipelined TCP queries in reverse
// order, to prove that answers are matched to queries by ID.
func reorderingUpstream(t *testing.T, n int) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				for {
					var batch [][]byte
					for range n {
						var hdr [2]byte
						if _, err := io.ReadFull(c, hdr[:]); err != nil {
							return
						}
						b := make([]byte, binary.BigEndian.Uint16(hdr[:]))
						if _, err := io.ReadFull(c, b); err != nil {
							return
						}
						r := new(dns.Msg)
						if err := r.Unpack(b); err != nil {
							return
						}
						w := &bufWriter{}
						answerA(w, r)
						batch = append(batch, w.out)
					}
					for i := len(batch) - 1; i >= 0; i-- {
						out := binary.BigEndian.AppendUint16(nil, uint16(len(batch[i])))
						if _, err := c.Write(append(out, batch[i]...)); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), &conns
}

type bufWriter struct {
	dns.ResponseWriter
	out []byte
}

func (w *bufWriter) WriteMsg(m *dns.Msg) error {
	var err error
	w.out, err = m.Pack()
	return err
}

func TestTCPPipeliningMatchesIDs(t *testing.T) {
	const n = 8
	addr, conns := reorderingUpstream(t, n)
	f := newForwarder(t, Config{MaxConnsPerUpstream: 1}, GroupConfig{Name: "c", Zones: []string{"."}, Servers: []string{addr}, Protocol: TCP})
	var wg sync.WaitGroup
	for i := range 4 * n {
		wg.Go(func() {
			name := strings.Repeat("p", i+1) + ".example."
			m, err := f.Resolve(context.Background(), question(name))
			if err != nil {
				t.Error(err)
				return
			}
			checkAnswer(t, m, name)
		})
	}
	wg.Wait()
	if got := conns.Load(); got != 1 {
		t.Errorf("%d connections, want all queries pipelined on 1", got)
	}
}

func TestFailover(t *testing.T) {
	good := dnstest.Start(t, dnstest.Options{}, answerA)
	tests := []struct {
		name  string
		proto Protocol
		dead  string
	}{
		{"tcp, connection refused", TCP, deadAddr(t)},
		{"udp, port unreachable", UDP, deadAddr(t)},
		{"udp, no answer (timeout)", UDP, blackhole(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newForwarder(t, Config{Timeout: 200 * time.Millisecond}, GroupConfig{
				Name: "g", Zones: []string{"."}, Servers: []string{tt.dead, good.Addr}, Protocol: tt.proto,
			})
			for i := range 4 {
				name := strings.Repeat("f", i+1) + ".example."
				m, err := f.Resolve(context.Background(), question(name))
				if err != nil {
					t.Fatalf("query %d: %v", i, err)
				}
				checkAnswer(t, m, name)
			}
			if got := testutil.ToFloat64(f.metrics.errors.WithLabelValues(tt.dead)); got != 1 {
				t.Errorf("errors for the dead upstream = %v, want 1 (then it is tried last)", got)
			}
			if f.LastSuccess().IsZero() {
				t.Error("LastSuccess not recorded")
			}
		})
	}
}

func TestAllUpstreamsFail(t *testing.T) {
	f := newForwarder(t, Config{}, GroupConfig{Name: "g", Zones: []string{"."}, Servers: []string{deadAddr(t), deadAddr(t)}, Protocol: TCP})
	if _, err := f.Resolve(context.Background(), question("x.example.")); err == nil || !strings.Contains(err.Error(), "all 2 upstreams") {
		t.Errorf("Resolve() error = %v, want all upstreams failed", err)
	}
}

func TestUDPTruncationRetriesOverTCP(t *testing.T) {
	up := dnstest.Start(t, dnstest.Options{}, func(w dns.ResponseWriter, r *dns.Msg) {
		if w.RemoteAddr().Network() == "udp" {
			m := new(dns.Msg)
			m.SetReply(r)
			m.Truncated = true
			_ = w.WriteMsg(m)
			return
		}
		answerA(w, r)
	})
	f := newForwarder(t, Config{}, GroupConfig{Name: "d", Zones: []string{"."}, Servers: []string{up.Addr}, Protocol: UDP})
	m, err := f.Resolve(context.Background(), question("big.example."))
	if err != nil {
		t.Fatal(err)
	}
	checkAnswer(t, m, "big.example.")
	if m.Truncated {
		t.Error("answer still truncated")
	}
	if u, tc := up.Count("udp"), up.Count("tcp"); u != 1 || tc != 1 {
		t.Errorf("upstream saw %d UDP and %d TCP queries, want 1 and 1", u, tc)
	}
}

func TestUDPUpstreamGetsEDNS(t *testing.T) {
	up := dnstest.Start(t, dnstest.Options{}, answerA)
	f := newForwarder(t, Config{UDPSize: 1400}, GroupConfig{
		Name: "c", Zones: []string{"."}, Servers: []string{up.Addr}, Protocol: UDP,
		Options: []dns.EDNS0{&dns.EDNS0_LOCAL{Code: 65001, Data: []byte("node-a")}},
	})
	q := question("e.example.")
	q.DO, q.CD = true, true
	if _, err := f.Resolve(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	r := up.Queries("e.example.")[0].Msg
	opt := r.IsEdns0()
	if opt == nil || opt.UDPSize() != 1400 || !opt.Do() || !r.CheckingDisabled || !r.RecursionDesired {
		t.Fatalf("upstream query %v lacks EDNS size, DO, CD or RD", r)
	}
	if len(opt.Option) != 1 || string(opt.Option[0].(*dns.EDNS0_LOCAL).Data) != "node-a" {
		t.Errorf("upstream query options %v, want the node tag", opt.Option)
	}
}

func TestBadResponseRejected(t *testing.T) {
	up := dnstest.Start(t, dnstest.Options{}, func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Question[0].Name = "other.example."
		_ = w.WriteMsg(m)
	})
	f := newForwarder(t, Config{}, GroupConfig{Name: "d", Zones: []string{"."}, Servers: []string{up.Addr}, Protocol: UDP})
	if _, err := f.Resolve(context.Background(), question("x.example.")); !errors.Is(err, ErrBadResponse) {
		t.Errorf("Resolve() error = %v, want ErrBadResponse", err)
	}
}

func TestMaxConcurrent(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	up := dnstest.Start(t, dnstest.Options{}, func(w dns.ResponseWriter, r *dns.Msg) {
		arrived <- struct{}{}
		<-release
		answerA(w, r)
	})
	f := newForwarder(t, Config{MaxConcurrent: 1}, GroupConfig{Name: "d", Zones: []string{"."}, Servers: []string{up.Addr}, Protocol: TCP})
	done := make(chan error)
	go func() {
		_, err := f.Resolve(context.Background(), question("one.example."))
		done <- err
	}()
	<-arrived
	if _, err := f.Resolve(context.Background(), question("two.example.")); !errors.Is(err, ErrLimitExceeded) {
		t.Errorf("second Resolve() error = %v, want ErrLimitExceeded", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("first Resolve() error = %v", err)
	}
}

func TestRoute(t *testing.T) {
	f := newForwarder(t, Config{},
		GroupConfig{Name: "cluster", Zones: []string{"cluster.local", "in-addr.arpa.", "ip6.arpa"}, Servers: []string{"10.0.0.10"}, Protocol: TCP},
		GroupConfig{Name: "stub", Zones: []string{"acme.local"}, Servers: []string{"10.1.1.1"}},
		GroupConfig{Name: "inner", Zones: []string{"special.svc.cluster.local"}, Servers: []string{"10.2.2.2"}},
		GroupConfig{Name: "default", Zones: []string{"."}, Servers: []string{"[fd00::53]:5353"}},
	)
	tests := []struct {
		name string
		want string
	}{
		{"kubernetes.default.svc.cluster.local.", "cluster"},
		{"cluster.local.", "cluster"},
		{"KUBERNETES.Default.SVC.Cluster.Local.", "cluster"},
		{"10.0.96.10.in-addr.arpa.", "cluster"},
		{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", "cluster"},
		{"db.acme.local.", "stub"},
		{"x.special.svc.cluster.local.", "inner"},
		{"example.com.", "default"},
		{"cluster.local.example.com.", "default"},
		{"notcluster.local.", "default"},
		{".", "default"},
		{"no-dot", "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if g := f.Route(tt.name); g == nil || g.Name() != tt.want {
				t.Errorf("Route(%q) = %v, want group %q", tt.name, g, tt.want)
			}
		})
	}
	if got := f.Groups()[3].Upstreams()[0].Addr(); got != "[fd00::53]:5353" {
		t.Errorf("upstream address %q", got)
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name   string
		groups []GroupConfig
	}{
		{"no servers", []GroupConfig{{Name: "a", Zones: []string{"."}}}},
		{"no zones", []GroupConfig{{Name: "a", Servers: []string{"10.0.0.1"}}}},
		{"zone twice", []GroupConfig{{Name: "a", Zones: []string{"x."}, Servers: []string{"10.0.0.1"}}, {Name: "b", Zones: []string{"X"}, Servers: []string{"10.0.0.2"}}}},
		{"bad address", []GroupConfig{{Name: "a", Zones: []string{"."}, Servers: []string{"10.0.0.1:"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(Config{}, tt.groups); err == nil {
				t.Error("New() succeeded, want an error")
			}
		})
	}
}

func TestNormalizeAddr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10.0.0.10", "10.0.0.10:53"},
		{"10.0.0.10:5353", "10.0.0.10:5353"},
		{"fd00::10", "[fd00::10]:53"},
		{"[fd00::10]", "[fd00::10]:53"},
		{"[fd00::10]:54", "[fd00::10]:54"},
		{"dns.example", "dns.example:53"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got, err := NormalizeAddr(tt.in); err != nil || got != tt.want {
				t.Errorf("NormalizeAddr(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestReadResolvConf(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string
		wantErr bool
	}{
		{
			name: "typical",
			content: "# generated\nsearch example.com\nnameserver 10.0.0.2\nnameserver fd00::2 # v6\n" +
				"options ndots:5\n;nameserver 10.9.9.9\nnameserver fe80::1%eth0\n",
			want: []string{"10.0.0.2:53", "[fd00::2]:53", "[fe80::1%eth0]:53"},
		},
		{name: "no nameserver", content: "search example.com\n", wantErr: true},
		{name: "bad nameserver", content: "nameserver dns.example\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "resolv.conf")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := ReadResolvConf(path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ReadResolvConf() error = %v, wantErr %v", err, tt.wantErr)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("ReadResolvConf() = %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := ReadResolvConf(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file: want an error")
	}
}

func TestSetGroups(t *testing.T) {
	oldUp := dnstest.Start(t, dnstest.Options{MaxTCPQueries: -1}, answerA)
	newUp := dnstest.Start(t, dnstest.Options{MaxTCPQueries: -1}, answerA)
	arrived, release := make(chan struct{}), make(chan struct{})
	slow := dnstest.Start(t, dnstest.Options{MaxTCPQueries: -1}, func(w dns.ResponseWriter, r *dns.Msg) {
		arrived <- struct{}{}
		<-release
		answerA(w, r)
	})
	groups := func(cluster string) []GroupConfig {
		return []GroupConfig{
			{Name: "cluster", Zones: []string{"cluster.local"}, Servers: []string{cluster}, Protocol: TCP},
			{Name: "slow", Zones: []string{"slow.test"}, Servers: []string{slow.Addr}, Protocol: TCP},
		}
	}
	f := newForwarder(t, Config{}, groups(oldUp.Addr)...)
	ctx := context.Background()
	m, err := f.Resolve(ctx, question("a.cluster.local."))
	if err != nil {
		t.Fatal(err)
	}
	checkAnswer(t, m, "a.cluster.local.")

	// A resolution under way when the groups change finishes on the old ones.
	done := make(chan error, 1)
	go func() {
		m, err := f.Resolve(ctx, question("in-flight.slow.test."))
		if err == nil && (len(m.Answer) != 2 || m.Answer[1].(*dns.TXT).Txt[0] != "in-flight.slow.test.") {
			err = fmt.Errorf("wrong answer %v", m)
		}
		done <- err
	}()
	<-arrived
	old := f.routes.Load()
	if err := f.SetGroups(groups(newUp.Addr)); err != nil {
		t.Fatalf("SetGroups() = %v", err)
	}
	if n := old.groups[0].upstreams[0].pool.openConns(); n != 1 {
		t.Errorf("old cluster pool has %d open connections while a resolution uses the old groups, want 1", n)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("resolution under way during SetGroups: %v", err)
	}
	for _, g := range old.groups {
		if n := g.upstreams[0].pool.openConns(); n != 0 {
			t.Errorf("old group %s keeps %d open connections after its last resolution, want 0", g.name, n)
		}
	}

	m, err = f.Resolve(ctx, question("b.cluster.local."))
	if err != nil {
		t.Fatal(err)
	}
	checkAnswer(t, m, "b.cluster.local.")
	if got, want := len(oldUp.Queries("b.cluster.local.")), 0; got != want {
		t.Errorf("old upstream got %d queries after SetGroups, want %d", got, want)
	}
	if got, want := len(newUp.Queries("b.cluster.local.")), 1; got != want {
		t.Errorf("new upstream got %d queries after SetGroups, want %d", got, want)
	}
	if f.LastSuccess().IsZero() {
		t.Error("LastSuccess lost by SetGroups")
	}

	// Invalid groups leave the current ones in place.
	bad := append(groups(oldUp.Addr), GroupConfig{Name: "dup", Zones: []string{"cluster.local"}, Servers: []string{oldUp.Addr}})
	if err := f.SetGroups(bad); err == nil || !strings.Contains(err.Error(), "routed to both") {
		t.Fatalf("SetGroups(duplicate zone) = %v, want an error", err)
	}
	if got := f.Route("c.cluster.local.").Upstreams()[0].Addr(); got != newUp.Addr {
		t.Errorf("after a failed SetGroups cluster.local goes to %s, want %s", got, newUp.Addr)
	}
}
