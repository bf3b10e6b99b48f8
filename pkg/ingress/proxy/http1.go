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
	"bytes"
	"errors"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"k8s.io/klog/v2"

	"signet.dev/signet/pkg/ingress/routes"
)

// The HTTP/1.x fast path. Each client connection is served by one
// goroutine that reads request heads from its own buffer, parses them in
// place, and writes the backend request and the client response each as
// one write where the message fits. Per-connection state (buffers, parsed
// fields) is recycled through a sync.Pool; serving a request allocates
// nothing.

// clientBufSize is the initial read buffer of a client connection; a
// larger head grows it up to Options.MaxRequestHeaderBytes.
const clientBufSize = 4 << 10

// Connection states, for shutdown: an idle connection (waiting for a
// request) is closed at once, an active one after its response.
const (
	stateIdle int32 = iota
	stateActive
	stateClosing
	stateUpgraded
)

// h2Preface starts every HTTP/2 connection; on a cleartext listener it
// means h2c with prior knowledge.
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// listenerInfo describes the listener a connection came from.
type listenerInfo struct {
	tls bool
	// proto and port are the X-Forwarded-Proto and -Port values.
	proto, port string
}

// clientConn is the state of one HTTP/1.x client connection.
type clientConn struct {
	connIO
	p  *Proxy
	ln *listenerInfo
	// remoteIP is the client's address for X-Forwarded-For.
	remoteIP string
	state    atomic.Int32
	// upstream is the backend connection of the exchange in progress.
	upstream atomic.Pointer[upConn]

	req  request
	resp response
	// sc is the scratch space of the request being served, nil between
	// requests: an idle connection holds only its read buffer.
	sc *scratch
	// headLen is the length of the request head in the read buffer.
	headLen int
	// headConsumed and bodyConsumed track what of the request was taken
	// from the read buffer; the connection can only be kept when all was.
	// bodyStarted: the body is (being) streamed to a backend.
	headConsumed, bodyConsumed, bodyStarted bool

	// refused: the last request was answered with an error and the
	// connection is to be closed.
	refused bool
}

// scratch is what serving one request needs besides the read buffer.
// Connections take it from a pool for each request, so that idle
// keep-alive connections do not hold it.
type scratch struct {
	reqFields  [maxFields]field
	respFields [maxFields]field
	// out gathers what goes to the client, up what goes to the backend.
	out []byte
	up  []byte
}

// takeScratch gives c scratch space until dropScratch.
func (c *clientConn) takeScratch() {
	if c.sc == nil {
		c.sc, _ = c.p.scratch.Get().(*scratch)
		if c.sc == nil {
			c.sc = &scratch{out: make([]byte, 0, 4<<10), up: make([]byte, 0, 4<<10)}
		}
	}
}

// dropScratch returns the scratch space; buffers that grew for an unusual
// message are not kept.
func (c *clientConn) dropScratch() {
	sc := c.sc
	if sc == nil {
		return
	}
	c.sc = nil
	c.req.fields, c.resp.fields = nil, nil
	if cap(sc.out) > 64<<10 {
		sc.out = make([]byte, 0, 4<<10)
	}
	if cap(sc.up) > 64<<10 {
		sc.up = make([]byte, 0, 4<<10)
	}
	c.p.scratch.Put(sc)
}

// newClientConn takes recycled state from the pool for conn.
func (p *Proxy) newClientConn(conn net.Conn, ln *listenerInfo) *clientConn {
	c, _ := p.clientConns.Get().(*clientConn)
	if c == nil {
		c = &clientConn{}
	}
	c.p, c.ln = p, ln
	c.conn = conn
	c.br.reset(conn, clientBufSize)
	c.readTimeout = p.opts.IdleTimeout
	c.writeTimeout = p.opts.WriteTimeout
	c.rdl, c.wdl = 0, 0
	c.refused = false
	c.remoteIP = ""
	if ap, err := netipAddrPort(conn.RemoteAddr()); err == nil {
		c.remoteIP = ap.Addr().Unmap().String()
	}
	c.state.Store(stateActive)
	return c
}

// release gives the state back to the pool; buffers that grew for an
// unusual message are dropped rather than kept for everyone.
func (p *Proxy) releaseClientConn(c *clientConn) {
	c.dropScratch()
	c.conn, c.br.rd, c.p = nil, nil, nil
	if cap(c.br.buf) > clientBufSize {
		c.br.buf = nil
	}
	c.req, c.resp = request{}, response{}
	p.clientConns.Put(c)
}

// serve serves requests until the connection is to be closed. It returns
// true when the connection turned out to be h2c and was handed to the
// HTTP/2 server (the caller must then leave it open).
func (c *clientConn) serve() (handedOff bool) {
	for first := true; ; first = false {
		ok, h2c := c.readRequest(first)
		if h2c {
			return c.p.handOffH2C(c.conn, c.br.buffered())
		}
		if !ok {
			if c.refused {
				c.closeGracefully()
			} else {
				c.conn.Close() // idle, timed out or closed by the client
			}
			return false
		}
		keep := c.handle()
		c.dropScratch()
		if !keep || c.p.draining.Load() {
			c.closeGracefully()
			return false
		}
	}
}

// readRequest waits for a complete request head and parses it. On a
// malformed head it answers the error itself and returns false.
func (c *clientConn) readRequest(first bool) (ok, h2c bool) {
	br := &c.br
	if br.n() == 0 {
		c.state.Store(stateIdle)
		if c.p.draining.Load() {
			return false, false
		}
		c.readDeadline(time.Now(), c.p.opts.IdleTimeout)
		if c.state.Load() == stateClosing {
			// Shutdown came between the check above and the deadline,
			// which may have replaced the one meant to wake us.
			return false, false
		}
		if err := br.fill(); err != nil {
			return false, false
		}
		if !c.state.CompareAndSwap(stateIdle, stateActive) {
			return false, false // shutting down
		}
	}
	headerDeadline := false
	scanned := 0
	for {
		b := br.buffered()
		if scanned == 0 {
			// RFC 9112 2.2: empty lines before a request line are ignored.
			k := 0
			for k < len(b) && (b[k] == '\r' || b[k] == '\n') {
				k++
			}
			br.discard(k)
			b = br.buffered()
		}
		if first && len(b) > 0 && b[0] == 'P' {
			n := min(len(b), len(h2Preface))
			if string(b[:n]) == h2Preface[:n] {
				if n == len(h2Preface) {
					return false, true
				}
				b = nil // wait for the rest of the preface
			}
		}
		if len(b) > 0 {
			end, s := headEnd(b, scanned)
			scanned = s
			if end > 0 {
				c.takeScratch()
				_, perr := parseRequest(b[:end], &c.req, c.sc.reqFields[:0])
				if perr != nil {
					c.refuse(perr)
					return false, false
				}
				c.headLen = end
				c.headConsumed, c.bodyStarted = false, false
				c.bodyConsumed = !c.req.hasBody()
				return true, false
			}
		}
		if br.full() {
			if err := br.grow(c.p.opts.MaxRequestHeaderBytes); err != nil {
				c.refuse(errHeadTooLarge431)
				return false, false
			}
		}
		if !headerDeadline {
			c.readDeadline(time.Now(), c.p.opts.ReadHeaderTimeout)
			headerDeadline = true
		}
		if err := br.fill(); err != nil {
			if isTimeout(err) && br.n() > 0 {
				c.refuse(errHeadTimeout)
			}
			return false, false
		}
	}
}

var (
	errHeadTooLarge431 = &parseError{431, "request head too large"}
	errHeadTimeout     = &parseError{408, "request head not received in time"}
)

// headEnd returns the length of the head at the start of b (up to and
// including the empty line that ends it), or -1 and the offset from which
// to resume the search once more bytes arrived. Only the new bytes are
// searched, so a head trickling in byte by byte costs linear time.
func headEnd(b []byte, from int) (end, resume int) {
	for i := from; ; i++ {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1, len(b)
		}
		i += j
		if i+1 >= len(b) {
			return -1, i
		}
		switch b[i+1] {
		case '\n':
			return i + 2, 0
		case '\r':
			if i+2 >= len(b) {
				return -1, i
			}
			if b[i+2] == '\n' {
				return i + 3, 0
			}
		}
	}
}

// handle answers one parsed request and reports whether the connection
// stays open for the next.
func (c *clientConn) handle() bool {
	start := time.Now()
	r := &c.req
	lc := c.p.live.Load()
	if lc == nil {
		return c.reply(503, c.p.unmatched, start)
	}
	// The strings alias the read buffer, which does not change while
	// they are used: Match neither keeps them nor lets them escape except
	// in a *PathError, which is only logged here.
	host := unsafeString(r.host.of(r.head))
	target := unsafeString(r.target.of(r.head))
	route, ok, err := lc.routes.Match(host, target)
	switch {
	case err != nil:
		if v := klog.V(4); v.Enabled() {
			v.InfoS("Refusing request path", "client", c.remoteIP, "host", strings.Clone(host), "err", err.Error())
		}
		return c.reply(400, lc.noRoute.m, start)
	case !ok:
		return c.reply(404, lc.noRoute.m, start)
	}
	be := lc.backendFor(route)
	switch be.kind {
	case kindService:
		return c.proxy(be, start)
	case kindStatic:
		return c.serveStatic(be, start, target)
	default:
		if v := klog.V(4); v.Enabled() {
			v.InfoS("Backend unavailable", "ingress", be.ingress, "backend", be.name, "reason", be.reason)
		}
		return c.reply(503, be.m, start)
	}
}

// consumeHead takes the request head out of the read buffer.
func (c *clientConn) consumeHead() {
	if !c.headConsumed {
		c.br.discard(c.headLen)
		c.headConsumed = true
	}
}

// skipBody consumes the request and reports whether the connection can
// serve another one: the body was read, or can be dropped from the buffer
// at no cost. A body still on the wire is not read just to be thrown away;
// the connection is closed instead.
func (c *clientConn) skipBody() bool {
	c.consumeHead()
	if c.bodyConsumed || c.bodyStarted {
		return c.bodyConsumed
	}
	if cl := c.req.contentLength; cl > 0 && int64(c.br.n()) >= cl {
		c.br.discard(int(cl))
		c.bodyConsumed = true
		return true
	}
	return false
}

// appendConnection adds the Connection field the client needs: close
// when the connection ends after this response, keep-alive for an
// HTTP/1.0 client that asked to keep it.
func (c *clientConn) appendConnection(b []byte, keep bool) []byte {
	switch {
	case !keep:
		return append(b, "Connection: close\r\n"...)
	case c.req.minor == 0:
		return append(b, "Connection: keep-alive\r\n"...)
	}
	return b
}

// reply answers the request with a response made by the proxy.
func (c *clientConn) reply(status int, m *backendMetrics, start time.Time) bool {
	keep := c.req.keepAlive() && c.skipBody() && !c.p.draining.Load()
	rep := replyFor(status)
	b := append(c.sc.out[:0], rep.head...)
	b = append(b, c.p.dates.line(start)...)
	b = c.appendConnection(b, keep)
	b = append(b, "\r\n"...)
	if !c.req.isHead() {
		b = append(b, rep.body...)
	}
	c.sc.out = b
	err := c.writeAt(b, start)
	m.observe(status, time.Since(start))
	return keep && err == nil
}

// refuse answers a request whose head could not be parsed; the
// connection is closed after it.
func (c *clientConn) refuse(perr *parseError) {
	if v := klog.V(4); v.Enabled() {
		v.InfoS("Refusing malformed request", "client", c.remoteIP, "status", perr.status, "reason", perr.reason)
	}
	c.refused = true
	c.takeScratch()
	rep := replyFor(perr.status)
	now := time.Now()
	b := append(c.sc.out[:0], rep.head...)
	b = append(b, c.p.dates.line(now)...)
	b = append(b, "Connection: close\r\n\r\n"...)
	b = append(b, rep.body...)
	c.sc.out = b
	c.write(b)
	c.p.unmatched.observe(perr.status, 0)
}

// serveStatic answers from a static (ConfigMap) backend: the key is the
// last element of the normalised path, "index.html" for a directory.
func (c *clientConn) serveStatic(be *backendRT, start time.Time, target string) bool {
	m := c.req.method.of(c.req.head)
	isHead := string(m) == "HEAD"
	if !isHead && string(m) != "GET" {
		return c.reply(405, be.m, start)
	}
	path, err := routes.NormalizePath(target)
	if err != nil { // Match accepted it already
		return c.reply(400, be.m, start)
	}
	key := path[strings.LastIndexByte(path, '/')+1:]
	if key == "" {
		key = "index.html"
	}
	f := be.files[key]
	if f == nil {
		return c.reply(404, be.m, start)
	}
	keep := c.req.keepAlive() && c.skipBody() && !c.p.draining.Load()
	b := append(c.sc.out[:0], f.head...)
	b = append(b, c.p.dates.line(start)...)
	b = c.appendConnection(b, keep)
	b = append(b, "\r\n"...)
	if !isHead {
		b = append(b, f.body...)
	}
	c.sc.out = b
	err = c.writeAt(b, start)
	be.m.observe(200, time.Since(start))
	return keep && err == nil
}

// closeGracefully closes the connection after a final response: it sends
// FIN first and reads what the client may still send for a moment, so
// that unread request bytes do not make the kernel reset the connection
// and destroy the response before the client read it.
func (c *clientConn) closeGracefully() {
	if cw, ok := c.conn.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
		c.conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		var buf [512]byte
		for range 64 {
			if _, err := c.conn.Read(buf[:]); err != nil {
				break
			}
		}
	}
	c.conn.Close()
}

// unsafeString returns b as a string without copying; the caller must not
// keep the string past the next change of b.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}
