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

package clusterdns

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	kubeinformers "k8s.io/client-go/informers"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2"

	discoveryv1 "signet.dev/api/discovery/v1"
	signetfake "signet.dev/client-go/clientset/versioned/fake"
	signetinformers "signet.dev/client-go/informers/externalversions"
)

type sourcesEnv struct {
	kube    *kubefake.Clientset
	signet  *signetfake.Clientset
	store   *Store
	sources *Sources
}

// startSources runs Sources on fake clients holding objs, and waits until
// it has synced.
func startSources(t *testing.T, kubeObjs []*corev1.Service, slices []*discoveryv1.EndpointSlice, nodes ...*corev1.Node) *sourcesEnv {
	t.Helper()
	e := &sourcesEnv{kube: kubefake.NewClientset(), signet: signetfake.NewClientset(), store: NewStore()}
	ctx := context.Background()
	for _, s := range kubeObjs {
		if _, err := e.kube.CoreV1().Services(s.Namespace).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes {
		if _, err := e.kube.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range slices {
		if _, err := e.signet.DiscoveryV1().EndpointSlices(s.Namespace).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	kf := kubeinformers.NewSharedInformerFactory(e.kube, 0)
	sf := signetinformers.NewSharedInformerFactory(e.signet, 0)
	var err error
	e.sources, err = NewSources(e.store, kf.Core().V1().Services(), sf.Discovery().V1().EndpointSlices(), kf.Core().V1().Nodes(), klog.Background())
	if err != nil {
		t.Fatal(err)
	}
	if e.sources.HasSynced() {
		t.Fatal("synced before the informers started")
	}
	ictx, cancel := context.WithCancel(ctx)
	kf.Start(ictx.Done())
	sf.Start(ictx.Done())
	t.Cleanup(func() {
		cancel()
		kf.Shutdown()
		sf.Shutdown()
	})
	eventually(t, "the sources to sync", func() error {
		if !e.sources.HasSynced() {
			return fmt.Errorf("not synced")
		}
		return nil
	})
	return e
}

// eventually polls cond until it returns nil, or fails the test after 10s.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		last = cond()
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, last)
	}
}

func addrsOf(e *serviceEntry) []string {
	if e == nil {
		return nil
	}
	var out []string
	for _, ep := range e.Endpoints {
		out = append(out, ep.Hostname+"="+ep.Addr.String())
	}
	return out
}

func TestSourcesFollowInformers(t *testing.T) {
	v4 := discoveryv1.AddressTypeIPv4
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{labelZone: "zone-a"}},
		Status:     corev1.NodeStatus{Images: []corev1.ContainerImage{{Names: []string{"big/image"}}}},
	}
	e := startSources(t,
		[]*corev1.Service{headlessService("ns", "web"), clusterIPService("ns", "api", []string{"10.96.0.7"}, "http/TCP/80")},
		[]*discoveryv1.EndpointSlice{
			slice("ns", "web", "web-1", v4, 80, ep{addr: "10.0.0.1", hostname: "a"}),
			slice("ns", "nothing", "orphan", v4, 80, ep{addr: "10.0.0.9"}),
		},
		node)
	ctx := context.Background()

	if got := addrsOf(e.store.service("ns", "web")); !slices.Equal(got, []string{"a=10.0.0.1"}) {
		t.Errorf("after sync: web endpoints %v, want a=10.0.0.1", got)
	}
	if e.store.service("ns", "api") == nil || e.store.service("ns", "nothing") != nil {
		t.Errorf("after sync: want api and no Service for the orphan slice")
	}
	if labels, ok := e.sources.NodeLabels("node-a"); !ok || labels[labelZone] != "zone-a" {
		t.Errorf("NodeLabels(node-a) = %v, %v", labels, ok)
	}
	if _, ok := e.sources.NodeLabels("node-z"); ok {
		t.Errorf("NodeLabels(node-z) found a Node")
	}

	t.Run("a slice added before its Service", func(t *testing.T) {
		if _, err := e.signet.DiscoveryV1().EndpointSlices("ns").Create(ctx, slice("ns", "late", "late-1", v4, 80, ep{addr: "10.0.1.1"}), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.kube.CoreV1().Services("ns").Create(ctx, headlessService("ns", "late"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "late to have its endpoint", func() error {
			if got := addrsOf(e.store.service("ns", "late")); !slices.Equal(got, []string{"10-0-1-1=10.0.1.1"}) {
				return fmt.Errorf("endpoints %v", got)
			}
			return nil
		})
	})
	t.Run("a second slice", func(t *testing.T) {
		if _, err := e.signet.DiscoveryV1().EndpointSlices("ns").Create(ctx, slice("ns", "web", "web-2", v4, 80, ep{addr: "10.0.0.2", hostname: "b"}), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "web to have both endpoints", func() error {
			if got := addrsOf(e.store.service("ns", "web")); !slices.Equal(got, []string{"a=10.0.0.1", "b=10.0.0.2"}) {
				return fmt.Errorf("endpoints %v", got)
			}
			return nil
		})
	})
	t.Run("a slice relabelled to another Service", func(t *testing.T) {
		s := slice("ns", "late", "web-2", v4, 80, ep{addr: "10.0.0.2", hostname: "b"})
		if _, err := e.signet.DiscoveryV1().EndpointSlices("ns").Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the endpoint to move from web to late", func() error {
			web, late := addrsOf(e.store.service("ns", "web")), addrsOf(e.store.service("ns", "late"))
			if !slices.Equal(web, []string{"a=10.0.0.1"}) || !slices.Equal(late, []string{"b=10.0.0.2", "10-0-1-1=10.0.1.1"}) {
				return fmt.Errorf("web %v, late %v", web, late)
			}
			return nil
		})
	})
	t.Run("a Service turning from headless to ClusterIP", func(t *testing.T) {
		svc := clusterIPService("ns", "web", []string{"10.96.0.8"})
		if _, err := e.kube.CoreV1().Services("ns").Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "web to be a ClusterIP Service", func() error {
			if s := e.store.service("ns", "web"); s == nil || s.Kind != kindClusterIP || len(s.Endpoints) != 0 {
				return fmt.Errorf("entry %+v", s)
			}
			if targets := e.store.ptrTargets(netipMust("10.0.0.1")); len(targets) != 0 {
				return fmt.Errorf("PTR of a former endpoint: %v", targets)
			}
			return nil
		})
	})
	t.Run("a deleted Service", func(t *testing.T) {
		for _, name := range []string{"web", "api", "late"} {
			if err := e.kube.CoreV1().Services("ns").Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		eventually(t, "the Services to go", func() error {
			if n, eps := e.store.Counts(); n != 0 || eps != 0 || e.store.namespaceExists("ns") {
				return fmt.Errorf("%d Services, %d endpoints left", n, eps)
			}
			return nil
		})
	})
}

func TestNodeInformerKeepsOnlyLabels(t *testing.T) {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{"a": "b"}, Annotations: map[string]string{"big": "value"}},
		Status:     corev1.NodeStatus{Images: []corev1.ContainerImage{{Names: []string{"big/image"}}}},
	}
	out, err := nodeLabelsOnly(node)
	if err != nil {
		t.Fatal(err)
	}
	n := out.(*corev1.Node)
	if n.Name != "node-a" || n.Labels["a"] != "b" || len(n.Annotations) != 0 || len(n.Status.Images) != 0 {
		t.Errorf("transformed node %+v, want name and labels only", n)
	}
	if key, _ := sliceServiceIndex(slice("ns", "svc", "s", discoveryv1.AddressTypeIPv4, 80)); !slices.Equal(key, []string{types.NamespacedName{Namespace: "ns", Name: "svc"}.String()}) {
		t.Errorf("slice index %v, want ns/svc", key)
	}
}
