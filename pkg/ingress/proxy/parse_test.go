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
	"net"
	"strings"
	"testing"
	"time"
)

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		name, head string
		status     int // 0: accepted
		check      func(t *testing.T, r *request)
	}{
		{name: "simple", head: "GET /a?b HTTP/1.1\r\nHost: x\r\n\r\n", check: func(t *testing.T, r *request) {
			if string(r.method.of(r.head)) != "GET" || string(r.target.of(r.head)) != "/a?b" || string(r.host.of(r.head)) != "x" || r.minor != 1 {
				t.Errorf("parsed %q %q %q %d", r.method.of(r.head), r.target.of(r.head), r.host.of(r.head), r.minor)
			}
			if !r.keepAlive() || r.hasBody() || r.isHead() {
				t.Errorf("keepAlive %v hasBody %v isHead %v", r.keepAlive(), r.hasBody(), r.isHead())
			}
		}},
		{name: "bare LF lines", head: "HEAD / HTTP/1.0\nHost:x \n\n", check: func(t *testing.T, r *request) {
			if string(r.host.of(r.head)) != "x" || !r.isHead() || r.keepAlive() {
				t.Errorf("host %q head %v keepAlive %v", r.host.of(r.head), r.isHead(), r.keepAlive())
			}
		}},
		{name: "connection tokens", head: "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, X-Foo\r\nconnection: CLOSE\r\nUpgrade: WebSocket\r\n\r\n", check: func(t *testing.T, r *request) {
			if !r.conn.upgrade || !r.conn.other || !r.conn.close || r.keepAlive() || !r.wantsUpgrade() {
				t.Errorf("connection %+v", r.conn)
			}
		}},
		{name: "h2c upgrade ignored", head: "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", check: func(t *testing.T, r *request) {
			if r.wantsUpgrade() {
				t.Errorf("h2c upgrade accepted")
			}
		}},
		{name: "same length twice", head: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", check: func(t *testing.T, r *request) {
			if r.contentLength != 3 {
				t.Errorf("length %d", r.contentLength)
			}
		}},
		{name: "expect", head: "PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n", check: func(t *testing.T, r *request) {
			if !r.expectContinue {
				t.Errorf("no expectContinue")
			}
		}},
		{name: "length overflow", head: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", status: 400},
		{name: "length with sign", head: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\n", status: 400},
		{name: "TE and CL", head: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", status: 400},
		{name: "TE in 1.0", head: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400},
		{name: "TE identity", head: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n", status: 501},
		{name: "NUL in value", head: "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", status: 400},
		{name: "empty name", head: "GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", status: 400},
		{name: "no colon", head: "GET / HTTP/1.1\r\nHost: x\r\nnocolon\r\n\r\n", status: 400},
		{name: "double space", head: "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", status: 400},
		{name: "space in target", head: "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", status: 400},
		{name: "lower-case version", head: "GET / http/1.1\r\nHost: x\r\n\r\n", status: 400},
		{name: "HTTP/3", head: "GET / HTTP/3.0\r\nHost: x\r\n\r\n", status: 505},
		{name: "too many fields", head: "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-A: b\r\n", maxFields) + "\r\n", status: 431},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r request
			var fields [maxFields]field
			n, err := parseRequest([]byte(tc.head), &r, fields[:0])
			if tc.status != 0 {
				if err == nil || err.status != tc.status {
					t.Fatalf("got n=%d err=%v, want status %d", n, err, tc.status)
				}
				return
			}
			if err != nil || n != len(tc.head) {
				t.Fatalf("n=%d err=%v", n, err)
			}
			tc.check(t, &r)
		})
	}
}

func TestParseResponse(t *testing.T) {
	for _, tc := range []struct {
		name, head string
		ok         bool
		mode       bodyMode
		reusable   bool
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, bmLength, true},
		{"no reason", "HTTP/1.1 204\r\n\r\n", true, bmNone, true},
		{"chunked wins over length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", true, bmChunked, true},
		{"close delimited", "HTTP/1.1 200 OK\r\n\r\n", true, bmEOF, true},
		{"1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", true, bmLength, false},
		{"1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n", true, bmLength, true},
		{"close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n", true, bmLength, false},
		{"304 with length", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", true, bmNone, true},
		{"gzip coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, 0, false},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", false, 0, false},
		{"bad status", "HTTP/1.1 2x0 OK\r\n\r\n", false, 0, false},
		{"HTTP/2", "HTTP/2 200\r\n\r\n", false, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r response
			var fields [maxFields]field
			n, err := parseResponse([]byte(tc.head), &r, fields[:0])
			if !tc.ok {
				if err == nil || err.status != 502 {
					t.Fatalf("accepted (n=%d, err=%v)", n, err)
				}
				return
			}
			if err != nil || n != len(tc.head) {
				t.Fatalf("n=%d err=%v", n, err)
			}
			if m := r.bodyMode(false); m != tc.mode {
				t.Errorf("mode %d, want %d", m, tc.mode)
			}
			if r.reusable() != tc.reusable {
				t.Errorf("reusable %v", r.reusable())
			}
		})
	}
}

func TestHeadEnd(t *testing.T) {
	head := "GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY"
	// Fed one byte at a time, the end is found exactly once, at the
	// right place.
	resume := 0
	for i := 1; i <= len(head); i++ {
		end, r := headEnd([]byte(head[:i]), resume)
		if end > 0 {
			if end != len(head)-4 || i != end {
				t.Fatalf("end %d after %d bytes", end, i)
			}
			return
		}
		resume = r
	}
	t.Fatal("no end found")
}

// memSink collects what it is written.
type memSink struct{ bytes.Buffer }

func (m *memSink) write(p []byte) error { m.Write(p); return nil }
func (m *memSink) flush() error         { return nil }

// pipeSource is a connIO reading s in pieces of n bytes.
func pipeSource(t *testing.T, s string, n int) *connIO {
	t.Helper()
	a, b := net.Pipe()
	go func() {
		for i := 0; i < len(s); i += n {
			b.Write([]byte(s[i:min(i+n, len(s))]))
		}
		b.Close()
	}()
	t.Cleanup(func() { a.Close() })
	c := &connIO{conn: a, readTimeout: 10 * time.Second}
	c.br.reset(a, 64)
	return c
}

func TestCopyChunked(t *testing.T) {
	body := "4;a=b\r\nWiki\r\n6\r\npedia \r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\n"
	for _, piece := range []int{1, 3, 1000} {
		var fwd, dec memSink
		var buf []byte
		if err, _ := copyChunked(&fwd, &buf, pipeSource(t, body+"NEXT", piece), false); err != nil {
			t.Fatalf("forward (pieces of %d): %v", piece, err)
		}
		if fwd.String() != body {
			t.Errorf("forwarded %q, want the body as received", fwd.String())
		}
		if err, _ := copyChunked(&dec, &buf, pipeSource(t, body, piece), true); err != nil {
			t.Fatalf("dechunk: %v", err)
		}
		if dec.String() != "Wikipedia  in\r\n\r\nchunks." {
			t.Errorf("decoded %q", dec.String())
		}
	}
	for _, bad := range []string{
		"4\nWiki\r\n0\r\n\r\n",                // bare LF
		"4\r\nWiki0\r\n\r\n",                  // no CRLF after data
		"x\r\n",                               // not hex
		"4 \r\nWiki\r\n0\r\n\r\n",             // whitespace without extension
		"4;a\x01\r\nWiki\r\n0\r\n\r\n",        // control in extension
		"1000000000000000\r\n",                // overflow
		"0\r\nBad Trailer\r\n\r\n",            // malformed trailer
		"4\r\nWi",                             // truncated
		"4\r\n" + strings.Repeat("a", 0) + "", // truncated
	} {
		var out memSink
		var buf []byte
		err, dstFailed := copyChunked(&out, &buf, pipeSource(t, bad, 2), false)
		if err == nil || dstFailed {
			t.Errorf("%q: err %v dstFailed %v", bad, err, dstFailed)
		}
		if !errors.Is(err, errBadChunk) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%q: unexpected error %v", bad, err)
		}
	}
}
