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
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	networkingv1 "signet.dev/api/networking/v1"
)

// TestRestartKeepsObjectsAndWatchesResume restarts signet-apiserver (its
// embedded etcd keeps the data under --data-dir) and checks that nothing is
// lost and that a client watching from a resourceVersion it got before the
// restart still sees every later change.
func TestRestartKeepsObjectsAndWatchesResume(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	ingresses := cluster.Signet.NetworkingV1().Ingresses(ns)
	before, err := ingresses.Create(ctx, validIngress("before"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	slice, err := cluster.Signet.DiscoveryV1().EndpointSlices(ns).Create(ctx, validSlice("kept"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	list, err := ingresses.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	resumeFrom := list.ResourceVersion

	if err := cluster.RestartSignetAPIServer(ctx); err != nil {
		t.Fatalf("restarting signet-apiserver: %v", err)
	}

	got, err := ingresses.Get(ctx, "before", metav1.GetOptions{})
	if err != nil {
		failWithLogs(t, "the Ingress is gone after the restart: %v", err)
	}
	if got.UID != before.UID || got.Spec.Rules[0].Host != before.Spec.Rules[0].Host {
		t.Errorf("the Ingress changed across the restart: uid %s -> %s", before.UID, got.UID)
	}
	gotSlice, err := cluster.Signet.DiscoveryV1().EndpointSlices(ns).Get(ctx, "kept", metav1.GetOptions{})
	if err != nil || gotSlice.UID != slice.UID {
		t.Errorf("the EndpointSlice did not survive the restart: %v", err)
	}

	if _, err := ingresses.Create(ctx, validIngress("after"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := ingresses.Watch(ctx, metav1.ListOptions{ResourceVersion: resumeFrom})
	if err != nil {
		t.Fatalf("watching from resourceVersion %s taken before the restart: %v", resumeFrom, err)
	}
	defer w.Stop()
	timeout := time.After(time.Minute)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("the watch closed before the Ingress created after the restart arrived")
			}
			if ev.Type == watch.Error {
				t.Fatalf("the watch from %s failed: %v", resumeFrom, ev.Object)
			}
			ing, isIngress := ev.Object.(*networkingv1.Ingress)
			if !isIngress {
				continue
			}
			if ing.Name == "before" {
				t.Errorf("the watch replayed %s, created before resourceVersion %s", ing.Name, resumeFrom)
			}
			if ev.Type == watch.Added && ing.Name == "after" {
				return
			}
		case <-timeout:
			t.Fatal("no event for the Ingress created after the restart")
		}
	}
}
