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
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"k8s.io/klog/v2"
)

// Defaults of ServerConfig.
const (
	DefaultMaxTCPConns    = 1000
	DefaultTCPIdleTimeout = 8 * time.Second
	DefaultIOTimeout      = 2 * time.Second
	// udpReadSize is the largest UDP query read.
	udpReadSize = 4096
	// portAttempts bounds the tries to find a port free for both UDP and
	// TCP when a listen address has port 0.
	portAttempts = 20
)

// ServerConfig configures a Server. The zero value of a field means its
// default; ListenAddrs is required.
type ServerConfig struct {
	// ListenAddrs are the host:port pairs served over both UDP and TCP. An
	// empty host means every address of both families; port 0 picks a free
	// port, the same for UDP and TCP (see Server.Addrs).
	ListenAddrs []string
	// MaxTCPConns bounds the open TCP connections per listen address; more
	// are closed on accept. Default 1000.
	MaxTCPConns int
	// TCPIdleTimeout closes a TCP connection idle this long. Default 8s;
	// node-cache keeps its connections idle for at most 5s.
	TCPIdleTimeout time.Duration
	// IOTimeout bounds reading one query and writing one answer. Default 2s.
	IOTimeout time.Duration
}

// WithDefaults returns c with zero fields set to their defaults.
func (c ServerConfig) WithDefaults() ServerConfig {
	if c.MaxTCPConns == 0 {
		c.MaxTCPConns = DefaultMaxTCPConns
	}
	if c.TCPIdleTimeout == 0 {
		c.TCPIdleTimeout = DefaultTCPIdleTimeout
	}
	if c.IOTimeout == 0 {
		c.IOTimeout = DefaultIOTimeout
	}
	return c
}

// Validate reports what is wrong with c, after defaulting.
func (c ServerConfig) Validate() error {
	var errs []error
	if len(c.ListenAddrs) == 0 {
		errs = append(errs, errors.New("at least one listen address is required"))
	}
	for _, a := range c.ListenAddrs {
		if err := ValidateListenAddr(a); err != nil {
			errs = append(errs, err)
		}
	}
	if c.MaxTCPConns < 1 {
		errs = append(errs, fmt.Errorf("max TCP connections must be positive, got %d", c.MaxTCPConns))
	}
	if c.TCPIdleTimeout < 0 || c.IOTimeout < 0 {
		errs = append(errs, errors.New("timeouts must not be negative"))
	}
	return errors.Join(errs...)
}

// ValidateListenAddr checks a listen address: IP:port, [IPv6]:port or :port.
func ValidateListenAddr(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", s, err)
	}
	if host == "" {
		host = "::"
	}
	if _, err := netip.ParseAddrPort(net.JoinHostPort(host, port)); err != nil {
		return fmt.Errorf("listen address %q must be IP:port, [IPv6]:port or :port: %w", s, err)
	}
	return nil
}

// Server serves a dns.Handler over UDP and TCP on every listen address.
type Server struct {
	cfg     ServerConfig
	handler dns.Handler
	metrics *Metrics

	mu      sync.Mutex
	servers []*dns.Server
	addrs   []string
	done    []chan struct{}
	serving atomic.Bool
}

// NewServer returns a server for handler; metrics may be nil.
func NewServer(cfg ServerConfig, handler dns.Handler, metrics *Metrics) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if metrics == nil {
		metrics = NewMetrics(nil, nil)
	}
	return &Server{cfg: cfg, handler: handler, metrics: metrics}, nil
}

// Start binds every listen address, UDP and TCP, and serves them until
// Shutdown. If one cannot be bound, nothing is served.
func (s *Server) Start(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	type bound struct {
		pc net.PacketConn
		ln net.Listener
	}
	var all []bound
	for _, addr := range s.cfg.ListenAddrs {
		pc, ln, err := listenBoth(addr)
		if err != nil {
			for _, b := range all {
				_ = b.pc.Close()
				_ = b.ln.Close()
			}
			return err
		}
		all = append(all, bound{pc, ln})
	}
	for _, b := range all {
		s.addrs = append(s.addrs, b.ln.Addr().String())
		s.launch(&dns.Server{PacketConn: b.pc, UDPSize: udpReadSize})
		s.launch(&dns.Server{Listener: &limitListener{Listener: b.ln, slots: make(chan struct{}, s.cfg.MaxTCPConns), rejected: s.metrics.tcpRejected.Inc}})
	}
	s.serving.Store(true)
	logger.Info("Serving DNS", "addresses", s.addrs)
	return nil
}

// launch serves srv and waits until it has started, so that Shutdown
// always finds it running.
func (s *Server) launch(srv *dns.Server) {
	srv.Handler = s.handler
	srv.ReadTimeout = s.cfg.IOTimeout
	srv.WriteTimeout = s.cfg.IOTimeout
	idle := s.cfg.TCPIdleTimeout
	srv.IdleTimeout = func() time.Duration { return idle }
	srv.MaxTCPQueries = -1 // persistent connections, as node-cache keeps them
	srv.MsgAcceptFunc = s.accept
	srv.MsgInvalidFunc = s.invalid
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ActivateAndServe()
	}()
	<-started
	s.servers = append(s.servers, srv)
	s.done = append(s.done, done)
}

// accept is the server's first check of a message header: answer queries
// with one question (FORMERR otherwise, NOTIMP for other opcodes), drop
// responses. Rejections are counted here, as the handler never sees them.
func (s *Server) accept(h dns.Header) dns.MsgAcceptAction {
	const qr = 1 << 15
	switch {
	case h.Bits&qr != 0:
		s.metrics.dropped(dropResponse)
		return dns.MsgIgnore
	case int(h.Bits>>11)&0xF != dns.OpcodeQuery:
		s.metrics.response(dns.RcodeNotImplemented)
		return dns.MsgRejectNotImplemented
	case h.Qdcount != 1 || h.Ancount > 0 || h.Nscount > 0 || h.Arcount > 2:
		s.metrics.response(dns.RcodeFormatError)
		return dns.MsgReject
	}
	return dns.MsgAccept
}

// invalid counts a message that could not be parsed: without a full header
// it is dropped, otherwise the server answers FORMERR.
func (s *Server) invalid(m []byte, _ error) {
	if len(m) < 12 {
		s.metrics.dropped(dropMalformed)
		return
	}
	s.metrics.response(dns.RcodeFormatError)
}

// Addrs returns the bound addresses (TCP and UDP share the port), in the
// order of ListenAddrs.
func (s *Server) Addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.addrs...)
}

// Serving reports whether the server is serving DNS.
func (s *Server) Serving() bool { return s.serving.Load() }

// Shutdown stops accepting queries, waits for those being answered until
// ctx is done, and closes every socket.
func (s *Server) Shutdown(ctx context.Context) error {
	s.serving.Store(false)
	s.mu.Lock()
	servers, done := s.servers, s.done
	s.servers, s.done = nil, nil
	s.mu.Unlock()
	var errs []error
	for _, srv := range servers {
		if err := srv.ShutdownContext(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	for _, d := range done {
		select {
		case <-d:
		case <-ctx.Done():
			return errors.Join(append(errs, ctx.Err())...)
		}
	}
	return errors.Join(errs...)
}

// HealthHandler serves health and readiness over HTTP:
//
//	/health, /healthz  200 while DNS is served, else 503
//	/ready, /readyz    200 while DNS is served and ready() (the informers
//	                   have synced), else 503
func (s *Server) HealthHandler(ready func() bool) http.Handler {
	mux := http.NewServeMux()
	health := func(w http.ResponseWriter, _ *http.Request) {
		if !s.Serving() {
			http.Error(w, "not serving", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	}
	readiness := func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case !s.Serving():
			http.Error(w, "not serving", http.StatusServiceUnavailable)
		case !ready():
			http.Error(w, "informers not synced", http.StatusServiceUnavailable)
		default:
			fmt.Fprintln(w, "ok")
		}
	}
	mux.HandleFunc("/health", health)
	mux.HandleFunc("/healthz", health)
	mux.HandleFunc("/ready", readiness)
	mux.HandleFunc("/readyz", readiness)
	return mux
}

// listenBoth binds addr over UDP and TCP on the same port; with port 0 it
// retries until it finds a port free for both.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	if err := ValidateListenAddr(addr); err != nil {
		return nil, nil, err
	}
	host, port, _ := net.SplitHostPort(addr)
	var lastErr error
	for range portAttempts {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("listening on TCP %s: %w", addr, err)
		}
		udpAddr := addr
		if port == "0" {
			udpAddr = net.JoinHostPort(host, fmt.Sprint(ln.Addr().(*net.TCPAddr).Port))
		}
		pc, err := net.ListenPacket("udp", udpAddr)
		if err == nil {
			return pc, ln, nil
		}
		_ = ln.Close()
		lastErr = fmt.Errorf("listening on UDP %s: %w", udpAddr, err)
		if port != "0" {
			break
		}
	}
	return nil, nil, lastErr
}

// limitListener closes connections accepted beyond its slots.
type limitListener struct {
	net.Listener
	slots    chan struct{}
	rejected func()
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
		default:
			l.rejected()
			_ = c.Close()
		}
	}
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
