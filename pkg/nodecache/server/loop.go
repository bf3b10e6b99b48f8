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

package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"

	"github.com/miekg/dns"
	"k8s.io/klog/v2"

	"signet.dev/signet/pkg/nodecache/dnswire"
	"signet.dev/signet/pkg/nodecache/forward"
)

// checkStaticLoop fails when an upstream is one of the listen addresses, or
// a loopback address on the port of a wildcard listen address.
func checkStaticLoop(listen []netip.AddrPort, groups []forward.GroupConfig) error {
	for _, g := range groups {
		for _, server := range g.Servers {
			addr, err := forward.NormalizeAddr(server)
			if err != nil {
				continue // reported by forward.New
			}
			up, err := netip.ParseAddrPort(addr)
			if err != nil {
				continue // a host name; cannot tell
			}
			upIP := up.Addr().Unmap()
			for _, l := range listen {
				lIP := l.Addr().Unmap()
				if l.Port() == 0 || l.Port() != up.Port() {
					continue
				}
				if lIP == upIP || lIP.IsUnspecified() && (upIP.IsLoopback() || upIP.IsUnspecified()) {
					return fmt.Errorf("%w: upstream %s of group %q is this server's own listen address %s; "+
						"node-cache must not forward to itself (check %s and the cluster DNS and stub domain servers)",
						ErrForwardingLoop, addr, g.Name, l, "resolv.conf")
				}
			}
		}
	}
	return nil
}

// probeLoops sends each upstream a query for a random name under one of its
// zones. If any of those queries reaches this server, the upstream forwards
// back to us: a loop.
func (s *Server) probeLoops(ctx context.Context) error {
	type probe struct {
		u    *forward.Upstream
		name string
	}
	var probes []probe
	names := map[string]string{}
	var buf [dnswire.MaxNameLen]byte
	for _, g := range s.fwd.Groups() {
		zone := g.Zones()[0]
		if zone == "." {
			zone = ""
		}
		for _, u := range g.Upstreams() {
			name := fmt.Sprintf("%08x.%08x.%s", rand.Uint32(), rand.Uint32(), zone)
			n, err := dns.PackDomainName(name, buf[:], 0, nil, false)
			if err != nil {
				continue // the zone is too long to hold the probe labels
			}
			names[strings.ToLower(string(buf[:n]))] = u.Addr()
			probes = append(probes, probe{u: u, name: name})
		}
	}
	s.probes.Store(&names)
	defer s.probes.Store(nil)

	ctx, cancel := context.WithTimeout(ctx, s.cfg.LoopProbeTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, p := range probes {
		wg.Go(func() {
			_, err := p.u.Exchange(ctx, dnswire.Question{Name: p.name, Type: dns.TypeHINFO, Class: dns.ClassINET})
			klog.FromContext(ctx).V(3).Info("Loop probe done", "upstream", p.u.Addr(), "name", p.name, "err", err)
		})
	}
	wg.Wait()
	if up := s.loopedTo.Load(); up != nil {
		return fmt.Errorf("%w: a probe query sent to upstream %s came back to this server (listening on %s); "+
			"that upstream forwards to node-cache, so every query it cannot answer would circle until it times out",
			ErrForwardingLoop, *up, strings.Join(s.Addrs(), ", "))
	}
	return nil
}

// isProbe reports whether the query is one of our loop probes coming back,
// and records the loop.
func (s *Server) isProbe(msg []byte, q *dnswire.Query) bool {
	p := s.probes.Load()
	if p == nil || !q.HasQuestion {
		return false
	}
	up, ok := (*p)[strings.ToLower(string(msg[dnswire.HeaderLen:q.NameEnd]))]
	if ok {
		s.loopedTo.Store(&up)
		klog.FromContext(s.ctx).Error(ErrForwardingLoop, "Loop probe came back", "upstream", up)
	}
	return ok
}
