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
	"net"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"signet.dev/signet/test/e2e/framework"
)

// nodeCacheIPv4 is node-cache's IPv4 address on every node of the local
// cluster, the first nameserver of ClusterFirst pods.
const nodeCacheIPv4 = "169.254.20.10"

// resolvConf is the part of a resolv.conf the suite reads.
type resolvConf struct {
	nameservers []string
	search      []string
	options     []string
}

func parseResolvConf(text string) resolvConf {
	var rc resolvConf
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			rc.nameservers = append(rc.nameservers, f[1])
		case "search":
			rc.search = f[1:]
		case "options":
			rc.options = append(rc.options, f[1:]...)
		}
	}
	return rc
}

// podResolvConf reads the resolv.conf a pod's programs see.
func podResolvConf(ctx context.Context, pod *corev1.Pod) resolvConf {
	GinkgoHelper()
	r := framework.ExecInPod(ctx, pod, "cat", "/etc/resolv.conf")
	Expect(r.ExitCode).To(Equal(0), "%s", r)
	return parseResolvConf(r.Stdout)
}

// singleServerResolvConf writes a copy of rc that names only server, for
// dns-lookup --resolv-conf, and returns its path.
func singleServerResolvConf(rc resolvConf, server string) string {
	GinkgoHelper()
	dir := GinkgoT().TempDir()
	path := filepath.Join(dir, "resolv.conf")
	text := fmt.Sprintf("nameserver %s\nsearch %s\noptions %s\n", server, strings.Join(rc.search, " "), strings.Join(rc.options, " "))
	Expect(os.WriteFile(path, []byte(text), 0o644)).To(Succeed())
	return path
}

// nodeCacheRequests reads node_cache_requests_total of the node-cache on
// node, from inside the node (at nodeCacheMetricsAddr).
func nodeCacheRequests(ctx context.Context, node string) float64 {
	GinkgoHelper()
	addr := nodeCacheMetricsAddr()
	body, err := framework.HTTPGetInNode(ctx, node, addr, "/metrics")
	Expect(err).NotTo(HaveOccurred(), "node-cache metrics of node %s at %s (set E2E_NODE_CACHE_METRICS=host:port if elsewhere)", node, addr)
	v, ok := framework.SumMetric(body, "node_cache_requests_total")
	Expect(ok).To(BeTrue(), "node %s: node-cache metrics lack node_cache_requests_total", node)
	return v
}

// nodeCacheMetricsAddr is where node-cache serves its metrics on every
// node: E2E_NODE_CACHE_METRICS, by default where hack/local-up-cluster.sh
// puts them.
func nodeCacheMetricsAddr() string {
	if addr := os.Getenv("E2E_NODE_CACHE_METRICS"); addr != "" {
		return addr
	}
	return nodeCacheIPv4 + ":9253"
}

var _ = Describe("DNS", func() {
	var ns string
	app := map[string]string{"app": "web"}

	BeforeEach(func(ctx SpecContext) {
		framework.RequireRoot()
		ns = framework.CreateNamespace(ctx, "dns")
	})

	It("resolves Services through node-cache at 169.254.20.10 and its IPv6 address, over UDP and TCP", func(ctx SpecContext) {
		nodes := framework.ReadyNodes(ctx, 1)
		framework.StartPods(ctx, ns, framework.HostnamePod("web", nodes[0].Name, app))
		client := framework.StartPods(ctx, ns, framework.ClientPod("client", nodes[0].Name))[0]
		svc := framework.CreateService(ctx, ns, framework.HostnameService("web", app, corev1.IPFamilyPolicyRequireDualStack, framework.Families...))

		By("the pod's resolv.conf names node-cache only, with the cluster search path")
		rc := podResolvConf(ctx, client)
		Expect(rc.nameservers).NotTo(BeEmpty())
		Expect(rc.nameservers[0]).To(Equal(nodeCacheIPv4), "first nameserver of a ClusterFirst pod")
		Expect(rc.nameservers).To(HaveLen(2), "node-cache's IPv4 and IPv6 addresses: %v", rc.nameservers)
		Expect(framework.FamilyOf(rc.nameservers[1])).To(Equal(corev1.IPv6Protocol), "second nameserver: node-cache's IPv6 address")
		Expect(rc.search).To(HaveLen(3))
		Expect(rc.search[0]).To(HavePrefix(ns + ".svc."))
		Expect(rc.options).To(ContainElement("ndots:5"))

		before := nodeCacheRequests(ctx, nodes[0].Name)
		lookups := 0
		for _, server := range rc.nameservers {
			conf := singleServerResolvConf(rc, server)
			for _, transport := range []string{"udp", "tcp"} {
				By(fmt.Sprintf("looking up web through %s over %s", server, transport))
				args := []string{"--resolv-conf=" + conf}
				if transport == "tcp" {
					args = append(args, "--tcp")
				}
				args = append(args, "web")
				Eventually(ctx, func(g Gomega) {
					got, r := framework.DNSLookup(ctx, client, args...)
					g.Expect(r.ExitCode).To(Equal(0), "%s", r)
					g.Expect(got).To(ConsistOf(svc.Spec.ClusterIPs), "%s", r)
				}).WithTimeout(trafficTimeout).WithPolling(pollInterval).Should(Succeed())
				lookups++
			}
		}
		By("node-cache on the pod's node counted the queries")
		after := nodeCacheRequests(ctx, nodes[0].Name)
		// Each successful lookup asked at least once per record type (A and
		// AAAA); failed attempts before it only add to the count.
		Expect(after-before).To(BeNumerically(">=", 2*lookups), "node_cache_requests_total on %s went from %v to %v over %d lookups", nodes[0].Name, before, after, lookups)
	})

	It("keeps pods' DNS flows to node-cache out of the node's conntrack table, while other flows show", func(ctx SpecContext) {
		nodes := framework.ReadyNodes(ctx, 1)
		node := nodes[0].Name
		backend := framework.StartPods(ctx, ns, framework.HostnamePod("web", node, app))[0]
		client := framework.StartPods(ctx, ns, framework.ClientPod("client", node))[0]
		svc := framework.CreateService(ctx, ns, framework.HostnameService("web", app, corev1.IPFamilyPolicyRequireDualStack, framework.Families...))
		framework.WaitForEndpoints(ctx, ns, svc.Name, framework.Families, backend)
		rc := podResolvConf(ctx, client)
		Expect(rc.nameservers).To(HaveLen(2))

		By("DNS over UDP and TCP to both of node-cache's addresses, and a control flow over UDP to the Service, per family")
		for _, server := range rc.nameservers {
			conf := singleServerResolvConf(rc, server)
			for _, tcp := range []bool{false, true} {
				args := []string{"--resolv-conf=" + conf}
				if tcp {
					args = append(args, "--tcp")
				}
				Eventually(ctx, func(g Gomega) {
					got, r := framework.DNSLookup(ctx, client, append(args, "web")...)
					g.Expect(r.ExitCode).To(Equal(0), "%s", r)
					g.Expect(got).To(ConsistOf(svc.Spec.ClusterIPs), "%s", r)
				}).WithTimeout(trafficTimeout).WithPolling(pollInterval).Should(Succeed())
			}
		}
		for _, family := range framework.Families {
			vip := framework.JoinHostPort(framework.ClusterIP(svc, family), framework.ServicePort)
			Eventually(ctx, func() (string, error) {
				return framework.Hostname(ctx, client, "udp", vip)
			}).WithTimeout(trafficTimeout).WithPolling(pollInterval).Should(Equal("web"))
		}

		By("a control flow to node-cache's own address, on its metrics port rather than 53")
		metrics := nodeCacheMetricsAddr()
		Eventually(ctx, func() framework.Result {
			return framework.ExecInPod(ctx, client, framework.TestContext.Testd, "connect", "--timeout=5s", metrics)
		}).WithTimeout(trafficTimeout).WithPolling(pollInterval).Should(HaveField("ExitCode", framework.ConnectOK))

		By(fmt.Sprintf("reading node %s's conntrack tables", node))
		for _, family := range framework.Families {
			entries := framework.ConntrackEntries(ctx, node, family)
			podIP := framework.PodIP(client, family)
			var server string
			for _, s := range rc.nameservers {
				if framework.FamilyOf(s) == family {
					server = s
				}
			}
			Expect(server).NotTo(BeEmpty(), "no %s nameserver in %v", family, rc.nameservers)
			control := framework.FlowsFrom(entries, "udp", podIP, framework.ClusterIP(svc, family), fmt.Sprint(framework.ServicePort))
			Expect(control).NotTo(BeEmpty(), "%s: the control flow %s -> %s:%d/udp is tracked", family, podIP, framework.ClusterIP(svc, family), framework.ServicePort)
			if host, port, err := net.SplitHostPort(metrics); err == nil && framework.FamilyOf(host) == family {
				Expect(framework.FlowsFrom(entries, "tcp", podIP, host, port)).NotTo(BeEmpty(),
					"%s: the control flow %s -> %s/tcp (node-cache, not port 53) is tracked", family, podIP, metrics)
			}
			for _, proto := range []string{"udp", "tcp"} {
				dns := framework.FlowsFrom(entries, proto, podIP, server, "53")
				Expect(dns).To(BeEmpty(), "%s: DNS flows %s -> %s:53/%s are in node %s's conntrack table", family, podIP, server, proto, node)
			}
			// Nothing from the pod to node-cache at all (any port, any
			// protocol) would also be right; port 53 is what NOTRACK covers.
		}
	})

	It("answers a headless Service with topology keys with the endpoints of the asking pod's node, then of its zone", func(ctx SpecContext) {
		layout := framework.FindZoneLayout(ctx)
		GinkgoWriter.Printf("nodes: %s\n", layout)
		backends := framework.StartPods(ctx, ns,
			framework.HostnamePod("on-local", layout.Local.Name, app),
			framework.HostnamePod("on-other-zone", layout.OtherZone.Name, app))
		local, other := backends[0], backends[1]
		clients := framework.StartPods(ctx, ns, clientsOnNodes([]corev1.Node{layout.Local, layout.SameZone, layout.OtherZone})...)

		spec := framework.HostnameService("web", app, corev1.IPFamilyPolicyRequireDualStack, framework.Families...)
		spec.Spec.ClusterIP = corev1.ClusterIPNone
		spec.Annotations = map[string]string{framework.TopologyKeysAnnotation: "kubernetes.io/hostname,topology.kubernetes.io/zone"}
		svc := framework.CreateService(ctx, ns, spec)
		framework.WaitForEndpoints(ctx, ns, svc.Name, framework.Families, backends...)

		all := append(podAddresses(corev1.IPv4Protocol, backends...), podAddresses(corev1.IPv6Protocol, backends...)...)
		want := map[string][]string{
			clients[0].Name: append(podAddresses(corev1.IPv4Protocol, local), podAddresses(corev1.IPv6Protocol, local)...), // its node
			clients[1].Name: append(podAddresses(corev1.IPv4Protocol, local), podAddresses(corev1.IPv6Protocol, local)...), // its zone
			clients[2].Name: append(podAddresses(corev1.IPv4Protocol, other), podAddresses(corev1.IPv6Protocol, other)...), // its node
		}
		for _, client := range clients {
			By(fmt.Sprintf("from %s on %s: %v", client.Name, client.Spec.NodeName, want[client.Name]))
			Eventually(ctx, func(g Gomega) {
				got, r := framework.DNSLookup(ctx, client, "web")
				g.Expect(r.ExitCode).To(Equal(0), "%s", r)
				g.Expect(got).To(ConsistOf(want[client.Name]), "%s", r)
			}).WithTimeout(trafficTimeout).WithPolling(pollInterval).Should(Succeed())
		}

		By("asking cluster-dns directly (no node-cache, so no node name): every endpoint")
		kubeDNS, err := framework.TestContext.Kube.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred(), "the cluster DNS Service kube-system/kube-dns")
		Expect(kubeDNS.Spec.ClusterIP).NotTo(BeEmpty())
		conf := singleServerResolvConf(podResolvConf(ctx, clients[0]), kubeDNS.Spec.ClusterIP)
		Eventually(ctx, func(g Gomega) {
			got, r := framework.DNSLookup(ctx, clients[0], "--resolv-conf="+conf, "web")
			g.Expect(r.ExitCode).To(Equal(0), "%s", r)
			g.Expect(got).To(ConsistOf(all), "%s", r)
		}).WithTimeout(trafficTimeout).WithPolling(pollInterval).Should(Succeed())
	})
})
