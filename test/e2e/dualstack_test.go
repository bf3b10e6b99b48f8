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
	"fmt"
	"net/netip"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	discoveryv1 "signet.dev/api/discovery/v1"
	"signet.dev/signet/test/e2e/framework"
)

var _ = Describe("Dual-stack", func() {
	var ns string
	app := map[string]string{"app": "web"}

	BeforeEach(func(ctx SpecContext) {
		framework.RequireRoot()
		ns = framework.CreateNamespace(ctx, "dualstack")
	})

	It("gives every pod an IPv4 and an IPv6 address from its node's pod CIDRs", func(ctx SpecContext) {
		nodes := framework.ReadyNodes(ctx, 1)
		pods := framework.StartPods(ctx, ns, podsOnNodes("pod", nodes, app)...)
		for i, pod := range pods {
			node := nodes[i]
			Expect(pod.Status.PodIPs).To(HaveLen(2), "pod %s: status.podIPs", pod.Name)
			Expect(pod.Status.PodIP).To(Equal(pod.Status.PodIPs[0].IP), "pod %s: status.podIP is the primary address", pod.Name)
			Expect(node.Spec.PodCIDRs).To(HaveLen(2), "node %s: spec.podCIDRs", node.Name)
			for _, family := range framework.Families {
				ip := framework.PodIP(pod, family)
				Expect(ip).NotTo(BeEmpty(), "pod %s has no %s address: %v", pod.Name, family, pod.Status.PodIPs)
				addr := netip.MustParseAddr(ip)
				inCIDR := false
				for _, c := range node.Spec.PodCIDRs {
					if netip.MustParsePrefix(c).Contains(addr) {
						inCIDR = true
					}
				}
				Expect(inCIDR).To(BeTrue(), "pod %s: %s is in none of node %s's pod CIDRs %v", pod.Name, ip, node.Name, node.Spec.PodCIDRs)

				By(fmt.Sprintf("pod %s holds %s on eth0", pod.Name, ip))
				r := framework.ExecInPod(ctx, pod, "ip", "-o", "addr", "show", "dev", "eth0")
				Expect(r.ExitCode).To(Equal(0), "%s", r)
				Expect(r.Stdout).To(ContainSubstring(" "+ip+"/"), "addresses of %s's eth0", pod.Name)
			}
			Expect(pod.Status.HostIPs).To(HaveLen(2), "pod %s: status.hostIPs", pod.Name)
		}
	})

	It("publish one EndpointSlice per family for a RequireDualStack Service, reachable on both cluster IPs", func(ctx SpecContext) {
		nodes := framework.ReadyNodes(ctx, 2)
		backends := framework.StartPods(ctx, ns, podsOnNodes("web", nodes, app)...)
		client := framework.StartPods(ctx, ns, framework.ClientPod("client", nodes[0].Name))[0]
		svc := framework.CreateService(ctx, ns, framework.HostnameService("web", app, corev1.IPFamilyPolicyRequireDualStack, framework.Families...))
		Expect(svc.Spec.IPFamilies).To(ConsistOf(corev1.IPv4Protocol, corev1.IPv6Protocol))
		Expect(svc.Spec.ClusterIPs).To(HaveLen(2))
		framework.WaitForEndpoints(ctx, ns, svc.Name, framework.Families, backends...)

		slices, err := framework.ServiceSlices(ctx, ns, svc.Name)
		Expect(err).NotTo(HaveOccurred())
		byType := map[discoveryv1.AddressType][]discoveryv1.EndpointSlice{}
		for _, s := range slices {
			byType[s.AddressType] = append(byType[s.AddressType], s)
		}
		Expect(byType).To(HaveLen(2), "slices of %s by address type", svc.Name)
		for _, family := range framework.Families {
			fam := byType[framework.AddressType(family)]
			Expect(fam).To(HaveLen(1), "%s slices of %s", family, svc.Name)
			s := fam[0]
			Expect(s.Labels).To(HaveKeyWithValue(discoveryv1.LabelManagedBy, framework.ManagedBy))
			Expect(metav1.IsControlledBy(&s, svc)).To(BeTrue(), "slice %s is controlled by its Service", s.Name)
			Expect(s.Endpoints).To(HaveLen(len(backends)))
			for _, e := range s.Endpoints {
				Expect(e.Addresses).To(HaveLen(1))
				Expect(framework.FamilyOf(e.Addresses[0])).To(Equal(family), "address %s in a %s slice", e.Addresses[0], s.AddressType)
				Expect(e.TargetRef).NotTo(BeNil())
				pod := backendByName(backends, e.TargetRef.Name)
				Expect(pod).NotTo(BeNil(), "endpoint %v targets %s", e.Addresses, e.TargetRef.Name)
				Expect(e.Addresses[0]).To(Equal(framework.PodIP(pod, family)))
				Expect(e.NodeName).To(HaveValue(Equal(pod.Spec.NodeName)))
			}
			var ports []string
			for _, p := range s.Ports {
				ports = append(ports, fmt.Sprintf("%s/%d/%s", *p.Name, *p.Port, *p.Protocol))
			}
			Expect(ports).To(ConsistOf(fmt.Sprintf("tcp/%d/TCP", framework.ServePort), fmt.Sprintf("udp/%d/UDP", framework.ServePort)))
		}

		for _, family := range framework.Families {
			vip := framework.JoinHostPort(framework.ClusterIP(svc, family), framework.ServicePort)
			By(fmt.Sprintf("reaching every backend on the %s cluster IP %s", family, vip))
			expectReachesAll(ctx, client, "tcp", vip, names(backends...))
		}
	})

	It("answer A and AAAA records for a dual-stack Service, and only AAAA for an IPv6 single-stack one", func(ctx SpecContext) {
		nodes := framework.ReadyNodes(ctx, 1)
		framework.StartPods(ctx, ns, framework.HostnamePod("web", nodes[0].Name, app))
		client := framework.StartPods(ctx, ns, framework.ClientPod("client", nodes[0].Name))[0]
		dual := framework.CreateService(ctx, ns, framework.HostnameService("dual", app, corev1.IPFamilyPolicyRequireDualStack, framework.Families...))
		v6 := framework.CreateService(ctx, ns, framework.HostnameService("only-v6", app, corev1.IPFamilyPolicySingleStack, corev1.IPv6Protocol))

		for _, name := range []string{"dual", "dual." + ns, "dual." + ns + ".svc"} {
			By(fmt.Sprintf("%s: A and AAAA are the Service's two cluster IPs", name))
			Eventually(ctx, func(g Gomega) {
				got, r := framework.DNSLookup(ctx, client, name)
				g.Expect(r.ExitCode).To(Equal(0), "%s", r)
				g.Expect(got).To(ConsistOf(dual.Spec.ClusterIPs), "%s", r)
			}).WithTimeout(trafficTimeout).WithPolling(pollInterval).Should(Succeed())
		}
		for qtype, family := range map[string]corev1.IPFamily{"A": corev1.IPv4Protocol, "AAAA": corev1.IPv6Protocol} {
			got, r := framework.DNSLookup(ctx, client, "dual", qtype)
			Expect(r.ExitCode).To(Equal(0), "%s", r)
			Expect(got).To(ConsistOf(framework.ClusterIP(dual, family)), "%s", r)
		}

		By("only-v6: AAAA only")
		Eventually(ctx, func(g Gomega) {
			got, r := framework.DNSLookup(ctx, client, "only-v6")
			g.Expect(r.ExitCode).To(Equal(0), "%s", r)
			g.Expect(got).To(ConsistOf(v6.Spec.ClusterIP), "%s", r)
		}).WithTimeout(trafficTimeout).WithPolling(pollInterval).Should(Succeed())
		got, r := framework.DNSLookup(ctx, client, "only-v6", "A")
		Expect(r.ExitCode).To(Equal(1), "an A lookup of an IPv6-only Service finds no record: %s", r)
		Expect(got).To(BeEmpty())
	})
})

func backendByName(pods []*corev1.Pod, name string) *corev1.Pod {
	for _, p := range pods {
		if p.Name == name {
			return p
		}
	}
	return nil
}
