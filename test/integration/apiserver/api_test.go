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

package apiserver

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	discoveryv1 "signet.dev/api/discovery/v1"
	networkingv1 "signet.dev/api/networking/v1"
	discoveryapply "signet.dev/client-go/applyconfiguration/discovery/v1"
	networkingapply "signet.dev/client-go/applyconfiguration/networking/v1"
)

// watchFor waits for the first event of type want on w.
func watchFor(t *testing.T, w watch.Interface, want watch.EventType, name string) {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed before a %s event for %s", want, name)
			}
			m, err := metaName(ev.Object)
			if err == nil && ev.Type == want && m == name {
				return
			}
		case <-timeout:
			t.Fatalf("no %s event for %s within a minute", want, name)
		}
	}
}

func metaName(obj interface{}) (string, error) {
	type named interface{ GetName() string }
	if n, ok := obj.(named); ok {
		return n.GetName(), nil
	}
	return "", nil
}

func TestWatchEveryKind(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)

	t.Run("Ingress", func(t *testing.T) {
		w, err := cluster.Signet.NetworkingV1().Ingresses(ns).Watch(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if _, err := cluster.Signet.NetworkingV1().Ingresses(ns).Create(ctx, validIngress("watched"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		watchFor(t, w, watch.Added, "watched")
		if err := cluster.Signet.NetworkingV1().Ingresses(ns).Delete(ctx, "watched", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		watchFor(t, w, watch.Deleted, "watched")
	})
	t.Run("IngressClass", func(t *testing.T) {
		classes := cluster.Signet.NetworkingV1().IngressClasses()
		w, err := classes.Watch(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "watched-" + ns}, Spec: networkingv1.IngressClassSpec{Controller: "example.com/ingress"}}
		if _, err := classes.Create(ctx, ic, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		watchFor(t, w, watch.Added, ic.Name)
		ic, err = classes.Get(ctx, ic.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ic.Labels = map[string]string{"tier": "edge"}
		if _, err := classes.Update(ctx, ic, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		watchFor(t, w, watch.Modified, ic.Name)
		if err := classes.Delete(ctx, ic.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		watchFor(t, w, watch.Deleted, ic.Name)
	})
	t.Run("EndpointSlice", func(t *testing.T) {
		slices := cluster.Signet.DiscoveryV1().EndpointSlices(ns)
		w, err := slices.Watch(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=web"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		if _, err := slices.Create(ctx, validSlice("web-1"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		watchFor(t, w, watch.Added, "web-1")
	})
}

func TestEndpointSliceCRUDAndDeleteCollection(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	slices := cluster.Signet.DiscoveryV1().EndpointSlices(ns)
	for _, name := range []string{"web-a", "web-b"} {
		if _, err := slices.Create(ctx, validSlice(name), metav1.CreateOptions{}); err != nil {
			failWithLogs(t, "create %s: %v", name, err)
		}
	}
	other := validSlice("api-a")
	other.Labels = map[string]string{discoveryv1.LabelServiceName: "api"}
	if _, err := slices.Create(ctx, other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := slices.Get(ctx, "web-a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *got.Ports[0].Protocol != "TCP" {
		t.Errorf("port protocol was not defaulted to TCP: %v", got.Ports[0].Protocol)
	}
	got.Endpoints[0].Conditions.Ready = ptr.To(false)
	updated, err := slices.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if updated.Generation != 2 {
		t.Errorf("generation after an endpoint change = %d, want 2", updated.Generation)
	}
	relabelled := updated.DeepCopy()
	relabelled.Annotations = map[string]string{"note": "metadata only"}
	relabelled, err = slices.Update(ctx, relabelled, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if relabelled.Generation != 2 {
		t.Errorf("generation after a metadata-only change = %d, want it unchanged at 2", relabelled.Generation)
	}

	if err := slices.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=web"}); err != nil {
		t.Fatalf("deletecollection: %v", err)
	}
	left, err := slices.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(left.Items) != 1 || left.Items[0].Name != "api-a" {
		t.Errorf("after deleting the web slices, %d are left (%v); want only api-a", len(left.Items), names(left.Items))
	}
}

func names(items []discoveryv1.EndpointSlice) []string {
	var out []string
	for _, i := range items {
		out = append(out, i.Name)
	}
	return out
}

func TestPatchTypes(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	ingresses := cluster.Signet.NetworkingV1().Ingresses(ns)
	if _, err := ingresses.Create(ctx, validIngress("patched"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		patchType types.PatchType
		patch     string
		check     func(*networkingv1.Ingress) bool
	}{
		{"json", types.JSONPatchType, `[{"op":"replace","path":"/spec/rules/0/host","value":"json.example.com"}]`,
			func(i *networkingv1.Ingress) bool { return i.Spec.Rules[0].Host == "json.example.com" }},
		{"merge", types.MergePatchType, `{"spec":{"defaultBackend":{"service":{"name":"merged","port":{"number":81}}}}}`,
			func(i *networkingv1.Ingress) bool {
				return i.Spec.DefaultBackend.Service.Name == "merged" && i.Spec.DefaultBackend.Service.Port.Number == 81
			}},
		{"strategic merge", types.StrategicMergePatchType, `{"metadata":{"labels":{"patched":"strategic"}},"spec":{"tls":[{"hosts":["json.example.com"],"secretName":"cert"}]}}`,
			func(i *networkingv1.Ingress) bool {
				return i.Labels["patched"] == "strategic" && len(i.Spec.TLS) == 1 && i.Spec.TLS[0].SecretName == "cert"
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ingresses.Patch(ctx, "patched", tc.patchType, []byte(tc.patch), metav1.PatchOptions{})
			if err != nil {
				failWithLogs(t, "%s patch: %v", tc.name, err)
			}
			if !tc.check(got) {
				t.Errorf("%s patch did not take effect: %+v", tc.name, got.Spec)
			}
		})
	}
}

// TestServerSideApply checks that apply knows signet's list semantics from
// the published OpenAPI: two managers own different fields, a conflicting
// apply is refused, and map-lists (EndpointSlice topology is a map, status
// conditions are a list keyed by type) merge instead of being replaced.
func TestServerSideApply(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	classes := cluster.Signet.NetworkingV1().IngressClasses()
	name := "applied-" + ns
	t.Cleanup(func() { _ = classes.Delete(context.Background(), name, metav1.DeleteOptions{}) })

	first := networkingapply.IngressClass(name).WithSpec(networkingapply.IngressClassSpec().WithController("example.com/applied"))
	if _, err := classes.Apply(ctx, first, metav1.ApplyOptions{FieldManager: "team-a"}); err != nil {
		failWithLogs(t, "first apply: %v", err)
	}
	second := networkingapply.IngressClass(name).WithLabels(map[string]string{"owner": "team-b"})
	got, err := classes.Apply(ctx, second, metav1.ApplyOptions{FieldManager: "team-b"})
	if err != nil {
		t.Fatalf("second apply: %v", err)
	}
	if got.Spec.Controller != "example.com/applied" || got.Labels["owner"] != "team-b" {
		t.Errorf("the two managers' fields were not merged: controller %q, labels %v", got.Spec.Controller, got.Labels)
	}
	conflicting := networkingapply.IngressClass(name).WithSpec(networkingapply.IngressClassSpec().WithController("example.com/other"))
	if _, err := classes.Apply(ctx, conflicting, metav1.ApplyOptions{FieldManager: "team-b"}); err == nil {
		t.Errorf("team-b took over spec.controller, owned by team-a, without a conflict")
	}

	slices := cluster.Signet.DiscoveryV1().EndpointSlices(ns)
	base := discoveryapply.EndpointSlice("applied", ns).
		WithLabels(map[string]string{discoveryv1.LabelServiceName: "web"}).
		WithAddressType(discoveryv1.AddressTypeIPv4).
		WithEndpoints(discoveryapply.Endpoint().WithAddresses("10.2.0.1").WithTopology(map[string]string{"topology.kubernetes.io/zone": "zone-a"}))
	if _, err := slices.Apply(ctx, base, metav1.ApplyOptions{FieldManager: "controller"}); err != nil {
		t.Fatalf("applying a slice: %v", err)
	}
	labels := discoveryapply.EndpointSlice("applied", ns).WithLabels(map[string]string{"extra": "yes"})
	applied, err := slices.Apply(ctx, labels, metav1.ApplyOptions{FieldManager: "labeller"})
	if err != nil {
		t.Fatalf("applying labels: %v", err)
	}
	if applied.Labels[discoveryv1.LabelServiceName] != "web" || applied.Labels["extra"] != "yes" || len(applied.Endpoints) != 1 {
		t.Errorf("labels of two managers were not merged or endpoints were lost: %v, %d endpoints", applied.Labels, len(applied.Endpoints))
	}
	// Managed fields name the v1 schema's fields.
	var managed []string
	for _, m := range applied.ManagedFields {
		managed = append(managed, m.Manager)
		if m.APIVersion != "discovery.signet.dev/v1" {
			t.Errorf("managed fields of %s recorded for %s, want discovery.signet.dev/v1", m.Manager, m.APIVersion)
		}
	}
	if len(managed) < 2 {
		t.Errorf("managed fields list %v, want both managers", managed)
	}
}
