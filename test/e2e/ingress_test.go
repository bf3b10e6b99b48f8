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

package e2e

import (
	"encoding/json"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	networkingv1 "signet.dev/api/networking/v1"
	networkingv1beta1 "signet.dev/api/networking/v1beta1"
	"signet.dev/signet/test/e2e/framework"
)

var _ = Describe("Ingress API", func() {
	var ns string

	BeforeEach(func(ctx SpecContext) {
		framework.RequireKubectl()
		ns = framework.CreateNamespace(ctx, "ingress")
	})

	It("reads an Ingress applied as networking.signet.dev/v1beta1 back as v1 with kubectl", func(ctx SpecContext) {
		manifest := fmt.Sprintf(`apiVersion: networking.signet.dev/v1beta1
kind: Ingress
metadata:
  name: legacy
  namespace: %s
spec:
  backend:
    serviceName: fallback
    servicePort: 80
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /api
        backend:
          serviceName: api
          servicePort: http
      - path: /static
        pathType: Prefix
        backend:
          serviceName: static
          servicePort: 8080
`, ns)
		out := framework.Kubectl(ctx, manifest, "apply", "-f", "-")
		Expect(out).To(ContainSubstring("ingress.networking.signet.dev/legacy created"))

		By("kubectl get ingresses.networking.signet.dev: the v1 shape")
		raw := framework.Kubectl(ctx, "", "get", "ingresses.networking.signet.dev", "legacy", "-n", ns, "-o", "json")
		var v1 networkingv1.Ingress
		Expect(json.Unmarshal([]byte(raw), &v1)).To(Succeed(), raw)
		Expect(v1.APIVersion).To(Equal("networking.signet.dev/v1"))
		Expect(v1.Kind).To(Equal("Ingress"))
		Expect(v1.Spec.DefaultBackend).NotTo(BeNil(), "spec.backend became spec.defaultBackend:\n%s", raw)
		Expect(v1.Spec.DefaultBackend.Service).To(Equal(&networkingv1.IngressServiceBackend{
			Name: "fallback", Port: networkingv1.ServiceBackendPort{Number: 80},
		}))
		Expect(v1.Spec.Rules).To(HaveLen(1))
		Expect(v1.Spec.Rules[0].Host).To(Equal("shop.example.com"))
		Expect(v1.Spec.Rules[0].HTTP).NotTo(BeNil())
		paths := v1.Spec.Rules[0].HTTP.Paths
		Expect(paths).To(HaveLen(2))
		Expect(paths[0].Path).To(Equal("/api"))
		Expect(paths[0].PathType).To(HaveValue(Equal(networkingv1.PathTypeImplementationSpecific)), "v1beta1 defaults pathType")
		Expect(paths[0].Backend.Service).To(Equal(&networkingv1.IngressServiceBackend{
			Name: "api", Port: networkingv1.ServiceBackendPort{Name: "http"},
		}))
		Expect(paths[1].PathType).To(HaveValue(Equal(networkingv1.PathTypePrefix)))
		Expect(paths[1].Backend.Service).To(Equal(&networkingv1.IngressServiceBackend{
			Name: "static", Port: networkingv1.ServiceBackendPort{Number: 8080},
		}))

		By("the typed v1 client sees the same object")
		typed, err := framework.TestContext.Signet.NetworkingV1().Ingresses(ns).Get(ctx, "legacy", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(typed.Spec).To(Equal(v1.Spec))

		By("kubectl get ingresses.v1beta1.networking.signet.dev: still the legacy shape")
		raw = framework.Kubectl(ctx, "", "get", "ingresses.v1beta1.networking.signet.dev", "legacy", "-n", ns, "-o", "json")
		var beta networkingv1beta1.Ingress
		Expect(json.Unmarshal([]byte(raw), &beta)).To(Succeed(), raw)
		Expect(beta.APIVersion).To(Equal("networking.signet.dev/v1beta1"))
		Expect(beta.Spec.Backend).NotTo(BeNil())
		Expect(beta.Spec.Backend.ServiceName).To(Equal("fallback"))
		Expect(beta.Spec.Backend.ServicePort.IntValue()).To(Equal(80))
		Expect(beta.Spec.Rules[0].HTTP.Paths[0].Backend.ServicePort.String()).To(Equal("http"))
	})

	It("gives an Ingress created without a class the default IngressClass", Serial, func(ctx SpecContext) {
		classes := framework.TestContext.Signet.NetworkingV1().IngressClasses()
		defaultName, otherName := "e2e-default-"+ns, "e2e-other-"+ns
		for _, c := range []*networkingv1.IngressClass{
			{
				ObjectMeta: metav1.ObjectMeta{Name: defaultName, Annotations: map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}},
				Spec:       networkingv1.IngressClassSpec{Controller: "signet.dev/e2e-default"},
			},
			// Created after the default, and not marked: must not be chosen.
			{
				ObjectMeta: metav1.ObjectMeta{Name: otherName},
				Spec:       networkingv1.IngressClassSpec{Controller: "signet.dev/e2e-other"},
			},
		} {
			_, err := classes.Create(ctx, c, metav1.CreateOptions{})
			Expect(err).NotTo(HaveOccurred())
			name := c.Name
			DeferCleanup(func(ctx SpecContext) {
				err := classes.Delete(ctx, name, metav1.DeleteOptions{})
				if !apierrors.IsNotFound(err) {
					Expect(err).NotTo(HaveOccurred())
				}
			})
		}
		ingresses := framework.TestContext.Signet.NetworkingV1().Ingresses(ns)
		backend := &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
			Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80},
		}}

		By("an Ingress created through v1 without a class (retried until the admission cache has the new class)")
		Eventually(ctx, func(g Gomega) {
			ing, err := ingresses.Create(ctx, &networkingv1.Ingress{
				ObjectMeta: metav1.ObjectMeta{Name: "no-class"},
				Spec:       networkingv1.IngressSpec{DefaultBackend: backend},
			}, metav1.CreateOptions{})
			g.Expect(err).NotTo(HaveOccurred())
			if ptr.Deref(ing.Spec.IngressClassName, "") != defaultName {
				// Admission's cache did not have the class yet; try again.
				g.Expect(ingresses.Delete(ctx, ing.Name, metav1.DeleteOptions{})).To(Succeed())
			}
			g.Expect(ing.Spec.IngressClassName).To(HaveValue(Equal(defaultName)))
		}).WithTimeout(time.Minute).WithPolling(2 * time.Second).Should(Succeed())
		got, err := ingresses.Get(ctx, "no-class", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(got.Spec.IngressClassName).To(HaveValue(Equal(defaultName)), "the class is stored, not only returned")

		By("an Ingress applied with kubectl as v1beta1 without a class")
		framework.Kubectl(ctx, fmt.Sprintf(`apiVersion: networking.signet.dev/v1beta1
kind: Ingress
metadata:
  name: no-class-beta
  namespace: %s
spec:
  backend:
    serviceName: web
    servicePort: 80
`, ns), "apply", "-f", "-")
		class := framework.Kubectl(ctx, "", "get", "ingresses.networking.signet.dev", "no-class-beta", "-n", ns, "-o", "jsonpath={.spec.ingressClassName}")
		Expect(class).To(Equal(defaultName))

		By("an Ingress that names a class keeps it")
		named, err := ingresses.Create(ctx, &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Name: "named"},
			Spec:       networkingv1.IngressSpec{IngressClassName: ptr.To(otherName), DefaultBackend: backend},
		}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(named.Spec.IngressClassName).To(HaveValue(Equal(otherName)))

		By("an Ingress with the legacy kubernetes.io/ingress.class annotation gets no class name")
		legacy, err := ingresses.Create(ctx, &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Name: "annotated", Annotations: map[string]string{"kubernetes.io/ingress.class": otherName}},
			Spec:       networkingv1.IngressSpec{DefaultBackend: backend},
		}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(legacy.Spec.IngressClassName).To(BeNil())
	})
})
