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

package controller

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/ptr"

	networkingv1 "signet.dev/api/networking/v1"

	"signet.dev/signet/pkg/ingress/proxy"
)

// port is a local HTTP server: / answers its name, /healthz its health
// status; it counts the /healthz requests.
type port struct {
	name    string
	port    int
	healthz atomic.Int64
}

func startPort(t *testing.T, name string, health int) *port {
	t.Helper()
	p := &port{name: name}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.port = ln.Addr().(*net.TCPAddr).Port
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			p.healthz.Add(1)
			w.WriteHeader(health)
			return
		}
		io.WriteString(w, name)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return p
}

// TestEndpointsCheckedOnTheirOwnHealthPort runs the translation into a
// real proxy: a Service whose named health port differs between its two
// pods' slices. Each endpoint must be checked on its own health port: the
// one whose health port fails
// leaves the rotation, the other stays, and the serving ports (whose
// /healthz answers 200) are never checked. With one port for both, as
// before, both endpoints would be checked on the same port.
func TestEndpointsCheckedOnTheirOwnHealthPort(t *testing.T) {
	a, b := startPort(t, "a", 200), startPort(t, "b", 200)
	aHealth, bHealth := startPort(t, "a-health", 200), startPort(t, "b-health", 500)
	ports := func(serving, health *port) []string {
		return []string{"http:" + strconv.Itoa(serving.port), "health:" + strconv.Itoa(health.port)}
	}
	state := newFakeState().add(
		service("ns/app", "http:80:web", "health:81:status"),
		slice("ns/app-a", "app", v4, ports(a, aHealth), readyEP("127.0.0.1")),
		slice("ns/app-b", "app", v4, ports(b, bHealth), readyEP("127.0.0.1")),
	)
	backend := svcBackend("app", named("http"))
	backend.Service.HealthCheck = &networkingv1.IngressHealthCheck{
		Path: "/healthz", Port: ptr.To(named("health")),
		IntervalSeconds: ptr.To[int32](1), HealthyThreshold: ptr.To[int32](1), UnhealthyThreshold: ptr.To[int32](1),
	}
	tr := NewTranslator().Translate([]*networkingv1.Ingress{ingress("ns/web", 0, rule("foo.com", prefix("/", backend)))}, state)

	reg := prometheus.NewRegistry()
	p, err := proxy.New(proxy.Options{HTTPAddrs: []string{"127.0.0.1:0"}, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	tr.Config.Generation = 1
	p.Update(tr.Config)
	wait := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	wait("the proxy to be ready", p.Ready)
	healthy := func(serving *port) float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "signet_ingress_endpoint_healthy" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "endpoint" && l.GetValue() == fmt.Sprintf("127.0.0.1:%d", serving.port) {
						return m.GetGauge().GetValue()
					}
				}
			}
		}
		return -1
	}
	wait("b to leave the rotation", func() bool { return healthy(b) == 0 })
	wait("a to be checked", func() bool { return aHealth.healthz.Load() > 0 })
	if healthy(a) != 1 {
		t.Errorf("a unhealthy, although its own health port answers 200")
	}
	if n, m := a.healthz.Load(), b.healthz.Load(); n != 0 || m != 0 {
		t.Errorf("the serving ports were checked (%d, %d times), not the health ports", n, m)
	}

	c := &http.Client{Timeout: 10 * time.Second}
	for i := range 6 {
		req, _ := http.NewRequest("GET", "http://"+p.Addrs()[0].String()+"/", nil)
		req.Host = "foo.com"
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "a" {
			t.Errorf("request %d: status %d, body %q; want 200 from a", i, resp.StatusCode, body)
		}
	}
}
