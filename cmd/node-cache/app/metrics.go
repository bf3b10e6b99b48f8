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

package app

import "github.com/prometheus/client_golang/prometheus"

// Kinds of setup errors, the values of the kind label of
// node_cache_setup_errors_total.
const (
	kindInterface = "interface"
	kindIPTables  = "iptables"
)

// metrics are the command's own metrics; the DNS server registers its own.
type metrics struct {
	setupErrors     *prometheus.CounterVec
	reloads         *prometheus.CounterVec
	lastReloadOK    prometheus.Gauge
	restartRequired prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		setupErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "node_cache_setup_errors_total",
			Help: "Failures to create or restore node setup, by kind: interface (the link and its addresses) or iptables (the NOTRACK and ACCEPT rules).",
		}, []string{"kind"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "node_cache_config_reloads_total",
			Help: "Reloads of the configuration after the --config file or the resolv.conf file changed, by result (success or failure).",
		}, []string{"result"}),
		lastReloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "node_cache_config_last_reload_successful",
			Help: "1 if the last configuration reload succeeded (or none was needed), 0 if the configuration in force is older than the files.",
		}),
		restartRequired: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "node_cache_config_restart_required",
			Help: "1 if the --config file changes settings that only a restart applies (local IPs, port, interface, addresses, cache size).",
		}),
	}
	for _, k := range []string{kindInterface, kindIPTables} {
		m.setupErrors.WithLabelValues(k)
	}
	for _, r := range []string{"success", "failure"} {
		m.reloads.WithLabelValues(r)
	}
	m.lastReloadOK.Set(1)
	reg.MustRegister(m.setupErrors, m.reloads, m.lastReloadOK, m.restartRequired)
	return m
}
