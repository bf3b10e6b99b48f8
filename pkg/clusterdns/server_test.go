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

package clusterdns

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/klog/v2"
)

type serverEnv struct {
	srv     *Server
	metrics *Metrics
	synced  *bool
}

func startServer(t *testing.T, cfg ServerConfig) *serverEnv {
	t.Helper()
	store := NewStore()
	fixture(store)
	synced := true
	m := NewMetrics(prometheus.NewPedanticRegistry(), store)
	h, err := NewHandler(HandlerConfig{}, store, testNodeLabels, func() bool { return synced }, m, klog.Background())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(cfg, h, m)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return &serverEnv{srv: srv, metrics: m, synced: &synced}
}

func exchange(t *testing.T, network, addr string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s query to %s: %v", network, addr, err)
	}
	return r
}

func TestServerAnswersUDPAndTCPOnEveryAddress(t *testing.T) {
	addrs := []string{"127.0.0.1:0"}
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ln.Close()
		addrs = append(addrs, "[::1]:0")
	}
	e := startServer(t, ServerConfig{ListenAddrs: addrs})
	bound := e.srv.Addrs()
	if len(bound) != len(addrs) {
		t.Fatalf("bound %v, want %d addresses", bound, len(addrs))
	}
	for _, addr := range bound {
		for _, network := range []string{"udp", "tcp"} {
			r := exchange(t, network, addr, newQuery("kubernetes.default.svc.cluster.local.", dns.TypeA))
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
				t.Errorf("%s %s: %v", network, addr, r)
			}
		}
	}
	if got := testutil.ToFloat64(e.metrics.requests.WithLabelValues(protoTCP, "A")); got != float64(len(bound)) {
		t.Errorf("TCP A requests counted %v, want %d", got, len(bound))
	}
	if got := testutil.ToFloat64(e.metrics.responses.WithLabelValues("NOERROR")); got != float64(2*len(bound)) {
		t.Errorf("NOERROR responses counted %v, want %d", got, 2*len(bound))
	}
}

func TestServerPersistentTCP(t *testing.T) {
	e := startServer(t, ServerConfig{ListenAddrs: []string{"127.0.0.1:0"}})
	conn, err := dns.Dial("tcp", e.srv.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := range 300 { // more than miekg/dns' default of 128 queries per connection
		q := newQuery("kubernetes.default.svc.cluster.local.", dns.TypeA)
		if err := conn.WriteMsg(q); err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		r, err := conn.ReadMsg()
		if err != nil || r.Id != q.Id {
			t.Fatalf("answer %d: %v %v", i, r, err)
		}
	}
}

func TestServerTCPConnectionLimit(t *testing.T) {
	e := startServer(t, ServerConfig{ListenAddrs: []string{"127.0.0.1:0"}, MaxTCPConns: 1})
	addr := e.srv.Addrs()[0]
	first, err := dns.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if err := first.WriteMsg(newQuery("kubernetes.default.svc.cluster.local.", dns.TypeA)); err != nil {
		t.Fatal(err)
	}
	if _, err := first.ReadMsg(); err != nil {
		t.Fatal(err)
	}
	second, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	_ = second.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := second.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("second connection read %v, want EOF (closed at the limit)", err)
	}
	if got := testutil.ToFloat64(e.metrics.tcpRejected); got != 1 {
		t.Errorf("rejected connections %v, want 1", got)
	}
	// Once the first closes, a new connection is served.
	first.Close()
	eventually(t, "a connection to be served after the first closed", func() error {
		c := &dns.Client{Net: "tcp", Timeout: time.Second}
		_, _, err := c.Exchange(newQuery("kubernetes.default.svc.cluster.local.", dns.TypeA), addr)
		return err
	})
}

func TestServerRejectsMalformed(t *testing.T) {
	e := startServer(t, ServerConfig{ListenAddrs: []string{"127.0.0.1:0"}})
	addr := e.srv.Addrs()[0]
	send := func(t *testing.T, msg []byte, wantAnswer bool) *dns.Msg {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		deadline := 5 * time.Second
		if !wantAnswer {
			deadline = 500 * time.Millisecond
		}
		_ = c.SetDeadline(time.Now().Add(deadline))
		if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...)); err != nil {
			t.Fatal(err)
		}
		var hdr [2]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			if wantAnswer {
				t.Fatalf("no answer: %v", err)
			}
			return nil
		}
		if !wantAnswer {
			t.Fatalf("answered a message that must be dropped")
		}
		b := make([]byte, binary.BigEndian.Uint16(hdr[:]))
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		r := new(dns.Msg)
		if err := r.Unpack(b); err != nil {
			t.Fatal(err)
		}
		return r
	}
	q, _ := newQuery("kubernetes.default.svc.cluster.local.", dns.TypeA).Pack()
	two := newQuery("kubernetes.default.svc.cluster.local.", dns.TypeA)
	two.Question = append(two.Question, two.Question[0])
	twoWire, _ := two.Pack()
	notify := newQuery("cluster.local.", dns.TypeSOA)
	notify.Opcode = dns.OpcodeNotify
	notifyWire, _ := notify.Pack()

	t.Run("body cut short", func(t *testing.T) {
		if r := send(t, q[:len(q)-3], true); r.Rcode != dns.RcodeFormatError {
			t.Errorf("rcode %s, want FORMERR", dns.RcodeToString[r.Rcode])
		}
	})
	t.Run("two questions", func(t *testing.T) {
		if r := send(t, twoWire, true); r.Rcode != dns.RcodeFormatError {
			t.Errorf("rcode %s, want FORMERR", dns.RcodeToString[r.Rcode])
		}
	})
	t.Run("notify", func(t *testing.T) {
		if r := send(t, notifyWire, true); r.Rcode != dns.RcodeNotImplemented {
			t.Errorf("rcode %s, want NOTIMP", dns.RcodeToString[r.Rcode])
		}
	})
	t.Run("shorter than a header", func(t *testing.T) { send(t, q[:5], false) })
	if got := testutil.ToFloat64(e.metrics.responses.WithLabelValues("FORMERR")); got != 2 {
		t.Errorf("FORMERR counted %v, want 2", got)
	}
	if got := testutil.ToFloat64(e.metrics.drops.WithLabelValues(dropMalformed)); got != 1 {
		t.Errorf("malformed drops counted %v, want 1", got)
	}
	// Still serving.
	if r := exchange(t, "udp", addr, newQuery("kubernetes.default.svc.cluster.local.", dns.TypeA)); r.Rcode != dns.RcodeSuccess {
		t.Errorf("after malformed input: %v", r)
	}
}

func TestServerHealthAndShutdown(t *testing.T) {
	e := startServer(t, ServerConfig{ListenAddrs: []string{"127.0.0.1:0"}})
	*e.synced = false
	hs := httptest.NewServer(e.srv.HealthHandler(func() bool { return *e.synced }))
	defer hs.Close()
	status := func(path string) int {
		t.Helper()
		resp, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		path string
		want int
	}{{"/health", 200}, {"/healthz", 200}, {"/ready", 503}, {"/readyz", 503}} {
		if got := status(c.path); got != c.want {
			t.Errorf("before sync %s = %d, want %d", c.path, got, c.want)
		}
	}
	*e.synced = true
	if got := status("/ready"); got != 200 {
		t.Errorf("after sync /ready = %d, want 200", got)
	}

	addr := e.srv.Addrs()[0]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown() = %v", err)
	}
	if got := status("/health"); got != 503 {
		t.Errorf("after shutdown /health = %d, want 503", got)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Errorf("TCP %s still accepts connections after shutdown", addr)
	}
	if pc, err := net.ListenPacket("udp", addr); err != nil {
		t.Errorf("UDP %s still bound after shutdown: %v", addr, err)
	} else {
		pc.Close()
	}
}

func TestServerConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ServerConfig
		ok   bool
	}{
		{"wildcard", ServerConfig{ListenAddrs: []string{":53"}}, true},
		{"both families", ServerConfig{ListenAddrs: []string{"10.96.0.10:53", "[fd00::a]:53"}}, true},
		{"none", ServerConfig{}, false},
		{"host name", ServerConfig{ListenAddrs: []string{"localhost:53"}}, false},
		{"no port", ServerConfig{ListenAddrs: []string{"10.0.0.1"}}, false},
		{"bad port", ServerConfig{ListenAddrs: []string{":99999"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.WithDefaults().Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestServerStartFailsWhenAPortIsTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv, err := NewServer(ServerConfig{ListenAddrs: []string{"127.0.0.1:0", ln.Addr().String()}}, dns.HandlerFunc(func(dns.ResponseWriter, *dns.Msg) {}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err == nil {
		t.Fatal("Start() succeeded on a taken port")
	}
	if srv.Serving() || len(srv.Addrs()) != 0 {
		t.Errorf("serving %v on %v after a failed start", srv.Serving(), srv.Addrs())
	}
}
