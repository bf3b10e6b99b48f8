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
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func noEnv(string) string { return "" }

// parse returns options after parsing args as the command would.
func parse(t *testing.T, getenv func(string) string, args ...string) *Options {
	t.Helper()
	o := newOptions(getenv)
	fs := pflag.NewFlagSet("node-cache", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parsing %q: %v", args, err)
	}
	return o
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const header = "apiVersion: nodecache.signet.dev/v1alpha1\nkind: NodeCacheConfiguration\n"

func TestDefaults(t *testing.T) {
	o := parse(t, noEnv)
	want := &NodeCacheConfiguration{
		TypeMeta:           metav1.TypeMeta{APIVersion: GroupVersion, Kind: Kind},
		InterfaceName:      "nodelocaldns",
		SetupInterface:     true,
		SetupIPTables:      true,
		SkipTeardown:       false,
		ClusterDomain:      "cluster.local",
		UpstreamResolvConf: "/etc/resolv.conf",
		Port:               53,
		HealthAddr:         ":8080",
		MetricsAddr:        ":9253",
		CacheSize:          10000,
		SuccessTTL:         metav1.Duration{Duration: 30 * time.Second},
		DenialTTL:          metav1.Duration{Duration: 5 * time.Second},
		SyncInterval:       metav1.Duration{Duration: 60 * time.Second},
	}
	if diff := cmp.Diff(want, o.Flags); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	env := parse(t, func(k string) string {
		if k == "NODE_NAME" {
			return "node-a"
		}
		return ""
	})
	if env.Flags.NodeName != "node-a" {
		t.Errorf("node name %q, want node-a from NODE_NAME", env.Flags.NodeName)
	}
}

func TestFlags(t *testing.T) {
	o := parse(t, noEnv,
		"--localip=169.254.20.10,fd00::10", "--interface-name=nlc0", "--setup-interface=false", "--setup-iptables=false",
		"--skip-teardown", "--cluster-domain=k8s.example", "--cluster-dns=10.96.0.10,[fd00:96::a]:5353",
		"--upstream-resolv-conf=/run/resolv.conf", "--port=5353", "--health-addr=169.254.20.10:8081", "--metrics-addr=",
		"--cache-size=500", "--success-ttl=1m", "--denial-ttl=2s", "--sync-interval=90s", "--node-name=node-b")
	cfg, err := o.Load()
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	want := &NodeCacheConfiguration{
		TypeMeta:           metav1.TypeMeta{APIVersion: GroupVersion, Kind: Kind},
		LocalIPs:           []string{"169.254.20.10", "fd00::10"},
		InterfaceName:      "nlc0",
		SkipTeardown:       true,
		ClusterDomain:      "k8s.example",
		ClusterDNS:         []string{"10.96.0.10", "[fd00:96::a]:5353"},
		UpstreamResolvConf: "/run/resolv.conf",
		Port:               5353,
		HealthAddr:         "169.254.20.10:8081",
		CacheSize:          500,
		SuccessTTL:         metav1.Duration{Duration: time.Minute},
		DenialTTL:          metav1.Duration{Duration: 2 * time.Second},
		SyncInterval:       metav1.Duration{Duration: 90 * time.Second},
		NodeName:           "node-b",
	}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("configuration from flags (-want +got):\n%s", diff)
	}
	sc := cfg.serverConfig()
	if diff := cmp.Diff([]string{"169.254.20.10:5353", "[fd00::10]:5353"}, sc.ListenAddrs); diff != "" {
		t.Errorf("listen addresses (-want +got):\n%s", diff)
	}
	if sc.NodeName != "node-b" || sc.Cache.MaxEntries != 500 || sc.Cache.SuccessTTL != time.Minute || sc.Cache.DenialTTL != 2*time.Second {
		t.Errorf("server config %+v does not carry the node name, cache size and TTLs", sc)
	}
	if got := cfg.healthPort(); got != 8081 {
		t.Errorf("health port %d, want 8081", got)
	}
}

func TestFlagParseErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--port=dns"},
		{"--sync-interval=60"}, // a duration needs a unit
		{"--setup-iptables=maybe"},
		{"--cache-size=1e9"},
	} {
		o := newOptions(noEnv)
		fs := pflag.NewFlagSet("node-cache", pflag.ContinueOnError)
		fs.SetOutput(&strings.Builder{})
		o.AddFlags(fs)
		if err := fs.Parse(args); err == nil {
			t.Errorf("parsing %q succeeded, want an error", args)
		}
	}
}

func TestValidation(t *testing.T) {
	valid := []string{"--localip=169.254.20.10,fd00::10", "--cluster-dns=10.96.0.10"}
	tests := []struct {
		name string
		args []string
		file string // stubDomains and others only the file sets
		want []string
	}{
		{name: "valid", args: valid},
		{name: "valid with stub domains", args: valid, file: header + "stubDomains:\n  corp.example: [10.0.0.53, '[fd00::53]:5353']\n  Lab.Example.: [10.0.0.54]\n"},
		{name: "nothing given", want: []string{
			"localIPs (--localip): Required value", "clusterDNS (--cluster-dns): Required value"}},
		{name: "bad local IPs", args: []string{"--localip=169.254.20.10,1.2.3,::,fe80::1%eth0,::ffff:1.2.3.4,169.254.20.10,ff02::1", "--cluster-dns=10.96.0.10"}, want: []string{
			`localIPs[1] (--localip): Invalid value: "1.2.3": must be an IPv4 or IPv6 address`,
			`localIPs[2] (--localip): Invalid value: "::": must be a unicast address`,
			`localIPs[3] (--localip): Invalid value: "fe80::1%eth0": must not carry a zone`,
			`localIPs[4] (--localip): Invalid value: "::ffff:1.2.3.4": must not be IPv4-mapped`,
			`localIPs[5] (--localip): Duplicate value: "169.254.20.10"`,
			`localIPs[6] (--localip): Invalid value: "ff02::1": must be a unicast address`}},
		{name: "bad cluster DNS", args: []string{"--localip=169.254.20.10", "--cluster-dns=kube-dns:53,10.0.0.1:0,10.0.0.1:,fd00::1:53:x"}, want: []string{
			`clusterDNS[0] (--cluster-dns): Invalid value: "kube-dns:53": host must be an IP address`,
			`clusterDNS[1] (--cluster-dns): Invalid value: "10.0.0.1:0": port must be between 1 and 65535`,
			`clusterDNS[2] (--cluster-dns): Invalid value: "10.0.0.1:": port must be between 1 and 65535`,
			`clusterDNS[3] (--cluster-dns): Invalid value: "fd00::1:53:x": must be an IP address or IP:port`}},
		{name: "ranges", args: append([]string{"--port=70000", "--cache-size=0", "--success-ttl=500ms", "--denial-ttl=0s", "--sync-interval=-1s"}, valid...), want: []string{
			"port (--port): Invalid value: 70000",
			"cacheSize (--cache-size): Invalid value: 0: must be at least 1",
			`successTTL (--success-ttl): Invalid value: "500ms": must be at least 1s`,
			`denialTTL (--denial-ttl): Invalid value: "0s": must be at least 1s`,
			`syncInterval (--sync-interval): Invalid value: "-1s": must be at least 1s`}},
		{name: "names and addresses", args: append([]string{"--interface-name=node/local", "--cluster-domain=cluster..local", "--health-addr=8080", "--metrics-addr=:http", "--node-name=Node_1", "--upstream-resolv-conf="}, valid...), want: []string{
			`interfaceName (--interface-name): Invalid value: "node/local"`,
			`clusterDomain (--cluster-domain): Invalid value: "cluster..local"`,
			`healthAddr (--health-addr): Invalid value: "8080": must be host:port`,
			`metricsAddr (--metrics-addr): Invalid value: ":http": port must be between 0 and 65535`,
			`nodeName (--node-name): Invalid value: "Node_1"`,
			"upstreamResolvConf (--upstream-resolv-conf): Required value"}},
		{name: "interface name only matters when set up", args: append([]string{"--interface-name=", "--setup-interface=false"}, valid...)},
		{name: "interface name too long", args: append([]string{"--interface-name=nodelocaldns0123"}, valid...), want: []string{
			"interfaceName (--interface-name): Too long"}},
		{name: "bad stub domains", args: valid, file: header + "stubDomains:\n  corp.example: []\n  cluster.local: [10.0.0.1]\n  a..b: [10.0.0.1]\n  lab.example: [lab-dns]\n  in-addr.arpa: [10.0.0.2]\n", want: []string{
			"stubDomains[a..b]: Invalid value",
			`stubDomains[cluster.local]: Duplicate value: "cluster.local is already the cluster domain"`,
			"stubDomains[corp.example]: Required value: at least one server",
			"stubDomains[in-addr.arpa]: Duplicate value",
			`stubDomains[lab.example][0]: Invalid value: "lab-dns"`}},
		{name: "stub domains differing in case only", args: valid, file: header + "stubDomains:\n  corp.example: [10.0.0.1]\n  CORP.example.: [10.0.0.2]\n", want: []string{
			`stubDomains[corp.example]: Duplicate value: "corp.example is already stub domain CORP.example."`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append(args, "--config="+writeFile(t, t.TempDir(), "config.yaml", tt.file))
			}
			_, err := parse(t, noEnv, args...).Load()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Load() = %v, want no error", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load() succeeded, want errors %q", tt.want)
			}
			msg := err.Error()
			lines := strings.Count(msg, "\n  ")
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not mention %q:\n%s", w, msg)
				}
			}
			if len(tt.want) > 1 && lines != len(tt.want) {
				t.Errorf("error has %d lines, want %d:\n%s", lines, len(tt.want), msg)
			}
		})
	}
}

func TestDecodeConfiguration(t *testing.T) {
	full := header + `
localIPs: [169.254.20.10, "fd00::10"]
interfaceName: nlc0
setupInterface: false
setupIPTables: false
skipTeardown: true
clusterDomain: k8s.example
clusterDNS: [10.96.0.10, "[fd00:96::a]:53"]
upstreamResolvConf: /run/resolv.conf
port: 5353
healthAddr: ""
metricsAddr: 127.0.0.1:9253
cacheSize: 100
successTTL: 1m
denialTTL: 10s
syncInterval: 2m30s
nodeName: node-c
stubDomains:
  corp.example: [10.0.0.53, 10.0.0.54:5353]
`
	tests := []struct {
		name    string
		data    string
		mutate  func(*NodeCacheConfiguration) // applied to the defaults
		wantErr []string
	}{
		{name: "every field", data: full, mutate: func(c *NodeCacheConfiguration) {
			c.LocalIPs = []string{"169.254.20.10", "fd00::10"}
			c.InterfaceName = "nlc0"
			c.SetupInterface, c.SetupIPTables, c.SkipTeardown = false, false, true
			c.ClusterDomain = "k8s.example"
			c.ClusterDNS = []string{"10.96.0.10", "[fd00:96::a]:53"}
			c.UpstreamResolvConf = "/run/resolv.conf"
			c.Port = 5353
			c.HealthAddr, c.MetricsAddr = "", "127.0.0.1:9253"
			c.CacheSize = 100
			c.SuccessTTL.Duration, c.DenialTTL.Duration, c.SyncInterval.Duration = time.Minute, 10*time.Second, 150*time.Second
			c.NodeName = "node-c"
			c.StubDomains = map[string][]string{"corp.example": {"10.0.0.53", "10.0.0.54:5353"}}
		}},
		{name: "omitted fields keep their defaults", data: header + "clusterDNS: [10.96.0.10]\n", mutate: func(c *NodeCacheConfiguration) {
			c.ClusterDNS = []string{"10.96.0.10"}
		}},
		{name: "JSON", data: `{"apiVersion": "nodecache.signet.dev/v1alpha1", "kind": "NodeCacheConfiguration", "port": 54}`, mutate: func(c *NodeCacheConfiguration) {
			c.Port = 54
		}},
		{name: "unknown field", data: header + "localIPs: [169.254.20.10]\nupstreams: [1.1.1.1]\n", wantErr: []string{"upstreams: Forbidden: unknown field"}},
		{name: "field name in the wrong case", data: header + "clusterDns: [10.96.0.10]\n", wantErr: []string{`clusterDns: Forbidden: unknown field; did you mean "clusterDNS"?`}},
		{name: "duplicate field", data: header + "port: 53\nport: 54\n", wantErr: []string{`key "port" already set`}},
		{name: "wrong types", data: header + "port: fifty\nsuccessTTL: 30\nlocalIPs: 169.254.20.10\nstubDomains: [a]\n", wantErr: []string{
			`port: Invalid value: "fifty": must be an integer`,
			`successTTL: Invalid value: 30: must be a duration such as "30s"`,
			`localIPs: Invalid value: "169.254.20.10": must be a list of strings`,
			`stubDomains: Invalid value: ["a"]: must be a map from domain to a list of servers`}},
		{name: "bad duration", data: header + "denialTTL: soon\n", wantErr: []string{`denialTTL: Invalid value: "soon": must be a duration such as "30s" or "2m": time: invalid duration "soon"`}},
		{name: "missing apiVersion and kind", data: "port: 53\n", wantErr: []string{
			`apiVersion: Required value: must be "nodecache.signet.dev/v1alpha1"`, `kind: Required value: must be "NodeCacheConfiguration"`}},
		{name: "other version", data: "apiVersion: nodecache.signet.dev/v1\nkind: NodeCacheConfiguration\n", wantErr: []string{
			`apiVersion: Unsupported value: "nodecache.signet.dev/v1": supported values: "nodecache.signet.dev/v1alpha1"`}},
		{name: "other kind", data: "apiVersion: nodecache.signet.dev/v1alpha1\nkind: KubeProxyConfiguration\n", wantErr: []string{`kind: Unsupported value: "KubeProxyConfiguration"`}},
		{name: "empty", data: "", wantErr: []string{"the file is empty"}},
		{name: "not YAML", data: "port: [53\n", wantErr: []string{"yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := newDefaultConfiguration(noEnv)
			err := decodeConfiguration([]byte(tt.data), got)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("decoding succeeded, want errors %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error does not mention %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("decoding: %v", err)
			}
			want := newDefaultConfiguration(noEnv)
			tt.mutate(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPrecedence pins the order: defaults, then the --config file, then the
// flags given on the command line. NODE_NAME is a default.
func TestPrecedence(t *testing.T) {
	getenv := func(k string) string {
		if k == "NODE_NAME" {
			return "from-env"
		}
		return ""
	}
	file := writeFile(t, t.TempDir(), "config.yaml", header+`
localIPs: [169.254.20.10]
clusterDNS: [10.96.0.10]
port: 5353
successTTL: 45s
skipTeardown: true
nodeName: from-file
stubDomains:
  corp.example: [10.0.0.53]
`)
	tests := []struct {
		name   string
		args   []string
		getenv func(string) string
		check  func(t *testing.T, c *NodeCacheConfiguration)
	}{
		{"file over defaults", []string{"--config=" + file}, getenv, func(t *testing.T, c *NodeCacheConfiguration) {
			if c.Port != 5353 || c.SuccessTTL.Duration != 45*time.Second || !c.SkipTeardown || c.NodeName != "from-file" {
				t.Errorf("file values not in force: %+v", c)
			}
			if c.DenialTTL.Duration != DefaultDenialTTL || c.CacheSize != 10000 || c.InterfaceName != "nodelocaldns" {
				t.Errorf("defaults of fields the file omits not in force: %+v", c)
			}
		}},
		{"flags given over file", []string{"--config=" + file, "--port=53", "--cluster-dns=10.96.0.11,10.96.0.12", "--skip-teardown=false", "--node-name=from-flag"}, getenv,
			func(t *testing.T, c *NodeCacheConfiguration) {
				if c.Port != 53 || c.SkipTeardown || c.NodeName != "from-flag" {
					t.Errorf("flags given do not win over the file: %+v", c)
				}
				if diff := cmp.Diff([]string{"10.96.0.11", "10.96.0.12"}, c.ClusterDNS); diff != "" {
					t.Errorf("--cluster-dns over the file's clusterDNS (-want +got):\n%s", diff)
				}
				if c.SuccessTTL.Duration != 45*time.Second || len(c.StubDomains) != 1 {
					t.Errorf("file values for flags not given are lost: %+v", c)
				}
			}},
		{"flag given with its default value still wins", []string{"--config=" + file, "--success-ttl=30s"}, getenv, func(t *testing.T, c *NodeCacheConfiguration) {
			if c.SuccessTTL.Duration != 30*time.Second {
				t.Errorf("success TTL %v, want the flag's 30s", c.SuccessTTL.Duration)
			}
		}},
		{"flags over defaults without a file", []string{"--localip=169.254.20.10", "--cluster-dns=10.96.0.10", "--port=54"}, getenv, func(t *testing.T, c *NodeCacheConfiguration) {
			if c.Port != 54 || c.NodeName != "from-env" {
				t.Errorf("port %d and node name %q, want 54 and from-env", c.Port, c.NodeName)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := parse(t, tt.getenv, tt.args...)
			c, err := o.Load()
			if err != nil {
				t.Fatalf("Load() = %v", err)
			}
			tt.check(t, c)
		})
	}
	t.Run("the file may lack what the flags give", func(t *testing.T) {
		partial := writeFile(t, t.TempDir(), "config.yaml", header+"successTTL: 10s\n")
		o := parse(t, noEnv, "--config="+partial, "--localip=169.254.20.10", "--cluster-dns=10.96.0.10")
		if _, err := o.Load(); err != nil {
			t.Fatalf("Load() = %v", err)
		}
		if got := o.givenFlags(); !cmp.Equal(got, []string{"--cluster-dns", "--localip"}) {
			t.Errorf("givenFlags() = %q, want --cluster-dns and --localip", got)
		}
	})
	t.Run("errors name the file", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "missing.yaml")
		if _, err := parse(t, noEnv, "--config="+missing).Load(); err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("Load() of a missing file = %v, want an error naming it", err)
		}
		bad := writeFile(t, t.TempDir(), "config.yaml", header+"port: 0\n")
		if _, err := parse(t, noEnv, "--config="+bad, "--localip=169.254.20.10", "--cluster-dns=10.96.0.10").Load(); err == nil ||
			!strings.Contains(err.Error(), "port (--port)") || !strings.Contains(err.Error(), bad) {
			t.Errorf("Load() = %v, want a port error naming the file", err)
		}
	})
}
