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
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/klog/v2"
)

// metrics are the agent's Prometheus metrics, in a registry of its own.
type metrics struct {
	registry        *prometheus.Registry
	sandboxes       prometheus.Gauge
	sandboxSetup    prometheus.Histogram
	containerStarts prometheus.Counter
	statusUpdates   *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		sandboxes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "nodeagent_sandboxes", Help: "Pod sandboxes (network namespaces) the agent holds.",
		}),
		sandboxSetup: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "nodeagent_sandbox_setup_duration_seconds", Help: "Time to set up a pod's network namespace, veth, addresses and files.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}),
		containerStarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "nodeagent_container_starts_total", Help: "Container runs started, restarts included.",
		}),
		statusUpdates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nodeagent_pod_status_updates_total", Help: "Pod status writes, by result.",
		}, []string{"result"}),
	}
	m.registry.MustRegister(m.sandboxes, m.sandboxSetup, m.containerStarts, m.statusUpdates)
	return m
}

// serveHealth serves /healthz (the agent runs), /readyz (the Node is
// registered and the pods adopted) and /metrics until ctx ends.
func serveHealth(ctx context.Context, addr string, ready *atomic.Bool, m *metrics) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready.Load() {
			http.Error(w, "not ready: registering the Node or adopting pods", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	mux.Handle("/metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			klog.FromContext(ctx).Error(err, "Health server stopped")
		}
	}()
	return nil
}
