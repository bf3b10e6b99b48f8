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

// Package dnsbench holds Go benchmarks of node-cache's server over real UDP
// sockets, to profile what `make bench-dns` measures end to end:
//
//	go test ./test/bench/dns -run '^$' -bench . -benchmem -cpuprofile cpu.out
//
// Client, server and upstream share the process, so ns/op is a whole round
// trip. The client neither allocates nor parses, so allocs/op is what the
// server allocates per query.
package dnsbench

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"

	"signet.dev/signet/pkg/nodecache/server"
)

// TestMain keeps the server's logs out of the benchmark output.
func TestMain(m *testing.M) {
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	os.Exit(m.Run())
}

// startUpstream serves every name under cluster.local. with one A record
// (TTL 30) over TCP, as cluster DNS, and returns its address.
func startUpstream(b *testing.B) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &dns.Server{
		Listener:      l,
		MaxTCPQueries: -1,
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
			m := new(dns.Msg).SetReply(req)
			if len(req.Question) == 1 && req.Question[0].Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: req.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 30},
					A:   net.IPv4(10, 0, 0, 1),
				})
			}
			_ = w.WriteMsg(m)
		}),
	}
	go func() { _ = srv.ActivateAndServe() }()
	b.Cleanup(func() { _ = srv.Shutdown() })
	return l.Addr().String()
}

// startNodeCache starts node-cache's server on a free loopback port with one
// UDP reader, cluster DNS and every other upstream at upstream.
func startNodeCache(b *testing.B, upstream string) *net.UDPConn {
	b.Helper()
	srv, err := server.New(server.Config{
		ListenAddrs:      []string{"127.0.0.1:0"},
		ClusterDNS:       []string{upstream},
		UpstreamServers:  []string{upstream},
		UDPReaders:       1,
		DisableLoopProbe: true,
	}, prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		cancel()
		b.Fatal(err)
	}
	b.Cleanup(func() {
		shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		_ = srv.Shutdown(shutdownCtx)
		cancel()
	})
	raddr, err := net.ResolveUDPAddr("udp", srv.Addrs()[0])
	if err != nil {
		b.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	if err := c.SetReadBuffer(4 << 20); err != nil {
		b.Fatal(err)
	}
	return c
}

// query packs an A query for name with message ID id.
func query(b *testing.B, name string, id uint16) []byte {
	b.Helper()
	m := new(dns.Msg).SetQuestion(name, dns.TypeA)
	m.Id = id
	p, err := m.Pack()
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// roundTrips sends the queries window at a time, reading every answer of a
// window before sending the next, until b.N answers came back. next returns
// the query to send; the ID of each answer must be the one sent.
func roundTrips(b *testing.B, c *net.UDPConn, window int, next func(i int) []byte) {
	b.Helper()
	buf := make([]byte, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for sent := 0; sent < b.N; {
		n := min(window, b.N-sent)
		for i := 0; i < n; i++ {
			if _, err := c.Write(next(sent + i)); err != nil {
				b.Fatal(err)
			}
		}
		for i := 0; i < n; i++ {
			if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
				b.Fatal(err)
			}
			got, err := c.Read(buf)
			if err != nil {
				b.Fatalf("answer %d of %d: %v", sent+i, b.N, err)
			}
			if got < 12 || buf[3]&0x0f != dns.RcodeSuccess {
				b.Fatalf("answer %d: %d bytes, rcode %d", sent+i, got, buf[3]&0x0f)
			}
		}
		sent += n
	}
}

// BenchmarkUDPHit: 100 names, cached before the timer starts, asked in turn
// (window 1: one query in flight; window 64: like dnsperf's saturation run).
func BenchmarkUDPHit(b *testing.B) {
	for _, window := range []int{1, 64} {
		b.Run("window="+strconv.Itoa(window), func(b *testing.B) {
			c := startNodeCache(b, startUpstream(b))
			queries := make([][]byte, 100)
			for i := range queries {
				queries[i] = query(b, "svc-"+strconv.Itoa(i)+".ns.svc.cluster.local.", uint16(i))
			}
			// Cache them: one at a time, so each miss completes.
			buf := make([]byte, 4096)
			for _, q := range queries {
				if _, err := c.Write(q); err != nil {
					b.Fatal(err)
				}
				if _, err := c.Read(buf); err != nil {
					b.Fatal(err)
				}
			}
			roundTrips(b, c, window, func(i int) []byte { return queries[i%len(queries)] })
		})
	}
}

// BenchmarkUDPMiss: every query a new name, resolved over TCP by the
// upstream in the same process.
func BenchmarkUDPMiss(b *testing.B) {
	c := startNodeCache(b, startUpstream(b))
	// "m<10 digits>.ns.svc.cluster.local.": the digits are rewritten in
	// place for each query, so the client does not allocate.
	q := query(b, "m0000000000.ns.svc.cluster.local.", 1)
	const digitsAt = 12 + 2 // header, length byte, 'm'
	roundTrips(b, c, 64, func(i int) []byte {
		v := uint64(i)
		for d := digitsAt + 9; d >= digitsAt; d-- {
			q[d] = byte('0' + v%10)
			v /= 10
		}
		binary.BigEndian.PutUint16(q, uint16(i))
		return q
	})
}
