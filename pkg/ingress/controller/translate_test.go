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

package controller

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/ptr"

	discoveryv1 "signet.dev/api/discovery/v1"
	networkingv1 "signet.dev/api/networking/v1"

	"signet.dev/signet/pkg/ingress/proxy"
)

const v4, v6 = discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6

// onlyBackend translates one Ingress with one path to b and returns that
// route's backend and the Ingress's problems.
func onlyBackend(t *testing.T, state State, b networkingv1.IngressBackend) (*proxy.Backend, []Problem) {
	t.Helper()
	ing := ingress("ns/web", 0, rule("foo.com", prefix("/", b)))
	tr := NewTranslator().Translate([]*networkingv1.Ingress{ing}, state)
	rs := tr.Config.Routes.Routes()
	if len(rs) != 1 {
		t.Fatalf("got %d routes, want 1", len(rs))
	}
	be := tr.Config.Backends[rs[0]]
	if be == nil {
		t.Fatal("the route has no backend")
	}
	if be.Ingress != "ns/web" {
		t.Errorf("Backend.Ingress = %q, want ns/web", be.Ingress)
	}
	res := tr.Ingresses[types.NamespacedName{Namespace: "ns", Name: "web"}]
	if res.Routes != 1 {
		t.Errorf("Routes = %d, want 1", res.Routes)
	}
	return be, res.Problems
}

func addrPorts(s ...string) []netip.AddrPort {
	out := make([]netip.AddrPort, 0, len(s))
	for _, a := range s {
		out = append(out, netip.MustParseAddrPort(a))
	}
	return out
}

func TestServiceBackend(t *testing.T) {
	const field = "spec.rules[0].http.paths[0].backend"
	tests := []struct {
		name      string
		objs      []any
		backend   networkingv1.IngressBackend
		wantName  string
		endpoints []netip.AddrPort
		// unavailable and problem are substrings; empty means none.
		unavailable string
		problem     *Problem
	}{{
		name: "port by number, target port from the slices, both families",
		objs: []any{
			service("ns/app", "http:80:8080"),
			slice("ns/app-v4", "app", v4, []string{"http:8080"}, readyEP("10.0.0.2"), readyEP("10.0.0.1")),
			slice("ns/app-v6", "app", v6, []string{"http:8080"}, readyEP("fd00::1")),
		},
		backend:   svcBackend("app", num(80)),
		wantName:  "ns/app:80",
		endpoints: addrPorts("10.0.0.1:8080", "10.0.0.2:8080", "[fd00::1]:8080"),
	}, {
		name: "port by name",
		objs: []any{
			service("ns/app", "metrics:9090:9090", "http:80:web"),
			slice("ns/app-1", "app", v4, []string{"metrics:9090", "http:3000"}, readyEP("10.0.0.1")),
		},
		backend:   svcBackend("app", named("http")),
		wantName:  "ns/app:http",
		endpoints: addrPorts("10.0.0.1:3000"),
	}, {
		name: "named target port that differs between slices",
		objs: []any{
			service("ns/app", "http:80:web"),
			slice("ns/app-a", "app", v4, []string{"http:3000"}, readyEP("10.0.0.1")),
			slice("ns/app-b", "app", v4, []string{"http:4000"}, readyEP("10.0.0.2")),
		},
		backend:   svcBackend("app", num(80)),
		wantName:  "ns/app:80",
		endpoints: addrPorts("10.0.0.1:3000", "10.0.0.2:4000"),
	}, {
		name: "unnamed single port",
		objs: []any{
			service("ns/app", ":80:8080"),
			slice("ns/app-1", "app", v4, []string{":8080"}, readyEP("10.0.0.1")),
		},
		backend:   svcBackend("app", num(80)),
		wantName:  "ns/app:80",
		endpoints: addrPorts("10.0.0.1:8080"),
	}, {
		name: "readiness: not ready left out, unset counts as ready",
		objs: []any{
			service("ns/app", "http:80:8080"),
			slice("ns/app-1", "app", v4, []string{"http:8080"},
				readyEP("10.0.0.1"), notReadyEP("10.0.0.2"), unknownEP("10.0.0.3")),
			slice("ns/app-2", "app", v6, []string{"http:8080"}, notReadyEP("fd00::2"), readyEP("fd00::1")),
		},
		backend:   svcBackend("app", num(80)),
		wantName:  "ns/app:80",
		endpoints: addrPorts("10.0.0.1:8080", "10.0.0.3:8080", "[fd00::1]:8080"),
	}, {
		name: "duplicates across slices, first address only, FQDN and other Services ignored",
		objs: []any{
			service("ns/app", "http:80:8080"),
			slice("ns/app-1", "app", v4, []string{"http:8080"}, readyEP("10.0.0.1", "10.0.0.9")),
			slice("ns/app-2", "app", v4, []string{"http:8080"}, readyEP("10.0.0.1")),
			slice("ns/app-3", "app", discoveryv1.AddressTypeFQDN, []string{"http:8080"}, readyEP("a.example.com")),
			slice("ns/app-4", "app", v4, []string{"other:8080"}, readyEP("10.0.0.4")),
			slice("ns/other-1", "other", v4, []string{"http:8080"}, readyEP("10.0.0.5")),
		},
		backend:   svcBackend("app", num(80)),
		wantName:  "ns/app:80",
		endpoints: addrPorts("10.0.0.1:8080"),
	}, {
		name:      "no endpoints is not a problem",
		objs:      []any{service("ns/app", "http:80:8080")},
		backend:   svcBackend("app", num(80)),
		wantName:  "ns/app:80",
		endpoints: []netip.AddrPort{},
	}, {
		name:        "Service missing",
		backend:     svcBackend("nope", num(80)),
		wantName:    "ns/nope:80",
		unavailable: `Service "nope" not found`,
		problem:     &Problem{ReasonBackendNotFound, field + `.service.name: Service "nope" not found in namespace "ns"`},
	}, {
		name:        "port number missing",
		objs:        []any{service("ns/app", "http:80:8080", ":443:8443")},
		backend:     svcBackend("app", num(8080)),
		wantName:    "ns/app:8080",
		unavailable: "has no port 8080",
		problem:     &Problem{ReasonBackendNotFound, field + ".service.port.number: Service ns/app has no port 8080 (its ports: 80/http, 443)"},
	}, {
		name:        "port name missing",
		objs:        []any{service("ns/app", "http:80:8080")},
		backend:     svcBackend("app", named("grpc")),
		wantName:    "ns/app:grpc",
		unavailable: `has no port named "grpc"`,
		problem:     &Problem{ReasonBackendNotFound, field + `.service.port.name: Service ns/app has no port named "grpc" (its ports: 80/http)`},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			be, problems := onlyBackend(t, newFakeState().add(tc.objs...), tc.backend)
			if be.Name != tc.wantName {
				t.Errorf("Name = %q, want %q", be.Name, tc.wantName)
			}
			if tc.unavailable != "" {
				if be.Service != nil || be.Static != nil || !strings.Contains(be.Unavailable, tc.unavailable) {
					t.Errorf("backend = %+v, want only Unavailable containing %q", be, tc.unavailable)
				}
			} else {
				if be.Unavailable != "" || be.Static != nil || be.Service == nil {
					t.Fatalf("backend = %+v, want a Service backend", be)
				}
				if !slices.Equal(be.Service.Endpoints, tc.endpoints) {
					t.Errorf("endpoints = %v, want %v", be.Service.Endpoints, tc.endpoints)
				}
				if be.Service.HealthCheck != nil {
					t.Errorf("health check %+v without one in the Ingress", be.Service.HealthCheck)
				}
			}
			var want []Problem
			if tc.problem != nil {
				want = []Problem{*tc.problem}
			}
			if !slices.Equal(problems, want) {
				t.Errorf("problems = %q, want %q", problems, want)
			}
		})
	}
}

func TestUDPServicePort(t *testing.T) {
	svc := service("ns/dns", "dns:53:53")
	svc.Spec.Ports[0].Protocol = corev1.ProtocolUDP
	be, problems := onlyBackend(t, newFakeState().add(svc), svcBackend("dns", num(53)))
	if be.Unavailable == "" || len(problems) != 1 || problems[0].Reason != ReasonBackendNotFound ||
		!strings.Contains(problems[0].Message, "is UDP; an Ingress backend needs a TCP port") {
		t.Errorf("backend %+v, problems %q: want 503 and BackendNotFound about UDP", be, problems)
	}
}

func TestHealthCheck(t *testing.T) {
	state := newFakeState().add(
		service("ns/app", "http:80:web", "health:81:status"),
		slice("ns/app-1", "app", v4, []string{"http:3000", "health:3001"}, readyEP("10.0.0.1")),
	)
	full := &networkingv1.IngressHealthCheck{
		Path: "/ready", Port: ptr.To(named("health")),
		IntervalSeconds: ptr.To[int32](2), TimeoutSeconds: ptr.To[int32](1),
		HealthyThreshold: ptr.To[int32](4), UnhealthyThreshold: ptr.To[int32](5),
	}
	tests := []struct {
		name    string
		hc      *networkingv1.IngressHealthCheck
		want    *proxy.HealthCheck
		ports   []uint16 // want HealthCheckPorts
		problem string
	}{{
		name:  "every field, port by name to the endpoint's target port",
		hc:    full,
		want:  &proxy.HealthCheck{Path: "/ready", Port: 0, Interval: 2 * time.Second, Timeout: time.Second, HealthyThreshold: 4, UnhealthyThreshold: 5},
		ports: []uint16{3001},
	}, {
		name:  "port by number",
		hc:    &networkingv1.IngressHealthCheck{Port: ptr.To(num(81))},
		want:  &proxy.HealthCheck{Path: "/", Port: 0, Interval: 10 * time.Second, Timeout: 5 * time.Second, HealthyThreshold: 2, UnhealthyThreshold: 3},
		ports: []uint16{3001},
	}, {
		name: "defaults: the serving port (0: each endpoint's own)",
		hc:   &networkingv1.IngressHealthCheck{},
		want: &proxy.HealthCheck{Path: "/", Port: 0, Interval: 10 * time.Second, Timeout: 5 * time.Second, HealthyThreshold: 2, UnhealthyThreshold: 3},
	}, {
		name: "the serving port named explicitly, as the API server defaults it",
		hc:   &networkingv1.IngressHealthCheck{Port: ptr.To(named("http")), Path: "/"},
		want: &proxy.HealthCheck{Path: "/", Port: 0, Interval: 10 * time.Second, Timeout: 5 * time.Second, HealthyThreshold: 2, UnhealthyThreshold: 3},
	}, {
		name:    "missing port",
		hc:      &networkingv1.IngressHealthCheck{Port: ptr.To(named("nope"))},
		problem: `spec.rules[0].http.paths[0].backend.service.healthCheck.port.name: Service ns/app has no port named "nope" (its ports: 80/http, 81/health); the backend is served without health checks`,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := svcBackend("app", named("http"))
			b.Service.HealthCheck = tc.hc
			be, problems := onlyBackend(t, state, b)
			if be.Service == nil {
				t.Fatalf("backend %+v, want a Service backend", be)
			}
			if want := addrPorts("10.0.0.1:3000"); !slices.Equal(be.Service.Endpoints, want) {
				t.Errorf("endpoints %v, want %v", be.Service.Endpoints, want)
			}
			got := be.Service.HealthCheck
			if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
				t.Errorf("health check %+v, want %+v", got, tc.want)
			}
			if gotPorts := be.Service.HealthCheckPorts; !slices.Equal(gotPorts, tc.ports) || (gotPorts == nil) != (tc.ports == nil) {
				t.Errorf("HealthCheckPorts %#v, want %#v", gotPorts, tc.ports)
			}
			var want []Problem
			if tc.problem != "" {
				want = []Problem{{ReasonBackendNotFound, tc.problem}}
			}
			if !slices.Equal(problems, want) {
				t.Errorf("problems %q, want %q", problems, want)
			}
		})
	}
}

// TestHealthPortsPerEndpoint: a health-check port whose named target
// port differs between slices is resolved per endpoint, from the slice
// the endpoint comes from, not one port for all.
func TestHealthPortsPerEndpoint(t *testing.T) {
	state := newFakeState().add(
		service("ns/app", "http:80:web", "health:81:status"),
		slice("ns/app-a", "app", v4, []string{"http:3000", "health:4000"}, readyEP("10.0.0.1")),
		slice("ns/app-b", "app", v4, []string{"http:3001", "health:4001"}, readyEP("10.0.0.2"), readyEP("10.0.0.3")),
		slice("ns/app-c", "app", v6, []string{"http:3000", "health:4000"}, readyEP("fd00::1")),
		// Pods without the named health port (as during a rollout that
		// adds it): no entry, so the check's Port (0 here: the serving
		// port).
		slice("ns/app-d", "app", v4, []string{"http:3002"}, readyEP("10.0.0.4")),
		// The same endpoint in two slices that disagree: the lower port.
		slice("ns/app-e", "app", v4, []string{"http:3000", "health:4005"}, readyEP("10.0.0.5")),
		slice("ns/app-f", "app", v4, []string{"http:3000", "health:4003"}, readyEP("10.0.0.5")),
	)
	b := svcBackend("app", named("http"))
	b.Service.HealthCheck = &networkingv1.IngressHealthCheck{Port: ptr.To(named("health"))}
	be, problems := onlyBackend(t, state, b)
	if len(problems) != 0 {
		t.Errorf("problems %q", problems)
	}
	want := addrPorts("10.0.0.1:3000", "10.0.0.2:3001", "10.0.0.3:3001", "10.0.0.4:3002", "10.0.0.5:3000", "[fd00::1]:3000")
	if !slices.Equal(be.Service.Endpoints, want) {
		t.Errorf("endpoints %v, want %v", be.Service.Endpoints, want)
	}
	if be.Service.HealthCheck == nil || be.Service.HealthCheck.Port != 0 {
		t.Errorf("health check %+v, want port 0 (a named target port: only the slices resolve it)", be.Service.HealthCheck)
	}
	if got, want := be.Service.HealthCheckPorts, []uint16{4000, 4001, 4001, 0, 4003, 4000}; !slices.Equal(got, want) {
		t.Errorf("HealthCheckPorts %v, want %v (parallel to %v)", got, want, be.Service.Endpoints)
	}

	// A numeric targetPort is the check's Port, for endpoints whose slice
	// does not list it; without slices there is nothing to check.
	be, _ = onlyBackend(t, newFakeState().add(service("ns/app", "http:80:web", "health:81:8081")), b)
	if be.Service.HealthCheck == nil || be.Service.HealthCheck.Port != 8081 || len(be.Service.HealthCheckPorts) != 0 {
		t.Errorf("health check without slices %+v (ports %v), want port 8081", be.Service.HealthCheck, be.Service.HealthCheckPorts)
	}

	// Checks of the serving port need no per-endpoint ports: each
	// endpoint is checked on the port it serves on.
	b.Service.HealthCheck = &networkingv1.IngressHealthCheck{Port: ptr.To(named("http"))}
	be, _ = onlyBackend(t, state, b)
	if be.Service.HealthCheck == nil || be.Service.HealthCheck.Port != 0 || be.Service.HealthCheckPorts != nil {
		t.Errorf("health check of the serving port %+v (ports %v), want port 0 and no per-endpoint ports",
			be.Service.HealthCheck, be.Service.HealthCheckPorts)
	}
}

func TestResourceBackend(t *testing.T) {
	const field = "spec.rules[0].http.paths[0].backend"
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "site"},
		Data:       map[string]string{"index.html": "<h1>hi</h1>"},
		BinaryData: map[string][]byte{"logo.png": {0x89, 'P', 'N', 'G'}},
	}
	state := newFakeState().add(cm)
	res := func(group *string, kind, name string) networkingv1.IngressBackend {
		return networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{APIGroup: group, Kind: kind, Name: name}}
	}

	for _, group := range []*string{nil, ptr.To("")} {
		be, problems := onlyBackend(t, state, res(group, "ConfigMap", "site"))
		if be.Static == nil || be.Service != nil || be.Unavailable != "" {
			t.Fatalf("backend %+v, want a static backend", be)
		}
		if be.Name != "ns/ConfigMap/site" {
			t.Errorf("Name = %q", be.Name)
		}
		if len(be.Static.Files) != 2 || string(be.Static.Files["index.html"]) != "<h1>hi</h1>" || string(be.Static.Files["logo.png"]) != "\x89PNG" {
			t.Errorf("files = %q", be.Static.Files)
		}
		if len(problems) != 0 {
			t.Errorf("problems %q", problems)
		}
	}

	be, problems := onlyBackend(t, state, res(nil, "ConfigMap", "gone"))
	want := []Problem{{ReasonBackendNotFound, field + `.resource.name: ConfigMap "gone" not found in namespace "ns"`}}
	if be.Unavailable == "" || be.Static != nil || !slices.Equal(problems, want) {
		t.Errorf("missing ConfigMap: backend %+v problems %q, want 503 and %q", be, problems, want)
	}

	for _, tc := range []struct {
		group *string
		kind  string
		want  string
	}{
		{ptr.To("storage.example.com"), "Bucket", `kind "Bucket" of API group "storage.example.com" is not supported`},
		{ptr.To("example.com"), "ConfigMap", `kind "ConfigMap" of API group "example.com" is not supported`},
		{nil, "Secret", `kind "Secret" of API group "" is not supported`},
	} {
		be, problems := onlyBackend(t, state, res(tc.group, tc.kind, "site"))
		if be.Unavailable == "" || be.Static != nil || be.Service != nil {
			t.Errorf("%s: backend %+v, want Unavailable", tc.kind, be)
		}
		if len(problems) != 1 || problems[0].Reason != ReasonUnsupportedResourceKind ||
			!strings.HasPrefix(problems[0].Message, field+".resource: "+tc.want) {
			t.Errorf("%s: problems %q, want UnsupportedResourceKind %q", tc.kind, problems, tc.want)
		}
	}
}

func TestRoutesShareBackends(t *testing.T) {
	state := newFakeState().add(service("ns/app", "http:80:8080"), service("ns/other", "http:80:8080"))
	a := ingress("ns/a", 0, rule("foo.com",
		prefix("/x", svcBackend("app", num(80))),
		prefix("/y", svcBackend("app", num(80))),
		prefix("/z", svcBackend("other", num(80)))))
	b := ingress("ns/b", 1, rule("bar.com", prefix("/", svcBackend("app", num(80)))))
	tr := NewTranslator().Translate([]*networkingv1.Ingress{b, a}, state)
	by := map[string]*proxy.Backend{}
	for _, r := range tr.Config.Routes.Routes() {
		by[r.Host+r.Path] = tr.Config.Backends[r]
	}
	if by["foo.com/x"] != by["foo.com/y"] {
		t.Error("two paths of one Ingress to one Service port got different Backends")
	}
	if by["foo.com/x"] == by["foo.com/z"] || by["foo.com/x"] == by["bar.com/"] {
		t.Error("different Services or Ingresses share a Backend")
	}
	if by["bar.com/"].Ingress != "ns/b" || by["foo.com/z"].Ingress != "ns/a" {
		t.Errorf("Ingress labels %q %q", by["bar.com/"].Ingress, by["foo.com/z"].Ingress)
	}
}

func TestConflictsAndSkippedPaths(t *testing.T) {
	state := newFakeState().add(service("ns/app", "http:80:8080"), service("team/x", "http:80:8080"))
	old := ingress("ns/old", 0, rule("foo.com", prefix("/api", svcBackend("app", num(80)))))
	old.Spec.DefaultBackend = ptr.To(svcBackend("app", num(80)))
	young := ingress("team/young", 5,
		rule("foo.com", prefix("/other", svcBackend("x", num(80))), prefix("/api/", svcBackend("x", num(80)))))
	young.Spec.DefaultBackend = ptr.To(svcBackend("x", num(80)))
	bad := ingress("ns/bad", 9, rule("bar.com", prefix("relative", svcBackend("app", num(80))), prefix("/ok", svcBackend("app", num(80)))))

	tr := NewTranslator().Translate([]*networkingv1.Ingress{young, bad, old}, state)
	get := func(ns, name string) *IngressResult {
		return tr.Ingresses[types.NamespacedName{Namespace: ns, Name: name}]
	}

	if r := get("ns", "old"); len(r.Problems) != 0 || r.Routes != 2 {
		t.Errorf("old: %+v, want 2 routes and no problems", r)
	}
	y := get("team", "young")
	if y.Routes != 1 {
		t.Errorf("young has %d routes, want 1 (/other)", y.Routes)
	}
	if len(y.Problems) != 2 {
		t.Fatalf("young problems %q, want 2 conflicts", y.Problems)
	}
	for _, p := range y.Problems {
		if p.Reason != ReasonConflict || !strings.Contains(p.Message, "Ingress ns/old defines it too") {
			t.Errorf("young problem %q", p)
		}
	}
	if !strings.Contains(y.Problems[0].Message+y.Problems[1].Message, `Prefix path "/api/" for foo.com at spec.rules[0].http.paths[1] is ignored`) {
		t.Errorf("young problems %q do not name the path", y.Problems)
	}
	// The loser's other path still has its backend.
	found := false
	for _, r := range tr.Config.Routes.Routes() {
		if r.Ingress.Name == "young" {
			found = true
			if be := tr.Config.Backends[r]; be == nil || be.Service == nil || be.Name != "team/x:80" {
				t.Errorf("young's remaining route %s has backend %+v", r.Path, be)
			}
		}
	}
	if !found {
		t.Error("young lost all its routes")
	}
	b := get("ns", "bad")
	if b.Routes != 1 || len(b.Problems) != 1 || b.Problems[0].Reason != ReasonInvalidPath ||
		!strings.HasPrefix(b.Problems[0].Message, "spec.rules[0].http.paths[0]: ") {
		t.Errorf("bad: %+v, want 1 route and an InvalidPath problem", b)
	}
}

func TestTLS(t *testing.T) {
	fooCrt, fooKey := newCert(t, "foo.com", "www.foo.com")
	wildCrt, wildKey := newCert(t, "*.bar.com")
	otherCrt, otherKey := newCert(t, "foo.com")
	state := newFakeState().add(
		service("ns/app", "http:80:8080"),
		service("young/app", "http:80:8080"),
		tlsSecret("ns/foo", fooCrt, fooKey),
		tlsSecret("ns/wild", wildCrt, wildKey),
		tlsSecret("young/other", otherCrt, otherKey),
		tlsSecret("ns/bad", fooCrt, wildKey),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "opaque"}, Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{corev1.TLSCertKey: fooCrt, corev1.TLSPrivateKeyKey: fooKey}},
	)
	backend := svcBackend("app", num(80))
	old := ingress("ns/old", 0, rule("foo.com", prefix("/", backend)), rule("missing.com", prefix("/", backend)))
	old.Spec.TLS = []networkingv1.IngressTLS{
		{Hosts: []string{"FOO.com"}, SecretName: "foo"},
		{SecretName: "wild"}, // no hosts: the certificate's names
		{Hosts: []string{"missing.com"}, SecretName: "gone"},
		{Hosts: []string{"bad.com"}, SecretName: "bad"},
		{Hosts: []string{"opaque.com"}, SecretName: "opaque"},
	}
	young := ingress("young/y", 3, rule("foo.com", prefix("/y", backend)))
	young.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"foo.com"}, SecretName: "other"}, {Hosts: []string{"foo.com"}, SecretName: "gone"}}

	tr := NewTranslator().Translate([]*networkingv1.Ingress{young, old}, state)
	certs := tr.Config.TLS.Certificates
	names := func(host string) []string {
		if certs[host] == nil {
			return nil
		}
		return certs[host].Leaf.DNSNames
	}
	if got := names("foo.com"); !slices.Equal(got, []string{"foo.com", "www.foo.com"}) {
		t.Errorf("foo.com served with %v, want the older Ingress's certificate", got)
	}
	if got := names("*.bar.com"); !slices.Equal(got, []string{"*.bar.com"}) {
		t.Errorf("*.bar.com served with %v", got)
	}
	if len(certs) != 2 {
		t.Errorf("certificates for %d hosts, want 2: %v", len(certs), certs)
	}
	if want := []string{"bad.com", "missing.com", "opaque.com"}; !slices.Equal(tr.Config.TLS.SelfSigned, want) {
		t.Errorf("self-signed %v, want %v (foo.com has a real certificate)", tr.Config.TLS.SelfSigned, want)
	}
	probs := tr.Ingresses[types.NamespacedName{Namespace: "ns", Name: "old"}].Problems
	want := []Problem{
		{ReasonSecretNotFound, `spec.tls[2].secretName: Secret "gone" of type kubernetes.io/tls not found in namespace "ns"; missing.com served with a self-signed certificate`},
		{ReasonInvalidSecret, "spec.tls[3].secretName: Secret ns/bad: tls.crt and tls.key are not a usable key pair: tls: private key does not match public key; bad.com served with a self-signed certificate"},
		{ReasonInvalidSecret, `spec.tls[4].secretName: Secret ns/opaque has type "Opaque", not kubernetes.io/tls; opaque.com served with a self-signed certificate`},
	}
	if !slices.Equal(probs, want) {
		t.Errorf("problems\n got %q\nwant %q", probs, want)
	}
	// young's foo.com has the older Ingress's certificate: reported, but
	// not said to be self-signed.
	wantYoung := []Problem{{ReasonSecretNotFound, `spec.tls[1].secretName: Secret "gone" of type kubernetes.io/tls not found in namespace "young"`}}
	if p := tr.Ingresses[types.NamespacedName{Namespace: "young", Name: "y"}].Problems; !slices.Equal(p, wantYoung) {
		t.Errorf("young problems %q, want %q", p, wantYoung)
	}
}

func TestCertificateCache(t *testing.T) {
	crt, key := newCert(t, "foo.com")
	state := newFakeState().add(tlsSecret("ns/s", crt, key))
	ing := ingress("ns/a", 0, rule("foo.com", prefix("/", svcBackend("app", num(80)))))
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"foo.com"}, SecretName: "s"}}
	tr := NewTranslator()
	first := tr.Translate([]*networkingv1.Ingress{ing}, state).Config.TLS.Certificates["foo.com"]
	second := tr.Translate([]*networkingv1.Ingress{ing}, state).Config.TLS.Certificates["foo.com"]
	if first == nil || first != second {
		t.Error("an unchanged Secret was parsed again")
	}
	crt2, key2 := newCert(t, "foo.com", "new.foo.com")
	state.add(tlsSecret("ns/s", crt2, key2))
	third := tr.Translate([]*networkingv1.Ingress{ing}, state).Config.TLS.Certificates["foo.com"]
	if third == nil || !slices.Equal(third.Leaf.DNSNames, []string{"foo.com", "new.foo.com"}) {
		t.Error("a changed Secret was not parsed again")
	}
	ing.Spec.TLS = nil
	tr.Translate([]*networkingv1.Ingress{ing}, state)
	if len(tr.certs) != 0 {
		t.Errorf("cache keeps %d Secrets no Ingress names", len(tr.certs))
	}
}

func TestInvalidBackend(t *testing.T) {
	be, problems := onlyBackend(t, newFakeState(), networkingv1.IngressBackend{})
	if be.Unavailable == "" || len(problems) != 1 || problems[0].Reason != ReasonInvalidBackend {
		t.Errorf("backend %+v problems %q", be, problems)
	}
}

func TestReferencesOf(t *testing.T) {
	a := ingress("ns/a", 0, rule("foo.com",
		prefix("/", svcBackend("app", num(80))),
		path(networkingv1.PathTypeExact, "/cm", networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{Kind: "ConfigMap", Name: "site"}}),
		path(networkingv1.PathTypeExact, "/b", networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{APIGroup: ptr.To("x.io"), Kind: "ConfigMap", Name: "no"}}),
	))
	a.Spec.DefaultBackend = ptr.To(svcBackend("def", num(80)))
	a.Spec.TLS = []networkingv1.IngressTLS{{SecretName: "cert"}, {}}
	refs := ReferencesOf([]*networkingv1.Ingress{a})
	nn := func(n string) types.NamespacedName { return types.NamespacedName{Namespace: "ns", Name: n} }
	if !refs.Services.Equal(setOf(nn("app"), nn("def"))) || !refs.ConfigMaps.Equal(setOf(nn("site"))) || !refs.Secrets.Equal(setOf(nn("cert"))) {
		t.Errorf("refs %+v", refs)
	}
}

func setOf(items ...types.NamespacedName) sets.Set[types.NamespacedName] {
	return sets.New(items...)
}
