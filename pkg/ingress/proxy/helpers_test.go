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
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	networkingv1 "signet.dev/api/networking/v1"

	"signet.dev/signet/pkg/ingress/routes"
)

// TestMain keeps the proxy's klog lines out of test and benchmark output
// unless -v is given.
func TestMain(m *testing.M) {
	flag.Parse()
	if !testing.Verbose() {
		klog.LogToStderr(false)
		klog.SetOutput(io.Discard)
	}
	os.Exit(m.Run())
}

// --- Ingresses and Configs ---------------------------------------------

func testIngress(name string, age int, rules ...networkingv1.IngressRule) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:         "default",
			Name:              name,
			CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, 0, age, 0, time.UTC)),
		},
		Spec: networkingv1.IngressSpec{Rules: rules},
	}
}

func withDefaultBackend(ing *networkingv1.Ingress, svc string) *networkingv1.Ingress {
	ing.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: svc, Port: networkingv1.ServiceBackendPort{Number: 80},
	}}
	return ing
}

func testRule(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
	return networkingv1.IngressRule{
		Host:             host,
		IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}},
	}
}

func testPath(typ networkingv1.PathType, p, svc string) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: p, PathType: &typ, Backend: networkingv1.IngressBackend{
		Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Number: 80}},
	}}
}

func prefixPath(p, svc string) networkingv1.HTTPIngressPath {
	return testPath(networkingv1.PathTypePrefix, p, svc)
}

func exactPath(p, svc string) networkingv1.HTTPIngressPath {
	return testPath(networkingv1.PathTypeExact, p, svc)
}

// buildConfig builds a Config from Ingresses whose paths name Services;
// backends maps a Service name to its Backend (a name without entry gives
// routes without Backend, which answer 503).
func buildConfig(t testing.TB, ings []*networkingv1.Ingress, backends map[string]*Backend) *Config {
	t.Helper()
	table, conflicts := routes.Build(ings)
	if len(conflicts) > 0 {
		t.Fatalf("conflicts: %+v", conflicts)
	}
	cfg := &Config{Routes: table, Backends: map[*routes.Route]*Backend{}}
	for _, r := range table.Routes() {
		if r.Backend.Service == nil {
			continue
		}
		if b := backends[r.Backend.Service.Name]; b != nil {
			cfg.Backends[r] = b
		}
	}
	return cfg
}

// serviceBackend is a Service backend named "default/<name>:80" with the
// given endpoints.
func serviceBackend(name string, eps ...netip.AddrPort) *Backend {
	return &Backend{
		Ingress: "default/test",
		Name:    "default/" + name + ":80",
		Service: &ServiceBackend{Endpoints: eps},
	}
}

// --- Backends ----------------------------------------------------------

// echo is what echoBackend answers: what it received.
type echo struct {
	Backend    string
	Method     string
	RequestURI string
	Host       string
	Proto      string
	Header     http.Header
	Body       string
	TE         []string
}

// testBackend is an HTTP backend that reports what it received, counting
// the connections it accepted.
type testBackend struct {
	name  string
	srv   *httptest.Server
	conns atomic.Int64
	// fail makes /healthz answer 500.
	fail atomic.Bool
}

func (b *testBackend) addr() netip.AddrPort {
	return netip.MustParseAddrPort(b.srv.Listener.Addr().String())
}

// startBackend starts an echo backend on addr ("127.0.0.1:0" or
// "[::1]:0"). Special paths: /healthz (200, or 500 when failing), /chunked
// (a chunked response), /server (sets its own Server field), /slow (waits
// 2s).
func startBackend(t *testing.T, name, addr string) *testBackend {
	t.Helper()
	b := &testBackend{name: name}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", name)
		switch r.URL.Path[strings.LastIndexByte(r.URL.Path, '/'):] {
		case "/healthz":
			if b.fail.Load() {
				w.WriteHeader(500)
			}
			return
		case "/chunked":
			w.Write([]byte("part1-"))
			w.(http.Flusher).Flush()
			w.Write([]byte("part2"))
			return
		case "/server":
			w.Header().Set("Server", "backend/1.0")
		case "/slow":
			time.Sleep(2 * time.Second)
		case "/ws":
			serveUpgrade(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		out, _ := json.Marshal(echo{
			Backend: name, Method: r.Method, RequestURI: r.RequestURI, Host: r.Host,
			Proto: r.Proto, Header: r.Header, Body: string(body), TE: r.TransferEncoding,
		})
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.Write(out)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	b.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
	b.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			b.conns.Add(1)
		}
	}
	b.srv.Start()
	t.Cleanup(b.srv.Close)
	return b
}

// serveUpgrade answers an Upgrade request with 101 and echoes every byte
// back, upper-cased, until the client closes.
func serveUpgrade(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") ||
		!strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade") {
		http.Error(w, "not an upgrade", 400)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: test\r\n\r\n")
	brw.Flush()
	buf := make([]byte, 1024)
	for {
		n, err := brw.Read(buf)
		if n > 0 {
			conn.Write([]byte(strings.ToUpper(string(buf[:n]))))
		}
		if err != nil {
			return
		}
	}
}

// refusedAddr returns a loopback address nothing listens on.
func refusedAddr(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	return ap
}

// --- The proxy -----------------------------------------------------------

type testProxy struct {
	*Proxy
	reg       *prometheus.Registry
	httpAddr  string
	httpsAddr string
	stop      func()
	done      chan error
}

// startProxy runs a Proxy on loopback ports with opts (listen addresses
// defaulted) until the test ends.
func startProxy(t *testing.T, opts Options) *testProxy {
	t.Helper()
	if opts.HTTPAddrs == nil {
		opts.HTTPAddrs = []string{"127.0.0.1:0"}
	}
	if opts.HTTPSAddrs == nil {
		opts.HTTPSAddrs = []string{"127.0.0.1:0"}
	}
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tp := &testProxy{Proxy: p, reg: reg, done: make(chan error, 1)}
	go func() { tp.done <- p.Run(ctx) }()
	var once sync.Once
	tp.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-tp.done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("Run did not return")
			}
		})
	}
	t.Cleanup(tp.stop)
	waitFor(t, "listeners bound", func() bool { return p.bound.Load() })
	addrs := p.Addrs()
	if len(opts.HTTPAddrs) > 0 {
		tp.httpAddr = addrs[0].String()
	}
	if len(opts.HTTPSAddrs) > 0 {
		tp.httpsAddr = addrs[len(opts.HTTPAddrs)].String()
	}
	return tp
}

// waitFor polls cond with a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// client returns an HTTP/1.1 client that sends everything to the proxy's
// HTTP listener, whatever the URL's host.
func (tp *testProxy) client() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "tcp", tp.httpAddr)
			},
			DisableCompression: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
}

// get sends GET url through the proxy and returns the response with its
// body read.
func get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return resp, string(body)
}

// decodeEcho decodes a body written by an echo backend.
func decodeEcho(t *testing.T, body string) echo {
	t.Helper()
	var e echo
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("not an echo body: %v: %q", err, body)
	}
	return e
}

// --- Raw connections -----------------------------------------------------

// rawConn is a client connection for exact bytes on the wire.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (r *rawConn) send(s string) {
	r.t.Helper()
	if _, err := io.WriteString(r.c, s); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// response reads one response (for a request with method) with its body.
func (r *rawConn) response(method string) (*http.Response, string) {
	r.t.Helper()
	resp, err := http.ReadResponse(r.br, &http.Request{Method: method})
	if err != nil {
		r.t.Fatalf("reading response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("reading body: %v", err)
	}
	resp.Body.Close()
	return resp, string(body)
}

// head reads a response head as raw text (through the empty line).
func (r *rawConn) head() string {
	r.t.Helper()
	var sb strings.Builder
	for {
		line, err := r.br.ReadString('\n')
		if err != nil {
			r.t.Fatalf("reading head: %v (so far %q)", err, sb.String())
		}
		sb.WriteString(line)
		if line == "\r\n" {
			return sb.String()
		}
	}
}

// closed reports whether the proxy closed the connection (EOF, nothing
// more to read).
func (r *rawConn) closed() bool {
	r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := r.br.ReadByte()
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err)
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// --- Metrics -------------------------------------------------------------

// metricValue returns the value of the series of name with labels, or -1.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			return value(m)
		}
	}
	return -1
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return -1
}

// insecureTLS trusts any certificate (the tests inspect them instead).
func insecureTLS(serverName string) *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, ServerName: serverName}
}
