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

package ingress

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	networkingv1 "signet.dev/api/networking/v1"
)

// request is one request of a table: host, target and the answer wanted.
type request struct {
	host, target string
	want         expectation
}

// checkAll polls each request through both listeners until it gets its
// answer.
func checkAll(t *testing.T, si *signetIngress, reqs []request) {
	t.Helper()
	for _, r := range reqs {
		for _, addr := range []proxyAddr{si.httpV4, si.httpV6} {
			waitForReply(t, addr, r.host, r.target, r.want)
		}
	}
}

// TestRouting covers matching (path types, the kubernetes.io examples,
// hosts and wildcards), class selection, round-robin over endpoints of
// both families, ConfigMap and unsupported resource backends, missing
// backends, status and configuration changes, all through one
// signet-ingress.
func TestRouting(t *testing.T) {
	n := newNet(t)
	v4, v6 := n.v4, n.v6
	const controller = "signet.dev/ingress-routing"
	createClass(t, "routing", controller)
	createClass(t, "someone-else", "example.com/someone-else")
	ns := newNamespace(t, "routing")
	for _, name := range []string{"a", "b", "c"} {
		createService(t, ns, name, []*backend{startBackend(t, n, name, v4)})
	}
	createService(t, ns, "d", []*backend{startBackend(t, n, "d", v6)})
	rr := []*backend{startBackend(t, n, "rr-1", v4), startBackend(t, n, "rr-2", v4), startBackend(t, n, "rr-3", v6)}
	notReady := startBackend(t, n, "rr-not-ready", v4)
	createService(t, ns, "rr", append(slices.Clone(rr), notReady), notReady)

	si := startIngress(t, n, controller)

	// The kubernetes.io examples table, one host per row group, and
	// signet's answers to what it leaves open (see docs/ingress.md).
	type pathCase struct {
		host  string
		paths []networkingv1.HTTPIngressPath
		reqs  []request
	}
	cases := []pathCase{
		{"p1.test", []networkingv1.HTTPIngressPath{prefix("/", svc("a"))}, []request{
			{target: "/", want: from("a")}, {target: "/any/path", want: from("a")}}},
		{"p2.test", []networkingv1.HTTPIngressPath{exact("/foo", svc("a"))}, []request{
			{target: "/foo", want: from("a")}, {target: "/bar", want: status(404)}, {target: "/foo/", want: status(404)},
			{target: "/FOO", want: status(404)}, {target: "/foo?next=/bar", want: from("a")},
			{target: "/bar/../foo", want: from("a")}, {target: "/%66oo", want: from("a")}}},
		{"p3.test", []networkingv1.HTTPIngressPath{exact("/foo/", svc("a"))}, []request{
			{target: "/foo", want: status(404)}, {target: "/foo/", want: from("a")}}},
		{"p4.test", []networkingv1.HTTPIngressPath{prefix("/foo", svc("a"))}, []request{
			{target: "/foo", want: from("a")}, {target: "/foo/", want: from("a")}, {target: "/foo/bar", want: from("a")},
			{target: "/foobar", want: status(404)}, {target: "/FOO/bar", want: status(404)}}},
		{"p5.test", []networkingv1.HTTPIngressPath{prefix("/foo/", svc("a"))}, []request{
			{target: "/foo", want: from("a")}, {target: "/foo/", want: from("a")}}},
		{"p6.test", []networkingv1.HTTPIngressPath{prefix("/aaa/bb", svc("a"))}, []request{
			{target: "/aaa/bbb", want: status(404)}}},
		{"p7.test", []networkingv1.HTTPIngressPath{prefix("/aaa/bbb", svc("a"))}, []request{
			{target: "/aaa/bbb", want: from("a")}, {target: "/aaa/bbb/", want: from("a")},
			{target: "/aaa/bbb/ccc", want: from("a")}, {target: "/aaa/bbbxyz", want: status(404)}}},
		{"p8.test", []networkingv1.HTTPIngressPath{prefix("/aaa/bbb/", svc("a"))}, []request{
			{target: "/aaa/bbb", want: from("a")}}},
		{"p9.test", []networkingv1.HTTPIngressPath{prefix("/", svc("a")), prefix("/aaa", svc("b")), prefix("/aaa/bbb", svc("c"))}, []request{
			{target: "/aaa/ccc", want: from("b")}, {target: "/aaa/bbb", want: from("c")}, {target: "/ccc", want: from("a")}}},
		{"p10.test", []networkingv1.HTTPIngressPath{prefix("/foo", svc("a")), exact("/foo", svc("b"))}, []request{
			{target: "/foo", want: from("b")}, {target: "/foo/x", want: from("a")}}},
		{"p11.test", []networkingv1.HTTPIngressPath{prefix("/api", svc("a")), regex("/api/v[0-9]+", svc("b"))}, []request{
			{target: "/api/v2/users", want: from("b")}, {target: "/api/vx", want: from("a")}}},
		{"p12.test", []networkingv1.HTTPIngressPath{regex("/a.*", svc("a")), regex("/a[a-z]+$", svc("b"))}, []request{
			{target: "/abc", want: from("b")}, {target: "/a9", want: from("a")}, {target: "/x/a", want: status(404)}}},
		{"p13.test", []networkingv1.HTTPIngressPath{prefix("/", svc("a"))}, []request{
			{target: "/../x", want: status(400)}, {target: "/a%2Fb", want: status(400)}}},
	}
	var pathRules []networkingv1.IngressRule
	var pathReqs []request
	for _, c := range cases {
		pathRules = append(pathRules, rule(c.host, c.paths...))
		for _, r := range c.reqs {
			r.host = c.host
			pathReqs = append(pathReqs, r)
		}
	}
	createIngress(t, ns, ingressOf("paths", "routing", pathRules...))

	createIngress(t, ns, ingressOf("hosts", "routing",
		rule("foo.bar.com", prefix("/", svc("a"))),
		rule("*.foo.com", prefix("/", svc("b"))),
		rule("bar.foo.com", prefix("/", svc("c")))))
	hostReqs := []request{
		{"foo.bar.com", "/", from("a")}, {"FOO.bar.com:8080", "/", from("a")}, {"foo.bar.com.", "/", from("a")},
		{"x.foo.com", "/", from("b")}, {"Bar.Foo.com:443", "/", from("c")},
		{"baz.bar.foo.com", "/", status(404)}, {"foo.com", "/", status(404)}, {"subdomain.bar.com", "/", status(404)},
	}

	legacy := ingressOf("legacy", "", rule("legacy.test", prefix("/", svc("a"))))
	legacy.Spec.IngressClassName = nil
	legacy.Annotations = map[string]string{networkingv1.AnnotationIngressClass: "routing"}
	createIngress(t, ns, legacy)
	createIngress(t, ns, ingressOf("theirs", "someone-else", rule("theirs.test", prefix("/", svc("a")))))
	createIngress(t, ns, ingressOf("unknown", "no-such-class", rule("unknown.test", prefix("/", svc("a")))))

	createIngress(t, ns, ingressOf("spread", "routing",
		rule("rr.test", prefix("/", svc("rr"))),
		rule("v6.test", prefix("/", svc("d")))))

	t.Run("path types", func(t *testing.T) {
		checkAll(t, si, pathReqs)
		waitForStatus(t, ns, "paths", metav1.ConditionTrue, "Accepted")
	})

	t.Run("hosts and wildcards", func(t *testing.T) {
		checkAll(t, si, hostReqs)
		waitForStatus(t, ns, "hosts", metav1.ConditionTrue, "Accepted")
	})

	t.Run("requests reach the backend as sent, with forwarding headers", func(t *testing.T) {
		r := waitForReply(t, si.httpV4, "FOO.bar.com:8080", "/x/%2e%2e/y?q=/z", from("a"))
		if got := r.header.Get("X-Seen-Uri"); got != "/x/%2e%2e/y?q=/z" {
			t.Errorf("backend saw target %q, want it as sent", got)
		}
		if got := r.header.Get("X-Seen-Host"); got != "FOO.bar.com:8080" {
			t.Errorf("backend saw Host %q, want it as sent", got)
		}
		if got := r.header.Get("X-Seen-Forwarded-For"); got != "127.0.0.1" {
			t.Errorf("X-Forwarded-For %q, want 127.0.0.1", got)
		}
		if got := r.header.Get("X-Seen-Forwarded-Proto"); got != "http" {
			t.Errorf("X-Forwarded-Proto %q, want http", got)
		}
		if got := r.header.Get("X-Seen-Forwarded-Host"); !strings.HasPrefix(got, "FOO.bar.com") {
			t.Errorf("X-Forwarded-Host %q, want the client's Host", got)
		}
		r6 := waitForReply(t, si.httpV6, "foo.bar.com", "/", from("a"))
		if got := r6.header.Get("X-Seen-Forwarded-For"); got != "::1" {
			t.Errorf("X-Forwarded-For over IPv6 %q, want ::1", got)
		}
	})

	t.Run("404 without a match", func(t *testing.T) {
		r := waitForReply(t, si.httpV4, "nothing.test", "/", status(404))
		for _, h := range []string{"Content-Length", "Content-Type", "Date", "Server"} {
			if r.header.Get(h) == "" {
				t.Errorf("the proxy's 404 lacks %s: %v", h, r.header)
			}
		}
	})

	t.Run("class selection", func(t *testing.T) {
		waitForReply(t, si.httpV4, "legacy.test", "/", from("a"))
		waitForStatus(t, ns, "legacy", metav1.ConditionTrue, "Accepted")
		for _, name := range []string{"theirs", "unknown"} {
			waitForReply(t, si.httpV4, name+".test", "/", status(404))
			// Ingresses of ours created after these have status by now.
			if st := getIngress(t, ns, name).Status; len(st.Conditions) != 0 || len(st.LoadBalancer.Ingress) != 0 {
				t.Errorf("Ingress %s of another class has status %+v", name, st)
			}
		}
		// The legacy Ingress moves to another class: its routes go, its
		// status stays as signet-ingress last wrote it.
		updateIngress(t, ns, "legacy", func(ing *networkingv1.Ingress) {
			ing.Annotations[networkingv1.AnnotationIngressClass] = "someone-else"
		})
		waitForReply(t, si.httpV4, "legacy.test", "/", status(404))
		if a := condition(getIngress(t, ns, "legacy"), networkingv1.IngressConditionAccepted); a == nil || a.Status != metav1.ConditionTrue {
			t.Errorf("Accepted of the Ingress that left the class: %+v, want left as it was", a)
		}
	})

	t.Run("round-robin over ready endpoints of both families", func(t *testing.T) {
		waitForReply(t, si.httpV4, "v6.test", "/", from("d"))
		waitForReply(t, si.httpV6, "v6.test", "/", from("d"))
		waitForReply(t, si.httpV4, "rr.test", "/", from("rr-1"))
		seen := map[string]int{}
		for range 30 {
			r, err := get(si.httpV4, "rr.test", "/")
			if err != nil {
				t.Fatal(err)
			}
			seen[r.backendName()]++
		}
		for _, b := range rr {
			if seen[b.name] < 5 {
				t.Errorf("endpoint %s (%s) served %d of 30 requests: %v", b.name, b.addr, seen[b.name], seen)
			}
		}
		if n := notReady.hits.Load(); n != 0 || seen["rr-not-ready"] != 0 {
			t.Errorf("the not-ready endpoint served %d requests", n)
		}
		if len(seen) != len(rr) {
			t.Errorf("answers from %v, want only %d ready endpoints", seen, len(rr))
		}
	})

	t.Run("ConfigMap backend", func(t *testing.T) {
		cm := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "site"},
			Data:       map[string]string{"index.html": "<h1>hello</h1>", "style.css": "body{}"},
		}
		if _, err := cluster.Kube.CoreV1().ConfigMaps(ns).Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		createIngress(t, ns, ingressOf("static", "routing", rule("static.test", prefix("/site",
			networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{Kind: "ConfigMap", Name: "site"}}))))
		r := waitForReply(t, si.httpV4, "static.test", "/site/", expectation{code: 200})
		if r.body != "<h1>hello</h1>" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Errorf("/site/: %q with Content-Type %q", r.body, r.header.Get("Content-Type"))
		}
		r = waitForReply(t, si.httpV6, "static.test", "/site/style.css", expectation{code: 200})
		if r.body != "body{}" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") {
			t.Errorf("/site/style.css: %q with Content-Type %q", r.body, r.header.Get("Content-Type"))
		}
		waitForReply(t, si.httpV4, "static.test", "/site/missing.txt", status(404))
		waitForStatus(t, ns, "static", metav1.ConditionTrue, "Accepted")

		// The ConfigMap changes: the content follows.
		cm.Data["index.html"] = "<h1>changed</h1>"
		if _, err := cluster.Kube.CoreV1().ConfigMaps(ns).Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the changed ConfigMap to be served", func() error {
			r, err := get(si.httpV4, "static.test", "/site/")
			if err != nil {
				return err
			}
			if r.code != 200 || r.body != "<h1>changed</h1>" {
				return fmt.Errorf("%d %q", r.code, r.body)
			}
			return nil
		})
	})

	t.Run("unsupported resource kind", func(t *testing.T) {
		createIngress(t, ns, ingressOf("bucket", "routing", rule("bucket.test", prefix("/",
			networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{APIGroup: ptr.To("storage.example.com"), Kind: "Bucket", Name: "b"}}))))
		waitForReply(t, si.httpV4, "bucket.test", "/", status(503))
		ing := waitForStatus(t, ns, "bucket", metav1.ConditionFalse, "UnsupportedResourceKind")
		a := condition(ing, networkingv1.IngressConditionAccepted)
		if want := `spec.rules[0].http.paths[0].backend.resource: kind "Bucket" of API group "storage.example.com" is not supported`; !strings.HasPrefix(a.Message, want) {
			t.Errorf("Accepted message %q, want it to start with %q", a.Message, want)
		}
	})

	t.Run("missing Service, then created", func(t *testing.T) {
		createIngress(t, ns, ingressOf("missing", "routing", rule("missing.test", prefix("/", svc("later")))))
		waitForReply(t, si.httpV4, "missing.test", "/", status(503))
		ing := waitForStatus(t, ns, "missing", metav1.ConditionFalse, "BackendNotFound")
		if a := condition(ing, networkingv1.IngressConditionAccepted); a.Message != `spec.rules[0].http.paths[0].backend.service.name: Service "later" not found in namespace "`+ns+`"` {
			t.Errorf("Accepted message %q", a.Message)
		}
		createService(t, ns, "later", []*backend{startBackend(t, n, "later", v6)})
		waitForReply(t, si.httpV4, "missing.test", "/", from("later"))
		waitForStatus(t, ns, "missing", metav1.ConditionTrue, "Accepted")
	})

	t.Run("a spec change goes live and is reported for its generation", func(t *testing.T) {
		before := getIngress(t, ns, "hosts")
		updated := updateIngress(t, ns, "hosts", func(ing *networkingv1.Ingress) {
			ing.Spec.Rules[0].HTTP.Paths[0].Backend = svc("d")
		})
		if updated.Generation != before.Generation+1 {
			t.Fatalf("generation %d after the update, want %d", updated.Generation, before.Generation+1)
		}
		waitForReply(t, si.httpV4, "foo.bar.com", "/", from("d"))
		ing := waitForStatus(t, ns, "hosts", metav1.ConditionTrue, "Accepted")
		if p := condition(ing, networkingv1.IngressConditionProgrammed); p.ObservedGeneration != updated.Generation {
			t.Errorf("Programmed for generation %d, want %d", p.ObservedGeneration, updated.Generation)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		page := si.metrics(t)
		if v := metricValue(page, "signet_ingress_route_table_rebuilds_total"); v < 1 {
			t.Errorf("signet_ingress_route_table_rebuilds_total = %v", v)
		}
		if v := metricValue(page, "signet_ingress_route_table_build_seconds_count"); v < 1 {
			t.Errorf("signet_ingress_route_table_build_seconds_count = %v", v)
		}
		if v := metricValue(page, "signet_ingress_status_leader"); v != 1 {
			t.Errorf("signet_ingress_status_leader = %v, want 1 (the only replica)", v)
		}
		if v := metricValue(page, `signet_ingress_ingresses_not_accepted{reason="UnsupportedResourceKind"}`); v != 1 {
			t.Errorf("Ingresses not accepted for UnsupportedResourceKind: %v, want 1", v)
		}
		series := fmt.Sprintf(`signet_ingress_requests_total{backend="%s/rr:http",code="200",ingress="%s/spread"}`, ns, ns)
		if v := metricValue(page, series); v < 30 {
			t.Errorf("%s = %v, want at least 30", series, v)
		}
	})
}

// TestDefaultBackendAndConflicts covers the default backend, 404 without
// one, and conflicts between Ingresses decided by age.
func TestDefaultBackendAndConflicts(t *testing.T) {
	n := newNet(t)
	v4, v6 := n.v4, n.v6
	const controller = "signet.dev/ingress-defaults"
	createClass(t, "defaults", controller)
	ns := newNamespace(t, "defaults")
	createService(t, ns, "app", []*backend{startBackend(t, n, "app", v4)})
	createService(t, ns, "fallback", []*backend{startBackend(t, n, "fallback", v6)})
	createService(t, ns, "young", []*backend{startBackend(t, n, "young", v4)})
	si := startIngress(t, n, controller)

	// The older Ingress is named so that the name order would pick the
	// other one: age must decide.
	old := ingressOf("zz-old", "defaults", rule("app.test", prefix("/api", svc("app"))))
	old.Spec.DefaultBackend = ptr.To(svc("fallback"))
	old = createIngress(t, ns, old)
	waitForReply(t, si.httpV4, "other.test", "/", from("fallback"))
	waitForReply(t, si.httpV4, "app.test", "/api/x", from("app"))
	waitForReply(t, si.httpV4, "app.test", "/elsewhere", from("fallback"))
	waitForStatus(t, ns, "zz-old", metav1.ConditionTrue, "Accepted")

	// Creation timestamps have one-second precision.
	waitFor(t, "a new second", func() error {
		if !time.Now().Add(-time.Second).After(old.CreationTimestamp.Time) {
			return fmt.Errorf("still within the second of %v", old.CreationTimestamp)
		}
		return nil
	})
	young := ingressOf("aa-young", "defaults",
		rule("app.test", prefix("/api/", svc("young")), prefix("/young", svc("young"))))
	young.Spec.DefaultBackend = ptr.To(svc("young"))
	young = createIngress(t, ns, young)
	if !young.CreationTimestamp.After(old.CreationTimestamp.Time) {
		t.Fatalf("the young Ingress was created at %v, not after %v", young.CreationTimestamp, old.CreationTimestamp)
	}

	// The young Ingress's other path works; its conflicting ones do not.
	waitForReply(t, si.httpV4, "app.test", "/young", from("young"))
	waitForReply(t, si.httpV4, "app.test", "/api/x", from("app"))
	waitForReply(t, si.httpV4, "other.test", "/", from("fallback"))
	ing := waitForStatus(t, ns, "aa-young", metav1.ConditionFalse, "Conflict")
	msg := condition(ing, networkingv1.IngressConditionAccepted).Message
	for _, want := range []string{
		`Prefix path "/api/" for app.test at spec.rules[0].http.paths[0] is ignored: Ingress ` + ns + `/zz-old defines it too (spec.rules[0].http.paths[0])`,
		`the default backend at spec.defaultBackend is ignored: Ingress ` + ns + `/zz-old defines it too (spec.defaultBackend)`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("Accepted message %q lacks %q", msg, want)
		}
	}
	waitForStatus(t, ns, "zz-old", metav1.ConditionTrue, "Accepted")

	// The old Ingress goes: the young one takes over and is accepted.
	if err := cluster.Signet.NetworkingV1().Ingresses(ns).Delete(context.Background(), "zz-old", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitForReply(t, si.httpV4, "app.test", "/api/x", from("young"))
	waitForReply(t, si.httpV4, "other.test", "/", from("young"))
	waitForStatus(t, ns, "aa-young", metav1.ConditionTrue, "Accepted")

	// Without a default backend, unmatched requests get 404.
	updateIngress(t, ns, "aa-young", func(ing *networkingv1.Ingress) { ing.Spec.DefaultBackend = nil })
	waitForReply(t, si.httpV4, "other.test", "/", status(404))
	waitForReply(t, si.httpV6, "app.test", "/nothing", status(404))
	waitForReply(t, si.httpV6, "app.test", "/young", from("young"))
}

// TestHealthChecks stops a backend and fails another one's health check,
// and watches them leave the rotation and come back.
func TestHealthChecks(t *testing.T) {
	n := newNet(t)
	v4, v6 := n.v4, n.v6
	const controller = "signet.dev/ingress-health"
	createClass(t, "health", controller)
	ns := newNamespace(t, "health")
	// One port on both addresses, as the pods of one Deployment: the check
	// names the Service port "health", which each endpoint's slice
	// resolves to that port. (Health ports that differ between endpoints
	// are covered by the unit tests of the controller and the proxy.)
	hs := startBackendsOnOnePort(t, n, []string{"h1", "h2"}, []netip.Addr{v4, v6})
	h1, h2 := hs[0], hs[1]
	createService(t, ns, "checked", hs)
	si := startIngress(t, n, controller)

	b := svc("checked")
	b.Service.HealthCheck = &networkingv1.IngressHealthCheck{
		Path: "/healthz", Port: &networkingv1.ServiceBackendPort{Name: "health"},
		IntervalSeconds: ptr.To[int32](1), TimeoutSeconds: ptr.To[int32](1),
		HealthyThreshold: ptr.To[int32](2), UnhealthyThreshold: ptr.To[int32](2),
	}
	createIngress(t, ns, ingressOf("checked", "health", rule("health.test", prefix("/", b))))
	waitForStatus(t, ns, "checked", metav1.ConditionTrue, "Accepted")

	// servedBy waits until n requests in a row are answered 200 by
	// backends of want only, and returns who answered.
	servedBy := func(what string, want ...string) map[string]int {
		t.Helper()
		var seen map[string]int
		waitFor(t, what, func() error {
			seen = map[string]int{}
			for range 10 {
				r, err := get(si.httpV4, "health.test", "/")
				if err != nil {
					return err
				}
				if r.code != 200 || !slices.Contains(want, r.backendName()) {
					return fmt.Errorf("got %v, want 200 from %v", r, want)
				}
				seen[r.backendName()]++
			}
			for _, w := range want {
				if seen[w] == 0 {
					return fmt.Errorf("no answer from %s: %v", w, seen)
				}
			}
			return nil
		})
		return seen
	}
	servedBy("both endpoints to serve", "h1", "h2")

	h1.stop()
	servedBy("the stopped endpoint to leave the rotation", "h2")
	h1.restart(t)
	servedBy("the restarted endpoint to return", "h1", "h2")

	h2.healthy.Store(false)
	servedBy("the endpoint failing its health check to leave the rotation", "h1")
	page := si.metrics(t)
	series := fmt.Sprintf(`signet_ingress_endpoint_healthy{backend="%s/checked:http",endpoint="%s"}`, ns, h2.addr)
	if v := metricValue(page, series); v != 0 {
		t.Errorf("%s = %v, want 0", series, v)
	}
	h1.healthy.Store(false)
	waitForReply(t, si.httpV4, "health.test", "/", status(503))
	h1.healthy.Store(true)
	h2.healthy.Store(true)
	servedBy("both endpoints to return", "h1", "h2")
}

// TestTLS serves two hosts with certificates from Secrets, chosen by SNI
// (one a wildcard), and a host whose Secret is missing with a
// self-signed certificate until the Secret appears.
func TestTLS(t *testing.T) {
	n := newNet(t)
	v4 := n.v4
	const controller = "signet.dev/ingress-tls"
	createClass(t, "tls", controller)
	ns := newNamespace(t, "tls")
	createService(t, ns, "web", []*backend{startBackend(t, n, "web", v4)})
	ca := newTestCA(t)
	crt, key := ca.issue(t, "secure.test")
	createTLSSecret(t, ns, "secure-cert", crt, key)
	wcrt, wkey := ca.issue(t, "*.wild.test")
	createTLSSecret(t, ns, "wild-cert", wcrt, wkey)
	si := startIngress(t, n, controller)

	ing := ingressOf("secure", "tls",
		rule("secure.test", prefix("/", svc("web"))),
		rule("*.wild.test", prefix("/", svc("web"))),
		rule("later.test", prefix("/", svc("web"))))
	ing.Spec.TLS = []networkingv1.IngressTLS{
		{Hosts: []string{"secure.test"}, SecretName: "secure-cert"},
		{Hosts: []string{"*.wild.test"}, SecretName: "wild-cert"},
		{Hosts: []string{"later.test"}, SecretName: "later-cert"},
	}
	createIngress(t, ns, ing)

	verified := func(sni string) *tls.Config {
		return &tls.Config{ServerName: sni, RootCAs: ca.pool, MinVersion: tls.VersionTLS12}
	}
	httpsGet := func(addr proxyAddr, sni string, conf *tls.Config) {
		t.Helper()
		waitFor(t, "HTTPS for "+sni+" via "+addr.String(), func() error {
			r, err := do(addr, sni, "/", conf)
			if err != nil {
				return err
			}
			if err := from("web").check(r); err != nil {
				return err
			}
			if got := r.header.Get("X-Seen-Forwarded-Proto"); got != "https" {
				return fmt.Errorf("X-Forwarded-Proto %q, want https", got)
			}
			return nil
		})
	}
	for _, addr := range []proxyAddr{si.httpsV4, si.httpsV6} {
		httpsGet(addr, "secure.test", verified("secure.test"))
		httpsGet(addr, "a.wild.test", verified("a.wild.test"))
	}

	// The missing Secret: a self-signed certificate naming the host, and
	// the problem on status.
	var cert string
	waitFor(t, "a self-signed certificate for later.test", func() error {
		r, err := do(si.httpsV4, "later.test", "/", &tls.Config{ServerName: "later.test", InsecureSkipVerify: true}) //nolint:gosec // inspected below
		if err != nil {
			return err
		}
		c := r.tlsCert
		if c == nil || !slices.Contains(c.DNSNames, "later.test") {
			return fmt.Errorf("certificate %v", c)
		}
		if err := c.CheckSignatureFrom(ca.cert); err == nil {
			return fmt.Errorf("later.test served a certificate of the test CA")
		}
		cert = c.Subject.String()
		return from("web").check(r)
	})
	if _, err := do(si.httpsV4, "later.test", "/", verified("later.test")); err == nil {
		t.Errorf("the self-signed certificate (%s) verified against the test CA", cert)
	}
	st := waitForStatus(t, ns, "secure", metav1.ConditionFalse, "SecretNotFound")
	if msg := condition(st, networkingv1.IngressConditionAccepted).Message; !strings.HasPrefix(msg,
		`spec.tls[2].secretName: Secret "later-cert" of type kubernetes.io/tls not found in namespace "`+ns+`"; later.test served with a self-signed certificate`) {
		t.Errorf("Accepted message %q", msg)
	}

	// The Secret appears: the host gets it, and the Ingress is accepted.
	lcrt, lkey := ca.issue(t, "later.test")
	createTLSSecret(t, ns, "later-cert", lcrt, lkey)
	httpsGet(si.httpsV4, "later.test", verified("later.test"))
	httpsGet(si.httpsV6, "later.test", verified("later.test"))
	waitForStatus(t, ns, "secure", metav1.ConditionTrue, "Accepted")
}

// TestGracefulShutdown sends SIGTERM while a request is in flight: the
// request completes and signet-ingress exits 0.
func TestGracefulShutdown(t *testing.T) {
	n := newNet(t)
	v4 := n.v4
	const controller = "signet.dev/ingress-shutdown"
	createClass(t, "shutdown", controller)
	ns := newNamespace(t, "shutdown")
	slow := startBackend(t, n, "slow", v4)
	createService(t, ns, "slow", []*backend{slow})
	si := startIngress(t, n, controller)
	createIngress(t, ns, ingressOf("slow", "shutdown", rule("slow.test", prefix("/", svc("slow")))))
	waitForReply(t, si.httpV4, "slow.test", "/", from("slow"))

	done := make(chan reply, 1)
	errs := make(chan error, 1)
	go func() {
		r, err := get(si.httpV4, "slow.test", "/slow")
		if err != nil {
			errs <- err
			return
		}
		done <- r
	}()
	// The backend holds /slow for 2s; stop while it is in flight.
	select {
	case <-slow.slowStarted:
	case err := <-errs:
		t.Fatalf("the slow request failed before SIGTERM: %v", err)
	case <-time.After(convergeTimeout):
		t.Fatal("the slow request never reached the backend")
	}
	if err := si.stop(); err != nil {
		t.Error(err)
	}
	select {
	case r := <-done:
		if err := from("slow").check(r); err != nil {
			t.Errorf("the request in flight at SIGTERM: %v", err)
		}
	case err := <-errs:
		t.Errorf("the request in flight at SIGTERM failed: %v", err)
	}
	if _, err := get(si.httpV4, "slow.test", "/"); err == nil {
		t.Error("signet-ingress still accepts connections after it exited")
	}
}

// TestReplicas runs two replicas: both serve traffic, one writes status,
// and the other takes over when it stops.
func TestReplicas(t *testing.T) {
	n := newNet(t)
	v4 := n.v4
	const controller = "signet.dev/ingress-replicas"
	createClass(t, "replicas", controller)
	ns := newNamespace(t, "replicas")
	createService(t, ns, "web", []*backend{startBackend(t, n, "web", v4)})
	first := startIngress(t, n, controller)
	second := startIngress(t, n, controller)
	createIngress(t, ns, ingressOf("one", "replicas", rule("one.test", prefix("/", svc("web")))))
	for _, si := range []*signetIngress{first, second} {
		waitForReply(t, si.httpV4, "one.test", "/", from("web"))
	}
	waitForStatus(t, ns, "one", metav1.ConditionTrue, "Accepted")

	leader := func(si *signetIngress) float64 { return metricValue(si.metrics(t), "signet_ingress_status_leader") }
	// Exactly one replica holds the lease.
	var lead, follow *signetIngress
	waitFor(t, "one leader", func() error {
		switch l1, l2 := leader(first), leader(second); {
		case l1 == 1 && l2 == 0:
			lead, follow = first, second
		case l1 == 0 && l2 == 1:
			lead, follow = second, first
		default:
			return fmt.Errorf("signet_ingress_status_leader: first %v, second %v", l1, l2)
		}
		return nil
	})

	// The leader stops (and releases the lease): the other one writes.
	if err := lead.stop(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other replica to lead", func() error {
		if l := leader(follow); l != 1 {
			return fmt.Errorf("signet_ingress_status_leader = %v", l)
		}
		return nil
	})
	createIngress(t, ns, ingressOf("two", "replicas", rule("two.test", prefix("/", svc("web")))))
	waitForReply(t, follow.httpV6, "two.test", "/", from("web"))
	waitForStatus(t, ns, "two", metav1.ConditionTrue, "Accepted")
}

// TestWatchNamespace restricts signet-ingress to one namespace.
func TestWatchNamespace(t *testing.T) {
	n := newNet(t)
	v4 := n.v4
	const controller = "signet.dev/ingress-namespaced"
	createClass(t, "namespaced", controller)
	watched, other := newNamespace(t, "watched"), newNamespace(t, "other")
	for _, ns := range []string{watched, other} {
		createService(t, ns, "web", []*backend{startBackend(t, n, "web-"+ns, v4)})
	}
	si := startIngress(t, n, controller, "--watch-namespace="+watched)
	createIngress(t, other, ingressOf("web", "namespaced", rule("other.test", prefix("/", svc("web")))))
	createIngress(t, watched, ingressOf("web", "namespaced", rule("watched.test", prefix("/", svc("web")))))
	waitForReply(t, si.httpV4, "watched.test", "/", from("web-"+watched))
	waitForStatus(t, watched, "web", metav1.ConditionTrue, "Accepted")
	waitForReply(t, si.httpV4, "other.test", "/", status(404))
	if st := getIngress(t, other, "web").Status; len(st.Conditions) != 0 {
		t.Errorf("the Ingress outside --watch-namespace has status %+v", st)
	}
}
