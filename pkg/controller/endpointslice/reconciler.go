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
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	discoveryv1 "signet.dev/api/discovery/v1"
)

const (
	// ControllerName is the value of the managed-by label on the slices
	// this controller writes.
	ControllerName = "endpointslice-controller.signet.dev"

	// DefaultMaxEndpointsPerSlice is the default --max-endpoints-per-slice.
	DefaultMaxEndpointsPerSlice = 100

	// DefaultSettleDelay is how long a Service's endpoints must be left
	// alone before its churn slices are compacted.
	DefaultSettleDelay = time.Minute

	// maxCompactionDeferrals bounds how long compaction waits for a
	// Service to settle: after this many settle delays it runs together
	// with whatever else the reconcile writes.
	maxCompactionDeferrals = 10
	// maxRollingCompactionDeferrals is the same bound for a group in the
	// middle of a rollout, which is expected to churn for longer.
	maxRollingCompactionDeferrals = 60
)

// DefaultTopologyLabels are the node labels copied into each endpoint's
// topology map when no others are configured.
var DefaultTopologyLabels = []string{
	corev1.LabelHostname,
	corev1.LabelTopologyZone,
	corev1.LabelTopologyRegion,
}

// NodeLookup returns the Node of the given name, if known.
type NodeLookup func(name string) (*corev1.Node, bool)

// Clock tells the time; k8s.io/utils/clock.PassiveClock satisfies it.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Options configure a Reconciler. The zero value of each field means its
// default.
type Options struct {
	// MaxEndpointsPerSlice is the most endpoints a slice holds: default
	// 100, at most 1000.
	MaxEndpointsPerSlice int
	// ChurnSliceSize is the most endpoints a churn slice holds (see the
	// package documentation): default ceil(MaxEndpointsPerSlice/16), at
	// most MaxEndpointsPerSlice.
	ChurnSliceSize int
	// SettleDelay is how long a Service's endpoints must be unchanged
	// before its slices are compacted: default one minute.
	SettleDelay time.Duration
	// TopologyLabels are the node label keys copied into each endpoint's
	// topology map: default DefaultTopologyLabels. An empty, non-nil list
	// copies none.
	TopologyLabels []string
	// Clock measures the settle delay: default the wall clock.
	Clock Clock
}

// Reconciler computes the EndpointSlice writes that bring a Service's
// slices to what its pods imply. It writes nothing itself. It remembers,
// per Service, when it last planned a change, to know when the Service has
// settled; that memory is safe to lose (it only delays compaction).
type Reconciler struct {
	maxPerSlice    int
	churnSize      int
	settleDelay    time.Duration
	topologyLabels []string
	clock          Clock

	mu         sync.Mutex
	lastChange map[string]time.Time
	// pendingSince is when a Service first needed compaction, so that a
	// Service that never settles (a pod flapping) is compacted anyway.
	pendingSince map[string]time.Time
}

// NewReconciler returns a Reconciler with the given options.
func NewReconciler(opts Options) (*Reconciler, error) {
	r := &Reconciler{
		maxPerSlice:    opts.MaxEndpointsPerSlice,
		churnSize:      opts.ChurnSliceSize,
		settleDelay:    opts.SettleDelay,
		topologyLabels: opts.TopologyLabels,
		clock:          opts.Clock,
		lastChange:     map[string]time.Time{},
		pendingSince:   map[string]time.Time{},
	}
	if r.maxPerSlice == 0 {
		r.maxPerSlice = DefaultMaxEndpointsPerSlice
	}
	if r.maxPerSlice < 1 || r.maxPerSlice > discoveryv1.MaxEndpointsPerSlice {
		return nil, fmt.Errorf("max endpoints per slice must be between 1 and %d, got %d", discoveryv1.MaxEndpointsPerSlice, r.maxPerSlice)
	}
	if r.churnSize == 0 {
		r.churnSize = (r.maxPerSlice + 15) / 16
	}
	if r.churnSize < 1 || r.churnSize > r.maxPerSlice {
		return nil, fmt.Errorf("churn slice size must be between 1 and %d, got %d", r.maxPerSlice, r.churnSize)
	}
	if r.settleDelay == 0 {
		r.settleDelay = DefaultSettleDelay
	}
	if r.settleDelay < 0 {
		return nil, fmt.Errorf("settle delay must not be negative, got %v", r.settleDelay)
	}
	if r.topologyLabels == nil {
		r.topologyLabels = DefaultTopologyLabels
	}
	r.topologyLabels = append([]string(nil), r.topologyLabels...)
	if r.clock == nil {
		r.clock = realClock{}
	}
	return r, nil
}

// Plan is the set of writes that bring a Service's slices to the desired
// state. Apply creates first, then updates, then deletes: endpoints that
// move between slices then appear twice for a moment rather than vanish.
type Plan struct {
	// Create are new slices, with deterministic names.
	Create []*discoveryv1.EndpointSlice
	// Update are changed slices, carrying the resourceVersion they were
	// computed from.
	Update []*discoveryv1.EndpointSlice
	// Delete are the slices to delete, as last seen.
	Delete []*discoveryv1.EndpointSlice
	// RequeueAfter, when positive, is when the Service should be reconciled
	// again to compact its slices if nothing else happens meanwhile.
	RequeueAfter time.Duration
	// MissingNodes are nodes named by pods but not found; those pods were
	// left out (unless the Service publishes not-ready addresses) and the
	// Service should be retried.
	MissingNodes []string
	// Endpoints is how many endpoints the pods imply, over all families,
	// and Slices how many managed slices the Service has once the plan is
	// applied (for the desired-state metrics).
	Endpoints, Slices int
}

// Empty reports whether the plan writes nothing.
func (p *Plan) Empty() bool {
	return len(p.Create) == 0 && len(p.Update) == 0 && len(p.Delete) == 0
}

// Managed reports whether the slice is managed by this controller.
func Managed(slice *discoveryv1.EndpointSlice) bool {
	return slice.Labels[discoveryv1.LabelManagedBy] == ControllerName
}

func serviceKey(namespace, name string) string { return namespace + "/" + name }

// Forget drops what the Reconciler remembers about a Service.
func (r *Reconciler) Forget(namespace, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.lastChange, serviceKey(namespace, name))
	delete(r.pendingSince, serviceKey(namespace, name))
}

// ReconcileDeleted plans the deletion of every managed slice of a Service
// that no longer exists, and forgets the Service.
func (r *Reconciler) ReconcileDeleted(namespace, name string, slices []*discoveryv1.EndpointSlice) *Plan {
	r.Forget(namespace, name)
	p := &Plan{}
	for _, s := range slices {
		if s != nil && Managed(s) {
			p.Delete = append(p.Delete, s)
		}
	}
	sortSlices(p.Delete)
	return p
}

// Reconcile plans the writes that bring the Service's managed slices to
// what its pods imply. slices are the Service's existing slices (those
// labelled with its name); slices managed by others are left alone. The
// plan is a function of the inputs, the clock and what this Reconciler
// remembers of the Service's last changes.
func (r *Reconciler) Reconcile(svc *corev1.Service, pods []*corev1.Pod, slices []*discoveryv1.EndpointSlice, nodes NodeLookup) *Plan {
	key := serviceKey(svc.Namespace, svc.Name)
	if len(svc.Spec.Selector) == 0 || svc.Spec.Type == corev1.ServiceTypeExternalName {
		// Such a Service gets no slices from this controller; remove any
		// left from when it had a selector.
		p := r.ReconcileDeleted(svc.Namespace, svc.Name, slices)
		return p
	}

	ds := buildDesired(svc, pods, nodes, r.topologyLabels)
	l := r.newLayout(svc, ds, slices)
	l.base()

	requeue := r.compactIfDue(key, l)
	p := l.plan()
	p.RequeueAfter = requeue
	p.MissingNodes = ds.missingNodes
	for _, eps := range ds.byFamily {
		p.Endpoints += len(eps)
	}
	return p
}

// desiredLabels are the labels of every managed slice of the Service: the
// Service's own labels, the reserved ones overridden.
func desiredLabels(svc *corev1.Service) map[string]string {
	out := make(map[string]string, len(svc.Labels)+3)
	for k, v := range svc.Labels {
		switch k {
		case discoveryv1.LabelServiceName, discoveryv1.LabelManagedBy, corev1.IsHeadlessService:
			continue
		}
		out[k] = v
	}
	if isHeadless(svc) {
		out[corev1.IsHeadlessService] = ""
	}
	out[discoveryv1.LabelServiceName] = svc.Name
	out[discoveryv1.LabelManagedBy] = ControllerName
	return out
}

// ownerRef is the controller reference of the Service's slices.
func ownerRef(svc *corev1.Service) metav1.OwnerReference {
	t := true
	return metav1.OwnerReference{
		APIVersion:         "v1",
		Kind:               "Service",
		Name:               svc.Name,
		UID:                svc.UID,
		Controller:         &t,
		BlockOwnerDeletion: &t,
	}
}

// ownedBy reports whether the slice names the Service as an owner.
func ownedBy(slice *discoveryv1.EndpointSlice, svc *corev1.Service) bool {
	for _, o := range slice.OwnerReferences {
		if o.UID == svc.UID && o.Kind == "Service" && o.APIVersion == "v1" {
			return true
		}
	}
	return false
}

// sliceName is the i-th candidate name for a new slice of the Service.
// Names are derived from the Service's UID so that a recreated Service
// does not collide with slices of its predecessor still being collected.
func sliceName(svc *corev1.Service, i int) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", svc.UID, i)
	return fmt.Sprintf("%s-%08x", svc.Name, h.Sum32())
}

func sortSlices(s []*discoveryv1.EndpointSlice) {
	sort.Slice(s, func(i, j int) bool { return s[i].Name < s[j].Name })
}

// endpointEqual reports whether two endpoints carry the same information.
func endpointEqual(a, b *discoveryv1.Endpoint) bool {
	return slices.Equal(a.Addresses, b.Addresses) &&
		boolPtrEqual(a.Conditions.Ready, b.Conditions.Ready) &&
		boolPtrEqual(a.Conditions.Serving, b.Conditions.Serving) &&
		boolPtrEqual(a.Conditions.Terminating, b.Conditions.Terminating) &&
		stringPtrEqual(a.Hostname, b.Hostname) &&
		stringPtrEqual(a.NodeName, b.NodeName) &&
		stringPtrEqual(a.Zone, b.Zone) &&
		maps.Equal(a.Topology, b.Topology) &&
		refEqual(a.TargetRef, b.TargetRef)
}

func boolPtrEqual(a, b *bool) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func stringPtrEqual(a, b *string) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func refEqual(a, b *corev1.ObjectReference) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// compactIfDue records whether the layout changes anything, compacts it
// when the Service has settled (or compaction is overdue), and returns when
// to look again if compaction is still due.
func (r *Reconciler) compactIfDue(key string, l *layout) time.Duration {
	now := r.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	writes := l.writes()
	last, ok := r.lastChange[key]
	if writes || !ok {
		last = now
		r.lastChange[key] = now
	}
	if !l.needsCompaction(true) {
		delete(r.pendingSince, key)
		return 0
	}
	pending, ok := r.pendingSince[key]
	if !ok {
		pending = now
		r.pendingSince[key] = now
	}
	settleAt := last.Add(r.settleDelay)
	rollingOverdueAt := pending.Add(maxRollingCompactionDeferrals * r.settleDelay)
	overdueAt := rollingOverdueAt
	if l.needsCompaction(false) {
		overdueAt = pending.Add(maxCompactionDeferrals * r.settleDelay)
	}
	switch {
	case !writes && !now.Before(settleAt), !now.Before(rollingOverdueAt):
		l.compact(true)
	case !now.Before(overdueAt):
		l.compact(false)
	}
	if l.writes() {
		r.lastChange[key] = now
	}
	if !l.needsCompaction(true) {
		delete(r.pendingSince, key)
		return 0
	}
	// Still due: a write restarted the settle delay, or only rolling
	// groups were compacted.
	at := settleAt
	if overdueAt.After(now) && overdueAt.Before(at) {
		at = overdueAt
	}
	if !at.After(now) {
		return r.settleDelay
	}
	return at.Sub(now)
}
