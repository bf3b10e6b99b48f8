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
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	networkingv1 "signet.dev/api/networking/v1"
)

// fastCheck checks /healthz every 100ms.
func fastCheck(healthy, unhealthy int) *HealthCheck {
	return &HealthCheck{Path: "/healthz", Interval: 100 * time.Millisecond, Timeout: time.Second,
		HealthyThreshold: healthy, UnhealthyThreshold: unhealthy}
}

func healthSetup(t *testing.T, hc *HealthCheck, eps ...netip.AddrPort) (*testProxy, *Backend) {
	t.Helper()
	tp := startProxy(t, Options{})
	be := serviceBackend("svc", eps...)
	be.Service.HealthCheck = hc
	tp.Update(buildConfig(t, []*networkingv1.Ingress{testIngress("hc", 0, testRule("", prefixPath("/", "svc")))},
		map[string]*Backend{"svc": be}))
	return tp, be
}

// served returns which backends answered n requests.
func served(t *testing.T, tp *testProxy, n int) map[string]int {
	t.Helper()
	c := tp.client()
	got := map[string]int{}
	for range n {
		resp, _ := get(t, c, "http://hc.test/")
		got[resp.Header.Get("X-Backend")+"/"+resp.Status[:3]]++
	}
	return got
}

func TestActiveHealthChecks(t *testing.T) {
	a := startBackend(t, "a", "127.0.0.1:0")
	b := startBackend(t, "b", "127.0.0.1:0")
	tp, _ := healthSetup(t, fastCheck(2, 2), a.addr(), b.addr())
	healthy := func(bk *testBackend) float64 {
		return metricValue(t, tp.reg, "signet_ingress_endpoint_healthy",
			map[string]string{"backend": "default/svc:80", "endpoint": bk.addr().String()})
	}
	if got := served(t, tp, 10); got["a/200"] != 5 || got["b/200"] != 5 {
		t.Fatalf("served %v, want 5 each", got)
	}
	if healthy(a) != 1 || healthy(b) != 1 {
		t.Errorf("endpoint_healthy %v %v, want 1 1", healthy(a), healthy(b))
	}

	b.fail.Store(true)
	waitFor(t, "b to leave the rotation", func() bool { return healthy(b) == 0 })
	if got := served(t, tp, 10); got["a/200"] != 10 {
		t.Errorf("served %v with b unhealthy, want all by a", got)
	}

	b.fail.Store(false)
	waitFor(t, "b to come back", func() bool { return healthy(b) == 1 })
	if got := served(t, tp, 10); got["b/200"] != 5 {
		t.Errorf("served %v after b recovered, want 5 by b", got)
	}

	a.fail.Store(true)
	b.fail.Store(true)
	waitFor(t, "both to fail", func() bool { return healthy(a) == 0 && healthy(b) == 0 })
	resp, body := get(t, tp.client(), "http://hc.test/")
	if resp.StatusCode != 503 {
		t.Errorf("status %d with every endpoint unhealthy, want 503", resp.StatusCode)
	}
	checkProxyReply(t, resp, body)
}

func TestHealthStateSurvivesUpdates(t *testing.T) {
	a := startBackend(t, "a", "127.0.0.1:0")
	b := startBackend(t, "b", "127.0.0.1:0")
	hc := fastCheck(1, 1)
	tp, be := healthSetup(t, hc, a.addr(), b.addr())
	b.fail.Store(true)
	k := newHealthKey(b.addr(), hc, 0)
	waitFor(t, "b unhealthy", func() bool { return !tp.health.state(k).healthy.Load() })
	// Long checks so that nothing changes while updating.
	for i := range 5 {
		cfg := buildConfig(t, []*networkingv1.Ingress{testIngress("hc", 0, testRule("", prefixPath("/", "svc")))},
			map[string]*Backend{"svc": be})
		cfg.Generation = int64(i + 2)
		tp.Update(cfg)
		if got := served(t, tp, 4); got["a/200"] != 4 {
			t.Fatalf("after update %d: served %v, want all by a", i, got)
		}
	}
	// Dropping the check forgets its state (and stops the checker).
	noCheck := serviceBackend("svc", a.addr(), b.addr())
	tp.Update(buildConfig(t, []*networkingv1.Ingress{testIngress("hc", 0, testRule("", prefixPath("/", "svc")))},
		map[string]*Backend{"svc": noCheck}))
	if got := served(t, tp, 4); got["b/200"] != 2 {
		t.Errorf("without health check: served %v, want b back", got)
	}
	tp.health.mu.Lock()
	n := len(tp.health.states)
	tp.health.mu.Unlock()
	if n != 0 {
		t.Errorf("%d health states left", n)
	}
}

// TestPerEndpointHealthCheckPorts checks two endpoints each on a health
// port of its own (ServiceBackend.HealthCheckPorts): only the endpoint
// whose health port fails leaves the rotation, although both serve
// /healthz fine on their serving ports and the other's health port is
// healthy. The state lasts while the port checked stays the same.
func TestPerEndpointHealthCheckPorts(t *testing.T) {
	a := startBackend(t, "a", "127.0.0.1:0")
	b := startBackend(t, "b", "127.0.0.1:0")
	aHealth := startBackend(t, "a-health", "127.0.0.1:0")
	bHealth := startBackend(t, "b-health", "127.0.0.1:0")
	bHealth.fail.Store(true)
	hc := fastCheck(1, 1)
	tp := startProxy(t, Options{})
	update := func(hc *HealthCheck, ports ...uint16) {
		t.Helper()
		be := serviceBackend("svc", a.addr(), b.addr())
		be.Service.HealthCheck = hc
		be.Service.HealthCheckPorts = ports
		tp.Update(buildConfig(t, []*networkingv1.Ingress{testIngress("hc", 0, testRule("", prefixPath("/", "svc")))},
			map[string]*Backend{"svc": be}))
	}
	healthy := func(bk *testBackend) float64 {
		return metricValue(t, tp.reg, "signet_ingress_endpoint_healthy",
			map[string]string{"backend": "default/svc:80", "endpoint": bk.addr().String()})
	}
	states := func() int {
		tp.health.mu.Lock()
		defer tp.health.mu.Unlock()
		return len(tp.health.states)
	}
	checks := func(bk *testBackend) int64 { return bk.conns.Load() }
	stateOf := func(k healthKey) *healthState {
		tp.health.mu.Lock()
		defer tp.health.mu.Unlock()
		return tp.health.states[k]
	}
	bKey := newHealthKey(b.addr(), hc, bHealth.addr().Port())

	update(hc, aHealth.addr().Port(), bHealth.addr().Port())
	waitFor(t, "b to leave the rotation", func() bool { return healthy(b) == 0 })
	waitFor(t, "a's health port to be checked", func() bool { return checks(aHealth) > 0 })
	if healthy(a) != 1 {
		t.Errorf("a unhealthy, although its own health port answers 200")
	}
	if got := served(t, tp, 6); got["a/200"] != 6 {
		t.Errorf("served %v with b's health port failing, want all by a", got)
	}
	if n := states(); n != 2 {
		t.Errorf("%d health states, want 2", n)
	}
	bState := stateOf(bKey)
	if bState == nil || bState.healthy.Load() {
		t.Fatalf("b's health state %v, want one, unhealthy", bState)
	}

	// The same ports, given differently (a's as the check's Port, with a
	// 0 entry): the same checks, whose state is kept.
	withPort := *hc
	withPort.Port = aHealth.addr().Port()
	update(&withPort, 0, bHealth.addr().Port())
	if stateOf(bKey) != bState || healthy(b) != 0 {
		t.Errorf("b's state was not kept")
	}
	if got := served(t, tp, 4); got["a/200"] != 4 {
		t.Errorf("served %v after an Update that keeps the checks, want all by a", got)
	}
	if n := states(); n != 2 {
		t.Errorf("%d health states, want 2", n)
	}

	// b's check moves to its serving port (0 entry, 0 Port), which answers
	// 200: a new check, starting healthy, and b is back.
	update(hc, aHealth.addr().Port(), 0)
	waitFor(t, "b back in the rotation", func() bool { return healthy(b) == 1 })
	if got := served(t, tp, 4); got["a/200"] != 2 || got["b/200"] != 2 {
		t.Errorf("served %v with both healthy, want 2 each", got)
	}
	if n := states(); n != 2 || stateOf(bKey) != nil {
		t.Errorf("%d health states after the port changed, want 2 (the old one dropped)", n)
	}
	if healthy(a) != 1 {
		t.Errorf("a unhealthy")
	}
}

func TestPassiveHealth(t *testing.T) {
	live := startBackend(t, "live", "127.0.0.1:0")
	dead := refusedAddr(t)
	t.Run("without health check: next endpoint", func(t *testing.T) {
		tp, _ := healthSetup(t, nil, dead, live.addr())
		if got := served(t, tp, 10); got["live/200"] != 10 {
			t.Errorf("served %v, want every request by the live endpoint", got)
		}
	})
	t.Run("counted as failures", func(t *testing.T) {
		// Active checks every hour: the first one runs at once and fails;
		// the rest of the threshold must come from refused connections.
		hc := &HealthCheck{Path: "/healthz", Interval: time.Hour, Timeout: time.Second, HealthyThreshold: 1, UnhealthyThreshold: 3}
		tp, _ := healthSetup(t, hc, dead, live.addr())
		st := tp.health.state(newHealthKey(dead, hc, 0))
		waitFor(t, "the first active check", func() bool {
			st.mu.Lock()
			defer st.mu.Unlock()
			return st.fails == 1
		})
		if got := served(t, tp, 10); got["live/200"] != 10 {
			t.Errorf("served %v, want every request by the live endpoint", got)
		}
		if st.healthy.Load() {
			t.Errorf("dead endpoint still healthy after refused connections")
		}
		if v := metricValue(t, tp.reg, "signet_ingress_endpoint_healthy", map[string]string{"endpoint": dead.String()}); v != 0 {
			t.Errorf("endpoint_healthy %v, want 0", v)
		}
	})
	t.Run("all refused: 502", func(t *testing.T) {
		tp, _ := healthSetup(t, nil, dead, refusedAddr(t))
		resp, body := get(t, tp.client(), "http://hc.test/")
		if resp.StatusCode != 502 {
			t.Errorf("status %d, want 502", resp.StatusCode)
		}
		checkProxyReply(t, resp, body)
	})
}

// TestConfigSwapUnderLoad updates the Config many times while clients
// send requests: none may fail.
func TestConfigSwapUnderLoad(t *testing.T) {
	a := startBackend(t, "a", "127.0.0.1:0")
	b := startBackend(t, "b", "127.0.0.1:0")
	tp := startProxy(t, Options{})
	cfgFor := func(gen int) *Config {
		svc := []netip.AddrPort{a.addr()}
		if gen%2 == 1 {
			svc = []netip.AddrPort{b.addr()}
		}
		if gen%3 == 0 {
			svc = []netip.AddrPort{a.addr(), b.addr()}
		}
		cfg := buildConfig(t, []*networkingv1.Ingress{testIngress("swap", 0,
			testRule("", prefixPath("/", "svc"), exactPath("/other", "svc")))},
			map[string]*Backend{"svc": serviceBackend("svc", svc...)})
		cfg.Generation = int64(gen)
		cfg.Changed = time.Now()
		return cfg
	}
	tp.Update(cfgFor(0))
	var stop atomic.Bool
	var requests, failures atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			c := tp.client()
			for !stop.Load() {
				resp, err := c.Get("http://swap.test/x")
				if err != nil {
					failures.Add(1)
					t.Errorf("request failed: %v", err)
					continue
				}
				resp.Body.Close()
				requests.Add(1)
				if resp.StatusCode != 200 {
					failures.Add(1)
					t.Errorf("status %d", resp.StatusCode)
				}
			}
		})
	}
	for gen := 1; gen <= 300; gen++ {
		tp.Update(cfgFor(gen))
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if requests.Load() < 100 || failures.Load() != 0 {
		t.Errorf("%d requests, %d failed", requests.Load(), failures.Load())
	}
	if v := metricValue(t, tp.reg, "signet_ingress_config_generation", nil); v != 300 {
		t.Errorf("config_generation %v, want 300", v)
	}
	if v := metricValue(t, tp.reg, "signet_ingress_config_change_to_live_seconds", nil); v != 301 {
		t.Errorf("config_change_to_live_seconds count %v, want 301 (one per Update)", v)
	}
}
