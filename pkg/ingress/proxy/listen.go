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
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"k8s.io/klog/v2"
)

// Run binds the listeners and serves until ctx is done, then stops
// accepting and drains in-flight requests (bounded). It returns an error
// when a listener cannot be bound.
//
// Draining: listeners close at once; idle keep-alive connections are
// closed, requests in flight finish and their responses say
// "Connection: close"; HTTP/2 connections get GOAWAY. After
// ShutdownTimeout what is left is closed. Health checks run while Run
// does. Run may be called only once.
func (p *Proxy) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("the proxy is already running or has run")
	}
	lns, infos, err := p.listen(ctx)
	if err != nil {
		return err
	}
	tlsConf := p.tlsConfig()

	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	p.health.start(bg)
	var bgWG sync.WaitGroup
	bgWG.Go(func() { p.sweepPools(bg) })
	h2Done := make(chan struct{})
	go func() {
		defer close(h2Done)
		p.h2.Serve(p.h2conns)
	}()

	var acceptWG sync.WaitGroup
	for i, ln := range lns {
		info := infos[i]
		acceptWG.Go(func() { p.acceptLoop(ln, info, tlsConf) })
		klog.InfoS("Listening", "address", ln.Addr().String(), "proto", info.proto)
	}
	p.bound.Store(true)

	<-ctx.Done()
	klog.InfoS("Shutting down the proxy: draining connections", "timeout", p.opts.ShutdownTimeout)
	p.draining.Store(true)
	for _, ln := range lns {
		ln.Close()
	}
	acceptWG.Wait()
	p.drain()
	<-h2Done
	stopBG()
	p.health.stop()
	bgWG.Wait()
	p.pools.closeIdle()
	p.bound.Store(false)
	return nil
}

// listen binds every listen address.
func (p *Proxy) listen(ctx context.Context) ([]net.Listener, []*listenerInfo, error) {
	var lc net.ListenConfig
	var lns []net.Listener
	var infos []*listenerInfo
	bind := func(addr string, tls bool) error {
		ln, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("listening on %s: %w", addr, err)
		}
		info := &listenerInfo{tls: tls, proto: "http"}
		if tls {
			info.proto = "https"
		}
		if ap, err := netipAddrPort(ln.Addr()); err == nil {
			info.port = strconv.Itoa(int(ap.Port()))
		}
		lns = append(lns, ln)
		infos = append(infos, info)
		return nil
	}
	for _, a := range p.opts.HTTPAddrs {
		if err := bind(a, false); err != nil {
			closeAll(lns)
			return nil, nil, err
		}
	}
	for _, a := range p.opts.HTTPSAddrs {
		if err := bind(a, true); err != nil {
			closeAll(lns)
			return nil, nil, err
		}
	}
	p.addrsMu.Lock()
	for _, ln := range lns {
		p.addrs = append(p.addrs, ln.Addr())
	}
	p.addrsMu.Unlock()
	return lns, infos, nil
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}

// Addrs returns the addresses the listeners are bound to (useful with
// port 0), HTTP first, in the order of Options; empty before Run binds.
func (p *Proxy) Addrs() []net.Addr {
	p.addrsMu.Lock()
	defer p.addrsMu.Unlock()
	return append([]net.Addr(nil), p.addrs...)
}

// acceptLoop accepts connections until ln is closed.
func (p *Proxy) acceptLoop(ln net.Listener, info *listenerInfo, tlsConf *tls.Config) {
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if p.draining.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off, as
			// net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			klog.ErrorS(err, "Accepting a connection failed", "address", ln.Addr().String(), "retryIn", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		p.conns.wg.Add(1)
		go p.serveConn(c, info, tlsConf)
	}
}

// serveConn serves one accepted connection: TLS handshake (HTTP/2 by
// ALPN goes to the HTTP/2 server), then HTTP/1.x on the fast path.
func (p *Proxy) serveConn(c net.Conn, info *listenerInfo, tlsConf *tls.Config) {
	defer p.conns.wg.Done()
	if info.tls {
		tc := tls.Server(c, tlsConf)
		if !p.conns.addRaw(c) {
			c.Close()
			return
		}
		tc.SetDeadline(time.Now().Add(p.opts.ReadHeaderTimeout))
		err := tc.Handshake()
		p.conns.removeRaw(c)
		if err != nil {
			if v := klog.V(4); v.Enabled() {
				v.InfoS("TLS handshake failed", "client", c.RemoteAddr().String(), "err", err)
			}
			c.Close()
			return
		}
		tc.SetDeadline(time.Time{})
		if tc.ConnectionState().NegotiatedProtocol == "h2" {
			if !p.h2conns.hand(tc) {
				tc.Close()
			}
			return
		}
		c = tc
	}
	cc := p.newClientConn(c, info)
	if !p.conns.add(cc) {
		c.Close()
		p.releaseClientConn(cc)
		return
	}
	cc.serve()
	p.conns.remove(cc)
	p.releaseClientConn(cc)
}

// handOffH2C gives a cleartext connection that started with the HTTP/2
// preface to the HTTP/2 server, with the bytes already read.
func (p *Proxy) handOffH2C(c net.Conn, buffered []byte) bool {
	pc := &prefixConn{Conn: c, prefix: append([]byte(nil), buffered...)}
	if !p.h2conns.hand(pc) {
		c.Close()
	}
	return true
}

// prefixConn is a connection whose first bytes were already read.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(b, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(b)
}

// connTracker knows the open HTTP/1.x connections, for shutdown.
type connTracker struct {
	wg sync.WaitGroup

	mu     sync.Mutex
	closed bool
	conns  map[*clientConn]struct{}
	// raw are connections in their TLS handshake.
	raw map[net.Conn]struct{}
}

func (t *connTracker) add(c *clientConn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	if t.conns == nil {
		t.conns = map[*clientConn]struct{}{}
	}
	t.conns[c] = struct{}{}
	return true
}

func (t *connTracker) remove(c *clientConn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

func (t *connTracker) addRaw(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	if t.raw == nil {
		t.raw = map[net.Conn]struct{}{}
	}
	t.raw[c] = struct{}{}
	return true
}

func (t *connTracker) removeRaw(c net.Conn) {
	t.mu.Lock()
	delete(t.raw, c)
	t.mu.Unlock()
}

// closeIdle wakes the connections waiting for a request so that they
// close; active ones close after their response.
func (t *connTracker) closeIdle(force bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	past := time.Unix(1, 0)
	for c := range t.conns {
		if force {
			c.conn.Close()
			if u := c.upstream.Load(); u != nil {
				u.close()
			}
		} else if c.state.CompareAndSwap(stateIdle, stateClosing) {
			c.conn.SetReadDeadline(past)
		}
	}
	for c := range t.raw {
		c.Close()
	}
}

// drain waits, at most ShutdownTimeout, for the connections to finish.
func (p *Proxy) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.ShutdownTimeout)
	defer cancel()
	p.conns.closeIdle(false)
	h2err := make(chan error, 1)
	go func() { h2err <- p.h2.Shutdown(ctx) }()
	done := make(chan struct{})
	go func() {
		p.conns.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		klog.InfoS("Drain timeout: closing the remaining connections")
		p.conns.closeIdle(true)
		<-done
	}
	if err := <-h2err; err != nil {
		p.h2.Close()
	}
}

// sweepPools closes expired idle backend connections.
func (p *Proxy) sweepPools(ctx context.Context) {
	every := min(max(p.opts.UpstreamIdleTimeout/4, 100*time.Millisecond), 5*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			p.pools.sweep(now)
		}
	}
}

// netipAddrPort returns the address of a TCP net.Addr.
func netipAddrPort(a net.Addr) (netip.AddrPort, error) {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort(), nil
	}
	return netip.ParseAddrPort(a.String())
}

// chanListener is a net.Listener fed by hand: the HTTP/2 server accepts
// the connections the proxy's own listeners decided are HTTP/2.
type chanListener struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newChanListener() *chanListener {
	return &chanListener{ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{} }

// hand gives c to the server; false when it is shutting down.
func (l *chanListener) hand(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}
