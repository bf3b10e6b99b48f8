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
	"sort"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	discoveryv1 "signet.dev/api/discovery/v1"
)

// ServicePort is the port of the Services HostnameService makes, for TCP
// and UDP, in front of the pods' ServePort.
const ServicePort = 80

// TopologyKeysAnnotation holds a Service's ordered topology keys
// (pkg/proxy/topology.AnnotationKeys).
const TopologyKeysAnnotation = "service.signet.dev/topology-keys"

// ManagedBy is the value of endpointslice.kubernetes.io/managed-by on the
// slices signet's EndpointSlice controller writes.
const ManagedBy = "endpointslice-controller.signet.dev"

// HostnameService is a ClusterIP Service of the pods matching selector,
// port ServicePort over TCP and UDP to their ServePort, with the families
// given (none: the cluster's default).
func HostnameService(name string, selector map[string]string, policy corev1.IPFamilyPolicy, families ...corev1.IPFamily) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			Selector:       selector,
			IPFamilyPolicy: ptr.To(policy),
			IPFamilies:     families,
			Ports: []corev1.ServicePort{
				{Name: "tcp", Port: ServicePort, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(ServePort)},
				{Name: "udp", Port: ServicePort, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(ServePort)},
			},
		},
	}
}

// CreateService creates a Service and returns it with its cluster IPs.
func CreateService(ctx context.Context, ns string, svc *corev1.Service) *corev1.Service {
	ginkgo.GinkgoHelper()
	created, err := TestContext.Kube.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "creating Service %s/%s", ns, svc.Name)
	return created
}

// ClusterIP returns the Service's cluster IP of a family, failing the spec
// when it has none.
func ClusterIP(svc *corev1.Service, family corev1.IPFamily) string {
	ginkgo.GinkgoHelper()
	for _, ip := range svc.Spec.ClusterIPs {
		if FamilyOf(ip) == family {
			return ip
		}
	}
	ginkgo.Fail(fmt.Sprintf("Service %s/%s has no %s cluster IP: %v", svc.Namespace, svc.Name, family, svc.Spec.ClusterIPs))
	return ""
}

// ServiceSlices lists the signet EndpointSlices of a Service.
func ServiceSlices(ctx context.Context, ns, service string) ([]discoveryv1.EndpointSlice, error) {
	list, err := TestContext.Signet.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{
		LabelSelector: discoveryv1.LabelServiceName + "=" + service,
	})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

// FamilySlices sums up a Service's slices of one address type.
type FamilySlices struct {
	// Sizes are the slices' endpoint counts, largest first.
	Sizes []int
	// Addresses are every endpoint address, sorted, duplicates kept.
	Addresses []string
	// Ready are the addresses of endpoints whose ready condition is true.
	Ready []string
	// Duplicates are the addresses listed more than once.
	Duplicates []string
	// Nodes maps each address to its endpoint's nodeName.
	Nodes map[string]string
	// Foreign are slices of the Service not managed by signet's controller.
	Foreign []string
}

// SummarizeSlices groups slices by address type.
func SummarizeSlices(slices []discoveryv1.EndpointSlice) map[discoveryv1.AddressType]*FamilySlices {
	out := map[discoveryv1.AddressType]*FamilySlices{}
	seen := map[string]int{}
	for _, s := range slices {
		f := out[s.AddressType]
		if f == nil {
			f = &FamilySlices{Nodes: map[string]string{}}
			out[s.AddressType] = f
		}
		if s.Labels[discoveryv1.LabelManagedBy] != ManagedBy {
			f.Foreign = append(f.Foreign, s.Name)
		}
		f.Sizes = append(f.Sizes, len(s.Endpoints))
		for _, e := range s.Endpoints {
			for _, a := range e.Addresses {
				f.Addresses = append(f.Addresses, a)
				if ptr.Deref(e.Conditions.Ready, true) {
					f.Ready = append(f.Ready, a)
				}
				if e.NodeName != nil {
					f.Nodes[a] = *e.NodeName
				}
				seen[a]++
				if seen[a] == 2 {
					f.Duplicates = append(f.Duplicates, a)
				}
			}
		}
	}
	for _, f := range out {
		sort.Sort(sort.Reverse(sort.IntSlice(f.Sizes)))
		sort.Strings(f.Addresses)
		sort.Strings(f.Ready)
		sort.Strings(f.Duplicates)
	}
	return out
}

// AddressType is the EndpointSlice address type of a family.
func AddressType(family corev1.IPFamily) discoveryv1.AddressType {
	return discoveryv1.AddressType(family)
}

// WaitForEndpoints waits until the Service's slices of each family list
// exactly the given pods' addresses of that family, all ready.
func WaitForEndpoints(ctx context.Context, ns, service string, families []corev1.IPFamily, pods ...*corev1.Pod) {
	ginkgo.GinkgoHelper()
	gomega.Eventually(ctx, func(g gomega.Gomega) {
		slices, err := ServiceSlices(ctx, ns, service)
		g.Expect(err).NotTo(gomega.HaveOccurred())
		sum := SummarizeSlices(slices)
		for _, fam := range families {
			var want []string
			for _, p := range pods {
				ip := PodIP(p, fam)
				g.Expect(ip).NotTo(gomega.BeEmpty(), "pod %s has no %s address", p.Name, fam)
				want = append(want, ip)
			}
			got := sum[AddressType(fam)]
			if len(want) == 0 {
				g.Expect(got).To(gomega.BeNil(), "%s slices of %s", fam, service)
				continue
			}
			g.Expect(got).NotTo(gomega.BeNil(), "no %s slice of %s yet", fam, service)
			g.Expect(got.Ready).To(gomega.ConsistOf(want), "ready %s endpoints of %s", fam, service)
			g.Expect(got.Addresses).To(gomega.ConsistOf(want), "%s endpoints of %s", fam, service)
		}
	}).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(gomega.Succeed())
}
