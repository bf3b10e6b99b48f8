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
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	discoveryv1 "signet.dev/api/discovery/v1"

	"signet.dev/signet/pkg/controller/endpointslice"
)

const (
	// settleDelay is the controller's --endpointslice-settle-delay in these
	// tests: short, so that compaction happens while a test waits.
	settleDelay = 2 * time.Second
	// convergeTimeout bounds every wait for the controller to reach a
	// state. It is generous: the machine is small and shared.
	convergeTimeout = 90 * time.Second
	// maxPerSlice is the controller's default --max-endpoints-per-slice.
	maxPerSlice = endpointslice.DefaultMaxEndpointsPerSlice
	// targetPort is the container port the tests' Services target by name.
	targetPort = 8080
)

// testNode is one of the Nodes the tests' pods are bound to.
type testNode struct {
	name, zone, region string
}

// labels are the Node's topology labels, which the controller copies into
// each endpoint's topology map.
func (n testNode) labels() map[string]string {
	return map[string]string{
		corev1.LabelHostname:       n.name,
		corev1.LabelTopologyZone:   n.zone,
		corev1.LabelTopologyRegion: n.region,
	}
}

// testNodes are six Nodes in three zones of one region.
var testNodes = func() []testNode {
	var out []testNode
	for i := range 6 {
		out = append(out, testNode{
			name:   fmt.Sprintf("eps-it-node-%d", i),
			zone:   fmt.Sprintf("zone-%c", 'a'+i%3),
			region: "region-1",
		})
	}
	return out
}()

func nodeByName(name string) (testNode, bool) {
	for _, n := range testNodes {
		if n.name == name {
			return n, true
		}
	}
	return testNode{}, false
}

var (
	nodesOnce sync.Once
	nodesErr  error
)

// ensureNodes creates the test Nodes once for the package.
func ensureNodes(t *testing.T) {
	t.Helper()
	nodesOnce.Do(func() {
		for _, n := range testNodes {
			node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: n.labels()}}
			_, err := cluster.Kube.CoreV1().Nodes().Create(context.Background(), node, metav1.CreateOptions{})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				nodesErr = fmt.Errorf("creating Node %s: %w", n.name, err)
				return
			}
		}
	})
	if nodesErr != nil {
		t.Fatal(nodesErr)
	}
}

// newNamespace creates a namespace (with the default ServiceAccount that
// pod admission wants and no controller creates here) for one test. At the
// end of the test, after the test's controllers have stopped, it deletes
// the namespace's pods, Services and EndpointSlices, so that the next
// test's controller finds nothing of it to sync, and then the namespace
// (which stays Terminating: no namespace controller runs).
func newNamespace(t *testing.T) string {
	t.Helper()
	ensureNodes(t)
	ctx := context.Background()
	ns, err := cluster.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "eps-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a namespace: %v", err)
	}
	name := ns.Name
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := cluster.Kube.CoreV1().Pods(name).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}, metav1.ListOptions{}); err != nil {
			t.Logf("cleanup: deleting pods of %s: %v", name, err)
		}
		if svcs, err := cluster.Kube.CoreV1().Services(name).List(ctx, metav1.ListOptions{}); err == nil {
			for _, s := range svcs.Items {
				_ = cluster.Kube.CoreV1().Services(name).Delete(ctx, s.Name, metav1.DeleteOptions{})
			}
		}
		if err := cluster.Signet.DiscoveryV1().EndpointSlices(name).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
			t.Logf("cleanup: deleting EndpointSlices of %s: %v", name, err)
		}
		_ = cluster.Kube.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	})
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	if _, err := cluster.Kube.CoreV1().ServiceAccounts(name).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating the default ServiceAccount: %v", err)
	}
	return name
}

// ipCounter hands out pod IPs unique within the package run.
var ipCounter atomic.Uint32

// nextPodIPs returns a fresh IPv4 address and, when dual, an IPv6 one.
func nextPodIPs(dual bool) []string {
	n := ipCounter.Add(1)
	v4 := netip.AddrFrom4([4]byte{10, byte(244 + n>>16), byte(n >> 8), byte(n)})
	ips := []string{v4.String()}
	if dual {
		b := netip.MustParseAddr("fd00:10:244::").As16()
		b[13], b[14], b[15] = byte(n>>16), byte(n>>8), byte(n)
		ips = append(ips, netip.AddrFrom16(b).String())
	}
	return ips
}

// nodeCounter spreads pods over the test Nodes.
var nodeCounter atomic.Uint32

// newService returns a ClusterIP Service selecting pods by selector, with
// one port whose target port is named, so that the controller resolves it
// per pod.
func newService(name string, selector map[string]string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			Selector: selector,
			Ports: []corev1.ServicePort{{
				Name:       "http",
				Port:       80,
				TargetPort: intstr.FromString("http"),
			}},
		},
	}
}

func createService(t *testing.T, ns string, svc *corev1.Service) *corev1.Service {
	t.Helper()
	out, err := cluster.Kube.CoreV1().Services(ns).Create(context.Background(), svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating Service %s/%s: %v", ns, svc.Name, err)
	}
	return out
}

// podSet is what a test knows of its pods: the latest state of each, by
// name.
type podSet map[string]*corev1.Pod

// names returns the pod names in order.
func (ps podSet) names() []string {
	out := make([]string, 0, len(ps))
	for n := range ps {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// without returns a copy of the set without the named pods.
func (ps podSet) without(names ...string) podSet {
	out := podSet{}
	for n, p := range ps {
		out[n] = p
	}
	for _, n := range names {
		delete(out, n)
	}
	return out
}

// with returns a copy of the set with the pods of other added.
func (ps podSet) with(other podSet) podSet {
	out := podSet{}
	for n, p := range ps {
		out[n] = p
	}
	for n, p := range other {
		out[n] = p
	}
	return out
}

// parallel runs fn for each name on a few goroutines and returns the
// first error.
func parallel(names []string, fn func(name string) error) error {
	const workers = 8
	ch := make(chan string)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range ch {
				if err := fn(n); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, n := range names {
		ch <- n
	}
	close(ch)
	wg.Wait()
	return firstErr
}

// createReadyPods creates pods bound to the test Nodes and writes the
// status a kubelet would: Running, Ready, with one pod IP or (dual) one of
// each family.
func createReadyPods(t *testing.T, ns string, names []string, podLabels map[string]string, dual bool) podSet {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	out := podSet{}
	err := parallel(names, func(name string) error {
		node := testNodes[int(nodeCounter.Add(1))%len(testNodes)]
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: podLabels},
			Spec: corev1.PodSpec{
				NodeName:                     node.name,
				AutomountServiceAccountToken: ptr.To(false),
				Containers: []corev1.Container{{
					Name:  "app",
					Image: "example.invalid/app:1",
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: targetPort}},
				}},
			},
		}
		created, err := cluster.Kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("creating pod %s: %w", name, err)
		}
		ips := nextPodIPs(dual)
		created.Status.Phase = corev1.PodRunning
		created.Status.Conditions = []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue},
		}
		created.Status.PodIP = ips[0]
		created.Status.PodIPs = nil
		for _, ip := range ips {
			created.Status.PodIPs = append(created.Status.PodIPs, corev1.PodIP{IP: ip})
		}
		updated, err := cluster.Kube.CoreV1().Pods(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("writing the status of pod %s: %w", name, err)
		}
		mu.Lock()
		out[name] = updated
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// deletePods deletes pods at once (grace period 0: no kubelet would ever
// confirm a graceful deletion).
func deletePods(t *testing.T, ns string, names []string) {
	t.Helper()
	ctx := context.Background()
	err := parallel(names, func(name string) error {
		err := cluster.Kube.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting pod %s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// podNames returns prefix-000, prefix-001, ... prefix-(n-1) from start.
func podNames(prefix string, start, n int) []string {
	out := make([]string, 0, n)
	for i := start; i < start+n; i++ {
		out = append(out, fmt.Sprintf("%s-%03d", prefix, i))
	}
	return out
}

// serviceSlices lists the slices labelled with the Service's name; with
// managedOnly, only those managed by the signet controller.
func serviceSlices(ctx context.Context, ns, svc string, managedOnly bool) ([]discoveryv1.EndpointSlice, error) {
	set := labels.Set{discoveryv1.LabelServiceName: svc}
	if managedOnly {
		set[discoveryv1.LabelManagedBy] = endpointslice.ControllerName
	}
	list, err := cluster.Signet.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: set.String()})
	if err != nil {
		return nil, err
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list.Items, nil
}

// ofFamily returns the slices of one address type.
func ofFamily(slices []discoveryv1.EndpointSlice, family discoveryv1.AddressType) []discoveryv1.EndpointSlice {
	var out []discoveryv1.EndpointSlice
	for _, s := range slices {
		if s.AddressType == family {
			out = append(out, s)
		}
	}
	return out
}

// familyIP returns the pod's IP of the family.
func familyIP(pod *corev1.Pod, family discoveryv1.AddressType) string {
	for _, pip := range pod.Status.PodIPs {
		ip, err := netip.ParseAddr(pip.IP)
		if err != nil {
			continue
		}
		if ip.Is4() == (family == discoveryv1.AddressTypeIPv4) {
			return ip.String()
		}
	}
	return ""
}

// problems collects what is wrong with a set of slices, to report a few.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	const show = 8
	msg := strings.Join(p[:min(len(p), show)], "; ")
	if len(p) > show {
		msg += fmt.Sprintf("; and %d more", len(p)-show)
	}
	return fmt.Errorf("%d problems: %s", len(p), msg)
}

// verifySlices checks that the slices of one family are exactly what the
// pods imply for the Service: every slice labelled, owned by the Service,
// of the family, with the resolved port and at most maxPerSlice endpoints
// (and at least one); every pod with an IP of the family present once,
// with its address, pod reference, node, zone, topology and conditions;
// nothing else.
func verifySlices(slices []discoveryv1.EndpointSlice, svc *corev1.Service, pods podSet, family discoveryv1.AddressType) error {
	var p problems
	seen := map[string]string{}
	for _, s := range slices {
		if got := s.Labels[discoveryv1.LabelServiceName]; got != svc.Name {
			p.add("slice %s: service-name label %q", s.Name, got)
		}
		if got := s.Labels[discoveryv1.LabelManagedBy]; got != endpointslice.ControllerName {
			p.add("slice %s: managed-by label %q", s.Name, got)
		}
		if ref := metav1.GetControllerOfNoCopy(&s); ref == nil || ref.Kind != "Service" || ref.APIVersion != "v1" || ref.Name != svc.Name || ref.UID != svc.UID {
			p.add("slice %s: controller reference %+v, want the Service %s (uid %s)", s.Name, ref, svc.Name, svc.UID)
		}
		if s.AddressType != family {
			p.add("slice %s: address type %s, want %s", s.Name, s.AddressType, family)
		}
		if n := len(s.Endpoints); n == 0 || n > maxPerSlice {
			p.add("slice %s: %d endpoints, want 1 to %d", s.Name, n, maxPerSlice)
		}
		if len(s.Ports) != 1 || ptr.Deref(s.Ports[0].Name, "") != "http" || ptr.Deref(s.Ports[0].Port, 0) != targetPort ||
			ptr.Deref(s.Ports[0].Protocol, "") != corev1.ProtocolTCP {
			p.add("slice %s: ports %s, want http/TCP/%d", s.Name, describePorts(s.Ports), targetPort)
		}
		for _, ep := range s.Endpoints {
			ref := ep.TargetRef
			if ref == nil || ref.Kind != "Pod" || ref.Namespace != svc.Namespace {
				p.add("slice %s: endpoint %v has target reference %+v", s.Name, ep.Addresses, ref)
				continue
			}
			if prev, dup := seen[ref.Name]; dup {
				p.add("pod %s is in slices %s and %s", ref.Name, prev, s.Name)
				continue
			}
			seen[ref.Name] = s.Name
			pod, ok := pods[ref.Name]
			if !ok {
				p.add("slice %s: endpoint of pod %s, which should not be there", s.Name, ref.Name)
				continue
			}
			if ref.UID != pod.UID {
				p.add("slice %s: endpoint of pod %s has uid %s, want %s", s.Name, ref.Name, ref.UID, pod.UID)
			}
			if want := familyIP(pod, family); len(ep.Addresses) != 1 || ep.Addresses[0] != want {
				p.add("slice %s: endpoint of pod %s has addresses %v, want [%s]", s.Name, ref.Name, ep.Addresses, want)
			}
			if got := ptr.Deref(ep.NodeName, ""); got != pod.Spec.NodeName {
				p.add("slice %s: endpoint of pod %s has nodeName %q, want %q", s.Name, ref.Name, got, pod.Spec.NodeName)
			}
			node, _ := nodeByName(pod.Spec.NodeName)
			if got := ptr.Deref(ep.Zone, ""); got != node.zone {
				p.add("slice %s: endpoint of pod %s has zone %q, want %q", s.Name, ref.Name, got, node.zone)
			}
			if !mapsEqual(ep.Topology, node.labels()) {
				p.add("slice %s: endpoint of pod %s has topology %v, want %v", s.Name, ref.Name, ep.Topology, node.labels())
			}
			c := ep.Conditions
			if !ptr.Deref(c.Ready, false) || !ptr.Deref(c.Serving, false) || ptr.Deref(c.Terminating, true) {
				p.add("slice %s: endpoint of pod %s has conditions ready=%v serving=%v terminating=%v, want true, true, false",
					s.Name, ref.Name, boolString(c.Ready), boolString(c.Serving), boolString(c.Terminating))
			}
		}
	}
	var missing []string
	for _, name := range pods.names() {
		if _, ok := seen[name]; !ok && familyIP(pods[name], family) != "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		p.add("%d pods have no %s endpoint (first: %s)", len(missing), family, missing[0])
	}
	return p.err()
}

func describePorts(ports []discoveryv1.EndpointPort) string {
	var parts []string
	for _, pt := range ports {
		parts = append(parts, fmt.Sprintf("%s/%s/%d", ptr.Deref(pt.Name, ""), ptr.Deref(pt.Protocol, ""), ptr.Deref(pt.Port, 0)))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func boolString(b *bool) string {
	if b == nil {
		return "<nil>"
	}
	return fmt.Sprint(*b)
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// sliceCountFor is the number of slices n endpoints need at rest.
func sliceCountFor(n int) int {
	return (n + maxPerSlice - 1) / maxPerSlice
}

// waitFor polls cond until it returns nil, and fails the test with cond's
// last error when it has not within the timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func(ctx context.Context) error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		err := cond(ctx)
		if err != nil && ctx.Err() != nil && last != nil {
			// Cut short by the deadline: the check before says more.
			return false, nil
		}
		last = err
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v; last check: %v", what, err, last)
	}
}

// waitForSlices waits until the managed slices of the Service are exactly
// what the pods imply in each of the families; with wantCount > 0, also
// until each family has that many slices (at rest: ceil(n/max)). It
// returns the slices.
func waitForSlices(t *testing.T, ns string, svc *corev1.Service, pods podSet, families []discoveryv1.AddressType, wantCount int) []discoveryv1.EndpointSlice {
	t.Helper()
	var got []discoveryv1.EndpointSlice
	what := fmt.Sprintf("the %v slices of Service %s/%s to hold its %d pods", families, ns, svc.Name, len(pods))
	if wantCount > 0 {
		what += fmt.Sprintf(" in %d slices per family", wantCount)
	}
	waitFor(t, convergeTimeout, what, func(ctx context.Context) error {
		slices, err := serviceSlices(ctx, ns, svc.Name, true)
		if err != nil {
			return err
		}
		var p problems
		wanted := map[discoveryv1.AddressType]bool{}
		for _, fam := range families {
			wanted[fam] = true
			fs := ofFamily(slices, fam)
			if err := verifySlices(fs, svc, pods, fam); err != nil {
				p.add("%s: %v", fam, err)
			}
			if wantCount > 0 && len(fs) != wantCount {
				p.add("%d %s slices (sizes %v), want %d", len(fs), fam, sliceSizes(fs), wantCount)
			}
		}
		for _, s := range slices {
			if !wanted[s.AddressType] {
				p.add("slice %s of address type %s, which the Service does not ask for", s.Name, s.AddressType)
			}
		}
		got = slices
		return p.err()
	})
	return got
}

func sliceSizes(slices []discoveryv1.EndpointSlice) []int {
	out := make([]int, 0, len(slices))
	for _, s := range slices {
		out = append(out, len(s.Endpoints))
	}
	return out
}

// resourceVersions maps slice names to resourceVersions.
func resourceVersions(slices []discoveryv1.EndpointSlice) map[string]string {
	out := make(map[string]string, len(slices))
	for _, s := range slices {
		out[s.Name] = s.ResourceVersion
	}
	return out
}

// diffVersions describes how two resourceVersion maps differ, or "".
func diffVersions(before, after map[string]string) string {
	var diffs []string
	for name, rv := range before {
		switch now, ok := after[name]; {
		case !ok:
			diffs = append(diffs, name+" deleted")
		case now != rv:
			diffs = append(diffs, fmt.Sprintf("%s rewritten (resourceVersion %s -> %s)", name, rv, now))
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			diffs = append(diffs, name+" created")
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, ", ")
}
