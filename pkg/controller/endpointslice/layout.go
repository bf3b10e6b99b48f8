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
	"maps"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	discoveryv1 "signet.dev/api/discovery/v1"
)

// sliceState is one slice while the layout is computed: an existing slice
// (orig set) or one to create.
type sliceState struct {
	orig  *discoveryv1.EndpointSlice
	group groupKey
	ports []discoveryv1.EndpointPort
	eps   []*desiredEndpoint
	// dirty means the endpoints differ from orig's (always true for a
	// slice to create).
	dirty bool
	// capacity is how many endpoints placement may fill the slice up to.
	capacity int
	// order breaks ties deterministically: existing slices by name, new
	// ones after them in the order they were made.
	order int
}

// layout computes the slices of one Service.
type layout struct {
	r      *Reconciler
	svc    *corev1.Service
	ds     *desiredState
	labels map[string]string
	states []*sliceState
	// drop are managed slices deleted outright: not owned by this
	// Service, or of a family it no longer asks for.
	drop  []*discoveryv1.EndpointSlice
	taken map[string]bool
	// fresh groups had no slice before this reconcile.
	fresh map[groupKey]bool
}

func (r *Reconciler) newLayout(svc *corev1.Service, ds *desiredState, slices []*discoveryv1.EndpointSlice) *layout {
	l := &layout{
		r:      r,
		svc:    svc,
		ds:     ds,
		labels: desiredLabels(svc),
		taken:  map[string]bool{},
		fresh:  map[groupKey]bool{},
	}
	wanted := map[discoveryv1.AddressType]bool{}
	for _, f := range ds.families {
		wanted[f] = true
	}
	byFamily := map[discoveryv1.AddressType][]*discoveryv1.EndpointSlice{}
	sorted := make([]*discoveryv1.EndpointSlice, 0, len(slices))
	for _, s := range slices {
		if s == nil {
			continue
		}
		l.taken[s.Name] = true
		sorted = append(sorted, s)
	}
	sortSlices(sorted)
	for _, s := range sorted {
		if !Managed(s) {
			continue
		}
		if !ownedBy(s, svc) || !wanted[s.AddressType] {
			l.drop = append(l.drop, s)
			continue
		}
		byFamily[s.AddressType] = append(byFamily[s.AddressType], s)
	}
	order := 0
	for _, fam := range ds.families {
		fs := byFamily[fam]
		// Fuller slices claim first, so that an endpoint found twice
		// (after a crash between two writes) stays where most others are.
		sort.SliceStable(fs, func(i, j int) bool { return len(fs[i].Endpoints) > len(fs[j].Endpoints) })
		claimed := map[string]bool{}
		for _, s := range fs {
			st := &sliceState{
				orig:  s,
				group: groupKey{family: fam, ports: portsKey(s.Ports)},
				ports: s.Ports,
				order: order,
			}
			order++
			for i := range s.Endpoints {
				ep := &s.Endpoints[i]
				de := l.lookup(fam, ep)
				if de == nil || de.group != st.group || claimed[de.key] {
					st.dirty = true
					continue
				}
				claimed[de.key] = true
				st.eps = append(st.eps, de)
				if !endpointEqual(&de.ep, ep) {
					st.dirty = true
				}
			}
			l.states = append(l.states, st)
		}
		for gk := range ds.groups {
			if gk.family != fam {
				continue
			}
			n := 0
			for _, st := range l.states {
				if st.group == gk {
					n++
				}
			}
			if n == 0 {
				l.fresh[gk] = true
			}
		}
	}
	return l
}

// lookup finds the desired endpoint an existing endpoint stands for.
func (l *layout) lookup(fam discoveryv1.AddressType, ep *discoveryv1.Endpoint) *desiredEndpoint {
	ref := ep.TargetRef
	if ref == nil || ref.Kind != "Pod" || ref.Namespace != l.svc.Namespace {
		return nil
	}
	return l.ds.byFamily[fam][ref.Name]
}

// sortedGroups returns the desired groups in a fixed order.
func (l *layout) sortedGroups() []*desiredGroup {
	out := make([]*desiredGroup, 0, len(l.ds.groups))
	for _, g := range l.ds.groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].key.family != out[j].key.family {
			return out[i].key.family < out[j].key.family
		}
		return out[i].key.ports < out[j].key.ports
	})
	return out
}

// groupStates returns the slices of a group, in order.
func (l *layout) groupStates(gk groupKey) []*sliceState {
	var out []*sliceState
	for _, st := range l.states {
		if st.group == gk {
			out = append(out, st)
		}
	}
	return out
}

// rolling reports whether the group holds endpoints of more than one
// ReplicaSet: a rollout is under way.
func rolling(g *desiredGroup) bool {
	first := ""
	for _, de := range g.endpoints {
		if de.rs == "" {
			continue
		}
		if first == "" {
			first = de.rs
		} else if de.rs != first {
			return true
		}
	}
	return false
}

func (l *layout) newState(g *desiredGroup, capacity int) *sliceState {
	st := &sliceState{group: g.key, ports: g.ports, dirty: true, capacity: capacity, order: len(l.states)}
	l.states = append(l.states, st)
	return st
}

// base computes the layout that follows from this reconcile's changes:
// existing endpoints stay where they are (updated in place), slices that
// must be rewritten during a rollout are split into churn slices, and new
// endpoints go where they cost the least.
func (l *layout) base() {
	maxN, churn := l.r.maxPerSlice, l.r.churnSize
	for _, g := range l.sortedGroups() {
		roll := rolling(g)
		// Split what is too large: every slice above the maximum (after a
		// lower --max-endpoints-per-slice), and during a rollout every slice
		// that has to be rewritten anyway, into churn slices, so that later
		// changes of the same endpoints rewrite small objects.
		for _, st := range l.groupStates(g.key) {
			limit := maxN
			if roll && st.dirty {
				limit = churn
			}
			if len(st.eps) <= limit {
				continue
			}
			chunks := chunkByRS(st.eps, limit)
			st.eps = chunks[0]
			st.dirty = true
			for _, c := range chunks[1:] {
				ns := l.newState(g, limit)
				ns.eps = c
			}
		}
		gs := l.groupStates(g.key)
		for _, st := range gs {
			switch {
			case roll:
				st.capacity = churn
			case st.capacity == 0 && len(st.eps) > churn:
				st.capacity = maxN
			case st.capacity == 0:
				st.capacity = churn
			}
		}
		placed := map[string]bool{}
		for _, st := range gs {
			for _, de := range st.eps {
				placed[de.key] = true
			}
		}
		var news []*desiredEndpoint
		for k, de := range g.endpoints {
			if !placed[k] {
				news = append(news, de)
			}
		}
		sort.Slice(news, func(i, j int) bool {
			if news[i].rs != news[j].rs {
				return news[i].rs < news[j].rs
			}
			return news[i].key < news[j].key
		})
		newCap := churn
		if l.fresh[g.key] && !roll {
			// A group seen for the first time (a new Service, a new port
			// set) is laid out packed: nothing suggests churn yet.
			newCap = maxN
		}
		for _, de := range news {
			st := pickSlice(gs, de, roll, churn)
			if st == nil {
				st = l.newState(g, newCap)
				gs = append(gs, st)
			}
			st.eps = append(st.eps, de)
			st.dirty = true
		}
	}
}

// pickSlice chooses the slice a new endpoint goes to, or nil for a new
// one. In order of preference: a slice written anyway, a churn slice with
// room, and (outside a rollout) a full-size slice with room; fuller first.
// During a rollout only slices holding the same ReplicaSet qualify.
func pickSlice(gs []*sliceState, de *desiredEndpoint, roll bool, churn int) *sliceState {
	var best *sliceState
	bestTier := 0
	for _, st := range gs {
		if len(st.eps) >= st.capacity {
			continue
		}
		if roll && !sameRS(st, de.rs) {
			continue
		}
		var tier int
		switch {
		case st.dirty:
			tier = 1
		case st.capacity <= churn:
			tier = 2
		case !roll:
			tier = 3
		default:
			continue
		}
		if best == nil || tier < bestTier ||
			(tier == bestTier && (len(st.eps) > len(best.eps) || (len(st.eps) == len(best.eps) && st.order < best.order))) {
			best, bestTier = st, tier
		}
	}
	return best
}

// sameRS reports whether every endpoint of the slice is of ReplicaSet rs.
func sameRS(st *sliceState, rs string) bool {
	for _, de := range st.eps {
		if de.rs != rs {
			return false
		}
	}
	return true
}

// chunkByRS cuts endpoints into chunks of at most size, one ReplicaSet per
// chunk, keeping their order within a ReplicaSet.
func chunkByRS(eps []*desiredEndpoint, size int) [][]*desiredEndpoint {
	sorted := append([]*desiredEndpoint(nil), eps...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].rs < sorted[j].rs })
	var out [][]*desiredEndpoint
	var cur []*desiredEndpoint
	for _, de := range sorted {
		if len(cur) == size || (len(cur) > 0 && cur[0].rs != de.rs) {
			out = append(out, cur)
			cur = nil
		}
		cur = append(cur, de)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// compactionTarget returns the non-empty slices of a group and the fewest
// slices its endpoints fit in.
func (l *layout) compactionTarget(gk groupKey) ([]*sliceState, int, int) {
	var live []*sliceState
	n := 0
	for _, st := range l.groupStates(gk) {
		if len(st.eps) > 0 {
			live = append(live, st)
			n += len(st.eps)
		}
	}
	return live, n, (n + l.r.maxPerSlice - 1) / l.r.maxPerSlice
}

// needsCompaction reports whether some group has more slices than its
// endpoints need; rolling groups count only when withRolling is set.
func (l *layout) needsCompaction(withRolling bool) bool {
	for _, g := range l.sortedGroups() {
		if !withRolling && rolling(g) {
			continue
		}
		live, _, target := l.compactionTarget(g.key)
		if len(live) > target {
			return true
		}
	}
	return false
}

// compact packs each group into the fewest slices: the fullest slices are
// kept and the others' endpoints move into them, those with the most room
// first, so that as few kept slices as possible are rewritten. Rolling
// groups are compacted only when withRolling is set.
func (l *layout) compact(withRolling bool) {
	maxN := l.r.maxPerSlice
	for _, g := range l.sortedGroups() {
		if !withRolling && rolling(g) {
			continue
		}
		live, _, target := l.compactionTarget(g.key)
		if len(live) <= target {
			continue
		}
		sort.SliceStable(live, func(i, j int) bool {
			if len(live[i].eps) != len(live[j].eps) {
				return len(live[i].eps) > len(live[j].eps)
			}
			return live[i].order < live[j].order
		})
		keep, dissolve := live[:target], live[target:]
		var moved []*desiredEndpoint
		for _, st := range dissolve {
			moved = append(moved, st.eps...)
			st.eps = nil
			st.dirty = true
		}
		sort.SliceStable(moved, func(i, j int) bool {
			if moved[i].rs != moved[j].rs {
				return moved[i].rs < moved[j].rs
			}
			return moved[i].key < moved[j].key
		})
		sort.SliceStable(keep, func(i, j int) bool {
			if len(keep[i].eps) != len(keep[j].eps) {
				return len(keep[i].eps) < len(keep[j].eps)
			}
			return keep[i].order < keep[j].order
		})
		for _, st := range keep {
			for len(moved) > 0 && len(st.eps) < maxN {
				st.eps = append(st.eps, moved[0])
				moved = moved[1:]
				st.dirty = true
			}
		}
	}
}

// needsWrite reports whether an existing slice must be updated.
func (l *layout) needsWrite(st *sliceState) bool {
	return st.dirty || !maps.Equal(st.orig.Labels, l.labels) || portsKey(st.orig.Ports) != st.group.ports
}

// writes reports whether the layout differs from the existing slices.
func (l *layout) writes() bool {
	if len(l.drop) > 0 {
		return true
	}
	for _, st := range l.states {
		if st.orig == nil || len(st.eps) == 0 || l.needsWrite(st) {
			return true
		}
	}
	return false
}

// plan turns the layout into writes. A slice that would be deleted while
// another of its family is created is reused instead (one update instead
// of a delete and a create).
func (l *layout) plan() *Plan {
	p := &Plan{Delete: append([]*discoveryv1.EndpointSlice(nil), l.drop...)}
	var creates []*sliceState
	emptied := map[discoveryv1.AddressType][]*sliceState{}
	for _, st := range l.states {
		switch {
		case st.orig == nil:
			creates = append(creates, st)
		case len(st.eps) == 0:
			emptied[st.group.family] = append(emptied[st.group.family], st)
		}
	}
	reused := map[*sliceState]bool{}
	for _, st := range creates {
		if e := emptied[st.group.family]; len(e) > 0 {
			st.orig = e[0].orig
			reused[e[0]] = true
			emptied[st.group.family] = e[1:]
		}
	}
	next := 0
	for _, st := range l.states {
		switch {
		case reused[st]:
			continue
		case st.orig == nil:
			name := sliceName(l.svc, next)
			for l.taken[name] {
				next++
				name = sliceName(l.svc, next)
			}
			l.taken[name] = true
			p.Create = append(p.Create, l.object(st, &discoveryv1.EndpointSlice{
				ObjectMeta: metav1.ObjectMeta{
					Name:            name,
					Namespace:       l.svc.Namespace,
					OwnerReferences: []metav1.OwnerReference{ownerRef(l.svc)},
				},
				AddressType: st.group.family,
			}))
		case len(st.eps) == 0:
			p.Delete = append(p.Delete, st.orig)
			continue
		case l.needsWrite(st):
			p.Update = append(p.Update, l.object(st, st.orig.DeepCopy()))
		}
		p.Slices++
	}
	sortSlices(p.Create)
	sortSlices(p.Update)
	sortSlices(p.Delete)
	return p
}

// object fills a slice object with the state's labels, ports and
// endpoints.
func (l *layout) object(st *sliceState, obj *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	obj.Labels = maps.Clone(l.labels)
	obj.Ports = make([]discoveryv1.EndpointPort, len(st.ports))
	for i := range st.ports {
		st.ports[i].DeepCopyInto(&obj.Ports[i])
	}
	obj.Endpoints = make([]discoveryv1.Endpoint, len(st.eps))
	for i, de := range st.eps {
		de.ep.DeepCopyInto(&obj.Endpoints[i])
	}
	return obj
}
