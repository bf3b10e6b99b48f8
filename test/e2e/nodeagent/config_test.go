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

package nodeagent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestOptionsConfig(t *testing.T) {
	testd := filepath.Join(t.TempDir(), TestdName)
	if err := os.WriteFile(testd, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	good := []string{
		"--node-name=node-1", "--node-ip=10.100.0.11,fd00:100::11", "--pod-cidrs=10.244.1.0/24,fd00:244:1::/64",
		"--node-labels=topology.kubernetes.io/zone=zone-a,topology.kubernetes.io/region=region-1",
		"--cluster-dns=169.254.20.10,fd00::10", "--state-dir=/tmp/x", "--testd-binary=" + testd,
	}
	parse := func(t *testing.T, args ...string) (*Config, error) {
		t.Helper()
		o := NewOptions()
		fs := pflag.NewFlagSet("nodeagent", pflag.ContinueOnError)
		o.AddFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return o.Config()
	}

	cfg, err := parse(t, good...)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NodeName != "node-1" || len(cfg.NodeIPs) != 2 || cfg.NodeIPs[1].String() != "fd00:100::11" ||
		cfg.PodCIDRs[0].String() != "10.244.1.0/24" || cfg.NodeLabels["topology.kubernetes.io/zone"] != "zone-a" ||
		len(cfg.DNS.ClusterDNS) != 2 || cfg.DNS.ClusterDomain != DefaultClusterDomain || cfg.Bridge != DefaultBridge ||
		cfg.TestdBinary != testd || cfg.MaxPods != DefaultMaxPods {
		t.Errorf("config %+v", cfg)
	}

	for _, tc := range []struct {
		name    string
		replace string // flag=value replacing the good one of that flag, or added
		wantErr string
	}{
		{"IPv4 only is fine", "--pod-cidrs=10.244.1.0/24", ""},
		{"node name", "--node-name=Node_1", "--node-name"},
		{"two node IPs of one family", "--node-ip=10.100.0.11,10.100.0.12", "same family"},
		{"three pod CIDRs", "--pod-cidrs=10.244.1.0/24,fd00:244:1::/64,10.245.0.0/24", "got 3"},
		{"host bits in a pod CIDR", "--pod-cidrs=10.244.1.1/24", "not a network address"},
		{"a pod CIDR too small", "--pod-cidrs=10.244.1.0/31", "too small"},
		{"a bad cluster DNS", "--cluster-dns=node-cache", "not an IP address"},
		{"a bad label", "--node-labels=zone=a b", "--node-labels"},
		{"a long bridge name", "--bridge=a-very-long-bridge-name", "--bridge"},
		{"testd missing", "--testd-binary=/nonexistent/signet-testd", "not an executable"},
		{"max pods", "--max-pods=0", "--max-pods"},
		{"a short lease", "--lease-duration=1s", "--lease-duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flag, _, _ := strings.Cut(tc.replace, "=")
			var args []string
			for _, a := range good {
				if !strings.HasPrefix(a, flag+"=") {
					args = append(args, a)
				}
			}
			_, err := parse(t, append(args, tc.replace)...)
			if tc.wantErr == "" && err != nil {
				t.Errorf("unexpected error: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}

	t.Run("cleanup needs only the node and the state directory", func(t *testing.T) {
		if _, err := parse(t, "--cleanup", "--node-name=node-1", "--state-dir=/tmp/x"); err != nil {
			t.Errorf("--cleanup: %v", err)
		}
		if _, err := parse(t, "--cleanup", "--node-name=node-1"); err == nil || !strings.Contains(err.Error(), "--state-dir") {
			t.Errorf("--cleanup without --state-dir: %v", err)
		}
	})
}
