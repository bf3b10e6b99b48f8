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

package topology

import (
	"slices"
	"strings"
	"testing"
)

type ep struct {
	name string
	topo map[string]string
}

func (e ep) TopologyValue(k string) (string, bool) {
	v, ok := e.topo[k]
	return v, ok
}

const (
	host   = "kubernetes.io/hostname"
	zone   = "topology.kubernetes.io/zone"
	region = "topology.kubernetes.io/region"
	rack   = "example.com/rack"
)

func endpoint(name, node, z, r, rk string) ep {
	t := map[string]string{host: node, zone: z, region: "eu-1"}
	if r != "" {
		t[region] = r
	}
	if rk != "" {
		t[rack] = rk
	}
	return ep{name: name, topo: t}
}

func names(eps []ep) []string {
	var out []string
	for _, e := range eps {
		out = append(out, e.name)
	}
	return out
}

func TestFilter(t *testing.T) {
	// node-1 and node-2 in zone-a (racks r1, r2), node-3 in zone-b.
	all := []ep{
		endpoint("a1", "node-1", "zone-a", "", "r1"),
		endpoint("a2", "node-2", "zone-a", "", "r2"),
		endpoint("b3", "node-3", "zone-b", "", "r3"),
	}
	node := func(name, z, rk string) map[string]string {
		l := map[string]string{host: name, zone: z, region: "eu-1"}
		if rk != "" {
			l[rack] = rk
		}
		return l
	}
	seed := []string{host, zone, Any}
	for _, tc := range []struct {
		name    string
		keys    []string
		node    map[string]string
		eps     []ep
		want    []string
		wantKey string
	}{
		{"no keys: everything", nil, node("node-1", "zone-a", ""), all, []string{"a1", "a2", "b3"}, ""},
		{"seed example: same node", seed, node("node-1", "zone-a", ""), all, []string{"a1"}, host},
		{"seed example: falls back to the zone", seed, node("node-4", "zone-a", ""), all, []string{"a1", "a2"}, zone},
		{"seed example: falls back to anywhere", seed, node("node-5", "zone-c", ""), all, []string{"a1", "a2", "b3"}, Any},
		{"hostname only, no local endpoint: nothing", []string{host}, node("node-5", "zone-a", ""), all, nil, ""},
		{"zone then nothing", []string{zone}, node("node-5", "zone-c", ""), all, nil, ""},
		{"rack before zone", []string{rack, zone, Any}, node("node-9", "zone-a", "r2"), all, []string{"a2"}, rack},
		{"a key the node lacks is skipped", []string{rack, zone}, node("node-9", "zone-b", ""), all, []string{"b3"}, zone},
		{"an endpoint without the key never matches it", []string{rack, Any}, node("node-9", "zone-b", "r9"),
			[]ep{{name: "bare", topo: map[string]string{host: "node-9"}}}, []string{"bare"}, Any},
		{"no endpoints", seed, node("node-1", "zone-a", ""), nil, nil, Any},
		{"node without any label: only * helps", []string{host, zone, Any}, map[string]string{}, all, []string{"a1", "a2", "b3"}, Any},
		{"node without any label, no *", []string{host, zone}, nil, all, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, key := Filter(tc.keys, tc.node, tc.eps)
			if !slices.Equal(names(got), tc.want) || key != tc.wantKey {
				t.Errorf("Filter = %v by %q, want %v by %q", names(got), key, tc.want, tc.wantKey)
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	many := make([]string, MaxKeys+1)
	for i := range many {
		many[i] = "example.com/k" + string(rune('a'+i))
	}
	for _, tc := range []struct {
		value   string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{"  ", nil, ""},
		{host, []string{host}, ""},
		{host + ", " + zone + ",*", []string{host, zone, Any}, ""},
		{"*", []string{Any}, ""},
		{strings.Join(many[:MaxKeys], ","), many[:MaxKeys], ""},
		{strings.Join(many, ","), nil, "at most 16"},
		{host + "," + host, nil, "duplicated"},
		{"*," + host, nil, "only be the last"},
		{host + ",,*", nil, "key 1 is empty"},
		{"not a key!", nil, "not a valid label key"},
		{"a/b/c", nil, "not a valid label key"},
		{"*,*", nil, "duplicated"},
	} {
		got, err := ParseKeys(tc.value)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseKeys(%q) error %v, want one containing %q", tc.value, err, tc.wantErr)
			}
			if got != nil {
				t.Errorf("ParseKeys(%q) returned keys %v with an error", tc.value, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseKeys(%q) = %v, %v; want %v", tc.value, got, err, tc.want)
		}
	}
}
