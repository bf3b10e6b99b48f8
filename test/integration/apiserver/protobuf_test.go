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

package apiserver

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
)

// TestProtobufPreferringClients: kube-controller-manager's namespace
// controller and garbage collector use the metadata client, which asks for
// protobuf first and JSON second. signet's types have no protobuf encoding,
// so signet-apiserver must answer such clients in JSON; it used to fail
// every DeleteCollection ("object *v1.EndpointSliceList does not implement
// the protobuf marshalling interface"), which left namespaces holding signet
// objects Terminating for ever.
func TestProtobufPreferringClients(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	if _, err := cluster.Signet.DiscoveryV1().EndpointSlices(ns).Create(ctx, validSlice("a"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Signet.DiscoveryV1().EndpointSlices(ns).Create(ctx, validSlice("b"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Signet.NetworkingV1().Ingresses(ns).Create(ctx, validIngress("web"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	meta, err := metadata.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	slices := meta.Resource(schema.GroupVersionResource{Group: "discovery.signet.dev", Version: "v1", Resource: "endpointslices"}).Namespace(ns)
	ingresses := meta.Resource(schema.GroupVersionResource{Group: "networking.signet.dev", Version: "v1", Resource: "ingresses"}).Namespace(ns)

	list, err := slices.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("metadata list: %v", err)
	}
	if len(list.Items) != 2 {
		t.Errorf("metadata list returned %d slices, want 2", len(list.Items))
	}
	if err := slices.Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Errorf("metadata delete (the garbage collector's call): %v", err)
	}
	for name, r := range map[string]metadata.ResourceInterface{"endpointslices": slices, "ingresses": ingresses} {
		if err := r.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
			t.Errorf("metadata deletecollection of %s (the namespace controller's call): %v", name, err)
		}
		// Again, now that the collection is empty.
		if err := r.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
			t.Errorf("metadata deletecollection of no %s: %v", name, err)
		}
	}
	left, err := cluster.Signet.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(left.Items) != 0 {
		t.Errorf("%d slices left after deletecollection", len(left.Items))
	}
}
