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
	"io"
	"log"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"k8s.io/klog/v2"

	"signet.dev/signet/pkg/ingress/routes"
)

// HTTP/2 from clients (TLS with ALPN "h2", or cleartext with prior
// knowledge) is served by net/http's HTTP/2 server. The handler routes
// exactly like the HTTP/1.x path (same 400/404/503, same X-Forwarded-*,
// same metrics) and forwards over HTTP/1.1 through the same endpoint
// selection, connection pools and health state. It is not the fast path:
// net/http allocates per request.

func (p *Proxy) newH2Server() *http.Server {
	var protos http.Protocols
	protos.SetHTTP2(true)
	protos.SetUnencryptedHTTP2(true)
	return &http.Server{
		Handler:           &h2Handler{p: p},
		Protocols:         &protos,
		ReadHeaderTimeout: p.opts.ReadHeaderTimeout,
		IdleTimeout:       p.opts.IdleTimeout,
		MaxHeaderBytes:    p.opts.MaxRequestHeaderBytes,
		ErrorLog:          log.New(klogWriter{}, "", 0),
	}
}

// klogWriter sends net/http's log lines to klog at V(4): they are about
// misbehaving clients.
type klogWriter struct{}

func (klogWriter) Write(b []byte) (int, error) {
	klog.V(4).InfoS("HTTP/2 server", "msg", strings.TrimSpace(string(b)))
	return len(b), nil
}

type h2Handler struct {
	p *Proxy
}

func (h *h2Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := h.p
	start := time.Now()
	lc := p.live.Load()
	if lc == nil {
		h2Reply(w, r, 503, p.unmatched, start)
		return
	}
	route, ok, err := lc.routes.Match(r.Host, r.RequestURI)
	switch {
	case err != nil:
		h2Reply(w, r, 400, lc.noRoute.m, start)
		return
	case !ok:
		h2Reply(w, r, 404, lc.noRoute.m, start)
		return
	}
	be := lc.backendFor(route)
	switch be.kind {
	case kindService:
		h.forward(w, r, be, start)
	case kindStatic:
		h2Static(w, r, be, start)
	default:
		h2Reply(w, r, 503, be.m, start)
	}
}

// h2Reply answers with a response made by the proxy (net/http adds Date).
func h2Reply(w http.ResponseWriter, r *http.Request, status int, m *backendMetrics, start time.Time) {
	rep := replyFor(status)
	hd := w.Header()
	hd.Set("Server", serverName)
	hd.Set("Content-Type", "text/plain; charset=utf-8")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Length", strconv.Itoa(len(rep.body)))
	if rep.allow != "" {
		hd.Set("Allow", rep.allow)
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(rep.body)
	}
	m.observe(status, time.Since(start))
}

func h2Static(w http.ResponseWriter, r *http.Request, be *backendRT, start time.Time) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h2Reply(w, r, 405, be.m, start)
		return
	}
	path, err := routes.NormalizePath(r.RequestURI)
	if err != nil {
		h2Reply(w, r, 400, be.m, start)
		return
	}
	key := path[strings.LastIndexByte(path, '/')+1:]
	if key == "" {
		key = "index.html"
	}
	f := be.files[key]
	if f == nil {
		h2Reply(w, r, 404, be.m, start)
		return
	}
	hd := w.Header()
	hd.Set("Server", serverName)
	hd.Set("Content-Type", f.contentType)
	hd.Set("Content-Length", strconv.Itoa(len(f.body)))
	w.WriteHeader(200)
	if r.Method != http.MethodHead {
		w.Write(f.body)
	}
	be.m.observe(200, time.Since(start))
}

// h2HopByHop are fields never forwarded; HTTP/2 forbids most of them
// anyway.
var h2HopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true,
	"Transfer-Encoding": true, "Upgrade": true, "Expect": true, "Proxy-Authorization": true,
	"Proxy-Authenticate": true, "Http2-Settings": true,
}

// forward proxies one HTTP/2 request to an endpoint over HTTP/1.1.
func (h *h2Handler) forward(w http.ResponseWriter, r *http.Request, be *backendRT, start time.Time) {
	p := h.p
	head := h.requestHead(r)
	hasBody := r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
	n := len(be.endpoints)
	first := int(be.rr.Add(1)-1) % n
	usable := false
	for i := range n {
		ep := be.endpoints[(first+i)%n]
		if !ep.usable() {
			continue
		}
		usable = true
		uc := ep.pool.get(start)
		if uc != nil && hasBody && !uc.alive() {
			uc.close() // a body is not sent twice: see proxy()
			uc = nil
		}
		if uc == nil {
			var err error
			if uc, err = p.dial(ep); err != nil {
				p.dialFailed(be, ep, err)
				continue
			}
		}
		if h.exchange(w, r, be, ep, uc, head, hasBody, start) {
			return
		}
	}
	status := 502
	if !usable {
		status = 503
	}
	h2Reply(w, r, status, be.m, start)
}

// requestHead builds the HTTP/1.1 request head for r (allocating; this is
// not the fast path).
func (h *h2Handler) requestHead(r *http.Request) []byte {
	trusted := h.p.opts.TrustForwardedHeaders
	var b bytes.Buffer
	b.WriteString(r.Method + " " + r.RequestURI + " HTTP/1.1\r\nHost: " + r.Host + "\r\n")
	connListed := map[string]bool{}
	for _, v := range r.Header.Values("Connection") {
		for _, tok := range strings.Split(v, ",") {
			connListed[textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(tok))] = true
		}
	}
	for k, vs := range r.Header {
		switch {
		case h2HopByHop[k] || connListed[k] || k == "Host" || k == "Content-Length" || k == "X-Forwarded-For":
			continue
		case !trusted && (k == "X-Forwarded-Proto" || k == "X-Forwarded-Host" || k == "X-Forwarded-Port"):
			continue
		}
		for _, v := range vs {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	ip := ""
	if ap, err := netipParse(r.RemoteAddr); err == nil {
		ip = ap
	}
	xff := ip
	if prior := r.Header.Values("X-Forwarded-For"); trusted && len(prior) > 0 {
		xff = strings.Join(prior, ", ") + ", " + ip
	}
	b.WriteString("X-Forwarded-For: " + xff + "\r\n")
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	if !trusted || r.Header.Get("X-Forwarded-Host") == "" {
		b.WriteString("X-Forwarded-Host: " + r.Host + "\r\n")
	}
	if !trusted || r.Header.Get("X-Forwarded-Port") == "" {
		if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			if ap, err := netipAddrPort(la); err == nil {
				b.WriteString("X-Forwarded-Port: " + strconv.Itoa(int(ap.Port())) + "\r\n")
			}
		}
	}
	if !trusted || r.Header.Get("X-Forwarded-Proto") == "" {
		b.WriteString("X-Forwarded-Proto: " + proto + "\r\n")
	}
	switch {
	case r.ContentLength > 0:
		b.WriteString("Content-Length: " + strconv.FormatInt(r.ContentLength, 10) + "\r\n")
	case r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody:
		b.WriteString("Transfer-Encoding: chunked\r\n")
	case r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch:
		b.WriteString("Content-Length: 0\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// netipParse returns the IP of a "host:port" remote address.
func netipParse(hostport string) (string, error) {
	host, _, err := net.SplitHostPort(hostport)
	return host, err
}

// exchange sends the request on uc and relays the response; false means
// nothing was sent or relayed and the next endpoint may be tried.
func (h *h2Handler) exchange(w http.ResponseWriter, r *http.Request, be *backendRT, ep *endpointRT, uc *upConn, head []byte, hasBody bool, start time.Time) bool {
	p := h.p
	var resp response
	var fields [maxFields]field
	var n int
	for retried := false; ; retried = true {
		err := uc.write(head)
		if err == nil && hasBody {
			err = h.sendBody(uc, r)
			if errors.Is(err, errClientBody) {
				uc.close()
				h2Reply(w, r, 400, be.m, start)
				return true
			}
		}
		if err == nil {
			n, err = readHead(uc, time.Now(), p.opts.ResponseTimeout, &resp, fields[:0])
			for err == nil && resp.status < 200 && resp.status != 101 {
				uc.br.discard(n) // interim responses are not relayed over HTTP/2
				n, err = readHead(uc, time.Now(), p.opts.ResponseTimeout, &resp, fields[:0])
			}
		}
		if err == nil {
			break
		}
		uc.close()
		if !hasBody && uc.reused && !retried && retriable(err) {
			var derr error
			if uc, derr = p.dial(ep); derr != nil {
				p.dialFailed(be, ep, derr)
				return false
			}
			continue
		}
		status := 502
		if isTimeout(err) {
			status = 504
		}
		klog.V(4).InfoS("Backend request failed", "backend", be.name, "endpoint", ep.hostport, "status", status, "err", err)
		h2Reply(w, r, status, be.m, start)
		return true
	}
	if resp.status == 101 {
		uc.close()
		h2Reply(w, r, 502, be.m, start)
		return true
	}
	isHead := r.Method == http.MethodHead
	mode := resp.bodyMode(isHead)
	hd := w.Header()
	for i := range resp.fields {
		f := &resp.fields[i]
		switch f.kind {
		case fkConnection, fkKeepAlive, fkProxyConnection, fkTE, fkTransferEncoding, fkUpgrade, fkProxyAuthenticate:
			continue
		case fkContentLength:
			if mode == bmChunked {
				continue
			}
		}
		name := f.name.of(resp.head)
		if resp.conn.other && listsName(resp.head, resp.fields, name) {
			continue
		}
		hd.Add(string(name), string(f.value.of(resp.head)))
	}
	if !resp.hasServer {
		hd.Set("Server", serverName)
	}
	status := resp.status
	upKeep := resp.reusable() && mode != bmEOF
	uc.br.discard(n)
	w.WriteHeader(status)
	dst := &h2Sink{w: w, rc: http.NewResponseController(w)}
	var err error
	switch mode {
	case bmLength:
		err, _ = copyLength(dst, &uc.connIO, resp.contentLength)
	case bmChunked:
		var buf []byte
		err, _ = copyChunked(dst, &buf, &uc.connIO, true)
	case bmEOF:
		err, _ = copyUntilEOF(dst, &uc.connIO)
	}
	now := time.Now()
	if err != nil || !upKeep || uc.br.n() > 0 {
		uc.close()
	} else {
		uc.pool.put(uc, now)
	}
	be.m.observe(status, now.Sub(start))
	if err != nil {
		// Abort the stream so the client does not take a truncated body
		// for a complete one.
		panic(http.ErrAbortHandler)
	}
	return true
}

// errClientBody is a failure reading the client's request body.
var errClientBody = errors.New("reading the request body failed")

// sendBody streams r.Body to uc: with Content-Length as is, otherwise
// chunked.
func (h *h2Handler) sendBody(uc *upConn, r *http.Request) error {
	buf := make([]byte, 32<<10)
	chunked := r.ContentLength < 0
	for {
		n, rerr := r.Body.Read(buf[10 : len(buf)-2])
		if n > 0 {
			out := buf[10 : 10+n]
			if chunked {
				sz := strconv.AppendInt(nil, int64(n), 16)
				start := 10 - len(sz) - 2
				copy(buf[start:], sz)
				buf[8], buf[9] = '\r', '\n'
				buf[10+n], buf[11+n] = '\r', '\n'
				out = buf[start : 12+n]
			}
			if err := uc.write(out); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return errClientBody
		}
	}
	if chunked {
		return uc.write([]byte("0\r\n\r\n"))
	}
	return nil
}

// readHead reads one response head from uc within timeout.
func readHead(uc *upConn, now time.Time, timeout time.Duration, resp *response, fields []field) (int, error) {
	uc.readDeadline(now, timeout)
	scanned := 0
	for {
		if b := uc.br.buffered(); len(b) > 0 {
			end, s := headEnd(b, scanned)
			scanned = s
			if end > 0 {
				if _, perr := parseResponse(b[:end], resp, fields); perr != nil {
					return 0, perr
				}
				return end, nil
			}
		}
		if uc.br.full() {
			if err := uc.br.grow(maxResponseHead); err != nil {
				return 0, errResponseHeadTooLarge
			}
		}
		if err := uc.br.fill(); err != nil {
			return 0, err
		}
	}
}

// h2Sink writes a body to an HTTP/2 response, flushing before the proxy
// waits for more from the backend.
type h2Sink struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (s *h2Sink) write(p []byte) error {
	_, err := s.w.Write(p)
	return err
}

func (s *h2Sink) flush() error { return s.rc.Flush() }
