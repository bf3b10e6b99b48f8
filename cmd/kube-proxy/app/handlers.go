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
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	discoveryv1 "signet.dev/api/discovery/v1"
)

// eventSink takes informer events; the MetaProxier is one.
type eventSink interface {
	OnServiceUpdate(svc *corev1.Service)
	OnServiceDelete(svc *corev1.Service)
	OnServicesSynced()
	OnEndpointSliceUpdate(slice *discoveryv1.EndpointSlice)
	OnEndpointSliceDelete(slice *discoveryv1.EndpointSlice)
	OnEndpointSlicesSynced()
	OnNodeUpdate(node *corev1.Node)
	OnNodeSynced()
}

// unwrap returns the object of a delete event, which may be a tombstone
// when the informer missed the deletion.
func unwrap(obj any) any {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return t.Obj
	}
	return obj
}

func serviceHandlers(sink eventSink) cache.ResourceEventHandlerFuncs {
	update := func(obj any) {
		if svc, ok := obj.(*corev1.Service); ok {
			sink.OnServiceUpdate(svc)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    update,
		UpdateFunc: func(_, obj any) { update(obj) },
		DeleteFunc: func(obj any) {
			if svc, ok := unwrap(obj).(*corev1.Service); ok {
				sink.OnServiceDelete(svc)
			}
		},
	}
}

func sliceHandlers(sink eventSink) cache.ResourceEventHandlerFuncs {
	update := func(obj any) {
		if s, ok := obj.(*discoveryv1.EndpointSlice); ok {
			sink.OnEndpointSliceUpdate(s)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    update,
		UpdateFunc: func(_, obj any) { update(obj) },
		DeleteFunc: func(obj any) {
			if s, ok := unwrap(obj).(*discoveryv1.EndpointSlice); ok {
				sink.OnEndpointSliceDelete(s)
			}
		},
	}
}

// nodeHandlers follow this node's Node. A deleted Node keeps its last
// labels: the node is going away, and its Services' endpoints with it.
func nodeHandlers(sink eventSink, logger klog.Logger) cache.ResourceEventHandlerFuncs {
	update := func(obj any) {
		if n, ok := obj.(*corev1.Node); ok {
			sink.OnNodeUpdate(n)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    update,
		UpdateFunc: func(_, obj any) { update(obj) },
		DeleteFunc: func(obj any) {
			if n, ok := unwrap(obj).(*corev1.Node); ok {
				logger.Info("This node's Node object was deleted; topology keys keep using its last labels", "node", klog.KObj(n))
			}
		},
	}
}
