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

package nodeagent

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestThresholds(t *testing.T) {
	for _, tc := range []struct {
		name             string
		success, failure int32
		initial          bool
		outcomes         string // s = success, f = failure
		wantResults      string // the result after each outcome
	}{
		{"readiness starts failed and turns on the first success", 1, 3, false, "fsff", "fttt"},
		{"three failures in a row turn it off", 1, 3, false, "sfffs", "tttft"},
		{"a success breaks a run of failures", 1, 3, false, "sffsfff", "ttttttf"},
		{"success threshold of two", 2, 1, false, "sfssf", "ffftf"},
		{"liveness starts succeeded", 1, 2, true, "ffs", "tft"},
		{"zero thresholds mean the defaults (1 and 3)", 0, 0, false, "sfff", "tttf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			th := newThresholds(&corev1.Probe{SuccessThreshold: tc.success, FailureThreshold: tc.failure}, tc.initial)
			var got strings.Builder
			prev := tc.initial
			for _, o := range tc.outcomes {
				changed := th.observe(o == 's')
				if changed != (th.result != prev) {
					t.Fatalf("observe reported changed=%v but the result went %v -> %v", changed, prev, th.result)
				}
				prev = th.result
				if th.result {
					got.WriteByte('t')
				} else {
					got.WriteByte('f')
				}
			}
			if got.String() != tc.wantResults {
				t.Errorf("results %s, want %s", got.String(), tc.wantResults)
			}
		})
	}
}

// listenBoth serves h on 127.0.0.1 and ::1 on one port and returns it.
func listenBoth(t *testing.T, h http.Handler) int {
	t.Helper()
	for attempt := 0; attempt < 20; attempt++ {
		l4, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l4.Addr().(*net.TCPAddr).Port
		l6, err := net.Listen("tcp6", "[::1]:"+strconv.Itoa(port))
		if err != nil {
			l4.Close()
			continue
		}
		for _, l := range []net.Listener{l4, l6} {
			srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
			srv.Start()
			t.Cleanup(srv.Close)
		}
		return port
	}
	t.Fatal("no port free on both loopback addresses")
	return 0
}

func TestProber(t *testing.T) {
	loopbacks := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}
	port := listenBoth(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/healthz" && r.URL.Query().Get("v") == "1" && r.Header.Get("X-Probe") == "yes":
			w.WriteHeader(http.StatusOK)
		case r.URL.Path == "/redirect":
			http.Redirect(w, r, "http://elsewhere.example/", http.StatusFound)
		case r.URL.Path == "/v4only" && strings.HasPrefix(r.Host, "127."):
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	closed := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}()
	container := &corev1.Container{Name: "serve", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port)}}}
	httpProbe := func(path string, p intstr.IntOrString, headers ...corev1.HTTPHeader) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: p, HTTPHeaders: headers}}}
	}
	tcpProbe := func(p intstr.IntOrString) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: p}}}
	}
	execOK := func(_ context.Context, cmd []string) error {
		if cmd[0] == "true" {
			return nil
		}
		return errors.New("exit status 1")
	}
	for _, tc := range []struct {
		name    string
		probe   *corev1.Probe
		targets []netip.Addr
		wantErr string
	}{
		{"HTTP on both families, named port, query and header", httpProbe("/healthz?v=1", intstr.FromString("http"), corev1.HTTPHeader{Name: "X-Probe", Value: "yes"}), loopbacks, ""},
		{"HTTP error status", httpProbe("/down", intstr.FromInt32(int32(port))), loopbacks, "503"},
		{"a redirect is success", httpProbe("/redirect", intstr.FromInt32(int32(port))), loopbacks, ""},
		{"one family failing fails the probe", httpProbe("/v4only", intstr.FromInt32(int32(port))), loopbacks, "[::1]"},
		{"the same path on IPv4 alone succeeds", httpProbe("/v4only", intstr.FromInt32(int32(port))), loopbacks[:1], ""},
		{"unknown port name", httpProbe("/", intstr.FromString("metrics")), loopbacks, `no port named "metrics"`},
		{"TCP on both families", tcpProbe(intstr.FromInt32(int32(port))), loopbacks, ""},
		{"TCP refused", tcpProbe(intstr.FromInt32(int32(closed))), loopbacks[:1], "refused"},
		{"no addresses", tcpProbe(intstr.FromInt32(int32(port))), nil, "no address"},
		{"exec success", &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}, loopbacks, ""},
		{"exec failure", &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"false"}}}}, loopbacks, "exit status 1"},
		{"gRPC is not supported", &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 1}}}, loopbacks, "not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &prober{probe: tc.probe, container: container, targets: tc.targets, exec: execOK}
			err := p.run(context.Background())
			if tc.wantErr == "" && err != nil {
				t.Errorf("probe failed: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestProberTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// Accepts and never answers.
	srv := &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { time.Sleep(5 * time.Second) })}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	p := &prober{
		probe: &corev1.Probe{TimeoutSeconds: 1, ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: "/", Port: intstr.FromInt32(int32(ln.Addr().(*net.TCPAddr).Port))}}},
		container: &corev1.Container{},
		targets:   []netip.Addr{netip.MustParseAddr("127.0.0.1")},
	}
	start := time.Now()
	if err := p.run(context.Background()); err == nil {
		t.Error("a probe that got no answer succeeded")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the probe took %v despite timeoutSeconds 1", took)
	}
}

func TestProbeWorkerEager(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var runs atomic.Int32
	changes := make(chan bool, 4)
	w := &probeWorker{
		kind:  "readiness",
		probe: &corev1.Probe{PeriodSeconds: 30},
		run: func(context.Context) error {
			if runs.Add(1) < 3 {
				return errors.New("not listening yet")
			}
			return nil
		},
		result:   newThresholds(&corev1.Probe{}, false),
		onChange: func(ok bool, _ error) { changes <- ok },
		eager:    true,
	}
	go w.loop(ctx)
	select {
	case ok := <-changes:
		if !ok || runs.Load() != 3 {
			t.Errorf("change to %v after %d runs, want ready after the third", ok, runs.Load())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("a probe with a 30s period that fails twice was not retried every second (%d runs)", runs.Load())
	}
}

func TestProbeWorker(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := make(chan bool, 4)
	w := &probeWorker{
		kind:     "readiness",
		probe:    &corev1.Probe{PeriodSeconds: 1},
		run:      func(context.Context) error { return nil },
		result:   newThresholds(&corev1.Probe{}, false),
		onChange: func(ok bool, _ error) { changes <- ok },
	}
	go w.loop(ctx)
	select {
	case ok := <-changes:
		if !ok {
			t.Error("the first change of a passing readiness probe is to failed")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no result within 5s of a probe without initial delay")
	}
}
