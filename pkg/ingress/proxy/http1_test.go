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
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	networkingv1 "signet.dev/api/networking/v1"
)

// routingSetup runs a proxy with three backends:
//
//	foo.example.com  Prefix /     -> a
//	foo.example.com  Exact  /api  -> b
//	*.example.com    Prefix /wild -> b
//	(any host)       Prefix /any  -> c
//	default backend             -> none (404)
func routingSetup(t *testing.T, opts Options) (*testProxy, map[string]*testBackend) {
	t.Helper()
	bs := map[string]*testBackend{}
	backends := map[string]*Backend{}
	for _, n := range []string{"a", "b", "c"} {
		bs[n] = startBackend(t, n, "127.0.0.1:0")
		backends[n] = serviceBackend(n, bs[n].addr())
	}
	cfg := buildConfig(t, []*networkingv1.Ingress{
		testIngress("test", 0,
			testRule("foo.example.com", prefixPath("/", "a"), exactPath("/api", "b")),
			testRule("*.example.com", prefixPath("/wild", "b")),
			testRule("", prefixPath("/any", "c")),
		),
	}, backends)
	tp := startProxy(t, opts)
	tp.Update(cfg)
	return tp, bs
}

func TestRouting(t *testing.T) {
	tp, _ := routingSetup(t, Options{})
	c := tp.client()
	for _, tc := range []struct {
		name, url string
		status    int
		backend   string
	}{
		{"exact host prefix", "http://foo.example.com/x/y", 200, "a"},
		{"host case and port", "http://FOO.Example.com:8080/", 200, "a"},
		{"exact path wins", "http://foo.example.com/api", 200, "b"},
		{"exact path only exact", "http://foo.example.com/api/", 200, "a"},
		{"wildcard host", "http://bar.example.com/wild/1", 200, "b"},
		{"wildcard one label only", "http://a.bar.example.com/wild", 404, ""},
		{"any host", "http://10.0.0.1/any", 200, "c"},
		{"exact host falls through to any host", "http://foo.example.com/any", 200, "a"},
		{"no route", "http://other.org/", 404, ""},
		{"query ignored", "http://other.org/any?x=/wild", 200, "c"},
		{"dot segments normalised", "http://other.org/x/../any/1", 200, "c"},
		{"escaped path normalised", "http://other.org/%61ny", 200, "c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, tc.url)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tc.status, body)
			}
			if got := resp.Header.Get("X-Backend"); got != tc.backend {
				t.Errorf("backend %q, want %q", got, tc.backend)
			}
		})
	}
}

// TestRefusals sends request targets the route table must refuse, on raw
// connections so that the client does not clean them up.
func TestRefusals(t *testing.T) {
	tp, _ := routingSetup(t, Options{})
	for _, tc := range []struct {
		name, target string
		status       int
	}{
		{"climbs above root", "/../x", 400},
		{"escaped dots climb", "/%2e%2e/x", 400},
		{"encoded slash", "/a%2Fb", 400},
		{"encoded slash lower", "/a%2fb", 400},
		{"bad escape", "/100%", 400},
		{"asterisk", "*", 400},
		{"absolute form", "http://foo.example.com/", 400},
		{"no route", "/nothing", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := dialRaw(t, tp.httpAddr)
			rc.send("GET " + tc.target + " HTTP/1.1\r\nHost: other.org\r\n\r\n")
			resp, body := rc.response("GET")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			checkProxyReply(t, resp, body)
			// The connection stays usable after a refusal.
			rc.send("GET /any HTTP/1.1\r\nHost: other.org\r\n\r\n")
			if resp, _ := rc.response("GET"); resp.StatusCode != 200 {
				t.Errorf("next request: status %d", resp.StatusCode)
			}
		})
	}
}

// checkProxyReply checks the four fields of a response the proxy made.
func checkProxyReply(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) || got == "0" {
		t.Errorf("Content-Length %q for body %q", got, body)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
	if d, err := http.ParseTime(resp.Header.Get("Date")); err != nil || time.Since(d) > time.Minute {
		t.Errorf("Date %q: %v", resp.Header.Get("Date"), err)
	}
	if got := resp.Header.Get("Server"); got != "signet-ingress" {
		t.Errorf("Server %q", got)
	}
}

func TestMalformedRequests(t *testing.T) {
	tp, bs := routingSetup(t, Options{MaxRequestHeaderBytes: 8 << 10})
	for _, tc := range []struct {
		name, req string
		status    int
	}{
		{"length and chunked", "POST /any HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"conflicting lengths", "POST /any HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
		{"bad length", "POST /any HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
		{"unknown coding", "POST /any HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		{"chunked twice", "POST /any HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 501},
		{"obs-fold", "GET /any HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400},
		{"space before colon", "GET /any HTTP/1.1\r\nHost : x\r\n\r\n", 400},
		{"bare CR", "GET /any HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n", 400},
		{"no host", "GET /any HTTP/1.1\r\n\r\n", 400},
		{"two hosts", "GET /any HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400},
		{"HTTP/2.0 request line", "GET /any HTTP/2.0\r\nHost: x\r\n\r\n", 505},
		{"garbage", "hello\r\n\r\n", 400},
		{"unknown expectation", "GET /any HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n", 417},
		{"head too large", "GET /any HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 9<<10) + "\r\n\r\n", 431},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := bs["c"].conns.Load()
			rc := dialRaw(t, tp.httpAddr)
			rc.send(tc.req)
			resp, body := rc.response("GET")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			checkProxyReply(t, resp, body)
			if !rc.closed() {
				t.Errorf("connection not closed after a malformed request")
			}
			if bs["c"].conns.Load() != before {
				t.Errorf("the backend was contacted")
			}
		})
	}
}

func TestRoundRobin(t *testing.T) {
	var eps []netip.AddrPort
	var bs []*testBackend
	for i := range 3 {
		b := startBackend(t, fmt.Sprint("ep", i), "127.0.0.1:0")
		bs = append(bs, b)
		eps = append(eps, b.addr())
	}
	tp := startProxy(t, Options{})
	tp.Update(buildConfig(t, []*networkingv1.Ingress{testIngress("rr", 0, testRule("", prefixPath("/", "svc")))},
		map[string]*Backend{"svc": serviceBackend("svc", eps...)}))
	c := tp.client()
	counts := map[string]int{}
	for range 30 {
		resp, _ := get(t, c, "http://rr.test/")
		counts[resp.Header.Get("X-Backend")]++
	}
	for i := range 3 {
		if n := counts[fmt.Sprint("ep", i)]; n != 10 {
			t.Errorf("endpoint %d got %d of 30 requests, want 10 (all: %v)", i, n, counts)
		}
	}
}

// TestRoundRobinAcrossUpdates updates the Config before every request,
// with new Backend objects each time as the controller builds them: the
// round-robin position must carry over, so that n requests over n
// endpoints reach each exactly once (over HTTP/1.1 and HTTP/2).
func TestRoundRobinAcrossUpdates(t *testing.T) {
	const n = 5
	var eps []netip.AddrPort
	for i := range n {
		eps = append(eps, startBackend(t, fmt.Sprint("ep", i), "127.0.0.1:0").addr())
	}
	other := startBackend(t, "other", "127.0.0.1:0")
	tp := startProxy(t, Options{})
	gen := int64(0)
	update := func(withOther bool) {
		t.Helper()
		gen++
		paths := []networkingv1.HTTPIngressPath{prefixPath("/", "svc")}
		backends := map[string]*Backend{"svc": serviceBackend("svc", eps...)}
		if withOther {
			// Another backend coming and going does not disturb svc's.
			paths = append(paths, exactPath("/other", "other"))
			backends["other"] = serviceBackend("other", other.addr())
		}
		cfg := buildConfig(t, []*networkingv1.Ingress{testIngress("rr", 0, testRule("", paths...))}, backends)
		cfg.Generation = gen
		tp.Update(cfg)
	}
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	h2c := &http.Client{Transport: &http.Transport{
		Protocols: &protos,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", tp.httpAddr)
		},
	}, Timeout: 30 * time.Second}
	defer h2c.CloseIdleConnections()
	for _, tc := range []struct {
		name  string
		c     *http.Client
		proto string
	}{{"HTTP/1.1", tp.client(), "HTTP/1.1"}, {"h2c", h2c, "HTTP/2.0"}} {
		t.Run(tc.name, func(t *testing.T) {
			const rounds = 4
			counts := map[string]int{}
			for i := range rounds * n {
				update(i%3 == 1)
				resp, _ := get(t, tc.c, "http://rr.test/")
				if resp.StatusCode != 200 || resp.Proto != tc.proto {
					t.Fatalf("request %d: status %d, proto %s", i, resp.StatusCode, resp.Proto)
				}
				counts[resp.Header.Get("X-Backend")]++
				if i%n == n-1 {
					// Every n consecutive requests reach every endpoint.
					for j := range n {
						if got := counts[fmt.Sprint("ep", j)]; got != i/n+1 {
							t.Fatalf("after %d requests with an Update before each: endpoint %d got %d, want %d (all: %v)",
								i+1, j, got, i/n+1, counts)
						}
					}
				}
			}
		})
	}

	// The position goes with the backend: an Update without it drops it,
	// and a backend of that name that comes back starts anew.
	tp.updateMu.Lock()
	_, kept := tp.rr.m[rrKey{"default/test", "default/svc:80"}]
	tp.updateMu.Unlock()
	if !kept {
		t.Errorf("no round-robin position for default/svc:80 while it is live")
	}
	tp.Update(buildConfig(t, []*networkingv1.Ingress{testIngress("rr", 0, testRule("", prefixPath("/", "none")))}, nil))
	tp.updateMu.Lock()
	left := len(tp.rr.m)
	tp.updateMu.Unlock()
	if left != 0 {
		t.Errorf("%d round-robin positions left without Service backends", left)
	}
}

func TestIPv6(t *testing.T) {
	b := startBackend(t, "v6", "[::1]:0")
	tp := startProxy(t, Options{HTTPAddrs: []string{"[::1]:0"}, HTTPSAddrs: []string{}})
	tp.Update(buildConfig(t, []*networkingv1.Ingress{testIngress("v6", 0, testRule("", prefixPath("/", "svc")))},
		map[string]*Backend{"svc": serviceBackend("svc", b.addr())}))
	if !b.addr().Addr().Is6() {
		t.Fatalf("backend address %v is not IPv6", b.addr())
	}
	rc := dialRaw(t, tp.httpAddr)
	rc.send("GET /x HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n")
	resp, body := rc.response("GET")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	e := decodeEcho(t, body)
	if e.Backend != "v6" || e.Host != "[::1]:8080" {
		t.Errorf("backend %q host %q", e.Backend, e.Host)
	}
	if got := e.Header.Get("X-Forwarded-For"); got != "::1" {
		t.Errorf("X-Forwarded-For %q, want ::1", got)
	}
}

func TestForwardedHeaders(t *testing.T) {
	for _, tc := range []struct {
		name                         string
		trusted                      bool
		wantFor, wantProto, wantHost string
	}{
		{"replaced", false, "127.0.0.1", "http", "other.org:81"},
		{"trusted", true, "203.0.113.7, 198.51.100.1, 127.0.0.1", "https", "client.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp, _ := routingSetup(t, Options{TrustForwardedHeaders: tc.trusted})
			rc := dialRaw(t, tp.httpAddr)
			rc.send("GET /any HTTP/1.1\r\nHost: other.org:81\r\nX-Forwarded-For: 203.0.113.7\r\n" +
				"X-Forwarded-For: 198.51.100.1\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: client.example\r\n\r\n")
			resp, body := rc.response("GET")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			h := decodeEcho(t, body).Header
			if got := h.Values("X-Forwarded-For"); len(got) != 1 || got[0] != tc.wantFor {
				t.Errorf("X-Forwarded-For %q, want %q", got, tc.wantFor)
			}
			if got := h.Values("X-Forwarded-Proto"); len(got) != 1 || got[0] != tc.wantProto {
				t.Errorf("X-Forwarded-Proto %q, want %q", got, tc.wantProto)
			}
			if got := h.Values("X-Forwarded-Host"); len(got) != 1 || got[0] != tc.wantHost {
				t.Errorf("X-Forwarded-Host %q, want %q", got, tc.wantHost)
			}
			_, port, _ := net.SplitHostPort(tp.httpAddr)
			if got := h.Get("X-Forwarded-Port"); got != port {
				t.Errorf("X-Forwarded-Port %q, want %q", got, port)
			}
		})
	}
}

func TestPathAndHostUnchanged(t *testing.T) {
	tp, _ := routingSetup(t, Options{})
	for _, target := range []string{"/any/./b?x=1", "/any/x/../y", "/%61ny/%7e?q=%2F", "/any//double"} {
		rc := dialRaw(t, tp.httpAddr)
		rc.send("GET " + target + " HTTP/1.1\r\nHost: Other.ORG.:80\r\n\r\n")
		resp, body := rc.response("GET")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", target, resp.StatusCode)
		}
		e := decodeEcho(t, body)
		if e.RequestURI != target || e.Host != "Other.ORG.:80" {
			t.Errorf("backend got %q host %q, want %q host %q", e.RequestURI, e.Host, target, "Other.ORG.:80")
		}
	}
}

func TestHopByHopRemoved(t *testing.T) {
	tp, _ := routingSetup(t, Options{})
	rc := dialRaw(t, tp.httpAddr)
	rc.send("GET /any HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Private\r\nX-Private: secret\r\n" +
		"Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nProxy-Authorization: Basic eA==\r\n" +
		"Upgrade: foo\r\nX-Kept: yes\r\n\r\n")
	resp, body := rc.response("GET")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	h := decodeEcho(t, body).Header
	for _, k := range []string{"X-Private", "Keep-Alive", "Proxy-Connection", "Te", "Proxy-Authorization", "Upgrade"} {
		if v := h.Values(k); len(v) > 0 {
			t.Errorf("%s reached the backend: %q", k, v)
		}
	}
	if h.Get("X-Kept") != "yes" {
		t.Errorf("X-Kept lost")
	}
	if strings.Contains(strings.ToLower(h.Get("Connection")), "private") {
		t.Errorf("Connection forwarded: %q", h.Get("Connection"))
	}
}

func TestBodies(t *testing.T) {
	tp, _ := routingSetup(t, Options{})
	big := strings.Repeat("0123456789", 50_000) // 500 kB, more than any buffer

	t.Run("content-length request", func(t *testing.T) {
		for _, body := range []string{"hello", big} {
			rc := dialRaw(t, tp.httpAddr)
			rc.send("POST /any HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
			resp, rb := rc.response("POST")
			if e := decodeEcho(t, rb); resp.StatusCode != 200 || e.Body != body {
				t.Fatalf("status %d, backend got %d bytes, want %d", resp.StatusCode, len(e.Body), len(body))
			}
		}
	})
	t.Run("chunked request", func(t *testing.T) {
		rc := dialRaw(t, tp.httpAddr)
		rc.send("POST /any HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n")
		time.Sleep(10 * time.Millisecond) // the rest in another segment
		rc.send("6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
		resp, rb := rc.response("POST")
		e := decodeEcho(t, rb)
		if resp.StatusCode != 200 || e.Body != "hello world" || len(e.TE) != 1 || e.TE[0] != "chunked" {
			t.Fatalf("status %d, backend got body %q with %v", resp.StatusCode, e.Body, e.TE)
		}
	})
	t.Run("large chunked request", func(t *testing.T) {
		var sb strings.Builder
		for i := 0; i < len(big); i += 70_000 {
			part := big[i:min(i+70_000, len(big))]
			fmt.Fprintf(&sb, "%x\r\n%s\r\n", len(part), part)
		}
		sb.WriteString("0\r\n\r\n")
		rc := dialRaw(t, tp.httpAddr)
		rc.send("POST /any HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + sb.String())
		resp, rb := rc.response("POST")
		if e := decodeEcho(t, rb); resp.StatusCode != 200 || e.Body != big {
			t.Fatalf("status %d, backend got %d bytes", resp.StatusCode, len(e.Body))
		}
	})
	t.Run("chunked response", func(t *testing.T) {
		rc := dialRaw(t, tp.httpAddr)
		rc.send("GET /any/chunked HTTP/1.1\r\nHost: foo.example.com\r\n\r\n")
		resp, body := rc.response("GET")
		if resp.StatusCode != 200 || body != "part1-part2" {
			t.Fatalf("status %d body %q", resp.StatusCode, body)
		}
		if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
			t.Errorf("framing %v, want chunked kept", resp.TransferEncoding)
		}
		// Still usable.
		rc.send("GET /any HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, _ := rc.response("GET"); resp.StatusCode != 200 {
			t.Errorf("next request: %d", resp.StatusCode)
		}
	})
	t.Run("large content-length response", func(t *testing.T) {
		rc := dialRaw(t, tp.httpAddr)
		rc.send("POST /any HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(big)) + "\r\n\r\n" + big)
		resp, rb := rc.response("POST")
		if resp.ContentLength != int64(len(rb)) || len(rb) < len(big) {
			t.Fatalf("Content-Length %d, body %d bytes", resp.ContentLength, len(rb))
		}
	})
}

// startRawBackend serves each connection with fn.
func startRawBackend(t *testing.T, fn func(net.Conn)) (netip.AddrPort, *sync.WaitGroup, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	accepted := new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				fn(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return netip.MustParseAddrPort(ln.Addr().String()), &wg, accepted
}

// readRequestHead reads one request head from br.
func readRequestHead(br *bufio.Reader) (string, error) {
	var sb strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return sb.String(), err
		}
		sb.WriteString(line)
		if line == "\r\n" {
			return sb.String(), nil
		}
	}
}

func rawSetup(t *testing.T, fn func(net.Conn), opts Options) (*testProxy, *atomic.Int64) {
	t.Helper()
	addr, _, accepted := startRawBackend(t, fn)
	tp := startProxy(t, opts)
	tp.Update(buildConfig(t, []*networkingv1.Ingress{testIngress("raw", 0, testRule("", prefixPath("/", "svc")))},
		map[string]*Backend{"svc": serviceBackend("svc", addr)}))
	return tp, accepted
}

func TestCloseDelimitedResponse(t *testing.T) {
	tp, _ := rawSetup(t, func(c net.Conn) {
		readRequestHead(bufio.NewReader(c))
		io.WriteString(c, "HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nuntil the end")
	}, Options{})
	rc := dialRaw(t, tp.httpAddr)
	rc.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	head := rc.head()
	if !strings.Contains(head, "Connection: close\r\n") || !strings.Contains(head, "Server: signet-ingress\r\n") {
		t.Errorf("head %q: want Connection: close and Server", head)
	}
	body, err := io.ReadAll(rc.br)
	if err != nil || string(body) != "until the end" {
		t.Errorf("body %q, err %v", body, err)
	}
}

func TestHeadAndBodylessResponses(t *testing.T) {
	tp, _ := rawSetup(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			head, err := readRequestHead(br)
			if err != nil {
				return
			}
			switch {
			case strings.HasPrefix(head, "HEAD "):
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
			case strings.Contains(head, "/204"):
				io.WriteString(c, "HTTP/1.1 204 No Content\r\n\r\n")
			case strings.Contains(head, "/304"):
				io.WriteString(c, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n")
			default:
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}
		}
	}, Options{})
	rc := dialRaw(t, tp.httpAddr)
	rc.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
	if head := rc.head(); !strings.Contains(head, "Content-Length: 1234\r\n") {
		t.Errorf("HEAD response %q lost its Content-Length", head)
	}
	for _, p := range []string{"/204", "/304", "/"} {
		rc.send("GET " + p + " HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, body := rc.response("GET")
		want := map[string]int{"/204": 204, "/304": 304, "/": 200}[p]
		if resp.StatusCode != want {
			t.Errorf("%s: status %d, want %d (body %q)", p, resp.StatusCode, want, body)
		}
	}
}

func TestExpectContinue(t *testing.T) {
	tp, bs := routingSetup(t, Options{})
	rc := dialRaw(t, tp.httpAddr)
	rc.send("PUT /any HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	if head := rc.head(); head != "HTTP/1.1 100 Continue\r\n\r\n" {
		t.Fatalf("interim response %q", head)
	}
	rc.send("hello")
	resp, body := rc.response("PUT")
	e := decodeEcho(t, body)
	if resp.StatusCode != 200 || e.Body != "hello" {
		t.Fatalf("status %d, body %q", resp.StatusCode, e.Body)
	}
	if e.Header.Get("Expect") != "" {
		t.Errorf("Expect reached the backend")
	}
	// A refused request with Expect gets its final answer at once.
	before := bs["c"].conns.Load()
	rc2 := dialRaw(t, tp.httpAddr)
	rc2.send("PUT /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	if resp, _ := rc2.response("PUT"); resp.StatusCode != 404 || !resp.Close {
		t.Errorf("status %d close %v, want 404 and close", resp.StatusCode, resp.Close)
	}
	if bs["c"].conns.Load() != before {
		t.Errorf("backend contacted")
	}
}

func TestHTTP10(t *testing.T) {
	tp, _ := routingSetup(t, Options{})
	t.Run("close", func(t *testing.T) {
		rc := dialRaw(t, tp.httpAddr)
		rc.send("GET /any HTTP/1.0\r\n\r\n")
		resp, body := rc.response("GET")
		e := decodeEcho(t, body)
		if resp.StatusCode != 200 || e.Proto != "HTTP/1.1" || e.Host == "" {
			t.Fatalf("status %d proto %q host %q", resp.StatusCode, e.Proto, e.Host)
		}
		if !rc.closed() {
			t.Errorf("HTTP/1.0 connection not closed")
		}
	})
	t.Run("keep-alive", func(t *testing.T) {
		rc := dialRaw(t, tp.httpAddr)
		for range 3 {
			rc.send("GET /any HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
			resp, _ := rc.response("GET")
			if resp.StatusCode != 200 || resp.Header.Get("Connection") != "keep-alive" {
				t.Fatalf("status %d Connection %q", resp.StatusCode, resp.Header.Get("Connection"))
			}
		}
	})
	t.Run("chunked response decoded", func(t *testing.T) {
		rc := dialRaw(t, tp.httpAddr)
		rc.send("GET /any/chunked HTTP/1.0\r\nHost: foo.example.com\r\nConnection: keep-alive\r\n\r\n")
		head := rc.head()
		if strings.Contains(strings.ToLower(head), "transfer-encoding") || !strings.Contains(head, "Connection: close") {
			t.Errorf("head %q: want no Transfer-Encoding and Connection: close", head)
		}
		if body, _ := io.ReadAll(rc.br); string(body) != "part1-part2" {
			t.Errorf("body %q", body)
		}
	})
}

func TestClientConnectionClose(t *testing.T) {
	tp, _ := routingSetup(t, Options{})
	rc := dialRaw(t, tp.httpAddr)
	rc.send("GET /any HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, _ := rc.response("GET")
	if resp.StatusCode != 200 || !resp.Close {
		t.Errorf("status %d close %v", resp.StatusCode, resp.Close)
	}
	if !rc.closed() {
		t.Errorf("connection left open")
	}
}

func TestBackendKeepAliveReuse(t *testing.T) {
	tp, bs := routingSetup(t, Options{})
	c := tp.client()
	for range 50 {
		if resp, _ := get(t, c, "http://x/any"); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	// Also from several client connections one after another.
	for range 5 {
		rc := dialRaw(t, tp.httpAddr)
		rc.send("GET /any HTTP/1.1\r\nHost: x\r\n\r\n")
		rc.response("GET")
		rc.c.Close()
	}
	if n := bs["c"].conns.Load(); n != 1 {
		t.Errorf("backend accepted %d connections for 55 sequential requests, want 1", n)
	}
}

func TestBackendConnectionClose(t *testing.T) {
	// A backend that announces Connection: close is not reused, and the
	// client connection stays open.
	tp, accepted := rawSetup(t, func(c net.Conn) {
		readRequestHead(bufio.NewReader(c))
		io.WriteString(c, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
	}, Options{})
	rc := dialRaw(t, tp.httpAddr)
	for range 3 {
		rc.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, body := rc.response("GET")
		if resp.StatusCode != 200 || body != "ok" || resp.Close {
			t.Fatalf("status %d body %q close %v", resp.StatusCode, body, resp.Close)
		}
	}
	if n := accepted.Load(); n != 3 {
		t.Errorf("backend accepted %d connections, want 3", n)
	}
}

func TestRetryOnDeadPooledConnection(t *testing.T) {
	// The backend closes every connection after one response without
	// saying so: the pooled connection is dead when reused, and the
	// request is retried on a fresh one.
	tp, accepted := rawSetup(t, func(c net.Conn) {
		readRequestHead(bufio.NewReader(c))
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	}, Options{})
	rc := dialRaw(t, tp.httpAddr)
	for i := range 5 {
		rc.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
		resp, body := rc.response("POST")
		if resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("request %d: status %d body %q", i, resp.StatusCode, body)
		}
		time.Sleep(20 * time.Millisecond) // let the close arrive
	}
	if n := accepted.Load(); n < 5 {
		t.Errorf("backend accepted %d connections", n)
	}
	// A streamed body cannot be replayed: the pooled connection is checked
	// before it is used.
	for i := range 3 {
		rc.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
		time.Sleep(10 * time.Millisecond) // the body does not come with the head
		rc.send("3\r\nabc\r\n0\r\n\r\n")
		resp, body := rc.response("POST")
		if resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("chunked request %d: status %d body %q", i, resp.StatusCode, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServerField(t *testing.T) {
	tp, _ := routingSetup(t, Options{})
	c := tp.client()
	if resp, _ := get(t, c, "http://x/any/server"); resp.Header.Values("Server")[0] != "backend/1.0" || len(resp.Header.Values("Server")) != 1 {
		t.Errorf("Server %q, want the backend's only", resp.Header.Values("Server"))
	}
	if resp, _ := get(t, c, "http://x/any"); resp.Header.Get("Server") != "signet-ingress" {
		t.Errorf("Server %q, want signet-ingress added", resp.Header.Get("Server"))
	}
}

func TestResponseTimeout(t *testing.T) {
	tp, _ := routingSetup(t, Options{ResponseTimeout: 300 * time.Millisecond})
	resp, body := get(t, tp.client(), "http://x/any/slow")
	if resp.StatusCode != 504 {
		t.Fatalf("status %d, want 504", resp.StatusCode)
	}
	checkProxyReply(t, resp, body)
}

func TestWebSocket(t *testing.T) {
	tp, _ := routingSetup(t, Options{})
	rc := dialRaw(t, tp.httpAddr)
	rc.send("GET /any/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	head := rc.head()
	if !strings.HasPrefix(head, "HTTP/1.1 101 ") || !strings.Contains(head, "Upgrade: websocket") ||
		!strings.Contains(head, "Connection: upgrade") {
		t.Fatalf("head %q", head)
	}
	for _, msg := range []string{"hello", "through the proxy"} {
		rc.send(msg)
		buf := make([]byte, len(msg))
		if _, err := io.ReadFull(rc.br, buf); err != nil || string(buf) != strings.ToUpper(msg) {
			t.Fatalf("echo %q, err %v", buf, err)
		}
	}
	rc.c.(*net.TCPConn).CloseWrite()
	if !rc.closed() {
		t.Errorf("upgraded connection not closed after the client closed")
	}
}

func TestUnavailableBackends(t *testing.T) {
	tp := startProxy(t, Options{})
	cfg := buildConfig(t, []*networkingv1.Ingress{testIngress("u", 0, testRule("",
		prefixPath("/gone", "gone"), prefixPath("/missing", "missing"), prefixPath("/empty", "empty")))},
		map[string]*Backend{
			"gone":  {Ingress: "default/u", Name: "default/gone", Unavailable: "unsupported kind"},
			"empty": serviceBackend("empty"),
		})
	tp.Update(cfg)
	c := tp.client()
	for _, p := range []string{"/gone", "/missing", "/empty"} {
		resp, body := get(t, c, "http://x"+p)
		if resp.StatusCode != 503 {
			t.Errorf("%s: status %d, want 503", p, resp.StatusCode)
		}
		checkProxyReply(t, resp, body)
	}
}

func TestPipelinedRequests(t *testing.T) {
	tp, _ := routingSetup(t, Options{})
	rc := dialRaw(t, tp.httpAddr)
	rc.send("GET /any/1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /any/2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET /any/3 HTTP/1.1\r\nHost: x\r\n\r\n")
	for i, want := range []string{"/any/1", "/any/2", "/any/3"} {
		resp, body := rc.response("GET")
		if e := decodeEcho(t, body); resp.StatusCode != 200 || e.RequestURI != want {
			t.Errorf("response %d: status %d for %q, want %q", i, resp.StatusCode, e.RequestURI, want)
		}
	}
}

func TestClientTimeouts(t *testing.T) {
	tp, _ := routingSetup(t, Options{ReadHeaderTimeout: 200 * time.Millisecond, IdleTimeout: 300 * time.Millisecond})
	t.Run("slow head", func(t *testing.T) {
		rc := dialRaw(t, tp.httpAddr)
		rc.send("GET /any HTTP/1.1\r\nHost: x\r\n")
		resp, _ := rc.response("GET")
		if resp.StatusCode != 408 {
			t.Errorf("status %d, want 408", resp.StatusCode)
		}
		if !rc.closed() {
			t.Errorf("connection left open")
		}
	})
	t.Run("idle", func(t *testing.T) {
		rc := dialRaw(t, tp.httpAddr)
		rc.send("GET /any HTTP/1.1\r\nHost: x\r\n\r\n")
		rc.response("GET")
		if !rc.closed() {
			t.Errorf("idle connection left open")
		}
	})
}

func TestBrokenChunkedFraming(t *testing.T) {
	t.Run("from the client", func(t *testing.T) {
		tp, _ := routingSetup(t, Options{})
		rc := dialRaw(t, tp.httpAddr)
		rc.send("POST /any HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n")
		if !rc.closed() {
			t.Errorf("connection with a malformed chunked body left open")
		}
	})
	t.Run("from the backend", func(t *testing.T) {
		tp, _ := rawSetup(t, func(c net.Conn) {
			readRequestHead(bufio.NewReader(c))
			io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n")
		}, Options{})
		rc := dialRaw(t, tp.httpAddr)
		rc.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		rc.head()
		// The client gets the valid part, then the connection is cut so
		// that it cannot take the body for complete.
		rest, _ := io.ReadAll(rc.br)
		if string(rest) != "5\r\nhello\r\n" {
			t.Errorf("got %q", rest)
		}
	})
}
