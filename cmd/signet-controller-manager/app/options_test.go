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

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"k8s.io/client-go/tools/cache"

	"signet.dev/signet/pkg/controller/endpointslice"
)

// parse returns the options after parsing args over the defaults.
func parse(t *testing.T, args ...string) (*Options, error) {
	t.Helper()
	o := NewOptions()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return o, nil
}

func TestDefaults(t *testing.T) {
	o, err := parse(t)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if o.ConcurrentEndpointSliceSyncs != 5 || o.MaxEndpointsPerSlice != 100 || !o.LeaderElect ||
		o.ResourceNamespace != "kube-system" || o.ResourceName != "signet-controller-manager" ||
		o.BindAddress != ":10360" || o.SettleDelay != endpointslice.DefaultSettleDelay {
		t.Errorf("unexpected defaults: %+v", o)
	}
	want := []string{"kubernetes.io/hostname", "topology.kubernetes.io/zone", "topology.kubernetes.io/region"}
	if !slices.Equal(o.TopologyLabels, want) {
		t.Errorf("TopologyLabels = %v, want %v", o.TopologyLabels, want)
	}
}

func TestParseAndValidate(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(*Options) bool
		wantErr string // substring of the error; empty means valid
	}{
		{
			name: "all flags",
			args: []string{"--kubeconfig=/k", "--master=https://x:6443", "--concurrent-endpointslice-syncs=8", "--max-endpoints-per-slice=1000", "--topology-labels=a.io/x,b", "--endpointslice-settle-delay=30s", "--leader-elect=false", "--bind-address=127.0.0.1:9999"},
			check: func(o *Options) bool {
				return o.Kubeconfig == "/k" && o.Master == "https://x:6443" && o.ConcurrentEndpointSliceSyncs == 8 &&
					o.MaxEndpointsPerSlice == 1000 && slices.Equal(o.TopologyLabels, []string{"a.io/x", "b"}) &&
					o.SettleDelay == 30*time.Second && !o.LeaderElect && o.BindAddress == "127.0.0.1:9999"
			},
		},
		{name: "max of one", args: []string{"--max-endpoints-per-slice=1"}},
		{name: "max zero", args: []string{"--max-endpoints-per-slice=0"}, wantErr: "--max-endpoints-per-slice must be between 1 and 1000, got 0"},
		{name: "max too big", args: []string{"--max-endpoints-per-slice=1001"}, wantErr: "--max-endpoints-per-slice must be between 1 and 1000, got 1001"},
		{name: "max not a number", args: []string{"--max-endpoints-per-slice=many"}, wantErr: "invalid argument"},
		{name: "empty topology labels", args: []string{"--topology-labels="}, wantErr: "--topology-labels must name at least one"},
		{name: "bad topology label", args: []string{"--topology-labels=has space"}, wantErr: `"has space" is not a valid label key`},
		{name: "zero workers", args: []string{"--concurrent-endpointslice-syncs=0"}, wantErr: "--concurrent-endpointslice-syncs must be at least 1"},
		{name: "negative settle delay", args: []string{"--endpointslice-settle-delay=-1s"}, wantErr: "must not be negative"},
		{
			name:    "renew deadline equals lease duration",
			args:    []string{"--leader-elect-lease-duration=10s", "--leader-elect-renew-deadline=10s"},
			wantErr: "--leader-elect-renew-deadline (10s) must be less than --leader-elect-lease-duration (10s)",
		},
		{
			name:    "retry period above renew deadline",
			args:    []string{"--leader-elect-renew-deadline=5s", "--leader-elect-retry-period=6s"},
			wantErr: "--leader-elect-retry-period (6s) must be less than --leader-elect-renew-deadline (5s)",
		},
		{name: "zero lease duration", args: []string{"--leader-elect-lease-duration=0s"}, wantErr: "must be positive"},
		{name: "bad timings ignored without election", args: []string{"--leader-elect=false", "--leader-elect-renew-deadline=1m"}},
		{name: "empty lease name", args: []string{"--leader-elect-resource-name="}, wantErr: "--leader-elect-resource-name must not be empty"},
		{name: "bad bind address", args: []string{"--bind-address=10360"}, wantErr: "--bind-address \"10360\" must be host:port"},
		{name: "health server off", args: []string{"--bind-address="}},
		{
			name:    "every error at once",
			args:    []string{"--max-endpoints-per-slice=0", "--topology-labels="},
			wantErr: "--topology-labels must name at least one",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parse(t, tc.args...)
			if err == nil {
				err = o.Validate()
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("no error, want one containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q does not contain %q", err, tc.wantErr)
			}
			if tc.check != nil && !tc.check(o) {
				t.Errorf("options not as parsed: %+v", o)
			}
		})
	}
}

func TestHandler(t *testing.T) {
	synced := false
	h := newHandler(prometheus.NewRegistry(), []cache.InformerSynced{func() bool { return synced }})
	get := func(path string) int {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	if code := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200", code)
	}
	if code := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before sync = %d, want 503", code)
	}
	synced = true
	if code := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after sync = %d, want 200", code)
	}
	if code := get("/metrics"); code != http.StatusOK {
		t.Errorf("/metrics = %d, want 200", code)
	}
}
