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
	"cmp"
	"net/netip"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	discoveryv1 "signet.dev/api/discovery/v1"
)

// ptrTarget is what a PTR record points at: <service>.<ns>.svc.<zone>, or
// <hostname>.<service>.<ns>.svc.<zone> when Hostname is set.
type ptrTarget struct {
	Namespace, Service, Hostname string
}

func comparePTRTargets(a, b ptrTarget) int {
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Service, b.Service), cmp.Compare(a.Hostname, b.Hostname))
}

// Store holds the records of every Service, indexed for the lookups DNS
// makes: a Service by namespace and name, whether a namespace has any
// Service, and the PTR targets of an address. It is safe for concurrent
// use; entries are replaced whole, so a reader keeps a consistent view of a
// Service after the lock is released.
type Store struct {
	mu         sync.RWMutex
	services   map[types.NamespacedName]*serviceEntry
	namespaces map[string]int // Services per namespace
	ptr        map[netip.Addr][]ptrTarget
	endpoints  int    // headless endpoints, for metrics
	serial     uint32 // SOA serial: the time of the last change

	// addrs are the keys of ptr in order, for "is there an address under
	// this reverse name"; rebuilt on first use after a change.
	addrs      []netip.Addr
	addrsStale bool
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{
		services:   map[types.NamespacedName]*serviceEntry{},
		namespaces: map[string]int{},
		ptr:        map[netip.Addr][]ptrTarget{},
		serial:     uint32(time.Now().Unix()),
	}
}

// Set replaces the records of svc with those built from it and the
// EndpointSlices labelled with its name.
func (s *Store) Set(svc *corev1.Service, endpointSlices []*discoveryv1.EndpointSlice) {
	e := buildService(svc, endpointSlices)
	key := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.services[key]
	if old == nil {
		s.namespaces[key.Namespace]++
	} else {
		s.removePTRs(old)
		s.endpoints -= len(old.Endpoints)
	}
	s.services[key] = e
	s.addPTRs(e)
	s.endpoints += len(e.Endpoints)
	s.changed()
}

// Delete removes the records of a Service.
func (s *Store) Delete(key types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.services[key]
	if old == nil {
		return
	}
	s.removePTRs(old)
	s.endpoints -= len(old.Endpoints)
	delete(s.services, key)
	if s.namespaces[key.Namespace]--; s.namespaces[key.Namespace] <= 0 {
		delete(s.namespaces, key.Namespace)
	}
	s.changed()
}

func (s *Store) changed() {
	s.addrsStale = true
	if now := uint32(time.Now().Unix()); now > s.serial {
		s.serial = now
	} else {
		s.serial++
	}
}

// ptrTargetsOf returns the PTR targets of a Service: its cluster IPs, and
// the addresses of the published endpoints of a headless Service.
func ptrTargetsOf(e *serviceEntry, fn func(netip.Addr, ptrTarget)) {
	for _, a := range e.ClusterIPs {
		fn(a, ptrTarget{Namespace: e.Namespace, Service: e.Name})
	}
	for _, ep := range e.Endpoints {
		fn(ep.Addr, ptrTarget{Namespace: e.Namespace, Service: e.Name, Hostname: ep.Hostname})
	}
}

func (s *Store) addPTRs(e *serviceEntry) {
	ptrTargetsOf(e, func(a netip.Addr, t ptrTarget) {
		s.ptr[a] = append(s.ptr[a], t)
	})
}

func (s *Store) removePTRs(e *serviceEntry) {
	ptrTargetsOf(e, func(a netip.Addr, _ ptrTarget) {
		kept := slices.DeleteFunc(s.ptr[a], func(t ptrTarget) bool {
			return t.Namespace == e.Namespace && t.Service == e.Name
		})
		if len(kept) == 0 {
			delete(s.ptr, a)
		} else {
			s.ptr[a] = kept
		}
	})
}

// service returns the entry of a Service, or nil.
func (s *Store) service(namespace, name string) *serviceEntry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.services[types.NamespacedName{Namespace: namespace, Name: name}]
}

// namespaceExists reports whether a namespace has a Service, which makes
// <ns>.svc.<zone> an existing name.
func (s *Store) namespaceExists(namespace string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.namespaces[namespace] > 0
}

// ptrTargets returns the PTR targets of an address, ordered.
func (s *Store) ptrTargets(a netip.Addr) []ptrTarget {
	s.mu.RLock()
	out := slices.Clone(s.ptr[a])
	s.mu.RUnlock()
	slices.SortFunc(out, comparePTRTargets)
	return slices.CompactFunc(out, func(a, b ptrTarget) bool { return a == b })
}

// anyAddressIn reports whether an address with PTR records lies in p,
// which makes the reverse name of p an existing (empty non-terminal) name.
func (s *Store) anyAddressIn(p netip.Prefix) bool {
	s.mu.RLock()
	if s.addrsStale {
		s.mu.RUnlock()
		s.mu.Lock()
		if s.addrsStale {
			s.addrs = s.addrs[:0]
			for a := range s.ptr {
				s.addrs = append(s.addrs, a)
			}
			slices.SortFunc(s.addrs, netip.Addr.Compare)
			s.addrsStale = false
		}
		s.mu.Unlock()
		s.mu.RLock()
	}
	defer s.mu.RUnlock()
	i, _ := slices.BinarySearchFunc(s.addrs, p.Masked().Addr(), netip.Addr.Compare)
	return i < len(s.addrs) && p.Contains(s.addrs[i])
}

// Serial returns the SOA serial: the time of the last change in seconds,
// or one more than the previous serial when changes come faster.
func (s *Store) Serial() uint32 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.serial
}

// Counts returns the number of Services and of published endpoints of
// headless Services.
func (s *Store) Counts() (services, endpoints int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.services), s.endpoints
}
