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
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	discoveryv1 "signet.dev/api/discovery/v1"

	"signet.dev/signet/pkg/controller/endpointslice"
)

var ipv4Only = []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4}

// TestLargeServiceSlices puts 250 ready pods behind a new Service: the
// controller must lay them out in exactly ceil(250/100) = 3 slices, each
// endpoint once, with its pod's address, node, zone and topology.
func TestLargeServiceSlices(t *testing.T) {
	ns := newNamespace(t)
	startController(t)
	sel := map[string]string{"app": "large"}
	pods := createReadyPods(t, ns, podNames("large", 0, 250), sel, false)
	svc := createService(t, ns, newService("large", sel))

	slices := waitForSlices(t, ns, svc, pods, ipv4Only, 3)
	total := 0
	for _, s := range slices {
		total += len(s.Endpoints)
	}
	if total != 250 {
		t.Errorf("the slices hold %d endpoints, want 250", total)
	}
}

// TestPodsDeletedSlicesShrink deletes most pods of a Service: their
// endpoints must leave the slices at once, and once the Service has settled
// the remaining endpoints must be compacted into ceil(n/100) slices.
func TestPodsDeletedSlicesShrink(t *testing.T) {
	ns := newNamespace(t)
	startController(t)
	sel := map[string]string{"app": "shrink"}
	names := podNames("shrink", 0, 150)
	pods := createReadyPods(t, ns, names, sel, false)
	svc := createService(t, ns, newService("shrink", sel))
	waitForSlices(t, ns, svc, pods, ipv4Only, 2)

	// Every other pod and five more: both slices lose endpoints, and the
	// 70 left fit in one.
	var doomed []string
	for i, n := range names {
		if i%2 == 0 || i%30 == 1 {
			doomed = append(doomed, n)
		}
	}
	deletePods(t, ns, doomed)
	left := pods.without(doomed...)
	if len(left) != 70 {
		t.Fatalf("test bug: %d pods left, want 70", len(left))
	}
	waitForSlices(t, ns, svc, left, ipv4Only, 0)
	waitForSlices(t, ns, svc, left, ipv4Only, sliceCountFor(len(left)))
}

// TestServiceDeletedSlicesRemoved deletes one of two Services: the
// controller itself must delete its slices (no garbage collector runs
// here), and leave the other Service's slices alone.
func TestServiceDeletedSlicesRemoved(t *testing.T) {
	ns := newNamespace(t)
	startController(t)
	doomedSel := map[string]string{"app": "doomed"}
	keptSel := map[string]string{"app": "kept"}
	doomedPods := createReadyPods(t, ns, podNames("doomed", 0, 120), doomedSel, false)
	keptPods := createReadyPods(t, ns, podNames("kept", 0, 10), keptSel, false)
	doomed := createService(t, ns, newService("doomed", doomedSel))
	kept := createService(t, ns, newService("kept", keptSel))
	waitForSlices(t, ns, doomed, doomedPods, ipv4Only, 2)
	keptBefore := resourceVersions(waitForSlices(t, ns, kept, keptPods, ipv4Only, 1))

	if err := cluster.Kube.CoreV1().Services(ns).Delete(context.Background(), doomed.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("deleting the Service: %v", err)
	}
	waitFor(t, convergeTimeout, "the deleted Service's slices to be deleted", func(ctx context.Context) error {
		slices, err := serviceSlices(ctx, ns, doomed.Name, false)
		if err != nil {
			return err
		}
		if len(slices) > 0 {
			return fmt.Errorf("%d slices left: %v", len(slices), names(slices))
		}
		return nil
	})
	keptAfter, err := serviceSlices(context.Background(), ns, kept.Name, true)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffVersions(keptBefore, resourceVersions(keptAfter)); d != "" {
		t.Errorf("the other Service's slices changed: %s", d)
	}
}

// TestControllerRestartWritesNothing stops a controller whose slices are at
// rest (after a scale-down and its compaction) and starts a new one: the
// new controller must sync every Service and write nothing.
func TestControllerRestartWritesNothing(t *testing.T) {
	ns := newNamespace(t)
	first := startController(t)
	sel := map[string]string{"app": "restart"}
	names := podNames("restart", 0, 180)
	pods := createReadyPods(t, ns, names, sel, false)
	svc := createService(t, ns, newService("restart", sel))
	waitForSlices(t, ns, svc, pods, ipv4Only, 2)
	// Scale down through both slices, so that what the new controller
	// finds is a compacted layout, not a freshly packed one.
	var doomed []string
	for i, n := range names {
		if i%3 == 0 {
			doomed = append(doomed, n)
		}
	}
	deletePods(t, ns, doomed)
	pods = pods.without(doomed...)
	waitForSlices(t, ns, svc, pods, ipv4Only, sliceCountFor(len(pods)))
	// The first controller has nothing left to do: wait past its settle
	// delay and check it stays put, so that any later write is the new
	// controller's.
	time.Sleep(2 * settleDelay)
	before := resourceVersions(waitForSlices(t, ns, svc, pods, ipv4Only, sliceCountFor(len(pods))))
	first.stop()

	second := startController(t)
	waitFor(t, convergeTimeout, "the new controller to sync every Service", func(ctx context.Context) error {
		m := second.metrics(t)
		desired, actual := m.sum(metricDesiredEPs), m.sum(metricActualEndpoints)
		if m.sum(metricSyncCount) == 0 || desired < float64(len(pods)) || desired != actual {
			return fmt.Errorf("syncs: %s; desired endpoints %v, endpoints in slices %v", m.series(metricSyncCount), desired, actual)
		}
		return nil
	})
	// Compaction, the one delayed write, would come within a settle delay
	// of the first sync; give it three.
	time.Sleep(3 * settleDelay)
	after, err := serviceSlices(context.Background(), ns, svc.Name, true)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffVersions(before, resourceVersions(after)); d != "" {
		t.Errorf("the restarted controller wrote slices that were up to date: %s", d)
	}
	if m := second.metrics(t); m.sum(metricChanges) != 0 {
		t.Errorf("the restarted controller reports writes: %s", m.series(metricChanges))
	}

	// The new controller does write when something changes: the metric
	// above could have shown it.
	deletePods(t, ns, names[1:2])
	pods = pods.without(names[1])
	waitForSlices(t, ns, svc, pods, ipv4Only, 0)
	waitForWrites(t, "the restarted controller", second.scrape)
}

// TestDualStackService checks that a dual-stack Service gets slices of
// both families, that turning it single-stack removes the IPv6 slices
// without touching the IPv4 ones, and that turning it dual-stack again
// brings them back.
func TestDualStackService(t *testing.T) {
	ns := newNamespace(t)
	ctrl := startController(t)
	ctx := context.Background()
	sel := map[string]string{"app": "dual"}
	pods := createReadyPods(t, ns, podNames("dual", 0, 30), sel, true)
	svc := newService("dual", sel)
	svc.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
	svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
	svc = createService(t, ns, svc)
	if len(svc.Spec.ClusterIPs) != 2 {
		t.Fatalf("the dual-stack Service got cluster IPs %v, want one of each family", svc.Spec.ClusterIPs)
	}
	both := []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6}
	slices := waitForSlices(t, ns, svc, pods, both, 1)
	v4Before := resourceVersions(ofFamily(slices, discoveryv1.AddressTypeIPv4))
	// The apiserver drops an update that changes nothing, so the
	// resourceVersions alone would not show a needless rewrite: count the
	// controller's updates too.
	updates := metricChanges + `{operation="update"}`
	updatesBefore := ctrl.metrics(t)[updates]

	// Downgrade: kube-apiserver allows RequireDualStack -> SingleStack when
	// the secondary family and cluster IP are removed.
	svc.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicySingleStack)
	svc.Spec.IPFamilies = svc.Spec.IPFamilies[:1]
	svc.Spec.ClusterIPs = svc.Spec.ClusterIPs[:1]
	svc, err := cluster.Kube.CoreV1().Services(ns).Update(ctx, svc, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("making the Service single-stack: %v", err)
	}
	slices = waitForSlices(t, ns, svc, pods, ipv4Only, 1)
	if d := diffVersions(v4Before, resourceVersions(slices)); d != "" {
		t.Errorf("removing IPv6 from the Service rewrote its IPv4 slices: %s", d)
	}
	if n := ctrl.metrics(t)[updates]; n != updatesBefore {
		t.Errorf("removing IPv6 from the Service made %v slice updates, want none", n-updatesBefore)
	}

	// And back: PreferDualStack with both families.
	svc.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyPreferDualStack)
	svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
	svc, err = cluster.Kube.CoreV1().Services(ns).Update(ctx, svc, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("making the Service dual-stack again: %v", err)
	}
	waitForSlices(t, ns, svc, pods, both, 1)
	// The controller creates before it updates: the IPv6 slices can be
	// seen before a needless IPv4 update would be made. Give it time.
	time.Sleep(settleDelay)
	slices, err = serviceSlices(ctx, ns, svc.Name, true)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffVersions(v4Before, resourceVersions(ofFamily(slices, discoveryv1.AddressTypeIPv4))); d != "" {
		t.Errorf("adding IPv6 back to the Service rewrote its IPv4 slices: %s", d)
	}
	if n := ctrl.metrics(t)[updates]; n != updatesBefore {
		t.Errorf("adding IPv6 back to the Service made %v slice updates, want none", n-updatesBefore)
	}
}

// TestForeignSlicesLeftAlone gives a Service a slice managed by someone
// else and a slice that claims this controller as its manager but is not
// owned by the Service. The controller must leave the first alone through
// every sync, including the Service's deletion, and delete the second.
func TestForeignSlicesLeftAlone(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	sel := map[string]string{"app": "foreign"}
	pods := createReadyPods(t, ns, podNames("foreign", 0, 5), sel, false)
	svc := createService(t, ns, newService("foreign", sel))

	foreign := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: "foreign-by-hand",
			Labels: map[string]string{
				discoveryv1.LabelServiceName: svc.Name,
				discoveryv1.LabelManagedBy:   "someone-else.example.com",
			},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{"192.0.2.10"},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
		}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](9090)}},
	}
	foreign, err := cluster.Signet.DiscoveryV1().EndpointSlices(ns).Create(ctx, foreign, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating the foreign slice: %v", err)
	}
	orphan := foreign.DeepCopy()
	orphan.ObjectMeta = metav1.ObjectMeta{
		Name: "foreign-orphan",
		Labels: map[string]string{
			discoveryv1.LabelServiceName: svc.Name,
			discoveryv1.LabelManagedBy:   endpointslice.ControllerName,
		},
	}
	if _, err := cluster.Signet.DiscoveryV1().EndpointSlices(ns).Create(ctx, orphan, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating the unowned managed slice: %v", err)
	}

	startController(t)
	// verifySlices wants every managed slice owned by the Service and no
	// foreign endpoint: the orphan must be gone.
	waitForSlices(t, ns, svc, pods, ipv4Only, 1)
	more := createReadyPods(t, ns, podNames("foreign", 5, 3), sel, false)
	waitForSlices(t, ns, svc, pods.with(more), ipv4Only, 1)
	checkForeign := func(when string) {
		t.Helper()
		got, err := cluster.Signet.DiscoveryV1().EndpointSlices(ns).Get(ctx, foreign.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s: getting the foreign slice: %v", when, err)
		}
		if got.ResourceVersion != foreign.ResourceVersion {
			t.Errorf("%s: the foreign slice was rewritten: %+v", when, got)
		}
	}
	checkForeign("after the Service's syncs")

	if err := cluster.Kube.CoreV1().Services(ns).Delete(ctx, svc.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("deleting the Service: %v", err)
	}
	waitFor(t, convergeTimeout, "the deleted Service's managed slices to be deleted", func(ctx context.Context) error {
		slices, err := serviceSlices(ctx, ns, svc.Name, true)
		if err != nil {
			return err
		}
		if len(slices) > 0 {
			return fmt.Errorf("%d managed slices left: %v", len(slices), names(slices))
		}
		return nil
	})
	checkForeign("after the Service's deletion")
	if _, err := cluster.Signet.DiscoveryV1().EndpointSlices(ns).Get(ctx, orphan.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the unowned managed slice: got error %v, want NotFound", err)
	}
}

func names(slices []discoveryv1.EndpointSlice) []string {
	out := make([]string, 0, len(slices))
	for _, s := range slices {
		out = append(out, s.Name)
	}
	return out
}
