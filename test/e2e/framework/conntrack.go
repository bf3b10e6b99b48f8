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
	"context"
	"net/netip"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
)

// ConntrackEntry is one flow of a conntrack table, in its original
// direction.
type ConntrackEntry struct {
	Proto        string
	Src, Dst     string
	Sport, Dport string
	Line         string
}

// ConntrackEntries lists a node's conntrack table of one family with the
// conntrack tool, in the node's network namespace.
func ConntrackEntries(ctx context.Context, node string, family corev1.IPFamily) []ConntrackEntry {
	ginkgo.GinkgoHelper()
	f := "ipv4"
	if family == corev1.IPv6Protocol {
		f = "ipv6"
	}
	r := ExecInNode(ctx, node, "conntrack", "-L", "-f", f)
	gomega.Expect(r.ExitCode).To(gomega.Equal(0), "conntrack -L in node %s: %s", node, r)
	return ParseConntrack(r.Stdout)
}

// ParseConntrack parses conntrack -L output.
func ParseConntrack(out string) []ConntrackEntry {
	var entries []ConntrackEntry
	for _, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 3 {
			continue
		}
		e := ConntrackEntry{Proto: fields[0], Line: line}
		for _, f := range fields[1:] {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				continue
			}
			switch {
			case k == "src" && e.Src == "":
				e.Src = canonicalIP(v)
			case k == "dst" && e.Dst == "":
				e.Dst = canonicalIP(v)
			case k == "sport" && e.Sport == "":
				e.Sport = v
			case k == "dport" && e.Dport == "":
				e.Dport = v
			}
		}
		if e.Src != "" && e.Dst != "" {
			entries = append(entries, e)
		}
	}
	return entries
}

// FlowsFrom returns the entries whose original source is src and
// destination dst (any port when dport is "").
func FlowsFrom(entries []ConntrackEntry, proto, src, dst, dport string) []ConntrackEntry {
	src, dst = canonicalIP(src), canonicalIP(dst)
	var out []ConntrackEntry
	for _, e := range entries {
		if e.Proto == proto && e.Src == src && e.Dst == dst && (dport == "" || e.Dport == dport) {
			out = append(out, e)
		}
	}
	return out
}

func canonicalIP(s string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String()
	}
	return s
}
