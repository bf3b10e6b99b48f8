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

package framework

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NamespaceDeletionTimeout bounds waiting for a spec's namespace to go:
// its pods are network namespaces the node agents tear down one by one.
const NamespaceDeletionTimeout = 10 * time.Minute

// contentFailureGrace is how long a namespace may report that deleting its
// content failed before the suite gives up waiting for it.
const contentFailureGrace = 2 * time.Minute

// CreateNamespace creates the spec's own namespace, named after base, and
// registers its deletion when the spec ends. On failure, what the
// namespace held is written to the spec's output first; with
// E2E_KEEP_FAILED_NAMESPACES set it is also left in place for debugging.
func CreateNamespace(ctx context.Context, base string) string {
	ginkgo.GinkgoHelper()
	ns, err := TestContext.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "e2e-" + base + "-",
			Labels:       map[string]string{"e2e.signet.dev/suite": "signet"},
		},
	}, metav1.CreateOptions{})
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	name := ns.Name
	ginkgo.GinkgoWriter.Printf("namespace %s\n", name)
	ginkgo.DeferCleanup(func(ctx context.Context) {
		if ginkgo.CurrentSpecReport().Failed() {
			DumpNamespace(ctx, name)
			if os.Getenv("E2E_KEEP_FAILED_NAMESPACES") != "" {
				ginkgo.GinkgoWriter.Printf("keeping namespace %s (E2E_KEEP_FAILED_NAMESPACES)\n", name)
				return
			}
		}
		DeleteNamespace(ctx, name)
	}, ginkgo.NodeTimeout(NamespaceDeletionTimeout+time.Minute))
	return name
}

// DeleteNamespace deletes a namespace and waits until it is gone, so that
// the next spec does not share the nodes with this one's pods.
func DeleteNamespace(ctx context.Context, name string) {
	ginkgo.GinkgoHelper()
	start := time.Now()
	err := TestContext.Kube.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return
	}
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	var failingSince time.Time
	gomega.Eventually(ctx, func() error {
		ns, err := TestContext.Kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		pods, _ := TestContext.Kube.CoreV1().Pods(name).List(ctx, metav1.ListOptions{})
		n := 0
		if pods != nil {
			n = len(pods.Items)
		}
		err = fmt.Errorf("namespace %s still %s with %d pods; conditions %v", name, ns.Status.Phase, n, ns.Status.Conditions)
		// The namespace controller retries failed deletions; one that keeps
		// failing is a bug to report now, not after the whole timeout.
		if c := namespaceCondition(ns, corev1.NamespaceDeletionContentFailure); c != nil && c.Status == corev1.ConditionTrue {
			if failingSince.IsZero() {
				failingSince = time.Now()
			}
			if time.Since(failingSince) > contentFailureGrace {
				return gomega.StopTrying(fmt.Sprintf("the namespace controller keeps failing to delete the content of %s: %s", name, c.Message)).Wrap(err)
			}
		} else {
			failingSince = time.Time{}
		}
		return err
	}).WithTimeout(NamespaceDeletionTimeout).WithPolling(2 * time.Second).Should(gomega.Succeed())
	ginkgo.GinkgoWriter.Printf("namespace %s deleted in %s\n", name, time.Since(start).Round(time.Second))
}

// DumpNamespace writes the namespace's pods, Services, EndpointSlices and
// events to the spec's output.
func DumpNamespace(ctx context.Context, ns string) {
	w := ginkgo.GinkgoWriter
	w.Printf("\n===== namespace %s after the failure =====\n", ns)
	if pods, err := TestContext.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, p := range pods.Items {
			w.Printf("pod %s node=%s phase=%s ready=%v ips=%v deleting=%v netns=%s\n", p.Name, p.Spec.NodeName,
				p.Status.Phase, PodReady(&p), p.Status.PodIPs, p.DeletionTimestamp != nil, p.Annotations[NetnsAnnotation])
		}
	}
	if svcs, err := TestContext.Kube.CoreV1().Services(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, s := range svcs.Items {
			w.Printf("service %s type=%s clusterIPs=%v families=%v ports=%v annotations=%v\n", s.Name, s.Spec.Type,
				s.Spec.ClusterIPs, s.Spec.IPFamilies, s.Spec.Ports, s.Annotations)
		}
	}
	if slices, err := TestContext.Signet.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, s := range slices.Items {
			var eps []string
			for _, e := range s.Endpoints {
				node := ""
				if e.NodeName != nil {
					node = *e.NodeName
				}
				eps = append(eps, fmt.Sprintf("%v@%s(ready=%v)", e.Addresses, node, ptrBool(e.Conditions.Ready)))
			}
			if len(eps) > 12 {
				eps = append(eps[:12], fmt.Sprintf("... %d more", len(eps)-12))
			}
			w.Printf("slice %s service=%s type=%s endpoints=%d %s\n", s.Name, s.Labels["kubernetes.io/service-name"],
				s.AddressType, len(s.Endpoints), strings.Join(eps, " "))
		}
	}
	if events, err := TestContext.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, e := range events.Items {
			if e.Type != corev1.EventTypeNormal {
				w.Printf("event %s %s/%s %s: %s\n", e.Type, e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message)
			}
		}
	}
	w.Printf("===== end of namespace %s =====\n\n", ns)
}

func ptrBool(b *bool) string {
	if b == nil {
		return "unset"
	}
	return fmt.Sprint(*b)
}

func namespaceCondition(ns *corev1.Namespace, t corev1.NamespaceConditionType) *corev1.NamespaceCondition {
	for i := range ns.Status.Conditions {
		if ns.Status.Conditions[i].Type == t {
			return &ns.Status.Conditions[i]
		}
	}
	return nil
}
