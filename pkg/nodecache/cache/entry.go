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

package cache

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"signet.dev/signet/pkg/nodecache/dnswire"
)

// entry is one cached answer. Everything but the atomics and the LRU links is
// immutable once the entry is published.
type entry struct {
	key       string
	tmpl      *dnswire.Template
	cacheable bool
	stored    time.Time
	ttl       time.Duration // TTL when stored, after capping
	expires   time.Time

	hits        atomic.Uint32
	prefetching atomic.Bool

	prev, next *entry // LRU list, guarded by the shard lock
}

type state int

const (
	miss  state = iota
	fresh       // within its TTL
	stale       // expired, within the serve-stale window
)

// shard is an LRU map of entries under one lock.
type shard struct {
	mu   sync.Mutex
	m    map[string]*entry
	lru  entry // sentinel: lru.next is the most recently used
	size int   // capacity

	// Hit and miss counts live here, not in shared Prometheus counters, so the
	// hit path touches only its shard's cache lines.
	hits, misses atomic.Uint64
	_            [40]byte
}

func (s *shard) init(size int) {
	s.m = make(map[string]*entry)
	s.lru.next, s.lru.prev = &s.lru, &s.lru
	s.size = max(size, 1)
}

func (s *shard) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// get returns the entry for key and its state at now. Entries expired for
// longer than staleFor are removed; a negative staleFor disables stale entries.
func (s *shard) get(key []byte, now time.Time, staleFor time.Duration) (*entry, state) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[string(key)]
	if e == nil {
		return nil, miss
	}
	if now.Before(e.expires) {
		s.moveToFront(e)
		return e, fresh
	}
	if staleFor > 0 && now.Before(e.expires.Add(staleFor)) {
		return e, stale
	}
	s.remove(e)
	return nil, miss
}

// put inserts or replaces e and reports whether it evicted another entry.
func (s *shard) put(e *entry) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.m[e.key]; old != nil {
		s.remove(old)
	}
	s.m[e.key] = e
	e.prev, e.next = &s.lru, s.lru.next
	e.next.prev = e
	s.lru.next = e
	if len(s.m) <= s.size {
		return false
	}
	s.remove(s.lru.prev)
	return true
}

func (s *shard) moveToFront(e *entry) {
	if s.lru.next == e {
		return
	}
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = &s.lru, s.lru.next
	e.next.prev = e
	s.lru.next = e
}

func (s *shard) remove(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
	delete(s.m, e.key)
}

// flightGroup coalesces concurrent fetches of one key.
type flightGroup struct {
	mu    sync.Mutex
	calls map[string]*call
}

type call struct {
	done    chan struct{}
	e       *entry
	err     error
	waiters int // joined after the first caller; for tests
}

// do runs fn once for all concurrent callers with the same key. A caller that
// gives up (ctx done) leaves the others and fn running.
func (g *flightGroup) do(ctx context.Context, key string, fn func() (*entry, error)) (*entry, error) {
	g.mu.Lock()
	if c, ok := g.calls[key]; ok {
		c.waiters++
		g.mu.Unlock()
		select {
		case <-c.done:
			return c.e, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c := &call{done: make(chan struct{})}
	g.calls[key] = c
	g.mu.Unlock()

	defer func() {
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		close(c.done)
	}()
	c.e, c.err = fn()
	return c.e, c.err
}

// waiting returns how many callers joined the running call for key.
func (g *flightGroup) waiting(key string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.calls[key]; ok {
		return c.waiters
	}
	return -1
}
