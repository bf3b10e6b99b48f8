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
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	discoveryv1 "signet.dev/api/discovery/v1"
)

// fakeClock is a Clock the test moves by hand.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time       { return c.now }
func (c *fakeClock) Step(d time.Duration) { c.now = c.now.Add(d) }
func newFakeClock() *fakeClock            { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }
func newTestReconciler(t *testing.T, c Clock) *Reconciler {
	t.Helper()
	r, err := NewReconciler(Options{Clock: c})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// cluster is an in-memory world: a Service, its pods, nodes, and the
// slices a controller would have written by applying plans.
type cluster struct {
	svc    *corev1.Service
	pods   map[string]*corev1.Pod
	nodes  map[string]*corev1.Node
	slices map[string]*discoveryv1.EndpointSlice
	rv     int

	creates, updates, deletes int
	bytes                     int
}

func newCluster(svc *corev1.Service) *cluster {
	return &cluster{svc: svc, pods: map[string]*corev1.Pod{}, nodes: map[string]*corev1.Node{}, slices: map[string]*discoveryv1.EndpointSlice{}}
}

func (c *cluster) nodeLookup(name string) (*corev1.Node, bool) {
	n, ok := c.nodes[name]
	return n, ok
}

func (c *cluster) podList() []*corev1.Pod {
	out := make([]*corev1.Pod, 0, len(c.pods))
	for _, p := range c.pods {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (c *cluster) sliceList() []*discoveryv1.EndpointSlice {
	out := make([]*discoveryv1.EndpointSlice, 0, len(c.slices))
	for _, s := range c.slices {
		out = append(out, s.DeepCopy())
	}
	sortSlices(out)
	return out
}

func jsonSize(t testing.TB, v any) int {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

// reconcile runs the reconciler on the cluster and applies the plan,
// counting writes and bytes.
func (c *cluster) reconcile(t testing.TB, r *Reconciler) *Plan {
	t.Helper()
	p := r.Reconcile(c.svc, c.podList(), c.sliceList(), c.nodeLookup)
	c.apply(t, p)
	return p
}

func (c *cluster) apply(t testing.TB, p *Plan) {
	t.Helper()
	for _, s := range p.Create {
		if _, ok := c.slices[s.Name]; ok {
			t.Fatalf("create of existing slice %s", s.Name)
		}
		c.rv++
		s = s.DeepCopy()
		s.ResourceVersion = fmt.Sprint(c.rv)
		c.slices[s.Name] = s
		c.creates++
		c.bytes += jsonSize(t, s)
	}
	for _, s := range p.Update {
		if _, ok := c.slices[s.Name]; !ok {
			t.Fatalf("update of missing slice %s", s.Name)
		}
		c.rv++
		s = s.DeepCopy()
		s.ResourceVersion = fmt.Sprint(c.rv)
		c.slices[s.Name] = s
		c.updates++
		c.bytes += jsonSize(t, s)
	}
	for _, s := range p.Delete {
		last, ok := c.slices[s.Name]
		if !ok {
			t.Fatalf("delete of missing slice %s", s.Name)
		}
		delete(c.slices, s.Name)
		c.deletes++
		c.bytes += jsonSize(t, last)
	}
}

func (c *cluster) resetCounters() { c.creates, c.updates, c.deletes, c.bytes = 0, 0, 0, 0 }

// checkConsistent fails unless the managed slices hold exactly one endpoint
// per pod and family that the pods imply, no slice is over the maximum and
// every slice holds one family.
func (c *cluster) checkConsistent(t testing.TB, max int) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range c.slices {
		if !Managed(s) {
			continue
		}
		if len(s.Endpoints) > max {
			t.Errorf("slice %s has %d endpoints, max %d", s.Name, len(s.Endpoints), max)
		}
		if len(s.Endpoints) == 0 {
			t.Errorf("slice %s is empty", s.Name)
		}
		for _, ep := range s.Endpoints {
			k := string(s.AddressType) + "/" + ep.TargetRef.Name
			if seen[k] {
				t.Errorf("endpoint %s appears twice", k)
			}
			seen[k] = true
			if _, ok := c.pods[ep.TargetRef.Name]; !ok {
				t.Errorf("endpoint %s has no pod", k)
			}
		}
	}
	want := 0
	for _, fam := range serviceFamilies(c.svc) {
		for _, p := range c.pods {
			if p.Labels["app"] == c.svc.Spec.Selector["app"] && p.Status.Phase == corev1.PodRunning {
				want += len(podAddresses(p, fam))
			}
		}
	}
	if len(seen) != want {
		t.Errorf("slices hold %d endpoints, pods imply %d", len(seen), want)
	}
}

const testNamespace = "default"

func testService(name string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace, UID: types.UID("uid-svc-" + name)},
		Spec: corev1.ServiceSpec{
			Selector:   map[string]string{"app": name},
			ClusterIP:  "10.96.0.10",
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
			Ports: []corev1.ServicePort{{
				Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(8080),
			}},
		},
	}
}

func testNode(name, zone string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
		corev1.LabelHostname:       name,
		corev1.LabelTopologyZone:   zone,
		corev1.LabelTopologyRegion: "region-1",
	}}}
}

// testPod returns a ready pod of the app on the node with the given IPs.
func testPod(app, name, rs, node string, ips ...string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: testNamespace, UID: types.UID("uid-" + name),
			Labels: map[string]string{"app": app},
		},
		Spec: corev1.PodSpec{
			NodeName:   node,
			Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}},
		},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		},
	}
	if rs != "" {
		p.Labels[LabelPodTemplateHash] = rs
	}
	for _, ip := range ips {
		p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: ip})
	}
	if len(ips) > 0 {
		p.Status.PodIP = ips[0]
	}
	return p
}

// rolloutResult is what a replayed rollout cost.
type rolloutResult struct {
	creates, updates, deletes int
	bytesWritten              int
	bytesToWatchers           int
	lowerBound                int
	endpointChanges           int
	finalSlices               int
}

const watchers = 1000

// replayRollout replays a rollout of a Service of n ready pods on n nodes
// in 3 zones into the reconciler: each step adds `step` pods of a new
// ReplicaSet one at a time, then deletes `step` old pods one at a time in
// a seeded random order, with one reconcile after each pod event; at the
// end the clock passes the settle delay and one more reconcile runs. step
// 1 is the one-at-a-time rollout, step n/4 the 4-step one. The clock
// moves by tick after each event.
func replayRollout(t testing.TB, n, step int, tick time.Duration, opts Options) rolloutResult {
	t.Helper()
	clk := newFakeClock()
	opts.Clock = clk
	r, err := NewReconciler(opts)
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(testService("web"))
	zones := []string{"zone-a", "zone-b", "zone-c"}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("node-%04d", i)
		c.nodes[name] = testNode(name, zones[i%3])
	}
	ip := func(gen, i int) string { return fmt.Sprintf("10.%d.%d.%d", 64+gen, i/256, i%256) }
	var old []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("web-6d4cf56db6-%05d", i)
		c.pods[name] = testPod("web", name, "6d4cf56db6", fmt.Sprintf("node-%04d", i), ip(0, i))
		old = append(old, name)
	}
	c.reconcile(t, r)
	clk.Step(time.Hour)
	c.reconcile(t, r)
	c.resetCounters()

	rng := rand.New(rand.NewSource(1))
	rng.Shuffle(len(old), func(i, j int) { old[i], old[j] = old[j], old[i] })
	changes := 0
	added := 0
	for added < n {
		for i := 0; i < step && added < n; i++ {
			name := fmt.Sprintf("web-7f9b8c4d5e-%05d", added)
			c.pods[name] = testPod("web", name, "7f9b8c4d5e", fmt.Sprintf("node-%04d", (added*7)%n), ip(1, added))
			added++
			changes++
			clk.Step(tick)
			c.reconcile(t, r)
			if step == 1 {
				break
			}
		}
		for i := 0; i < step && len(old) > 0; i++ {
			delete(c.pods, old[0])
			old = old[1:]
			changes++
			clk.Step(tick)
			c.reconcile(t, r)
			if step == 1 {
				break
			}
		}
	}
	for len(old) > 0 {
		delete(c.pods, old[0])
		old = old[1:]
		changes++
		c.reconcile(t, r)
	}
	clk.Step(r.settleDelay + time.Second)
	c.reconcile(t, r)
	c.checkConsistent(t, r.maxPerSlice)

	// One endpoint entry, as written: the first of the first slice.
	one := c.sliceList()[0].Endpoints[0]
	res := rolloutResult{
		creates: c.creates, updates: c.updates, deletes: c.deletes,
		bytesWritten:    c.bytes,
		bytesToWatchers: c.bytes * watchers,
		endpointChanges: changes,
		lowerBound:      changes * jsonSize(t, one) * watchers,
		finalSlices:     len(c.slices),
	}
	return res
}
