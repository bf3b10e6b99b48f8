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

package framework

import (
	"testing"
)

func TestParseConntrack(t *testing.T) {
	out := `udp      17 29 src=10.244.1.5 dst=10.96.12.7 sport=40001 dport=80 [UNREPLIED] src=10.244.2.9 dst=10.244.1.5 sport=9376 dport=40001 mark=0 use=1
tcp      6 117 TIME_WAIT src=10.244.1.5 dst=169.254.20.10 sport=53211 dport=9253 src=169.254.20.10 dst=10.244.1.5 sport=9253 dport=53211 [ASSURED] mark=0 use=1
udp      17 25 src=fd00:244:1:0::5 dst=fd00:10:96::12 sport=5000 dport=80 src=fd00:244:2::9 dst=fd00:244:1::5 sport=9376 dport=5000 mark=0 use=1
`
	entries := ParseConntrack(out)
	if len(entries) != 3 {
		t.Fatalf("got %d entries, want 3: %+v", len(entries), entries)
	}
	if e := entries[0]; e.Proto != "udp" || e.Src != "10.244.1.5" || e.Dst != "10.96.12.7" || e.Sport != "40001" || e.Dport != "80" {
		t.Errorf("first entry = %+v, want the original direction", e)
	}
	if got := FlowsFrom(entries, "udp", "fd00:244:1::5", "fd00:10:96:0::12", "80"); len(got) != 1 {
		t.Errorf("IPv6 flow not found by its canonical addresses: %+v", got)
	}
	if got := FlowsFrom(entries, "tcp", "10.244.1.5", "169.254.20.10", "53"); len(got) != 0 {
		t.Errorf("a port 9253 flow matched port 53: %+v", got)
	}
	if got := FlowsFrom(entries, "tcp", "10.244.1.5", "169.254.20.10", ""); len(got) != 1 {
		t.Errorf("any port: %+v", got)
	}
}

func TestSumMetric(t *testing.T) {
	text := `# HELP node_cache_requests_total queries received
# TYPE node_cache_requests_total counter
node_cache_requests_total{proto="udp",type="A"} 12
node_cache_requests_total{proto="tcp",type="AAAA"} 3
node_cache_requests_total_other 100
node_cache_requests 7
`
	if v, ok := SumMetric(text, "node_cache_requests_total"); !ok || v != 15 {
		t.Errorf("SumMetric = %v, %v; want 15, true", v, ok)
	}
	if v, ok := SumMetric(text, "node_cache_requests"); !ok || v != 7 {
		t.Errorf("SumMetric without labels = %v, %v; want 7, true", v, ok)
	}
	if _, ok := SumMetric(text, "missing"); ok {
		t.Error("SumMetric found a missing metric")
	}
}
