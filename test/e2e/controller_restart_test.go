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
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"signet.dev/signet/test/e2e/framework"
)

const (
	// controllerManager is signet-controller-manager's name in the local
	// cluster's pids/ and logs/.
	controllerManager = "signet-controller-manager"
	restartPods       = 30
	restartScaledPods = 45
	restartDeleted    = 3
	// restartQuiet is how long the slices are watched while the controller
	// is down: a sanity check that nothing else writes them, not a timing
	// assertion.
	restartQuiet       = 5 * time.Second
	restartPodsTimeout = 5 * time.Minute
)

// pauseDeployment is a Deployment of pause pods exposing framework.ServePort,
// as the EndpointSlice specs use: Ready as soon as they run.
func pauseDeployment(name string, podLabels map[string]string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: podLabels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
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
}

// sliceVersions maps each of the Service's slices to its resourceVersion.
func sliceVersions(ctx context.Context, g Gomega, ns, service string) map[string]string {
	slices, err := framework.ServiceSlices(ctx, ns, service)
	g.Expect(err).NotTo(HaveOccurred())
	out := map[string]string{}
	for _, s := range slices {
		out[s.Name] = s.ResourceVersion
	}
	return out
}

var _ = Describe("EndpointSlice", Label("slow"), Serial, func() {
	It("slices converge after the controller is killed mid-change", func(ctx SpecContext) {
		cluster := framework.RequireLocalUp(controllerManager)
		oldPid, ok := cluster.Pid(controllerManager)
		Expect(ok).To(BeTrue(), "%s does not run (pid file %s); run hack/local-up-cluster.sh up", controllerManager, cluster.PidFile(controllerManager))

		ns := framework.CreateNamespace(ctx, "controller-restart")
		app := map[string]string{"app": "restart"}
		const deployment = "restart"
		svc := framework.CreateService(ctx, ns, framework.HostnameService("restart", app, corev1.IPFamilyPolicyRequireDualStack, framework.Families...))
		deployments := framework.TestContext.Kube.AppsV1().Deployments(ns)
		pods := framework.TestContext.Kube.CoreV1().Pods(ns)

		By(fmt.Sprintf("waiting for %d pods and their slices", restartPods))
		start := time.Now()
		_, err := deployments.Create(ctx, pauseDeployment(deployment, app, restartPods), metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		waitForDeployment(ctx, ns, deployment, restartPods, restartPodsTimeout, nil)
		Eventually(ctx, func(g Gomega) {
			checkSlicesMatchReadyPods(ctx, g, ns, svc.Name, app, restartPods)
		}).WithTimeout(sliceTimeout).WithPolling(2 * time.Second).Should(Succeed())
		AddReportEntry(fmt.Sprintf("%d pods in slices", restartPods), time.Since(start).Round(time.Second).String())

		// Whatever happens from here on, the controller runs again when the
		// spec ends, for the specs after this one.
		DeferCleanup(func(ctx SpecContext) {
			if CurrentSpecReport().Failed() {
				GinkgoWriter.Printf("\n===== end of %s =====\n%s\n=====\n", cluster.LogFile(controllerManager), cluster.LogTail(controllerManager, 60))
			}
			if _, ok := cluster.Pid(controllerManager); !ok {
				By(controllerManager + " is down: starting it again")
				cluster.Up(ctx)
			}
		}, NodeTimeout(framework.LocalUpTimeout+time.Minute))

		By(fmt.Sprintf("SIGKILL to %s (pid %d)", controllerManager, oldPid))
		cluster.Kill(ctx, controllerManager)
		// A write the controller sent just before it died lands now or never.
		time.Sleep(time.Second)
		var before map[string]string
		Eventually(ctx, func(g Gomega) { before = sliceVersions(ctx, g, ns, svc.Name) }).WithTimeout(30 * time.Second).Should(Succeed())
		GinkgoWriter.Printf("slices (name: resourceVersion) with the controller down: %v\n", before)

		By(fmt.Sprintf("scaling to %d and deleting %d pods while it is down", restartScaledPods, restartDeleted))
		down := time.Now()
		patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, restartScaledPods)
		_, err = deployments.Patch(ctx, deployment, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		Expect(err).NotTo(HaveOccurred())
		list, err := framework.ListPods(ctx, ns, app)
		Expect(err).NotTo(HaveOccurred())
		var victims []string
		for _, p := range list {
			if p.DeletionTimestamp == nil && framework.PodReady(&p) {
				victims = append(victims, p.Name)
			}
		}
		Expect(len(victims)).To(BeNumerically(">=", restartDeleted))
		sort.Strings(victims)
		victims = victims[:restartDeleted]
		for _, name := range victims {
			Expect(pods.Delete(ctx, name, metav1.DeleteOptions{})).To(Succeed(), "deleting pod %s", name)
		}
		GinkgoWriter.Printf("deleted pods %v\n", victims)

		By("checking that the slices do not change while the controller is down")
		// The pods change meanwhile: the ReplicaSet makes the new ones at
		// once, the node agents start them and finish the deletions.
		Eventually(ctx, func(g Gomega) {
			list, err := framework.ListPods(ctx, ns, app)
			g.Expect(err).NotTo(HaveOccurred())
			live := 0
			for _, p := range list {
				if p.DeletionTimestamp == nil {
					live++
				}
			}
			g.Expect(live).To(Equal(restartScaledPods), "pods not being deleted")
		}).WithTimeout(time.Minute).WithPolling(time.Second).Should(Succeed())
		Consistently(ctx, func(g Gomega) {
			g.Expect(sliceVersions(ctx, g, ns, svc.Name)).To(Equal(before), "slices (name: resourceVersion) while %s is down", controllerManager)
		}).WithTimeout(restartQuiet).WithPolling(500 * time.Millisecond).Should(Succeed())
		_, ok = cluster.Pid(controllerManager)
		Expect(ok).To(BeFalse(), "%s runs again, but nothing in this spec restarted it", controllerManager)

		By("restarting it with hack/local-up-cluster.sh up")
		restart := time.Now()
		cluster.Up(ctx)
		newPid, ok := cluster.Pid(controllerManager)
		Expect(ok).To(BeTrue(), "%s does not run after hack/local-up-cluster.sh up", controllerManager)
		Expect(newPid).NotTo(Equal(oldPid), "pid of the restarted %s", controllerManager)
		AddReportEntry("down for", restart.Sub(down).Round(time.Second).String())
		AddReportEntry("restart (local-up up)", time.Since(restart).Round(time.Second).String())

		By(fmt.Sprintf("waiting until the slices list exactly the %d ready pods", restartScaledPods))
		waitForDeployment(ctx, ns, deployment, restartScaledPods, restartPodsTimeout, nil)
		var sizes map[corev1.IPFamily][]int
		Eventually(ctx, func(g Gomega) {
			sizes = checkSlicesMatchReadyPods(ctx, g, ns, svc.Name, app, restartScaledPods)
			list, err := framework.ListPods(ctx, ns, app)
			g.Expect(err).NotTo(HaveOccurred())
			for _, p := range list {
				g.Expect(victims).NotTo(ContainElement(p.Name), "deleted pod %s still exists", p.Name)
			}
		}).WithTimeout(sliceTimeout).WithPolling(2 * time.Second).Should(Succeed())
		AddReportEntry("converged after the restart", time.Since(restart).Round(time.Second).String())
		AddReportEntry("slice sizes", fmt.Sprint(sizes))
	}, SpecTimeout(15*time.Minute))
})
