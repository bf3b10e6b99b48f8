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

package endpointslice

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	discoveryv1 "signet.dev/api/discovery/v1"
	signetclient "signet.dev/client-go/clientset/versioned"
	discoveryinformers "signet.dev/client-go/informers/externalversions/discovery/v1"
	discoverylisters "signet.dev/client-go/listers/discovery/v1"
)

// Controller is the EndpointSlice controller: it watches Services, Pods,
// Nodes and EndpointSlices, and for each Service key taken from its work
// queue runs the Reconciler on the cached state and applies the plan
// through the signet client, in the order creates, updates, deletes.
//
// Events map to Service keys as follows:
//   - a Service event enqueues that Service;
//   - a Pod event enqueues the Services of the Pod's namespace whose
//     selector matches the Pod's labels (old and new labels on an update);
//   - a Node event (added, deleted, or labels changed) enqueues the
//     Services of the Pods on that Node, found through a spec.nodeName
//     index of the Pod informer (a scan of all cached Pods when the index
//     cannot be added, the informer having started already). Label changes
//     that do not touch the topology labels still enqueue: the reconcile
//     then plans nothing, and node label changes are rare;
//   - a managed EndpointSlice event enqueues the Service named by its
//     kubernetes.io/service-name label, except the echo of the
//     controller's own write (see below). Slices managed by others are
//     ignored.
//
// The controller never acts on a cache that misses its own writes: it
// records the generation (and UID) the apiserver returned for each slice
// it created or updated, and each slice it deleted; a sync whose cached
// slices are older than that is put back on the queue (counted in
// signet_endpointslice_controller_stale_cache_requeues_total) and the
// slice event that catches the cache up enqueues it again. Writes the
// cache has not shown after ControllerOptions.StaleCacheTimeout are no
// longer waited for. A create that fails with AlreadyExists (slice names
// are deterministic) and any other failed write stop the plan and put the
// Service back with backoff.
type Controller struct {
	kubeClient   kubernetes.Interface
	signetClient signetclient.Interface

	podLister     corelisters.PodLister
	podIndexer    cache.Indexer
	podNodeIndex  bool
	serviceLister corelisters.ServiceLister
	nodeLister    corelisters.NodeLister
	sliceLister   discoverylisters.EndpointSliceLister

	synced []cache.InformerSynced

	queue      workqueue.TypedRateLimitingInterface[string]
	reconciler *Reconciler
	tracker    *staleTracker
	metrics    *metrics
}

// ControllerOptions configure a Controller.
type ControllerOptions struct {
	// Options configure the Reconciler.
	Options
	// Registerer, when set, gets the controller's metrics. Without one
	// the metrics are kept but not exposed.
	Registerer prometheus.Registerer
	// StaleCacheTimeout is how long a write is waited for in the slice
	// cache before the controller stops waiting: default
	// DefaultStaleCacheTimeout.
	StaleCacheTimeout time.Duration
	// RateLimiter paces the retries of failed and stale syncs: default
	// workqueue.DefaultTypedControllerRateLimiter.
	RateLimiter workqueue.TypedRateLimiter[string]
}

// podNodeNameIndex is the name of the Pod informer index by spec.nodeName
// the controller adds.
const podNodeNameIndex = "endpointslice.signet.dev/nodeName"

// errStaleCache is returned by syncService when the slice cache does not
// yet show the controller's own writes.
var errStaleCache = errors.New("endpointslice cache does not yet show this controller's writes")

// missingNodesError is returned by syncService after applying a plan that
// left out pods on unknown nodes, so that the Service is retried.
type missingNodesError struct{ nodes []string }

func (e *missingNodesError) Error() string {
	return fmt.Sprintf("pods on unknown nodes %v were left out", e.nodes)
}

// NewController returns a Controller fed by the given informers. It adds
// its event handlers (and a Pod index by node name) to them; start the
// informers, then call Run. kubeClient is kept for the core/v1 API (the
// controller writes only EndpointSlices, through signetClient).
func NewController(ctx context.Context,
	podInformer coreinformers.PodInformer,
	serviceInformer coreinformers.ServiceInformer,
	nodeInformer coreinformers.NodeInformer,
	sliceInformer discoveryinformers.EndpointSliceInformer,
	kubeClient kubernetes.Interface,
	signetClient signetclient.Interface,
	opts ControllerOptions,
) (*Controller, error) {
	logger := klog.FromContext(ctx)
	r, err := NewReconciler(opts.Options)
	if err != nil {
		return nil, err
	}
	timeout := opts.StaleCacheTimeout
	if timeout == 0 {
		timeout = DefaultStaleCacheTimeout
	}
	rl := opts.RateLimiter
	if rl == nil {
		rl = workqueue.DefaultTypedControllerRateLimiter[string]()
	}
	c := &Controller{
		kubeClient:    kubeClient,
		signetClient:  signetClient,
		podLister:     podInformer.Lister(),
		podIndexer:    podInformer.Informer().GetIndexer(),
		serviceLister: serviceInformer.Lister(),
		nodeLister:    nodeInformer.Lister(),
		sliceLister:   sliceInformer.Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(rl,
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "endpointslice"}),
		reconciler: r,
		tracker:    newStaleTracker(timeout, time.Now),
		metrics:    newMetrics(sliceInformer.Lister()),
	}
	if opts.Registerer != nil {
		if err := c.metrics.register(opts.Registerer); err != nil {
			return nil, fmt.Errorf("registering metrics: %w", err)
		}
	}

	if err := podInformer.Informer().AddIndexers(cache.Indexers{podNodeNameIndex: podNodeName}); err != nil {
		logger.V(2).Info("Cannot index pods by node name, will scan them on node changes", "err", err)
	} else {
		c.podNodeIndex = true
	}

	handlers := []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandler
	}{
		{podInformer.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    c.onPodAdd,
			UpdateFunc: c.onPodUpdate,
			DeleteFunc: c.onPodDelete,
		}},
		{serviceInformer.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    c.onService,
			UpdateFunc: func(_, cur any) { c.onService(cur) },
			DeleteFunc: c.onService,
		}},
		{nodeInformer.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    c.onNodeAdd,
			UpdateFunc: c.onNodeUpdate,
			DeleteFunc: c.onNodeDelete,
		}},
		{sliceInformer.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    c.onSliceAdd,
			UpdateFunc: c.onSliceUpdate,
			DeleteFunc: c.onSliceDelete,
		}},
	}
	for _, h := range handlers {
		reg, err := h.inf.AddEventHandler(h.h)
		if err != nil {
			return nil, err
		}
		c.synced = append(c.synced, h.inf.HasSynced, reg.HasSynced)
	}
	return c, nil
}

func podNodeName(obj any) ([]string, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || pod.Spec.NodeName == "" {
		return nil, nil
	}
	return []string{pod.Spec.NodeName}, nil
}

// Run waits for the informers to sync, then runs workers goroutines taking
// Services from the queue until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer utilruntime.HandleCrashWithContext(ctx)
	defer c.queue.ShutDown()
	logger := klog.FromContext(ctx)
	logger.Info("Starting EndpointSlice controller")
	defer logger.Info("Shutting down EndpointSlice controller")

	if !cache.WaitForNamedCacheSyncWithContext(ctx, c.synced...) {
		return
	}
	for range workers {
		go wait.UntilWithContext(ctx, c.worker, time.Second)
	}
	<-ctx.Done()
}

func (c *Controller) worker(ctx context.Context) {
	for c.processNextWorkItem(ctx) {
	}
}

func (c *Controller) processNextWorkItem(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	c.handleErr(ctx, c.syncService(ctx, key), key)
	return true
}

func (c *Controller) handleErr(ctx context.Context, err error, key string) {
	logger := klog.FromContext(ctx)
	var mn *missingNodesError
	switch {
	case err == nil:
		c.queue.Forget(key)
		return
	case errors.Is(err, errStaleCache):
		logger.V(4).Info("EndpointSlice cache is stale, requeuing", "service", key)
	case errors.As(err, &mn):
		logger.V(2).Info("Pods on unknown nodes left out, requeuing", "service", key, "nodes", mn.nodes)
	default:
		utilruntime.HandleErrorWithContext(ctx, err, "Error syncing EndpointSlices of Service, retrying", "service", key)
	}
	c.queue.AddRateLimited(key)
}

// syncService brings the EndpointSlices of the Service with the given
// namespace/name key in step with the cache.
func (c *Controller) syncService(ctx context.Context, key string) (err error) {
	start := time.Now()
	defer func() {
		result := resultSuccess
		var mn *missingNodesError
		switch {
		case errors.Is(err, errStaleCache):
			result = resultStale
		case err != nil && !errors.As(err, &mn):
			result = resultError
		}
		c.metrics.syncDuration.WithLabelValues(result).Observe(time.Since(start).Seconds())
	}()
	logger := klog.FromContext(ctx)

	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		// Not retried: the key will not become valid.
		utilruntime.HandleErrorWithContext(ctx, err, "Invalid Service key", "key", key)
		return nil
	}
	slices, err := c.sliceLister.EndpointSlices(ns).List(labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: name}))
	if err != nil {
		return err
	}
	if c.tracker.Stale(key, slices) {
		c.metrics.staleCache.Inc()
		return errStaleCache
	}

	svc, err := c.serviceLister.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		plan := c.reconciler.ReconcileDeleted(ns, name, slices)
		if err := c.apply(ctx, key, plan); err != nil {
			return err
		}
		c.reconciler.Forget(ns, name)
		c.metrics.forget(key)
		return nil
	}
	if err != nil {
		return err
	}

	var pods []*corev1.Pod
	if len(svc.Spec.Selector) > 0 {
		pods, err = c.podLister.Pods(ns).List(labels.SelectorFromValidatedSet(svc.Spec.Selector))
		if err != nil {
			return err
		}
	}
	plan := c.reconciler.Reconcile(svc, pods, slices, c.nodeLookup)
	c.metrics.setDesired(key, plan.Endpoints, plan.Slices)
	if err := c.apply(ctx, key, plan); err != nil {
		return err
	}
	if !plan.Empty() {
		logger.V(4).Info("Applied EndpointSlice plan", "service", key,
			"creates", len(plan.Create), "updates", len(plan.Update), "deletes", len(plan.Delete))
	}
	if plan.RequeueAfter > 0 {
		c.queue.AddAfter(key, plan.RequeueAfter)
	}
	if len(plan.MissingNodes) > 0 {
		return &missingNodesError{nodes: plan.MissingNodes}
	}
	return nil
}

func (c *Controller) nodeLookup(name string) (*corev1.Node, bool) {
	n, err := c.nodeLister.Get(name)
	return n, err == nil
}

// apply writes the plan, creates first, then updates, then deletes, and
// stops at the first failure: the Service is then synced again from the
// cache once it shows what was written.
func (c *Controller) apply(ctx context.Context, key string, plan *Plan) error {
	client := c.signetClient.DiscoveryV1()
	for _, s := range plan.Create {
		out, err := client.EndpointSlices(s.Namespace).Create(ctx, s, metav1.CreateOptions{})
		if err != nil {
			if apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("creating EndpointSlice %s/%s: it exists but is not in the cache yet: %w", s.Namespace, s.Name, err)
			}
			return fmt.Errorf("creating EndpointSlice %s/%s: %w", s.Namespace, s.Name, err)
		}
		c.tracker.Wrote(key, out)
		c.metrics.changes.WithLabelValues("create").Inc()
	}
	for _, s := range plan.Update {
		out, err := client.EndpointSlices(s.Namespace).Update(ctx, s, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("updating EndpointSlice %s/%s: %w", s.Namespace, s.Name, err)
		}
		c.tracker.Wrote(key, out)
		c.metrics.changes.WithLabelValues("update").Inc()
	}
	for _, s := range plan.Delete {
		var pre *metav1.Preconditions
		if s.UID != "" {
			uid := s.UID
			pre = &metav1.Preconditions{UID: &uid}
		}
		err := client.EndpointSlices(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{Preconditions: pre})
		switch {
		case apierrors.IsNotFound(err):
			// Already gone; the cache will show it.
		case err != nil:
			return fmt.Errorf("deleting EndpointSlice %s/%s: %w", s.Namespace, s.Name, err)
		default:
			c.metrics.changes.WithLabelValues("delete").Inc()
		}
		c.tracker.Deleted(key, s)
	}
	return nil
}

// Event handlers.

func (c *Controller) enqueue(key string) { c.queue.Add(key) }

func (c *Controller) onService(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	c.enqueue(key)
}

// podServiceKeys adds to keys the Services whose selector matches the pod.
func (c *Controller) podServiceKeys(pod *corev1.Pod, keys sets.Set[string]) {
	svcs, err := c.serviceLister.Services(pod.Namespace).List(labels.Everything())
	if err != nil {
		utilruntime.HandleError(err)
		return
	}
	for _, svc := range svcs {
		if len(svc.Spec.Selector) == 0 {
			continue
		}
		if labels.SelectorFromValidatedSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) {
			keys.Insert(serviceKey(svc.Namespace, svc.Name))
		}
	}
}

func (c *Controller) enqueuePodServices(pods ...*corev1.Pod) {
	keys := sets.New[string]()
	for _, p := range pods {
		c.podServiceKeys(p, keys)
	}
	for k := range keys {
		c.enqueue(k)
	}
}

func (c *Controller) onPodAdd(obj any) {
	if pod, ok := obj.(*corev1.Pod); ok {
		c.enqueuePodServices(pod)
	}
}

func (c *Controller) onPodUpdate(old, cur any) {
	oldPod, ok1 := old.(*corev1.Pod)
	curPod, ok2 := cur.(*corev1.Pod)
	if !ok1 || !ok2 || oldPod.ResourceVersion == curPod.ResourceVersion {
		// A resync: the Service informer's resync covers it.
		return
	}
	if maps.Equal(oldPod.Labels, curPod.Labels) {
		c.enqueuePodServices(curPod)
		return
	}
	c.enqueuePodServices(oldPod, curPod)
}

func (c *Controller) onPodDelete(obj any) {
	if pod := podFromDeleted(obj); pod != nil {
		c.enqueuePodServices(pod)
	}
}

func podFromDeleted(obj any) *corev1.Pod {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, _ := obj.(*corev1.Pod)
	return pod
}

// enqueueNodeServices enqueues the Services of the pods on the node.
func (c *Controller) enqueueNodeServices(nodeName string) {
	var pods []*corev1.Pod
	if c.podNodeIndex {
		objs, err := c.podIndexer.ByIndex(podNodeNameIndex, nodeName)
		if err != nil {
			utilruntime.HandleError(err)
			return
		}
		for _, o := range objs {
			if p, ok := o.(*corev1.Pod); ok {
				pods = append(pods, p)
			}
		}
	} else {
		all, err := c.podLister.List(labels.Everything())
		if err != nil {
			utilruntime.HandleError(err)
			return
		}
		for _, p := range all {
			if p.Spec.NodeName == nodeName {
				pods = append(pods, p)
			}
		}
	}
	c.enqueuePodServices(pods...)
}

func (c *Controller) onNodeAdd(obj any) {
	if n, ok := obj.(*corev1.Node); ok {
		c.enqueueNodeServices(n.Name)
	}
}

func (c *Controller) onNodeUpdate(old, cur any) {
	oldNode, ok1 := old.(*corev1.Node)
	curNode, ok2 := cur.(*corev1.Node)
	if ok1 && ok2 && !maps.Equal(oldNode.Labels, curNode.Labels) {
		c.enqueueNodeServices(curNode.Name)
	}
}

func (c *Controller) onNodeDelete(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if n, ok := obj.(*corev1.Node); ok {
		c.enqueueNodeServices(n.Name)
	}
}

// sliceServiceKey returns the key of the Service owning a managed slice.
func sliceServiceKey(s *discoveryv1.EndpointSlice) (string, bool) {
	if s == nil || !Managed(s) {
		return "", false
	}
	name := s.Labels[discoveryv1.LabelServiceName]
	if name == "" {
		return "", false
	}
	return serviceKey(s.Namespace, name), true
}

func (c *Controller) onSlice(s *discoveryv1.EndpointSlice, deleted bool) {
	if key, ok := sliceServiceKey(s); ok && c.tracker.Observe(key, s, deleted) {
		c.enqueue(key)
	}
}

func (c *Controller) onSliceAdd(obj any) {
	if s, ok := obj.(*discoveryv1.EndpointSlice); ok {
		c.onSlice(s, false)
	}
}

func (c *Controller) onSliceUpdate(old, cur any) {
	oldSlice, ok1 := old.(*discoveryv1.EndpointSlice)
	curSlice, ok2 := cur.(*discoveryv1.EndpointSlice)
	if !ok1 || !ok2 {
		return
	}
	c.onSlice(curSlice, false)
	// A slice relabelled away from a Service (or from this controller)
	// changes the old Service's slices too.
	oldKey, oldOK := sliceServiceKey(oldSlice)
	curKey, curOK := sliceServiceKey(curSlice)
	if oldOK && (!curOK || oldKey != curKey) {
		c.enqueue(oldKey)
	}
}

func (c *Controller) onSliceDelete(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if s, ok := obj.(*discoveryv1.EndpointSlice); ok {
		c.onSlice(s, true)
	}
}
