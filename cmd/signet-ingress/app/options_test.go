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
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
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
	if o.ControllerName != "signet.dev/ingress" || !slices.Equal(o.HTTPAddrs, []string{":80"}) ||
		!slices.Equal(o.HTTPSAddrs, []string{":443"}) || o.AdminAddr != "127.0.0.1:10254" || !o.LeaderElect ||
		o.ResourceNamespace != "kube-system" || o.leaseName() != "signet-ingress" || o.WatchNamespace != "" ||
		len(o.PublishAddresses) != 0 || o.TrustForwardedHeaders || o.ShutdownDelay != 0 {
		t.Errorf("unexpected defaults: %+v", o)
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
			args: []string{"--kubeconfig=/k", "--master=https://x:6443", "--controller-name=example.com/edge",
				"--watch-namespace=team-a", "--publish-address=192.0.2.1,2001:db8::1,lb.example.com",
				"--http-addr=127.0.0.1:8080,[::1]:8080", "--https-addr=0.0.0.0:8443", "--trust-forwarded-headers",
				"--read-header-timeout=3s", "--idle-timeout=1m", "--upstream-dial-timeout=2s",
				"--upstream-response-timeout=30s", "--upstream-idle-timeout=45s", "--shutdown-delay=5s", "--shutdown-timeout=20s",
				"--admin-addr=[::1]:9999", "--leader-elect=false"},
			check: func(o *Options) bool {
				po := o.proxyOptions(prometheus.NewRegistry())
				return o.Kubeconfig == "/k" && o.Master == "https://x:6443" && o.ControllerName == "example.com/edge" &&
					o.WatchNamespace == "team-a" && slices.Equal(o.PublishAddresses, []string{"192.0.2.1", "2001:db8::1", "lb.example.com"}) &&
					slices.Equal(po.HTTPAddrs, []string{"127.0.0.1:8080", "[::1]:8080"}) && slices.Equal(po.HTTPSAddrs, []string{"0.0.0.0:8443"}) &&
					po.TrustForwardedHeaders && po.ReadHeaderTimeout == 3*time.Second && po.IdleTimeout == time.Minute &&
					po.DialTimeout == 2*time.Second && po.ResponseTimeout == 30*time.Second && po.UpstreamIdleTimeout == 45*time.Second &&
					po.Registerer != nil && o.ShutdownDelay == 5*time.Second && po.ShutdownTimeout == 20*time.Second && o.AdminAddr == "[::1]:9999" && !o.LeaderElect
			},
		},
		{name: "HTTPS off", args: []string{"--https-addr="}, check: func(o *Options) bool { return len(o.proxyOptions(nil).HTTPSAddrs) == 0 }},
		{name: "admin off", args: []string{"--admin-addr="}},
		{
			name:  "lease name of another controller",
			args:  []string{"--controller-name=Example.com/Edge_1"},
			check: func(o *Options) bool { return o.leaseName() == "signet-ingress-example-com-edge-1" },
		},
		{
			name:  "explicit lease name",
			args:  []string{"--leader-elect-resource-name=mine"},
			check: func(o *Options) bool { return o.leaseName() == "mine" },
		},
		{name: "both listener lists empty", args: []string{"--http-addr=", "--https-addr="}, wantErr: "--http-addr and --https-addr must not both be empty"},
		{name: "listen address without port", args: []string{"--http-addr=127.0.0.1"}, wantErr: `--http-addr: "127.0.0.1" must be host:port`},
		{name: "listen address with a name", args: []string{"--https-addr=localhost:443"}, wantErr: `--https-addr: "localhost:443": the host must be empty or an IP address`},
		{name: "port zero", args: []string{"--http-addr=:0"}, wantErr: "the port must be a number from 1 to 65535"},
		{name: "named port", args: []string{"--http-addr=:http"}, wantErr: "the port must be a number from 1 to 65535"},
		{name: "bad admin address", args: []string{"--admin-addr=10254"}, wantErr: "--admin-addr"},
		{name: "bad publish address", args: []string{"--publish-address=10.0.0.1:80"}, wantErr: `--publish-address: publish address "10.0.0.1:80" is neither an IP address nor a DNS name`},
		{name: "empty controller name", args: []string{"--controller-name="}, wantErr: "--controller-name must not be empty"},
		{name: "controller name without a path", args: []string{"--controller-name=ingress"}, wantErr: "must be a domain-prefixed path"},
		{name: "bad namespace", args: []string{"--watch-namespace=Team_A"}, wantErr: `--watch-namespace "Team_A" is not a namespace name`},
		{name: "negative timeout", args: []string{"--upstream-dial-timeout=-1s"}, wantErr: "--upstream-dial-timeout must not be negative"},
		{name: "not a duration", args: []string{"--idle-timeout=soon"}, wantErr: "invalid argument"},
		{
			name:    "renew deadline equals lease duration",
			args:    []string{"--leader-elect-lease-duration=10s", "--leader-elect-renew-deadline=10s"},
			wantErr: "--leader-elect-renew-deadline (10s) must be less than --leader-elect-lease-duration (10s)",
		},
		{name: "lease timings not checked without election", args: []string{"--leader-elect=false", "--leader-elect-retry-period=0s"}},
		{name: "bad lease name", args: []string{"--leader-elect-resource-name=Not_Valid"}, wantErr: "--leader-elect-resource-name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parse(t, tc.args...)
			if err == nil {
				err = o.Validate()
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if tc.check != nil && !tc.check(o) {
					t.Errorf("options not as expected: %+v", o)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestAdminHandler(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "signet_ingress_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)
	var notReady error = errors.New("informers not synced")
	h := adminHandler(reg, func() error { return notReady })
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := get("/healthz"); code != 200 || body != "ok" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "informers not synced") {
		t.Errorf("/readyz while not ready: %d %q", code, body)
	}
	notReady = nil
	if code, body := get("/readyz"); code != 200 || body != "ok" {
		t.Errorf("/readyz when ready: %d %q", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "signet_ingress_test_total 3") {
		t.Errorf("/metrics: %d %q", code, body)
	}
}
