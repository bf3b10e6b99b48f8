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
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"signet.dev/signet/test/e2e/framework"
)

// Timeouts of the specs' Eventually blocks: kube-proxy, the EndpointSlice
// controller and the DNS caches all react within seconds; these leave room
// for a loaded 2-core machine.
const (
	trafficTimeout = 2 * time.Minute
	pollInterval   = time.Second
)

// names returns the pods' names.
func names(pods ...*corev1.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Name
	}
	return out
}

// sampleHostnames makes n connections from client to hostPort and returns
// the names of the backends that answered, in order; the first failed
// connection ends the sample with an error.
func sampleHostnames(ctx context.Context, client *corev1.Pod, protocol, hostPort string, n int) ([]string, error) {
	GinkgoHelper()
	var got []string
	for range n {
		name, err := framework.Hostname(ctx, client, protocol, hostPort)
		if err != nil {
			return got, err
		}
		got = append(got, name)
	}
	return got, nil
}

// expectReachesAll waits until connections from client to hostPort have
// been answered by every one of backends, and by nothing else.
func expectReachesAll(ctx context.Context, client *corev1.Pod, protocol, hostPort string, backends []string) {
	GinkgoHelper()
	seen := sets.New[string]()
	Eventually(ctx, func(g Gomega) {
		name, err := framework.Hostname(ctx, client, protocol, hostPort)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(backends).To(ContainElement(name), "answer from %s to %s %s", client.Name, protocol, hostPort)
		seen.Insert(name)
		g.Expect(sets.List(seen)).To(ConsistOf(backends), "backends answering %s over %s from %s so far", hostPort, protocol, client.Name)
	}).WithTimeout(trafficTimeout).WithPolling(100 * time.Millisecond).Should(Succeed())
}

// expectOnlyBackend waits until a sample of connections from client to
// hostPort is answered by want alone, then checks a larger sample: with
// two or three candidate backends chosen at random, 20 answers from one
// of them by chance are a one-in-a-million event.
func expectOnlyBackend(ctx context.Context, client *corev1.Pod, protocol, hostPort, want string) {
	GinkgoHelper()
	Eventually(ctx, func(g Gomega) {
		got, err := sampleHostnames(ctx, client, protocol, hostPort, 8)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got).To(HaveEach(want), "backends answering %s over %s from %s (on %s)", hostPort, protocol, client.Name, client.Spec.NodeName)
	}).WithTimeout(trafficTimeout).WithPolling(pollInterval).Should(Succeed())
	got, err := sampleHostnames(ctx, client, protocol, hostPort, 20)
	Expect(err).NotTo(HaveOccurred())
	Expect(got).To(HaveEach(want), "backends answering %s over %s from %s (on %s)", hostPort, protocol, client.Name, client.Spec.NodeName)
}

// rejectSpacing separates connections that a REJECT rule answers: each
// refusal is an ICMP error, which the kernel rate-limits per client
// (net.ipv4.icmp_ratelimit, one a second after a burst of six), so that
// quicker attempts would see timeouts where the rule is there.
const rejectSpacing = 1100 * time.Millisecond

// expectRefused waits until a connection from client to hostPort is
// refused (a REJECT rule answers at once; a missing rule would time out),
// then checks that the next two are too.
func expectRefused(ctx context.Context, client *corev1.Pod, protocol, hostPort string) {
	GinkgoHelper()
	Eventually(ctx, func() framework.Result {
		return framework.Connect(ctx, client, protocol, hostPort)
	}).WithTimeout(trafficTimeout).WithPolling(rejectSpacing).Should(
		HaveField("ExitCode", framework.ConnectRefused), "connection from %s (on %s) to %s over %s", client.Name, client.Spec.NodeName, hostPort, protocol)
	for range 2 {
		time.Sleep(rejectSpacing)
		r := framework.Connect(ctx, client, protocol, hostPort)
		Expect(r.ExitCode).To(Equal(framework.ConnectRefused), "connection from %s to %s over %s: %s", client.Name, hostPort, protocol, r)
	}
	time.Sleep(rejectSpacing)
}

// podsOnNodes makes one HostnamePod per node, named prefix-<node>.
func podsOnNodes(prefix string, nodes []corev1.Node, podLabels map[string]string) []*corev1.Pod {
	var pods []*corev1.Pod
	for _, n := range nodes {
		pods = append(pods, framework.HostnamePod(fmt.Sprintf("%s-%s", prefix, n.Name), n.Name, podLabels))
	}
	return pods
}

// clientsOnNodes makes one ClientPod per node, named client-<node>.
func clientsOnNodes(nodes []corev1.Node) []*corev1.Pod {
	var pods []*corev1.Pod
	for _, n := range nodes {
		pods = append(pods, framework.ClientPod("client-"+n.Name, n.Name))
	}
	return pods
}

// podAddresses returns the pods' addresses of a family, sorted.
func podAddresses(family corev1.IPFamily, pods ...*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		if ip := framework.PodIP(p, family); ip != "" {
			out = append(out, ip)
		}
	}
	sort.Strings(out)
	return out
}
