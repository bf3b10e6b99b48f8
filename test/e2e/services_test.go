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
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	"signet.dev/signet/test/e2e/framework"
)

var _ = Describe("Services", func() {
	var ns string
	app := map[string]string{"app": "web"}

	BeforeEach(func(ctx SpecContext) {
		framework.RequireRoot()
		ns = framework.CreateNamespace(ctx, "services")
	})

	It("reach a ClusterIP Service over IPv4 and over IPv6 from a pod on every node", func(ctx SpecContext) {
		nodes := framework.ReadyNodes(ctx, 2)
		backends := framework.StartPods(ctx, ns, podsOnNodes("web", nodes, app)...)
		clients := framework.StartPods(ctx, ns, clientsOnNodes(nodes)...)
		for _, family := range framework.Families {
			svc := framework.CreateService(ctx, ns, framework.HostnameService("web-"+strings.ToLower(string(family)), app, corev1.IPFamilyPolicySingleStack, family))
			Expect(svc.Spec.ClusterIPs).To(HaveLen(1))
			Expect(framework.FamilyOf(svc.Spec.ClusterIP)).To(Equal(family), "cluster IP %s of a SingleStack %s Service", svc.Spec.ClusterIP, family)
			framework.WaitForEndpoints(ctx, ns, svc.Name, []corev1.IPFamily{family}, backends...)
			vip := framework.JoinHostPort(svc.Spec.ClusterIP, framework.ServicePort)
			for _, client := range clients {
				for _, proto := range []string{"tcp", "udp"} {
					By(fmt.Sprintf("%s over %s from %s to %s: every backend answers", family, proto, client.Spec.NodeName, vip))
					expectReachesAll(ctx, client, proto, vip, names(backends...))
				}
			}
		}
	})

	It("reach a NodePort Service on both families from one node to another node's address", func(ctx SpecContext) {
		nodes := framework.ReadyNodes(ctx, 2)
		backends := framework.StartPods(ctx, ns, podsOnNodes("web", nodes, app)...)
		spec := framework.HostnameService("web", app, corev1.IPFamilyPolicyRequireDualStack, framework.Families...)
		spec.Spec.Type = corev1.ServiceTypeNodePort
		svc := framework.CreateService(ctx, ns, spec)
		framework.WaitForEndpoints(ctx, ns, svc.Name, framework.Families, backends...)
		for _, port := range svc.Spec.Ports {
			Expect(port.NodePort).NotTo(BeZero(), "port %s has no node port", port.Name)
			proto := map[corev1.Protocol]string{corev1.ProtocolTCP: "tcp", corev1.ProtocolUDP: "udp"}[port.Protocol]
			for i, from := range nodes {
				to := nodes[(i+1)%len(nodes)]
				for _, family := range framework.Families {
					ip := framework.NodeInternalIP(&to, family)
					Expect(ip).NotTo(BeEmpty(), "node %s has no %s InternalIP", to.Name, family)
					target := framework.JoinHostPort(ip, port.NodePort)
					By(fmt.Sprintf("from node %s to node %s at %s over %s", from.Name, to.Name, target, proto))
					Eventually(ctx, func(g Gomega) {
						r := framework.ConnectFromNode(ctx, from.Name, proto, target)
						g.Expect(r.ExitCode).To(Equal(framework.ConnectOK), "%s", r)
						g.Expect(names(backends...)).To(ContainElement(strings.TrimSpace(r.Stdout)))
					}).WithTimeout(trafficTimeout).WithPolling(pollInterval).Should(Succeed())
				}
			}
		}
	})

	It("reject connections to a Service without endpoints at once, on both families", func(ctx SpecContext) {
		nodes := framework.ReadyNodes(ctx, 1)
		client := framework.StartPods(ctx, ns, framework.ClientPod("client", nodes[0].Name))[0]
		svc := framework.CreateService(ctx, ns, framework.HostnameService("nobody", map[string]string{"app": "nobody"},
			corev1.IPFamilyPolicyRequireDualStack, framework.Families...))
		for _, family := range framework.Families {
			vip := framework.JoinHostPort(framework.ClusterIP(svc, family), framework.ServicePort)
			for _, proto := range []string{"tcp", "udp"} {
				By(fmt.Sprintf("%s over %s to %s: refused, not timed out", family, proto, vip))
				expectRefused(ctx, client, proto, vip)
			}
		}
		slices, err := framework.ServiceSlices(ctx, ns, svc.Name)
		Expect(err).NotTo(HaveOccurred())
		Expect(slices).To(BeEmpty(), "a Service without endpoints has no EndpointSlice (no placeholder)")
	})

	It("send a client to the same backend every time with sessionAffinity ClientIP", func(ctx SpecContext) {
		nodes := framework.ReadyNodes(ctx, 2)
		backends := framework.StartPods(ctx, ns, podsOnNodes("web", nodes, app)...)
		client := framework.StartPods(ctx, ns, framework.ClientPod("client", nodes[0].Name))[0]

		sticky := framework.HostnameService("sticky", app, corev1.IPFamilyPolicyRequireDualStack, framework.Families...)
		sticky.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		stickySvc := framework.CreateService(ctx, ns, sticky)
		Expect(stickySvc.Spec.SessionAffinityConfig).NotTo(BeNil())
		Expect(stickySvc.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds).To(HaveValue(BeNumerically(">=", 60)))
		spread := framework.CreateService(ctx, ns, framework.HostnameService("spread", app, corev1.IPFamilyPolicyRequireDualStack, framework.Families...))
		framework.WaitForEndpoints(ctx, ns, stickySvc.Name, framework.Families, backends...)
		framework.WaitForEndpoints(ctx, ns, spread.Name, framework.Families, backends...)

		for _, family := range framework.Families {
			By(fmt.Sprintf("%s: the same client reaches several backends of a Service without affinity", family))
			expectReachesAll(ctx, client, "tcp", framework.JoinHostPort(framework.ClusterIP(spread, family), framework.ServicePort), names(backends...))

			for _, proto := range []string{"tcp", "udp"} {
				vip := framework.JoinHostPort(framework.ClusterIP(stickySvc, family), framework.ServicePort)
				By(fmt.Sprintf("%s over %s to %s: one backend for every connection", family, proto, vip))
				var first string
				Eventually(ctx, func() error {
					var err error
					first, err = framework.Hostname(ctx, client, proto, vip)
					return err
				}).WithTimeout(trafficTimeout).WithPolling(pollInterval).Should(Succeed())
				Expect(names(backends...)).To(ContainElement(first))
				got, err := sampleHostnames(ctx, client, proto, vip, 20)
				Expect(err).NotTo(HaveOccurred())
				Expect(got).To(HaveEach(first), "backends answering %s over %s with sessionAffinity ClientIP", vip, proto)
			}
		}
	})
})
