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

package healthcheck

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2/ktesting"
)

// loopback is a listen function that opens 127.0.0.1:0 whatever address
// is asked for, and remembers which listener stands for which address.
type loopback struct {
	mu       sync.Mutex
	opened   map[string]string // requested address -> actual address
	requests []string          // "network address", in order
	// fail makes a request for an address fail.
	fail map[string]bool
}

func newLoopback() *loopback {
	return &loopback{opened: map[string]string{}, fail: map[string]bool{}}
}

func (l *loopback) listen(network, address string) (net.Listener, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests = append(l.requests, network+" "+address)
	if l.fail[address] {
		return nil, fmt.Errorf("listen %s %s: address already in use", network, address)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l.opened[address] = ln.Addr().String()
	return ln, nil
}

func (l *loopback) addr(t *testing.T, requested string) string {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.opened[requested]
	if !ok {
		t.Fatalf("nothing was opened for %s; requests: %q", requested, l.requests)
	}
	return a
}

func (l *loopback) takeRequests() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.requests
	l.requests = nil
	return r
}

type healthAnswer struct {
	code int
	body struct {
		Service struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
		} `json:"service"`
		LocalEndpoints int `json:"localEndpoints"`
	}
}

// get asks a health-check node port, as a load balancer does.
func get(t *testing.T, addr string) healthAnswer {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		t.Fatalf("GET %s: %v", addr, err)
	}
	defer resp.Body.Close()
	var a healthAnswer
	a.code = resp.StatusCode
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if n := resp.Header.Get("X-Content-Type-Options"); n != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", n)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &a.body); err != nil {
		t.Fatalf("body %q is not JSON: %v", data, err)
	}
	return a
}

// checkClosed fails unless nothing answers at addr.
func checkClosed(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections", addr)
	}
}

var (
	web = types.NamespacedName{Namespace: "shop", Name: "web"}
	api = types.NamespacedName{Namespace: "shop", Name: "api"}
)

func newServer(t *testing.T, l *loopback, cfg ServiceHealthConfig) *ServiceHealthServer {
	t.Helper()
	cfg.Listen = l.listen
	cfg.NodeName = "node-a"
	cfg.Logger = ktesting.NewLogger(t, ktesting.NewConfig())
	s := NewServiceHealthServer(cfg)
	t.Cleanup(s.Close)
	return s
}

func TestServiceHealthAnswers(t *testing.T) {
	l := newLoopback()
	s := newServer(t, l, ServiceHealthConfig{Network: "tcp4"})
	if err := s.SyncServices(map[types.NamespacedName]int32{web: 30001, api: 30002}); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncEndpoints(map[types.NamespacedName]int{web: 2}); err != nil {
		t.Fatal(err)
	}
	if got, want := l.takeRequests(), []string{"tcp4 0.0.0.0:30002", "tcp4 0.0.0.0:30001"}; !slices.Equal(got, want) {
		t.Errorf("listened on %q, want %q", got, want)
	}

	tests := []struct {
		name      string
		svc       types.NamespacedName
		port      string
		wantCode  int
		wantCount int
	}{
		{name: "local endpoints", svc: web, port: "0.0.0.0:30001", wantCode: http.StatusOK, wantCount: 2},
		{name: "no local endpoint", svc: api, port: "0.0.0.0:30002", wantCode: http.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := get(t, l.addr(t, tc.port))
			if a.code != tc.wantCode {
				t.Errorf("status = %d, want %d", a.code, tc.wantCode)
			}
			if a.body.Service.Namespace != tc.svc.Namespace || a.body.Service.Name != tc.svc.Name || a.body.LocalEndpoints != tc.wantCount {
				t.Errorf("body = %+v, want service %s with %d local endpoints", a.body, tc.svc, tc.wantCount)
			}
		})
	}

	// Endpoints come and go without reopening anything.
	if err := s.SyncEndpoints(map[types.NamespacedName]int{api: 1}); err != nil {
		t.Fatal(err)
	}
	if a := get(t, l.addr(t, "0.0.0.0:30001")); a.code != http.StatusServiceUnavailable || a.body.LocalEndpoints != 0 {
		t.Errorf("web after its endpoints left: %d %+v, want 503 with 0", a.code, a.body)
	}
	if a := get(t, l.addr(t, "0.0.0.0:30002")); a.code != http.StatusOK || a.body.LocalEndpoints != 1 {
		t.Errorf("api after an endpoint arrived: %d %+v, want 200 with 1", a.code, a.body)
	}
	if err := s.SyncServices(map[types.NamespacedName]int32{web: 30001, api: 30002}); err != nil {
		t.Fatal(err)
	}
	if got := l.takeRequests(); len(got) != 0 {
		t.Errorf("an unchanged sync listened again: %q", got)
	}

	// Only GET and HEAD.
	resp, err := http.Post("http://"+l.addr(t, "0.0.0.0:30002")+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d, want 405", resp.StatusCode)
	}
}

func TestServiceHealthClosesWhatWentAway(t *testing.T) {
	l := newLoopback()
	s := newServer(t, l, ServiceHealthConfig{Network: "tcp6"})
	if err := s.SyncServices(map[types.NamespacedName]int32{web: 30001, api: 30002}); err != nil {
		t.Fatal(err)
	}
	webAddr, apiAddr := l.addr(t, "[::]:30001"), l.addr(t, "[::]:30002")
	l.takeRequests()

	// api goes away, web moves to another port.
	if err := s.SyncServices(map[types.NamespacedName]int32{web: 30003}); err != nil {
		t.Fatal(err)
	}
	checkClosed(t, apiAddr)
	checkClosed(t, webAddr)
	if got, want := l.takeRequests(), []string{"tcp6 [::]:30003"}; !slices.Equal(got, want) {
		t.Errorf("listened on %q, want %q", got, want)
	}
	if err := s.SyncEndpoints(map[types.NamespacedName]int{web: 1}); err != nil {
		t.Fatal(err)
	}
	if a := get(t, l.addr(t, "[::]:30003")); a.code != http.StatusOK || a.body.LocalEndpoints != 1 {
		t.Errorf("web on its new port: %d %+v, want 200 with 1", a.code, a.body)
	}

	s.Close()
	checkClosed(t, l.addr(t, "[::]:30003"))
}

func TestServiceHealthListensOnGivenAddresses(t *testing.T) {
	l := newLoopback()
	s := newServer(t, l, ServiceHealthConfig{
		Network:   "tcp",
		Addresses: []netip.Addr{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("fd00::5")},
	})
	if err := s.SyncServices(map[types.NamespacedName]int32{web: 30001}); err != nil {
		t.Fatal(err)
	}
	if got, want := l.takeRequests(), []string{"tcp 10.0.0.5:30001", "tcp [fd00::5]:30001"}; !slices.Equal(got, want) {
		t.Errorf("listened on %q, want %q", got, want)
	}
	if err := s.SyncEndpoints(map[types.NamespacedName]int{web: 1}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"10.0.0.5:30001", "[fd00::5]:30001"} {
		if got := get(t, l.addr(t, a)); got.code != http.StatusOK {
			t.Errorf("%s: status %d, want 200", a, got.code)
		}
	}
}

func TestServiceHealthListenFailure(t *testing.T) {
	l := newLoopback()
	l.fail["[fd00::5]:30002"] = true
	rec := record.NewFakeRecorder(10)
	s := newServer(t, l, ServiceHealthConfig{
		Addresses: []netip.Addr{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("fd00::5")},
		Recorder:  rec,
	})
	err := s.SyncServices(map[types.NamespacedName]int32{web: 30001, api: 30002})
	if err == nil || !strings.Contains(err.Error(), "service shop/api: health-check node port 30002") ||
		!strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("SyncServices error = %v, want one naming shop/api and port 30002", err)
	}
	select {
	case ev := <-rec.Events:
		if !strings.HasPrefix(ev, "Warning "+ReasonFailedToStartHealthCheck) || !strings.Contains(ev, "node node-a") {
			t.Errorf("event %q, want a %s warning naming the node", ev, ReasonFailedToStartHealthCheck)
		}
	default:
		t.Error("no event recorded")
	}
	// The address that did open for api was closed again: nothing half
	// open.
	checkClosed(t, l.addr(t, "10.0.0.5:30002"))
	// web is unaffected.
	if a := get(t, l.addr(t, "10.0.0.5:30001")); a.code != http.StatusServiceUnavailable {
		t.Errorf("web: status %d, want 503 (no endpoints yet)", a.code)
	}

	// The next sync retries the port that failed, and only that one.
	delete(l.fail, "[fd00::5]:30002")
	l.takeRequests()
	if err := s.SyncServices(map[types.NamespacedName]int32{web: 30001, api: 30002}); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got, want := l.takeRequests(), []string{"tcp 10.0.0.5:30002", "tcp [fd00::5]:30002"}; !slices.Equal(got, want) {
		t.Errorf("retry listened on %q, want %q", got, want)
	}
}

func TestServiceHealthFollowsProxierHealth(t *testing.T) {
	l := newLoopback()
	var mu sync.Mutex
	healthy := true
	s := newServer(t, l, ServiceHealthConfig{Healthy: func() bool {
		mu.Lock()
		defer mu.Unlock()
		return healthy
	}})
	if err := s.SyncServices(map[types.NamespacedName]int32{web: 30001}); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncEndpoints(map[types.NamespacedName]int{web: 3}); err != nil {
		t.Fatal(err)
	}
	addr := l.addr(t, ":30001")
	if a := get(t, addr); a.code != http.StatusOK {
		t.Errorf("healthy kube-proxy: status %d, want 200", a.code)
	}
	mu.Lock()
	healthy = false
	mu.Unlock()
	if a := get(t, addr); a.code != http.StatusServiceUnavailable || a.body.LocalEndpoints != 3 {
		t.Errorf("stale kube-proxy: %d %+v, want 503 still reporting 3 endpoints", a.code, a.body)
	}
}
