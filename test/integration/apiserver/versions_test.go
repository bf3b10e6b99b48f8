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
	"errors"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	discoveryv1 "signet.dev/api/discovery/v1"
	discoveryv1alpha1 "signet.dev/api/discovery/v1alpha1"
	networkingv1 "signet.dev/api/networking/v1"
	networkingv1beta1 "signet.dev/api/networking/v1beta1"
)

func TestIngressWrittenAsV1beta1ReadsAsV1(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	legacy := &networkingv1beta1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy"},
		Spec: networkingv1beta1.IngressSpec{
			Backend: &networkingv1beta1.IngressBackend{ServiceName: "fallback", ServicePort: intstr.FromInt32(8080)},
			Rules: []networkingv1beta1.IngressRule{{
				Host: "*.example.com",
				IngressRuleValue: networkingv1beta1.IngressRuleValue{HTTP: &networkingv1beta1.HTTPIngressRuleValue{Paths: []networkingv1beta1.HTTPIngressPath{{
					Path: "/api",
					Backend: networkingv1beta1.IngressBackend{
						ServiceName: "api", ServicePort: intstr.FromString("http"),
						HealthCheck: &networkingv1beta1.IngressHealthCheck{Path: "/healthz"},
					},
				}}}},
			}},
		},
	}
	if _, err := cluster.Signet.NetworkingV1beta1().Ingresses(ns).Create(ctx, legacy, metav1.CreateOptions{}); err != nil {
		failWithLogs(t, "creating through v1beta1: %v", err)
	}
	got, err := cluster.Signet.NetworkingV1().Ingresses(ns).Get(ctx, "legacy", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b := got.Spec.DefaultBackend; b == nil || b.Service == nil || b.Service.Name != "fallback" || b.Service.Port.Number != 8080 {
		t.Errorf("defaultBackend = %+v, want service fallback port 8080", b)
	}
	path := got.Spec.Rules[0].HTTP.Paths[0]
	if path.PathType == nil || *path.PathType != networkingv1.PathTypeImplementationSpecific {
		t.Errorf("pathType = %v, want the v1beta1 default ImplementationSpecific", path.PathType)
	}
	svc := path.Backend.Service
	if svc == nil || svc.Name != "api" || svc.Port.Name != "http" {
		t.Fatalf("path backend = %+v, want service api port http", path.Backend)
	}
	hc := svc.HealthCheck
	if hc == nil || hc.Path != "/healthz" || hc.Port == nil || hc.Port.Name != "http" ||
		ptr.Deref(hc.IntervalSeconds, 0) != 10 || ptr.Deref(hc.TimeoutSeconds, 0) != 5 ||
		ptr.Deref(hc.HealthyThreshold, 0) != 2 || ptr.Deref(hc.UnhealthyThreshold, 0) != 3 {
		t.Errorf("health check = %+v, want /healthz on port http with the defaults 10/5/2/3", hc)
	}
}

func TestIngressWrittenAsV1ReadsAsV1beta1AndPatchesAcross(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	if _, err := cluster.Signet.NetworkingV1().Ingresses(ns).Create(ctx, validIngress("modern"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	old, err := cluster.Signet.NetworkingV1beta1().Ingresses(ns).Get(ctx, "modern", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if old.Spec.Backend == nil || old.Spec.Backend.ServiceName != "fallback" || old.Spec.Backend.ServicePort != intstr.FromInt32(80) {
		t.Errorf("v1beta1 backend = %+v, want serviceName fallback servicePort 80", old.Spec.Backend)
	}
	if p := old.Spec.Rules[0].HTTP.Paths[0]; p.Backend.ServicePort != intstr.FromString("http") || *p.PathType != networkingv1beta1.PathTypePrefix {
		t.Errorf("v1beta1 path = %+v, want servicePort http and pathType Prefix", p)
	}

	// A merge patch in the legacy shape, read back in the new one.
	patch := `{"spec":{"backend":{"serviceName":"patched","servicePort":"web"}}}`
	if _, err := cluster.Signet.NetworkingV1beta1().Ingresses(ns).Patch(ctx, "modern", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("patching through v1beta1: %v", err)
	}
	now, err := cluster.Signet.NetworkingV1().Ingresses(ns).Get(ctx, "modern", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b := now.Spec.DefaultBackend.Service; b.Name != "patched" || b.Port.Name != "web" || b.Port.Number != 0 {
		t.Errorf("after the v1beta1 patch, v1 defaultBackend.service = %+v, want patched/web", b)
	}
	if now.Spec.Rules[0].Host != "shop.example.com" || now.Spec.IngressClassName == nil {
		t.Errorf("the v1beta1 patch lost fields: %+v", now.Spec)
	}

	// And a v1 patch read back through v1beta1.
	patch = `{"spec":{"rules":[{"host":"v1.example.com","http":{"paths":[{"path":"/","pathType":"Exact","backend":{"service":{"name":"root","port":{"number":9090}}}}]}}]}}`
	if _, err := cluster.Signet.NetworkingV1().Ingresses(ns).Patch(ctx, "modern", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("patching through v1: %v", err)
	}
	old, err = cluster.Signet.NetworkingV1beta1().Ingresses(ns).Get(ctx, "modern", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := old.Spec.Rules[0].HTTP.Paths[0]
	if old.Spec.Rules[0].Host != "v1.example.com" || p.Backend.ServiceName != "root" || p.Backend.ServicePort != intstr.FromInt32(9090) || *p.PathType != networkingv1beta1.PathTypeExact {
		t.Errorf("v1beta1 view after the v1 patch = %+v", old.Spec.Rules[0])
	}
}

func TestEndpointSliceAcrossVersions(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	// A 2019 client writes only the topology map.
	alpha := &discoveryv1alpha1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "from-2019", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1alpha1.AddressTypeIPv6,
		Endpoints: []discoveryv1alpha1.Endpoint{{
			Addresses:  []string{"fd00:10:1::5"},
			Conditions: discoveryv1alpha1.EndpointConditions{Ready: ptr.To(true)},
			Topology: map[string]string{
				corev1.LabelHostname: "node-2", corev1.LabelTopologyZone: "zone-b", corev1.LabelTopologyRegion: "region-1",
			},
		}},
	}
	if _, err := cluster.Signet.DiscoveryV1alpha1().EndpointSlices(ns).Create(ctx, alpha, metav1.CreateOptions{}); err != nil {
		failWithLogs(t, "creating through v1alpha1: %v", err)
	}
	got, err := cluster.Signet.DiscoveryV1().EndpointSlices(ns).Get(ctx, "from-2019", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ep := got.Endpoints[0]
	if ptr.Deref(ep.NodeName, "") != "node-2" || ptr.Deref(ep.Zone, "") != "zone-b" || ep.Topology[corev1.LabelTopologyRegion] != "region-1" {
		t.Errorf("v1 endpoint = nodeName %v zone %v topology %v; want node-2, zone-b and the whole map", ep.NodeName, ep.Zone, ep.Topology)
	}

	// A v1 object read through v1alpha1 keeps every field.
	if _, err := cluster.Signet.DiscoveryV1().EndpointSlices(ns).Create(ctx, validSlice("from-v1"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	back, err := cluster.Signet.DiscoveryV1alpha1().EndpointSlices(ns).Get(ctx, "from-v1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := back.Endpoints[0]
	if ptr.Deref(e.NodeName, "") != "node-1" || ptr.Deref(e.Zone, "") != "zone-a" || e.Topology[corev1.LabelHostname] != "node-1" {
		t.Errorf("v1alpha1 view = %+v", e)
	}
}

// statusCauses returns the field paths of a 422's causes.
func statusCauses(t *testing.T, err error) []string {
	t.Helper()
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		t.Fatalf("error %v is not an API status", err)
	}
	if status.Status().Code != 422 || !apierrors.IsInvalid(err) {
		t.Fatalf("got %d %s, want 422 Invalid: %v", status.Status().Code, status.Status().Reason, err)
	}
	var fields []string
	for _, c := range status.Status().Details.Causes {
		fields = append(fields, c.Field)
	}
	sort.Strings(fields)
	return fields
}

func TestValidationErrorsNameFields(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	cases := []struct {
		name   string
		mutate func(*networkingv1.Ingress)
		fields []string
	}{
		{"path with //", func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].Path = "/a//b" },
			[]string{"spec.rules[0].http.paths[0].path"}},
		{"missing pathType", func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].PathType = nil },
			[]string{"spec.rules[0].http.paths[0].pathType"}},
		{"double wildcard host", func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "*.*.example.com" },
			[]string{"spec.rules[0].host"}},
		{"bad regex", func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].PathType = ptr.To(networkingv1.PathTypeImplementationSpecific)
			i.Spec.Rules[0].HTTP.Paths[0].Path = "/(unclosed"
		}, []string{"spec.rules[0].http.paths[0].path"}},
		{"port with name and number", func(i *networkingv1.Ingress) {
			i.Spec.DefaultBackend.Service.Port = networkingv1.ServiceBackendPort{Name: "http", Number: 80}
		}, []string{"spec.defaultBackend.service.port"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ing := validIngress("bad")
			tc.mutate(ing)
			_, err := cluster.Signet.NetworkingV1().Ingresses(ns).Create(ctx, ing, metav1.CreateOptions{})
			if err == nil {
				t.Fatalf("the invalid Ingress was accepted")
			}
			if got := statusCauses(t, err); strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("fields = %v, want %v (%v)", got, tc.fields, err)
			}
		})
	}
	t.Run("EndpointSlice with loopback address", func(t *testing.T) {
		s := validSlice("bad")
		s.Endpoints[0].Addresses = []string{"127.0.0.1"}
		_, err := cluster.Signet.DiscoveryV1().EndpointSlices(ns).Create(ctx, s, metav1.CreateOptions{})
		if err == nil {
			t.Fatal("a loopback endpoint was accepted")
		}
		if got := statusCauses(t, err); strings.Join(got, ",") != "endpoints[0].addresses[0]" {
			t.Errorf("fields = %v", got)
		}
	})
	t.Run("IngressClass controller is immutable", func(t *testing.T) {
		classes := cluster.Signet.NetworkingV1().IngressClasses()
		ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "immutable-" + ns}, Spec: networkingv1.IngressClassSpec{Controller: "example.com/a"}}
		created, err := classes.Create(ctx, ic, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = classes.Delete(context.Background(), ic.Name, metav1.DeleteOptions{}) })
		created.Spec.Controller = "example.com/b"
		_, err = classes.Update(ctx, created, metav1.UpdateOptions{})
		if err == nil {
			t.Fatal("the controller was changed")
		}
		if got := statusCauses(t, err); strings.Join(got, ",") != "spec.controller" {
			t.Errorf("fields = %v", got)
		}
	})
}

func TestStatusSubresourceIsSeparate(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	ingresses := cluster.Signet.NetworkingV1().Ingresses(ns)
	withStatus := validIngress("status")
	withStatus.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.1"}}
	created, err := ingresses.Create(ctx, withStatus, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(created.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("create kept a client-written status: %+v", created.Status)
	}

	created.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.10"}}
	created.Status.Conditions = []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", Message: "ok", LastTransitionTime: metav1.Now()}}
	created.Spec.Rules[0].Host = "changed-by-status.example.com"
	afterStatus, err := ingresses.UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		failWithLogs(t, "status update: %v", err)
	}
	if afterStatus.Status.LoadBalancer.Ingress[0].IP != "192.0.2.10" || len(afterStatus.Status.Conditions) != 1 {
		t.Errorf("status update did not write status: %+v", afterStatus.Status)
	}
	if afterStatus.Spec.Rules[0].Host != "shop.example.com" || afterStatus.Generation != 1 {
		t.Errorf("status update changed the spec: host %q generation %d", afterStatus.Spec.Rules[0].Host, afterStatus.Generation)
	}

	afterStatus.Status.LoadBalancer.Ingress = nil
	afterStatus.Spec.Rules[0].Host = "spec.example.com"
	afterSpec, err := ingresses.Update(ctx, afterStatus, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(afterSpec.Status.LoadBalancer.Ingress) != 1 {
		t.Errorf("spec update changed the status: %+v", afterSpec.Status)
	}
	if afterSpec.Spec.Rules[0].Host != "spec.example.com" {
		t.Errorf("spec update did not write the spec")
	}

	bad := afterSpec.DeepCopy()
	bad.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "not-an-ip"}}
	if _, err := ingresses.UpdateStatus(ctx, bad, metav1.UpdateOptions{}); err == nil {
		t.Errorf("an invalid status was accepted")
	} else if got := statusCauses(t, err); strings.Join(got, ",") != "status.loadBalancer.ingress[0].ip" {
		t.Errorf("fields = %v", got)
	}
}
