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
)

// This file parses HTTP/1.x message heads in place, without allocating:
// only what the proxy needs to route and frame a message is interpreted
// (RFC 9112); every other field line is validated and kept as an offset
// pair so that it can be copied to the other side unchanged. The parser is
// strict where a lenient one would let a client and a backend disagree on
// where a message ends (request smuggling): conflicting Content-Length,
// Transfer-Encoding with Content-Length, obsolete line folding, bare CR,
// whitespace before the colon.

// span is a byte range of a message head.
type span struct{ start, end int32 }

func (s span) of(head []byte) []byte { return head[s.start:s.end] }
func (s span) empty() bool           { return s.start == s.end }

// fieldKind names the header fields the proxy interprets.
type fieldKind uint8

const (
	fkOther fieldKind = iota
	fkHost
	fkConnection
	fkContentLength
	fkTransferEncoding
	fkUpgrade
	fkExpect
	fkKeepAlive
	fkProxyConnection
	fkTE
	fkProxyAuthorization
	fkProxyAuthenticate
	fkXForwardedFor
	fkXForwardedProto
	fkXForwardedHost
	fkXForwardedPort
	fkServer
)

// field is one field line: line covers "Name: value" (without the line
// terminator and trailing whitespace), name and value its parts.
type field struct {
	line, name, value span
	kind              fieldKind
}

// maxFields bounds the number of field lines of one head; more is refused
// with 431 (requests) or 502 (responses).
const maxFields = 100

// parseError is a malformed head and the status that refuses it.
type parseError struct {
	status int
	reason string
}

func (e *parseError) Error() string { return e.reason }

var (
	errBadRequestLine   = &parseError{400, "malformed request line"}
	errBadVersion       = &parseError{505, "unsupported HTTP version"}
	errBadField         = &parseError{400, "malformed header field"}
	errObsFold          = &parseError{400, "obsolete line folding"}
	errTooManyFields    = &parseError{431, "too many header fields"}
	errNoHost           = &parseError{400, "missing Host header"}
	errManyHosts        = &parseError{400, "more than one Host header"}
	errBadLength        = &parseError{400, "invalid Content-Length"}
	errLengthAndChunked = &parseError{400, "both Transfer-Encoding and Content-Length"}
	errBadTE            = &parseError{501, "unsupported Transfer-Encoding"}
	errTE10             = &parseError{400, "Transfer-Encoding in an HTTP/1.0 request"}
	errExpectation      = &parseError{417, "unsupported expectation"}
	errBadStatusLine    = &parseError{502, "malformed status line"}
)

// tokenChar and valueChar classify bytes (RFC 9110 5.1, 5.5). valueChar
// admits HTAB, SP, VCHAR and obs-text; CR, LF, NUL and other controls are
// refused everywhere in a field value.
var tokenChar, valueChar, targetChar [256]bool

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		isAlnum := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
		tokenChar[c] = isAlnum || bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), b) >= 0
		valueChar[c] = b == '\t' || (b >= 0x20 && b != 0x7f)
		// A request target is visible ASCII; obs-text is tolerated as
		// many servers do, but never whitespace or controls.
		targetChar[c] = b > 0x20 && b != 0x7f
	}
}

// nextLine returns the line starting at i (without its CRLF or LF) and the
// offset after it, or ok=false when no complete line is buffered. A CR
// elsewhere stays in the line, where the character checks refuse it.
func nextLine(buf []byte, i int) (line span, next int, ok bool) {
	nl := bytes.IndexByte(buf[i:], '\n')
	if nl < 0 {
		return span{}, 0, false
	}
	end := i + nl
	next = end + 1
	if end > i && buf[end-1] == '\r' {
		end--
	}
	return span{int32(i), int32(end)}, next, true
}

// parseField splits and validates one field line.
func parseField(buf []byte, line span) (field, *parseError) {
	l := line.of(buf)
	if l[0] == ' ' || l[0] == '\t' {
		return field{}, errObsFold
	}
	colon := bytes.IndexByte(l, ':')
	if colon <= 0 {
		return field{}, errBadField
	}
	for _, c := range l[:colon] {
		if !tokenChar[c] {
			return field{}, errBadField
		}
	}
	vs, ve := colon+1, len(l)
	for vs < ve && (l[vs] == ' ' || l[vs] == '\t') {
		vs++
	}
	for ve > vs && (l[ve-1] == ' ' || l[ve-1] == '\t') {
		ve--
	}
	for _, c := range l[vs:ve] {
		if !valueChar[c] {
			return field{}, errBadField
		}
	}
	s := line.start
	return field{
		line:  span{s, s + int32(ve)},
		name:  span{s, s + int32(colon)},
		value: span{s + int32(vs), s + int32(ve)},
		kind:  classify(l[:colon]),
	}, nil
}

// equalLower reports whether b equals the lower-case ASCII string s,
// ignoring the case of b's letters.
func equalLower(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// classify returns the kind of a field name; a switch on the length keeps
// it to about one comparison per field.
func classify(name []byte) fieldKind {
	switch len(name) {
	case 2:
		if equalLower(name, "te") {
			return fkTE
		}
	case 4:
		if equalLower(name, "host") {
			return fkHost
		}
	case 6:
		switch {
		case equalLower(name, "expect"):
			return fkExpect
		case equalLower(name, "server"):
			return fkServer
		}
	case 7:
		if equalLower(name, "upgrade") {
			return fkUpgrade
		}
	case 10:
		switch {
		case equalLower(name, "connection"):
			return fkConnection
		case equalLower(name, "keep-alive"):
			return fkKeepAlive
		}
	case 14:
		if equalLower(name, "content-length") {
			return fkContentLength
		}
	case 15:
		if equalLower(name, "x-forwarded-for") {
			return fkXForwardedFor
		}
	case 16:
		switch {
		case equalLower(name, "proxy-connection"):
			return fkProxyConnection
		case equalLower(name, "x-forwarded-host"):
			return fkXForwardedHost
		case equalLower(name, "x-forwarded-port"):
			return fkXForwardedPort
		}
	case 17:
		switch {
		case equalLower(name, "transfer-encoding"):
			return fkTransferEncoding
		case equalLower(name, "x-forwarded-proto"):
			return fkXForwardedProto
		}
	case 18:
		if equalLower(name, "proxy-authenticate") {
			return fkProxyAuthenticate
		}
	case 19:
		if equalLower(name, "proxy-authorization") {
			return fkProxyAuthorization
		}
	}
	return fkOther
}

// connection holds what a Connection header says.
type connection struct {
	close, keepAlive, upgrade bool
	// other: the header lists field names that must be removed too.
	other bool
}

// parseConnection folds the comma-separated options of one Connection
// field value into c.
func (c *connection) parse(v []byte) {
	for len(v) > 0 {
		var tok []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			tok, v = v[:i], v[i+1:]
		} else {
			tok, v = v, nil
		}
		tok = trimOWS(tok)
		switch {
		case len(tok) == 0:
		case equalLower(tok, "close"):
			c.close = true
		case equalLower(tok, "keep-alive"):
			c.keepAlive = true
		case equalLower(tok, "upgrade"):
			c.upgrade = true
		default:
			c.other = true
		}
	}
}

// listsName reports whether one of the Connection values of fields names
// the field name (RFC 9110 7.6.1: those fields are hop-by-hop too).
func listsName(head []byte, fields []field, name []byte) bool {
	for i := range fields {
		if fields[i].kind != fkConnection {
			continue
		}
		v := fields[i].value.of(head)
		for len(v) > 0 {
			var tok []byte
			if j := bytes.IndexByte(v, ','); j >= 0 {
				tok, v = v[:j], v[j+1:]
			} else {
				tok, v = v, nil
			}
			if tok = trimOWS(tok); len(tok) == len(name) && bytes.EqualFold(tok, name) {
				return true
			}
		}
	}
	return false
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// parseLength parses a Content-Length value: digits only, at most 18 of
// them so that it cannot overflow.
func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// framing is what the fields of a head say about its body.
type framing struct {
	// contentLength is the Content-Length, -1 when absent.
	contentLength int64
	// chunked: Transfer-Encoding is exactly "chunked".
	chunked bool
	// otherTE: a Transfer-Encoding other than "chunked" alone.
	otherTE bool
	// badLength: invalid or conflicting Content-Length fields.
	badLength bool
}

func (f *framing) addLength(v []byte) {
	n, ok := parseLength(v)
	switch {
	case !ok:
		f.badLength = true
	case f.contentLength >= 0 && f.contentLength != n:
		f.badLength = true
	default:
		f.contentLength = n
	}
}

func (f *framing) addTE(v []byte) {
	if equalLower(v, "chunked") && !f.chunked && !f.otherTE {
		f.chunked = true
		return
	}
	// Anything else, including a second "chunked": the proxy would have to
	// decode transfer codings it does not implement.
	f.chunked = false
	f.otherTE = true
}

// request is a parsed request head. head aliases the client connection's
// read buffer and stays valid until the buffer is refilled.
type request struct {
	head           []byte
	method, target span
	minor          int // HTTP/1.minor
	fields         []field
	host           span
	hosts          int
	framing
	conn           connection
	upgrade        span
	expectContinue bool
	// methodHead: the method is HEAD (kept as a flag because the head's
	// bytes may be overwritten by the body once it is streamed).
	methodHead bool
}

// isHead reports whether the method is HEAD.
func (r *request) isHead() bool { return r.methodHead }

// hasBody reports whether a request body follows the head.
func (r *request) hasBody() bool { return r.chunked || r.contentLength > 0 }

// wantsUpgrade reports whether the client asks to switch protocols (for
// example to WebSocket). "h2c" is not offered to backends: the proxy
// speaks HTTP/1.1 to them and would not understand the answer.
func (r *request) wantsUpgrade() bool {
	return r.conn.upgrade && !r.upgrade.empty() && !equalLower(r.upgrade.of(r.head), "h2c")
}

// keepAlive reports whether the client wants the connection kept open
// after this exchange (RFC 9112 9.3).
func (r *request) keepAlive() bool {
	if r.conn.close {
		return false
	}
	return r.minor >= 1 || r.conn.keepAlive
}

// parseRequest parses the request head at the start of buf into r, using
// fields (len 0, cap maxFields) for its field lines. It returns the length
// of the head, 0 when buf does not hold a complete head yet, or an error.
func parseRequest(buf []byte, r *request, fields []field) (int, *parseError) {
	*r = request{head: buf, framing: framing{contentLength: -1}}
	i := 0
	// RFC 9112 2.2: ignore empty lines before the request line.
	for i < len(buf) && (buf[i] == '\r' || buf[i] == '\n') {
		i++
	}
	line, next, ok := nextLine(buf, i)
	if !ok {
		return 0, nil
	}
	if err := r.parseRequestLine(buf, line); err != nil {
		return 0, err
	}
	for i = next; ; i = next {
		line, next, ok = nextLine(buf, i)
		if !ok {
			return 0, nil
		}
		if line.empty() {
			break
		}
		f, err := parseField(buf, line)
		if err != nil {
			return 0, err
		}
		if len(fields) == cap(fields) {
			return 0, errTooManyFields
		}
		fields = append(fields, f)
		v := f.value.of(buf)
		switch f.kind {
		case fkHost:
			r.host = f.value
			r.hosts++
		case fkContentLength:
			r.addLength(v)
		case fkTransferEncoding:
			r.addTE(v)
		case fkConnection:
			r.conn.parse(v)
		case fkUpgrade:
			r.upgrade = f.value
		case fkExpect:
			if !equalLower(v, "100-continue") {
				return 0, errExpectation
			}
			r.expectContinue = true
		}
	}
	r.fields = fields
	switch {
	case r.hosts > 1:
		return 0, errManyHosts
	case r.hosts == 0 && r.minor >= 1:
		return 0, errNoHost
	case r.badLength:
		return 0, errBadLength
	case r.otherTE:
		return 0, errBadTE
	case r.chunked && r.minor == 0:
		return 0, errTE10
	case r.chunked && r.contentLength >= 0:
		return 0, errLengthAndChunked
	}
	return next, nil
}

// parseRequestLine parses "method SP target SP HTTP/1.x".
func (r *request) parseRequestLine(buf []byte, line span) *parseError {
	l := line.of(buf)
	sp1 := bytes.IndexByte(l, ' ')
	if sp1 <= 0 {
		return errBadRequestLine
	}
	for _, c := range l[:sp1] {
		if !tokenChar[c] {
			return errBadRequestLine
		}
	}
	sp2 := bytes.IndexByte(l[sp1+1:], ' ')
	if sp2 <= 0 {
		return errBadRequestLine
	}
	sp2 += sp1 + 1
	for _, c := range l[sp1+1 : sp2] {
		if !targetChar[c] {
			return errBadRequestLine
		}
	}
	v := l[sp2+1:]
	switch string(v) {
	case "HTTP/1.1":
		r.minor = 1
	case "HTTP/1.0":
		r.minor = 0
	default:
		if len(v) == 8 && string(v[:5]) == "HTTP/" && v[6] == '.' &&
			'0' <= v[5] && v[5] <= '9' && '0' <= v[7] && v[7] <= '9' {
			return errBadVersion
		}
		return errBadRequestLine
	}
	s := line.start
	r.methodHead = string(l[:sp1]) == "HEAD"
	r.method = span{s, s + int32(sp1)}
	r.target = span{s + int32(sp1) + 1, s + int32(sp2)}
	return nil
}

// response is a parsed response head; head aliases the backend
// connection's read buffer.
type response struct {
	head []byte
	// status is the status code, statusText the status line after the
	// version ("200 OK").
	status     int
	statusText span
	minor      int
	fields     []field
	framing
	conn      connection
	hasServer bool
}

// bodyless reports whether the response has no body whatever its fields
// say (RFC 9112 6.3): answers to HEAD, 1xx, 204 and 304.
func (r *response) bodyless(head bool) bool {
	return head || r.status < 200 || r.status == 204 || r.status == 304
}

// reusable reports whether the backend keeps the connection open after
// this response (its body read to the end).
func (r *response) reusable() bool {
	if r.conn.close {
		return false
	}
	return r.minor >= 1 || r.conn.keepAlive
}

// parseResponse parses the response head at the start of buf into r, like
// parseRequest.
func parseResponse(buf []byte, r *response, fields []field) (int, *parseError) {
	*r = response{head: buf, framing: framing{contentLength: -1}}
	line, next, ok := nextLine(buf, 0)
	if !ok {
		return 0, nil
	}
	l := line.of(buf)
	// "HTTP/1.x SP 3DIGIT [SP reason]"
	if len(l) < 12 || string(l[:7]) != "HTTP/1." || l[8] != ' ' ||
		(len(l) > 12 && l[12] != ' ') {
		return 0, errBadStatusLine
	}
	switch l[7] {
	case '0':
		r.minor = 0
	case '1':
		r.minor = 1
	default:
		return 0, errBadStatusLine
	}
	code := 0
	for _, c := range l[9:12] {
		if c < '0' || c > '9' {
			return 0, errBadStatusLine
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 {
		return 0, errBadStatusLine
	}
	for _, c := range l[9:] {
		if !valueChar[c] {
			return 0, errBadStatusLine
		}
	}
	r.status = code
	r.statusText = span{line.start + 9, line.end}
	for i := next; ; i = next {
		line, next, ok = nextLine(buf, i)
		if !ok {
			return 0, nil
		}
		if line.empty() {
			break
		}
		f, err := parseField(buf, line)
		if err != nil {
			return 0, &parseError{502, "backend sent " + err.reason}
		}
		if len(fields) == cap(fields) {
			return 0, &parseError{502, "backend sent too many header fields"}
		}
		fields = append(fields, f)
		v := f.value.of(buf)
		switch f.kind {
		case fkContentLength:
			r.addLength(v)
		case fkTransferEncoding:
			r.addTE(v)
		case fkConnection:
			r.conn.parse(v)
		case fkServer:
			r.hasServer = true
		}
	}
	r.fields = fields
	if r.bodyless(false) {
		return next, nil
	}
	switch {
	case r.otherTE:
		return 0, &parseError{502, "backend sent an unsupported Transfer-Encoding"}
	case r.badLength && !r.chunked:
		return 0, &parseError{502, "backend sent an invalid Content-Length"}
	}
	return next, nil
}
