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

package routes

import (
	"fmt"
	"testing"

	networkingv1 "signet.dev/api/networking/v1"
)

// benchIngresses are those of a large cluster: 1000 Ingresses with one host
// and ten paths each (Exact and Prefix, up to three elements deep, and for
// every tenth host two ImplementationSpecific patterns), 100 wildcard
// hosts, host-less rules and a default backend.
func benchIngresses() []*networkingv1.Ingress {
	var ings []*networkingv1.Ingress
	for i := range 1000 {
		var paths []networkingv1.HTTPIngressPath
		for j := range 5 {
			paths = append(paths,
				exact(fmt.Sprintf("/exact%d", j), "svc"),
				prefix(fmt.Sprintf("/api/v%d/items", j), "svc"))
		}
		if i%10 == 0 {
			paths = append(paths, regex(`/users/[0-9]+/avatar`, "svc"), regex(`/assets/.*\.(css|js)$`, "svc"))
		}
		ings = append(ings, ingress(fmt.Sprintf("ns%d/host%d", i%50, i), i, rule(fmt.Sprintf("host%d.example.com", i), paths...)))
	}
	for i := range 100 {
		ings = append(ings, ingress(fmt.Sprintf("wild/w%d", i), i, rule(fmt.Sprintf("*.zone%d.example.org", i), prefix("/", "wild"), prefix("/static", "static"))))
	}
	return append(ings, withDefault(ingress("infra/catch-all", 0, rule("", prefix("/healthz", "health"), exact("/robots.txt", "robots"))), "default"))
}

func benchTable(tb testing.TB) *Table {
	tb.Helper()
	table, conflicts := Build(benchIngresses())
	if len(conflicts) > 0 || len(table.Skipped()) > 0 {
		tb.Fatalf("benchmark table has conflicts %v or skipped paths %v", conflicts, table.Skipped())
	}
	return table
}

// lookupCases are the requests benchmarked, and checked not to allocate.
var lookupCases = []struct {
	name, host, path, want string
}{
	{"exact host, Exact path", "host501.example.com", "/exact3", "ns1/host501 spec.rules[0].http.paths[6]"},
	{"exact host, Prefix path, deep request", "host501.example.com", "/api/v2/items/42/reviews/7/", "ns1/host501 spec.rules[0].http.paths[5]"},
	{"upper-case host with port", "HOST501.Example.COM:8443", "/api/v2/items/42", "ns1/host501 spec.rules[0].http.paths[5]"},
	{"exact host with patterns, Exact path", "host500.example.com", "/exact3", "ns0/host500 spec.rules[0].http.paths[6]"},
	{"wildcard host", "www.zone42.example.org", "/static/app.css", "wild/w42 spec.rules[0].http.paths[1]"},
	{"host-less rule", "unknown.example.net", "/healthz/ready", "infra/catch-all spec.rules[0].http.paths[0]"},
	{"exact host falls through to the host-less rule", "host501.example.com", "/robots.txt", "infra/catch-all spec.rules[0].http.paths[1]"},
	{"default backend", "[2001:db8::1]:80", "/nothing/here", "infra/catch-all spec.defaultBackend"},
	{"ImplementationSpecific path", "host500.example.com", "/users/12345/avatar", "ns0/host500 spec.rules[0].http.paths[10]"},
}

func TestBenchmarkCasesRouteAsExpected(t *testing.T) {
	table := benchTable(t)
	for _, tc := range lookupCases {
		if got, _ := routeString(table.Match(tc.host, tc.path)); got != tc.want {
			t.Errorf("%s: routed to %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestLookupDoesNotAllocate holds Lookup and Match to their promise. The
// ImplementationSpecific case is included: the regexp package reuses its
// matching machines, so it does not allocate either once warm.
func TestLookupDoesNotAllocate(t *testing.T) {
	table := benchTable(t)
	for _, tc := range lookupCases {
		if n := testing.AllocsPerRun(200, func() { table.Lookup(tc.host, tc.path) }); n != 0 {
			t.Errorf("%s: Lookup allocates %v times per call, want 0", tc.name, n)
		}
		target := tc.path + "?q=1"
		if n := testing.AllocsPerRun(200, func() { _, _, _ = table.Match(tc.host, target) }); n != 0 {
			t.Errorf("%s: Match allocates %v times per call, want 0", tc.name, n)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	table := benchTable(b)
	for _, tc := range lookupCases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := table.Lookup(tc.host, tc.path); !ok {
					b.Fatal("no route")
				}
			}
		})
	}
}

// BenchmarkMatch is what the proxy calls per request: normalisation of the
// raw target, then Lookup.
func BenchmarkMatch(b *testing.B) {
	table := benchTable(b)
	for _, bc := range []struct{ name, target string }{
		{"plain target with query", "/api/v2/items/42?page=3&sort=name"},
		{"escapes and dot-segments", "/api/v2/items/%34%32/../x?page=3"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok, err := table.Match("host501.example.com", bc.target); !ok || err != nil {
					b.Fatal("no route")
				}
			}
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	ings := benchIngresses()
	b.ReportAllocs()
	for b.Loop() {
		Build(ings)
	}
}
