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
	"sync"
	"time"
)

// upConn is a connection to a backend endpoint.
type upConn struct {
	connIO
	pool *pool
	// idleAt is when it was put in the pool.
	idleAt time.Time
	// reused: it came from the pool, so it may have been closed by the
	// backend meanwhile (the request may be retried on a fresh one).
	reused bool
}

func (u *upConn) close() {
	u.conn.Close()
}

// pool keeps idle keep-alive connections to one endpoint address. Pools
// live in the Proxy, not in a Config, so connections survive Config swaps.
// The pool is a stack: the most recently used connection is reused first,
// which keeps the number of connections in use close to the concurrency
// and lets the others age out.
type pool struct {
	addr        string
	max         int
	idleTimeout time.Duration

	mu   sync.Mutex
	idle []*upConn
	// retired: the address left the Config; connections given back are
	// closed.
	retired bool
}

// get returns an idle connection, or nil.
func (p *pool) get(now time.Time) *upConn {
	p.mu.Lock()
	for n := len(p.idle); n > 0; n = len(p.idle) {
		u := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		if now.Sub(u.idleAt) < p.idleTimeout {
			p.mu.Unlock()
			u.reused = true
			return u
		}
		// Everything below it is older still.
		old := append([]*upConn(nil), p.idle...)
		clear(p.idle)
		p.idle = p.idle[:0]
		p.mu.Unlock()
		u.close()
		for _, o := range old {
			o.close()
		}
		return nil
	}
	p.mu.Unlock()
	return nil
}

// put gives back a connection whose last response was read to its end.
func (p *pool) put(u *upConn, now time.Time) {
	u.idleAt = now
	p.mu.Lock()
	if p.retired {
		p.mu.Unlock()
		u.close()
		return
	}
	var evict *upConn
	if len(p.idle) >= p.max {
		// Full: the oldest goes.
		evict = p.idle[0]
		copy(p.idle, p.idle[1:])
		p.idle = p.idle[:len(p.idle)-1]
	}
	p.idle = append(p.idle, u)
	p.mu.Unlock()
	if evict != nil {
		evict.close()
	}
}

// sweep closes the connections idle for longer than the idle timeout.
func (p *pool) sweep(now time.Time) {
	p.mu.Lock()
	n := 0
	for n < len(p.idle) && now.Sub(p.idle[n].idleAt) >= p.idleTimeout {
		n++
	}
	expired := append([]*upConn(nil), p.idle[:n]...)
	p.idle = append(p.idle[:0], p.idle[n:]...)
	clear(p.idle[len(p.idle):cap(p.idle)])
	p.mu.Unlock()
	for _, u := range expired {
		u.close()
	}
}

// retire closes the idle connections and makes put close the others.
func (p *pool) retire() {
	p.mu.Lock()
	p.retired = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, u := range idle {
		u.close()
	}
}

// idleCount returns the number of idle connections (for tests).
func (p *pool) idleCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

// poolSet holds the pools by endpoint address.
type poolSet struct {
	max         int
	idleTimeout time.Duration

	mu sync.Mutex
	m  map[string]*pool
}

// get returns the pool of addr, creating it.
func (s *poolSet) get(addr string) *pool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*pool{}
	}
	p := s.m[addr]
	if p == nil {
		p = &pool{addr: addr, max: s.max, idleTimeout: s.idleTimeout}
		s.m[addr] = p
	}
	return p
}

// retain retires the pools of addresses not in keep. Requests of an older
// Config may still hold their connections; those are closed when given
// back.
func (s *poolSet) retain(keep map[string]bool) {
	s.mu.Lock()
	var gone []*pool
	for addr, p := range s.m {
		if !keep[addr] {
			gone = append(gone, p)
			delete(s.m, addr)
		}
	}
	s.mu.Unlock()
	for _, p := range gone {
		p.retire()
	}
}

func (s *poolSet) sweep(now time.Time) {
	s.mu.Lock()
	ps := make([]*pool, 0, len(s.m))
	for _, p := range s.m {
		ps = append(ps, p)
	}
	s.mu.Unlock()
	for _, p := range ps {
		p.sweep(now)
	}
}

// closeIdle closes every idle connection (at shutdown).
func (s *poolSet) closeIdle() {
	s.sweep(time.Now().Add(100 * 365 * 24 * time.Hour))
}

// dial opens a fresh connection to ep.
func (p *Proxy) dial(ep *endpointRT) (*upConn, error) {
	c, err := p.dialer.Dial("tcp", ep.hostport)
	if err != nil {
		return nil, err
	}
	u := &upConn{pool: ep.pool}
	u.conn = c
	u.br.reset(c, upstreamBufSize)
	u.readTimeout = p.opts.ResponseTimeout
	u.writeTimeout = p.opts.WriteTimeout
	return u, nil
}

// upstreamBufSize is the read buffer of a backend connection; a response
// head may grow it up to maxResponseHead.
const (
	upstreamBufSize = 8 << 10
	maxResponseHead = 64 << 10
)
