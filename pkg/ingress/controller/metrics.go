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
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the control plane's Prometheus metrics. The data plane
// registers its own (requests, latency, health checks, the configuration
// generation and the time from a change to it being live).
type metrics struct {
	rebuilds      prometheus.Counter
	buildSeconds  prometheus.Histogram
	ingresses     prometheus.Gauge
	routes        prometheus.Gauge
	notAccepted   *prometheus.GaugeVec
	statusUpdates *prometheus.CounterVec
	leader        prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		rebuilds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "signet_ingress_route_table_rebuilds_total",
			Help: "Number of times the route table and proxy configuration were rebuilt and applied.",
		}),
		buildSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "signet_ingress_route_table_build_seconds",
			Help:    "Time to rebuild the route table and proxy configuration from the caches and apply it.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}),
		ingresses: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "signet_ingress_ingresses",
			Help: "Number of Ingresses of this controller's classes in the applied configuration.",
		}),
		routes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "signet_ingress_routes",
			Help: "Number of routes (paths and the default backend) in the applied route table.",
		}),
		notAccepted: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "signet_ingress_ingresses_not_accepted",
			Help: "Number of Ingresses of this controller's classes whose Accepted condition is False, by reason.",
		}, []string{"reason"}),
		statusUpdates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_ingress_status_updates_total",
			Help: "Ingress status writes by result (success, conflict, error).",
		}, []string{"result"}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "signet_ingress_status_leader",
			Help: "1 while this replica holds the lease and writes Ingress status, else 0.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.rebuilds, m.buildSeconds, m.ingresses, m.routes, m.notAccepted, m.statusUpdates, m.leader)
	}
	return m
}
