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

package proxy

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	networkingv1 "signet.dev/api/networking/v1"
)

// The benchmarks run the whole HTTP/1.1 path over loopback: a client
// connection, the proxy, a pooled backend connection and a minimal
// backend. Client and backend are written not to allocate, so that
// allocs/op (-benchmem) is the proxy's.

var benchResponse = []byte("HTTP/1.1 200 OK\r\nServer: bench\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n" +
	"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789")

// startBenchBackend answers every request head with benchResponse.
func startBenchBackend(b *testing.B) netip.AddrPort {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 8192)
				n := 0
				for {
					m, err := c.Read(buf[n:])
					if err != nil {
						return
					}
					n += m
					for {
						i := bytes.Index(buf[:n], []byte("\r\n\r\n"))
						if i < 0 {
							break
						}
						if _, err := c.Write(benchResponse); err != nil {
							return
						}
						n = copy(buf, buf[i+4:n])
					}
				}
			}()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

func startBenchProxy(b *testing.B) string {
	b.Helper()
	backend := startBenchBackend(b)
	p, err := New(Options{HTTPAddrs: []string{"127.0.0.1:0"}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx)
	}()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	for !p.bound.Load() {
		time.Sleep(time.Millisecond)
	}
	table := []*networkingv1.Ingress{testIngress("bench", 0,
		testRule("bench.example.com", prefixPath("/", "svc"), exactPath("/exact", "svc")),
		testRule("other.example.com", prefixPath("/api", "svc")))}
	cfg := buildConfig(b, table, map[string]*Backend{"svc": serviceBackend("svc", backend)})
	p.Update(cfg)
	return p.Addrs()[0].String()
}

var benchRequest = []byte("GET /index.html?x=1 HTTP/1.1\r\nHost: bench.example.com\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")

// benchClient sends one request at a time on c and reads each response
// (Content-Length 100 after a head), without allocating.
type benchClient struct {
	c   net.Conn
	buf []byte
	n   int
}

func (bc *benchClient) roundTrip() error {
	if _, err := bc.c.Write(benchRequest); err != nil {
		return err
	}
	for {
		if i := bytes.Index(bc.buf[:bc.n], []byte("\r\n\r\n")); i >= 0 && bc.n >= i+4+100 {
			bc.n = copy(bc.buf, bc.buf[i+4+100:bc.n])
			return nil
		}
		m, err := bc.c.Read(bc.buf[bc.n:])
		if err != nil {
			return err
		}
		if m == 0 {
			return io.ErrNoProgress
		}
		bc.n += m
	}
}

func dialBench(b *testing.B, addr string) *benchClient {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	return &benchClient{c: c, buf: make([]byte, 8192)}
}

// BenchmarkProxyHTTP1 sends requests one after another on one keep-alive
// connection.
func BenchmarkProxyHTTP1(b *testing.B) {
	addr := startBenchProxy(b)
	bc := dialBench(b, addr)
	defer bc.c.Close()
	for range 100 { // warm the pools
		if err := bc.roundTrip(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := bc.roundTrip(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProxyHTTP1Parallel keeps 16 connections per GOMAXPROCS busy.
func BenchmarkProxyHTTP1Parallel(b *testing.B) {
	addr := startBenchProxy(b)
	b.ReportAllocs()
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		bc := dialBench(b, addr)
		defer bc.c.Close()
		for pb.Next() {
			if err := bc.roundTrip(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkParseRequest measures parsing a typical request head.
func BenchmarkParseRequest(b *testing.B) {
	head := []byte("GET /api/v1/items?id=42 HTTP/1.1\r\nHost: bench.example.com\r\nUser-Agent: Mozilla/5.0\r\n" +
		"Accept: text/html,application/xhtml+xml\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\n" +
		"Connection: keep-alive\r\nCookie: a=b; c=d\r\n\r\n")
	var r request
	var fields [maxFields]field
	b.ReportAllocs()
	b.SetBytes(int64(len(head)))
	for range b.N {
		if n, err := parseRequest(head, &r, fields[:0]); n != len(head) || err != nil {
			b.Fatal(n, err)
		}
	}
}
