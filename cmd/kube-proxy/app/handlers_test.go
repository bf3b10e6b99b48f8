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

package app

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2/ktesting"

	discoveryv1 "signet.dev/api/discovery/v1"
)

// sink records the events it gets.
type sink struct{ calls []string }

func (s *sink) OnServiceUpdate(svc *corev1.Service) {
	s.calls = append(s.calls, "service update "+svc.Name)
}
func (s *sink) OnServiceDelete(svc *corev1.Service) {
	s.calls = append(s.calls, "service delete "+svc.Name)
}
func (s *sink) OnServicesSynced() { s.calls = append(s.calls, "services synced") }
func (s *sink) OnEndpointSliceUpdate(e *discoveryv1.EndpointSlice) {
	s.calls = append(s.calls, "slice update "+e.Name)
}
func (s *sink) OnEndpointSliceDelete(e *discoveryv1.EndpointSlice) {
	s.calls = append(s.calls, "slice delete "+e.Name)
}
func (s *sink) OnEndpointSlicesSynced()     { s.calls = append(s.calls, "slices synced") }
func (s *sink) OnNodeUpdate(n *corev1.Node) { s.calls = append(s.calls, "node update "+n.Name) }
func (s *sink) OnNodeSynced()               { s.calls = append(s.calls, "node synced") }

func TestHandlers(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}}
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web-abc"}}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}}
	tomb := func(obj any) cache.DeletedFinalStateUnknown {
		return cache.DeletedFinalStateUnknown{Key: "ns/x", Obj: obj}
	}
	tests := []struct {
		name  string
		event func(s *sink, t *testing.T)
		want  []string
	}{
		{name: "service add", event: func(s *sink, _ *testing.T) { serviceHandlers(s).OnAdd(svc, false) }, want: []string{"service update web"}},
		{name: "service update", event: func(s *sink, _ *testing.T) { serviceHandlers(s).OnUpdate(svc, svc) }, want: []string{"service update web"}},
		{name: "service delete", event: func(s *sink, _ *testing.T) { serviceHandlers(s).OnDelete(svc) }, want: []string{"service delete web"}},
		{name: "service tombstone", event: func(s *sink, _ *testing.T) { serviceHandlers(s).OnDelete(tomb(svc)) }, want: []string{"service delete web"}},
		{name: "not a service", event: func(s *sink, _ *testing.T) { serviceHandlers(s).OnAdd(slice, false) }},
		{name: "slice add", event: func(s *sink, _ *testing.T) { sliceHandlers(s).OnAdd(slice, false) }, want: []string{"slice update web-abc"}},
		{name: "slice update", event: func(s *sink, _ *testing.T) { sliceHandlers(s).OnUpdate(slice, slice) }, want: []string{"slice update web-abc"}},
		{name: "slice delete", event: func(s *sink, _ *testing.T) { sliceHandlers(s).OnDelete(slice) }, want: []string{"slice delete web-abc"}},
		{name: "slice tombstone", event: func(s *sink, _ *testing.T) { sliceHandlers(s).OnDelete(tomb(slice)) }, want: []string{"slice delete web-abc"}},
		{name: "tombstone of something else", event: func(s *sink, _ *testing.T) { sliceHandlers(s).OnDelete(tomb(svc)) }},
		{name: "node add", event: func(s *sink, t *testing.T) {
			nodeHandlers(s, ktesting.NewLogger(t, ktesting.NewConfig())).OnAdd(node, false)
		}, want: []string{"node update node-a"}},
		{name: "node update", event: func(s *sink, t *testing.T) {
			nodeHandlers(s, ktesting.NewLogger(t, ktesting.NewConfig())).OnUpdate(node, node)
		}, want: []string{"node update node-a"}},
		{name: "node delete keeps the labels", event: func(s *sink, t *testing.T) {
			nodeHandlers(s, ktesting.NewLogger(t, ktesting.NewConfig())).OnDelete(tomb(node))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &sink{}
			tc.event(s, t)
			if !slices.Equal(s.calls, tc.want) {
				t.Errorf("calls = %q, want %q", s.calls, tc.want)
			}
		})
	}
}
