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

package main

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"net/netip"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	discoveryv1 "signet.dev/api/discovery/v1"
)

// The inputs. hack/upstream/bench-proxy builds the same objects from the
// same constants for upstream's types; --inputs-digest prints a hash of
// them on both sides so that hack/bench-proxy.sh can check they agree.
const (
	namespace = "bench"
	portName  = "http"
	port      = 80
	target    = 8080
	nodes     = 100
	// nodeName is the node the proxier runs on; it holds endpoints like
	// any other node, but every Service has a Cluster traffic policy.
	nodeName = "node-0"
)

var (
	// serviceBase + 1 + i is the cluster IP of Service i (10.96.0.1 up).
	serviceBase = netip.MustParseAddr("10.96.0.0")
	// podBase + 1 + i*endpoints + j is the address of endpoint j of
	// Service i (10.244.0.1 up, 262,143 addresses in the cluster CIDR).
	podBase     = netip.MustParseAddr("10.244.0.0")
	clusterCIDR = netip.MustParsePrefix("10.244.0.0/14")
	// replacement takes the place of svc-0's first endpoint in the
	// one-Service change; no generated endpoint has it.
	replacement = netip.MustParseAddr("10.247.255.254")
)

// maxEndpointsTotal is how many endpoint addresses fit in the cluster CIDR
// below the replacement address.
const maxEndpointsTotal = 1<<18 - 3

// addrAt returns base plus n, as an IPv4 address.
func addrAt(base netip.Addr, n int) netip.Addr {
	b := base.As4()
	return netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, binary.BigEndian.Uint32(b[:])+uint32(n))))
}

func serviceName(i int) string { return "svc-" + strconv.Itoa(i) }

// inputs is everything one size of the benchmark feeds a proxier.
type inputs struct {
	services []*corev1.Service
	// slices holds one EndpointSlice per Service, in Service order.
	slices []*discoveryv1.EndpointSlice
	// changed is slices[0] with its first endpoint's address replaced.
	changed *discoveryv1.EndpointSlice
}

// newInputs builds n Services with perService ready endpoints each.
func newInputs(n, perService int) *inputs {
	in := &inputs{
		services: make([]*corev1.Service, n),
		slices:   make([]*discoveryv1.EndpointSlice, n),
	}
	for i := range n {
		in.services[i] = newService(i)
		in.slices[i] = newSlice(i, perService)
	}
	in.changed = in.slices[0].DeepCopy()
	in.changed.ResourceVersion = "2"
	in.changed.Endpoints[0].Addresses = []string{replacement.String()}
	return in
}

func newService(i int) *corev1.Service {
	ip := addrAt(serviceBase, 1+i).String()
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: serviceName(i), ResourceVersion: "1"},
		Spec: corev1.ServiceSpec{
			Type:                  corev1.ServiceTypeClusterIP,
			ClusterIP:             ip,
			ClusterIPs:            []string{ip},
			IPFamilies:            []corev1.IPFamily{corev1.IPv4Protocol},
			IPFamilyPolicy:        ptr.To(corev1.IPFamilyPolicySingleStack),
			SessionAffinity:       corev1.ServiceAffinityNone,
			InternalTrafficPolicy: ptr.To(corev1.ServiceInternalTrafficPolicyCluster),
			Ports: []corev1.ServicePort{{
				Name:       portName,
				Protocol:   corev1.ProtocolTCP,
				Port:       port,
				TargetPort: intstr.FromInt32(target),
			}},
		},
	}
}

func newSlice(i, perService int) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       namespace,
			Name:            serviceName(i) + "-bench",
			ResourceVersion: "1",
			Labels:          map[string]string{discoveryv1.LabelServiceName: serviceName(i)},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{{
			Name:     ptr.To(portName),
			Protocol: ptr.To(corev1.ProtocolTCP),
			Port:     ptr.To[int32](target),
		}},
		Endpoints: make([]discoveryv1.Endpoint, perService),
	}
	for j := range perService {
		k := i*perService + j
		s.Endpoints[j] = discoveryv1.Endpoint{
			Addresses: []string{addrAt(podBase, 1+k).String()},
			Conditions: discoveryv1.EndpointConditions{
				Ready:       ptr.To(true),
				Serving:     ptr.To(true),
				Terminating: ptr.To(false),
			},
			NodeName: ptr.To("node-" + strconv.Itoa(k%nodes)),
		}
	}
	return s
}

// digest hashes what a proxier reads of the inputs, in a form that does
// not depend on the Go types, so that both benchmark programs can compare
// theirs.
func (in *inputs) digest() string {
	h := sha256.New()
	for _, svc := range in.services {
		fmt.Fprintf(h, "service %s/%s type=%s clusterIPs=%v families=%v\n",
			svc.Namespace, svc.Name, svc.Spec.Type, svc.Spec.ClusterIPs, svc.Spec.IPFamilies)
		for _, p := range svc.Spec.Ports {
			fmt.Fprintf(h, " port %s %s %d->%s\n", p.Name, p.Protocol, p.Port, p.TargetPort.String())
		}
	}
	for _, s := range in.slices {
		writeSlice(h, s)
	}
	writeSlice(h, in.changed)
	return fmt.Sprintf("sha256:%x", h.Sum(nil))
}

func writeSlice(h hash.Hash, s *discoveryv1.EndpointSlice) {
	fmt.Fprintf(h, "slice %s/%s service=%s addressType=%s\n",
		s.Namespace, s.Name, s.Labels[discoveryv1.LabelServiceName], s.AddressType)
	for _, p := range s.Ports {
		fmt.Fprintf(h, " port %s %s %d\n", ptr.Deref(p.Name, ""), ptr.Deref(p.Protocol, ""), ptr.Deref(p.Port, 0))
	}
	for _, e := range s.Endpoints {
		fmt.Fprintf(h, " endpoint %v ready=%t serving=%t terminating=%t node=%s\n", e.Addresses,
			ptr.Deref(e.Conditions.Ready, false), ptr.Deref(e.Conditions.Serving, false),
			ptr.Deref(e.Conditions.Terminating, false), ptr.Deref(e.NodeName, ""))
	}
}
