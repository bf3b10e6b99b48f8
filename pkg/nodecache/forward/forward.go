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

// Package forward is the forwarding handler of node-cache. It routes each
// question by zone to a group of upstream servers, fails over between the
// servers of a group, and talks to them over UDP (retrying over TCP when an
// answer is truncated) or over TCP only, on pooled, pipelined connections.
// See README.md for its options.
package forward

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"

	"signet.dev/signet/pkg/nodecache/dnswire"
)

// Protocol is how a group talks to its upstreams.
type Protocol int

const (
	// UDP sends queries over UDP and retries over TCP when the answer is
	// truncated.
	UDP Protocol = iota
	// TCP sends every query over TCP, on persistent connections.
	TCP
)

func (p Protocol) String() string {
	if p == TCP {
		return "tcp"
	}
	return "udp"
}

// Defaults of Config.
const (
	DefaultTimeout             = 2 * time.Second
	DefaultMaxConcurrent       = 1000
	DefaultMaxConnsPerUpstream = 4
	DefaultMaxPipeline         = 128
	DefaultIdleTimeout         = 5 * time.Second
	DefaultUDPSize             = 1232
	DefaultDownTime            = 5 * time.Second
)

// Errors callers can check with errors.Is.
var (
	// ErrLimitExceeded means MaxConcurrent resolutions are already in flight.
	ErrLimitExceeded = errors.New("forward: too many concurrent upstream queries")
	// ErrNoRoute means no group serves the question's name.
	ErrNoRoute = errors.New("forward: no upstream group for name")
	// ErrBadResponse means an upstream answered with a message that does not
	// answer the query.
	ErrBadResponse = errors.New("forward: upstream response does not match the query")
)

// Config holds the transport options shared by all groups. The zero value of a
// field means its default.
type Config struct {
	// Timeout bounds one attempt against one upstream. Default 2s.
	Timeout time.Duration
	// MaxConcurrent bounds resolutions in flight across all groups; beyond it
	// Resolve fails fast with ErrLimitExceeded. Default 1000.
	MaxConcurrent int
	// MaxConnsPerUpstream bounds the TCP connections kept to one upstream.
	// Default 4.
	MaxConnsPerUpstream int
	// MaxPipeline bounds the queries in flight on one TCP connection.
	// Default 128.
	MaxPipeline int
	// IdleTimeout: a TCP connection idle for longer is not reused. Keep it
	// below the upstream's own idle timeout (8s for miekg/dns servers such as
	// CoreDNS). Default 5s.
	IdleTimeout time.Duration
	// UDPSize is the EDNS0 payload size advertised to upstreams. Default 1232.
	UDPSize uint16
	// DownTime: an upstream that failed is tried after the healthy ones of its
	// group for this long. Default 5s.
	DownTime time.Duration
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Timeout, DefaultTimeout)
	def(&c.IdleTimeout, DefaultIdleTimeout)
	def(&c.DownTime, DefaultDownTime)
	defInt(&c.MaxConcurrent, DefaultMaxConcurrent)
	defInt(&c.MaxConnsPerUpstream, DefaultMaxConnsPerUpstream)
	defInt(&c.MaxPipeline, DefaultMaxPipeline)
	if c.UDPSize == 0 {
		c.UDPSize = DefaultUDPSize
	}
	return c
}

// Validate reports options out of range, after defaulting.
func (c Config) Validate() error {
	var errs []error
	if c.Timeout < 0 || c.IdleTimeout < 0 || c.DownTime < 0 {
		errs = append(errs, errors.New("forward timeouts must not be negative"))
	}
	if c.MaxConcurrent < 1 || c.MaxConnsPerUpstream < 1 {
		errs = append(errs, fmt.Errorf("forward max concurrent (%d) and max connections per upstream (%d) must be positive", c.MaxConcurrent, c.MaxConnsPerUpstream))
	}
	if c.MaxPipeline < 1 || c.MaxPipeline > 65535 {
		errs = append(errs, fmt.Errorf("forward max pipeline must be between 1 and 65535, got %d", c.MaxPipeline))
	}
	if c.UDPSize < dnswire.MinUDPSize {
		errs = append(errs, fmt.Errorf("forward UDP size must be at least %d, got %d", dnswire.MinUDPSize, c.UDPSize))
	}
	return errors.Join(errs...)
}

// GroupConfig describes one group of upstreams and the zones routed to it.
type GroupConfig struct {
	// Name labels the group in logs.
	Name string
	// Zones are the domains routed to the group; "." makes it the default.
	// A name goes to the group with the longest matching zone.
	Zones []string
	// Servers are the upstreams, as host or host:port (port 53 by default).
	Servers []string
	// Protocol is UDP (with TCP on truncation) or TCP only.
	Protocol Protocol
	// Options are EDNS0 options added to every query sent to this group, such
	// as the node-name tag cluster DNS understands.
	Options []dns.EDNS0
}

// Option customises a Forwarder.
type Option func(*Forwarder)

// WithClock sets the clock used for health bookkeeping.
func WithClock(c clock.PassiveClock) Option { return func(f *Forwarder) { f.clock = c } }

// WithDialer sets the dialer used for upstream connections.
func WithDialer(d *net.Dialer) Option { return func(f *Forwarder) { f.dialer = d } }

// Forwarder routes questions to upstream groups. It is safe for concurrent use.
type Forwarder struct {
	cfg     Config
	clock   clock.PassiveClock
	dialer  *net.Dialer
	routes  atomic.Pointer[routes] // replaced by SetGroups
	setMu   sync.Mutex             // serialises SetGroups and Close
	sem     chan struct{}
	metrics *metrics

	lastSuccess atomic.Int64 // unix nanoseconds of the last upstream answer
}

// routes is one set of groups and the zones routed to them. SetGroups
// replaces it; the TCP pools of the old set close once no resolution uses it.
type routes struct {
	groups []*Group
	zones  map[string]*Group // lower-case FQDN -> group

	mu      sync.Mutex
	users   int  // resolutions using this set
	retired bool // replaced; close the pools when users drops to 0
}

// New returns a forwarder for the given groups.
func New(cfg Config, groups []GroupConfig, opts ...Option) (*Forwarder, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f := &Forwarder{
		cfg:     cfg,
		clock:   clock.RealClock{},
		dialer:  &net.Dialer{},
		sem:     make(chan struct{}, cfg.MaxConcurrent),
		metrics: newMetrics(),
	}
	for _, o := range opts {
		o(f)
	}
	rt, err := f.newRoutes(groups)
	if err != nil {
		return nil, err
	}
	f.routes.Store(rt)
	return f, nil
}

// SetGroups replaces every group with new ones built from groups, as New
// does, without disturbing resolutions under way: they finish on the old
// groups, whose TCP connections are closed once the last one returns. The
// new groups start with fresh connections and every upstream healthy; the
// metrics and the time of the last upstream answer carry over. On error the
// old groups stay in place.
func (f *Forwarder) SetGroups(groups []GroupConfig) error {
	f.setMu.Lock()
	defer f.setMu.Unlock()
	rt, err := f.newRoutes(groups)
	if err != nil {
		return err
	}
	f.routes.Swap(rt).retire()
	return nil
}

func (f *Forwarder) newRoutes(groups []GroupConfig) (*routes, error) {
	rt := &routes{zones: map[string]*Group{}}
	for _, gc := range groups {
		g, err := f.newGroup(rt, gc)
		if err != nil {
			rt.closePools()
			return nil, err
		}
		rt.groups = append(rt.groups, g)
	}
	return rt, nil
}

// acquireRoutes returns the current routes, counted as in use until release.
func (f *Forwarder) acquireRoutes() *routes {
	for {
		rt := f.routes.Load()
		rt.mu.Lock()
		if !rt.retired {
			rt.users++
			rt.mu.Unlock()
			return rt
		}
		// Replaced between Load and Lock: the new set is already stored.
		rt.mu.Unlock()
	}
}

func (rt *routes) release() {
	rt.mu.Lock()
	rt.users--
	last := rt.retired && rt.users == 0
	rt.mu.Unlock()
	if last {
		rt.closePools()
	}
}

// retire marks rt replaced and closes its pools unless a resolution still
// uses it; the last one to return closes them then.
func (rt *routes) retire() {
	rt.mu.Lock()
	rt.retired = true
	idle := rt.users == 0
	rt.mu.Unlock()
	if idle {
		rt.closePools()
	}
}

func (rt *routes) closePools() {
	for _, g := range rt.groups {
		for _, u := range g.upstreams {
			u.pool.close()
		}
	}
}

// route returns the group with the longest zone that is name or a parent of
// it, or nil.
func (rt *routes) route(name string) *Group {
	name = strings.ToLower(dns.Fqdn(name))
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if g, ok := rt.zones[name[off:]]; ok {
			return g
		}
	}
	return rt.zones["."]
}

func (f *Forwarder) newGroup(rt *routes, gc GroupConfig) (*Group, error) {
	if len(gc.Zones) == 0 {
		return nil, fmt.Errorf("upstream group %q routes no zone", gc.Name)
	}
	if len(gc.Servers) == 0 {
		return nil, fmt.Errorf("upstream group %q has no servers", gc.Name)
	}
	g := &Group{name: gc.Name, proto: gc.Protocol, options: gc.Options}
	for _, z := range gc.Zones {
		if _, ok := dns.IsDomainName(z); !ok {
			return nil, fmt.Errorf("upstream group %q: %q is not a domain name", gc.Name, z)
		}
		z = strings.ToLower(dns.Fqdn(z))
		if other, ok := rt.zones[z]; ok {
			return nil, fmt.Errorf("zone %q is routed to both upstream groups %q and %q", z, other.name, gc.Name)
		}
		rt.zones[z] = g
		g.zones = append(g.zones, z)
	}
	for _, s := range gc.Servers {
		addr, err := NormalizeAddr(s)
		if err != nil {
			return nil, fmt.Errorf("upstream group %q: %w", gc.Name, err)
		}
		g.upstreams = append(g.upstreams, f.newUpstream(g, addr))
	}
	return g, nil
}

// NormalizeAddr turns "host" or "host:port" into "host:port", port 53 by
// default. IPv6 addresses may be bare or bracketed.
func NormalizeAddr(s string) (string, error) {
	if host, port, err := net.SplitHostPort(s); err == nil {
		if host == "" || port == "" {
			return "", fmt.Errorf("invalid upstream address %q", s)
		}
		return net.JoinHostPort(host, port), nil
	}
	host := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if host == "" || strings.ContainsAny(host, "[]") {
		return "", fmt.Errorf("invalid upstream address %q", s)
	}
	return net.JoinHostPort(host, "53"), nil
}

// Close closes all pooled connections of the current groups.
func (f *Forwarder) Close() {
	f.setMu.Lock()
	defer f.setMu.Unlock()
	f.routes.Load().closePools()
}

// Collectors returns the forwarder's Prometheus collectors.
func (f *Forwarder) Collectors() []prometheus.Collector { return f.metrics.collectors() }

// Groups returns the current upstream groups in configuration order.
func (f *Forwarder) Groups() []*Group { return f.routes.Load().groups }

// LastSuccess returns when an upstream last answered, or the zero time.
func (f *Forwarder) LastSuccess() time.Time {
	n := f.lastSuccess.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Route returns the group serving name: the one with the longest zone that is
// name or a parent of it, or nil.
func (f *Forwarder) Route(name string) *Group { return f.routes.Load().route(name) }

// Resolve sends q to the group serving its name and returns the answer.
func (f *Forwarder) Resolve(ctx context.Context, q dnswire.Question) (*dns.Msg, error) {
	rt := f.acquireRoutes()
	defer rt.release()
	g := rt.route(q.Name)
	if g == nil {
		return nil, fmt.Errorf("%w %q", ErrNoRoute, q.Name)
	}
	return g.Resolve(ctx, q)
}

// acquire takes a slot of the in-flight bound without waiting.
func (f *Forwarder) acquire() bool {
	select {
	case f.sem <- struct{}{}:
		return true
	default:
		f.metrics.limited.Inc()
		return false
	}
}

func (f *Forwarder) release() { <-f.sem }

// Group is a set of upstreams serving the same zones.
type Group struct {
	name      string
	zones     []string
	proto     Protocol
	options   []dns.EDNS0
	upstreams []*Upstream
	next      atomic.Uint32 // round-robin start
}

// Name returns the group's name.
func (g *Group) Name() string { return g.name }

// Zones returns the zones routed to the group, lower-case and fully qualified.
func (g *Group) Zones() []string { return g.zones }

// Upstreams returns the group's upstreams.
func (g *Group) Upstreams() []*Upstream { return g.upstreams }

// Protocol returns how the group talks to its upstreams.
func (g *Group) Protocol() Protocol { return g.proto }

// Resolve asks the group's upstreams for q, starting round-robin among the
// healthy ones and failing over to the next on an error or timeout. Upstreams
// that failed recently are tried last.
func (g *Group) Resolve(ctx context.Context, q dnswire.Question) (*dns.Msg, error) {
	f := g.upstreams[0].f
	if !f.acquire() {
		return nil, ErrLimitExceeded
	}
	defer f.release()

	n := len(g.upstreams)
	start := int(g.next.Add(1)-1) % n
	now := f.clock.Now().UnixNano()
	var errs []error
	for pass := 0; pass < 2; pass++ {
		for i := 0; i < n; i++ {
			u := g.upstreams[(start+i)%n]
			if down := u.downUntil.Load() > now; down != (pass == 1) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return nil, errors.Join(append(errs, err)...)
			}
			m, err := u.Exchange(ctx, q)
			if err == nil {
				return m, nil
			}
			errs = append(errs, err)
		}
	}
	return nil, fmt.Errorf("all %d upstreams of group %q failed: %w", n, g.name, errors.Join(errs...))
}
