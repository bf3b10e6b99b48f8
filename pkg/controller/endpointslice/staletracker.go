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
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	discoveryv1 "signet.dev/api/discovery/v1"
)

// DefaultStaleCacheTimeout is how long the controller waits for its slice
// cache to show one of its own writes before it stops waiting.
const DefaultStaleCacheTimeout = 2 * time.Minute

// writtenSlice is what the controller remembers of one slice it wrote.
type writtenSlice struct {
	// deleted is set when the controller deleted the slice: the cache has
	// caught up once it no longer lists it.
	deleted bool
	// generation is the generation the apiserver returned for a create or
	// update: the cache has caught up once it lists the slice at that
	// generation or later. (signet-apiserver sets it to 1 on create and
	// bumps it on every change of endpoints, ports or address type.)
	generation int64
	// uid is the slice's UID, when known, so that an older slice of the
	// same name (the names are deterministic) is not taken for this one.
	uid types.UID
	// at is when the write was made; an entry older than the timeout is
	// dropped so that a write the cache never shows (its slice deleted by
	// someone else before the watch delivered it) cannot block a Service
	// forever.
	at time.Time
}

// staleTracker remembers, per Service, the slices the controller wrote and
// tells whether the slice cache has caught up with those writes. The
// controller never acts on a Service whose slices the cache shows older
// than what it wrote: it would recreate slices that exist (a create of a
// deterministic name that then fails) or compute updates from an old state.
//
// Entries are dropped as soon as the cache is seen to have caught up, so
// the tracker holds only the writes in flight.
type staleTracker struct {
	timeout time.Duration
	now     func() time.Time

	mu sync.Mutex
	// written maps a Service key to its slices' names to what was written.
	written map[string]map[string]writtenSlice
	// waiting are the Services whose last sync found the cache stale: the
	// slice event that catches the cache up enqueues them.
	waiting map[string]bool
}

func newStaleTracker(timeout time.Duration, now func() time.Time) *staleTracker {
	return &staleTracker{
		timeout: timeout,
		now:     now,
		written: map[string]map[string]writtenSlice{},
		waiting: map[string]bool{},
	}
}

func (t *staleTracker) record(svcKey, name string, w writtenSlice) {
	t.mu.Lock()
	defer t.mu.Unlock()
	w.at = t.now()
	m := t.written[svcKey]
	if m == nil {
		m = map[string]writtenSlice{}
		t.written[svcKey] = m
	}
	m[name] = w
}

// Wrote records a slice as the apiserver returned it from a create or an
// update.
func (t *staleTracker) Wrote(svcKey string, slice *discoveryv1.EndpointSlice) {
	t.record(svcKey, slice.Name, writtenSlice{generation: slice.Generation, uid: slice.UID})
}

// Deleted records the deletion of a slice.
func (t *staleTracker) Deleted(svcKey string, slice *discoveryv1.EndpointSlice) {
	t.record(svcKey, slice.Name, writtenSlice{deleted: true, uid: slice.UID})
}

// caughtUp reports whether a cached slice (nil when the cache does not
// list it) reflects the write w.
func caughtUp(w writtenSlice, cached *discoveryv1.EndpointSlice) bool {
	if w.deleted {
		// Gone, or a different slice of the same name.
		return cached == nil || (w.uid != "" && cached.UID != "" && cached.UID != w.uid)
	}
	if cached == nil {
		return false
	}
	if w.uid != "" && cached.UID != "" && cached.UID != w.uid {
		return false
	}
	return cached.Generation >= w.generation
}

// Stale reports whether the cached slices of the Service (those labelled
// with its name) miss any of the controller's writes; it then marks the
// Service as waiting, so that the slice event that catches the cache up
// enqueues it. Entries the cache has caught up with, or that are older
// than the timeout, are dropped.
func (t *staleTracker) Stale(svcKey string, cached []*discoveryv1.EndpointSlice) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.written[svcKey]
	if len(m) == 0 {
		delete(t.waiting, svcKey)
		return false
	}
	byName := make(map[string]*discoveryv1.EndpointSlice, len(cached))
	for _, s := range cached {
		byName[s.Name] = s
	}
	now := t.now()
	stale := false
	for name, w := range m {
		switch {
		case caughtUp(w, byName[name]):
			delete(m, name)
		case t.timeout > 0 && now.Sub(w.at) > t.timeout:
			delete(m, name)
		default:
			stale = true
		}
	}
	if len(m) == 0 {
		delete(t.written, svcKey)
	}
	if stale {
		t.waiting[svcKey] = true
	} else {
		delete(t.waiting, svcKey)
	}
	return stale
}

// Observe is called with each event of a managed slice of the Service,
// with the slice's new state, or its last state and deleted set for a
// deletion. It reports whether the event should enqueue the Service:
// always, except for the echo of the controller's own write while the
// Service is not waiting for it, and for states older than what the
// controller wrote (the Service is synced once the cache catches up).
func (t *staleTracker) Observe(svcKey string, slice *discoveryv1.EndpointSlice, deleted bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.written[svcKey]
	w, ok := m[slice.Name]
	if !ok {
		return true
	}
	sameUID := w.uid == "" || slice.UID == "" || slice.UID == w.uid
	var enqueue bool
	switch {
	case deleted && !sameUID:
		// An older slice of the same name went away; what was written
		// is still to come.
		return false
	case deleted:
		// Expected, or someone else deleted what the controller wrote:
		// either way there is nothing more to wait for.
		enqueue = !w.deleted || t.waiting[svcKey]
	case !caughtUp(w, slice):
		return false
	default:
		// Caught up. A later generation means someone else changed the
		// slice after the controller did; a listed slice the controller
		// deleted is a new one of the same name.
		enqueue = t.waiting[svcKey] || w.deleted || slice.Generation > w.generation
	}
	delete(m, slice.Name)
	if len(m) == 0 {
		// Nothing left to wait for; a waiting Service is enqueued now.
		delete(t.written, svcKey)
		delete(t.waiting, svcKey)
	}
	return enqueue
}

// Forget drops everything remembered of a Service.
func (t *staleTracker) Forget(svcKey string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.written, svcKey)
	delete(t.waiting, svcKey)
}

// pending returns how many writes of the Service are not yet seen in the
// cache (for tests).
func (t *staleTracker) pending(svcKey string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.written[svcKey])
}
