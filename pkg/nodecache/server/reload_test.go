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
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"signet.dev/signet/pkg/nodecache/internal/dnstest"
)

func TestReload(t *testing.T) {
	var cfg Config
	e := newEnv(t, func(c *Config) { cfg = *c })
	cluster2 := dnstest.Start(t, dnstest.Options{TCPOnly: true, MaxTCPQueries: -1}, clusterHandler)
	stub2 := dnstest.Start(t, dnstest.Options{}, fixedA("192.0.2.100"))
	ctx := context.Background()
	ttl := func(m *dns.Msg) uint32 {
		t.Helper()
		if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
			t.Fatalf("answer %v", m)
		}
		return m.Answer[0].Header().Ttl
	}
	if got := ttl(exchange(t, "udp", e.addr, newQuery("www.example.com.", dns.TypeA))); got != 30 {
		t.Fatalf("TTL before reload %d, want the default cap 30", got)
	}

	t.Run("upstreams, stub domains and TTLs change", func(t *testing.T) {
		next := cfg
		next.ClusterDNS = []string{cluster2.Addr}
		next.StubDomains = map[string][]string{"acme.test": {stub2.Addr}, "corp.test": {stub2.Addr}}
		next.Cache.SuccessTTL = 10 * time.Second
		if err := e.srv.Reload(ctx, next); err != nil {
			t.Fatalf("Reload() = %v", err)
		}
		for _, tt := range []struct {
			qname string
			want  *dnstest.Upstream
			other *dnstest.Upstream
		}{
			{"svc.ns.svc.cluster.local.", cluster2, e.cluster},
			{"db.acme.test.", stub2, e.stub},
			{"db.corp.test.", stub2, e.dflt},
		} {
			exchange(t, "udp", e.addr, newQuery(tt.qname, dns.TypeA))
			if got := len(tt.want.Queries(tt.qname)); got != 1 {
				t.Errorf("%s: new upstream got %d queries, want 1", tt.qname, got)
			}
			if got := len(tt.other.Queries(tt.qname)); got != 0 {
				t.Errorf("%s: previous upstream got %d queries, want 0", tt.qname, got)
			}
		}
		if got := ttl(exchange(t, "udp", e.addr, newQuery("new.example.com.", dns.TypeA))); got != 10 {
			t.Errorf("TTL after reload %d, want the new cap 10", got)
		}
		if got := cluster2.Count("udp"); got != 0 {
			t.Errorf("new cluster DNS got %d UDP queries, want TCP only", got)
		}
		cfg = next
	})

	// Each failure below must leave the configuration of the last subtest.
	stillReloaded := func(t *testing.T) {
		t.Helper()
		qname := strings.ToLower(t.Name()[strings.LastIndex(t.Name(), "/")+1:]) + ".cluster.local."
		exchange(t, "tcp", e.addr, newQuery(qname, dns.TypeA))
		if got := len(cluster2.Queries(qname)); got != 1 {
			t.Errorf("after a failed reload the current cluster DNS got %d queries, want 1", got)
		}
	}
	for _, tt := range []struct {
		name    string
		mutate  func(*Config)
		wantErr error
		wantMsg string
	}{
		{"listen-addresses", func(c *Config) { c.ListenAddrs = []string{"127.0.0.1:0", "[::1]:0"} }, ErrNotReloadable, "ListenAddrs"},
		{"cache-size", func(c *Config) { c.Cache.MaxEntries = 5; c.MaxUDPSize = 1232 }, ErrNotReloadable, "MaxUDPSize, Cache.MaxEntries"},
		{"loop-to-self", func(c *Config) { c.StubDomains = map[string][]string{"self.test": {e.addr}} }, ErrForwardingLoop, e.addr},
		{"invalid", func(c *Config) { c.ClusterDNS = nil }, nil, "cluster DNS server is required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			next := cfg
			next.StubDomains = map[string][]string{"acme.test": {stub2.Addr}} // drops corp.test if applied
			tt.mutate(&next)
			err := e.srv.Reload(ctx, next)
			if err == nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Reload() = %v, want an error (%v) mentioning %q", err, tt.wantErr, tt.wantMsg)
			}
			stillReloaded(t)
			if g := e.srv.Forwarder().Route("x.corp.test."); g.Name() != "stub corp.test." {
				t.Errorf("after a failed reload corp.test goes to group %q, want it kept as a stub domain", g.Name())
			}
		})
	}
}

func TestReloadProbesForLoops(t *testing.T) {
	var srv atomic.Pointer[Server]
	relay := dnstest.Start(t, dnstest.Options{}, func(w dns.ResponseWriter, r *dns.Msg) {
		resp, _, err := (&dns.Client{Net: "udp", Timeout: time.Second}).Exchange(r, srv.Load().Addrs()[0])
		if err != nil {
			resp = new(dns.Msg)
			resp.SetRcode(r, dns.RcodeServerFailure)
		}
		_ = w.WriteMsg(resp)
	})
	var cfg Config
	e := newEnv(t, func(c *Config) { c.LoopProbeTimeout = time.Second; cfg = *c })
	srv.Store(e.srv)
	next := cfg
	next.UpstreamServers = []string{relay.Addr}
	err := e.srv.Reload(context.Background(), next)
	if !errors.Is(err, ErrForwardingLoop) || !strings.Contains(err.Error(), relay.Addr) {
		t.Fatalf("Reload() = %v, want ErrForwardingLoop naming %s", err, relay.Addr)
	}
	if got := e.srv.Forwarder().Route("www.example.com.").Upstreams()[0].Addr(); got != e.dflt.Addr {
		t.Errorf("after a reload refused for a loop, names go to %s, want the previous upstream %s", got, e.dflt.Addr)
	}
	exchange(t, "udp", e.addr, newQuery("after.example.com.", dns.TypeA))
	if got := len(e.dflt.Queries("after.example.com.")); got != 1 {
		t.Errorf("previous upstream got %d queries after the refused reload, want 1", got)
	}
	if !e.srv.Serving() {
		t.Error("server stopped serving after a refused reload")
	}
}
