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
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// load parses args over the defaults and loads the configuration, with
// file as the --config file's content when it is not nil.
func load(t *testing.T, file []byte, args ...string) (*KubeProxyConfiguration, error) {
	t.Helper()
	o := NewOptions()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.AddFlags(fs)
	if file != nil {
		args = append(args, "--config=/etc/kube-proxy/config.yaml")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return o.loadFrom(file)
}

func TestDefaults(t *testing.T) {
	cfg, err := load(t, nil)
	if err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	want := NewDefaultConfiguration()
	if cfg.Mode != "iptables" || cfg.HealthzBindAddress != "0.0.0.0:10256" || cfg.MetricsBindAddress != "127.0.0.1:10249" ||
		cfg.IPTables.SyncPeriod.Duration != 30*time.Second || cfg.IPTables.MinSyncPeriod.Duration != time.Second ||
		cfg.IPTables.MasqueradeBit != 14 || cfg.MasqueradeAll || cfg.ClusterCIDR != "" || len(cfg.NodePortAddresses) != 0 {
		t.Errorf("unexpected defaults: %+v", cfg)
	}
	if cfg.APIVersion != want.APIVersion || cfg.Kind != want.Kind {
		t.Errorf("TypeMeta = %+v, want %+v", cfg.TypeMeta, want.TypeMeta)
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		check   func(*KubeProxyConfiguration) bool
		wantErr []string // substrings of the error; none means valid
	}{
		{
			name: "every flag",
			args: []string{"--kubeconfig=/k", "--hostname-override=Node-A", "--proxy-mode=iptables",
				"--cluster-cidr=10.244.0.0/16,fd00:10:244::/56", "--nodeport-addresses=10.0.0.0/8,2001:db8::/64",
				"--masquerade-all", "--masquerade-bit=20", "--iptables-sync-period=1m", "--iptables-min-sync-period=5s",
				"--healthz-bind-address=[::]:10266", "--metrics-bind-address=0.0.0.0:10259"},
			check: func(c *KubeProxyConfiguration) bool {
				return c.ClientConnection.Kubeconfig == "/k" && c.HostnameOverride == "Node-A" && c.Mode == "iptables" &&
					c.ClusterCIDR == "10.244.0.0/16,fd00:10:244::/56" &&
					slices.Equal(c.NodePortAddresses, []string{"10.0.0.0/8", "2001:db8::/64"}) && c.MasqueradeAll &&
					c.IPTables.MasqueradeBit == 20 && c.IPTables.SyncPeriod.Duration == time.Minute &&
					c.IPTables.MinSyncPeriod.Duration == 5*time.Second && c.HealthzBindAddress == "[::]:10266" &&
					c.MetricsBindAddress == "0.0.0.0:10259"
			},
		},
		{name: "empty proxy mode means iptables", args: []string{"--proxy-mode="}},
		{name: "ipvs", args: []string{"--proxy-mode=ipvs"}, wantErr: []string{`--proxy-mode (mode): Unsupported value: "ipvs": supported values: "iptables"`}},
		{name: "nftables", args: []string{"--proxy-mode=nftables"}, wantErr: []string{"--proxy-mode", `"nftables"`}},
		{name: "IPv6 cluster CIDR only", args: []string{"--cluster-cidr=fd00:10:244::/56"}},
		{name: "cluster CIDR with spaces", args: []string{"--cluster-cidr=10.244.0.0/16, fd00:10:244::/56"}},
		{
			name:    "two IPv4 cluster CIDRs",
			args:    []string{"--cluster-cidr=10.244.0.0/16,10.245.0.0/16"},
			wantErr: []string{"--cluster-cidr (clusterCIDR)", "at most one CIDR per IP family: 10.244.0.0/16 and 10.245.0.0/16 are both IPv4"},
		},
		{
			name:    "two IPv6 cluster CIDRs",
			args:    []string{"--cluster-cidr=fd00:1::/64,10.0.0.0/8,fd00:2::/64"},
			wantErr: []string{"--cluster-cidr (clusterCIDR)", "are both IPv6"},
		},
		{name: "cluster CIDR without a length", args: []string{"--cluster-cidr=10.244.0.1"}, wantErr: []string{"--cluster-cidr (clusterCIDR)", `"10.244.0.1" is not a CIDR`}},
		{name: "node port CIDRs of both families", args: []string{"--nodeport-addresses=10.0.0.0/8,fd00::/8,192.168.1.0/24"}},
		{
			name:    "bad node port CIDR",
			args:    []string{"--nodeport-addresses=10.0.0.0/8,primary"},
			wantErr: []string{`--nodeport-addresses (nodePortAddresses[1]): Invalid value: "primary": must be a CIDR`},
		},
		{name: "masquerade bit 31", args: []string{"--masquerade-bit=31"}},
		{name: "masquerade bit 0", args: []string{"--masquerade-bit=0"}, wantErr: []string{"--masquerade-bit (iptables.masqueradeBit): Invalid value: 0: must be between 1 and 31"}},
		{name: "masquerade bit 32", args: []string{"--masquerade-bit=32"}, wantErr: []string{"--masquerade-bit (iptables.masqueradeBit)"}},
		{name: "zero sync period", args: []string{"--iptables-sync-period=0s"}, wantErr: []string{`--iptables-sync-period (iptables.syncPeriod): Invalid value: "0s": must be greater than 0`}},
		{name: "sync period not a duration", args: []string{"--iptables-sync-period=30"}, wantErr: []string{"iptables-sync-period", "missing unit"}},
		{name: "zero min sync period", args: []string{"--iptables-min-sync-period=0s"}},
		{name: "negative min sync period", args: []string{"--iptables-min-sync-period=-1s"}, wantErr: []string{"--iptables-min-sync-period (iptables.minSyncPeriod)", "must not be negative"}},
		{
			name:    "min sync period above sync period",
			args:    []string{"--iptables-sync-period=10s", "--iptables-min-sync-period=11s"},
			wantErr: []string{"--iptables-min-sync-period (iptables.minSyncPeriod)", "must not be greater than iptables.syncPeriod (--iptables-sync-period, 10s)"},
		},
		{name: "healthz off", args: []string{"--healthz-bind-address="}},
		{name: "healthz port only", args: []string{"--healthz-bind-address=:10256"}},
		{name: "healthz without port", args: []string{"--healthz-bind-address=0.0.0.0"}, wantErr: []string{`--healthz-bind-address (healthzBindAddress): Invalid value: "0.0.0.0": must be ip:port`}},
		{name: "healthz host name", args: []string{"--healthz-bind-address=localhost:10256"}, wantErr: []string{"--healthz-bind-address", `"localhost" is not an IP address`}},
		{name: "metrics bad port", args: []string{"--metrics-bind-address=127.0.0.1:99999"}, wantErr: []string{"--metrics-bind-address (metricsBindAddress)", `"99999" is not a port number`}},
		{name: "hostname with capitals", args: []string{"--hostname-override=Node-A.Example.COM"}},
		{name: "hostname with underscore", args: []string{"--hostname-override=node_a"}, wantErr: []string{"--hostname-override (hostnameOverride)", "must be a node name"}},
		{
			name:    "every error at once",
			args:    []string{"--proxy-mode=userspace", "--masquerade-bit=40", "--cluster-cidr=x"},
			wantErr: []string{"--proxy-mode", "--masquerade-bit", "--cluster-cidr"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := load(t, nil, tc.args...)
			checkErr(t, err, tc.wantErr)
			if err == nil && tc.check != nil && !tc.check(cfg) {
				t.Errorf("configuration not as given: %+v", cfg)
			}
		})
	}
}

func checkErr(t *testing.T, err error, want []string) {
	t.Helper()
	switch {
	case len(want) == 0 && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case len(want) > 0 && err == nil:
		t.Fatalf("no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

const fullFile = `apiVersion: kubeproxy.signet.dev/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: /var/lib/kube-proxy/kubeconfig
hostnameOverride: node-a
mode: iptables
clusterCIDR: 10.244.0.0/16,fd00:10:244::/56
nodePortAddresses: [10.0.0.0/8, "2001:db8::/64"]
masqueradeAll: true
iptables:
  syncPeriod: 1m
  minSyncPeriod: 2s
  masqueradeBit: 15
healthzBindAddress: "[::]:10256"
metricsBindAddress: 0.0.0.0:10249
`

func TestConfigFile(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		args    []string
		check   func(*KubeProxyConfiguration) bool
		wantErr []string
	}{
		{
			name: "every field",
			file: fullFile,
			check: func(c *KubeProxyConfiguration) bool {
				return c.ClientConnection.Kubeconfig == "/var/lib/kube-proxy/kubeconfig" && c.HostnameOverride == "node-a" &&
					c.ClusterCIDR == "10.244.0.0/16,fd00:10:244::/56" &&
					slices.Equal(c.NodePortAddresses, []string{"10.0.0.0/8", "2001:db8::/64"}) && c.MasqueradeAll &&
					c.IPTables.SyncPeriod.Duration == time.Minute && c.IPTables.MinSyncPeriod.Duration == 2*time.Second &&
					c.IPTables.MasqueradeBit == 15 && c.HealthzBindAddress == "[::]:10256" && c.MetricsBindAddress == "0.0.0.0:10249"
			},
		},
		{
			name: "left out fields keep their defaults",
			file: "apiVersion: kubeproxy.signet.dev/v1alpha1\nkind: KubeProxyConfiguration\niptables:\n  syncPeriod: 10s\n",
			check: func(c *KubeProxyConfiguration) bool {
				return c.IPTables.SyncPeriod.Duration == 10*time.Second && c.IPTables.MinSyncPeriod.Duration == time.Second &&
					c.IPTables.MasqueradeBit == 14 && c.HealthzBindAddress == DefaultHealthzBindAddress && c.Mode == "iptables"
			},
		},
		{
			name:  "JSON",
			file:  `{"apiVersion": "kubeproxy.signet.dev/v1alpha1", "kind": "KubeProxyConfiguration", "masqueradeAll": true}`,
			check: func(c *KubeProxyConfiguration) bool { return c.MasqueradeAll },
		},
		{
			name:  "empty healthz address turns it off",
			file:  "apiVersion: kubeproxy.signet.dev/v1alpha1\nkind: KubeProxyConfiguration\nhealthzBindAddress: \"\"\n",
			check: func(c *KubeProxyConfiguration) bool { return c.HealthzBindAddress == "" },
		},
		{
			name:    "unknown field",
			file:    "apiVersion: kubeproxy.signet.dev/v1alpha1\nkind: KubeProxyConfiguration\nconntrack: {}\n",
			wantErr: []string{"loading --config file /etc/kube-proxy/config.yaml", "conntrack: Forbidden: unknown field"},
		},
		{
			name:    "unknown nested field",
			file:    "apiVersion: kubeproxy.signet.dev/v1alpha1\nkind: KubeProxyConfiguration\niptables:\n  syncPeriods: 10s\n",
			wantErr: []string{"iptables.syncPeriods: Forbidden: unknown field"},
		},
		{
			name:    "wrong case",
			file:    "apiVersion: kubeproxy.signet.dev/v1alpha1\nkind: KubeProxyConfiguration\nclusterCidr: 10.0.0.0/8\n",
			wantErr: []string{`clusterCidr: Forbidden: unknown field; did you mean "clusterCIDR"?`},
		},
		{
			name:    "upstream apiVersion",
			file:    "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n",
			wantErr: []string{`apiVersion: Unsupported value: "kubeproxy.config.k8s.io/v1alpha1": supported values: "kubeproxy.signet.dev/v1alpha1"`},
		},
		{
			name:    "no kind",
			file:    "apiVersion: kubeproxy.signet.dev/v1alpha1\n",
			wantErr: []string{"kind: Required value"},
		},
		{name: "empty", file: "\n", wantErr: []string{"the file is empty"}},
		{
			name:    "a list where an object belongs",
			file:    "apiVersion: kubeproxy.signet.dev/v1alpha1\nkind: KubeProxyConfiguration\niptables: [1]\nnodePortAddresses: 10.0.0.0/8\n",
			wantErr: []string{"iptables: Invalid value", "must be an object with fields", `nodePortAddresses: Invalid value: "10.0.0.0/8": must be a list of strings`},
		},
		{
			name:    "duplicate key",
			file:    "apiVersion: kubeproxy.signet.dev/v1alpha1\nkind: KubeProxyConfiguration\nmasqueradeAll: true\nmasqueradeAll: false\n",
			wantErr: []string{"masqueradeAll", "already set"},
		},
		{
			name:    "wrong type",
			file:    "apiVersion: kubeproxy.signet.dev/v1alpha1\nkind: KubeProxyConfiguration\niptables:\n  masqueradeBit: high\n",
			wantErr: []string{`iptables.masqueradeBit: Invalid value: "high": must be an integer`},
		},
		{
			name:    "bad duration",
			file:    "apiVersion: kubeproxy.signet.dev/v1alpha1\nkind: KubeProxyConfiguration\niptables:\n  syncPeriod: 30\n",
			wantErr: []string{"loading --config file", `iptables.syncPeriod: Invalid value: 30: must be a duration such as "30s" or "2m"`},
		},
		{
			name:    "invalid value",
			file:    "apiVersion: kubeproxy.signet.dev/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\n",
			wantErr: []string{"from --config file /etc/kube-proxy/config.yaml and the flags given", `--proxy-mode (mode): Unsupported value: "ipvs"`},
		},
		{
			name: "flags given override the file",
			file: fullFile,
			args: []string{"--iptables-sync-period=20s", "--nodeport-addresses=192.168.0.0/16", "--healthz-bind-address=127.0.0.1:1"},
			check: func(c *KubeProxyConfiguration) bool {
				return c.IPTables.SyncPeriod.Duration == 20*time.Second &&
					slices.Equal(c.NodePortAddresses, []string{"192.168.0.0/16"}) && c.HealthzBindAddress == "127.0.0.1:1" &&
					// From the file:
					c.IPTables.MinSyncPeriod.Duration == 2*time.Second && c.ClusterCIDR == "10.244.0.0/16,fd00:10:244::/56" &&
					c.IPTables.MasqueradeBit == 15 && c.MasqueradeAll
			},
		},
		{
			name: "a flag given its default value still overrides the file",
			file: fullFile,
			args: []string{"--masquerade-all=false", "--masquerade-bit=14", "--kubeconfig="},
			check: func(c *KubeProxyConfiguration) bool {
				return !c.MasqueradeAll && c.IPTables.MasqueradeBit == 14 && c.ClientConnection.Kubeconfig == "" &&
					c.IPTables.SyncPeriod.Duration == time.Minute
			},
		},
		{
			name:    "the result is validated as a whole",
			file:    fullFile, // syncPeriod 1m, minSyncPeriod 2s
			args:    []string{"--iptables-sync-period=1s"},
			wantErr: []string{"--iptables-min-sync-period (iptables.minSyncPeriod)", "must not be greater than iptables.syncPeriod (--iptables-sync-period, 1s)"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := load(t, []byte(tc.file), tc.args...)
			checkErr(t, err, tc.wantErr)
			if err == nil && tc.check != nil && !tc.check(cfg) {
				t.Errorf("configuration not as expected: %+v", cfg)
			}
		})
	}
}

func TestLoadReadsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(fullFile), 0o600); err != nil {
		t.Fatal(err)
	}
	o := NewOptions()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse([]string{"--config", path, "--masquerade-bit=16"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := o.Load()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.IPTables.MasqueradeBit != 16 || cfg.IPTables.SyncPeriod.Duration != time.Minute {
		t.Errorf("Load() = %+v, want masqueradeBit 16 from the flag and syncPeriod 1m from the file", cfg)
	}

	o.ConfigFile = filepath.Join(t.TempDir(), "missing.yaml")
	if _, err := o.Load(); err == nil || !strings.Contains(err.Error(), "reading --config file") {
		t.Errorf("Load() of a missing file: %v, want a reading error", err)
	}
}

// TestEveryFieldHasAFlag keeps the file and the flags in step: each field
// of the file is set by a flag, and named in validation errors.
func TestEveryFieldHasAFlag(t *testing.T) {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	bindConfigFlags(fs, NewDefaultConfiguration())
	var flags []string
	fs.VisitAll(func(f *pflag.Flag) { flags = append(flags, f.Name) })
	var mapped []string
	for _, flag := range flagOf {
		mapped = append(mapped, flag)
	}
	slices.Sort(flags)
	slices.Sort(mapped)
	if !slices.Equal(flags, mapped) {
		t.Errorf("configuration flags %q, but flagOf maps %q", flags, mapped)
	}
}
