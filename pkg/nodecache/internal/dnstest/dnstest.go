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

// Package dnstest runs miekg/dns servers on 127.0.0.1 for node-cache tests
// and records what they were asked.
package dnstest

import (
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// Query is one query an Upstream received.
type Query struct {
	// Network is "udp" or "tcp".
	Network string
	// Msg is the query.
	Msg *dns.Msg
}

// Upstream is a DNS server on 127.0.0.1, UDP and TCP on one port.
type Upstream struct {
	// Addr is the host:port it serves on.
	Addr string

	accepted atomic.Int32
	servers  []*dns.Server
	mu       sync.Mutex
	queries  []Query
}

// Options tune an Upstream.
type Options struct {
	// MaxTCPQueries closes a TCP connection after this many queries;
	// 0 means miekg/dns's default of 128, -1 unlimited.
	MaxTCPQueries int
	// TCPOnly serves TCP only; UDP queries get no answer.
	TCPOnly bool
}

// Start serves handler until the test ends.
func Start(t testing.TB, opts Options, handler dns.HandlerFunc) *Upstream {
	t.Helper()
	u := &Upstream{}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		u.mu.Lock()
		u.queries = append(u.queries, Query{Network: w.RemoteAddr().Network(), Msg: r.Copy()})
		u.mu.Unlock()
		handler(w, r)
	})
	var pc net.PacketConn
	var ln net.Listener
	for {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
	}
	u.Addr = pc.LocalAddr().String()
	servers := []*dns.Server{{Listener: &countingListener{Listener: ln, n: &u.accepted}, Handler: h, MaxTCPQueries: opts.MaxTCPQueries}}
	if opts.TCPOnly {
		t.Cleanup(func() { pc.Close() })
	} else {
		servers = append(servers, &dns.Server{PacketConn: pc, Handler: h})
	}
	u.servers = servers
	for _, s := range servers {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go func() { _ = s.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = s.Shutdown() })
	}
	return u
}

// Close stops serving; later queries fail.
func (u *Upstream) Close() {
	for _, s := range u.servers {
		_ = s.Shutdown()
	}
}

// Accepted returns the number of TCP connections accepted.
func (u *Upstream) Accepted() int { return int(u.accepted.Load()) }

// Queries returns the queries received for name (any case), or all queries
// when name is empty.
func (u *Upstream) Queries(name string) []Query {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []Query
	for _, q := range u.queries {
		if name == "" || strings.EqualFold(q.Msg.Question[0].Name, name) {
			out = append(out, q)
		}
	}
	return out
}

// Count returns how many queries came over network ("udp" or "tcp").
func (u *Upstream) Count(network string) int {
	n := 0
	for _, q := range u.Queries("") {
		if q.Network == network {
			n++
		}
	}
	return n
}

type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// Reply returns a reply to r with the given records, parsed from zone-file
// lines; SOA records go to the authority section.
func Reply(r *dns.Msg, rcode int, records ...string) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(r, rcode)
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		if rr.Header().Rrtype == dns.TypeSOA {
			m.Ns = append(m.Ns, rr)
		} else {
			m.Answer = append(m.Answer, rr)
		}
	}
	return m
}
