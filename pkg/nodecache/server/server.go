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

// Package server is node-cache's DNS server: it listens on UDP and TCP,
// parses queries, answers cache hits from packed responses without
// allocating, and hands misses to the cache and forwarder chain
// (server -> cache -> forward). It also serves health and readiness and
// refuses to start on a forwarding loop. See README.md for its options.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"signet.dev/signet/pkg/nodecache/cache"
	"signet.dev/signet/pkg/nodecache/dnswire"
	"signet.dev/signet/pkg/nodecache/forward"
)

// ErrForwardingLoop means queries sent upstream would come back to this
// server.
var ErrForwardingLoop = errors.New("forwarding loop detected")

// Option customises a Server.
type Option func(*Server)

// WithClock sets the clock used for TTLs, readiness and upstream health.
func WithClock(c clock.WithTicker) Option { return func(s *Server) { s.clock = c } }

// Server is a node-local caching DNS server.
type Server struct {
	cfg     Config
	clock   clock.WithTicker
	fwd     *forward.Forwarder
	cache   *cache.Cache
	metrics *metrics
	listen  []netip.AddrPort

	sem  chan struct{} // bounds queries being resolved
	bufs sync.Pool     // *[]byte of dnswire.MaxMsgSize capacity

	mu       sync.Mutex
	started  bool
	udp      []*net.UDPConn
	tcp      []net.Listener
	tcpConns map[net.Conn]struct{}
	addrs    []string
	ctx      context.Context // serving context, cancelled by Shutdown
	cancel   context.CancelFunc
	wg       sync.WaitGroup // serving goroutines
	serving  atomic.Bool
	stopping bool // guarded by mu
	// readyCtx bounds the readiness prober; stop cancels it first.
	readyCtx    context.Context
	readyCancel context.CancelFunc

	probes   atomic.Pointer[map[string]string] // probe name (lower-case wire) -> upstream
	loopedTo atomic.Pointer[string]            // upstream whose probe came back

	// reloadMu serialises Reload; it guards groups and the reloadable
	// fields of cfg (see Reload), which nothing else writes.
	reloadMu sync.Mutex
	groups   []forward.GroupConfig // the forwarder's current groups
}

// New builds a server from cfg and registers its metrics on reg (skipped when
// reg is nil). It reads cfg.ResolvConf and fails if any upstream is one of
// the listen addresses.
func New(cfg Config, reg prometheus.Registerer, opts ...Option) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid node-cache configuration: %w", err)
	}
	s := &Server{
		cfg:      cfg,
		clock:    clock.RealClock{},
		sem:      make(chan struct{}, cfg.MaxInFlight),
		tcpConns: map[net.Conn]struct{}{},
	}
	s.bufs.New = func() any { b := make([]byte, 0, dnswire.MaxMsgSize+2); return &b }
	for _, o := range opts {
		o(s)
	}
	for _, a := range cfg.ListenAddrs {
		ap, _ := parseListenAddr(a) // validated
		s.listen = append(s.listen, ap)
	}
	groups, err := upstreamGroups(cfg)
	if err != nil {
		return nil, err
	}
	if err := checkStaticLoop(s.listen, groups); err != nil {
		return nil, err
	}
	s.groups = groups
	if s.fwd, err = forward.New(cfg.Forward, groups, forward.WithClock(s.clock)); err != nil {
		return nil, err
	}
	if s.cache, err = cache.New(cfg.Cache, s.fwd, cache.WithClock(s.clock)); err != nil {
		s.fwd.Close()
		return nil, err
	}
	s.metrics = newMetrics(s)
	if reg != nil {
		var collectors []prometheus.Collector
		collectors = append(collectors, s.metrics.collectors()...)
		collectors = append(collectors, s.cache.Collectors()...)
		collectors = append(collectors, s.fwd.Collectors()...)
		for _, c := range collectors {
			if err := reg.Register(c); err != nil {
				s.cache.Close()
				s.fwd.Close()
				return nil, fmt.Errorf("registering node-cache metrics: %w", err)
			}
		}
	}
	return s, nil
}

// Forwarder returns the server's forwarder, for inspection.
func (s *Server) Forwarder() *forward.Forwarder { return s.fwd }

// Cache returns the server's cache, for inspection.
func (s *Server) Cache() *cache.Cache { return s.cache }

// Start binds every listen address over UDP and TCP, starts serving and, unless
// disabled, probes each upstream for a forwarding loop. It returns once the
// server is serving, or with an error (ErrForwardingLoop for a loop) after
// releasing what it bound. Cancelling ctx later does not stop the server; call
// Shutdown. The server keeps ctx's values, such as its logger.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("node-cache server already started")
	}
	s.started = true
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.readyCtx, s.readyCancel = context.WithCancel(s.ctx)
	for _, ap := range s.listen {
		pc, l, err := listenPair(ctx, ap)
		if err != nil {
			s.mu.Unlock()
			s.stop()
			return err
		}
		s.udp = append(s.udp, pc)
		s.tcp = append(s.tcp, l)
		s.addrs = append(s.addrs, l.Addr().String())
	}
	for _, pc := range s.udp {
		for range s.cfg.UDPReaders {
			s.wg.Add(1)
			go s.serveUDP(pc)
		}
	}
	for _, l := range s.tcp {
		s.wg.Add(1)
		go s.serveTCP(l)
	}
	s.mu.Unlock()
	logger := klog.FromContext(ctx)
	logger.Info("Serving DNS", "addresses", s.addrs)

	if !s.cfg.DisableLoopProbe {
		if err := s.probeLoops(ctx); err != nil {
			s.stop()
			return err
		}
	}
	s.serving.Store(true)
	s.wg.Add(1)
	go s.keepReady()
	return nil
}

// Addrs returns the bound listen addresses, once started.
func (s *Server) Addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.addrs...)
}

// Shutdown stops accepting queries, lets queries being resolved finish until
// ctx is done, then closes every connection and upstream connection.
func (s *Server) Shutdown(ctx context.Context) error {
	s.serving.Store(false)
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		s.cache.Close()
		s.fwd.Close()
		return nil
	}
	done := make(chan struct{})
	go func() {
		s.stop()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		// Abort resolutions: waiting clients, then upstream fetches.
		s.cancel()
		s.cache.Close()
		s.mu.Lock()
		for c := range s.tcpConns {
			_ = c.Close()
		}
		s.mu.Unlock()
		<-done
	}
	klog.FromContext(ctx).Info("Stopped serving DNS", "addresses", s.Addrs())
	return err
}

// stop closes the listeners, drains client TCP connections, waits for the
// serving goroutines and closes the cache and forwarder.
func (s *Server) stop() {
	s.mu.Lock()
	s.stopping = true
	for _, pc := range s.udp {
		_ = pc.Close()
	}
	for _, l := range s.tcp {
		_ = l.Close()
	}
	for c := range s.tcpConns {
		// Stop reading; queries in flight still get their answers.
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.CloseRead()
		} else {
			_ = c.SetReadDeadline(aLongTimeAgo)
		}
	}
	s.mu.Unlock()
	if s.cancel != nil {
		defer s.cancel()
	}
	if s.readyCancel != nil {
		s.readyCancel()
	}
	s.wg.Wait()
	s.cache.Close()
	s.fwd.Close()
}

// udpReadBuffer is the receive buffer asked for on each UDP socket.
const udpReadBuffer = 4 << 20

// listenPair binds UDP and TCP on ap. With port 0 the kernel picks the UDP
// port and TCP binds the same one, retrying if it is taken.
func listenPair(ctx context.Context, ap netip.AddrPort) (*net.UDPConn, net.Listener, error) {
	var lc net.ListenConfig
	host := ap.Addr().String()
	for attempt := 0; ; attempt++ {
		pc, err := lc.ListenPacket(ctx, "udp", net.JoinHostPort(host, strconv.Itoa(int(ap.Port()))))
		if err != nil {
			return nil, nil, fmt.Errorf("listening on udp %s: %w", ap, err)
		}
		udp := pc.(*net.UDPConn)
		// A burst of queries larger than the default receive buffer
		// (about 200 KiB, some 180 queries) would be dropped, and each
		// dropped query costs its client a 5-second retry. The kernel caps
		// the request at net.core.rmem_max; a smaller buffer is no error.
		_ = udp.SetReadBuffer(udpReadBuffer)
		port := udp.LocalAddr().(*net.UDPAddr).Port
		l, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			return udp, l, nil
		}
		_ = udp.Close()
		if ap.Port() != 0 || attempt >= 10 || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("listening on tcp %s: %w", ap, err)
		}
	}
}

// action is what to do with a query after the fast path.
type action int

const (
	actDrop    action = iota // no answer
	actReply                 // the answer is ready
	actResolve               // resolve on the slow path
)

// handleFast parses the query msg into q and appends its answer to dst when
// it needs no upstream: errors, and fresh cache hits. It does not allocate.
func (s *Server) handleFast(proto protocol, msg []byte, q *dnswire.Query, dst []byte) ([]byte, action) {
	rcode := -1
	switch dnswire.ParseQuery(msg, q) {
	case nil:
	case dnswire.ErrShort:
		s.metrics.dropped[dropMalformed].Inc()
		return dst, actDrop
	case dnswire.ErrNotQuery:
		s.metrics.dropped[dropResponse].Inc()
		return dst, actDrop
	case dnswire.ErrNotImplemented:
		rcode = dns.RcodeNotImplemented
	default:
		rcode = dns.RcodeFormatError
	}
	s.metrics.request(proto, q)
	switch {
	case rcode >= 0:
	case q.EDNS && q.Version != 0:
		rcode = dns.RcodeBadVers // RFC 6891 section 6.1.3
	case q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR:
		rcode = dns.RcodeRefused // no zone transfers through a cache
	default:
		lim := dnswire.LimitsFor(q, proto == protoTCP, s.cfg.MaxUDPSize)
		resp, ok := s.cache.Lookup(dst, msg, q, lim)
		if !ok {
			return dst, actResolve
		}
		s.metrics.response(resp[len(dst):])
		return resp, actReply
	}
	s.metrics.rcode(rcode)
	return dnswire.AppendError(dst, msg, q, rcode, s.cfg.MaxUDPSize), actReply
}

// resolve appends the answer to a query the fast path could not answer.
func (s *Server) resolve(ctx context.Context, proto protocol, msg []byte, q *dnswire.Query, dst []byte) []byte {
	if s.isProbe(msg, q) {
		s.metrics.rcode(dns.RcodeRefused)
		return dnswire.AppendError(dst, msg, q, dns.RcodeRefused, s.cfg.MaxUDPSize)
	}
	lim := dnswire.LimitsFor(q, proto == protoTCP, s.cfg.MaxUDPSize)
	resp := s.cache.Resolve(ctx, dst, msg, q, lim)
	s.metrics.response(resp[len(dst):])
	return resp
}

// serve answers one query synchronously; used by tests and the fuzz target.
func (s *Server) serve(ctx context.Context, proto protocol, msg, dst []byte) ([]byte, bool) {
	var q dnswire.Query
	resp, act := s.handleFast(proto, msg, &q, dst)
	switch act {
	case actReply:
		return resp, true
	case actResolve:
		return s.resolve(ctx, proto, msg, &q, dst), true
	}
	return dst, false
}

// acquire takes an in-flight slot without waiting.
func (s *Server) acquire() bool {
	select {
	case s.sem <- struct{}{}:
		return true
	default:
		return false
	}
}

func (s *Server) release() { <-s.sem }

// refuse appends REFUSED for a query that found no in-flight slot.
func (s *Server) refuse(msg []byte, q *dnswire.Query, dst []byte) []byte {
	s.metrics.rcode(dns.RcodeRefused)
	s.metrics.overload.Inc()
	return dnswire.AppendError(dst, msg, q, dns.RcodeRefused, s.cfg.MaxUDPSize)
}

func (s *Server) getBuf() *[]byte { return s.bufs.Get().(*[]byte) }

func (s *Server) putBuf(b *[]byte) {
	*b = (*b)[:0]
	s.bufs.Put(b)
}
