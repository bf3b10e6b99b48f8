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

package forward

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	latency *prometheus.HistogramVec
	errors  *prometheus.CounterVec
	rcodes  *prometheus.CounterVec
	conns   *prometheus.CounterVec
	limited prometheus.Counter
}

func newMetrics() *metrics {
	return &metrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "node_cache_upstream_request_duration_seconds",
			Help:    "Time for an upstream to answer a query, by upstream and transport.",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
		}, []string{"upstream", "proto"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "node_cache_upstream_errors_total",
			Help: "Upstream attempts that failed (network error, timeout or bad response), by upstream.",
		}, []string{"upstream"}),
		rcodes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "node_cache_upstream_responses_total",
			Help: "Upstream answers, by upstream and response code.",
		}, []string{"upstream", "rcode"}),
		conns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "node_cache_upstream_tcp_connections_opened_total",
			Help: "TCP connections opened to an upstream.",
		}, []string{"upstream"}),
		limited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "node_cache_upstream_limit_exceeded_total",
			Help: "Resolutions refused because the maximum of concurrent upstream queries was reached.",
		}),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.latency, m.errors, m.rcodes, m.conns, m.limited}
}
