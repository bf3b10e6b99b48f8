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
	"io"
	"net"
	"syscall"
	"time"

	"k8s.io/klog/v2"
)

// Forwarding one HTTP/1.x request to a Service backend.

// bodyMode is how a response body is delimited (RFC 9112 6.3).
type bodyMode uint8

const (
	bmNone bodyMode = iota
	bmLength
	bmChunked
	// bmEOF: the body ends when the backend closes the connection.
	bmEOF
)

func (r *response) bodyMode(headRequest bool) bodyMode {
	switch {
	case r.bodyless(headRequest):
		return bmNone
	case r.chunked:
		return bmChunked
	case r.contentLength >= 0:
		return bmLength
	}
	return bmEOF
}

var errResponseHeadTooLarge = errors.New("response head too large")

// proxy forwards the request to one endpoint of be, round-robin over the
// endpoints that take traffic. An endpoint that cannot be connected to is
// a passive health failure and the next one is tried (nothing was sent, so
// this is safe for any method).
func (c *clientConn) proxy(be *backendRT, start time.Time) bool {
	r := &c.req
	upgrade := r.wantsUpgrade()
	// A body that arrived with the head goes out with it, and stays in the
	// read buffer until a response comes, so the request can be replayed
	// when a pooled connection turns out to be dead.
	bodyInBuf := r.contentLength > 0 && int64(c.br.n()-c.headLen) >= r.contentLength
	replayable := !r.hasBody() || bodyInBuf

	n := len(be.endpoints)
	first := int(be.rr.Add(1)-1) % n
	usable := false
	for i := range n {
		ep := be.endpoints[(first+i)%n]
		if !ep.usable() {
			continue
		}
		usable = true
		var uc *upConn
		if !upgrade {
			uc = ep.pool.get(start)
			if uc != nil && !replayable && !uc.alive() {
				// A streamed body cannot be sent twice: make sure the
				// backend has not closed the connection meanwhile.
				uc.close()
				uc = nil
			}
		}
		if uc == nil {
			var err error
			if uc, err = c.p.dial(ep); err != nil {
				c.p.dialFailed(be, ep, err)
				continue
			}
		}
		if keep, done := c.exchange(be, ep, uc, start, replayable, bodyInBuf, upgrade); done {
			return keep
		}
	}
	if !usable {
		if v := klog.V(4); v.Enabled() {
			v.InfoS("No healthy endpoint", "backend", be.name)
		}
		return c.reply(503, be.m, start)
	}
	return c.reply(502, be.m, start)
}

// dialFailed records a failed connection to ep: a passive health failure
// when the backend is health-checked.
func (p *Proxy) dialFailed(be *backendRT, ep *endpointRT, err error) {
	if ep.health != nil {
		ep.health.record(false, "connecting while proxying", err)
	}
	klog.V(4).InfoS("Cannot connect to endpoint, trying the next one", "backend", be.name, "endpoint", ep.hostport, "err", err)
}

// exchange sends the request on uc and relays the response. done is false
// when nothing was sent and nothing consumed (the fresh connection that
// replaced a dead pooled one could not be made): the caller tries the next
// endpoint. keep reports whether the client connection stays open.
func (c *clientConn) exchange(be *backendRT, ep *endpointRT, uc *upConn, start time.Time, replayable, bodyInBuf, upgrade bool) (keep, done bool) {
	r := &c.req
	isHead := r.isHead()
	// Published so that a shutdown that runs out of time can cut the
	// backend side too.
	c.upstream.Store(uc)
	defer c.upstream.Store(nil)
	c.buildUpstreamHead(ep, upgrade)
	if bodyInBuf {
		c.sc.up = append(c.sc.up, c.br.buffered()[c.headLen:c.headLen+int(r.contentLength)]...)
	}
	bodyBroken := false // the backend stopped taking the request body
	var n int
	for retried := false; ; retried = true {
		err := uc.writeAt(c.sc.up, start)
		if err == nil && !replayable {
			// Stream the body; this happens once (not replayable, no
			// retry).
			c.consumeHead()
			c.bodyStarted = true
			if r.expectContinue && r.minor >= 1 {
				if err := c.write(continue100); err != nil {
					uc.close()
					return false, true
				}
			}
			var dstFailed bool
			if r.chunked {
				c.sc.out = c.sc.out[:0]
				err, dstFailed = copyChunked(uc, &c.sc.out, &c.connIO, false)
			} else {
				err, dstFailed = copyLength(uc, &c.connIO, r.contentLength)
			}
			if err != nil && !dstFailed {
				// The client went away or sent a broken body: nobody to
				// answer.
				if v := klog.V(4); v.Enabled() {
					v.InfoS("Reading the request body failed", "client", c.remoteIP, "backend", be.name, "err", err)
				}
				uc.close()
				be.m.observe(400, time.Since(start))
				return false, true
			}
			c.bodyConsumed = err == nil
			bodyBroken = err != nil
			err = nil // the backend may still have answered
		}
		if err == nil {
			now := start // fresh enough, unless a body was streamed
			if !replayable {
				now = time.Now()
			}
			n, err = c.readResponseHead(uc, now)
		}
		if err == nil {
			break
		}
		uc.close()
		if replayable && uc.reused && !retried && retriable(err) {
			// A pooled connection the backend had closed: once more on a
			// fresh one.
			if v := klog.V(4); v.Enabled() {
				v.InfoS("Pooled backend connection failed, retrying on a new one", "endpoint", ep.hostport, "err", err)
			}
			var derr error
			if uc, derr = c.p.dial(ep); derr != nil {
				c.p.dialFailed(be, ep, derr)
				return false, false
			}
			c.upstream.Store(uc)
			continue
		}
		status := 502
		if isTimeout(err) {
			status = 504
		}
		klog.V(4).InfoS("Backend request failed", "backend", be.name, "endpoint", ep.hostport, "status", status, "err", err)
		return c.reply(status, be.m, start), true
	}
	// The request is delivered: take it out of the read buffer (a body
	// that came with the head only now, as it might have been replayed).
	c.consumeHead()
	if bodyInBuf {
		c.br.discard(int(r.contentLength))
		c.bodyConsumed = true
	}

	// Informational responses: relay them (HTTP/1.1 clients only) and wait
	// for the final one.
	for c.resp.status < 200 && c.resp.status != 101 {
		if r.minor >= 1 {
			b := c.appendResponseHead(c.sc.out[:0], bmNone, true, false)
			c.sc.out = b
			if err := c.write(b); err != nil {
				uc.close()
				return false, true
			}
		}
		uc.br.discard(n)
		var err error
		if n, err = c.readResponseHead(uc, time.Now()); err != nil {
			uc.close()
			status := 502
			if isTimeout(err) {
				status = 504
			}
			return c.reply(status, be.m, start), true
		}
	}
	if c.resp.status == 101 {
		if !upgrade {
			uc.close()
			return c.reply(502, be.m, start), true
		}
		return c.relayUpgrade(be, uc, n, start), true
	}
	return c.relayResponse(be, uc, n, start, isHead, bodyBroken), true
}

// continue100 is the interim response sent for Expect: 100-continue.
var continue100 = []byte("HTTP/1.1 100 Continue\r\n\r\n")

// retriable reports whether a failure on a reused connection means the
// backend had closed it before seeing the request.
func retriable(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed)
}

// readResponseHead waits (at most ResponseTimeout) for a complete
// response head from uc and parses it into c.resp; it returns the head's
// length.
func (c *clientConn) readResponseHead(uc *upConn, now time.Time) (int, error) {
	return readHead(uc, now, c.p.opts.ResponseTimeout, &c.resp, c.sc.respFields[:0])
}

// relayResponse sends the response whose head (n bytes) is in uc's buffer
// to the client, keeping the backend's framing, and gives uc back to its
// pool when the backend keeps it.
func (c *clientConn) relayResponse(be *backendRT, uc *upConn, n int, start time.Time, isHead, bodyBroken bool) bool {
	r, resp := &c.req, &c.resp
	mode := resp.bodyMode(isHead)
	keep := r.keepAlive() && !bodyBroken && c.bodyConsumed && !c.p.draining.Load() &&
		mode != bmEOF && !(mode == bmChunked && r.minor == 0)
	upKeep := resp.reusable() && !bodyBroken && mode != bmEOF
	b := c.appendResponseHead(c.sc.out[:0], mode, keep, false)
	status := resp.status
	uc.br.discard(n)

	var err error
	dstFailed := true
	released := false
	// release gives uc back (or closes it) as soon as the response was
	// read to its end: before the client gets it, so that its next request
	// finds the connection in the pool.
	release := func(ok bool) {
		released = true
		if ok && upKeep && uc.br.n() == 0 {
			uc.pool.put(uc, start)
		} else {
			uc.close()
		}
	}
	switch mode {
	case bmNone:
		release(true)
		err = c.writeAt(b, start)
	case bmLength:
		cl := resp.contentLength
		avail := int64(uc.br.n())
		if avail >= cl {
			// The common case: the whole response goes out in one write.
			b = append(b, uc.br.buffered()[:cl]...)
			uc.br.discard(int(cl))
			release(true)
			err = c.writeAt(b, start)
		} else {
			b = append(b, uc.br.buffered()...)
			uc.br.discard(int(avail))
			if err = c.write(b); err == nil {
				err, dstFailed = copyLength(&c.connIO, &uc.connIO, cl-avail)
			}
		}
	case bmChunked:
		err, dstFailed = copyChunked(&c.connIO, &b, &uc.connIO, r.minor == 0)
	case bmEOF:
		b = append(b, uc.br.buffered()...)
		uc.br.discard(uc.br.n())
		if err = c.write(b); err == nil {
			err, dstFailed = copyUntilEOF(&c.connIO, &uc.connIO)
		}
	}
	c.sc.out = b[:0]
	if !released {
		release(err == nil)
	}
	now := time.Now()
	be.m.observe(status, now.Sub(start))
	if err != nil {
		if v := klog.V(4); v.Enabled() {
			side := "backend"
			if dstFailed {
				side = "client"
			}
			v.InfoS("Relaying the response failed", "backend", be.name, "failed", side, "err", err)
		}
		return false
	}
	if v := klog.V(5); v.Enabled() {
		v.InfoS("Proxied request", "backend", be.name, "status", status, "duration", now.Sub(start))
	}
	return keep
}

// buildUpstreamHead writes the request head for the backend into c.sc.up:
// the request line and fields as the client sent them (path and Host
// unchanged), without hop-by-hop fields (RFC 9110 7.6.1) and Expect, with
// X-Forwarded-For, -Host, -Port and -Proto.
func (c *clientConn) buildUpstreamHead(ep *endpointRT, upgrade bool) {
	r := &c.req
	h := r.head
	trusted := c.p.opts.TrustForwardedHeaders
	b := append(c.sc.up[:0], r.method.of(h)...)
	b = append(b, ' ')
	b = append(b, r.target.of(h)...)
	b = append(b, " HTTP/1.1\r\n"...)
	var hasXFF, hasXFProto, hasXFHost, hasXFPort bool
	for i := range r.fields {
		f := &r.fields[i]
		switch f.kind {
		case fkConnection, fkKeepAlive, fkProxyConnection, fkTE, fkTransferEncoding,
			fkUpgrade, fkExpect, fkProxyAuthorization:
			continue
		case fkXForwardedFor:
			hasXFF = true
			continue // rewritten below
		case fkXForwardedProto, fkXForwardedHost, fkXForwardedPort:
			if !trusted {
				continue
			}
			hasXFProto = hasXFProto || f.kind == fkXForwardedProto
			hasXFHost = hasXFHost || f.kind == fkXForwardedHost
			hasXFPort = hasXFPort || f.kind == fkXForwardedPort
		case fkHost, fkContentLength:
			// Never dropped, whatever Connection lists.
			b = append(b, f.line.of(h)...)
			b = append(b, "\r\n"...)
			continue
		}
		if r.conn.other && listsName(h, r.fields, f.name.of(h)) {
			continue
		}
		b = append(b, f.line.of(h)...)
		b = append(b, "\r\n"...)
	}
	if r.hosts == 0 {
		// HTTP/1.0 without Host: HTTP/1.1 requires one.
		b = append(b, "Host: "...)
		b = append(b, ep.hostport...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "X-Forwarded-For: "...)
	if trusted && hasXFF {
		for i := range r.fields {
			if f := &r.fields[i]; f.kind == fkXForwardedFor && !f.value.empty() {
				b = append(b, f.value.of(h)...)
				b = append(b, ", "...)
			}
		}
	}
	b = append(b, c.remoteIP...)
	b = append(b, "\r\n"...)
	if !hasXFHost && r.hosts > 0 {
		b = append(b, "X-Forwarded-Host: "...)
		b = append(b, r.host.of(h)...)
		b = append(b, "\r\n"...)
	}
	if !hasXFPort {
		b = append(b, "X-Forwarded-Port: "...)
		b = append(b, c.ln.port...)
		b = append(b, "\r\n"...)
	}
	if !hasXFProto {
		b = append(b, "X-Forwarded-Proto: "...)
		b = append(b, c.ln.proto...)
		b = append(b, "\r\n"...)
	}
	if r.chunked {
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	if upgrade {
		b = append(b, "Connection: upgrade\r\nUpgrade: "...)
		b = append(b, r.upgrade.of(h)...)
		b = append(b, "\r\n"...)
	}
	c.sc.up = append(b, "\r\n"...)
}

// appendResponseHead appends the head of c.resp for the client: the
// status line as HTTP/1.1, the backend's fields without hop-by-hop ones,
// Server when the backend sent none, and the framing and Connection
// fields this hop needs.
func (c *clientConn) appendResponseHead(b []byte, mode bodyMode, keep, upgraded bool) []byte {
	resp := &c.resp
	h := resp.head
	b = append(b, "HTTP/1.1 "...)
	b = append(b, resp.statusText.of(h)...)
	b = append(b, "\r\n"...)
	for i := range resp.fields {
		f := &resp.fields[i]
		switch f.kind {
		case fkConnection, fkKeepAlive, fkProxyConnection, fkTE, fkTransferEncoding, fkProxyAuthenticate:
			continue
		case fkUpgrade:
			if !upgraded {
				continue
			}
		case fkContentLength:
			if mode == bmChunked {
				continue // chunked wins (RFC 9112 6.3)
			}
		}
		if resp.conn.other && listsName(h, resp.fields, f.name.of(h)) {
			continue
		}
		b = append(b, f.line.of(h)...)
		b = append(b, "\r\n"...)
	}
	if !resp.hasServer {
		b = append(b, "Server: "+serverName+"\r\n"...)
	}
	if mode == bmChunked && c.req.minor >= 1 {
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	switch {
	case upgraded:
		b = append(b, "Connection: upgrade\r\n"...)
	case resp.status < 200:
		// interim: no Connection field
	default:
		b = c.appendConnection(b, keep)
	}
	return append(b, "\r\n"...)
}
