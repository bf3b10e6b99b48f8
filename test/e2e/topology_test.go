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

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	"signet.dev/signet/test/e2e/framework"
)

var _ = Describe("Service topology keys", func() {
	var (
		ns     string
		layout framework.ZoneLayout
	)
	app := map[string]string{"app": "web"}

	BeforeEach(func(ctx SpecContext) {
		framework.RequireRoot()
		layout = framework.FindZoneLayout(ctx)
		GinkgoWriter.Printf("nodes: %s\n", layout)
		ns = framework.CreateNamespace(ctx, "topology")
	})

	It("keep traffic on the node, then in the zone, then anywhere, as endpoints go away (kubernetes.io/hostname,topology.kubernetes.io/zone,*)", func(ctx SpecContext) {
		backends := framework.StartPods(ctx, ns,
			framework.HostnamePod("on-node", layout.Local.Name, app),
			framework.HostnamePod("in-zone", layout.SameZone.Name, app),
			framework.HostnamePod("elsewhere", layout.OtherZone.Name, app))
		clients := framework.StartPods(ctx, ns,
			framework.ClientPod("client", layout.Local.Name),
			framework.ClientPod("client-other-zone", layout.OtherZone.Name))
		client, otherZoneClient := clients[0], clients[1]

		spec := framework.HostnameService("web", app, corev1.IPFamilyPolicyRequireDualStack, framework.Families...)
		spec.Annotations = map[string]string{framework.TopologyKeysAnnotation: "kubernetes.io/hostname,topology.kubernetes.io/zone,*"}
		svc := framework.CreateService(ctx, ns, spec)
		framework.WaitForEndpoints(ctx, ns, svc.Name, framework.Families, backends...)

		By("the endpoints carry their nodes' hostname and zone labels in their topology")
		zones := map[string]string{}
		for _, n := range []corev1.Node{layout.Local, layout.SameZone, layout.OtherZone} {
			zones[n.Name] = n.Labels[corev1.LabelTopologyZone]
		}
		slices, err := framework.ServiceSlices(ctx, ns, svc.Name)
		Expect(err).NotTo(HaveOccurred())
		for _, s := range slices {
			for _, e := range s.Endpoints {
				Expect(e.NodeName).NotTo(BeNil(), "endpoint %v of slice %s", e.Addresses, s.Name)
				Expect(e.Topology).To(HaveKeyWithValue(corev1.LabelHostname, *e.NodeName), "endpoint %v of slice %s", e.Addresses, s.Name)
				Expect(e.Topology).To(HaveKeyWithValue(corev1.LabelTopologyZone, zones[*e.NodeName]), "endpoint %v of slice %s", e.Addresses, s.Name)
			}
		}

		vips := map[corev1.IPFamily]string{}
		for _, family := range framework.Families {
			vips[family] = framework.JoinHostPort(framework.ClusterIP(svc, family), framework.ServicePort)
		}
		expectOnly := func(from *corev1.Pod, want string) {
			GinkgoHelper()
			for _, family := range framework.Families {
				for _, proto := range []string{"tcp", "udp"} {
					By(fmt.Sprintf("%s over %s from %s (%s): only %s answers", family, proto, from.Name, from.Spec.NodeName, want))
					expectOnlyBackend(ctx, from, proto, vips[family], want)
				}
			}
		}

		By("a local endpoint exists: traffic stays on the node")
		expectOnly(client, "on-node")
		expectOnly(otherZoneClient, "elsewhere")

		By("the local endpoint goes away: traffic stays in the zone")
		framework.DeletePodAndWait(ctx, ns, "on-node")
		framework.WaitForEndpoints(ctx, ns, svc.Name, framework.Families, backends[1], backends[2])
		expectOnly(client, "in-zone")

		By("the zone's last endpoint goes away: traffic goes anywhere (*)")
		framework.DeletePodAndWait(ctx, ns, "in-zone")
		framework.WaitForEndpoints(ctx, ns, svc.Name, framework.Families, backends[2])
		expectOnly(client, "elsewhere")
	})

	It("reject connections when the only key is kubernetes.io/hostname and the node has no endpoint", func(ctx SpecContext) {
		backends := framework.StartPods(ctx, ns,
			framework.HostnamePod("in-zone", layout.SameZone.Name, app),
			framework.HostnamePod("elsewhere", layout.OtherZone.Name, app))
		clients := framework.StartPods(ctx, ns,
			framework.ClientPod("client", layout.Local.Name),
			framework.ClientPod("client-with-endpoint", layout.SameZone.Name))
		client, clientWithEndpoint := clients[0], clients[1]

		spec := framework.HostnameService("web", app, corev1.IPFamilyPolicyRequireDualStack, framework.Families...)
		spec.Annotations = map[string]string{framework.TopologyKeysAnnotation: "kubernetes.io/hostname"}
		svc := framework.CreateService(ctx, ns, spec)
		framework.WaitForEndpoints(ctx, ns, svc.Name, framework.Families, backends...)

		for _, family := range framework.Families {
			vip := framework.JoinHostPort(framework.ClusterIP(svc, family), framework.ServicePort)
			By(fmt.Sprintf("%s: a node with an endpoint uses only its own", family))
			expectOnlyBackend(ctx, clientWithEndpoint, "tcp", vip, "in-zone")
			By(fmt.Sprintf("%s: a node without one rejects, although the zone and the cluster have endpoints", family))
			expectRefused(ctx, client, "tcp", vip)
			expectRefused(ctx, client, "udp", vip)
		}
	})
})
