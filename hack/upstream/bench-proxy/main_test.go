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

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"k8s.io/utils/ptr"
)

// jsonKeys are the keys of every JSON line, as issue 5 fixes them.
var jsonKeys = []string{"endpoints_per_service", "full_sync_seconds", "impl", "one_service_sync_seconds", "restore_bytes", "services"}

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args      []string
		wantTable bool
		sizes     []float64
	}{
		{name: "table and JSON", args: []string{"--services", "20,50", "--runs", "2"}, wantTable: true, sizes: []float64{20, 50}},
		{name: "JSON only", args: []string{"--services", "30", "--runs", "1", "--json"}, sizes: []float64{30}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(context.Background(), tc.args, &out, io.Discard); err != nil {
				t.Fatal(err)
			}
			var lines []map[string]any
			sawTable := false
			for line := range strings.SplitSeq(strings.TrimSpace(out.String()), "\n") {
				if !strings.HasPrefix(line, "{") {
					sawTable = sawTable || strings.Contains(line, "full sync s")
					continue
				}
				var obj map[string]any
				if err := json.Unmarshal([]byte(line), &obj); err != nil {
					t.Fatalf("line %q: %v", line, err)
				}
				lines = append(lines, obj)
			}
			if sawTable != tc.wantTable {
				t.Errorf("table printed: %t, want %t", sawTable, tc.wantTable)
			}
			if len(lines) != len(tc.sizes) {
				t.Fatalf("%d JSON lines, want %d:\n%s", len(lines), len(tc.sizes), out.String())
			}
			var lastBytes float64
			for i, obj := range lines {
				keys := make([]string, 0, len(obj))
				for k := range obj {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				if !slices.Equal(keys, jsonKeys) {
					t.Errorf("keys %v, want %v", keys, jsonKeys)
				}
				if obj["impl"] != "upstream" || obj["services"] != tc.sizes[i] || obj["endpoints_per_service"] != 10.0 {
					t.Errorf("line %v: wrong impl, services or endpoints_per_service", obj)
				}
				for _, k := range []string{"full_sync_seconds", "one_service_sync_seconds"} {
					if v, _ := obj[k].(float64); v <= 0 {
						t.Errorf("%s = %v, want a positive time", k, obj[k])
					}
				}
				b, _ := obj["restore_bytes"].(float64)
				if b <= lastBytes {
					t.Errorf("restore_bytes = %v, want more than %v", obj["restore_bytes"], lastBytes)
				}
				lastBytes = b
			}
		})
	}
}

func TestInputs(t *testing.T) {
	const n, per = 300, 10
	in := newInputs(n, per)
	seen := map[string]string{}
	claim := func(addr, what string) {
		t.Helper()
		if prev, ok := seen[addr]; ok {
			t.Errorf("%s has %s, as has %s", what, addr, prev)
		}
		seen[addr] = what
	}
	for i, svc := range in.services {
		claim(svc.Spec.ClusterIP, svc.Name)
		if s := in.slices[i]; len(s.Endpoints) != per || s.Labels["kubernetes.io/service-name"] != svc.Name {
			t.Errorf("slice %s: %d endpoints for Service %q, want %d for %q", s.Name, len(s.Endpoints), s.Labels["kubernetes.io/service-name"], per, svc.Name)
		}
		for _, e := range in.slices[i].Endpoints {
			claim(e.Addresses[0], "endpoint of "+svc.Name)
			if !clusterCIDR.Contains(mustAddr(t, e.Addresses[0])) {
				t.Errorf("endpoint %s is outside the cluster CIDR %s", e.Addresses[0], clusterCIDR)
			}
		}
	}
	claim(replacement.String(), "the replacement")
	if got := in.changed.Endpoints[0].Addresses[0]; got != replacement.String() {
		t.Errorf("changed slice's first endpoint is %s, want %s", got, replacement)
	}
	if in.slices[0].Endpoints[0].Addresses[0] == replacement.String() {
		t.Error("changing the slice changed the original too")
	}

	if newInputs(n, per).digest() != in.digest() {
		t.Error("the digest of the same inputs differs")
	}
	other := newInputs(n, per)
	other.slices[n-1].Endpoints[per-1].Conditions.Ready = ptr.To(false)
	if other.digest() == in.digest() {
		t.Error("the digest does not see an endpoint's readiness")
	}
}

func TestParseFlagsRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{name: "no runs", args: []string{"--runs", "0"}},
		{name: "no endpoints", args: []string{"--endpoints", "0"}},
		{name: "zero services", args: []string{"--services", "0"}},
		{name: "more endpoints than the cluster CIDR holds", args: []string{"--services", "100000", "--endpoints", "10"}},
		{name: "stray argument", args: []string{"10000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseFlags(tc.args, io.Discard); err == nil {
				t.Errorf("parseFlags(%v) accepted", tc.args)
			}
		})
	}
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
