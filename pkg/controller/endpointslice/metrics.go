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

package endpointslice

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/labels"

	discoverylisters "signet.dev/client-go/listers/discovery/v1"
)

const metricsPrefix = "signet_endpointslice_controller_"

// Values of the result label of the sync duration histogram.
const (
	resultSuccess = "success"
	resultError   = "error"
	resultStale   = "stale"
)

// metrics are the controller's Prometheus metrics. They are registered on
// the Registerer of ControllerOptions, if any, so that nothing is global:
//
//	signet_endpointslice_controller_changes_total{operation}   slice writes done, by create/update/delete
//	signet_endpointslice_controller_sync_duration_seconds{result} syncService latency, by success/error/stale
//	signet_endpointslice_controller_desired_endpoints         endpoints the pods imply, over all Services
//	signet_endpointslice_controller_desired_slices            managed slices the plans lead to, over all Services
//	signet_endpointslice_controller_endpoints                 endpoints in the cached managed slices
//	signet_endpointslice_controller_slices                    managed slices in the cache
//	signet_endpointslice_controller_stale_cache_requeues_total syncs put back because the cache missed the controller's writes
type metrics struct {
	changes      *prometheus.CounterVec
	syncDuration *prometheus.HistogramVec
	desiredEPs   prometheus.Gauge
	desiredSls   prometheus.Gauge
	staleCache   prometheus.Counter
	actual       *actualCollector

	mu      sync.Mutex
	desired map[string][2]int // Service key -> endpoints, slices
}

func newMetrics(sliceLister discoverylisters.EndpointSliceLister) *metrics {
	return &metrics{
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricsPrefix + "changes_total",
			Help: "EndpointSlice writes done by the controller, by operation (create, update, delete).",
		}, []string{"operation"}),
		syncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    metricsPrefix + "sync_duration_seconds",
			Help:    "Duration of one Service sync, by result (success, error, stale).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}, []string{"result"}),
		desiredEPs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: metricsPrefix + "desired_endpoints",
			Help: "Endpoints the pods of all synced Services imply.",
		}),
		desiredSls: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: metricsPrefix + "desired_slices",
			Help: "Managed EndpointSlices of all synced Services once their plans are applied.",
		}),
		staleCache: prometheus.NewCounter(prometheus.CounterOpts{
			Name: metricsPrefix + "stale_cache_requeues_total",
			Help: "Service syncs put back because the EndpointSlice cache did not yet show the controller's own writes.",
		}),
		actual:  newActualCollector(sliceLister),
		desired: map[string][2]int{},
	}
}

// register registers every metric on reg.
func (m *metrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.changes, m.syncDuration, m.desiredEPs, m.desiredSls, m.staleCache, m.actual} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// setDesired records the desired endpoints and slices of one Service.
func (m *metrics) setDesired(svcKey string, endpoints, slices int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.desired[svcKey]
	m.desired[svcKey] = [2]int{endpoints, slices}
	m.desiredEPs.Add(float64(endpoints - old[0]))
	m.desiredSls.Add(float64(slices - old[1]))
}

// forget drops a deleted Service from the desired gauges.
func (m *metrics) forget(svcKey string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.desired[svcKey]
	delete(m.desired, svcKey)
	m.desiredEPs.Sub(float64(old[0]))
	m.desiredSls.Sub(float64(old[1]))
}

// actualCollector reports the managed slices in the cache and their
// endpoints, computed at scrape time.
type actualCollector struct {
	lister    discoverylisters.EndpointSliceLister
	endpoints *prometheus.Desc
	slices    *prometheus.Desc
}

func newActualCollector(lister discoverylisters.EndpointSliceLister) *actualCollector {
	return &actualCollector{
		lister:    lister,
		endpoints: prometheus.NewDesc(metricsPrefix+"endpoints", "Endpoints in the managed EndpointSlices of the controller's cache.", nil, nil),
		slices:    prometheus.NewDesc(metricsPrefix+"slices", "Managed EndpointSlices in the controller's cache.", nil, nil),
	}
}

func (c *actualCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.endpoints
	ch <- c.slices
}

func (c *actualCollector) Collect(ch chan<- prometheus.Metric) {
	all, err := c.lister.List(labels.Everything())
	if err != nil {
		return
	}
	var eps, sls int
	for _, s := range all {
		if Managed(s) {
			sls++
			eps += len(s.Endpoints)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.endpoints, prometheus.GaugeValue, float64(eps))
	ch <- prometheus.MustNewConstMetric(c.slices, prometheus.GaugeValue, float64(sls))
}
