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

package clusterdns

import (
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	coreinformers "k8s.io/client-go/informers/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	discoveryv1 "signet.dev/api/discovery/v1"
	discoveryinformers "signet.dev/client-go/informers/externalversions/discovery/v1"
)

// serviceIndex indexes EndpointSlices by the namespace/name of the Service
// their kubernetes.io/service-name label names.
const serviceIndex = "clusterdns-service"

// Sources keeps a Store in step with the Service, EndpointSlice and Node
// informers: each event recomputes the records of the one Service it
// concerns from the informers' caches. Nodes only provide labels for
// topology; their informer keeps nothing else of them.
type Sources struct {
	store    *Store
	services corelisters.ServiceLister
	slices   cache.Indexer
	nodes    corelisters.NodeLister
	logger   klog.Logger

	mu     sync.Mutex // serialises reading the caches and writing the store
	synced []cache.InformerSynced
}

// NewSources registers event handlers, an index and transforms on the
// informers, which must not have been started, to keep store up to date.
// Start the informers afterwards; HasSynced tells when the store holds
// their full initial state.
func NewSources(store *Store, services coreinformers.ServiceInformer, slices discoveryinformers.EndpointSliceInformer, nodes coreinformers.NodeInformer, logger klog.Logger) (*Sources, error) {
	s := &Sources{
		store:    store,
		services: services.Lister(),
		slices:   slices.Informer().GetIndexer(),
		nodes:    nodes.Lister(),
		logger:   logger,
	}
	if err := services.Informer().SetTransform(stripManagedFields); err != nil {
		return nil, fmt.Errorf("service informer: %w", err)
	}
	if err := slices.Informer().SetTransform(stripManagedFields); err != nil {
		return nil, fmt.Errorf("EndpointSlice informer: %w", err)
	}
	if err := nodes.Informer().SetTransform(nodeLabelsOnly); err != nil {
		return nil, fmt.Errorf("node informer: %w", err)
	}
	if err := slices.Informer().AddIndexers(cache.Indexers{serviceIndex: sliceServiceIndex}); err != nil {
		return nil, fmt.Errorf("indexing EndpointSlices by Service: %w", err)
	}

	svcReg, err := services.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.syncObject(obj) },
		UpdateFunc: func(_, obj any) { s.syncObject(obj) },
		DeleteFunc: func(obj any) { s.syncObject(obj) },
	})
	if err != nil {
		return nil, err
	}
	sliceReg, err := slices.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { s.syncSlice(obj) },
		UpdateFunc: func(old, obj any) {
			s.syncSlice(old) // the Service it belonged to, if it moved
			s.syncSlice(obj)
		},
		DeleteFunc: func(obj any) { s.syncSlice(obj) },
	})
	if err != nil {
		return nil, err
	}
	s.synced = []cache.InformerSynced{
		services.Informer().HasSynced, svcReg.HasSynced,
		slices.Informer().HasSynced, sliceReg.HasSynced,
		nodes.Informer().HasSynced,
	}
	return s, nil
}

// HasSynced reports whether the informers have listed everything and the
// store has taken all of it in.
func (s *Sources) HasSynced() bool {
	for _, synced := range s.synced {
		if !synced() {
			return false
		}
	}
	return true
}

// NodeLabels returns the labels of a Node, if the informer knows it.
func (s *Sources) NodeLabels(name string) (map[string]string, bool) {
	n, err := s.nodes.Get(name)
	if err != nil {
		return nil, false
	}
	return n.Labels, true
}

// syncObject recomputes the records of the Service obj (a Service or its
// tombstone) is about.
func (s *Sources) syncObject(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		s.logger.Error(err, "Ignoring an object without a key")
		return
	}
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return
	}
	s.sync(types.NamespacedName{Namespace: ns, Name: name})
}

// syncSlice recomputes the records of the Service an EndpointSlice (or its
// tombstone) is labelled with.
func (s *Sources) syncSlice(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	slice, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return
	}
	if name := slice.Labels[discoveryv1.LabelServiceName]; name != "" {
		s.sync(types.NamespacedName{Namespace: slice.Namespace, Name: name})
	}
}

// sync recomputes the records of one Service from the caches. Reading the
// caches and writing the store happen under one lock, so whichever event
// comes last leaves the store matching the caches.
func (s *Sources) sync(key types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, err := s.services.Services(key.Namespace).Get(key.Name)
	if apierrors.IsNotFound(err) {
		s.store.Delete(key)
		return
	}
	if err != nil {
		s.logger.Error(err, "Reading a Service from the cache", "service", key)
		return
	}
	objs, err := s.slices.ByIndex(serviceIndex, key.String())
	if err != nil {
		s.logger.Error(err, "Listing the EndpointSlices of a Service", "service", key)
		return
	}
	slices := make([]*discoveryv1.EndpointSlice, 0, len(objs))
	for _, o := range objs {
		if es, ok := o.(*discoveryv1.EndpointSlice); ok {
			slices = append(slices, es)
		}
	}
	s.store.Set(svc, slices)
	if e := s.store.service(key.Namespace, key.Name); e != nil && e.TopologyErr != nil {
		s.logger.V(2).Info("Ignoring invalid topology keys, as kube-proxy does", "service", key, "err", e.TopologyErr)
	}
}

// sliceServiceIndex is the serviceIndex function.
func sliceServiceIndex(obj any) ([]string, error) {
	slice, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return nil, nil
	}
	name := slice.Labels[discoveryv1.LabelServiceName]
	if name == "" {
		return nil, nil
	}
	return []string{types.NamespacedName{Namespace: slice.Namespace, Name: name}.String()}, nil
}

// stripManagedFields drops what DNS never reads and the cache would keep
// for every object.
func stripManagedFields(obj any) (any, error) {
	if o, ok := obj.(metav1.Object); ok {
		o.SetManagedFields(nil)
	}
	return obj, nil
}

// nodeLabelsOnly keeps a Node's name and labels: status (images, conditions)
// dominates a Node's size and changes with every heartbeat-driven update.
func nodeLabelsOnly(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:            n.Name,
		UID:             n.UID,
		ResourceVersion: n.ResourceVersion,
		Labels:          n.Labels,
	}}, nil
}
