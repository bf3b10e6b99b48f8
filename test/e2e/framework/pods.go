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
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Images the local cluster's node agent runs (test/e2e/nodeagent/image.go).
const (
	// TestdImage runs signet-testd with the container's arguments.
	TestdImage = "signet.dev/testd:latest"
	// PauseImage runs signet-testd pause.
	PauseImage = "registry.k8s.io/pause:3.10"
)

// Ports of the pods HostnamePod makes.
const (
	// ServePort answers the pod's name over TCP (one line) and UDP (one
	// datagram).
	ServePort = 9376
	// ServeHTTPPort answers the pod's name over HTTP.
	ServeHTTPPort = 8080
)

// PodStartTimeout bounds waiting for a few pods to be Ready.
const PodStartTimeout = 3 * time.Minute

// HostnamePod is a pod answering its own name over TCP and UDP on
// ServePort and over HTTP on ServeHTTPPort, Ready once the TCP port
// answers on every pod address (both families), on node when given.
func HostnamePod(name, node string, podLabels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: podLabels},
		Spec: corev1.PodSpec{
			NodeName:                      node,
			TerminationGracePeriodSeconds: ptr.To[int64](1),
			Containers:                    []corev1.Container{HostnameContainer()},
		},
	}
}

// HostnameContainer is the container of HostnamePod.
func HostnameContainer() corev1.Container {
	return corev1.Container{
		Name:  "serve-hostname",
		Image: TestdImage,
		Args: []string{"serve-hostname", fmt.Sprintf("--tcp-port=%d", ServePort), fmt.Sprintf("--udp-port=%d", ServePort),
			fmt.Sprintf("--http-port=%d", ServeHTTPPort)},
		Ports: []corev1.ContainerPort{
			{Name: "tcp", ContainerPort: ServePort, Protocol: corev1.ProtocolTCP},
			{Name: "udp", ContainerPort: ServePort, Protocol: corev1.ProtocolUDP},
			{Name: "http", ContainerPort: ServeHTTPPort, Protocol: corev1.ProtocolTCP},
		},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(ServePort)}},
			PeriodSeconds: 2,
		},
	}
}

// ClientPod is a pod that only holds a network namespace on node, from
// which the suite runs its commands.
func ClientPod(name, node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"e2e.signet.dev/role": "client"}},
		Spec: corev1.PodSpec{
			NodeName:                      node,
			TerminationGracePeriodSeconds: ptr.To[int64](1),
			Containers:                    []corev1.Container{{Name: "pause", Image: PauseImage}},
		},
	}
}

// StartPods creates the pods in ns and waits until every one is Ready,
// returning them as the API has them then (addresses, netns annotation).
func StartPods(ctx context.Context, ns string, pods ...*corev1.Pod) []*corev1.Pod {
	ginkgo.GinkgoHelper()
	for _, p := range pods {
		_, err := TestContext.Kube.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		gomega.Expect(err).NotTo(gomega.HaveOccurred(), "creating pod %s/%s", ns, p.Name)
	}
	out := make([]*corev1.Pod, len(pods))
	for i, p := range pods {
		out[i] = WaitForPodReady(ctx, ns, p.Name)
	}
	return out
}

// WaitForPodReady waits until the pod is Ready and has its addresses and
// network namespace.
func WaitForPodReady(ctx context.Context, ns, name string) *corev1.Pod {
	ginkgo.GinkgoHelper()
	var pod *corev1.Pod
	gomega.Eventually(ctx, func(g gomega.Gomega) {
		p, err := TestContext.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		g.Expect(err).NotTo(gomega.HaveOccurred())
		g.Expect(PodReady(p)).To(gomega.BeTrue(), "pod %s/%s on %q not Ready: phase %s, conditions %v, containers %v",
			ns, name, p.Spec.NodeName, p.Status.Phase, p.Status.Conditions, p.Status.ContainerStatuses)
		g.Expect(p.Status.PodIPs).NotTo(gomega.BeEmpty())
		g.Expect(p.Annotations).To(gomega.HaveKey(NetnsAnnotation))
		pod = p
	}).WithTimeout(PodStartTimeout).WithPolling(time.Second).Should(gomega.Succeed())
	return pod
}

// DeletePodAndWait deletes a pod and waits until its object is gone,
// which the node agent does once the pod's namespace is removed.
func DeletePodAndWait(ctx context.Context, ns, name string) {
	ginkgo.GinkgoHelper()
	err := TestContext.Kube.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{})
	if !apierrors.IsNotFound(err) {
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
	}
	gomega.Eventually(ctx, func() bool {
		_, err := TestContext.Kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}).WithTimeout(PodStartTimeout).WithPolling(time.Second).Should(gomega.BeTrue(), "pod %s/%s not gone", ns, name)
}

// ListPods lists the pods of ns matching selector.
func ListPods(ctx context.Context, ns string, selector map[string]string) ([]corev1.Pod, error) {
	list, err := TestContext.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(selector).String(),
	})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

// PodReady says whether the pod's Ready condition is True.
func PodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// PodIP returns the pod's address of a family, or "".
func PodIP(p *corev1.Pod, family corev1.IPFamily) string {
	for _, ip := range p.Status.PodIPs {
		if FamilyOf(ip.IP) == family {
			return ip.IP
		}
	}
	return ""
}

// FamilyOf is the family of an address, or "" when it does not parse.
func FamilyOf(ip string) corev1.IPFamily {
	a, err := netip.ParseAddr(ip)
	switch {
	case err != nil:
		return ""
	case a.Is4():
		return corev1.IPv4Protocol
	}
	return corev1.IPv6Protocol
}

// Families are both IP families, IPv4 first.
var Families = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}

// NodeReady says whether the node's Ready condition is True.
func NodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// SortedNodes returns the nodes sorted by name.
func SortedNodes(nodes []corev1.Node) []corev1.Node {
	out := append([]corev1.Node(nil), nodes...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ReadyNodes returns the Ready, schedulable nodes, sorted by name; it fails
// the spec when there are fewer than min.
func ReadyNodes(ctx context.Context, min int) []corev1.Node {
	ginkgo.GinkgoHelper()
	list, err := TestContext.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	var ready []corev1.Node
	for _, n := range SortedNodes(list.Items) {
		if NodeReady(&n) && !n.Spec.Unschedulable {
			ready = append(ready, n)
		}
	}
	gomega.Expect(len(ready)).To(gomega.BeNumerically(">=", min), "this spec needs %d Ready nodes, the cluster has %d", min, len(ready))
	return ready
}

// NodeInternalIP is the node's InternalIP of a family, or "".
func NodeInternalIP(n *corev1.Node, family corev1.IPFamily) string {
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP && FamilyOf(a.Address) == family {
			return a.Address
		}
	}
	return ""
}

// ZoneLayout is three nodes for topology specs: Local and SameZone share a
// zone, OtherZone is in another.
type ZoneLayout struct {
	Local, SameZone, OtherZone corev1.Node
}

func (z ZoneLayout) String() string {
	return fmt.Sprintf("local %s (%s), same zone %s (%s), other zone %s (%s)",
		z.Local.Name, zoneOf(&z.Local), z.SameZone.Name, zoneOf(&z.SameZone), z.OtherZone.Name, zoneOf(&z.OtherZone))
}

func zoneOf(n *corev1.Node) string { return n.Labels[corev1.LabelTopologyZone] }

// FindZoneLayout picks a ZoneLayout from the Ready nodes (on the local
// cluster: node-1 and node-2 in zone-a, node-3 in zone-b), failing the
// spec when the cluster has no zone with two nodes and another zone.
func FindZoneLayout(ctx context.Context) ZoneLayout {
	ginkgo.GinkgoHelper()
	nodes := ReadyNodes(ctx, 3)
	byZone := map[string][]corev1.Node{}
	var zones []string
	for _, n := range nodes {
		z := zoneOf(&n)
		gomega.Expect(n.Labels).To(gomega.HaveKeyWithValue(corev1.LabelHostname, n.Name),
			"node %s: topology keys match the kubernetes.io/hostname label", n.Name)
		if z == "" {
			continue
		}
		if _, ok := byZone[z]; !ok {
			zones = append(zones, z)
		}
		byZone[z] = append(byZone[z], n)
	}
	for _, z := range zones {
		if len(byZone[z]) < 2 {
			continue
		}
		for _, other := range zones {
			if other != z {
				return ZoneLayout{Local: byZone[z][0], SameZone: byZone[z][1], OtherZone: byZone[other][0]}
			}
		}
	}
	ginkgo.Fail(fmt.Sprintf("topology specs need two Ready nodes in one zone and one in another; zones: %v", byZone))
	return ZoneLayout{}
}

// JoinHostPort is net.JoinHostPort for an int port.
func JoinHostPort(ip string, port int32) string {
	if strings.Contains(ip, ":") {
		return fmt.Sprintf("[%s]:%d", ip, port)
	}
	return fmt.Sprintf("%s:%d", ip, port)
}
