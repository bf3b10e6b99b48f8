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

package endpointslice

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	discoveryv1 "signet.dev/api/discovery/v1"
)

// env is one test's world: a cluster, a reconciler and its clock.
type env struct {
	t   *testing.T
	c   *cluster
	r   *Reconciler
	clk *fakeClock
}

func newEnv(t *testing.T, svc *corev1.Service) *env {
	t.Helper()
	clk := newFakeClock()
	e := &env{t: t, c: newCluster(svc), r: newTestReconciler(t, clk), clk: clk}
	for i := 0; i < 6; i++ {
		name := fmt.Sprintf("node-%d", i)
		e.c.nodes[name] = testNode(name, []string{"zone-a", "zone-b", "zone-c"}[i%3])
	}
	return e
}

// addPods adds n ready pods of ReplicaSet rs, named <app>-<rs>-<from+i>.
func (e *env) addPods(rs string, from, n int, dual bool) {
	app := e.c.svc.Name
	for i := from; i < from+n; i++ {
		ips := []string{fmt.Sprintf("10.1.%d.%d", i/256, i%256)}
		if dual {
			ips = append(ips, fmt.Sprintf("fd00::1:%x", i))
		}
		name := fmt.Sprintf("%s-%s-%04d", app, rs, i)
		e.c.pods[name] = testPod(app, name, rs, fmt.Sprintf("node-%d", i%6), ips...)
	}
}

// sync reconciles, applies the plan, checks the result and that a second
// reconcile plans nothing, and returns the first plan.
func (e *env) sync() *Plan {
	e.t.Helper()
	p := e.c.reconcile(e.t, e.r)
	e.c.checkConsistent(e.t, e.r.maxPerSlice)
	again := e.r.Reconcile(e.c.svc, e.c.podList(), e.c.sliceList(), e.c.nodeLookup)
	if !again.Empty() {
		e.t.Fatalf("second reconcile is not idempotent: %d creates, %d updates, %d deletes", len(again.Create), len(again.Update), len(again.Delete))
	}
	return p
}

// settle moves the clock past the settle delay and syncs.
func (e *env) settle() *Plan {
	e.t.Helper()
	e.clk.Step(e.r.settleDelay)
	return e.sync()
}

func (e *env) managed() []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for _, s := range e.c.sliceList() {
		if Managed(s) {
			out = append(out, s)
		}
	}
	return out
}

func sizes(slices []*discoveryv1.EndpointSlice) []int {
	var out []int
	for _, s := range slices {
		out = append(out, len(s.Endpoints))
	}
	return out
}

func (e *env) endpoint(fam discoveryv1.AddressType, pod string) *discoveryv1.Endpoint {
	for _, s := range e.c.slices {
		if s.AddressType != fam {
			continue
		}
		for i := range s.Endpoints {
			if s.Endpoints[i].TargetRef.Name == pod {
				return &s.Endpoints[i]
			}
		}
	}
	return nil
}

func counts(p *Plan) string {
	return fmt.Sprintf("%d/%d/%d", len(p.Create), len(p.Update), len(p.Delete))
}

func wantCounts(t *testing.T, p *Plan, want string) {
	t.Helper()
	if got := counts(p); got != want {
		t.Fatalf("creates/updates/deletes = %s, want %s", got, want)
	}
}

func ptrBool(b *bool) string {
	if b == nil {
		return "nil"
	}
	return fmt.Sprint(*b)
}

func TestReconcile(t *testing.T) {
	for _, tc := range []struct {
		name string
		svc  func(*corev1.Service)
		run  func(t *testing.T, e *env)
	}{{
		name: "scale up packs a new service, scale down shrinks and compacts",
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 250, false)
			p := e.sync()
			wantCounts(t, p, "3/0/0")
			if p.Endpoints != 250 || p.Slices != 3 {
				t.Fatalf("plan reports %d endpoints in %d slices, want 250 in 3", p.Endpoints, p.Slices)
			}
			if got := sizes(e.managed()); !cmp.Equal(got, []int{100, 100, 50}) && !cmp.Equal(got, []int{100, 50, 100}) && !cmp.Equal(got, []int{50, 100, 100}) {
				t.Fatalf("slice sizes %v, want two of 100 and one of 50", got)
			}
			for i := 0; i < 200; i++ {
				delete(e.c.pods, fmt.Sprintf("svc-a-%04d", i))
			}
			e.sync()
			e.settle()
			if got := sizes(e.managed()); !cmp.Equal(got, []int{50}) {
				t.Fatalf("after scale down to 50 and settling, slice sizes %v, want [50]", got)
			}
			for i := 0; i < 50; i++ {
				delete(e.c.pods, fmt.Sprintf("svc-a-%04d", 200+i))
			}
			wantCounts(t, e.sync(), "0/0/1")
		},
	}, {
		name: "one new pod next to a full slice creates a small slice and rewrites nothing",
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 100, false)
			wantCounts(t, e.sync(), "1/0/0")
			e.addPods("a", 100, 1, false)
			p := e.sync()
			wantCounts(t, p, "1/0/0")
			if n := len(p.Create[0].Endpoints); n != 1 {
				t.Fatalf("new slice has %d endpoints, want 1", n)
			}
			// 101 endpoints need two slices: nothing to compact later.
			if p.RequeueAfter != 0 {
				t.Fatalf("RequeueAfter = %v, want 0", p.RequeueAfter)
			}
			e.addPods("a", 101, 1, false)
			p = e.sync()
			wantCounts(t, p, "0/1/0")
			if n := len(p.Update[0].Endpoints); n != 2 {
				t.Fatalf("second new pod rewrote a slice of %d endpoints, want 2", n)
			}
		},
	}, {
		name: "churn slices are compacted once settled",
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 100, false)
			e.sync()
			for i := 0; i < 20; i++ {
				e.clk.Step(time.Second)
				e.addPods("a", 100+i, 1, false)
				p := e.sync()
				if len(p.Create)+len(p.Update) != 1 || len(p.Delete) != 0 {
					t.Fatalf("adding one pod: %s, want one write", counts(p))
				}
				for _, s := range append(p.Create, p.Update...) {
					if len(s.Endpoints) > e.r.churnSize {
						t.Fatalf("adding one pod rewrote a slice of %d endpoints", len(s.Endpoints))
					}
				}
			}
			e.clk.Step(e.r.settleDelay / 2)
			if p := e.sync(); !p.Empty() || p.RequeueAfter <= 0 || p.RequeueAfter > e.r.settleDelay/2 {
				t.Fatalf("before the settle delay: %s, requeue %v; want nothing and a requeue within %v", counts(p), p.RequeueAfter, e.r.settleDelay/2)
			}
			e.clk.Step(e.r.settleDelay / 2)
			e.sync()
			if got := sizes(e.managed()); len(got) != 2 {
				t.Fatalf("after settling, slice sizes %v, want 2 slices", got)
			}
			if p := e.settle(); !p.Empty() || p.RequeueAfter != 0 {
				t.Fatalf("after compaction: %s, requeue %v; want nothing", counts(p), p.RequeueAfter)
			}
		},
	}, {
		name: "a service that never settles is compacted after ten settle delays",
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 100, false)
			e.sync()
			for i := 0; i < 20; i++ {
				e.addPods("a", 100+i, 1, false)
				e.sync()
			}
			start := e.clk.Now()
			for len(e.managed()) > 2 {
				if e.clk.Now().Sub(start) > maxCompactionDeferrals*e.r.settleDelay {
					t.Fatalf("not compacted after %v of flapping", e.clk.Now().Sub(start))
				}
				e.clk.Step(e.r.settleDelay / 2)
				c := &e.c.pods["svc-a-0005"].Status.Conditions[0]
				if c.Status == corev1.ConditionTrue {
					c.Status = corev1.ConditionFalse
				} else {
					c.Status = corev1.ConditionTrue
				}
				e.sync()
			}
			if d := e.clk.Now().Sub(start); d < maxCompactionDeferrals*e.r.settleDelay-e.r.settleDelay {
				t.Fatalf("compacted after %v of flapping, before it was overdue", d)
			}
		},
	}, {
		name: "rollout splits an outgoing full slice when it is first rewritten",
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 100, false)
			e.sync()
			e.addPods("b", 100, 1, false)
			wantCounts(t, e.sync(), "1/0/0")
			delete(e.c.pods, "svc-a-0000")
			p := e.sync()
			if len(p.Update) != 1 || len(p.Update[0].Endpoints) > e.r.churnSize || len(p.Delete) != 0 {
				t.Fatalf("first deletion during a rollout: %s, want the full slice split into churn slices", counts(p))
			}
			for i := 1; i < 100; i++ {
				delete(e.c.pods, fmt.Sprintf("svc-a-%04d", (i*37)%100))
				p := e.sync()
				for _, s := range append(append(p.Create, p.Update...), p.Delete...) {
					if len(s.Endpoints) > e.r.churnSize {
						t.Fatalf("deletion %d wrote a slice of %d endpoints", i, len(s.Endpoints))
					}
				}
			}
			e.settle()
			if got := sizes(e.managed()); !cmp.Equal(got, []int{1}) {
				t.Fatalf("after the rollout, slice sizes %v, want [1]", got)
			}
		},
	}, {
		name: "endpoints of different replicasets stay apart during a rollout",
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 10, false)
			e.sync()
			e.addPods("b", 10, 10, false)
			e.sync()
			for _, s := range e.managed() {
				rs := ""
				for _, ep := range s.Endpoints {
					r := e.c.pods[ep.TargetRef.Name].Labels[LabelPodTemplateHash]
					if rs != "" && r != rs {
						t.Fatalf("slice %s mixes replicasets %s and %s", s.Name, rs, r)
					}
					rs = r
				}
			}
		},
	}, {
		name: "port change rewrites slices in place",
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 150, false)
			e.sync()
			e.c.svc.Spec.Ports[0].TargetPort = intstr.FromInt32(9090)
			p := e.sync()
			wantCounts(t, p, "0/2/0")
			for _, s := range e.managed() {
				if *s.Ports[0].Port != 9090 {
					t.Fatalf("slice %s has port %d, want 9090", s.Name, *s.Ports[0].Port)
				}
			}
		},
	}, {
		name: "named target ports that differ between pods go to different slices",
		svc: func(s *corev1.Service) {
			s.Spec.Ports[0].TargetPort = intstr.FromString("http")
		},
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 4, false)
			e.c.pods["svc-a-0001"].Spec.Containers[0].Ports[0].ContainerPort = 9090
			e.c.pods["svc-a-0003"].Spec.Containers[0].Ports[0].ContainerPort = 9090
			e.sync()
			got := map[int32][]string{}
			for _, s := range e.managed() {
				for _, ep := range s.Endpoints {
					got[*s.Ports[0].Port] = append(got[*s.Ports[0].Port], ep.TargetRef.Name)
				}
			}
			want := map[int32][]string{8080: {"svc-a-0000", "svc-a-0002"}, 9090: {"svc-a-0001", "svc-a-0003"}}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("endpoints by port (-want +got):\n%s", d)
			}
			// A pod that no longer declares the named port is served
			// without that port.
			e.c.pods["svc-a-0000"].Spec.Containers[0].Ports = nil
			e.sync()
			for _, s := range e.managed() {
				if len(s.Ports) == 0 && (len(s.Endpoints) != 1 || s.Endpoints[0].TargetRef.Name != "svc-a-0000") {
					t.Fatalf("port-less slice holds %v", s.Endpoints)
				}
			}
		},
	}, {
		name: "family added then removed",
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 120, true)
			e.sync()
			for _, s := range e.managed() {
				if s.AddressType != discoveryv1.AddressTypeIPv4 {
					t.Fatalf("IPv4-only service has a %s slice", s.AddressType)
				}
			}
			e.c.svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
			p := e.sync()
			wantCounts(t, p, "2/0/0")
			for _, s := range p.Create {
				if s.AddressType != discoveryv1.AddressTypeIPv6 {
					t.Fatalf("created a %s slice, want IPv6", s.AddressType)
				}
				for _, ep := range s.Endpoints {
					if ep.Addresses[0][:4] != "fd00" {
						t.Fatalf("IPv6 slice holds %v", ep.Addresses)
					}
				}
			}
			e.c.svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
			p = e.sync()
			wantCounts(t, p, "0/0/2")
			for _, s := range p.Delete {
				if s.AddressType != discoveryv1.AddressTypeIPv6 {
					t.Fatalf("deleted a %s slice, want IPv6", s.AddressType)
				}
			}
		},
	}, {
		name: "pods without an address of a family are left out of it",
		svc: func(s *corev1.Service) {
			s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol, corev1.IPv4Protocol}
		},
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 3, true)
			e.addPods("a", 3, 2, false)
			e.sync()
			n := map[discoveryv1.AddressType]int{}
			for _, s := range e.managed() {
				n[s.AddressType] += len(s.Endpoints)
			}
			if n[discoveryv1.AddressTypeIPv4] != 5 || n[discoveryv1.AddressTypeIPv6] != 3 {
				t.Fatalf("endpoints by family %v, want 5 IPv4 and 3 IPv6", n)
			}
		},
	}, {
		name: "node label change updates topology in place",
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 30, false)
			e.sync()
			ep := e.endpoint(discoveryv1.AddressTypeIPv4, "svc-a-0001")
			want := map[string]string{corev1.LabelHostname: "node-1", corev1.LabelTopologyZone: "zone-b", corev1.LabelTopologyRegion: "region-1"}
			if d := cmp.Diff(want, ep.Topology); d != "" || *ep.Zone != "zone-b" || *ep.NodeName != "node-1" {
				t.Fatalf("topology (-want +got):\n%s zone %s node %s", d, *ep.Zone, *ep.NodeName)
			}
			e.c.nodes["node-1"].Labels[corev1.LabelTopologyZone] = "zone-z"
			wantCounts(t, e.sync(), "0/1/0")
			ep = e.endpoint(discoveryv1.AddressTypeIPv4, "svc-a-0001")
			if *ep.Zone != "zone-z" || ep.Topology[corev1.LabelTopologyZone] != "zone-z" {
				t.Fatalf("after relabel zone %s topology %v, want zone-z", *ep.Zone, ep.Topology)
			}
		},
	}, {
		name: "terminating pods are serving but not ready",
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 2, false)
			e.c.pods["svc-a-0001"].Status.Conditions[0].Status = corev1.ConditionFalse
			e.sync()
			ep := e.endpoint(discoveryv1.AddressTypeIPv4, "svc-a-0001")
			if ptrBool(ep.Conditions.Ready) != "false" || ptrBool(ep.Conditions.Serving) != "false" || ptrBool(ep.Conditions.Terminating) != "false" {
				t.Fatalf("not-ready pod: ready %s serving %s terminating %s", ptrBool(ep.Conditions.Ready), ptrBool(ep.Conditions.Serving), ptrBool(ep.Conditions.Terminating))
			}
			now := metav1.NewTime(e.clk.Now())
			e.c.pods["svc-a-0000"].DeletionTimestamp = &now
			wantCounts(t, e.sync(), "0/1/0")
			ep = e.endpoint(discoveryv1.AddressTypeIPv4, "svc-a-0000")
			if ptrBool(ep.Conditions.Ready) != "false" || ptrBool(ep.Conditions.Serving) != "true" || ptrBool(ep.Conditions.Terminating) != "true" {
				t.Fatalf("terminating pod: ready %s serving %s terminating %s", ptrBool(ep.Conditions.Ready), ptrBool(ep.Conditions.Serving), ptrBool(ep.Conditions.Terminating))
			}
			e.c.svc.Spec.PublishNotReadyAddresses = true
			e.sync()
			for _, name := range []string{"svc-a-0000", "svc-a-0001"} {
				if ep := e.endpoint(discoveryv1.AddressTypeIPv4, name); ptrBool(ep.Conditions.Ready) != "true" {
					t.Fatalf("%s with publishNotReadyAddresses: ready %s, want true", name, ptrBool(ep.Conditions.Ready))
				}
			}
		},
	}, {
		name: "pods that cannot serve are skipped",
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 5, false)
			e.c.pods["svc-a-0000"].Status.PodIPs, e.c.pods["svc-a-0000"].Status.PodIP = nil, ""
			e.c.pods["svc-a-0001"].Labels["app"] = "other"
			e.c.pods["svc-a-0002"].Status.Phase = corev1.PodSucceeded
			e.c.pods["svc-a-0003"].Spec.NodeName = "gone"
			p := e.r.Reconcile(e.c.svc, e.c.podList(), nil, e.c.nodeLookup)
			if len(p.Create) != 1 || len(p.Create[0].Endpoints) != 1 || p.Create[0].Endpoints[0].TargetRef.Name != "svc-a-0004" {
				t.Fatalf("plan %s, want one slice with svc-a-0004 only", counts(p))
			}
			if !cmp.Equal(p.MissingNodes, []string{"gone"}) {
				t.Fatalf("MissingNodes = %v, want [gone]", p.MissingNodes)
			}
		},
	}, {
		name: "hostname is published for headless services only",
		svc: func(s *corev1.Service) {
			s.Spec.ClusterIP = corev1.ClusterIPNone
		},
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 2, false)
			e.c.pods["svc-a-0000"].Spec.Hostname, e.c.pods["svc-a-0000"].Spec.Subdomain = "h0", "svc"
			e.c.pods["svc-a-0001"].Spec.Hostname, e.c.pods["svc-a-0001"].Spec.Subdomain = "h1", "elsewhere"
			e.sync()
			if ep := e.endpoint(discoveryv1.AddressTypeIPv4, "svc-a-0000"); ep.Hostname == nil || *ep.Hostname != "h0" {
				t.Fatalf("hostname %v, want h0", ep.Hostname)
			}
			if ep := e.endpoint(discoveryv1.AddressTypeIPv4, "svc-a-0001"); ep.Hostname != nil {
				t.Fatalf("hostname %v for another subdomain, want none", *ep.Hostname)
			}
			if _, ok := e.managed()[0].Labels[corev1.IsHeadlessService]; !ok {
				t.Fatalf("headless slice lacks the %s label", corev1.IsHeadlessService)
			}
			e.c.svc.Spec.ClusterIP = "10.96.0.11"
			e.sync()
			if ep := e.endpoint(discoveryv1.AddressTypeIPv4, "svc-a-0000"); ep.Hostname != nil {
				t.Fatalf("hostname %v on a ClusterIP service, want none", *ep.Hostname)
			}
		},
	}, {
		name: "labels and owner of slices",
		svc: func(s *corev1.Service) {
			s.Labels = map[string]string{"team": "x", discoveryv1.LabelManagedBy: "spoof"}
		},
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 1, false)
			e.sync()
			s := e.managed()[0]
			want := map[string]string{"team": "x", discoveryv1.LabelServiceName: "svc", discoveryv1.LabelManagedBy: ControllerName}
			if d := cmp.Diff(want, s.Labels); d != "" {
				t.Fatalf("labels (-want +got):\n%s", d)
			}
			if len(s.OwnerReferences) != 1 || s.OwnerReferences[0].UID != e.c.svc.UID || s.OwnerReferences[0].Controller == nil || !*s.OwnerReferences[0].Controller {
				t.Fatalf("owner references %+v, want the Service as controller", s.OwnerReferences)
			}
			e.c.svc.Labels["team"] = "y"
			wantCounts(t, e.sync(), "0/1/0")
		},
	}, {
		name: "foreign slices are left alone, stale ones of ours removed",
		run: func(t *testing.T, e *env) {
			foreign := &discoveryv1.EndpointSlice{
				ObjectMeta: metav1.ObjectMeta{Name: "svc-manual", Namespace: testNamespace, Labels: map[string]string{
					discoveryv1.LabelServiceName: "svc", discoveryv1.LabelManagedBy: "someone-else",
				}},
				AddressType: discoveryv1.AddressTypeIPv4,
				Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"192.0.2.1"}}},
			}
			orphan := &discoveryv1.EndpointSlice{
				ObjectMeta: metav1.ObjectMeta{Name: "svc-old", Namespace: testNamespace, Labels: map[string]string{
					discoveryv1.LabelServiceName: "svc", discoveryv1.LabelManagedBy: ControllerName,
				}, OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: "svc", UID: "previous"}}},
				AddressType: discoveryv1.AddressTypeIPv4,
			}
			e.c.slices[foreign.Name] = foreign
			e.c.slices[orphan.Name] = orphan
			e.addPods("a", 0, 3, false)
			p := e.sync()
			wantCounts(t, p, "1/0/1")
			if p.Delete[0].Name != "svc-old" {
				t.Fatalf("deleted %s, want svc-old", p.Delete[0].Name)
			}
			if _, ok := e.c.slices["svc-manual"]; !ok {
				t.Fatal("foreign slice was removed")
			}
			e.c.apply(t, e.r.ReconcileDeleted(testNamespace, "svc", e.c.sliceList()))
			if len(e.managed()) != 0 || len(e.c.slices) != 1 {
				t.Fatalf("after the service is deleted %d slices remain, want only the foreign one", len(e.c.slices))
			}
		},
	}, {
		name: "idempotent: reconciling the written slices plans nothing",
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 230, true)
			e.c.svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
			e.sync()
			e.addPods("b", 230, 12, true)
			delete(e.c.pods, "svc-a-0003")
			e.sync()
			for i := 0; i < 3; i++ {
				if p := e.c.reconcile(t, e.r); !p.Empty() {
					t.Fatalf("reconcile %d of an unchanged world: %s", i, counts(p))
				}
			}
		},
	}, {
		name: "deleted service: every managed slice is deleted",
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 250, true)
			e.c.svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol, corev1.IPv4Protocol}
			e.sync()
			p := e.r.ReconcileDeleted(testNamespace, "svc", e.c.sliceList())
			wantCounts(t, p, "0/0/6")
			e.c.apply(t, p)
			if len(e.c.slices) != 0 {
				t.Fatalf("%d slices left", len(e.c.slices))
			}
		},
	}, {
		name: "service without selector loses its managed slices",
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 3, false)
			e.sync()
			e.c.svc.Spec.Selector = nil
			wantCounts(t, e.c.reconcile(t, e.r), "0/0/1")
		},
	}, {
		name: "an endpoint found in two slices is kept once",
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 3, false)
			e.sync()
			s := e.managed()[0].DeepCopy()
			s.Name = "svc-dup"
			s.Endpoints = s.Endpoints[:1]
			e.c.slices[s.Name] = s
			wantCounts(t, e.sync(), "0/0/1")
		},
	}, {
		name: "slices above a lowered maximum are split",
		run: func(t *testing.T, e *env) {
			e.addPods("a", 0, 100, false)
			e.sync()
			r, err := NewReconciler(Options{MaxEndpointsPerSlice: 40, Clock: e.clk})
			if err != nil {
				t.Fatal(err)
			}
			e.r = r
			wantCounts(t, e.sync(), "2/1/0")
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			svc := testService("svc")
			if tc.svc != nil {
				tc.svc(svc)
			}
			tc.run(t, newEnv(t, svc))
		})
	}
}

func TestReconcileDeterministic(t *testing.T) {
	build := func(seed int64) *Plan {
		e := newEnv(t, testService("svc"))
		e.addPods("a", 0, 130, true)
		e.c.svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
		e.sync()
		e.addPods("b", 130, 40, true)
		for i := 0; i < 30; i++ {
			delete(e.c.pods, fmt.Sprintf("svc-a-%04d", i*3))
		}
		pods, slices := e.c.podList(), e.c.sliceList()
		rng := rand.New(rand.NewSource(seed))
		rng.Shuffle(len(pods), func(i, j int) { pods[i], pods[j] = pods[j], pods[i] })
		rng.Shuffle(len(slices), func(i, j int) { slices[i], slices[j] = slices[j], slices[i] })
		return e.r.Reconcile(e.c.svc, pods, slices, e.c.nodeLookup)
	}
	a, b := build(1), build(2)
	if a.Empty() {
		t.Fatal("plan is empty; the test exercises nothing")
	}
	if d := cmp.Diff(a, b); d != "" {
		t.Fatalf("same input in another order gave another plan (-first +second):\n%s", d)
	}
}

func TestNewReconcilerLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		ok   bool
	}{
		{"defaults", Options{}, true},
		{"max 1000", Options{MaxEndpointsPerSlice: 1000}, true},
		{"max above 1000", Options{MaxEndpointsPerSlice: 1001}, false},
		{"negative max", Options{MaxEndpointsPerSlice: -1}, false},
		{"churn above max", Options{MaxEndpointsPerSlice: 10, ChurnSliceSize: 11}, false},
		{"negative settle delay", Options{SettleDelay: -time.Second}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReconciler(tc.opts)
			if (err == nil) != tc.ok {
				t.Fatalf("NewReconciler error = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestReconcileRandomEvents applies seeded random pod, node and Service
// changes, with random clock steps, and checks after each reconcile that
// the slices hold exactly the endpoints the pods imply and that a second
// reconcile plans nothing.
func TestReconcileRandomEvents(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewSource(seed))
			e := newEnv(t, testService("svc"))
			e.c.svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
			e.addPods("a", 0, 150, true)
			next := 150
			rs := []string{"a", "b", "c"}
			for step := 0; step < 300; step++ {
				names := make([]string, 0, len(e.c.pods))
				for _, p := range e.c.podList() {
					names = append(names, p.Name)
				}
				switch k := rng.Intn(20); {
				case k < 7:
					e.addPods(rs[rng.Intn(len(rs))], next, 1+rng.Intn(3), rng.Intn(4) > 0)
					next += 3
				case k < 13 && len(names) > 0:
					delete(e.c.pods, names[rng.Intn(len(names))])
				case k < 15 && len(names) > 0:
					p := e.c.pods[names[rng.Intn(len(names))]]
					if p.Status.Conditions[0].Status == corev1.ConditionTrue {
						p.Status.Conditions[0].Status = corev1.ConditionFalse
					} else {
						p.Status.Conditions[0].Status = corev1.ConditionTrue
					}
				case k == 15 && len(names) > 0:
					now := metav1.NewTime(e.clk.Now())
					e.c.pods[names[rng.Intn(len(names))]].DeletionTimestamp = &now
				case k == 16:
					e.c.nodes[fmt.Sprintf("node-%d", rng.Intn(6))].Labels[corev1.LabelTopologyZone] = fmt.Sprint("zone-", rng.Intn(4))
				case k == 17:
					e.c.svc.Spec.Ports[0].TargetPort = intstr.FromInt32(int32(8080 + rng.Intn(2)))
				case k == 18:
					fams := [][]corev1.IPFamily{{corev1.IPv4Protocol}, {corev1.IPv6Protocol}, {corev1.IPv4Protocol, corev1.IPv6Protocol}}
					e.c.svc.Spec.IPFamilies = fams[rng.Intn(len(fams))]
				default:
					e.clk.Step(e.r.settleDelay)
				}
				e.clk.Step(time.Duration(rng.Intn(10)) * time.Second)
				e.sync()
			}
			e.clk.Step(e.r.settleDelay)
			e.sync()
			for _, fam := range serviceFamilies(e.c.svc) {
				byPorts := map[string]int{}
				n := map[string]int{}
				for _, s := range e.managed() {
					if s.AddressType == fam {
						byPorts[portsKey(s.Ports)]++
						n[portsKey(s.Ports)] += len(s.Endpoints)
					}
				}
				for k, slices := range byPorts {
					if want := (n[k] + 99) / 100; slices != want {
						t.Errorf("%s %s: %d slices at rest for %d endpoints, want %d", fam, k, slices, n[k], want)
					}
				}
			}
		})
	}
}
