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
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"
)

// Options configure a Proxy; cmd/signet-ingress maps its flags onto them.
type Options struct {
	// HTTPAddrs and HTTPSAddrs are the listen addresses ("host:port";
	// IPv4 and IPv6). Either list may be empty, not both.
	HTTPAddrs  []string
	HTTPSAddrs []string
	// TrustForwardedHeaders appends to X-Forwarded-For and keeps the
	// client's X-Forwarded-Proto/-Host instead of replacing them.
	TrustForwardedHeaders bool
	// Timeouts (zero: defaults).
	ReadHeaderTimeout   time.Duration // client request head (default 10s)
	IdleTimeout         time.Duration // idle client keep-alive connection (default 60s)
	DialTimeout         time.Duration // connecting to an endpoint (default 5s)
	ResponseTimeout     time.Duration // backend response head after the request was sent, and each later read of the backend (default 60s)
	UpstreamIdleTimeout time.Duration // idle pooled backend connection (default 60s)
	// Registerer receives the proxy's metrics (nil: not registered).
	Registerer prometheus.Registerer

	// WriteTimeout bounds one write to a client or a backend that makes no
	// progress (default 60s). Reads of a request body are bounded by
	// IdleTimeout each.
	WriteTimeout time.Duration
	// ShutdownTimeout bounds how long Run waits for in-flight requests
	// once its context is done (default 15s); connections still open then
	// are closed.
	ShutdownTimeout time.Duration
	// MaxRequestHeaderBytes bounds a request head (request line and
	// fields); larger heads are refused with 431 (default 32 KiB).
	MaxRequestHeaderBytes int
	// MaxIdleConnsPerEndpoint bounds the idle keep-alive connections kept
	// per endpoint (default 128).
	MaxIdleConnsPerEndpoint int
}

// withDefaults returns opts with zero values replaced by defaults.
func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ReadHeaderTimeout, 10*time.Second)
	def(&o.IdleTimeout, 60*time.Second)
	def(&o.DialTimeout, 5*time.Second)
	def(&o.ResponseTimeout, 60*time.Second)
	def(&o.UpstreamIdleTimeout, 60*time.Second)
	def(&o.WriteTimeout, 60*time.Second)
	def(&o.ShutdownTimeout, 15*time.Second)
	if o.MaxRequestHeaderBytes <= 0 {
		o.MaxRequestHeaderBytes = 32 << 10
	}
	o.MaxRequestHeaderBytes = max(o.MaxRequestHeaderBytes, clientBufSize)
	if o.MaxIdleConnsPerEndpoint <= 0 {
		o.MaxIdleConnsPerEndpoint = 128
	}
	return o
}

// Proxy is the data plane: listeners, the live Config, backend connection
// pools and health checks.
type Proxy struct {
	opts Options

	// live is the Config requests start with; Update swaps it.
	live     atomic.Pointer[liveConfig]
	updateMu sync.Mutex

	metrics    *metrics
	unmatched  *backendMetrics
	pools      poolSet
	health     healthManager
	rr         rrSet // guarded by updateMu
	selfSigned *selfSigner
	dates      dateCache
	dialer     net.Dialer

	// running is set by Run; bound once its listeners are; draining when
	// its context is done.
	running  atomic.Bool
	bound    atomic.Bool
	draining atomic.Bool

	conns   connTracker
	addrsMu sync.Mutex
	addrs   []net.Addr
	h2      *http.Server
	h2conns *chanListener

	// clientConns recycles per-connection state, scratch per-request
	// state (buffers, parsed fields).
	clientConns sync.Pool
	scratch     sync.Pool
}

// New validates opts and returns a Proxy that serves nothing until Run.
func New(opts Options) (*Proxy, error) {
	if len(opts.HTTPAddrs) == 0 && len(opts.HTTPSAddrs) == 0 {
		return nil, errors.New("no listen address: HTTPAddrs and HTTPSAddrs are both empty")
	}
	for _, a := range append(append([]string(nil), opts.HTTPAddrs...), opts.HTTPSAddrs...) {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("listen address %q: %w", a, err)
		}
	}
	opts = opts.withDefaults()
	ss, err := newSelfSigner()
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		opts:       opts,
		selfSigned: ss,
		dialer:     net.Dialer{Timeout: opts.DialTimeout},
		pools:      poolSet{max: opts.MaxIdleConnsPerEndpoint, idleTimeout: opts.UpstreamIdleTimeout},
	}
	p.metrics = newMetrics(p)
	p.unmatched = p.metrics.forBackend("", "", map[[2]string]bool{})
	if opts.Registerer != nil {
		for _, c := range p.metrics.collectors(p) {
			if err := opts.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("registering metrics: %w", err)
			}
		}
	}
	p.h2conns = newChanListener()
	p.h2 = p.newH2Server()
	return p, nil
}

// Update publishes cfg atomically: requests that start after Update
// returns use it. Health checks are started and stopped to match it;
// health state, connection pools and round-robin positions carry over for
// what cfg keeps (see ServiceBackend).
func (p *Proxy) Update(cfg *Config) {
	if cfg == nil {
		cfg = &Config{}
	}
	p.updateMu.Lock()
	defer p.updateMu.Unlock()
	want := map[healthKey]bool{}
	lc := p.buildLive(cfg, want)
	p.live.Store(lc)
	now := time.Now()

	// Clean up what the new Config no longer uses. Requests still running
	// on the old one keep their endpoints; only idle connections go.
	p.health.sync(want)
	p.rr.retain(lc.services)
	addrs := map[string]bool{}
	for _, b := range lc.services {
		for _, ep := range b.endpoints {
			addrs[ep.hostport] = true
		}
	}
	p.pools.retain(addrs)

	p.metrics.generation.Set(float64(cfg.Generation))
	if !cfg.Changed.IsZero() {
		p.metrics.changeToLive.Observe(now.Sub(cfg.Changed).Seconds())
	}
	klog.V(2).InfoS("Applied proxy configuration", "generation", cfg.Generation,
		"routes", len(lc.backends), "serviceBackends", len(lc.services), "healthChecks", len(want))
}

// Ready reports whether the listeners are bound and a Config was applied.
func (p *Proxy) Ready() bool {
	return p.bound.Load() && !p.draining.Load() && p.live.Load() != nil
}
