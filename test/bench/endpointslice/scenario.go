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

package main

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	namespace   = "default"
	serviceName = "web"
	oldHash     = "6d4cf56db6"
	newHash     = "7f9b8c4d5e"
	// podTemplateHash is the label a Deployment puts on its pods to tell
	// its ReplicaSets apart.
	podTemplateHash = "pod-template-hash"
	region          = "region-1"
)

var zones = []string{"zone-a", "zone-b", "zone-c"}

// fakeClock is a clock moved by hand.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time       { return c.now }
func (c *fakeClock) Step(d time.Duration) { c.now = c.now.Add(d) }

// world is the cluster the implementations reconcile: one Service, its
// nodes and its current pods.
type world struct {
	clock *fakeClock
	svc   *corev1.Service
	nodes map[string]*corev1.Node
	pods  map[string]*corev1.Pod
}

func newWorld(n int) *world {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := &world{
		clock: &fakeClock{now: start},
		svc: &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{
				Name: serviceName, Namespace: namespace, UID: types.UID("uid-svc-" + serviceName),
				CreationTimestamp: metav1.NewTime(start.Add(-time.Hour)),
			},
			Spec: corev1.ServiceSpec{
				Selector:   map[string]string{"app": serviceName},
				ClusterIP:  "10.96.0.10",
				ClusterIPs: []string{"10.96.0.10"},
				IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
				Ports: []corev1.ServicePort{{
					Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(8080),
				}},
			},
		},
		nodes: make(map[string]*corev1.Node, n),
		pods:  make(map[string]*corev1.Pod, 2*n),
	}
	for i := 0; i < n; i++ {
		name := nodeName(i)
		w.nodes[name] = &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			corev1.LabelHostname:       name,
			corev1.LabelTopologyZone:   zones[i%len(zones)],
			corev1.LabelTopologyRegion: region,
		}}}
	}
	for i := 0; i < n; i++ {
		w.addPod(oldHash, i, start.Add(-time.Hour))
	}
	return w
}

func nodeName(i int) string { return fmt.Sprintf("node-%04d", i) }

func podName(hash string, i int) string { return fmt.Sprintf("%s-%s-%05d", serviceName, hash, i) }

// podIP gives each ReplicaSet its own /16.
func podIP(hash string, i int) string {
	second := 64
	if hash == newHash {
		second = 65
	}
	return fmt.Sprintf("10.%d.%d.%d", second, i/256, i%256)
}

// addPod adds the i-th ready pod of the ReplicaSet, on node i, ready
// since readySince.
func (w *world) addPod(hash string, i int, readySince time.Time) {
	name := podName(hash, i)
	ip := podIP(hash, i)
	w.pods[name] = &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: namespace, UID: types.UID("uid-" + name),
			Labels:            map[string]string{"app": serviceName, podTemplateHash: hash},
			CreationTimestamp: metav1.NewTime(readySince),
		},
		Spec: corev1.PodSpec{
			NodeName: nodeName(i),
			Containers: []corev1.Container{{
				Name:  "web",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
			}},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{
				Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(readySince),
			}},
			PodIP:  ip,
			PodIPs: []corev1.PodIP{{IP: ip}},
		},
	}
}

func (w *world) nodeLookup(name string) (*corev1.Node, bool) {
	n, ok := w.nodes[name]
	return n, ok
}

// podList returns the current pods, sorted by name.
func (w *world) podList() []*corev1.Pod {
	out := make([]*corev1.Pod, 0, len(w.pods))
	for _, p := range w.pods {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// event is one pod event of a rollout: the addition of the new pod of
// index add, or the deletion of the old pod of index del.
type event struct {
	add, del int
}

func (w *world) apply(ev event) {
	if ev.add >= 0 {
		w.addPod(newHash, ev.add, w.clock.Now())
		return
	}
	delete(w.pods, podName(oldHash, ev.del))
}

// rolloutEvents lists the events of a rollout of n pods in steps of step
// pods: step new pods are added, then step old pods deleted, in an order
// shuffled with the seed, until every old pod is replaced. step 1 is the
// one-at-a-time rollout.
func rolloutEvents(n, step int, seed int64) []event {
	order := rand.New(rand.NewSource(seed)).Perm(n)
	events := make([]event, 0, 2*n)
	for from := 0; from < n; from += step {
		to := min(from+step, n)
		for i := from; i < to; i++ {
			events = append(events, event{add: i, del: -1})
		}
		for _, i := range order[from:to] {
			events = append(events, event{add: -1, del: i})
		}
	}
	return events
}

// stepSize is the number of pods each step of the scenario replaces.
func stepSize(scenario string, n int) int {
	if scenario == scenarioSteps {
		return (n + 3) / 4
	}
	return 1
}

// impl is one way of publishing the Service's endpoints.
type impl interface {
	// name is the impl column of the results.
	name() string
	// sync reconciles the Service with the given pods and applies the
	// resulting writes, counting them.
	sync(pods []*corev1.Pod) error
	// counted returns the writes counted since the last reset.
	counted() *tally
	// published returns, per stored object, the names of the pods its
	// endpoints point at.
	published() [][]string
}

// tally counts API writes and the bytes written.
type tally struct {
	creates, updates, deletes int64
	bytes                     int64
}

// add counts one write of the given kind ("create", "update" or "delete")
// whose object, as written or last seen, is obj.
func (t *tally) add(kind string, obj any) error {
	n, err := jsonSize(obj)
	if err != nil {
		return err
	}
	switch kind {
	case "create":
		t.creates++
	case "update":
		t.updates++
	case "delete":
		t.deletes++
	default:
		return fmt.Errorf("unknown write kind %q", kind)
	}
	t.bytes += n
	return nil
}

func (t *tally) reset() { *t = tally{} }

func jsonSize(v any) (int64, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	return int64(len(b)), nil
}

// runScenario replays the scenario into every implementation and returns
// their rows and the lower bound's.
func runScenario(cfg config, scenario string) ([]row, error) {
	w := newWorld(cfg.pods)
	sig, err := newSignet(w, cfg.maxPerSlice, cfg.settleDelay)
	if err != nil {
		return nil, err
	}
	up, err := newUpstream(w, cfg.maxPerSlice)
	if err != nil {
		return nil, err
	}
	ep := newEndpoints(w)
	impls := []impl{sig, up, ep}
	syncAll := func() error {
		pods := w.podList()
		for _, im := range impls {
			if err := im.sync(pods); err != nil {
				return fmt.Errorf("%s: %w", im.name(), err)
			}
		}
		return nil
	}

	// The initial state, not counted.
	if err := syncAll(); err != nil {
		return nil, err
	}
	w.clock.Step(2 * cfg.settleDelay)
	if err := syncAll(); err != nil {
		return nil, err
	}
	for _, im := range impls {
		im.counted().reset()
	}

	events := rolloutEvents(cfg.pods, stepSize(scenario, cfg.pods), cfg.seed)
	for _, ev := range events {
		w.apply(ev)
		if err := syncAll(); err != nil {
			return nil, err
		}
	}
	w.clock.Step(2 * cfg.settleDelay)
	if err := syncAll(); err != nil {
		return nil, err
	}

	rows := make([]row, 0, len(impls)+1)
	for _, im := range impls {
		limit := cfg.maxPerSlice
		if im == impl(ep) {
			limit = 0 // the one Endpoints object holds every address
		}
		if err := checkPublished(im.name(), im.published(), w.pods, limit); err != nil {
			return nil, err
		}
		t := im.counted()
		rows = append(rows, row{
			Scenario: scenario, Impl: im.name(),
			Creates: t.creates, Updates: t.updates, Deletes: t.deletes,
			BytesWritten:    t.bytes,
			BytesToWatchers: t.bytes * cfg.watchers,
			FinalSlices:     len(im.published()),
		})
	}
	entry, err := sig.endpointEntrySize()
	if err != nil {
		return nil, err
	}
	changes := int64(len(events))
	rows = append(rows, row{
		Scenario: scenario, Impl: "lower-bound",
		Updates:         changes,
		BytesWritten:    changes * entry,
		BytesToWatchers: changes * entry * cfg.watchers,
		FinalSlices:     (len(w.pods) + cfg.maxPerSlice - 1) / cfg.maxPerSlice,
	})
	return rows, nil
}

// checkPublished fails unless the objects hold exactly one endpoint per
// current pod, none is empty and, when limit is positive, none holds more
// than limit endpoints.
func checkPublished(who string, objects [][]string, pods map[string]*corev1.Pod, limit int) error {
	seen := make(map[string]bool, len(pods))
	for _, names := range objects {
		if len(names) == 0 && len(pods) > 0 {
			return fmt.Errorf("%s: an object holds no endpoint", who)
		}
		if limit > 0 && len(names) > limit {
			return fmt.Errorf("%s: an object holds %d endpoints, more than %d", who, len(names), limit)
		}
		for _, name := range names {
			if seen[name] {
				return fmt.Errorf("%s: pod %s is published twice", who, name)
			}
			if _, ok := pods[name]; !ok {
				return fmt.Errorf("%s: deleted pod %s is still published", who, name)
			}
			seen[name] = true
		}
	}
	if len(seen) != len(pods) {
		return fmt.Errorf("%s: %d pods are published, want %d", who, len(seen), len(pods))
	}
	return nil
}
