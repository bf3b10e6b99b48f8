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
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	discoveryv1 "signet.dev/api/discovery/v1"
	signetfake "signet.dev/client-go/clientset/versioned/fake"
	signetinformers "signet.dev/client-go/informers/externalversions"
)

var sliceGVR = discoveryv1.SchemeGroupVersion.WithResource("endpointslices")

// testController is a Controller on fake clients whose informers run.
type testController struct {
	*Controller
	kube   *kubefake.Clientset
	signet *signetfake.Clientset
	reg    *prometheus.Registry
	clock  *fakeClock
	ctx    context.Context
}

// newTestController starts informers on fake clients holding the objects
// and waits for them to sync. The signet fake behaves like
// signet-apiserver for slices: it sets the UID, resourceVersion and
// generation (1 on create, bumped when endpoints, ports or address type
// change) and rejects updates with a stale resourceVersion.
func newTestController(t *testing.T, kubeObjs []runtime.Object, slices ...runtime.Object) *testController {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	kube := kubefake.NewClientset(kubeObjs...)
	sc := signetfake.NewSimpleClientset(slices...)
	emulateSliceServer(sc)

	kinf := informers.NewSharedInformerFactory(kube, 0)
	sinf := signetinformers.NewSharedInformerFactory(sc, 0)
	reg := prometheus.NewRegistry()
	clk := newFakeClock()
	c, err := NewController(ctx,
		kinf.Core().V1().Pods(), kinf.Core().V1().Services(), kinf.Core().V1().Nodes(),
		sinf.Discovery().V1().EndpointSlices(), kube, sc,
		ControllerOptions{
			Options:     Options{Clock: clk},
			Registerer:  reg,
			RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Millisecond, 100*time.Millisecond),
		})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.queue.ShutDown)
	kinf.Start(ctx.Done())
	sinf.Start(ctx.Done())
	t.Cleanup(func() { cancel(); kinf.Shutdown(); sinf.Shutdown() })
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		t.Fatal("caches did not sync")
	}
	tc := &testController{Controller: c, kube: kube, signet: sc, reg: reg, clock: clk, ctx: ctx}
	tc.waitSliceCache(t)
	return tc
}

func emulateSliceServer(sc *signetfake.Clientset) {
	var mu sync.Mutex
	rv, uid := 100, 0
	tracker := sc.Tracker()
	sc.PrependReactor("create", "endpointslices", func(a k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		obj := a.(k8stesting.CreateAction).GetObject().(*discoveryv1.EndpointSlice).DeepCopy()
		rv++
		uid++
		obj.Namespace = a.GetNamespace()
		obj.ResourceVersion = strconv.Itoa(rv)
		obj.UID = types.UID(fmt.Sprintf("slice-uid-%d", uid))
		obj.Generation = 1
		if err := tracker.Create(sliceGVR, obj, a.GetNamespace()); err != nil {
			return true, nil, err
		}
		return true, obj.DeepCopy(), nil
	})
	sc.PrependReactor("update", "endpointslices", func(a k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		obj := a.(k8stesting.UpdateAction).GetObject().(*discoveryv1.EndpointSlice).DeepCopy()
		o, err := tracker.Get(sliceGVR, a.GetNamespace(), obj.Name)
		if err != nil {
			return true, nil, err
		}
		old := o.(*discoveryv1.EndpointSlice)
		if obj.ResourceVersion != "" && obj.ResourceVersion != old.ResourceVersion {
			return true, nil, apierrors.NewConflict(sliceGVR.GroupResource(), obj.Name, errors.New("stale resourceVersion"))
		}
		rv++
		obj.ResourceVersion = strconv.Itoa(rv)
		obj.UID = old.UID
		obj.Generation = old.Generation
		if obj.AddressType != old.AddressType ||
			!apiequality.Semantic.DeepEqual(obj.Endpoints, old.Endpoints) ||
			!apiequality.Semantic.DeepEqual(obj.Ports, old.Ports) {
			obj.Generation++
		}
		if err := tracker.Update(sliceGVR, obj, a.GetNamespace()); err != nil {
			return true, nil, err
		}
		return true, obj.DeepCopy(), nil
	})
}

// serverSlices are the slices the fake apiserver holds, by name.
func (tc *testController) serverSlices(t *testing.T) map[string]*discoveryv1.EndpointSlice {
	t.Helper()
	l, err := tc.signet.DiscoveryV1().EndpointSlices(metav1.NamespaceAll).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*discoveryv1.EndpointSlice{}
	for i := range l.Items {
		out[l.Items[i].Namespace+"/"+l.Items[i].Name] = &l.Items[i]
	}
	return out
}

// waitSliceCache waits until the slice cache shows exactly what the fake
// apiserver holds.
func (tc *testController) waitSliceCache(t *testing.T) {
	t.Helper()
	tc.poll(t, "slice cache to catch up", func() bool {
		want := tc.serverSlices(t)
		got, _ := tc.sliceLister.List(everything())
		if len(got) != len(want) {
			return false
		}
		for _, s := range got {
			w := want[s.Namespace+"/"+s.Name]
			if w == nil || w.ResourceVersion != s.ResourceVersion {
				return false
			}
		}
		return true
	})
}

// poll waits for cond with a deadline.
func (tc *testController) poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(tc.ctx, 5*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return cond(), nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// writes counts the create, update and delete actions on slices since the
// last clearActions.
func (tc *testController) writes() (creates, updates, deletes int) {
	for _, a := range tc.signet.Actions() {
		if a.GetResource().Resource != "endpointslices" {
			continue
		}
		switch a.GetVerb() {
		case "create":
			creates++
		case "update", "patch":
			updates++
		case "delete", "deletecollection":
			deletes++
		}
	}
	return
}

func (tc *testController) expectWrites(t *testing.T, creates, updates, deletes int) {
	t.Helper()
	c, u, d := tc.writes()
	if c != creates || u != updates || d != deletes {
		t.Fatalf("writes: got %d creates, %d updates, %d deletes; want %d, %d, %d", c, u, d, creates, updates, deletes)
	}
	tc.signet.ClearActions()
}

// sync runs syncService for the Service and fails on an error.
func (tc *testController) sync(t *testing.T, name string) {
	t.Helper()
	if err := tc.syncService(tc.ctx, testNamespace+"/"+name); err != nil {
		t.Fatalf("syncService(%s): %v", name, err)
	}
}

// metric returns the value of a gauge or counter (summed over labels
// matching the given label value, if any), or of a histogram's count.
func (tc *testController) metric(t *testing.T, name string, labelValue ...string) float64 {
	t.Helper()
	mfs, err := tc.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, want := range labelValue {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetValue() == want {
						found = true
					}
				}
				if !found {
					continue metrics
				}
			}
			switch {
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Histogram != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

func (tc *testController) drainQueue() []string {
	var keys []string
	for tc.queue.Len() > 0 {
		k, _ := tc.queue.Get()
		keys = append(keys, k)
		tc.queue.Forget(k)
		tc.queue.Done(k)
	}
	sort.Strings(keys)
	return keys
}

func everything() labels.Selector { return labels.Everything() }

// webObjects are the Service "web", three ready pods of it on three nodes
// and the nodes.
func webObjects() []runtime.Object {
	objs := []runtime.Object{testService("web")}
	for i := range 3 {
		node := fmt.Sprintf("node-%d", i)
		objs = append(objs,
			testNode(node, "zone-a"),
			testPod("web", fmt.Sprintf("web-%d", i), "", node, fmt.Sprintf("10.0.0.%d", i+1)))
	}
	return objs
}

func managedSlices(m map[string]*discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for _, s := range m {
		if Managed(s) {
			out = append(out, s)
		}
	}
	sortSlices(out)
	return out
}

func TestControllerLifecycle(t *testing.T) {
	tc := newTestController(t, webObjects())
	tc.signet.ClearActions()

	// A Service with 3 pods gets one slice with 3 endpoints.
	tc.sync(t, "web")
	tc.expectWrites(t, 1, 0, 0)
	slices := managedSlices(tc.serverSlices(t))
	if len(slices) != 1 || len(slices[0].Endpoints) != 3 {
		t.Fatalf("want one slice of 3 endpoints, got %v", slices)
	}
	s := slices[0]
	if s.Labels[discoveryv1.LabelServiceName] != "web" || len(s.OwnerReferences) != 1 || s.OwnerReferences[0].UID != testService("web").UID {
		t.Fatalf("slice labels or owner wrong: %v %v", s.Labels, s.OwnerReferences)
	}
	if got := tc.metric(t, "signet_endpointslice_controller_changes_total", "create"); got != 1 {
		t.Errorf("creates metric = %v, want 1", got)
	}
	if got := tc.metric(t, "signet_endpointslice_controller_desired_endpoints"); got != 3 {
		t.Errorf("desired endpoints = %v, want 3", got)
	}
	if got := tc.metric(t, "signet_endpointslice_controller_desired_slices"); got != 1 {
		t.Errorf("desired slices = %v, want 1", got)
	}

	// Once the cache has caught up, a second sync writes nothing.
	tc.waitSliceCache(t)
	tc.sync(t, "web")
	tc.expectWrites(t, 0, 0, 0)
	if n := tc.tracker.pending("default/web"); n != 0 {
		t.Errorf("tracker still waits for %d writes", n)
	}
	if got := tc.metric(t, "signet_endpointslice_controller_slices"); got != 1 {
		t.Errorf("actual slices = %v, want 1", got)
	}
	if got := tc.metric(t, "signet_endpointslice_controller_endpoints"); got != 3 {
		t.Errorf("actual endpoints = %v, want 3", got)
	}

	// A pod deleted: the slice is updated in place.
	if err := tc.kube.CoreV1().Pods(testNamespace).Delete(tc.ctx, "web-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	tc.poll(t, "pod cache", func() bool {
		_, err := tc.podLister.Pods(testNamespace).Get("web-1")
		return apierrors.IsNotFound(err)
	})
	tc.sync(t, "web")
	tc.expectWrites(t, 0, 1, 0)
	slices = managedSlices(tc.serverSlices(t))
	if len(slices) != 1 || slices[0].Name != s.Name || len(slices[0].Endpoints) != 2 {
		t.Fatalf("want slice %s with 2 endpoints, got %v", s.Name, slices)
	}
	for _, ep := range slices[0].Endpoints {
		if ep.TargetRef.Name == "web-1" {
			t.Fatalf("deleted pod still listed: %v", slices[0].Endpoints)
		}
	}
	if slices[0].Generation != 2 {
		t.Errorf("generation = %d, want 2", slices[0].Generation)
	}

	// The Service deleted: its slices are deleted.
	tc.waitSliceCache(t)
	if err := tc.kube.CoreV1().Services(testNamespace).Delete(tc.ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	tc.poll(t, "service cache", func() bool {
		_, err := tc.serviceLister.Services(testNamespace).Get("web")
		return apierrors.IsNotFound(err)
	})
	tc.sync(t, "web")
	tc.expectWrites(t, 0, 0, 1)
	if left := tc.serverSlices(t); len(left) != 0 {
		t.Fatalf("slices left: %v", left)
	}
	if got := tc.metric(t, "signet_endpointslice_controller_desired_endpoints"); got != 0 {
		t.Errorf("desired endpoints = %v, want 0", got)
	}
	if got := tc.metric(t, "signet_endpointslice_controller_changes_total"); got != 3 {
		t.Errorf("changes = %v, want 3", got)
	}
	// Once the cache shows the deletion, another sync writes nothing.
	tc.waitSliceCache(t)
	tc.sync(t, "web")
	tc.expectWrites(t, 0, 0, 0)
}

func TestControllerStaleCache(t *testing.T) {
	tc := newTestController(t, webObjects())
	tc.sync(t, "web")
	tc.waitSliceCache(t)
	tc.signet.ClearActions()
	key := testNamespace + "/web"
	cached, _ := tc.sliceLister.List(everything())
	if len(cached) != 1 {
		t.Fatalf("want 1 cached slice, got %d", len(cached))
	}
	s := cached[0]

	// An update the cache has not seen yet (a later generation): no action.
	written := s.DeepCopy()
	written.Generation++
	tc.tracker.Wrote(key, written)
	// Also a pod change that would otherwise cause a write.
	if err := tc.kube.CoreV1().Pods(testNamespace).Delete(tc.ctx, "web-2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	tc.poll(t, "pod cache", func() bool {
		_, err := tc.podLister.Pods(testNamespace).Get("web-2")
		return apierrors.IsNotFound(err)
	})
	err := tc.syncService(tc.ctx, key)
	if !errors.Is(err, errStaleCache) {
		t.Fatalf("syncService on a stale cache: got %v, want errStaleCache", err)
	}
	tc.expectWrites(t, 0, 0, 0)
	if got := tc.metric(t, "signet_endpointslice_controller_stale_cache_requeues_total"); got != 1 {
		t.Errorf("stale requeues = %v, want 1", got)
	}
	if got := tc.metric(t, "signet_endpointslice_controller_sync_duration_seconds", resultStale); got != 1 {
		t.Errorf("stale sync observations = %v, want 1", got)
	}
	// The worker puts the key back with backoff.
	tc.drainQueue()
	tc.handleErr(tc.ctx, err, key)
	if n := tc.queue.NumRequeues(key); n != 1 {
		t.Errorf("requeues = %d, want 1", n)
	}

	// The slice event that catches the cache up enqueues the Service.
	tc.drainQueue()
	tc.queue.Forget(key)
	bumped := s.DeepCopy()
	bumped.Labels["touch"] = "1"
	bumped.Generation++ // what the tracked write said
	tc.onSliceUpdate(s, bumped)
	if keys := tc.drainQueue(); len(keys) != 1 || keys[0] != key {
		t.Errorf("catching-up event enqueued %v, want [%s]", keys, key)
	}
	if n := tc.tracker.pending(key); n != 0 {
		t.Errorf("tracker still waits for %d writes", n)
	}

	// A slice the controller deleted that the cache still lists: stale.
	tc.tracker.Deleted(key, s)
	if err := tc.syncService(tc.ctx, key); !errors.Is(err, errStaleCache) {
		t.Fatalf("syncService with a deleted slice still cached: got %v, want errStaleCache", err)
	}
	tc.expectWrites(t, 0, 0, 0)
	// A created slice the cache does not list yet: stale.
	tc.tracker.Forget(key)
	tc.tracker.Wrote(key, &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "web-new", UID: "u", Generation: 1}})
	if err := tc.syncService(tc.ctx, key); !errors.Is(err, errStaleCache) {
		t.Fatalf("syncService with a created slice not yet cached: got %v, want errStaleCache", err)
	}
	tc.expectWrites(t, 0, 0, 0)

	// Writes never shown by the cache stop blocking after the timeout.
	tc.tracker.now = func() time.Time { return time.Now().Add(DefaultStaleCacheTimeout + time.Second) }
	tc.sync(t, "web")
	tc.expectWrites(t, 0, 1, 0)
}

func TestControllerAlreadyExists(t *testing.T) {
	tc := newTestController(t, webObjects())
	tc.signet.PrependReactor("create", "endpointslices", func(a k8stesting.Action) (bool, runtime.Object, error) {
		obj := a.(k8stesting.CreateAction).GetObject().(*discoveryv1.EndpointSlice)
		return true, nil, apierrors.NewAlreadyExists(sliceGVR.GroupResource(), obj.Name)
	})
	tc.signet.ClearActions()
	key := testNamespace + "/web"
	err := tc.syncService(tc.ctx, key)
	if !apierrors.IsAlreadyExists(err) {
		t.Fatalf("got %v, want AlreadyExists", err)
	}
	tc.drainQueue()
	tc.handleErr(tc.ctx, err, key)
	if n := tc.queue.NumRequeues(key); n != 1 {
		t.Errorf("requeues = %d, want 1", n)
	}
	if got := tc.metric(t, "signet_endpointslice_controller_sync_duration_seconds", resultError); got != 1 {
		t.Errorf("error sync observations = %v, want 1", got)
	}
	if n := tc.tracker.pending(key); n != 0 {
		t.Errorf("failed create tracked: %d", n)
	}
}

func TestControllerForeignSliceUntouched(t *testing.T) {
	foreign := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-foreign", Namespace: testNamespace, UID: "foreign-uid", Generation: 1, ResourceVersion: "5",
			Labels: map[string]string{
				discoveryv1.LabelServiceName: "web",
				discoveryv1.LabelManagedBy:   "someone-else",
			},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"192.168.0.1"}}},
	}
	tc := newTestController(t, webObjects(), foreign)
	tc.signet.ClearActions()
	tc.sync(t, "web")
	tc.expectWrites(t, 1, 0, 0)
	got := tc.serverSlices(t)[testNamespace+"/web-foreign"]
	if got == nil || !apiequality.Semantic.DeepEqual(got, foreign) {
		t.Fatalf("foreign slice changed: %v", got)
	}
	// Its events do not enqueue the Service.
	tc.drainQueue()
	tc.onSliceAdd(foreign)
	tc.onSliceDelete(cache.DeletedFinalStateUnknown{Key: "default/web-foreign", Obj: foreign})
	if keys := tc.drainQueue(); len(keys) != 0 {
		t.Errorf("foreign slice events enqueued %v", keys)
	}
	// Deleting the Service leaves it alone too.
	tc.waitSliceCache(t)
	if err := tc.kube.CoreV1().Services(testNamespace).Delete(tc.ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	tc.poll(t, "service cache", func() bool {
		_, err := tc.serviceLister.Services(testNamespace).Get("web")
		return apierrors.IsNotFound(err)
	})
	tc.sync(t, "web")
	tc.expectWrites(t, 0, 0, 1)
	left := tc.serverSlices(t)
	if len(left) != 1 || left[testNamespace+"/web-foreign"] == nil {
		t.Fatalf("want only the foreign slice left, got %v", left)
	}
}

func TestControllerMissingNode(t *testing.T) {
	objs := webObjects()
	objs = append(objs, testPod("web", "web-x", "", "node-x", "10.0.0.99"))
	tc := newTestController(t, objs)
	tc.signet.ClearActions()
	key := testNamespace + "/web"
	err := tc.syncService(tc.ctx, key)
	var mn *missingNodesError
	if !errors.As(err, &mn) || len(mn.nodes) != 1 || mn.nodes[0] != "node-x" {
		t.Fatalf("got %v, want missing node-x", err)
	}
	// The plan for the other pods is applied anyway.
	tc.expectWrites(t, 1, 0, 0)
	if got := tc.metric(t, "signet_endpointslice_controller_sync_duration_seconds", resultSuccess); got != 1 {
		t.Errorf("success observations = %v, want 1", got)
	}
	// The node appearing enqueues the Service, which then adds the pod.
	tc.waitSliceCache(t)
	tc.drainQueue()
	if _, err := tc.kube.CoreV1().Nodes().Create(tc.ctx, testNode("node-x", "zone-b"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tc.poll(t, "node event", func() bool { return tc.queue.Len() > 0 })
	if keys := tc.drainQueue(); len(keys) != 1 || keys[0] != key {
		t.Fatalf("node add enqueued %v, want [%s]", keys, key)
	}
	tc.sync(t, "web")
	tc.expectWrites(t, 0, 1, 0)
	if s := managedSlices(tc.serverSlices(t)); len(s) != 1 || len(s[0].Endpoints) != 4 {
		t.Fatalf("want one slice of 4 endpoints, got %v", s)
	}
}

func TestControllerEventHandlers(t *testing.T) {
	other := testService("other")
	noSelector := testService("manual")
	noSelector.Spec.Selector = nil
	objs := append(webObjects(), other, noSelector, testPod("other", "other-0", "", "node-0", "10.0.1.1"))
	tc := newTestController(t, objs)
	tc.drainQueue()
	web, otherKey := testNamespace+"/web", testNamespace+"/other"

	expect := func(what string, want ...string) {
		t.Helper()
		got := tc.drainQueue()
		sort.Strings(want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: enqueued %v, want %v", what, got, want)
		}
	}

	pod := testPod("web", "web-9", "", "node-0", "10.0.0.9")
	tc.onPodAdd(pod)
	expect("pod add", web)

	relabelled := pod.DeepCopy()
	relabelled.ResourceVersion = "2"
	relabelled.Labels["app"] = "other"
	tc.onPodUpdate(pod, relabelled)
	expect("pod relabel", web, otherKey)

	tc.onPodUpdate(pod, pod)
	expect("pod resync")

	tc.onPodDelete(cache.DeletedFinalStateUnknown{Key: "default/web-9", Obj: pod})
	expect("pod tombstone", web)

	tc.onPodAdd(testPod("nobody", "lonely", "", "node-0", "10.0.2.1"))
	expect("unmatched pod")

	tc.onService(cache.DeletedFinalStateUnknown{Key: "default/web", Obj: testService("web")})
	expect("service tombstone", web)

	// node-0 runs web-0 and other-0.
	n0, _ := tc.nodeLister.Get("node-0")
	n0b := n0.DeepCopy()
	n0b.Labels[corev1.LabelTopologyZone] = "zone-z"
	tc.onNodeUpdate(n0, n0b)
	expect("node label change", web, otherKey)
	tc.onNodeUpdate(n0, n0.DeepCopy())
	expect("node unchanged labels")
	n2, _ := tc.nodeLister.Get("node-2")
	tc.onNodeDelete(cache.DeletedFinalStateUnknown{Key: "node-2", Obj: n2})
	expect("node delete", web)
	if !tc.podNodeIndex {
		t.Error("pod node index not added")
	}

	// Managed slices enqueue their Service, except the echo of the
	// controller's own write.
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{
		Name: "web-abc", Namespace: testNamespace, Generation: 1, UID: "s1",
		Labels: map[string]string{discoveryv1.LabelServiceName: "web", discoveryv1.LabelManagedBy: ControllerName},
	}}
	tc.onSliceAdd(slice)
	expect("managed slice add", web)
	tc.tracker.Wrote(web, slice)
	tc.onSliceAdd(slice)
	expect("own write echo")
	moved := slice.DeepCopy()
	moved.Labels[discoveryv1.LabelServiceName] = "other"
	tc.onSliceUpdate(slice, moved)
	expect("slice relabelled", web, otherKey)
	tc.onSliceDelete(cache.DeletedFinalStateUnknown{Key: "default/web-abc", Obj: slice})
	expect("managed slice tombstone", web)
}

// TestControllerRun runs the workers against the informers: the slices
// converge, follow a pod deletion and the controller's own writes cause
// no further writes.
func TestControllerRun(t *testing.T) {
	tc := newTestController(t, webObjects())
	go tc.Run(tc.ctx, 2)
	endpoints := func() int {
		s := managedSlices(tc.serverSlices(t))
		if len(s) != 1 {
			return -1
		}
		return len(s[0].Endpoints)
	}
	tc.poll(t, "3 endpoints", func() bool { return endpoints() == 3 })
	if err := tc.kube.CoreV1().Pods(testNamespace).Delete(tc.ctx, "web-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	tc.poll(t, "2 endpoints", func() bool { return endpoints() == 2 })
	tc.waitSliceCache(t)
	tc.poll(t, "idle queue", func() bool { return tc.queue.Len() == 0 })
	c, u, d := tc.writes()
	if c != 1 || u != 1 || d != 0 {
		t.Errorf("writes: %d creates, %d updates, %d deletes; want 1, 1, 0", c, u, d)
	}
}

func TestNewControllerRejectsBadOptions(t *testing.T) {
	kube := kubefake.NewClientset()
	sc := signetfake.NewSimpleClientset()
	kinf := informers.NewSharedInformerFactory(kube, 0)
	sinf := signetinformers.NewSharedInformerFactory(sc, 0)
	_, err := NewController(context.Background(),
		kinf.Core().V1().Pods(), kinf.Core().V1().Services(), kinf.Core().V1().Nodes(),
		sinf.Discovery().V1().EndpointSlices(), kube, sc,
		ControllerOptions{Options: Options{MaxEndpointsPerSlice: 5000}})
	if err == nil {
		t.Fatal("want an error for 5000 endpoints per slice")
	}
}

// TestControllerRestartWritesNothing starts a second controller on the
// slices a first one wrote: it has no memory of them and writes nothing.
func TestControllerRestartWritesNothing(t *testing.T) {
	tc := newTestController(t, webObjects())
	tc.sync(t, "web")
	var existing []runtime.Object
	for _, s := range tc.serverSlices(t) {
		existing = append(existing, s.DeepCopy())
	}
	if len(existing) != 1 {
		t.Fatalf("want 1 slice, got %d", len(existing))
	}
	restarted := newTestController(t, webObjects(), existing...)
	restarted.signet.ClearActions()
	restarted.sync(t, "web")
	restarted.expectWrites(t, 0, 0, 0)
	if got := restarted.metric(t, "signet_endpointslice_controller_desired_slices"); got != 1 {
		t.Errorf("desired slices = %v, want 1", got)
	}
}

func TestStaleTracker(t *testing.T) {
	now := time.Unix(0, 0)
	tr := newStaleTracker(time.Minute, func() time.Time { return now })
	key := "default/web"
	mk := func(name, uid string, gen int64) *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(uid), Generation: gen}}
	}
	list := func(s ...*discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice { return s }

	// Created a (uid u2) after deleting its namesake (uid u1): the old
	// one in the cache is stale, and its deletion event does not end the
	// wait.
	tr.Wrote(key, mk("a", "u2", 1))
	if !tr.Stale(key, list(mk("a", "u1", 7))) {
		t.Error("older slice of the same name taken for the written one")
	}
	if tr.Observe(key, mk("a", "u1", 7), true) {
		t.Error("deletion of the older slice enqueued")
	}
	// The new one arriving catches up and enqueues the waiting Service.
	if !tr.Observe(key, mk("a", "u2", 1), false) {
		t.Error("catch-up of a waiting Service not enqueued")
	}
	if tr.Stale(key, list(mk("a", "u2", 1))) || tr.pending(key) != 0 {
		t.Error("still stale after catching up")
	}

	// An own update's echo does not enqueue; a later foreign change does.
	tr.Wrote(key, mk("b", "u3", 2))
	if tr.Observe(key, mk("b", "u3", 1), false) {
		t.Error("older state enqueued")
	}
	if tr.Observe(key, mk("b", "u3", 2), false) {
		t.Error("own write echo enqueued")
	}
	tr.Wrote(key, mk("b", "u3", 3))
	if !tr.Observe(key, mk("b", "u3", 4), false) {
		t.Error("foreign change after own write not enqueued")
	}

	// Someone else deleting a written slice ends the wait and enqueues.
	tr.Wrote(key, mk("c", "u4", 1))
	if !tr.Observe(key, mk("c", "u4", 1), true) || tr.pending(key) != 0 {
		t.Error("foreign deletion of a written slice not handled")
	}

	// A deletion is caught up once the cache no longer lists the slice.
	tr.Deleted(key, mk("d", "u5", 1))
	if !tr.Stale(key, list(mk("d", "u5", 1))) {
		t.Error("deleted slice still cached not stale")
	}
	if tr.Stale(key, nil) {
		t.Error("stale after the deletion is cached")
	}

	// Writes older than the timeout are not waited for.
	tr.Wrote(key, mk("e", "u6", 1))
	now = now.Add(2 * time.Minute)
	if tr.Stale(key, nil) || tr.pending(key) != 0 {
		t.Error("timed-out write still waited for")
	}
}
