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

package nodeagent

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrPoolFull is returned when a pod CIDR has no free address left.
var ErrPoolFull = errors.New("no free address left")

// maxPoolSize bounds the addresses handed out from one CIDR: an IPv6 /64
// is far larger than any node needs, so only its first 64Ki addresses are
// used.
const maxPoolSize = 1 << 16

// Allocator hands out the pod addresses of one pod CIDR. The first address
// is the network, the second the gateway (the node's bridge); for IPv4 the
// last is the broadcast address. Addresses go round-robin from the last
// one handed out, so that an address freed by a deleted pod is not given
// to the next pod at once, while connections to the old pod may linger.
// An Allocator is not safe for concurrent use.
type Allocator struct {
	prefix      netip.Prefix
	first, last netip.Addr // the usable range, inclusive
	size        int
	used        map[netip.Addr]string // address -> owner
	lastHanded  netip.Addr
}

// NewAllocator returns an allocator for cidr, which must be a network
// address (no host bits) with room for at least one pod.
func NewAllocator(cidr netip.Prefix) (*Allocator, error) {
	if !cidr.IsValid() || cidr.Masked() != cidr {
		return nil, fmt.Errorf("pod CIDR %s: not a network address (want %s)", cidr, cidr.Masked())
	}
	hostBits := cidr.Addr().BitLen() - cidr.Bits()
	// The network, the gateway, one pod and, for IPv4, the broadcast
	// address need two host bits.
	if hostBits < 2 {
		return nil, fmt.Errorf("pod CIDR %s: too small, it needs room for a gateway and pods", cidr)
	}
	gateway := cidr.Addr().Next()
	a := &Allocator{prefix: cidr, first: gateway.Next(), used: map[netip.Addr]string{}}
	size := maxPoolSize
	if hostBits < 17 {
		size = 1<<hostBits - 2 // less the network and the gateway
		if cidr.Addr().Is4() {
			size-- // and the broadcast address
		}
	}
	a.size = size
	a.last = a.first
	for i := 1; i < size; i++ {
		a.last = a.last.Next()
	}
	return a, nil
}

// Prefix is the pod CIDR.
func (a *Allocator) Prefix() netip.Prefix { return a.prefix }

// Gateway is the bridge's address in the CIDR: the pods' default route.
func (a *Allocator) Gateway() netip.Addr { return a.prefix.Addr().Next() }

// Size is how many pod addresses the allocator can hand out.
func (a *Allocator) Size() int { return a.size }

// Used is how many addresses are handed out.
func (a *Allocator) Used() int { return len(a.used) }

// Contains reports whether ip is one of the addresses pods can get.
func (a *Allocator) Contains(ip netip.Addr) bool {
	return a.prefix.Contains(ip) && ip.Compare(a.first) >= 0 && ip.Compare(a.last) <= 0
}

// Reserve marks ip as owner's, as when a restarted agent reads back the
// addresses its pods hold. Reserving an address again for its owner is not
// an error.
func (a *Allocator) Reserve(ip netip.Addr, owner string) error {
	if !a.Contains(ip) {
		return fmt.Errorf("%s is not a pod address of %s", ip, a.prefix)
	}
	if o, ok := a.used[ip]; ok && o != owner {
		return fmt.Errorf("%s is already held by %s", ip, o)
	}
	a.used[ip] = owner
	return nil
}

// Allocate hands out the next free address after the last one handed out.
func (a *Allocator) Allocate(owner string) (netip.Addr, error) {
	ip := a.first
	if a.lastHanded.IsValid() && a.Contains(a.lastHanded) {
		ip = a.next(a.lastHanded)
	}
	for i := 0; i < a.size; i++ {
		if _, taken := a.used[ip]; !taken {
			a.used[ip] = owner
			a.lastHanded = ip
			return ip, nil
		}
		ip = a.next(ip)
	}
	return netip.Addr{}, fmt.Errorf("pod CIDR %s: %w (%d in use)", a.prefix, ErrPoolFull, len(a.used))
}

// next is the address after ip in the usable range, wrapping around.
func (a *Allocator) next(ip netip.Addr) netip.Addr {
	if ip == a.last {
		return a.first
	}
	return ip.Next()
}

// Release frees ip; freeing a free address does nothing.
func (a *Allocator) Release(ip netip.Addr) { delete(a.used, ip) }

// LastHanded is the address handed out last, to be saved across restarts.
func (a *Allocator) LastHanded() netip.Addr { return a.lastHanded }

// SetLastHanded restores the round-robin position saved before a restart.
func (a *Allocator) SetLastHanded(ip netip.Addr) {
	if a.Contains(ip) {
		a.lastHanded = ip
	}
}

// allocateIPs hands out one address per pod CIDR and saves the
// round-robin position.
func (a *Agent) allocateIPs(owner string) ([]netip.Addr, error) {
	a.ipamMu.Lock()
	defer a.ipamMu.Unlock()
	var ips []netip.Addr
	for _, alloc := range a.ipam {
		ip, err := alloc.Allocate(owner)
		if err != nil {
			for i, got := range ips {
				a.ipam[i].Release(got)
			}
			return nil, err
		}
		ips = append(ips, ip)
	}
	a.agentRec.LastHanded = map[string]netip.Addr{}
	for _, alloc := range a.ipam {
		a.agentRec.LastHanded[alloc.Prefix().String()] = alloc.LastHanded()
	}
	if err := a.store.SaveAgent(a.agentRec); err != nil {
		for i, got := range ips {
			a.ipam[i].Release(got)
		}
		return nil, err
	}
	return ips, nil
}

func (a *Agent) releaseIPs(ips []netip.Addr) {
	a.ipamMu.Lock()
	defer a.ipamMu.Unlock()
	for _, ip := range ips {
		a.releaseLocked(ip)
	}
}

// reserveIPs marks a record's addresses taken, for adopted pods; on
// failure none stays reserved.
func (a *Agent) reserveIPs(rec *PodRecord) error {
	a.ipamMu.Lock()
	defer a.ipamMu.Unlock()
	var reserved []netip.Addr
	undo := func() {
		for _, ip := range reserved {
			a.releaseLocked(ip)
		}
	}
	for _, ip := range rec.IPs {
		var alloc *Allocator
		for _, al := range a.ipam {
			if al.Prefix().Contains(ip) {
				alloc = al
			}
		}
		if alloc == nil {
			undo()
			return fmt.Errorf("%s is in none of the pod CIDRs", ip)
		}
		if err := alloc.Reserve(ip, string(rec.UID)); err != nil {
			undo()
			return err
		}
		reserved = append(reserved, ip)
	}
	return nil
}

func (a *Agent) releaseLocked(ip netip.Addr) {
	for _, alloc := range a.ipam {
		if alloc.Contains(ip) {
			alloc.Release(ip)
		}
	}
}
