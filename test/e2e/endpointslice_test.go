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
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	discoveryv1 "signet.dev/api/discovery/v1"
	"signet.dev/signet/test/e2e/framework"
)

const (
	// manyPods is the size of the Deployment: with at most 100 endpoints
	// per slice (signet-controller-manager's --max-endpoints-per-slice
	// default) it takes 3 slices per family.
	manyPods          = 250
	maxPerSlice       = 100
	slicesPerFamily   = (manyPods + maxPerSlice - 1) / maxPerSlice
	manyPodsTimeout   = 15 * time.Minute
	sliceTimeout      = 3 * time.Minute
	compactionTimeout = 6 * time.Minute
)

// checkSlicesMatchReadyPods checks that the Service's slices of each
// family list exactly the addresses of the ready, non-terminating pods
// matching selector, all ready, each once, in slices of at most
// maxPerSlice; it returns each family's slice sizes.
func checkSlicesMatchReadyPods(ctx context.Context, g Gomega, ns, service string, selector map[string]string, wantPods int) map[corev1.IPFamily][]int {
	pods, err := framework.ListPods(ctx, ns, selector)
	g.Expect(err).NotTo(HaveOccurred())
	var ready []*corev1.Pod
	for i := range pods {
		p := &pods[i]
		if p.DeletionTimestamp == nil && framework.PodReady(p) {
			ready = append(ready, p)
		}
	}
	g.Expect(ready).To(HaveLen(wantPods), "ready pods (%d pods in all)", len(pods))
	slices, err := framework.ServiceSlices(ctx, ns, service)
	g.Expect(err).NotTo(HaveOccurred())
	sum := framework.SummarizeSlices(slices)
	g.Expect(sum).To(HaveLen(len(framework.Families)), "address types of %s's slices", service)
	sizes := map[corev1.IPFamily][]int{}
	for _, family := range framework.Families {
		f := sum[framework.AddressType(family)]
		g.Expect(f).NotTo(BeNil(), "no %s slice", family)
		g.Expect(f.Foreign).To(BeEmpty(), "%s slices not managed by signet's controller", family)
		g.Expect(f.Duplicates).To(BeEmpty(), "%s endpoints listed twice", family)
		want := podAddresses(family, ready...)
		g.Expect(f.Addresses).To(HaveLen(len(want)), "%s endpoints", family)
		g.Expect(f.Addresses).To(Equal(want), "%s endpoints are the ready pods' addresses", family)
		g.Expect(f.Ready).To(Equal(want), "%s endpoints are all ready", family)
		for _, n := range f.Sizes {
			g.Expect(n).To(BeNumerically("<=", maxPerSlice), "%s slice sizes %v", family, f.Sizes)
		}
		sizes[family] = f.Sizes
	}
	return sizes
}

// sliceSizes are the sizes of a family's slices, or nil.
func sliceSizes(sum map[discoveryv1.AddressType]*framework.FamilySlices, family corev1.IPFamily) []int {
	if f := sum[framework.AddressType(family)]; f != nil {
		return f.Sizes
	}
	return nil
}

// waitForDeployment waits until every replica of the Deployment's current
// template is ready and no other replica is left.
func waitForDeployment(ctx context.Context, ns, name string, replicas int32, timeout time.Duration, each func()) {
	GinkgoHelper()
	deployments := framework.TestContext.Kube.AppsV1().Deployments(ns)
	Eventually(ctx, func(g Gomega) {
		if each != nil {
			each()
		}
		d, err := deployments.Get(ctx, name, metav1.GetOptions{})
		g.Expect(err).NotTo(HaveOccurred())
		s := d.Status
		g.Expect(s.ObservedGeneration).To(BeNumerically(">=", d.Generation), "observed generation")
		g.Expect([]int32{s.Replicas, s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas, s.UnavailableReplicas}).To(
			Equal([]int32{replicas, replicas, replicas, replicas, 0}), "replicas, updated, ready, available, unavailable")
	}).WithTimeout(timeout).WithPolling(2 * time.Second).Should(Succeed())
}

var _ = Describe("EndpointSlice", Label("slow"), Ordered, func() {
	var (
		ns    string
		svc   *corev1.Service
		start time.Time
	)
	app := map[string]string{"app": "many"}
	const deployment = "many"

	BeforeAll(func(ctx SpecContext) {
		ns = framework.CreateNamespace(ctx, "endpointslice")
		svc = framework.CreateService(ctx, ns, framework.HostnameService("many", app, corev1.IPFamilyPolicyRequireDualStack, framework.Families...))
	})

	It(fmt.Sprintf("splits a Deployment of %d pods into %d slices of at most %d endpoints per family", manyPods, slicesPerFamily, maxPerSlice), func(ctx SpecContext) {
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: deployment},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](manyPods),
				Selector: &metav1.LabelSelector{MatchLabels: app},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: app},
					Spec: corev1.PodSpec{
						TerminationGracePeriodSeconds: ptr.To[int64](1),
						Containers: []corev1.Container{{
							Name:  "pause",
							Image: framework.PauseImage,
							Ports: []corev1.ContainerPort{{ContainerPort: framework.ServePort}},
						}},
					},
				},
			},
		}
		start = time.Now()
		_, err := framework.TestContext.Kube.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		waitForDeployment(ctx, ns, deployment, manyPods, manyPodsTimeout, nil)
		AddReportEntry(fmt.Sprintf("%d pods Ready", manyPods), time.Since(start).Round(time.Second).String())

		var (
			sizes map[corev1.IPFamily][]int
			seen  []string
		)
		Eventually(ctx, func(g Gomega) {
			if slices, err := framework.ServiceSlices(ctx, ns, svc.Name); err == nil {
				sum := framework.SummarizeSlices(slices)
				seen = append(seen, fmt.Sprintf("%s: IPv4 %v IPv6 %v", time.Since(start).Round(time.Second),
					sliceSizes(sum, corev1.IPv4Protocol), sliceSizes(sum, corev1.IPv6Protocol)))
			}
			sizes = checkSlicesMatchReadyPods(ctx, g, ns, svc.Name, app, manyPods)
			for _, family := range framework.Families {
				g.Expect(sizes[family]).To(HaveLen(slicesPerFamily), "%s slice sizes", family)
			}
		}).WithTimeout(sliceTimeout).WithPolling(2 * time.Second).Should(Succeed())
		AddReportEntry(fmt.Sprintf("%d pods in slices", manyPods), time.Since(start).Round(time.Second).String())
		AddReportEntry("slice sizes", fmt.Sprint(sizes))
		GinkgoWriter.Printf("slices while the Deployment came up (time since its creation: sizes):\n  %s\n", strings.Join(seen, "\n  "))
	}, SpecTimeout(manyPodsTimeout+sliceTimeout+time.Minute))

	It("lists exactly the ready pods, each once, after a rollout", func(ctx SpecContext) {
		start = time.Now()
		patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"e2e.signet.dev/rollout":%q}}}}}`, start.Format(time.RFC3339Nano))
		_, err := framework.TestContext.Kube.AppsV1().Deployments(ns).Patch(ctx, deployment, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
		Expect(err).NotTo(HaveOccurred())

		// Watch the slices while the rollout runs: churn slices come and go,
		// none may ever exceed the limit.
		maxSlices, maxSize := 0, 0
		observe := func() {
			slices, err := framework.ServiceSlices(ctx, ns, svc.Name)
			if err != nil {
				return
			}
			maxSlices = max(maxSlices, len(slices))
			for _, s := range slices {
				maxSize = max(maxSize, len(s.Endpoints))
			}
		}
		waitForDeployment(ctx, ns, deployment, manyPods, manyPodsTimeout, observe)
		AddReportEntry("rollout done", time.Since(start).Round(time.Second).String())
		Expect(maxSize).To(BeNumerically("<=", maxPerSlice), "largest slice seen during the rollout")
		AddReportEntry("during the rollout", fmt.Sprintf("at most %d slices, at most %d endpoints in one", maxSlices, maxSize))

		var sizes map[corev1.IPFamily][]int
		Eventually(ctx, func(g Gomega) {
			sizes = checkSlicesMatchReadyPods(ctx, g, ns, svc.Name, app, manyPods)
			pods, err := framework.ListPods(ctx, ns, app)
			g.Expect(err).NotTo(HaveOccurred())
			hashes := map[string]bool{}
			for _, p := range pods {
				hashes[p.Labels[appsv1.DefaultDeploymentUniqueLabelKey]] = true
			}
			g.Expect(hashes).To(HaveLen(1), "pod-template-hash values left: the old pods are gone")
		}).WithTimeout(sliceTimeout).WithPolling(2 * time.Second).Should(Succeed())
		AddReportEntry("slices after the rollout", fmt.Sprint(sizes))
	}, SpecTimeout(manyPodsTimeout+sliceTimeout+time.Minute))

	It(fmt.Sprintf("packs the slices back into %d per family once the rollout has settled", slicesPerFamily), func(ctx SpecContext) {
		start = time.Now()
		var sizes map[corev1.IPFamily][]int
		Eventually(ctx, func(g Gomega) {
			sizes = checkSlicesMatchReadyPods(ctx, g, ns, svc.Name, app, manyPods)
			for _, family := range framework.Families {
				g.Expect(sizes[family]).To(HaveLen(slicesPerFamily), "%s slice sizes", family)
			}
		}).WithTimeout(compactionTimeout).WithPolling(5 * time.Second).Should(Succeed())
		AddReportEntry("compacted", time.Since(start).Round(time.Second).String())
		for _, family := range framework.Families {
			s := append([]int(nil), sizes[family]...)
			sort.Ints(s)
			GinkgoWriter.Printf("%s slice sizes after compaction: %v\n", family, s)
		}
	}, SpecTimeout(compactionTimeout+time.Minute))
})
