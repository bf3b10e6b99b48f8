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

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	networkingv1 "signet.dev/api/networking/v1"
)

// TestKubernetesPathExamples runs every row of the path-matching examples
// table of the Kubernetes Ingress documentation
// (https://kubernetes.io/docs/concepts/services-networking/ingress/#examples).
// Each path gets its own Service, named after its type and path, and the
// Ingress has a default backend, so "no match" is visible as the request
// reaching it.
func TestKubernetesPathExamples(t *testing.T) {
	tests := []struct {
		name     string
		paths    []networkingv1.HTTPIngressPath
		requests []string
		want     string
	}{
		{name: "Prefix / matches all paths", paths: ps(prefix("/", "")), requests: []string{"/", "/foo", "/foo/bar/", "/a//b"}, want: "Prefix:/"},
		{name: "Exact /foo matches /foo", paths: ps(exact("/foo", "")), requests: []string{"/foo"}, want: "Exact:/foo"},
		{name: "Exact /foo does not match /bar", paths: ps(exact("/foo", "")), requests: []string{"/bar"}, want: "default-backend"},
		{name: "Exact /foo does not match /foo/", paths: ps(exact("/foo", "")), requests: []string{"/foo/"}, want: "default-backend"},
		{name: "Exact /foo/ does not match /foo", paths: ps(exact("/foo/", "")), requests: []string{"/foo"}, want: "default-backend"},
		{name: "Prefix /foo matches /foo and /foo/", paths: ps(prefix("/foo", "")), requests: []string{"/foo", "/foo/"}, want: "Prefix:/foo"},
		{name: "Prefix /foo/ matches /foo and /foo/", paths: ps(prefix("/foo/", "")), requests: []string{"/foo", "/foo/"}, want: "Prefix:/foo/"},
		{name: "Prefix /aaa/bb does not match /aaa/bbb", paths: ps(prefix("/aaa/bb", "")), requests: []string{"/aaa/bbb"}, want: "default-backend"},
		{name: "Prefix /aaa/bbb matches /aaa/bbb", paths: ps(prefix("/aaa/bbb", "")), requests: []string{"/aaa/bbb"}, want: "Prefix:/aaa/bbb"},
		{name: "Prefix /aaa/bbb/ ignores the trailing slash", paths: ps(prefix("/aaa/bbb/", "")), requests: []string{"/aaa/bbb"}, want: "Prefix:/aaa/bbb/"},
		{name: "Prefix /aaa/bbb matches the trailing slash", paths: ps(prefix("/aaa/bbb", "")), requests: []string{"/aaa/bbb/"}, want: "Prefix:/aaa/bbb"},
		{name: "Prefix /aaa/bbb matches a subpath", paths: ps(prefix("/aaa/bbb", "")), requests: []string{"/aaa/bbb/ccc"}, want: "Prefix:/aaa/bbb"},
		{name: "Prefix /aaa/bbb does not match the string prefix /aaa/bbbxyz", paths: ps(prefix("/aaa/bbb", "")), requests: []string{"/aaa/bbbxyz"}, want: "default-backend"},
		{name: "Prefix / and /aaa: /aaa/ccc matches /aaa", paths: ps(prefix("/", ""), prefix("/aaa", "")), requests: []string{"/aaa/ccc"}, want: "Prefix:/aaa"},
		{name: "Prefix /, /aaa and /aaa/bbb: /aaa/bbb matches /aaa/bbb", paths: ps(prefix("/", ""), prefix("/aaa", ""), prefix("/aaa/bbb", "")), requests: []string{"/aaa/bbb"}, want: "Prefix:/aaa/bbb"},
		{name: "Prefix /, /aaa and /aaa/bbb: /ccc matches /", paths: ps(prefix("/", ""), prefix("/aaa", ""), prefix("/aaa/bbb", "")), requests: []string{"/ccc"}, want: "Prefix:/"},
		{name: "Prefix /aaa does not match /ccc: default backend", paths: ps(prefix("/aaa", "")), requests: []string{"/ccc"}, want: "default-backend"},
		{name: "Mixed /foo Prefix and /foo Exact: /foo prefers Exact", paths: ps(prefix("/foo", ""), exact("/foo", "")), requests: []string{"/foo"}, want: "Exact:/foo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table := build(t, withDefault(ingress("examples", 0, rule("", tc.paths...)), "default-backend"))
			for _, req := range tc.requests {
				if got := served(t, table, "example.com", req); got != tc.want {
					t.Errorf("GET %s: served by %s, want %s", req, got, tc.want)
				}
			}
		})
	}
}

// ps names each path's Service after its type and path, as "Prefix:/foo".
func ps(paths ...networkingv1.HTTPIngressPath) []networkingv1.HTTPIngressPath {
	for i := range paths {
		paths[i].Backend.Service.Name = fmt.Sprintf("%s:%s", *paths[i].PathType, paths[i].Path)
	}
	return paths
}

// TestPaths covers the path rules beyond the documentation's table: case,
// element boundaries, longest match and the order of path types on a tie.
// Requests go through Match, so they are normalised first.
func TestPaths(t *testing.T) {
	tests := []struct {
		name  string
		paths []networkingv1.HTTPIngressPath
		// want maps a request target to the Service expected to serve it.
		want map[string]string
	}{{
		name:  "Exact is case-sensitive",
		paths: ps(exact("/foo", "")),
		want:  map[string]string{"/foo": "Exact:/foo", "/FOO": none, "/Foo": none},
	}, {
		name:  "Prefix is case-sensitive",
		paths: ps(prefix("/foo", "")),
		want:  map[string]string{"/foo/bar": "Prefix:/foo", "/FOO": none, "/FOO/bar": none},
	}, {
		// The conformance suite's "prefix /aaa does not match request /aaaccc".
		name:  "Prefix compares whole elements",
		paths: ps(prefix("/aaa", "")),
		want:  map[string]string{"/aaaccc": none, "/aaa/ccc": "Prefix:/aaa", "/aa": none, "/": none},
	}, {
		name:  "Prefix compares every element",
		paths: ps(prefix("/aaa/bbb", "")),
		want:  map[string]string{"/aaa/bbb/ccc/ddd/": "Prefix:/aaa/bbb", "/aaa": none, "/aaa/": none, "/aaa/bbc": none, "/bbb/aaa": none},
	}, {
		name:  "Exact compares the trailing slash",
		paths: ps(exact("/foo/", "")),
		want:  map[string]string{"/foo/": "Exact:/foo/", "/foo": none, "/foo//": none},
	}, {
		name:  "Exact root",
		paths: ps(exact("/", "")),
		want:  map[string]string{"/": "Exact:/", "": "Exact:/", "/?q": "Exact:/", "/a": none},
	}, {
		name:  "an empty element is an element",
		paths: ps(prefix("/a/b", "")),
		want:  map[string]string{"/a//b": none, "/a/b//": "Prefix:/a/b"},
	}, {
		name:  "the longest Prefix wins whatever the order",
		paths: ps(prefix("/a/b/c", ""), prefix("/a", ""), prefix("/a/b", "")),
		want:  map[string]string{"/a/b/c/d": "Prefix:/a/b/c", "/a/b/x": "Prefix:/a/b", "/a/x": "Prefix:/a", "/a/b/c": "Prefix:/a/b/c"},
	}, {
		name:  "a longer Prefix beats a shorter Exact",
		paths: ps(exact("/a", ""), prefix("/a/b", "")),
		want:  map[string]string{"/a": "Exact:/a", "/a/b": "Prefix:/a/b"},
	}, {
		name:  "a longer Exact beats a shorter Prefix",
		paths: ps(prefix("/a", ""), exact("/a/b", "")),
		want:  map[string]string{"/a/b": "Exact:/a/b", "/a/b/": "Prefix:/a", "/a/c": "Prefix:/a"},
	}, {
		name:  "Exact with a trailing slash beats Prefix of the same length",
		paths: ps(prefix("/foo", ""), exact("/foo/", "")),
		want:  map[string]string{"/foo/": "Exact:/foo/", "/foo": "Prefix:/foo"},
	}, {
		name:  "Prefix beats ImplementationSpecific of the same length",
		paths: ps(regex("/foo", ""), prefix("/foo", "")),
		want:  map[string]string{"/foo": "Prefix:/foo", "/foo/x": "Prefix:/foo", "/foobar": "ImplementationSpecific:/foo"},
	}, {
		name:  "Exact beats ImplementationSpecific of the same length",
		paths: ps(regex("/a", ""), exact("/a", "")),
		want:  map[string]string{"/a": "Exact:/a", "/ab": "ImplementationSpecific:/a", "/a/": "ImplementationSpecific:/a"},
	}, {
		// "/a/?" has two elements as written, so it beats Exact "/a" even on
		// a request it matches with one; see docs/ingress.md.
		name:  "a pattern's elements are counted as written",
		paths: ps(regex("/a/?", ""), exact("/a", ""), prefix("/a/b", "")),
		want:  map[string]string{"/a": "ImplementationSpecific:/a/?", "/a/b": "Prefix:/a/b", "/a/c": "ImplementationSpecific:/a/?"},
	}, {
		name:  "a longer ImplementationSpecific beats a shorter Prefix",
		paths: ps(prefix("/api", ""), regex("/api/v[0-9]+", "")),
		want:  map[string]string{"/api/v2/users": "ImplementationSpecific:/api/v[0-9]+", "/api/vx": "Prefix:/api", "/api": "Prefix:/api"},
	}, {
		name:  "a longer Prefix beats a shorter ImplementationSpecific",
		paths: ps(regex("/a.*", ""), prefix("/a/b", "")),
		want:  map[string]string{"/a/b/c": "Prefix:/a/b", "/a/c": "ImplementationSpecific:/a.*"},
	}, {
		name:  "among patterns of equal elements the longest pattern wins",
		paths: ps(regex("/a.*", ""), regex("/a[a-z]+$", ""), regex("/a", "")),
		want:  map[string]string{"/abc": "ImplementationSpecific:/a[a-z]+$", "/a9": "ImplementationSpecific:/a.*", "/a": "ImplementationSpecific:/a.*"},
	}, {
		name:  "a pattern with more elements beats a longer one with fewer",
		paths: ps(regex("/[a-z0-9_-]+", ""), regex("/a/b", "")),
		want:  map[string]string{"/a/b": "ImplementationSpecific:/a/b", "/a/c": "ImplementationSpecific:/[a-z0-9_-]+"},
	}, {
		name:  "patterns are anchored at the start only",
		paths: ps(regex("/foo", "")),
		want:  map[string]string{"/foo": "ImplementationSpecific:/foo", "/foobar": "ImplementationSpecific:/foo", "/foo/x": "ImplementationSpecific:/foo", "/x/foo": none},
	}, {
		name:  "an alternation is anchored as a whole",
		paths: ps(regex("/a|/b", "")),
		want:  map[string]string{"/a": "ImplementationSpecific:/a|/b", "/b/c": "ImplementationSpecific:/a|/b", "/x/b": none},
	}, {
		name:  "a pattern may anchor its end",
		paths: ps(regex("/a$", "")),
		want:  map[string]string{"/a": "ImplementationSpecific:/a$", "/a/": none, "/ab": none},
	}, {
		name:  "a pattern without a leading slash never matches",
		paths: ps(regex("foo", "")),
		want:  map[string]string{"/foo": none, "/xfoo": none},
	}, {
		name:  "an empty pattern matches every path",
		paths: ps(regex("", "")),
		want:  map[string]string{"/": "ImplementationSpecific:", "/a/b": "ImplementationSpecific:"},
	}, {
		name:  "patterns are case-sensitive unless they say otherwise",
		paths: ps(regex("/foo$", ""), regex("(?i)/bar$", "")),
		want:  map[string]string{"/FOO": none, "/BAR": "ImplementationSpecific:(?i)/bar$"},
	}, {
		name:  "patterns see the decoded path",
		paths: ps(regex("/a b$", ""), regex("/[?]x", "")),
		want:  map[string]string{"/a%20b": "ImplementationSpecific:/a b$", "/%3Fx": "ImplementationSpecific:/[?]x", "/?x": none},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table := build(t, ingress("paths", 0, rule("", tc.paths...)))
			for req, want := range tc.want {
				if got := served(t, table, "example.com", req); got != want {
					t.Errorf("GET %s: served by %s, want %s", req, got, want)
				}
			}
		})
	}
}

// TestRequestNormalisation checks that requests are matched on the decoded
// path without dot-segments and query, and that unsafe paths are refused.
func TestRequestNormalisation(t *testing.T) {
	table := build(t, withDefault(ingress("norm", 0, rule("",
		exact("/foo", "foo"),
		prefix("/bar", "bar"),
		exact("/a b", "space"),
		exact("/x%20y", "encoded-rule"),
		exact("/q?", "question"),
		prefix("/static/", "static"),
	)), "default-backend"))
	tests := []struct{ target, want string }{
		{"/foo", "foo"},
		{"/foo?", "foo"},
		{"/foo?x=1", "foo"},
		{"/foo?next=/bar", "foo"},
		{"/bar?x=/foo", "bar"},
		{"/%66oo", "foo"},
		{"/bar/../foo", "foo"},
		{"/./foo", "foo"},
		{"/bar/%2e%2e/foo", "foo"},
		{"/foo/..", "default-backend"}, // "/", which nothing but the default backend serves
		{"/foo/../bar/x", "bar"},
		{"/a%20b", "space"},
		{"/x%20y", "encoded-rule"}, // the rule path is decoded too
		{"/x y", "encoded-rule"},
		{"/q%3F", "question"}, // an encoded '?' is part of the path
		{"/q?", "default-backend"},
		{"/static/../foo", "foo"},
		{"/static/%2e/x", "static"},
		{"/../foo", refused},
		{"/%2E%2E/foo", refused},
		{"/bar/../../foo", refused},
		{"/bar%2Ffoo", refused},
		{"/bar%2ffoo", refused},
		{"/bar/%zz", refused},
		{"*", refused},
	}
	for _, tc := range tests {
		if got := served(t, table, "example.com", tc.target); got != tc.want {
			t.Errorf("GET %s: served by %s, want %s", tc.target, got, tc.want)
		}
	}
}

// TestHosts covers host matching: case, ports, IPv6 literals, the depth of
// wildcards and the order of exact, wildcard and host-less rules. The
// wildcard cases follow the Kubernetes documentation's hostname wildcard
// table (https://kubernetes.io/docs/concepts/services-networking/ingress/#hostname-wildcards).
func TestHosts(t *testing.T) {
	hostRules := []networkingv1.IngressRule{
		rule("foo.bar.com", prefix("/", "foo-bar-com")),
		rule("*.foo.com", prefix("/", "wildcard-foo-com")),
		rule("bar.foo.com", prefix("/", "bar-foo-com")),
		rule("*.bar.foo.com", prefix("/", "wildcard-bar-foo-com")),
		rule("single", prefix("/", "single-label")),
	}
	withoutAny := build(t, ingress("hosts", 0, hostRules...))
	withAny := build(t, ingress("hosts", 0, append(hostRules, rule("", prefix("/", "any-host")))...))

	tests := []struct {
		host string
		// want is the Service without and with a host-less rule.
		want, wantWithAny string
	}{
		{"foo.bar.com", "foo-bar-com", "foo-bar-com"},
		{"FOO.Bar.CoM", "foo-bar-com", "foo-bar-com"},
		{"foo.bar.com:8080", "foo-bar-com", "foo-bar-com"},
		{"FOO.BAR.COM:443", "foo-bar-com", "foo-bar-com"},
		{"foo.bar.com.", "foo-bar-com", "foo-bar-com"},
		{"foo.bar.com.:80", "foo-bar-com", "foo-bar-com"},
		{"single", "single-label", "single-label"},
		{"SINGLE:80", "single-label", "single-label"},
		// Wildcards match exactly one label more.
		{"baz.foo.com", "wildcard-foo-com", "wildcard-foo-com"},
		{"BAZ.foo.com:8443", "wildcard-foo-com", "wildcard-foo-com"},
		{"foo.com", none, "any-host"},
		{"a.b.foo.com", none, "any-host"},
		{".foo.com", none, "any-host"},
		// An exact host beats a wildcard that also matches it.
		{"bar.foo.com", "bar-foo-com", "bar-foo-com"},
		{"Bar.Foo.Com:1", "bar-foo-com", "bar-foo-com"},
		{"x.bar.foo.com", "wildcard-bar-foo-com", "wildcard-bar-foo-com"},
		// Everything else reaches only the rules without host.
		{"subdomain.bar.com", none, "any-host"},
		{"foo.bar.com.evil", none, "any-host"},
		{"foo.bar.comx", none, "any-host"},
		{"", none, "any-host"},
		{"10.0.0.1", none, "any-host"},
		{"10.0.0.1:80", none, "any-host"},
		{"[::1]", none, "any-host"},
		{"[::1]:8080", none, "any-host"},
		{"[2001:db8::1]:443", none, "any-host"},
		{"::1", none, "any-host"},
	}
	for _, tc := range tests {
		if got := served(t, withoutAny, tc.host, "/"); got != tc.want {
			t.Errorf("Host %q: served by %s, want %s", tc.host, got, tc.want)
		}
		if got := served(t, withAny, tc.host, "/"); got != tc.wantWithAny {
			t.Errorf("Host %q with a host-less rule: served by %s, want %s", tc.host, got, tc.wantWithAny)
		}
	}
}

// TestHostNameForms checks that the host name Lookup compares is the Host
// header without port, brackets and trailing dot.
func TestHostNameForms(t *testing.T) {
	tests := map[string]string{
		"foo.com":          "foo.com",
		"foo.com:80":       "foo.com",
		"foo.com.":         "foo.com",
		"foo.com.:80":      "foo.com",
		"foo.com:":         "foo.com",
		"[::1]":            "::1",
		"[::1]:8080":       "::1",
		"[fe80::1%25eth0]": "fe80::1%25eth0",
		"[::1":             "[::1",
		"::1":              "::1",
		"":                 "",
	}
	for in, want := range tests {
		if got := hostName(in); got != want {
			t.Errorf("hostName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHostTiers pins down how rules of different host kinds and the default
// backend combine: the most specific host tier that has a matching path
// decides (exact host, then wildcard, then no host), even when a less
// specific tier has a longer matching path; a request that no tier matches
// goes to the default backend.
func TestHostTiers(t *testing.T) {
	table := build(t,
		withDefault(ingress("tiers", 0,
			rule("app.example.com", prefix("/", "exact-root"), prefix("/api", "exact-api")),
			rule("*.example.com", prefix("/api/v2", "wildcard-api-v2"), prefix("/web", "wildcard-web")),
			rule("", prefix("/web/static", "any-static"), exact("/healthz", "any-healthz")),
		), "default-backend"),
		ingress("only-api", 1,
			rule("api.example.com", exact("/v1", "api-v1")),
		),
	)
	tests := []struct{ host, target, want string }{
		{"app.example.com", "/api/v2/x", "exact-api"},    // the exact host decides, though the wildcard's path is longer
		{"app.example.com", "/web/static", "exact-root"}, // likewise against the host-less rule
		{"app.example.com", "/healthz", "exact-root"},
		{"api.example.com", "/v1", "api-v1"},
		{"api.example.com", "/api/v2/x", "wildcard-api-v2"}, // no path of the exact host matches: the wildcard's does
		{"api.example.com", "/web/static/x", "wildcard-web"},
		{"api.example.com", "/healthz", "any-healthz"}, // neither host tier matches: the host-less rule does
		{"api.example.com", "/other", "default-backend"},
		{"other.com", "/web/static/x", "any-static"},
		{"other.com", "/web", "default-backend"},
		{"", "/healthz", "any-healthz"},
	}
	for _, tc := range tests {
		if got := served(t, table, tc.host, tc.target); got != tc.want {
			t.Errorf("GET http://%s%s: served by %s, want %s", tc.host, tc.target, got, tc.want)
		}
	}
}

// TestDefaultBackend follows the conformance suite's default backend
// feature: an Ingress with only a default backend takes every request.
func TestDefaultBackend(t *testing.T) {
	table := build(t, withDefault(ingress("default-backend", 0), "echo-service"))
	for _, host := range []string{"my-host", "some-host", "", "[::1]:80"} {
		for _, target := range []string{"", "/", "/sub-path", "/resource?x=1"} {
			if got := served(t, table, host, target); got != "echo-service" {
				t.Errorf("GET http://%s%s: served by %s, want echo-service", host, target, got)
			}
		}
	}
	r, ok := table.Lookup("my-host", "/")
	if !ok || r.Kind != KindDefaultBackend || r.Field != "spec.defaultBackend" || r.Ingress.String() != "default/default-backend" {
		t.Errorf("Lookup = %+v, %v; want the default backend of default/default-backend", r, ok)
	}
}

func TestRouteDescribesTheMatch(t *testing.T) {
	svc := exact("/v1", "api")
	svc.Backend.Service.Port = networkingv1.ServiceBackendPort{Name: "http"}
	res := networkingv1.HTTPIngressPath{
		Path:     "/bucket",
		PathType: ptr.To(networkingv1.PathTypePrefix),
		Backend: networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{
			APIGroup: ptr.To("storage.example.com"), Kind: "Bucket", Name: "static",
		}},
	}
	table := build(t, ingress("team/site", 0, rule("*.Example.com", prefix("/", "root")), rule("api.example.com", svc, res)))

	r, ok := table.Lookup("api.example.com", "/v1")
	if !ok {
		t.Fatal("no route for /v1")
	}
	want := Route{
		Ingress:  types.NamespacedName{Namespace: "team", Name: "site"},
		Kind:     KindPath,
		Field:    "spec.rules[1].http.paths[0]",
		Host:     "api.example.com",
		Path:     "/v1",
		PathType: networkingv1.PathTypeExact,
		Backend:  svc.Backend,
	}
	if diff := cmp.Diff(want, *r); diff != "" {
		t.Errorf("route for /v1 (-want +got):\n%s", diff)
	}

	r, ok = table.Lookup("api.example.com", "/bucket/x")
	if !ok || r.Backend.Resource == nil || r.Backend.Resource.Kind != "Bucket" || r.Field != "spec.rules[1].http.paths[1]" {
		t.Errorf("route for /bucket/x = %+v, %v; want the Bucket resource backend", r, ok)
	}

	r, ok = table.Lookup("www.example.com", "/x")
	if !ok || r.Host != "*.example.com" || r.Field != "spec.rules[0].http.paths[0]" {
		t.Errorf("route for www.example.com = %+v, %v; want the lower-cased wildcard rule", r, ok)
	}
}

func TestNilAndEmptyTables(t *testing.T) {
	var nilTable *Table
	if r, ok := nilTable.Lookup("foo.com", "/"); ok || r != nil {
		t.Errorf("nil table: Lookup = %v, %v; want nothing", r, ok)
	}
	if nilTable.Routes() != nil || nilTable.Skipped() != nil {
		t.Error("nil table has routes or skipped paths")
	}
	empty, conflicts := Build(nil)
	if r, ok := empty.Lookup("foo.com", "/"); ok || r != nil || len(conflicts) > 0 {
		t.Errorf("empty table: Lookup = %v, %v, conflicts %v; want nothing", r, ok, conflicts)
	}
	if got := served(t, &Table{}, "foo.com", "/"); got != none {
		t.Errorf("zero Table served by %s, want nothing", got)
	}
}
