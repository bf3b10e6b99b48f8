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

// Package healthcheck serves kube-proxy's health over HTTP: ProxierHealth
// says whether the rules are being kept up to date (/healthz, /livez,
// /readyz), and ServiceHealthServer answers load balancers' health checks
// on the health-check node ports of Services with externalTrafficPolicy
// Local.
package healthcheck

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
)

// Proxier is what ProxierHealth asks of one family's proxier;
// *iptables.Proxier implements it.
type Proxier interface {
	// LastSuccess is when the rules were last written successfully, zero
	// before the first time.
	LastSuccess() time.Time
	// Pending is how many Services changed since then.
	Pending() int
	// Family is the proxier's IP family.
	Family() corev1.IPFamily
}

// ProxierHealth is the handler of kube-proxy's /healthz, /livez and
// /readyz. kube-proxy is healthy while every proxier (one per IP family)
// has written its rules successfully within the threshold: a proxier
// syncs at least once per sync period even when nothing changed, so a
// threshold of twice the sync period tolerates one slow or failed sync.
// It is unhealthy until every proxier's first successful sync, which
// comes after the Service and EndpointSlice informers have listed
// everything: probes need an initial delay or failure threshold long
// enough for that.
//
// The answer is JSON: lastUpdated (the oldest of the proxiers' last
// successful syncs, null before every proxier has had one), currentTime,
// nodeName, and per family its last successful sync, pending changes and
// health. The status is 200 when healthy and 503 otherwise.
type ProxierHealth struct {
	nodeName  string
	threshold time.Duration
	proxiers  []Proxier
	clock     clock.PassiveClock
}

// NewProxierHealth returns the handler for proxiers; a nil clock means
// the wall clock.
func NewProxierHealth(nodeName string, threshold time.Duration, clk clock.PassiveClock, proxiers ...Proxier) *ProxierHealth {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &ProxierHealth{nodeName: nodeName, threshold: threshold, proxiers: slices.Clone(proxiers), clock: clk}
}

// Status is the body of a ProxierHealth answer.
type Status struct {
	// LastUpdated is the oldest of the proxiers' last successful syncs:
	// every family's rules are at least that recent. Null until every
	// proxier has synced once.
	LastUpdated *time.Time `json:"lastUpdated"`
	// CurrentTime is when the answer was made.
	CurrentTime time.Time `json:"currentTime"`
	// NodeName is the node this kube-proxy runs on.
	NodeName string `json:"nodeName"`
	// Healthy is true when every family is.
	Healthy bool `json:"healthy"`
	// Families holds each proxier's state by IP family.
	Families map[corev1.IPFamily]FamilyStatus `json:"families"`
}

// FamilyStatus is one proxier's state.
type FamilyStatus struct {
	// LastUpdated is the proxier's last successful sync, null before the
	// first.
	LastUpdated *time.Time `json:"lastUpdated"`
	// Pending is how many Services changed since then.
	Pending int `json:"pending"`
	// Healthy is true when LastUpdated is younger than the threshold.
	Healthy bool `json:"healthy"`
}

// Status computes the current health.
func (h *ProxierHealth) Status() Status {
	now := h.clock.Now()
	s := Status{
		CurrentTime: now,
		NodeName:    h.nodeName,
		Healthy:     len(h.proxiers) > 0,
		Families:    make(map[corev1.IPFamily]FamilyStatus, len(h.proxiers)),
	}
	var oldest time.Time
	synced := true
	for _, p := range h.proxiers {
		last := p.LastSuccess()
		fs := FamilyStatus{Pending: p.Pending()}
		if last.IsZero() {
			synced = false
		} else {
			fs.LastUpdated = &last
			fs.Healthy = now.Sub(last) < h.threshold
			if oldest.IsZero() || last.Before(oldest) {
				oldest = last
			}
		}
		s.Healthy = s.Healthy && fs.Healthy
		s.Families[p.Family()] = fs
	}
	if synced && !oldest.IsZero() {
		s.LastUpdated = &oldest
	}
	return s
}

// Healthy reports whether every proxier synced within the threshold.
func (h *ProxierHealth) Healthy() bool {
	return h.Status().Healthy
}

// ServeHTTP answers with the Status as JSON: 200 when healthy, 503 when
// not.
func (h *ProxierHealth) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s := h.Status()
	code := http.StatusOK
	if !s.Healthy {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, s)
}

// writeJSON writes v as the JSON body of a response with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(append(body, '\n'))
}
