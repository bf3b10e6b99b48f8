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
)

func TestIngressCRUDThroughAggregation(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	client := cluster.Signet.NetworkingV1().Ingresses(ns)

	created, err := client.Create(ctx, validIngress("shop"), metav1.CreateOptions{})
	if err != nil {
		failWithLogs(t, "create: %v", err)
	}
	if created.Generation != 1 {
		t.Errorf("generation after create = %d, want 1", created.Generation)
	}
	got, err := client.Get(ctx, "shop", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if got.Spec.Rules[0].Host != "shop.example.com" {
		t.Errorf("host = %q", got.Spec.Rules[0].Host)
	}
	got.Spec.Rules[0].Host = "store.example.com"
	updated, err := client.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if updated.Generation != 2 {
		t.Errorf("generation after a spec update = %d, want 2", updated.Generation)
	}
	list, err := client.List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list: %v, %d items", err, len(list.Items))
	}
	if err := client.Delete(ctx, "shop", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := client.Get(ctx, "shop", metav1.GetOptions{}); err == nil {
		t.Errorf("the Ingress is still there after delete")
	}
}
