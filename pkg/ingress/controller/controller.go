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

package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	kubeinformers "k8s.io/client-go/informers"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	discoveryv1 "signet.dev/api/discovery/v1"
	networkingv1 "signet.dev/api/networking/v1"
	signetclient "signet.dev/client-go/clientset/versioned"
	signetinformers "signet.dev/client-go/informers/externalversions"
	discoveryinformers "signet.dev/client-go/informers/externalversions/discovery/v1"
	networkinginformers "signet.dev/client-go/informers/externalversions/networking/v1"
	networkinglisters "signet.dev/client-go/listers/networking/v1"

	"signet.dev/signet/pkg/ingress/proxy"
)

const (
	// DefaultDebounce is how long the controller waits after a change
	// before it rebuilds, so that a burst of events (an Ingress, its
	// Service and slices created together) makes one rebuild.
	DefaultDebounce = 20 * time.Millisecond
	// notReadyRetry is how soon status is tried again while the proxy is
	// not serving yet.
	notReadyRetry = time.Second
	// sliceServiceIndex indexes EndpointSlices by "namespace/service".
	sliceServiceIndex = "signet-ingress-service"
)

// Dataplane is what the controller drives; *proxy.Proxy implements it.
type Dataplane interface {
	// Update publishes a configuration; it is live when Update returns.
	Update(cfg *proxy.Config)
	// Ready reports whether the proxy is serving.
	Ready() bool
}

// Options configure a Controller.
type Options struct {
	// ControllerName is the spec.controller of our IngressClasses
	// (DefaultControllerName when empty).
	ControllerName string
	// PublishAddresses go to status.loadBalancer.ingress of every Ingress
	// (see ParsePublishAddresses).
	PublishAddresses []networkingv1.IngressLoadBalancerIngress
	// Debounce delays a rebuild after a change (DefaultDebounce when zero,
	// none when negative).
	Debounce time.Duration
	// Registerer receives the controller's metrics (nil: not registered).
	Registerer prometheus.Registerer
}

// Informers are the informers the controller reads. They must not have
// been started: the controller adds handlers, an index and transforms.
type Informers struct {
	IngressClasses networkinginformers.IngressClassInformer
	Ingresses      networkinginformers.IngressInformer
	Services       coreinformers.ServiceInformer
	EndpointSlices discoveryinformers.EndpointSliceInformer
	// Secrets need only hold Secrets of type kubernetes.io/tls; see
	// NewInformers.
	Secrets    coreinformers.SecretInformer
	ConfigMaps coreinformers.ConfigMapInformer
}

// NewInformers returns the controller's informers from two factories,
// which may be restricted to one namespace (IngressClasses are
// cluster-scoped and always watched whole). Secrets are listed with the
// field selector type=kubernetes.io/tls, so the cache holds TLS Secrets
// only; namespace must be the kube factory's namespace ("" for all).
func NewInformers(kube kubeinformers.SharedInformerFactory, signet signetinformers.SharedInformerFactory, namespace string) Informers {
	return Informers{
		IngressClasses: signet.Networking().V1().IngressClasses(),
		Ingresses:      signet.Networking().V1().Ingresses(),
		Services:       kube.Core().V1().Services(),
		EndpointSlices: signet.Discovery().V1().EndpointSlices(),
		Secrets:        tlsSecretInformer{factory: kube, namespace: namespace},
		ConfigMaps:     kube.Core().V1().ConfigMaps(),
	}
}

// tlsSecretInformer is a Secret informer that lists TLS Secrets only.
type tlsSecretInformer struct {
	factory   kubeinformers.SharedInformerFactory
	namespace string
}

func (i tlsSecretInformer) Informer() cache.SharedIndexInformer {
	return i.factory.InformerFor(&corev1.Secret{}, func(client kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		return coreinformers.NewFilteredSecretInformer(client, i.namespace, resync,
			cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc},
			func(o *metav1.ListOptions) { o.FieldSelector = "type=" + string(corev1.SecretTypeTLS) })
	})
}

func (i tlsSecretInformer) Lister() corelisters.SecretLister {
	return corelisters.NewSecretLister(i.Informer().GetIndexer())
}

// Controller keeps a Dataplane configured from the Ingresses of its
// classes and, while RunStatus runs, their status up to date.
type Controller struct {
	opts    Options
	client  signetclient.Interface
	dp      Dataplane
	logger  klog.Logger
	metrics *metrics

	classes    networkinglisters.IngressClassLister
	ingresses  networkinglisters.IngressLister
	state      *listerState
	synced     []cache.InformerSynced
	translator *Translator

	// trigger wakes the rebuild loop; one pending wake-up is enough.
	trigger chan struct{}
	// applied is set once the first configuration is applied.
	applied atomic.Bool

	mu sync.Mutex
	// refs are the objects the Ingresses of the last rebuild reference.
	refs References
	// pendingSince is when the oldest change not yet rebuilt was seen.
	pendingSince time.Time
	// generation of the last configuration handed to the Dataplane.
	generation int64
	// results of the last rebuild, by Ingress.
	results map[types.NamespacedName]*IngressResult
	// written is, per Ingress, the resourceVersion our last status write
	// was based on: while the cache still shows it, the cache has not seen
	// the write yet.
	written map[types.NamespacedName]string
	// queue holds the Ingresses whose status to check; nil while not
	// leading.
	queue workqueue.TypedRateLimitingInterface[types.NamespacedName]
}

// New returns a Controller over informers, which it configures; start
// them after New.
func New(ctx context.Context, client signetclient.Interface, inf Informers, dp Dataplane, opts Options) (*Controller, error) {
	if opts.ControllerName == "" {
		opts.ControllerName = DefaultControllerName
	}
	if opts.Debounce == 0 {
		opts.Debounce = DefaultDebounce
	}
	c := &Controller{
		opts:       opts,
		client:     client,
		dp:         dp,
		logger:     klog.FromContext(ctx).WithName("ingress-controller"),
		metrics:    newMetrics(opts.Registerer),
		classes:    inf.IngressClasses.Lister(),
		ingresses:  inf.Ingresses.Lister(),
		translator: NewTranslator(),
		trigger:    make(chan struct{}, 1),
		results:    map[types.NamespacedName]*IngressResult{},
		written:    map[types.NamespacedName]string{},
		refs:       ReferencesOf(nil),
	}
	c.state = &listerState{
		services:   inf.Services.Lister(),
		slices:     inf.EndpointSlices.Informer().GetIndexer(),
		secrets:    inf.Secrets.Lister(),
		configMaps: inf.ConfigMaps.Lister(),
	}
	if err := inf.EndpointSlices.Informer().AddIndexers(cache.Indexers{sliceServiceIndex: sliceService}); err != nil {
		return nil, fmt.Errorf("indexing EndpointSlices by Service: %w", err)
	}
	for name, i := range map[string]cache.SharedIndexInformer{
		"IngressClass": inf.IngressClasses.Informer(), "Ingress": inf.Ingresses.Informer(),
		"Service": inf.Services.Informer(), "EndpointSlice": inf.EndpointSlices.Informer(),
		"Secret": inf.Secrets.Informer(), "ConfigMap": inf.ConfigMaps.Informer(),
	} {
		if err := i.SetTransform(stripManagedFields); err != nil {
			return nil, fmt.Errorf("%s informer: %w", name, err)
		}
	}

	type reg struct {
		informer cache.SharedIndexInformer
		handler  cache.ResourceEventHandler
	}
	for _, r := range []reg{
		{inf.IngressClasses.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { c.changed() },
			UpdateFunc: c.classUpdated,
			DeleteFunc: func(any) { c.changed() },
		}},
		{inf.Ingresses.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    c.ingressAddedOrDeleted,
			UpdateFunc: c.ingressUpdated,
			DeleteFunc: c.ingressAddedOrDeleted,
		}},
		{inf.Services.Informer(), c.refHandler(func(r *References) sets.Set[types.NamespacedName] { return r.Services })},
		{inf.Secrets.Informer(), c.refHandler(func(r *References) sets.Set[types.NamespacedName] { return r.Secrets })},
		{inf.ConfigMaps.Informer(), c.refHandler(func(r *References) sets.Set[types.NamespacedName] { return r.ConfigMaps })},
		{inf.EndpointSlices.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    c.sliceChanged,
			UpdateFunc: func(old, obj any) { c.sliceChanged(old); c.sliceChanged(obj) },
			DeleteFunc: c.sliceChanged,
		}},
	} {
		h, err := r.informer.AddEventHandler(r.handler)
		if err != nil {
			return nil, err
		}
		c.synced = append(c.synced, r.informer.HasSynced, h.HasSynced)
	}
	return c, nil
}

// HasSynced reports whether every informer has delivered its initial list.
func (c *Controller) HasSynced() bool {
	for _, s := range c.synced {
		if !s() {
			return false
		}
	}
	return true
}

// Ready reports whether the informers have synced, a configuration built
// from them was applied and the proxy is serving.
func (c *Controller) Ready() bool {
	return c.HasSynced() && c.applied.Load() && c.dp.Ready()
}

// Run waits for the informers, applies the first configuration and then
// rebuilds after every relevant change, until ctx is done.
func (c *Controller) Run(ctx context.Context) error {
	if !cache.WaitForCacheSync(ctx.Done(), c.HasSynced) {
		return fmt.Errorf("waiting for the informers: %w", context.Cause(ctx))
	}
	c.logger.Info("Informers synced; building the first configuration", "controller", c.opts.ControllerName)
	// The initial lists are not changes to time: the first configuration
	// has no Changed.
	c.mu.Lock()
	c.pendingSince = time.Time{}
	c.mu.Unlock()
	select {
	case c.trigger <- struct{}{}:
	default:
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.trigger:
		}
		if c.opts.Debounce > 0 {
			t := time.NewTimer(c.opts.Debounce)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
		select {
		case <-c.trigger:
		default:
		}
		c.rebuild()
	}
}

// changed records a change and wakes the rebuild loop.
func (c *Controller) changed() {
	c.mu.Lock()
	if c.pendingSince.IsZero() {
		c.pendingSince = time.Now()
	}
	c.mu.Unlock()
	select {
	case c.trigger <- struct{}{}:
	default:
	}
}

// rebuild translates the Ingresses of our classes from the caches and
// applies the result.
func (c *Controller) rebuild() {
	start := time.Now()
	classList, err := c.classes.List(labels.Everything())
	if err != nil {
		c.logger.Error(err, "Listing IngressClasses")
	}
	all, err := c.ingresses.List(labels.Everything())
	if err != nil {
		c.logger.Error(err, "Listing Ingresses")
	}
	ours := Select(all, ClassesOf(classList, c.opts.ControllerName))

	// Publish what we reference before reading it: an event for an object
	// is then either already in the cache we read, or triggers another
	// rebuild.
	refs := ReferencesOf(ours)
	c.mu.Lock()
	c.refs = refs
	changedAt := c.pendingSince
	c.pendingSince = time.Time{}
	c.generation++
	gen := c.generation
	c.mu.Unlock()

	tr := c.translator.Translate(ours, c.state)
	tr.Config.Generation = gen
	tr.Config.Changed = changedAt
	c.dp.Update(tr.Config)
	c.applied.Store(true)
	elapsed := time.Since(start)

	notAccepted := map[string]int{}
	for _, r := range reasonOrder {
		notAccepted[r] = 0
	}
	routes := 0
	for _, res := range tr.Ingresses {
		routes += res.Routes
		if len(res.Problems) > 0 {
			notAccepted[mainReason(res.Problems)]++
		}
	}
	c.metrics.rebuilds.Inc()
	c.metrics.buildSeconds.Observe(elapsed.Seconds())
	c.metrics.ingresses.Set(float64(len(ours)))
	c.metrics.routes.Set(float64(routes))
	for r, n := range notAccepted {
		c.metrics.notAccepted.WithLabelValues(r).Set(float64(n))
	}
	c.logger.V(2).Info("Applied proxy configuration", "generation", gen, "ingresses", len(ours), "routes", routes,
		"certificates", len(tr.Config.TLS.Certificates), "selfSigned", len(tr.Config.TLS.SelfSigned), "elapsed", elapsed)

	c.mu.Lock()
	c.results = tr.Ingresses
	for k := range c.written {
		if _, ok := tr.Ingresses[k]; !ok {
			delete(c.written, k)
		}
	}
	q := c.queue
	c.mu.Unlock()
	if q != nil {
		for k := range tr.Ingresses {
			q.Add(k)
		}
	}
}

// isOurs reports whether an Ingress's class is one of ours right now.
func (c *Controller) isOurs(ing *networkingv1.Ingress) bool {
	name := ClassOf(ing)
	if name == "" {
		return false
	}
	class, err := c.classes.Get(name)
	return err == nil && class.Spec.Controller == c.opts.ControllerName
}

// wasOurs reports whether the last rebuild included the Ingress.
func (c *Controller) wasOurs(key types.NamespacedName) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.results[key]
	return ok
}

func (c *Controller) classUpdated(old, obj any) {
	o, ok1 := old.(*networkingv1.IngressClass)
	n, ok2 := obj.(*networkingv1.IngressClass)
	if ok1 && ok2 && o.Spec.Controller == n.Spec.Controller {
		return
	}
	c.changed()
}

func asIngress(obj any) *networkingv1.Ingress {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	ing, _ := obj.(*networkingv1.Ingress)
	return ing
}

func (c *Controller) ingressAddedOrDeleted(obj any) {
	ing := asIngress(obj)
	if ing == nil {
		return
	}
	if c.isOurs(ing) || c.wasOurs(keyOf(ing)) {
		c.changed()
	}
}

func (c *Controller) ingressUpdated(oldObj, obj any) {
	old, ing := asIngress(oldObj), asIngress(obj)
	if old == nil || ing == nil {
		return
	}
	ours := c.isOurs(ing)
	if !ours && !c.isOurs(old) && !c.wasOurs(keyOf(ing)) {
		return
	}
	if old.UID != ing.UID || old.Generation != ing.Generation || ClassOf(old) != ClassOf(ing) ||
		!apiequality.Semantic.DeepEqual(old.Spec, ing.Spec) {
		c.changed()
		return
	}
	// Status or metadata only: check the status (it may be our own write
	// arriving, or someone else's to repair).
	if ours {
		c.enqueue(keyOf(ing))
	}
}

// refHandler triggers a rebuild for events about objects in one set of
// the current references.
func (c *Controller) refHandler(set func(*References) sets.Set[types.NamespacedName]) cache.ResourceEventHandler {
	check := func(obj any) {
		key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
		if err != nil {
			return
		}
		ns, name, err := cache.SplitMetaNamespaceKey(key)
		if err != nil {
			return
		}
		c.mu.Lock()
		_, ok := set(&c.refs)[types.NamespacedName{Namespace: ns, Name: name}]
		c.mu.Unlock()
		if ok {
			c.changed()
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    check,
		UpdateFunc: func(_, obj any) { check(obj) },
		DeleteFunc: check,
	}
}

func (c *Controller) sliceChanged(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	slice, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return
	}
	svc := slice.Labels[discoveryv1.LabelServiceName]
	if svc == "" {
		return
	}
	c.mu.Lock()
	ok = c.refs.Services.Has(types.NamespacedName{Namespace: slice.Namespace, Name: svc})
	c.mu.Unlock()
	if ok {
		c.changed()
	}
}

func (c *Controller) enqueue(key types.NamespacedName) {
	c.mu.Lock()
	q := c.queue
	c.mu.Unlock()
	if q != nil {
		q.Add(key)
	}
}

// RunStatus writes the status of our Ingresses with workers goroutines
// until ctx is done. Run it while holding the leader lease: replicas
// that do not write status still serve traffic.
func (c *Controller) RunStatus(ctx context.Context, workers int) {
	q := workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.DefaultTypedControllerRateLimiter[types.NamespacedName](),
		workqueue.TypedRateLimitingQueueConfig[types.NamespacedName]{Name: "ingress-status"})
	c.mu.Lock()
	c.queue = q
	for k := range c.results {
		q.Add(k)
	}
	c.mu.Unlock()
	c.metrics.leader.Set(1)
	c.logger.Info("Writing Ingress status")

	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for c.processStatus(ctx, q) {
			}
		})
	}
	<-ctx.Done()
	c.mu.Lock()
	c.queue = nil
	c.mu.Unlock()
	q.ShutDown()
	wg.Wait()
	c.metrics.leader.Set(0)
	c.logger.Info("Stopped writing Ingress status")
}

func (c *Controller) processStatus(ctx context.Context, q workqueue.TypedRateLimitingInterface[types.NamespacedName]) bool {
	key, shutdown := q.Get()
	if shutdown {
		return false
	}
	defer q.Done(key)
	err := c.syncStatus(ctx, key, q)
	switch {
	case err == nil:
		q.Forget(key)
	case ctx.Err() != nil:
	default:
		if apierrors.IsConflict(err) {
			c.logger.V(2).Info("Status update conflicted; retrying", "ingress", key)
		} else {
			c.logger.Error(err, "Updating Ingress status; retrying", "ingress", key)
		}
		q.AddRateLimited(key)
	}
	return true
}

// syncStatus writes the status of one Ingress when it differs from what
// the cache holds.
func (c *Controller) syncStatus(ctx context.Context, key types.NamespacedName, q workqueue.TypedRateLimitingInterface[types.NamespacedName]) error {
	ing, err := c.ingresses.Ingresses(key.Namespace).Get(key.Name)
	if apierrors.IsNotFound(err) {
		c.mu.Lock()
		delete(c.written, key)
		c.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	res := c.results[key]
	basedOn, wrote := c.written[key]
	c.mu.Unlock()
	switch {
	case res == nil, !c.isOurs(ing), res.UID != ing.UID:
		// Not ours, or changed class or identity since the last rebuild:
		// the next rebuild decides.
		return nil
	case wrote && basedOn == ing.ResourceVersion:
		// The cache has not seen our last write yet; its event requeues.
		return nil
	case !c.dp.Ready():
		q.AddAfter(key, notReadyRetry)
		return nil
	}
	desired := DesiredStatus(ing, StatusInput{
		Result:         res,
		Live:           true,
		Addresses:      c.opts.PublishAddresses,
		ControllerName: c.opts.ControllerName,
	})
	if StatusEqual(ing.Status, desired) {
		return nil
	}
	upd := ing.DeepCopy()
	upd.Status = desired
	_, err = c.client.NetworkingV1().Ingresses(key.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	switch {
	case err == nil:
		c.metrics.statusUpdates.WithLabelValues("success").Inc()
	case apierrors.IsNotFound(err):
		return nil
	case apierrors.IsConflict(err):
		c.metrics.statusUpdates.WithLabelValues("conflict").Inc()
		return err
	default:
		c.metrics.statusUpdates.WithLabelValues("error").Inc()
		return err
	}
	c.mu.Lock()
	c.written[key] = ing.ResourceVersion
	c.mu.Unlock()
	accepted := meta.FindStatusCondition(desired.Conditions, networkingv1.IngressConditionAccepted)
	c.logger.V(2).Info("Updated Ingress status", "ingress", key, "generation", ing.Generation,
		"accepted", accepted.Status, "reason", accepted.Reason)
	return nil
}

// listerState is State over the informers' caches.
type listerState struct {
	services   corelisters.ServiceLister
	slices     cache.Indexer
	secrets    corelisters.SecretLister
	configMaps corelisters.ConfigMapLister
}

func (s *listerState) Service(ns, name string) *corev1.Service {
	svc, err := s.services.Services(ns).Get(name)
	if err != nil {
		return nil
	}
	return svc
}

func (s *listerState) EndpointSlices(ns, service string) []*discoveryv1.EndpointSlice {
	objs, err := s.slices.ByIndex(sliceServiceIndex, ns+"/"+service)
	if err != nil {
		return nil
	}
	out := make([]*discoveryv1.EndpointSlice, 0, len(objs))
	for _, o := range objs {
		if slice, ok := o.(*discoveryv1.EndpointSlice); ok {
			out = append(out, slice)
		}
	}
	return out
}

func (s *listerState) Secret(ns, name string) *corev1.Secret {
	sec, err := s.secrets.Secrets(ns).Get(name)
	if err != nil || sec.Type != corev1.SecretTypeTLS {
		return nil
	}
	return sec
}

func (s *listerState) ConfigMap(ns, name string) *corev1.ConfigMap {
	cm, err := s.configMaps.ConfigMaps(ns).Get(name)
	if err != nil {
		return nil
	}
	return cm
}

// sliceService indexes a slice by "namespace/service" of its
// kubernetes.io/service-name label.
func sliceService(obj any) ([]string, error) {
	slice, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return nil, errors.New("not an EndpointSlice")
	}
	svc := slice.Labels[discoveryv1.LabelServiceName]
	if svc == "" {
		return nil, nil
	}
	return []string{slice.Namespace + "/" + svc}, nil
}

// stripManagedFields drops managedFields, which the controller never
// reads, from cached objects.
func stripManagedFields(obj any) (any, error) {
	if acc, err := meta.Accessor(obj); err == nil {
		acc.SetManagedFields(nil)
	}
	return obj, nil
}
