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

// Package cache is the caching handler of node-cache. It answers from packed
// responses, counts TTLs down, caches denials for their SOA-derived TTL,
// coalesces identical misses into one upstream query, prefetches popular
// entries before they expire and serves stale answers when every upstream
// fails. See README.md for its options.
package cache

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"signet.dev/signet/pkg/nodecache/dnswire"
)

// Resolver answers the questions the cache cannot. The forwarder implements it.
type Resolver interface {
	// Resolve returns the upstream response to q, or an error when no upstream
	// answered.
	Resolve(ctx context.Context, q dnswire.Question) (*dns.Msg, error)
}

// StaleTTL is the TTL of records in a stale answer (RFC 8767 section 4).
const StaleTTL = 30

// Defaults of Config.
const (
	DefaultMaxEntries      = 10000
	DefaultSuccessTTL      = 30 * time.Second
	DefaultDenialTTL       = 5 * time.Second
	DefaultPrefetchHits    = 10
	DefaultPrefetchPercent = 10
	DefaultServeStale      = time.Hour
	DefaultResolveTimeout  = 5 * time.Second
	DefaultMaxPrefetches   = 64
)

// Config holds the cache options. The zero value of a field means its default.
type Config struct {
	// MaxEntries bounds the number of cached answers, stale ones included.
	// The least recently used entry is evicted first. Default 10000.
	MaxEntries int
	// SuccessTTL caps the TTL of positive answers. Default 30s.
	SuccessTTL time.Duration
	// DenialTTL caps the TTL of negative answers (NXDOMAIN and NODATA), whose
	// TTL is otherwise the smaller of the SOA record's TTL and its MINIMUM
	// field (RFC 2308 section 5). Default 5s.
	DenialTTL time.Duration
	// PrefetchHits is how many hits an entry needs before it is refreshed
	// ahead of its expiry. Default 10; negative disables prefetching.
	PrefetchHits int
	// PrefetchPercent: a popular entry is refreshed once its remaining TTL
	// drops below this percentage of its original TTL. Default 10.
	PrefetchPercent int
	// ServeStale is how long past expiry an entry may be served, with TTL 30,
	// when every upstream fails (RFC 8767). After that the answer is SERVFAIL.
	// Default 1h; negative disables serving stale answers.
	ServeStale time.Duration
	// ResolveTimeout bounds one upstream resolution, failover included.
	// Default 5s.
	ResolveTimeout time.Duration
	// MaxPrefetches bounds concurrent prefetches. Default 64.
	MaxPrefetches int
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	setDefault(&c.MaxEntries, DefaultMaxEntries)
	setDefault(&c.SuccessTTL, DefaultSuccessTTL)
	setDefault(&c.DenialTTL, DefaultDenialTTL)
	setDefault(&c.PrefetchHits, DefaultPrefetchHits)
	setDefault(&c.PrefetchPercent, DefaultPrefetchPercent)
	setDefault(&c.ServeStale, DefaultServeStale)
	setDefault(&c.ResolveTimeout, DefaultResolveTimeout)
	setDefault(&c.MaxPrefetches, DefaultMaxPrefetches)
	return c
}

// Validate reports options out of range, after defaulting.
func (c Config) Validate() error {
	var errs []error
	if c.MaxEntries < 1 {
		errs = append(errs, fmt.Errorf("cache max entries must be positive, got %d", c.MaxEntries))
	}
	if c.SuccessTTL < time.Second || c.DenialTTL < time.Second {
		errs = append(errs, fmt.Errorf("cache success and denial TTLs must be at least 1s, got %v and %v", c.SuccessTTL, c.DenialTTL))
	}
	if c.PrefetchPercent < 1 || c.PrefetchPercent > 99 {
		errs = append(errs, fmt.Errorf("cache prefetch percentage must be between 1 and 99, got %d", c.PrefetchPercent))
	}
	if c.ResolveTimeout <= 0 || c.MaxPrefetches < 1 {
		errs = append(errs, fmt.Errorf("cache resolve timeout and max prefetches must be positive"))
	}
	return errors.Join(errs...)
}

func setDefault[T int | time.Duration](v *T, d T) {
	if *v == 0 {
		*v = d
	}
}

// Option customises a Cache.
type Option func(*Cache)

// WithClock sets the clock TTLs are counted with. Tests pass a fake one.
func WithClock(c clock.PassiveClock) Option { return func(cc *Cache) { cc.clock = c } }

// Cache answers queries from cached responses and asks its Resolver for the
// rest. It is safe for concurrent use.
type Cache struct {
	cfg     Config
	next    Resolver
	clock   clock.PassiveClock
	seed    maphash.Seed
	shards  []shard
	flights flightGroup
	metrics *metrics

	// successTTL and denialTTL are the caps in force: cfg's, until
	// SetTTLCaps changes them.
	successTTL, denialTTL atomic.Int64

	prefetchSem chan struct{}
	bgMu        sync.Mutex // orders bg.Add before bg.Wait
	closed      bool       // guarded by bgMu
	bg          sync.WaitGroup
	ctx         context.Context // cancelled by Close; parent of background work
	cancel      context.CancelFunc
}

// New returns a cache in front of next.
func New(cfg Config, next Resolver, opts ...Option) (*Cache, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if next == nil {
		return nil, errors.New("cache needs a resolver")
	}
	c := &Cache{
		cfg:         cfg,
		next:        next,
		clock:       clock.RealClock{},
		seed:        maphash.MakeSeed(),
		flights:     flightGroup{calls: map[string]*call{}},
		prefetchSem: make(chan struct{}, cfg.MaxPrefetches),
	}
	for _, o := range opts {
		o(c)
	}
	// Small caches keep one shard so eviction is exact LRU; large ones spread
	// lock contention over several, each exact LRU over its share.
	n := 1
	if cfg.MaxEntries >= 4096 {
		n = 32
	}
	c.shards = make([]shard, n)
	for i := range c.shards {
		c.shards[i].init(cfg.MaxEntries / n)
	}
	c.successTTL.Store(int64(cfg.SuccessTTL))
	c.denialTTL.Store(int64(cfg.DenialTTL))
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.metrics = newMetrics(c)
	return c, nil
}

// SetTTLCaps changes the caps on the TTL of positive and negative answers
// (Config.SuccessTTL and DenialTTL) for answers stored from now on; cached
// answers keep the TTL they were stored with. Zero means the default. Both
// must be at least 1s.
func (c *Cache) SetTTLCaps(success, denial time.Duration) error {
	setDefault(&success, DefaultSuccessTTL)
	setDefault(&denial, DefaultDenialTTL)
	if success < time.Second || denial < time.Second {
		return fmt.Errorf("cache success and denial TTLs must be at least 1s, got %v and %v", success, denial)
	}
	c.successTTL.Store(int64(success))
	c.denialTTL.Store(int64(denial))
	return nil
}

// Close cancels upstream fetches and background refreshes and waits for the
// refreshes to return. The cache still answers from what it holds.
func (c *Cache) Close() {
	c.bgMu.Lock()
	c.closed = true
	c.bgMu.Unlock()
	c.cancel()
	c.bg.Wait()
}

// Collectors returns the cache's Prometheus collectors.
func (c *Cache) Collectors() []prometheus.Collector { return c.metrics.collectors() }

// Len returns the number of cached entries, stale ones included.
func (c *Cache) Len() int {
	n := 0
	for i := range c.shards {
		n += c.shards[i].len()
	}
	return n
}

func (c *Cache) shardFor(key []byte) *shard {
	if len(c.shards) == 1 {
		return &c.shards[0]
	}
	return &c.shards[maphash.Bytes(c.seed, key)%uint64(len(c.shards))]
}

// Lookup appends to dst the answer to the query msg (parsed into q) when a
// fresh one is cached, and reports whether it did. It does not allocate.
// A miss, or an expired entry, is left to Resolve.
func (c *Cache) Lookup(dst, msg []byte, q *dnswire.Query, lim dnswire.Limits) ([]byte, bool) {
	var kb [dnswire.MaxNameLen + 8]byte
	key := dnswire.AppendKey(kb[:0], msg, q)
	now := c.clock.Now()
	sh := c.shardFor(key)
	e, st := sh.get(key, now, c.cfg.ServeStale)
	if st != fresh || !e.tmpl.Matches(q) {
		sh.misses.Add(1)
		return dst, false
	}
	sh.hits.Add(1)
	remaining := e.expires.Sub(now)
	if c.cfg.PrefetchHits > 0 {
		if h := e.hits.Add(1); h >= uint32(c.cfg.PrefetchHits) &&
			remaining*100 < e.ttl*time.Duration(c.cfg.PrefetchPercent) {
			c.maybePrefetch(e, msg, q)
		}
	}
	return e.tmpl.Append(dst, msg, q, remainingTTL(e, now), true, lim), true
}

// remainingTTL counts an entry's TTL down by the whole seconds it has been
// cached.
func remainingTTL(e *entry, now time.Time) uint32 {
	elapsed := uint32(now.Sub(e.stored) / time.Second)
	orig := uint32(e.ttl / time.Second)
	if elapsed >= orig {
		return 0
	}
	return orig - elapsed
}

// Resolve appends to dst the answer to the query msg (parsed into q), asking
// the resolver when no fresh answer is cached. Identical concurrent misses
// share one upstream query. When the upstream fails and an expired entry is
// still within the serve-stale window, that entry is served with TTL 30;
// otherwise the answer is SERVFAIL.
func (c *Cache) Resolve(ctx context.Context, dst, msg []byte, q *dnswire.Query, lim dnswire.Limits) []byte {
	key := dnswire.AppendKey(make([]byte, 0, q.NameEnd+8), msg, q)
	now := c.clock.Now()
	e, st := c.shardFor(key).get(key, now, c.cfg.ServeStale)
	if st == fresh && e.tmpl.Matches(q) {
		return e.tmpl.Append(dst, msg, q, remainingTTL(e, now), true, lim)
	}
	question, err := q.Question(msg)
	if err != nil {
		return dnswire.AppendError(dst, msg, q, dns.RcodeFormatError, lim.UDPSize)
	}
	res, err := c.flights.do(ctx, string(key), func() (*entry, error) {
		return c.fetch(ctx, key, question)
	})
	failed := err != nil || res.tmpl.Rcode() == dns.RcodeServerFailure
	if failed && st == stale && e.tmpl.Matches(q) {
		c.metrics.stale.Inc()
		klog.FromContext(ctx).V(4).Info("Serving stale answer", "name", question.Name, "type", dns.Type(question.Type), "err", err)
		return e.tmpl.Append(dst, msg, q, StaleTTL, true, lim)
	}
	if err != nil {
		return dnswire.AppendError(dst, msg, q, dns.RcodeServerFailure, lim.UDPSize)
	}
	if !res.tmpl.Matches(q) {
		return dnswire.AppendError(dst, msg, q, dns.RcodeServerFailure, lim.UDPSize)
	}
	if res.cacheable {
		return res.tmpl.Append(dst, msg, q, remainingTTL(res, c.clock.Now()), true, lim)
	}
	return res.tmpl.Append(dst, msg, q, 0, false, lim)
}

// fetch asks the resolver for q and caches a cacheable answer. It runs once
// per flight, detached from the cancellation of the query that started it.
func (c *Cache) fetch(ctx context.Context, key []byte, q dnswire.Question) (*entry, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.ResolveTimeout)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel)
	defer stop()

	m, err := c.next.Resolve(ctx, q)
	if err != nil {
		klog.FromContext(ctx).V(3).Info("Upstream resolution failed", "name", q.Name, "type", dns.Type(q.Type), "err", err)
		return nil, err
	}
	// Template the question as asked, whatever the upstream echoed.
	m.Question = []dns.Question{{Name: q.Name, Qtype: q.Type, Qclass: q.Class}}
	truncated := m.Truncated
	tmpl, err := dnswire.NewTemplate(m)
	if err != nil {
		return nil, err
	}
	e := &entry{key: string(key), tmpl: tmpl, stored: c.clock.Now()}
	if ttl, ok := c.cacheTTL(m, tmpl, truncated); ok {
		e.cacheable = true
		e.ttl = ttl
		e.expires = e.stored.Add(ttl)
		if evicted := c.shardFor(key).put(e); evicted {
			c.metrics.evictions.Inc()
		}
	}
	return e, nil
}

// cacheTTL returns how long a response may be cached, and false when it may
// not be: truncated answers, errors other than NXDOMAIN, denials without an
// SOA record and answers with a zero TTL.
func (c *Cache) cacheTTL(m *dns.Msg, tmpl *dnswire.Template, truncated bool) (time.Duration, bool) {
	if truncated {
		return 0, false
	}
	var ttl uint32
	var limit time.Duration
	switch {
	case m.Rcode == dns.RcodeSuccess && len(m.Answer) > 0:
		ttl, limit = tmpl.MinTTL(), time.Duration(c.successTTL.Load())
	case m.Rcode == dns.RcodeSuccess || m.Rcode == dns.RcodeNameError:
		soa := findSOA(m.Ns)
		if soa == nil {
			return 0, false
		}
		ttl, limit = min(soa.Hdr.Ttl, soa.Minttl, tmpl.MinTTL()), time.Duration(c.denialTTL.Load())
	default:
		return 0, false
	}
	d := min(time.Duration(ttl)*time.Second, limit.Truncate(time.Second))
	return d, d > 0
}

func findSOA(rrs []dns.RR) *dns.SOA {
	for _, rr := range rrs {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa
		}
	}
	return nil
}

// maybePrefetch refreshes e in the background unless a refresh is already
// running or too many are.
func (c *Cache) maybePrefetch(e *entry, msg []byte, q *dnswire.Query) {
	if !e.prefetching.CompareAndSwap(false, true) {
		return
	}
	select {
	case c.prefetchSem <- struct{}{}:
	default:
		e.prefetching.Store(false) // try again on a later hit
		return
	}
	question, err := q.Question(msg)
	c.bgMu.Lock()
	if err != nil || c.closed {
		c.bgMu.Unlock()
		<-c.prefetchSem
		return
	}
	c.bg.Add(1)
	c.bgMu.Unlock()
	go func() {
		defer c.bg.Done()
		defer func() { <-c.prefetchSem }()
		c.metrics.prefetches.Inc()
		ctx := klog.NewContext(c.ctx, klog.Background().WithName("prefetch"))
		_, _ = c.flights.do(ctx, e.key, func() (*entry, error) {
			return c.fetch(ctx, []byte(e.key), question)
		})
	}()
}

// Wait blocks until background prefetches have finished. Tests use it.
func (c *Cache) Wait() { c.bg.Wait() }
