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
	"time"

	corev1 "k8s.io/api/core/v1"

	discoveryv1 "signet.dev/api/discovery/v1"
	"signet.dev/signet/pkg/controller/endpointslice"
)

// signetImpl drives signet's reconciler and applies its plans to an
// in-memory store, as the controller would through the API.
type signetImpl struct {
	w      *world
	r      *endpointslice.Reconciler
	slices map[string]*discoveryv1.EndpointSlice
	rv     int64
	tally  tally
}

func newSignet(w *world, maxPerSlice int, settleDelay time.Duration) (*signetImpl, error) {
	r, err := endpointslice.NewReconciler(endpointslice.Options{
		MaxEndpointsPerSlice: maxPerSlice,
		SettleDelay:          settleDelay,
		Clock:                w.clock,
	})
	if err != nil {
		return nil, err
	}
	return &signetImpl{w: w, r: r, slices: map[string]*discoveryv1.EndpointSlice{}}, nil
}

func (s *signetImpl) name() string    { return "signet" }
func (s *signetImpl) counted() *tally { return &s.tally }

// list returns copies of the stored slices, sorted by name.
func (s *signetImpl) list() []*discoveryv1.EndpointSlice {
	out := make([]*discoveryv1.EndpointSlice, 0, len(s.slices))
	for _, sl := range s.slices {
		out = append(out, sl.DeepCopy())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// store records a created or updated slice with a new resourceVersion.
func (s *signetImpl) store(sl *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	sl = sl.DeepCopy()
	sl.APIVersion = discoveryv1.SchemeGroupVersion.String()
	sl.Kind = "EndpointSlice"
	s.rv++
	sl.ResourceVersion = strconv.FormatInt(s.rv, 10)
	s.slices[sl.Name] = sl
	return sl
}

func (s *signetImpl) sync(pods []*corev1.Pod) error {
	p := s.r.Reconcile(s.w.svc, pods, s.list(), s.w.nodeLookup)
	if len(p.MissingNodes) > 0 {
		return fmt.Errorf("nodes not found: %v", p.MissingNodes)
	}
	// In the order the controller applies a plan: creates, updates,
	// deletes.
	for _, sl := range p.Create {
		if _, ok := s.slices[sl.Name]; ok {
			return fmt.Errorf("create of existing slice %s", sl.Name)
		}
		if err := s.tally.add("create", s.store(sl)); err != nil {
			return err
		}
	}
	for _, sl := range p.Update {
		cur, ok := s.slices[sl.Name]
		if !ok {
			return fmt.Errorf("update of missing slice %s", sl.Name)
		}
		if sl.ResourceVersion != "" && sl.ResourceVersion != cur.ResourceVersion {
			return fmt.Errorf("update of slice %s at resourceVersion %s, stored %s", sl.Name, sl.ResourceVersion, cur.ResourceVersion)
		}
		if err := s.tally.add("update", s.store(sl)); err != nil {
			return err
		}
	}
	for _, sl := range p.Delete {
		last, ok := s.slices[sl.Name]
		if !ok {
			return fmt.Errorf("delete of missing slice %s", sl.Name)
		}
		delete(s.slices, sl.Name)
		if err := s.tally.add("delete", last); err != nil {
			return err
		}
	}
	return nil
}

func (s *signetImpl) published() [][]string {
	var out [][]string
	for _, sl := range s.list() {
		names := make([]string, 0, len(sl.Endpoints))
		for _, ep := range sl.Endpoints {
			names = append(names, ep.TargetRef.Name)
		}
		out = append(out, names)
	}
	return out
}

// endpointEntrySize is the JSON size of one endpoint entry as signet
// writes it: the average over the endpoints of its slices, rounded down.
// At the end of a rollout these are the same pods whatever the scenario,
// so the lower bound does not depend on which slice comes first.
func (s *signetImpl) endpointEntrySize() (int64, error) {
	var total, n int64
	for _, sl := range s.slices {
		for i := range sl.Endpoints {
			size, err := jsonSize(&sl.Endpoints[i])
			if err != nil {
				return 0, err
			}
			total += size
			n++
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("signet published no endpoint")
	}
	return total / n, nil
}
