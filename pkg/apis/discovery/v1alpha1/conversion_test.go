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

package v1alpha1_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	discoveryv1 "signet.dev/api/discovery/v1"
	discoveryv1alpha1 "signet.dev/api/discovery/v1alpha1"

	"signet.dev/signet/pkg/apis/discovery"
	discoveryinstall "signet.dev/signet/pkg/apis/discovery/install"
	networkinginstall "signet.dev/signet/pkg/apis/networking/install"
)

const (
	labelHostname = "kubernetes.io/hostname"
	labelZone     = "topology.kubernetes.io/zone"
	labelRegion   = "topology.kubernetes.io/region"
	labelRack     = "example.com/rack"
)

func ptr[T any](v T) *T { return &v }

func newScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	networkinginstall.Install(scheme)
	discoveryinstall.Install(scheme)
	return scheme
}

func convert(t *testing.T, scheme *runtime.Scheme, in, out interface{}) {
	t.Helper()
	if err := scheme.Convert(in, out, nil); err != nil {
		t.Fatalf("converting %T to %T: %v", in, out, err)
	}
}

func requireEqual(t *testing.T, what string, want, got interface{}) {
	t.Helper()
	if !apiequality.Semantic.DeepEqual(want, got) {
		t.Errorf("%s differs (-want +got):\n%s", what, cmp.Diff(want, got))
	}
}

// roundTripThroughV1alpha1 converts v1 -> internal -> v1alpha1 -> internal
// -> v1 and returns the v1alpha1 object and the final v1 object.
func roundTripThroughV1alpha1(t *testing.T, scheme *runtime.Scheme, in *discoveryv1.EndpointSlice) (*discoveryv1alpha1.EndpointSlice, *discoveryv1.EndpointSlice) {
	t.Helper()
	var hub1 discovery.EndpointSlice
	convert(t, scheme, in, &hub1)
	var alpha discoveryv1alpha1.EndpointSlice
	convert(t, scheme, &hub1, &alpha)
	var hub2 discovery.EndpointSlice
	convert(t, scheme, &alpha, &hub2)
	var out discoveryv1.EndpointSlice
	convert(t, scheme, &hub2, &out)
	return &alpha, &out
}

func TestEndpointSliceV1RoundTripThroughV1alpha1(t *testing.T) {
	scheme := newScheme(t)
	original := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name:      "web-x7k2p",
			Namespace: "store",
			Labels: map[string]string{
				discoveryv1.LabelServiceName: "web",
				discoveryv1.LabelManagedBy:   "endpointslice-controller.signet.dev",
			},
			Annotations: map[string]string{"example.com/note": "round trip"},
		},
		AddressType: discoveryv1.AddressTypeIPv6,
		Endpoints: []discoveryv1.Endpoint{
			{
				// every field set, consistent with the topology
				Addresses: []string{"2001:db8::1", "2001:db8::2", "2001:db8::3"},
				Conditions: discoveryv1.EndpointConditions{
					Ready:       ptr(true),
					Serving:     ptr(true),
					Terminating: ptr(false),
				},
				Hostname: ptr("web-0"),
				TargetRef: &corev1.ObjectReference{
					Kind:            "Pod",
					Namespace:       "store",
					Name:            "web-0",
					UID:             "6f1c1a8e-3f0e-4c52-9d0e-2f6a0b1e7c11",
					ResourceVersion: "4711",
				},
				NodeName: ptr("node-a"),
				Zone:     ptr("zone-a"),
				Topology: map[string]string{
					labelHostname: "node-a",
					labelZone:     "zone-a",
					labelRegion:   "region-1",
					labelRack:     "r12",
				},
			},
			{
				// nodeName and zone differ from the topology's hostname and zone
				Addresses:  []string{"2001:db8::10"},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr(false), Serving: ptr(true), Terminating: ptr(true)},
				NodeName:   ptr("node-b"),
				Zone:       ptr("zone-b"),
				Topology:   map[string]string{labelHostname: "node-b-old", labelZone: "zone-b-old"},
			},
			{
				// nodeName set, topology without a hostname key
				Addresses:  []string{"2001:db8::20"},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)},
				NodeName:   ptr("node-c"),
				Topology:   map[string]string{labelRack: "r3"},
			},
			{
				// zone set, topology without a zone key
				Addresses:  []string{"2001:db8::30"},
				Conditions: discoveryv1.EndpointConditions{Serving: ptr(false)},
				Zone:       ptr("zone-d"),
				Topology:   map[string]string{labelRegion: "region-2"},
			},
			{
				// no nodeName, no zone, no topology
				Addresses:  []string{"2001:db8::40"},
				Conditions: discoveryv1.EndpointConditions{},
			},
		},
		Ports: []discoveryv1.EndpointPort{
			{Name: ptr("https"), Protocol: ptr(corev1.ProtocolTCP), Port: ptr[int32](8443), AppProtocol: ptr("https")},
			{Name: ptr("dns"), Protocol: ptr(corev1.ProtocolUDP), Port: ptr[int32](53), AppProtocol: ptr("example.com/dns")},
		},
	}
	// The generated conversions share memory between input and output, so
	// compare against a copy taken before anything is converted.
	want := original.DeepCopy()

	alpha, got := roundTripThroughV1alpha1(t, scheme, original)

	t.Run("v1alpha1 is field for field", func(t *testing.T) {
		wantAlpha := &discoveryv1alpha1.EndpointSlice{
			ObjectMeta:  *want.ObjectMeta.DeepCopy(),
			AddressType: discoveryv1alpha1.AddressTypeIPv6,
		}
		for _, ep := range want.Endpoints {
			wantAlpha.Endpoints = append(wantAlpha.Endpoints, discoveryv1alpha1.Endpoint{
				Addresses: ep.Addresses,
				Conditions: discoveryv1alpha1.EndpointConditions{
					Ready:       ep.Conditions.Ready,
					Serving:     ep.Conditions.Serving,
					Terminating: ep.Conditions.Terminating,
				},
				Hostname:  ep.Hostname,
				TargetRef: ep.TargetRef,
				Topology:  ep.Topology,
				NodeName:  ep.NodeName,
				Zone:      ep.Zone,
			})
		}
		for _, p := range want.Ports {
			wantAlpha.Ports = append(wantAlpha.Ports, discoveryv1alpha1.EndpointPort{
				Name: p.Name, Protocol: p.Protocol, Port: p.Port, AppProtocol: p.AppProtocol,
			})
		}
		requireEqual(t, "v1alpha1 EndpointSlice", wantAlpha, alpha)
		if got := alpha.Endpoints[1].Topology[labelHostname]; got != "node-b-old" {
			t.Errorf("v1alpha1 topology hostname = %q, want the stale %q kept", got, "node-b-old")
		}
		if alpha.Endpoints[4].NodeName != nil || alpha.Endpoints[4].Zone != nil || alpha.Endpoints[4].Topology != nil {
			t.Errorf("endpoint without location gained one: %#v", alpha.Endpoints[4])
		}
	})

	requireEqual(t, "v1 EndpointSlice after v1 -> internal -> v1alpha1 -> internal -> v1", want, got)
}

// TestV1alpha1FillsNodeNameFromTopologyHostname documents the one way a v1
// object does not survive the trip through v1alpha1: an endpoint without
// nodeName or zone whose topology has the hostname and zone keys comes back
// with nodeName and zone taken from them, because reading v1alpha1 cannot
// tell such an endpoint from a 2019 object.
func TestV1alpha1FillsNodeNameFromTopologyHostname(t *testing.T) {
	scheme := newScheme(t)
	original := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "web-abc", Namespace: "store"},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{
			{
				Addresses:  []string{"10.0.0.1"},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)},
				Topology:   map[string]string{labelHostname: "node-x", labelZone: "zone-x", labelRegion: "region-x"},
			},
			{
				Addresses:  []string{"10.0.0.2"},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)},
				Topology:   map[string]string{labelHostname: "node-y"},
			},
		},
	}
	in := original.DeepCopy()

	alpha, got := roundTripThroughV1alpha1(t, scheme, in)

	for i, ep := range alpha.Endpoints {
		if ep.NodeName != nil || ep.Zone != nil {
			t.Errorf("v1alpha1 endpoints[%d] nodeName=%v zone=%v, want both nil (internal -> v1alpha1 is field for field)", i, ep.NodeName, ep.Zone)
		}
	}

	want := original.DeepCopy()
	want.Endpoints[0].NodeName = ptr("node-x")
	want.Endpoints[0].Zone = ptr("zone-x")
	want.Endpoints[1].NodeName = ptr("node-y")
	want.Endpoints[1].Zone = nil
	requireEqual(t, "v1 EndpointSlice after the trip", want, got)
	if apiequality.Semantic.DeepEqual(original, got) {
		t.Errorf("round trip was lossless; this test documents that nodeName is filled from topology and must be updated")
	}
}

func TestV1alpha1TopologyToV1(t *testing.T) {
	scheme := newScheme(t)
	tests := []struct {
		name string
		in   discoveryv1alpha1.Endpoint
		want discovery.Endpoint
	}{
		{
			name: "2019 topology only fills nodeName and zone and keeps the map whole",
			in: discoveryv1alpha1.Endpoint{
				Addresses:  []string{"10.0.0.1"},
				Conditions: discoveryv1alpha1.EndpointConditions{Ready: ptr(true)},
				Topology:   map[string]string{labelHostname: "node-1", labelZone: "zone-1", labelRegion: "region-1"},
			},
			want: discovery.Endpoint{
				Addresses:  []string{"10.0.0.1"},
				Conditions: discovery.EndpointConditions{Ready: ptr(true)},
				NodeName:   ptr("node-1"),
				Zone:       ptr("zone-1"),
				Topology:   map[string]string{labelHostname: "node-1", labelZone: "zone-1", labelRegion: "region-1"},
			},
		},
		{
			name: "explicit nodeName wins over the topology hostname",
			in: discoveryv1alpha1.Endpoint{
				Addresses: []string{"10.0.0.2"},
				NodeName:  ptr("node-new"),
				Topology:  map[string]string{labelHostname: "node-old", labelZone: "zone-1"},
			},
			want: discovery.Endpoint{
				Addresses: []string{"10.0.0.2"},
				NodeName:  ptr("node-new"),
				Zone:      ptr("zone-1"),
				Topology:  map[string]string{labelHostname: "node-old", labelZone: "zone-1"},
			},
		},
		{
			name: "explicit zone wins over the topology zone",
			in: discoveryv1alpha1.Endpoint{
				Addresses: []string{"10.0.0.3"},
				Zone:      ptr("zone-new"),
				Topology:  map[string]string{labelHostname: "node-3", labelZone: "zone-old"},
			},
			want: discovery.Endpoint{
				Addresses: []string{"10.0.0.3"},
				NodeName:  ptr("node-3"),
				Zone:      ptr("zone-new"),
				Topology:  map[string]string{labelHostname: "node-3", labelZone: "zone-old"},
			},
		},
		{
			name: "explicit empty nodeName is kept, not replaced by the topology hostname",
			in: discoveryv1alpha1.Endpoint{
				Addresses: []string{"10.0.0.4"},
				NodeName:  ptr(""),
				Topology:  map[string]string{labelHostname: "node-4"},
			},
			want: discovery.Endpoint{
				Addresses: []string{"10.0.0.4"},
				NodeName:  ptr(""),
				Topology:  map[string]string{labelHostname: "node-4"},
			},
		},
		{
			name: "region-only topology sets neither nodeName nor zone",
			in: discoveryv1alpha1.Endpoint{
				Addresses: []string{"10.0.0.5"},
				Topology:  map[string]string{labelRegion: "region-5"},
			},
			want: discovery.Endpoint{
				Addresses: []string{"10.0.0.5"},
				Topology:  map[string]string{labelRegion: "region-5"},
			},
		},
		{
			name: "no topology sets nothing",
			in: discoveryv1alpha1.Endpoint{
				Addresses:  []string{"10.0.0.6"},
				Conditions: discoveryv1alpha1.EndpointConditions{Serving: ptr(true), Terminating: ptr(false)},
				Hostname:   ptr("web-6"),
			},
			want: discovery.Endpoint{
				Addresses:  []string{"10.0.0.6"},
				Conditions: discovery.EndpointConditions{Serving: ptr(true), Terminating: ptr(false)},
				Hostname:   ptr("web-6"),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &discoveryv1alpha1.EndpointSlice{
				ObjectMeta:  metav1.ObjectMeta{Name: "web-abc", Namespace: "store"},
				AddressType: discoveryv1alpha1.AddressTypeIPv4,
				Endpoints:   []discoveryv1alpha1.Endpoint{tc.in},
			}
			var out discovery.EndpointSlice
			convert(t, scheme, in, &out)
			want := &discovery.EndpointSlice{
				ObjectMeta:  metav1.ObjectMeta{Name: "web-abc", Namespace: "store"},
				AddressType: discovery.AddressTypeIPv4,
				Endpoints:   []discovery.Endpoint{tc.want},
			}
			requireEqual(t, "internal EndpointSlice", want, &out)
		})
	}
}

func TestV1alpha1Defaults(t *testing.T) {
	scheme := newScheme(t)
	tests := []struct {
		name string
		json string
		want *discovery.EndpointSlice
	}{
		{
			name: "port without name and protocol gets name \"\" and protocol TCP",
			json: `{"apiVersion":"discovery.signet.dev/v1alpha1","kind":"EndpointSlice",
				"metadata":{"name":"web-abc","namespace":"store"},
				"addressType":"IPv4",
				"endpoints":[{"addresses":["10.0.0.1"],"conditions":{"ready":true}}],
				"ports":[{"port":80}]}`,
			want: &discovery.EndpointSlice{
				ObjectMeta:  metav1.ObjectMeta{Name: "web-abc", Namespace: "store"},
				AddressType: discovery.AddressTypeIPv4,
				Endpoints:   []discovery.Endpoint{{Addresses: []string{"10.0.0.1"}, Conditions: discovery.EndpointConditions{Ready: ptr(true)}}},
				Ports:       []discovery.EndpointPort{{Name: ptr(""), Protocol: ptr(corev1.ProtocolTCP), Port: ptr[int32](80)}},
			},
		},
		{
			name: "explicit name and protocol are kept",
			json: `{"apiVersion":"discovery.signet.dev/v1alpha1","kind":"EndpointSlice",
				"metadata":{"name":"web-abc","namespace":"store"},
				"addressType":"IPv4",
				"endpoints":[],
				"ports":[{"name":"dns","protocol":"UDP","port":53,"appProtocol":"example.com/dns"},{"name":"metrics"}]}`,
			want: &discovery.EndpointSlice{
				ObjectMeta:  metav1.ObjectMeta{Name: "web-abc", Namespace: "store"},
				AddressType: discovery.AddressTypeIPv4,
				Endpoints:   []discovery.Endpoint{},
				Ports: []discovery.EndpointPort{
					{Name: ptr("dns"), Protocol: ptr(corev1.ProtocolUDP), Port: ptr[int32](53), AppProtocol: ptr("example.com/dns")},
					{Name: ptr("metrics"), Protocol: ptr(corev1.ProtocolTCP)},
				},
			},
		},
		{
			name: "decoding a 2019 object fills nodeName and zone from topology",
			json: `{"apiVersion":"discovery.signet.dev/v1alpha1","kind":"EndpointSlice",
				"metadata":{"name":"web-abc","namespace":"store"},
				"addressType":"IPv4",
				"endpoints":[{"addresses":["10.0.0.1"],"conditions":{},
					"topology":{"kubernetes.io/hostname":"node-1","topology.kubernetes.io/zone":"zone-1"}}],
				"ports":[{"name":"http","port":8080}]}`,
			want: &discovery.EndpointSlice{
				ObjectMeta:  metav1.ObjectMeta{Name: "web-abc", Namespace: "store"},
				AddressType: discovery.AddressTypeIPv4,
				Endpoints: []discovery.Endpoint{{
					Addresses: []string{"10.0.0.1"},
					NodeName:  ptr("node-1"),
					Zone:      ptr("zone-1"),
					Topology:  map[string]string{labelHostname: "node-1", labelZone: "zone-1"},
				}},
				Ports: []discovery.EndpointPort{{Name: ptr("http"), Protocol: ptr(corev1.ProtocolTCP), Port: ptr[int32](8080)}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj, _, err := serializer.NewCodecFactory(scheme).UniversalDecoder().Decode([]byte(tc.json), nil, nil)
			if err != nil {
				t.Fatalf("decoding: %v", err)
			}
			requireEqual(t, "decoded internal EndpointSlice", tc.want, obj)
		})
	}
}
