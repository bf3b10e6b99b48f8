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
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"no address", Options{}},
		{"bad address", Options{HTTPAddrs: []string{"localhost"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.opts); err == nil {
				t.Errorf("New accepted %+v", tc.opts)
			}
		})
	}
	reg := prometheus.NewRegistry()
	if _, err := New(Options{HTTPAddrs: []string{"127.0.0.1:0"}, Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{HTTPAddrs: []string{"127.0.0.1:0"}, Registerer: reg}); err == nil {
		t.Errorf("second registration on one registry accepted")
	}
}

func TestRunFailsOnBusyAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p, err := New(Options{HTTPAddrs: []string{"127.0.0.1:0", ln.Addr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err == nil {
		t.Errorf("Run bound a busy address")
	}
	if p.Ready() {
		t.Errorf("Ready after a failed Run")
	}
}

func TestReadyAndNoConfig(t *testing.T) {
	tp := startProxy(t, Options{})
	if tp.Ready() {
		t.Errorf("Ready before any Config")
	}
	resp, body := get(t, tp.client(), "http://x/")
	if resp.StatusCode != 503 {
		t.Errorf("status %d without Config, want 503", resp.StatusCode)
	}
	checkProxyReply(t, resp, body)
	tp.Update(&Config{})
	if !tp.Ready() {
		t.Errorf("not Ready with listeners and a Config")
	}
	if resp, _ := get(t, tp.client(), "http://x/"); resp.StatusCode != 404 {
		t.Errorf("status %d with an empty Config, want 404", resp.StatusCode)
	}
	tp.stop()
	if tp.Ready() {
		t.Errorf("Ready after Run returned")
	}
}

func TestRequestMetrics(t *testing.T) {
	tp, _ := routingSetup(t, Options{})
	c := tp.client()
	for range 3 {
		get(t, c, "http://foo.example.com/")
	}
	get(t, c, "http://other.org/nothing")
	rc := dialRaw(t, tp.httpAddr)
	rc.send("GET /../x HTTP/1.1\r\nHost: x\r\n\r\n")
	rc.response("GET")
	for _, tc := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"ingress": "default/test", "backend": "default/a:80", "code": "200"}, 3},
		{map[string]string{"ingress": "", "backend": "", "code": "404"}, 1},
		{map[string]string{"ingress": "", "backend": "", "code": "400"}, 1},
	} {
		// Metrics are recorded after the response is written: poll.
		waitFor(t, "requests_total", func() bool {
			return metricValue(t, tp.reg, "signet_ingress_requests_total", tc.labels) >= tc.want
		})
		if got := metricValue(t, tp.reg, "signet_ingress_requests_total", tc.labels); got != tc.want {
			t.Errorf("requests_total%v = %v, want %v", tc.labels, got, tc.want)
		}
	}
	if got := metricValue(t, tp.reg, "signet_ingress_request_duration_seconds", map[string]string{"backend": "default/a:80"}); got != 3 {
		t.Errorf("request_duration_seconds count %v, want 3", got)
	}
}

// TestShutdownDrains stops the proxy while a request is in flight: the
// request completes, idle connections are closed, new ones refused.
func TestShutdownDrains(t *testing.T) {
	tp, _ := routingSetup(t, Options{})
	idle := dialRaw(t, tp.httpAddr)
	idle.send("GET /any HTTP/1.1\r\nHost: x\r\n\r\n")
	idle.response("GET")

	busy := dialRaw(t, tp.httpAddr)
	busy.send("GET /any/slow HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(200 * time.Millisecond) // the request reaches the backend
	go tp.stop()

	resp, body := busy.response("GET")
	if resp.StatusCode != 200 || !strings.Contains(body, `"Backend":"c"`) {
		t.Errorf("in-flight request: status %d body %q", resp.StatusCode, body)
	}
	if !resp.Close {
		t.Errorf("response during shutdown without Connection: close")
	}
	if !idle.closed() {
		t.Errorf("idle connection not closed")
	}
	waitFor(t, "Run to return", func() bool { return !tp.bound.Load() })
	if c, err := net.DialTimeout("tcp", tp.httpAddr, time.Second); err == nil {
		c.Close()
		t.Errorf("new connection accepted after shutdown")
	}
}

// TestShutdownTimeout stops the proxy while a backend takes longer than
// ShutdownTimeout: the connection is cut rather than waited for.
func TestShutdownTimeout(t *testing.T) {
	tp, _ := routingSetup(t, Options{ShutdownTimeout: 100 * time.Millisecond})
	busy := dialRaw(t, tp.httpAddr)
	busy.send("GET /any/slow HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(100 * time.Millisecond) // the request reaches the backend
	tp.stop()
	if _, err := http.ReadResponse(busy.br, nil); err == nil {
		t.Errorf("got a response from a backend slower than the shutdown timeout")
	}
}
