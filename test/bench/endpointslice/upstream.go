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

package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	corelisters "k8s.io/client-go/listers/core/v1"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	upstream "k8s.io/endpointslice"
	upstreamutil "k8s.io/endpointslice/util"
	"k8s.io/klog/v2"
)

// upstreamControllerName is the managed-by value of upstream's slices.
const upstreamControllerName = "endpointslice-controller.k8s.io"

// upstreamImpl drives the reconciler of k8s.io/endpointslice. It writes
// through a fake clientset whose reactor plays the API server's part for
// EndpointSlices (names from generateName, resourceVersions, conflicts)
// on a store of its own, and counts every write.
type upstreamImpl struct {
	w       *world
	client  *fake.Clientset
	r       *upstream.Reconciler
	trigger *upstreamutil.TriggerTimeTracker
	slices  map[string]*discovery.EndpointSlice
	rv      int64
	names   int64
	tally   tally
	// err is the first error met while counting a write.
	err error
}

func newUpstream(w *world, maxPerSlice int) (*upstreamImpl, error) {
	nodes := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	for _, n := range w.nodes {
		if err := nodes.Add(n); err != nil {
			return nil, err
		}
	}
	u := &upstreamImpl{
		w:       w,
		client:  fake.NewClientset(),
		trigger: upstreamutil.NewTriggerTimeTracker(),
		slices:  map[string]*discovery.EndpointSlice{},
	}
	u.client.PrependReactor("*", "endpointslices", u.react)
	u.r = upstream.NewReconciler(u.client, corelisters.NewNodeLister(nodes), int32(maxPerSlice),
		upstreamutil.NewEndpointSliceTracker(), nil, record.NewFakeRecorder(100), upstreamControllerName)
	return u, nil
}

func (u *upstreamImpl) name() string    { return "upstream" }
func (u *upstreamImpl) counted() *tally { return &u.tally }

// react serves the EndpointSlice writes of the reconciler.
func (u *upstreamImpl) react(action clienttesting.Action) (bool, runtime.Object, error) {
	gr := discovery.Resource("endpointslices")
	switch action.GetVerb() {
	case "create":
		sl := action.(clienttesting.CreateAction).GetObject().(*discovery.EndpointSlice).DeepCopy()
		if sl.Name == "" {
			// The API server appends 5 random characters; a counter
			// of the same length keeps the run reproducible.
			u.names++
			suffix := strconv.FormatInt(u.names, 36)
			sl.Name = sl.GenerateName + strings.Repeat("0", max(0, 5-len(suffix))) + suffix
		}
		if _, ok := u.slices[sl.Name]; ok {
			return true, nil, apierrors.NewAlreadyExists(gr, sl.Name)
		}
		sl = u.store(sl)
		u.count("create", sl)
		return true, sl.DeepCopy(), nil
	case "update":
		sl := action.(clienttesting.UpdateAction).GetObject().(*discovery.EndpointSlice).DeepCopy()
		cur, ok := u.slices[sl.Name]
		if !ok {
			return true, nil, apierrors.NewNotFound(gr, sl.Name)
		}
		if sl.ResourceVersion != "" && sl.ResourceVersion != cur.ResourceVersion {
			return true, nil, apierrors.NewConflict(gr, sl.Name, fmt.Errorf("resourceVersion %s is not %s", sl.ResourceVersion, cur.ResourceVersion))
		}
		sl = u.store(sl)
		u.count("update", sl)
		return true, sl.DeepCopy(), nil
	case "delete":
		name := action.(clienttesting.DeleteAction).GetName()
		last, ok := u.slices[name]
		if !ok {
			return true, nil, apierrors.NewNotFound(gr, name)
		}
		delete(u.slices, name)
		u.count("delete", last)
		return true, nil, nil
	}
	return true, nil, fmt.Errorf("unexpected %s of endpointslices", action.GetVerb())
}

// store records a created or updated slice with a new resourceVersion.
func (u *upstreamImpl) store(sl *discovery.EndpointSlice) *discovery.EndpointSlice {
	sl.APIVersion = discovery.SchemeGroupVersion.String()
	sl.Kind = "EndpointSlice"
	u.rv++
	sl.ResourceVersion = strconv.FormatInt(u.rv, 10)
	u.slices[sl.Name] = sl
	return sl
}

func (u *upstreamImpl) count(kind string, sl *discovery.EndpointSlice) {
	if err := u.tally.add(kind, sl); err != nil && u.err == nil {
		u.err = err
	}
}

// list returns copies of the stored slices, sorted by name.
func (u *upstreamImpl) list() []*discovery.EndpointSlice {
	out := make([]*discovery.EndpointSlice, 0, len(u.slices))
	for _, sl := range u.slices {
		out = append(out, sl.DeepCopy())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (u *upstreamImpl) sync(pods []*corev1.Pod) error {
	// As upstream's controller does: the trigger time is when the
	// earliest pod change not yet synced happened.
	trigger := u.trigger.ComputeEndpointLastChangeTriggerTime(u.w.svc.Namespace, u.w.svc, pods)
	err := u.r.Reconcile(klog.Background(), u.w.svc, pods, u.list(), trigger)
	// The fake clientset remembers every action; only the counts matter.
	u.client.ClearActions()
	if err != nil {
		return err
	}
	return u.err
}

func (u *upstreamImpl) published() [][]string {
	var out [][]string
	for _, sl := range u.list() {
		names := make([]string, 0, len(sl.Endpoints))
		for _, ep := range sl.Endpoints {
			names = append(names, ep.TargetRef.Name)
		}
		out = append(out, names)
	}
	return out
}
