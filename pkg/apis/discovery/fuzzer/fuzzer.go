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

// Package fuzzer holds the randfill functions that produce internal
// discovery.signet.dev objects for round-trip tests: random, but already
// defaulted and shaped so that every served version can represent them.
package fuzzer

import (
	corev1 "k8s.io/api/core/v1"
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/randfill"

	"signet.dev/signet/pkg/apis/discovery"
)

// Funcs returns the fuzzer functions of the discovery.signet.dev group.
var Funcs = func(_ runtimeserializer.CodecFactory) []interface{} {
	return []interface{}{
		func(slice *discovery.EndpointSlice, c randfill.Continue) {
			c.FillNoCustom(slice)
			addressTypes := []discovery.AddressType{
				discovery.AddressTypeIPv4,
				discovery.AddressTypeIPv6,
				discovery.AddressTypeFQDN,
			}
			slice.AddressType = addressTypes[c.Intn(len(addressTypes))]
		},
		func(ep *discovery.Endpoint, c randfill.Continue) {
			c.FillNoCustom(ep)
			// Half the endpoints carry the 2019 topology keys, so that the
			// v1alpha1 mapping of kubernetes.io/hostname to nodeName and of
			// topology.kubernetes.io/zone to zone is exercised.
			if c.Bool() {
				if ep.Topology == nil {
					ep.Topology = map[string]string{}
				}
				ep.Topology[corev1.LabelHostname] = c.String(0)
				ep.Topology[corev1.LabelTopologyZone] = c.String(0)
				ep.Topology[corev1.LabelTopologyRegion] = c.String(0)
			}
			// Reading v1alpha1 fills an unset nodeName or zone from those
			// keys; an object read back that way has them set already.
			if host, ok := ep.Topology[corev1.LabelHostname]; ok && ep.NodeName == nil {
				ep.NodeName = &host
			}
			if zone, ok := ep.Topology[corev1.LabelTopologyZone]; ok && ep.Zone == nil {
				ep.Zone = &zone
			}
		},
		func(port *discovery.EndpointPort, c randfill.Continue) {
			c.FillNoCustom(port)
			// Both are defaulted on decode.
			if port.Name == nil {
				port.Name = new(string)
			}
			if port.Protocol == nil {
				protocols := []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}
				protocol := protocols[c.Intn(len(protocols))]
				port.Protocol = &protocol
			}
		},
	}
}
