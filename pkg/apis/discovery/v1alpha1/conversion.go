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

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/conversion"

	discoveryv1alpha1 "signet.dev/api/discovery/v1alpha1"

	"signet.dev/signet/pkg/apis/discovery"
)

// Convert_v1alpha1_Endpoint_To_discovery_Endpoint reads a 2019-shaped
// endpoint, whose location is only its topology map: the map is kept whole
// (it is v1's topology too), and when nodeName or zone are unset they are
// taken from the kubernetes.io/hostname and topology.kubernetes.io/zone keys.
// Objects written through v1 carry nodeName and zone in their own fields, so
// they come back unchanged.
func Convert_v1alpha1_Endpoint_To_discovery_Endpoint(in *discoveryv1alpha1.Endpoint, out *discovery.Endpoint, s conversion.Scope) error {
	if err := autoConvert_v1alpha1_Endpoint_To_discovery_Endpoint(in, out, s); err != nil {
		return err
	}
	if out.NodeName == nil {
		if host, ok := in.Topology[corev1.LabelHostname]; ok {
			out.NodeName = &host
		}
	}
	if out.Zone == nil {
		if zone, ok := in.Topology[corev1.LabelTopologyZone]; ok {
			out.Zone = &zone
		}
	}
	return nil
}
