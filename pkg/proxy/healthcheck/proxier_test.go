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
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

// fakeProxier reports a fixed state.
type fakeProxier struct {
	family  corev1.IPFamily
	last    time.Time
	pending int
}

func (p *fakeProxier) LastSuccess() time.Time  { return p.last }
func (p *fakeProxier) Pending() int            { return p.pending }
func (p *fakeProxier) Family() corev1.IPFamily { return p.family }

func TestProxierHealth(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	const threshold = time.Minute
	v4 := func(last time.Time) *fakeProxier {
		return &fakeProxier{family: corev1.IPv4Protocol, last: last}
	}
	v6 := func(last time.Time) *fakeProxier {
		return &fakeProxier{family: corev1.IPv6Protocol, last: last, pending: 3}
	}

	tests := []struct {
		name     string
		proxiers []Proxier
		wantCode int
		// wantLast is the lastUpdated answered; zero means null.
		wantLast time.Time
		// wantHealthy is each family's health.
		wantHealthy map[corev1.IPFamily]bool
	}{
		{
			name:        "before the first sync",
			proxiers:    []Proxier{v4(time.Time{})},
			wantCode:    http.StatusServiceUnavailable,
			wantHealthy: map[corev1.IPFamily]bool{corev1.IPv4Protocol: false},
		},
		{
			name:        "recent sync",
			proxiers:    []Proxier{v4(ago(10 * time.Second))},
			wantCode:    http.StatusOK,
			wantLast:    ago(10 * time.Second),
			wantHealthy: map[corev1.IPFamily]bool{corev1.IPv4Protocol: true},
		},
		{
			name:        "just under the threshold",
			proxiers:    []Proxier{v4(ago(threshold - time.Millisecond))},
			wantCode:    http.StatusOK,
			wantLast:    ago(threshold - time.Millisecond),
			wantHealthy: map[corev1.IPFamily]bool{corev1.IPv4Protocol: true},
		},
		{
			name:        "at the threshold",
			proxiers:    []Proxier{v4(ago(threshold))},
			wantCode:    http.StatusServiceUnavailable,
			wantLast:    ago(threshold),
			wantHealthy: map[corev1.IPFamily]bool{corev1.IPv4Protocol: false},
		},
		{
			name:        "dual-stack, both recent",
			proxiers:    []Proxier{v4(ago(5 * time.Second)), v6(ago(20 * time.Second))},
			wantCode:    http.StatusOK,
			wantLast:    ago(20 * time.Second),
			wantHealthy: map[corev1.IPFamily]bool{corev1.IPv4Protocol: true, corev1.IPv6Protocol: true},
		},
		{
			name:        "dual-stack, IPv6 stale",
			proxiers:    []Proxier{v4(ago(5 * time.Second)), v6(ago(5 * time.Minute))},
			wantCode:    http.StatusServiceUnavailable,
			wantLast:    ago(5 * time.Minute),
			wantHealthy: map[corev1.IPFamily]bool{corev1.IPv4Protocol: true, corev1.IPv6Protocol: false},
		},
		{
			name:        "dual-stack, IPv6 never synced",
			proxiers:    []Proxier{v4(ago(5 * time.Second)), v6(time.Time{})},
			wantCode:    http.StatusServiceUnavailable,
			wantHealthy: map[corev1.IPFamily]bool{corev1.IPv4Protocol: true, corev1.IPv6Protocol: false},
		},
		{
			name:        "no proxier",
			wantCode:    http.StatusServiceUnavailable,
			wantHealthy: map[corev1.IPFamily]bool{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewProxierHealth("node-a", threshold, clocktesting.NewFakePassiveClock(now), tc.proxiers...)
			for _, path := range []string{"/healthz", "/livez"} {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				if rec.Code != tc.wantCode {
					t.Errorf("GET %s = %d, want %d; body %s", path, rec.Code, tc.wantCode, rec.Body)
				}
				checkJSONHeaders(t, rec)

				var body struct {
					LastUpdated *time.Time `json:"lastUpdated"`
					CurrentTime time.Time  `json:"currentTime"`
					NodeName    string     `json:"nodeName"`
					Families    map[corev1.IPFamily]struct {
						Healthy bool `json:"healthy"`
						Pending int  `json:"pending"`
					} `json:"families"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
					t.Fatalf("body %q is not JSON: %v", rec.Body, err)
				}
				if body.NodeName != "node-a" || !body.CurrentTime.Equal(now) {
					t.Errorf("nodeName, currentTime = %q, %v; want node-a, %v", body.NodeName, body.CurrentTime, now)
				}
				switch {
				case tc.wantLast.IsZero() && body.LastUpdated != nil:
					t.Errorf("lastUpdated = %v, want null", *body.LastUpdated)
				case !tc.wantLast.IsZero() && (body.LastUpdated == nil || !body.LastUpdated.Equal(tc.wantLast)):
					t.Errorf("lastUpdated = %v, want %v", body.LastUpdated, tc.wantLast)
				}
				if len(body.Families) != len(tc.wantHealthy) {
					t.Errorf("families = %v, want %v", body.Families, tc.wantHealthy)
				}
				for f, want := range tc.wantHealthy {
					if got, ok := body.Families[f]; !ok || got.Healthy != want {
						t.Errorf("families[%s] = %+v (present %v), want healthy %v", f, got, ok, want)
					}
				}
				if f, ok := body.Families[corev1.IPv6Protocol]; ok && f.Pending != 3 {
					t.Errorf("families[IPv6].pending = %d, want 3", f.Pending)
				}
			}
			if got := h.Healthy(); got != (tc.wantCode == http.StatusOK) {
				t.Errorf("Healthy() = %v, want %v", got, tc.wantCode == http.StatusOK)
			}
		})
	}
}

func TestProxierHealthFollowsTheClock(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakePassiveClock(start)
	p := &fakeProxier{family: corev1.IPv4Protocol}
	h := NewProxierHealth("node-a", 30*time.Second, clk, p)
	steps := []struct {
		advance time.Duration
		synced  bool
		want    bool
	}{
		{want: false},                           // not synced yet
		{synced: true, want: true},              // first sync
		{advance: 29 * time.Second, want: true}, // within the threshold
		{advance: 2 * time.Second, want: false}, // stale
		{synced: true, want: true},              // synced again
		{advance: time.Hour, want: false},       // stuck
	}
	for i, s := range steps {
		clk.SetTime(clk.Now().Add(s.advance))
		if s.synced {
			p.last = clk.Now()
		}
		if got := h.Healthy(); got != s.want {
			t.Errorf("step %d (at +%v): Healthy() = %v, want %v", i, clk.Now().Sub(start), got, s.want)
		}
	}
}

func checkJSONHeaders(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
}
