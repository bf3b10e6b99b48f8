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

package proxy

import (
	"net/netip"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	discoveryv1 "signet.dev/api/discovery/v1"
)

// SliceCache holds the EndpointSlices of every Service, as the informer
// delivers them, and merges them into endpoints per Service port and
// family. It is safe for concurrent use.
//
// A controller that moves an endpoint between slices writes the new slice
// before it rewrites the old one, so for a moment the endpoint is listed
// twice; the cache lists it once. When the two copies disagree the more
// usable one wins (ready over serving over neither), then the one of the
// lexically first slice, so that the result never depends on the order of
// events.
type SliceCache struct {
	mu       sync.Mutex
	services map[types.NamespacedName]map[string]*sliceEntry
}

// sliceEntry is what the cache keeps of one slice.
type sliceEntry struct {
	family corev1.IPFamily
	ports  []discoveryv1.EndpointPort
	eps    []discoveryv1.Endpoint
}

// NewSliceCache returns an empty cache.
func NewSliceCache() *SliceCache {
	return &SliceCache{services: map[types.NamespacedName]map[string]*sliceEntry{}}
}

// ServiceOf returns the Service a slice belongs to, from its
// kubernetes.io/service-name label; ok is false for a slice without one.
func ServiceOf(slice *discoveryv1.EndpointSlice) (types.NamespacedName, bool) {
	name := slice.Labels[discoveryv1.LabelServiceName]
	if name == "" {
		return types.NamespacedName{}, false
	}
	return types.NamespacedName{Namespace: slice.Namespace, Name: name}, true
}

// familyOf maps a slice's address type to an IP family; FQDN slices have
// none and are ignored.
func familyOf(t discoveryv1.AddressType) (corev1.IPFamily, bool) {
	switch t {
	case discoveryv1.AddressTypeIPv4:
		return corev1.IPv4Protocol, true
	case discoveryv1.AddressTypeIPv6:
		return corev1.IPv6Protocol, true
	}
	return "", false
}

// Update stores a new or changed slice and returns its Service; changed is
// false when the slice holds nothing a proxier uses that differs from
// what the cache had (a resync, a label change).
func (c *SliceCache) Update(slice *discoveryv1.EndpointSlice) (svc types.NamespacedName, changed bool) {
	svc, ok := ServiceOf(slice)
	if !ok {
		return svc, false
	}
	family, ok := familyOf(slice.AddressType)
	if !ok {
		return svc, false
	}
	e := &sliceEntry{family: family, ports: slice.Ports, eps: slice.Endpoints}
	c.mu.Lock()
	defer c.mu.Unlock()
	byName := c.services[svc]
	if byName == nil {
		byName = map[string]*sliceEntry{}
		c.services[svc] = byName
	}
	if old, ok := byName[slice.Name]; ok && entriesEqual(old, e) {
		return svc, false
	}
	byName[slice.Name] = e
	return svc, true
}

// Delete forgets a slice and returns its Service; changed is false when
// the cache did not hold it.
func (c *SliceCache) Delete(slice *discoveryv1.EndpointSlice) (svc types.NamespacedName, changed bool) {
	svc, ok := ServiceOf(slice)
	if !ok {
		return svc, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	byName := c.services[svc]
	if _, ok := byName[slice.Name]; !ok {
		return svc, false
	}
	delete(byName, slice.Name)
	if len(byName) == 0 {
		delete(c.services, svc)
	}
	return svc, true
}

// Endpoints returns the endpoints of every port of the Service in family,
// merged over its slices, de-duplicated and sorted.
func (c *SliceCache) Endpoints(svc types.NamespacedName, family corev1.IPFamily) map[ServicePortName][]*Endpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	byName := c.services[svc]
	if len(byName) == 0 {
		return nil
	}
	names := make([]string, 0, len(byName))
	for name, e := range byName {
		if e.family == family {
			names = append(names, name)
		}
	}
	slices.Sort(names)

	type chosen struct {
		ep   *Endpoint
		rank int
	}
	byPort := map[ServicePortName]map[string]chosen{}
	for _, name := range names {
		e := byName[name]
		for _, port := range e.ports {
			if port.Port == nil {
				continue
			}
			pn := ServicePortName{NamespacedName: svc, Protocol: corev1.ProtocolTCP}
			if port.Name != nil {
				pn.Port = *port.Name
			}
			if port.Protocol != nil {
				pn.Protocol = *port.Protocol
			}
			seen := byPort[pn]
			if seen == nil {
				seen = map[string]chosen{}
				byPort[pn] = seen
			}
			for i := range e.eps {
				src := &e.eps[i]
				ready := src.Conditions.Ready == nil || *src.Conditions.Ready
				serving := src.Conditions.Serving == nil || *src.Conditions.Serving
				terminating := src.Conditions.Terminating != nil && *src.Conditions.Terminating
				rank := 0
				switch {
				case ready:
					rank = 2
				case serving:
					rank = 1
				}
				for _, a := range src.Addresses {
					ip, err := netip.ParseAddr(a)
					if err != nil {
						continue
					}
					ip = ip.Unmap()
					if Family(ip) != family {
						continue
					}
					key := portKey(ip, *port.Port)
					if prev, ok := seen[key]; ok && prev.rank >= rank {
						continue
					}
					ep := &Endpoint{
						IP: ip, Port: *port.Port,
						Ready: ready, Serving: serving, Terminating: terminating,
						Topology: src.Topology,
					}
					if src.NodeName != nil {
						ep.NodeName = *src.NodeName
					}
					seen[key] = chosen{ep: ep, rank: rank}
				}
			}
		}
	}
	out := make(map[ServicePortName][]*Endpoint, len(byPort))
	for pn, seen := range byPort {
		eps := make([]*Endpoint, 0, len(seen))
		for _, c := range seen {
			eps = append(eps, c.ep)
		}
		sortEndpoints(eps)
		out[pn] = eps
	}
	return out
}

func entriesEqual(a, b *sliceEntry) bool {
	if a.family != b.family || len(a.ports) != len(b.ports) || len(a.eps) != len(b.eps) {
		return false
	}
	for i := range a.ports {
		if !portEqual(&a.ports[i], &b.ports[i]) {
			return false
		}
	}
	for i := range a.eps {
		if !endpointEqual(&a.eps[i], &b.eps[i]) {
			return false
		}
	}
	return true
}

func portEqual(a, b *discoveryv1.EndpointPort) bool {
	return strPtrEqual(a.Name, b.Name) && int32PtrEqual(a.Port, b.Port) &&
		((a.Protocol == nil) == (b.Protocol == nil)) && (a.Protocol == nil || *a.Protocol == *b.Protocol)
}

func endpointEqual(a, b *discoveryv1.Endpoint) bool {
	if len(a.Addresses) != len(b.Addresses) || len(a.Topology) != len(b.Topology) ||
		!boolPtrEqual(a.Conditions.Ready, b.Conditions.Ready) ||
		!boolPtrEqual(a.Conditions.Serving, b.Conditions.Serving) ||
		!boolPtrEqual(a.Conditions.Terminating, b.Conditions.Terminating) ||
		!strPtrEqual(a.NodeName, b.NodeName) {
		return false
	}
	for i := range a.Addresses {
		if a.Addresses[i] != b.Addresses[i] {
			return false
		}
	}
	for k, v := range a.Topology {
		if w, ok := b.Topology[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func strPtrEqual(a, b *string) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func int32PtrEqual(a, b *int32) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func boolPtrEqual(a, b *bool) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}
