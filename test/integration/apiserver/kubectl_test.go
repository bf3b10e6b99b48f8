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
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	networkingv1 "signet.dev/api/networking/v1"
)

// kubectl runs kubectl (built from the same upstream module) and returns
// its standard output.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	cmd := cluster.KubectlCmd(context.Background(), args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// header returns the column names of kubectl get's first line.
func header(out string) []string {
	return strings.Fields(strings.SplitN(out, "\n", 2)[0])
}

func TestKubectlGetColumns(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	ing := validIngress("shown")
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"shop.example.com"}, SecretName: "cert"}}
	created, err := cluster.Signet.NetworkingV1().Ingresses(ns).Create(ctx, ing, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.7"}}
	if _, err := cluster.Signet.NetworkingV1().Ingresses(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Signet.DiscoveryV1().EndpointSlices(ns).Create(ctx, validSlice("shown"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	classes := cluster.Signet.NetworkingV1().IngressClasses()
	className := "shown-" + ns
	ic := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: className},
		Spec: networkingv1.IngressClassSpec{Controller: "signet.dev/ingress", Parameters: &networkingv1.IngressClassParametersReference{
			APIGroup: ptr.To("example.com"), Kind: "Params", Name: "fast",
		}},
	}
	if _, err := classes.Create(ctx, ic, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = classes.Delete(context.Background(), className, metav1.DeleteOptions{}) })

	cases := []struct {
		name    string
		args    []string
		columns []string
		row     []string
	}{
		{"ingress (short name resolves to signet)", []string{"get", "ing", "-n", ns},
			[]string{"NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"},
			[]string{"shown", "test", "shop.example.com", "192.0.2.7", "80,", "443"}},
		{"ingressclass", []string{"get", "ingressclasses.networking.signet.dev", className},
			[]string{"NAME", "CONTROLLER", "PARAMETERS", "AGE"},
			[]string{className, "signet.dev/ingress", "Params.example.com/fast"}},
		{"endpointslice", []string{"get", "endpointslices.discovery.signet.dev", "-n", ns},
			[]string{"NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"},
			[]string{"shown", "IPv4", "8080", "10.1.0.1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := kubectl(t, tc.args...)
			if got := header(out); strings.Join(got, " ") != strings.Join(tc.columns, " ") {
				t.Errorf("columns = %v, want %v\n%s", got, tc.columns, out)
			}
			for _, cell := range tc.row {
				if !strings.Contains(out, cell) {
					t.Errorf("output lacks %q:\n%s", cell, out)
				}
			}
		})
	}

	t.Run("plain ingress is signet's", func(t *testing.T) {
		out := kubectl(t, "get", "ingress", "shown", "-n", ns, "-o", "jsonpath={.apiVersion}")
		if out != "networking.signet.dev/v1" {
			t.Errorf("kubectl get ingress returned %q, want networking.signet.dev/v1", out)
		}
	})
}

func TestKubectlExplain(t *testing.T) {
	out := kubectl(t, "explain", "ingresses.spec.rules.http.paths.pathType", "--api-version=networking.signet.dev/v1")
	for _, want := range []string{"GROUP:      networking.signet.dev", "pathType says how path is matched", "ImplementationSpecific"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl explain output lacks %q:\n%s", want, out)
		}
	}
	out = kubectl(t, "explain", "endpointslices.endpoints.topology", "--api-version=discovery.signet.dev/v1")
	if !strings.Contains(out, "Service topology keys are matched") {
		t.Errorf("kubectl explain of topology lacks its documentation:\n%s", out)
	}
}

// TestOpenAPIPublished checks both OpenAPI documents kube-apiserver
// aggregates from signet-apiserver carry signet's definitions.
func TestOpenAPIPublished(t *testing.T) {
	ctx := context.Background()
	v2, err := cluster.Kube.Discovery().RESTClient().Get().AbsPath("/openapi/v2").DoRaw(ctx)
	if err != nil {
		t.Fatalf("/openapi/v2: %v", err)
	}
	for _, def := range []string{"dev.signet.api.networking.v1.Ingress", "dev.signet.api.networking.v1beta1.IngressBackend", "dev.signet.api.discovery.v1alpha1.Endpoint"} {
		if !strings.Contains(string(v2), `"`+def+`"`) {
			t.Errorf("/openapi/v2 lacks the definition %s", def)
		}
	}
	v3, err := cluster.Kube.Discovery().RESTClient().Get().AbsPath("/openapi/v3/apis/discovery.signet.dev/v1").DoRaw(ctx)
	if err != nil {
		t.Fatalf("/openapi/v3: %v", err)
	}
	if !strings.Contains(string(v3), `"dev.signet.api.discovery.v1.EndpointSlice"`) || !strings.Contains(string(v3), `x-kubernetes-group-version-kind`) {
		t.Errorf("/openapi/v3/apis/discovery.signet.dev/v1 lacks the EndpointSlice schema with its GVK")
	}
}
