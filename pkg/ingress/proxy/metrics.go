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
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the proxy's Prometheus metrics. Request metrics are resolved
// to their children once per backend and status code (backendMetrics), so
// that counting a request is an atomic add, not a label lookup.
type metrics struct {
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	changeToLive prometheus.Histogram
	generation   prometheus.Gauge
	healthy      *prometheus.Desc

	mu sync.Mutex
	// byBackend caches the children of the backends of the live Config
	// (and of the one before), by ingress and backend label.
	byBackend map[[2]string]*backendMetrics
}

func newMetrics(p *Proxy) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_ingress_requests_total",
			Help: "Requests answered, by Ingress, backend and status code; requests no route matches have empty ingress and backend.",
		}, []string{"ingress", "backend", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "signet_ingress_request_duration_seconds",
			Help:    "Time from reading a request head to the end of its response, by backend.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"backend"}),
		changeToLive: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "signet_ingress_config_change_to_live_seconds",
			Help:    "Time from the oldest change folded into a Config being seen by the controller to the Config serving requests.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		generation: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "signet_ingress_config_generation",
			Help: "Generation of the Config serving requests.",
		}),
		healthy: prometheus.NewDesc("signet_ingress_endpoint_healthy",
			"Whether a health-checked endpoint takes traffic (1) or is out of rotation (0).",
			[]string{"backend", "endpoint"}, nil),
		byBackend: map[[2]string]*backendMetrics{},
	}
	return m
}

// collectors returns everything to register; healthCollector reads the
// health state of the live Config at scrape time, so endpoints that leave
// the Config leave the metric with it.
func (m *metrics) collectors(p *Proxy) []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.duration, m.changeToLive, m.generation, &healthCollector{p: p, desc: m.healthy}}
}

// forBackend returns the cached children of one backend; keep holds the
// keys used by the Config being built, so that prune can drop the others.
func (m *metrics) forBackend(ingress, backend string, keep map[[2]string]bool) *backendMetrics {
	k := [2]string{ingress, backend}
	keep[k] = true
	m.mu.Lock()
	defer m.mu.Unlock()
	bm := m.byBackend[k]
	if bm == nil {
		bm = &backendMetrics{
			ingress:  ingress,
			backend:  backend,
			requests: m.requests,
			duration: m.duration.WithLabelValues(backend),
		}
		m.byBackend[k] = bm
	}
	return bm
}

// prune forgets the cached children of backends not in keep. The series
// themselves stay: counters of a removed backend keep their last value.
func (m *metrics) prune(keep map[[2]string]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.byBackend {
		if !keep[k] {
			delete(m.byBackend, k)
		}
	}
}

// backendMetrics are the request metrics of one (ingress, backend).
type backendMetrics struct {
	ingress, backend string
	requests         *prometheus.CounterVec
	duration         prometheus.Observer

	// codes is a copy-on-write list of the counters by status code seen so
	// far; a backend answers with few distinct codes, so a linear scan
	// beats a map and never allocates.
	codes atomic.Pointer[[]codeCounter]
	mu    sync.Mutex
}

type codeCounter struct {
	code int
	c    prometheus.Counter
}

// observe counts one request answered with code that took d.
func (m *backendMetrics) observe(code int, d time.Duration) {
	m.counter(code).Inc()
	m.duration.Observe(d.Seconds())
}

func (m *backendMetrics) counter(code int) prometheus.Counter {
	if cs := m.codes.Load(); cs != nil {
		for _, c := range *cs {
			if c.code == code {
				return c.c
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var old []codeCounter
	if cs := m.codes.Load(); cs != nil {
		old = *cs
		for _, c := range old {
			if c.code == code {
				return c.c
			}
		}
	}
	c := m.requests.WithLabelValues(m.ingress, m.backend, strconv.Itoa(code))
	next := make([]codeCounter, len(old), len(old)+1)
	copy(next, old)
	next = append(next, codeCounter{code, c})
	m.codes.Store(&next)
	return c
}

// healthCollector reports signet_ingress_endpoint_healthy for the
// health-checked endpoints of the live Config.
type healthCollector struct {
	p    *Proxy
	desc *prometheus.Desc
}

func (h *healthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- h.desc }

func (h *healthCollector) Collect(ch chan<- prometheus.Metric) {
	lc := h.p.live.Load()
	if lc == nil {
		return
	}
	seen := map[[2]string]bool{}
	for _, b := range lc.services {
		for _, ep := range b.endpoints {
			if ep.health == nil {
				continue
			}
			k := [2]string{b.name, ep.hostport}
			if seen[k] {
				continue
			}
			seen[k] = true
			v := 0.0
			if ep.health.healthy.Load() {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(h.desc, prometheus.GaugeValue, v, b.name, ep.hostport)
		}
	}
}
