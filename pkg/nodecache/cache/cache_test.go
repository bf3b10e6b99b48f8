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

package cache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	testingclock "k8s.io/utils/clock/testing"

	"signet.dev/signet/pkg/nodecache/dnswire"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fakeResolver answers with answer(q), counting calls per name.
type fakeResolver struct {
	mu     sync.Mutex
	calls  map[string]int
	answer func(q dnswire.Question) (*dns.Msg, error)
}

func (r *fakeResolver) Resolve(_ context.Context, q dnswire.Question) (*dns.Msg, error) {
	r.mu.Lock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	r.calls[strings.ToLower(q.Name)]++
	answer := r.answer
	r.mu.Unlock()
	return answer(q)
}

func (r *fakeResolver) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[name]
}

func (r *fakeResolver) set(answer func(q dnswire.Question) (*dns.Msg, error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = answer
}

func reply(q dnswire.Question, rcode int, rrs ...string) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(q.Name, q.Type)
	m.Response = true
	m.Rcode = rcode
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		if rr.Header().Rrtype == dns.TypeSOA && rcode != dns.RcodeSuccess || rr.Header().Rrtype == dns.TypeSOA && len(m.Answer) == 0 && q.Type != dns.TypeSOA {
			m.Ns = append(m.Ns, rr)
		} else {
			m.Answer = append(m.Answer, rr)
		}
	}
	return m
}

// positive answers every name with one A record of the given TTL.
func positive(ttl int) func(q dnswire.Question) (*dns.Msg, error) {
	return func(q dnswire.Question) (*dns.Msg, error) {
		return reply(q, dns.RcodeSuccess, fmt.Sprintf("%s %d IN A 192.0.2.1", q.Name, ttl)), nil
	}
}

var errUpstream = errors.New("upstream down")

func failing(dnswire.Question) (*dns.Msg, error) { return nil, errUpstream }

type harness struct {
	t     *testing.T
	c     *Cache
	r     *fakeResolver
	clock *testingclock.FakeClock
}

func newHarness(t *testing.T, cfg Config, answer func(q dnswire.Question) (*dns.Msg, error)) *harness {
	t.Helper()
	h := &harness{t: t, r: &fakeResolver{answer: answer}, clock: testingclock.NewFakeClock(t0)}
	c, err := New(cfg, h.r, WithClock(h.clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	h.c = c
	return h
}

type ask struct {
	name  string
	qtype uint16
	do    bool
	cd    bool
	edns  uint16
}

func (a ask) wire(t *testing.T) ([]byte, dnswire.Query) {
	t.Helper()
	m := new(dns.Msg)
	qtype := a.qtype
	if qtype == 0 {
		qtype = dns.TypeA
	}
	m.SetQuestion(a.name, qtype)
	m.Id = 0x4242
	m.CheckingDisabled = a.cd
	if a.do || a.edns > 0 {
		m.SetEdns0(max(a.edns, 1232), a.do)
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	var q dnswire.Query
	if err := dnswire.ParseQuery(b, &q); err != nil {
		t.Fatal(err)
	}
	return b, q
}

func unpack(t *testing.T, b []byte) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		t.Fatalf("unpacking answer: %v", err)
	}
	if m.Id != 0x4242 {
		t.Errorf("answer ID %#x, want the query's", m.Id)
	}
	return m
}

var lim = dnswire.Limits{Size: dnswire.MaxMsgSize, UDPSize: 1232}

// lookup answers from the cache only; hit says whether it could.
func (h *harness) lookup(a ask) (*dns.Msg, bool) {
	h.t.Helper()
	b, q := a.wire(h.t)
	out, hit := h.c.Lookup(nil, b, &q, lim)
	if !hit {
		return nil, false
	}
	return unpack(h.t, out), true
}

// resolve answers like the server does: the cache, else the resolver.
func (h *harness) resolve(a ask) *dns.Msg {
	h.t.Helper()
	if m, ok := h.lookup(a); ok {
		return m
	}
	b, q := a.wire(h.t)
	return unpack(h.t, h.c.Resolve(context.Background(), nil, b, &q, lim))
}

func ttls(m *dns.Msg) []uint32 {
	var out []uint32
	for _, s := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range s {
			if rr.Header().Rrtype != dns.TypeOPT {
				out = append(out, rr.Header().Ttl)
			}
		}
	}
	return out
}

func TestTTLCountdownAndCaps(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		answer    func(q dnswire.Question) (*dns.Msg, error)
		steps     []time.Duration // clock advances before each later query
		wantTTLs  []uint32        // TTL of the first record at each query
		wantHits  []bool
		wantCalls int
	}{
		{
			name:      "positive TTL counts down then expires",
			cfg:       Config{SuccessTTL: time.Hour},
			answer:    positive(20),
			steps:     []time.Duration{0, 5 * time.Second, 14*time.Second + 999*time.Millisecond, time.Millisecond},
			wantTTLs:  []uint32{20, 15, 1, 20},
			wantHits:  []bool{false, true, true, false},
			wantCalls: 2,
		},
		{
			name:      "success TTL caps a long TTL",
			cfg:       Config{SuccessTTL: 30 * time.Second},
			answer:    positive(3600),
			steps:     []time.Duration{0, 10 * time.Second, 20 * time.Second},
			wantTTLs:  []uint32{30, 20, 30},
			wantHits:  []bool{false, true, false},
			wantCalls: 2,
		},
		{
			name: "NXDOMAIN cached for min(SOA TTL, SOA MINIMUM)",
			cfg:  Config{DenialTTL: time.Hour},
			answer: func(q dnswire.Question) (*dns.Msg, error) {
				return reply(q, dns.RcodeNameError, "example. 60 IN SOA ns.example. host.example. 1 7200 900 1209600 10"), nil
			},
			steps:     []time.Duration{0, 4 * time.Second, 6 * time.Second},
			wantTTLs:  []uint32{10, 6, 10},
			wantHits:  []bool{false, true, false},
			wantCalls: 2,
		},
		{
			name: "NODATA cached with SOA TTL below MINIMUM",
			cfg:  Config{DenialTTL: time.Hour},
			answer: func(q dnswire.Question) (*dns.Msg, error) {
				return reply(q, dns.RcodeSuccess, "example. 8 IN SOA ns.example. host.example. 1 7200 900 1209600 300"), nil
			},
			steps:     []time.Duration{0, 7 * time.Second, time.Second},
			wantTTLs:  []uint32{8, 1, 8},
			wantHits:  []bool{false, true, false},
			wantCalls: 2,
		},
		{
			name: "denial TTL caps the SOA TTL",
			cfg:  Config{DenialTTL: 5 * time.Second},
			answer: func(q dnswire.Question) (*dns.Msg, error) {
				return reply(q, dns.RcodeNameError, "example. 600 IN SOA ns.example. host.example. 1 7200 900 1209600 600"), nil
			},
			steps:     []time.Duration{0, 4 * time.Second, time.Second},
			wantTTLs:  []uint32{5, 1, 5},
			wantHits:  []bool{false, true, false},
			wantCalls: 2,
		},
		{
			name: "NXDOMAIN without SOA is not cached",
			answer: func(q dnswire.Question) (*dns.Msg, error) {
				return reply(q, dns.RcodeNameError), nil
			},
			steps:     []time.Duration{0, 0},
			wantTTLs:  []uint32{0, 0},
			wantHits:  []bool{false, false},
			wantCalls: 2,
		},
		{
			name: "SERVFAIL is not cached",
			answer: func(q dnswire.Question) (*dns.Msg, error) {
				return reply(q, dns.RcodeServerFailure), nil
			},
			steps:     []time.Duration{0, 0},
			wantTTLs:  []uint32{0, 0},
			wantHits:  []bool{false, false},
			wantCalls: 2,
		},
		{
			name: "truncated answer is not cached",
			answer: func(q dnswire.Question) (*dns.Msg, error) {
				m := reply(q, dns.RcodeSuccess, q.Name+" 60 IN A 192.0.2.1")
				m.Truncated = true
				return m, nil
			},
			steps:     []time.Duration{0, 0},
			wantTTLs:  []uint32{60, 60},
			wantHits:  []bool{false, false},
			wantCalls: 2,
		},
		{
			name:      "zero TTL is not cached",
			answer:    positive(0),
			steps:     []time.Duration{0, 0},
			wantTTLs:  []uint32{0, 0},
			wantHits:  []bool{false, false},
			wantCalls: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.PrefetchHits = -1
			h := newHarness(t, tt.cfg, tt.answer)
			for i, step := range tt.steps {
				h.clock.Step(step)
				m, hit := h.lookup(ask{name: "host.example."})
				if hit != tt.wantHits[i] {
					t.Fatalf("query %d: hit = %v, want %v", i, hit, tt.wantHits[i])
				}
				if !hit {
					m = h.resolve(ask{name: "host.example."})
				}
				var got uint32
				if all := ttls(m); len(all) > 0 {
					got = all[0]
				}
				if got != tt.wantTTLs[i] {
					t.Errorf("query %d: TTL %d, want %d (answer %v)", i, got, tt.wantTTLs[i], m)
				}
			}
			if got := h.r.count("host.example."); got != tt.wantCalls {
				t.Errorf("upstream queries = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestAllTTLsCountDownTogether(t *testing.T) {
	h := newHarness(t, Config{SuccessTTL: time.Hour}, func(q dnswire.Question) (*dns.Msg, error) {
		m := reply(q, dns.RcodeSuccess, q.Name+" 300 IN CNAME b.example.", "b.example. 40 IN A 192.0.2.2")
		m.Ns = []dns.RR{reply(q, 0, "example. 100 IN NS ns.example.").Answer[0]}
		return m, nil
	})
	h.resolve(ask{name: "a.example."})
	h.clock.Step(15 * time.Second)
	m, hit := h.lookup(ask{name: "a.example."})
	if !hit {
		t.Fatal("want a hit")
	}
	for _, ttl := range ttls(m) {
		if ttl != 25 {
			t.Errorf("TTLs %v, want all 25 (minimum 40 less 15 seconds)", ttls(m))
			break
		}
	}
}

func TestCasePreservedAndKeys(t *testing.T) {
	h := newHarness(t, Config{}, positive(60))
	first := h.resolve(ask{name: "MiXeD.Example."})
	if first.Question[0].Name != "MiXeD.Example." || first.Answer[0].Header().Name != "MiXeD.Example." {
		t.Errorf("first answer %v does not keep the query's case", first)
	}
	tests := []struct {
		name    string
		ask     ask
		wantHit bool
	}{
		{"other case hits", ask{name: "mixed.EXAMPLE."}, true},
		{"DO bit is a different key", ask{name: "mixed.example.", do: true}, false},
		{"CD bit is a different key", ask{name: "mixed.example.", cd: true}, false},
		{"type is a different key", ask{name: "mixed.example.", qtype: dns.TypeAAAA}, false},
		{"EDNS without DO shares the key", ask{name: "MIXED.example.", edns: 4096}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, hit := h.lookup(tt.ask)
			if hit != tt.wantHit {
				t.Fatalf("hit = %v, want %v", hit, tt.wantHit)
			}
			if !hit {
				return
			}
			if m.Question[0].Name != tt.ask.name || m.Answer[0].Header().Name != tt.ask.name {
				t.Errorf("answer %v does not keep the query's case %q", m, tt.ask.name)
			}
			if (m.IsEdns0() != nil) != (tt.ask.edns > 0 || tt.ask.do) {
				t.Errorf("OPT present = %v, want %v", m.IsEdns0() != nil, tt.ask.edns > 0)
			}
		})
	}
}

func TestLRUEviction(t *testing.T) {
	h := newHarness(t, Config{MaxEntries: 2}, positive(60))
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(h.c.Collectors()...)

	h.resolve(ask{name: "a.example."})
	h.resolve(ask{name: "b.example."})
	if _, hit := h.lookup(ask{name: "a.example."}); !hit { // a is now the most recent
		t.Fatal("a should be cached")
	}
	h.resolve(ask{name: "c.example."}) // evicts b, the least recently used

	for name, want := range map[string]bool{"a.example.": true, "b.example.": false, "c.example.": true} {
		if _, hit := h.lookup(ask{name: name}); hit != want {
			t.Errorf("%s cached = %v, want %v", name, hit, want)
		}
	}
	if got := h.c.Len(); got != 2 {
		t.Errorf("Len() = %d, want 2", got)
	}
	if got := testutil.ToFloat64(h.c.metrics.evictions); got != 1 {
		t.Errorf("evictions = %v, want 1", got)
	}
	if n, err := testutil.GatherAndCount(reg, "node_cache_cache_entries", "node_cache_cache_hits_total", "node_cache_cache_misses_total"); err != nil || n != 3 {
		t.Errorf("gathered %d metrics, err %v", n, err)
	}
}

func TestCoalescing(t *testing.T) {
	const n = 25
	release := make(chan struct{})
	h := newHarness(t, Config{}, func(q dnswire.Question) (*dns.Msg, error) {
		<-release
		return positive(60)(q)
	})
	key := string(func() []byte { b, q := ask{name: "busy.example."}.wire(t); return dnswire.AppendKey(nil, b, &q) }())

	var wg sync.WaitGroup
	answers := make([]*dns.Msg, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "busy.example."
			if i%2 == 1 {
				name = "BUSY.example."
			}
			b, q := ask{name: name}.wire(t)
			m := new(dns.Msg)
			if err := m.Unpack(h.c.Resolve(context.Background(), nil, b, &q, lim)); err == nil {
				answers[i] = m
			}
		}()
	}
	// Wait until every caller but the first joined the flight.
	for h.c.flights.waiting(key) != n-1 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()

	if got := h.r.count("busy.example."); got != 1 {
		t.Errorf("upstream queries = %d, want 1", got)
	}
	for i, m := range answers {
		if m == nil || len(m.Answer) != 1 || m.Rcode != dns.RcodeSuccess {
			t.Fatalf("caller %d got %v", i, m)
		}
		want := "busy.example."
		if i%2 == 1 {
			want = "BUSY.example."
		}
		if m.Question[0].Name != want || m.Answer[0].Header().Name != want {
			t.Errorf("caller %d: answer %v, want case %q", i, m, want)
		}
	}
}

func TestCoalescedWaiterCanGiveUp(t *testing.T) {
	release := make(chan struct{})
	h := newHarness(t, Config{}, func(q dnswire.Question) (*dns.Msg, error) {
		<-release
		return positive(60)(q)
	})
	b, q := ask{name: "slow.example."}.wire(t)
	key := string(dnswire.AppendKey(nil, b, &q))
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.c.Resolve(context.Background(), nil, b, &q, lim)
	}()
	for h.c.flights.waiting(key) != 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := unpack(t, h.c.Resolve(ctx, nil, b, &q, lim))
	if m.Rcode != dns.RcodeServerFailure {
		t.Errorf("abandoned waiter got %v, want SERVFAIL", dns.RcodeToString[m.Rcode])
	}
	close(release)
	<-done
}

func TestPrefetch(t *testing.T) {
	var serial atomic.Int32
	h := newHarness(t, Config{PrefetchHits: 3, PrefetchPercent: 10}, func(q dnswire.Question) (*dns.Msg, error) {
		return reply(q, dns.RcodeSuccess, fmt.Sprintf("%s 30 IN A 192.0.2.%d", q.Name, serial.Add(1))), nil
	})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(h.c.Collectors()...)
	h.resolve(ask{name: "hot.example."})

	// Popular but far from expiry: no prefetch.
	for range 5 {
		h.lookup(ask{name: "hot.example."})
	}
	h.c.Wait()
	if got := h.r.count("hot.example."); got != 1 {
		t.Fatalf("upstream queries = %d before the prefetch window, want 1", got)
	}

	// 28s in, 2s (under 10% of 30s) remain: the next hit prefetches.
	h.clock.Step(28 * time.Second)
	m, hit := h.lookup(ask{name: "hot.example."})
	if !hit || m.Answer[0].(*dns.A).A.String() != "192.0.2.1" || m.Answer[0].Header().Ttl != 2 {
		t.Fatalf("hit %v answer %v, want the old record with TTL 2", hit, m)
	}
	h.c.Wait()
	if got := h.r.count("hot.example."); got != 2 {
		t.Fatalf("upstream queries = %d after the prefetch, want 2", got)
	}
	if got := testutil.ToFloat64(h.c.metrics.prefetches); got != 1 {
		t.Errorf("prefetches = %v, want 1", got)
	}

	// Past the original expiry the refreshed entry answers.
	h.clock.Step(5 * time.Second)
	m, hit = h.lookup(ask{name: "hot.example."})
	if !hit || m.Answer[0].(*dns.A).A.String() != "192.0.2.2" || m.Answer[0].Header().Ttl != 25 {
		t.Errorf("hit %v answer %v, want the prefetched record with TTL 25", hit, m)
	}
}

func TestPrefetchNeedsHits(t *testing.T) {
	h := newHarness(t, Config{PrefetchHits: 3}, positive(30))
	h.resolve(ask{name: "cold.example."})
	h.clock.Step(29 * time.Second)
	h.lookup(ask{name: "cold.example."}) // hit 1
	h.lookup(ask{name: "cold.example."}) // hit 2
	h.c.Wait()
	if got := h.r.count("cold.example."); got != 1 {
		t.Errorf("upstream queries = %d, want 1: two hits are below the threshold", got)
	}
}

func TestServeStale(t *testing.T) {
	tests := []struct {
		name    string
		failure func(q dnswire.Question) (*dns.Msg, error)
	}{
		{"upstream error", failing},
		{"upstream SERVFAIL", func(q dnswire.Question) (*dns.Msg, error) { return reply(q, dns.RcodeServerFailure), nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{ServeStale: time.Hour, PrefetchHits: -1}, positive(10))
			h.resolve(ask{name: "s.example."})
			h.r.set(tt.failure)

			steps := []struct {
				step     time.Duration
				rcode    int
				ttl      uint32
				answered bool
			}{
				{11 * time.Second, dns.RcodeSuccess, StaleTTL, true}, // expired 1s ago: stale
				{59 * time.Minute, dns.RcodeSuccess, StaleTTL, true}, // still within the hour
				{time.Minute, dns.RcodeServerFailure, 0, false},      // 1h past expiry: gone
				{0, dns.RcodeServerFailure, 0, false},                // and stays gone
			}
			for i, s := range steps {
				h.clock.Step(s.step)
				m := h.resolve(ask{name: "s.example."})
				if m.Rcode != s.rcode || (len(m.Answer) > 0) != s.answered {
					t.Fatalf("step %d: answer %v, want rcode %s", i, m, dns.RcodeToString[s.rcode])
				}
				if s.answered && m.Answer[0].Header().Ttl != s.ttl {
					t.Errorf("step %d: TTL %d, want %d", i, m.Answer[0].Header().Ttl, s.ttl)
				}
			}
			if got := testutil.ToFloat64(h.c.metrics.stale); got != 2 {
				t.Errorf("stale answers = %v, want 2", got)
			}
			// The upstream recovers: a fresh answer replaces the stale one.
			h.r.set(positive(10))
			if m := h.resolve(ask{name: "s.example."}); m.Rcode != dns.RcodeSuccess || m.Answer[0].Header().Ttl != 10 {
				t.Errorf("after recovery: %v", m)
			}
		})
	}
}

func TestServeStaleDisabled(t *testing.T) {
	h := newHarness(t, Config{ServeStale: -1}, positive(10))
	h.resolve(ask{name: "s.example."})
	h.r.set(failing)
	h.clock.Step(11 * time.Second)
	if m := h.resolve(ask{name: "s.example."}); m.Rcode != dns.RcodeServerFailure {
		t.Errorf("got %v, want SERVFAIL with serve-stale disabled", m)
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	h := newHarness(t, Config{}, positive(60))
	h.resolve(ask{name: "fast.example."})
	b, q := ask{name: "FAST.example.", edns: 1232}.wire(t)
	dst := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		if _, hit := h.c.Lookup(dst, b, &q, lim); !hit {
			t.Fatal("want a hit")
		}
	})
	if allocs != 0 {
		t.Errorf("Lookup allocates %v times per hit, want 0", allocs)
	}
}

func TestSetTTLCaps(t *testing.T) {
	nx := func(q dnswire.Question) (*dns.Msg, error) {
		if strings.HasPrefix(q.Name, "nx") {
			return reply(q, dns.RcodeNameError, "example. 600 IN SOA ns.example. host.example. 1 7200 900 1209600 600"), nil
		}
		return positive(3600)(q)
	}
	h := newHarness(t, Config{SuccessTTL: 30 * time.Second, DenialTTL: 5 * time.Second}, nx)
	if got := ttls(h.resolve(ask{name: "before.example."})); got[0] != 30 {
		t.Fatalf("TTL before SetTTLCaps = %d, want 30", got[0])
	}
	if err := h.c.SetTTLCaps(10*time.Second, 2*time.Second); err != nil {
		t.Fatalf("SetTTLCaps() = %v", err)
	}
	if got := ttls(h.resolve(ask{name: "after.example."})); got[0] != 10 {
		t.Errorf("positive TTL after SetTTLCaps = %d, want the new cap 10", got[0])
	}
	if got := ttls(h.resolve(ask{name: "nx.example."})); got[0] != 2 {
		t.Errorf("negative TTL after SetTTLCaps = %d, want the new cap 2", got[0])
	}
	h.clock.Step(15 * time.Second)
	if m, hit := h.lookup(ask{name: "before.example."}); !hit || ttls(m)[0] != 15 {
		t.Errorf("an answer cached before SetTTLCaps: hit %v, answer %v; want it kept with its own TTL (15 left)", hit, m)
	}

	if err := h.c.SetTTLCaps(0, 0); err != nil {
		t.Fatalf("SetTTLCaps(0, 0) = %v", err)
	}
	if got := ttls(h.resolve(ask{name: "defaults.example."})); got[0] != uint32(DefaultSuccessTTL/time.Second) {
		t.Errorf("TTL with default caps = %d, want %v", got[0], DefaultSuccessTTL)
	}
	if err := h.c.SetTTLCaps(500*time.Millisecond, time.Second); err == nil {
		t.Error("SetTTLCaps(500ms, 1s) succeeded, want an error for a cap under 1s")
	}
	if got := ttls(h.resolve(ask{name: "still.example."})); got[0] != uint32(DefaultSuccessTTL/time.Second) {
		t.Errorf("TTL after a rejected SetTTLCaps = %d, want the caps unchanged", got[0])
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"defaults", Config{}, false},
		{"negative entries", Config{MaxEntries: -1}, true},
		{"sub-second TTL cap", Config{SuccessTTL: time.Millisecond}, true},
		{"percentage out of range", Config{PrefetchPercent: 100}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.WithDefaults().Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func BenchmarkLookupHit(b *testing.B) {
	c, err := New(Config{}, &fakeResolver{answer: positive(3600)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	m := new(dns.Msg)
	m.SetQuestion("bench.example.", dns.TypeA)
	msg, _ := m.Pack()
	var q dnswire.Query
	_ = dnswire.ParseQuery(msg, &q)
	c.Resolve(context.Background(), nil, msg, &q, lim)
	dst := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		_ = dnswire.ParseQuery(msg, &q)
		c.Lookup(dst, msg, &q, lim)
	}
}
