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

package iptables

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are kube-proxy's iptables metrics, shared by the proxiers of
// both families (label ip_family).
type Metrics struct {
	SyncDuration       *prometheus.HistogramVec
	Rules              *prometheus.GaugeVec
	PendingChanges     *prometheus.GaugeVec
	RestoreFailures    *prometheus.CounterVec
	ConntrackDeletions *prometheus.CounterVec
	ConntrackErrors    *prometheus.CounterVec
	TopologyEndpoints  *prometheus.GaugeVec
	LastSync           *prometheus.GaugeVec
}

// NewMetrics creates the metrics and registers them with reg (nil: not
// registered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		SyncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "signet", Subsystem: "kubeproxy", Name: "sync_duration_seconds",
			Help:    "Time to compute and write the rules, by sync type (full or partial).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"ip_family", "type"}),
		Rules: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "signet", Subsystem: "kubeproxy", Name: "iptables_rules",
			Help: "Rules kube-proxy has programmed, by table.",
		}, []string{"ip_family", "table"}),
		PendingChanges: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "signet", Subsystem: "kubeproxy", Name: "pending_changes",
			Help: "Services changed since the last successful sync.",
		}, []string{"ip_family"}),
		RestoreFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "signet", Subsystem: "kubeproxy", Name: "iptables_restore_failures_total",
			Help: "iptables-restore runs that failed; the previous rules stayed in place.",
		}, []string{"ip_family"}),
		ConntrackDeletions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "signet", Subsystem: "kubeproxy", Name: "conntrack_deleted_entries_total",
			Help: "Stale UDP conntrack entries deleted.",
		}, []string{"ip_family"}),
		ConntrackErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "signet", Subsystem: "kubeproxy", Name: "conntrack_errors_total",
			Help: "Failed conntrack deletions.",
		}, []string{"ip_family"}),
		TopologyEndpoints: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "signet", Subsystem: "kubeproxy", Name: "topology_endpoints",
			Help: "Endpoints of Services with topology keys: selected for this node by the keys, and in total.",
		}, []string{"ip_family", "kind"}),
		LastSync: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "signet", Subsystem: "kubeproxy", Name: "last_successful_sync_timestamp_seconds",
			Help: "When the rules were last written successfully.",
		}, []string{"ip_family"}),
	}
	if reg != nil {
		reg.MustRegister(m.SyncDuration, m.Rules, m.PendingChanges, m.RestoreFailures,
			m.ConntrackDeletions, m.ConntrackErrors, m.TopologyEndpoints, m.LastSync)
	}
	return m
}
