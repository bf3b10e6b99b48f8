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
)

// Body copying. Each function streams one message body from src (its
// buffered bytes first) to dst and says which side failed, because the
// caller's answer differs: a backend that breaks mid-body aborts the
// client connection, a client that goes away only costs the backend
// connection.

// errBadChunk is malformed chunked framing (RFC 9112 7.1).
var errBadChunk = errors.New("malformed chunked encoding")

const (
	// maxChunkLine bounds a chunk-size line with its extensions.
	maxChunkLine = 4096
	// maxTrailers bounds the trailer section of a chunked body.
	maxTrailers = 16 << 10
	// directWrite: chunk data this large is written straight from the read
	// buffer rather than gathered with the framing.
	directWrite = 4096
)

// copyLength copies exactly n bytes.
func copyLength(dst sink, src *connIO, n int64) (err error, dstFailed bool) {
	for n > 0 {
		if src.br.n() == 0 {
			if err := dst.flush(); err != nil {
				return err, true
			}
			if err := src.fill(); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err, false
			}
		}
		b := src.br.buffered()
		if int64(len(b)) > n {
			b = b[:n]
		}
		if err := dst.write(b); err != nil {
			return err, true
		}
		src.br.discard(len(b))
		n -= int64(len(b))
	}
	return nil, false
}

// copyUntilEOF copies until src is closed (a close-delimited response).
func copyUntilEOF(dst sink, src *connIO) (err error, dstFailed bool) {
	for {
		if src.br.n() == 0 {
			if err := dst.flush(); err != nil {
				return err, true
			}
			if err := src.fill(); err != nil {
				if err == io.EOF {
					return nil, false
				}
				return err, false
			}
		}
		b := src.br.buffered()
		if err := dst.write(b); err != nil {
			return err, true
		}
		src.br.discard(len(b))
	}
}

// chunkCopier streams a chunked body. It parses the framing only to find
// the body's end and validates it strictly (CRLF line endings, hex sizes,
// no bare CR or LF in extensions and trailers), so that the proxy and the
// next hop cannot disagree on where the message ends. With dechunk it
// writes only the data (for HTTP/1.0 clients and HTTP/2); otherwise it
// forwards the framing, extensions and trailers as received.
type chunkCopier struct {
	dst     sink
	src     *connIO
	out     []byte
	dechunk bool
	// dstErr records that the failure was writing.
	dstErr bool
}

// copyChunked streams a chunked body from src to dst, gathering small
// writes in *buf, whose content goes first (a response head); it may grow
// *buf and returns it emptied.
func copyChunked(dst sink, buf *[]byte, src *connIO, dechunk bool) (err error, dstFailed bool) {
	cc := chunkCopier{dst: dst, src: src, out: *buf, dechunk: dechunk}
	if err = cc.run(); err != nil && !cc.dstErr {
		// Deliver what was valid (at least a response head) before the
		// caller cuts the connection.
		cc.flushOut()
	}
	*buf = cc.out[:0]
	return err, cc.dstErr
}

func (cc *chunkCopier) run() error {
	br := &cc.src.br
	for {
		n, err := cc.line()
		if err != nil {
			return err
		}
		line := br.buffered()[:n]
		size, ok := parseChunkSize(line[:n-2])
		if !ok {
			return errBadChunk
		}
		if !cc.dechunk {
			cc.out = append(cc.out, line...)
		}
		br.discard(n)
		if size == 0 {
			break
		}
		if err := cc.data(size); err != nil {
			return err
		}
		if err := cc.need(2); err != nil {
			return err
		}
		if b := br.buffered(); b[0] != '\r' || b[1] != '\n' {
			return errBadChunk
		}
		br.discard(2)
		if !cc.dechunk {
			cc.out = append(cc.out, "\r\n"...)
		}
	}
	// The trailer section: field lines, then an empty line.
	total := 0
	for {
		n, err := cc.line()
		if err != nil {
			return err
		}
		line := br.buffered()[:n]
		if n > 2 {
			if _, perr := parseField(line, span{0, int32(n - 2)}); perr != nil {
				return errBadChunk
			}
			if total += n; total > maxTrailers {
				return errBadChunk
			}
		}
		if !cc.dechunk {
			cc.out = append(cc.out, line...)
		}
		br.discard(n)
		if n == 2 {
			break
		}
	}
	return cc.flushOut()
}

// data copies size bytes of chunk data.
func (cc *chunkCopier) data(size int64) error {
	br := &cc.src.br
	for size > 0 {
		if br.n() == 0 {
			if err := cc.fill(); err != nil {
				return err
			}
		}
		b := br.buffered()
		if int64(len(b)) > size {
			b = b[:size]
		}
		if len(b) >= directWrite {
			if err := cc.flushOut(); err != nil {
				return err
			}
			if err := cc.dst.write(b); err != nil {
				cc.dstErr = true
				return err
			}
		} else {
			cc.out = append(cc.out, b...)
		}
		br.discard(len(b))
		size -= int64(len(b))
	}
	return nil
}

// line waits until a whole CRLF-terminated line is buffered and returns
// its length with the CRLF.
func (cc *chunkCopier) line() (int, error) {
	for {
		b := cc.src.br.buffered()
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			if i == 0 || b[i-1] != '\r' {
				return 0, errBadChunk
			}
			return i + 1, nil
		}
		if len(b) >= maxChunkLine {
			return 0, errBadChunk
		}
		if err := cc.fill(); err != nil {
			return 0, err
		}
	}
}

// need waits until n bytes are buffered.
func (cc *chunkCopier) need(n int) error {
	for cc.src.br.n() < n {
		if err := cc.fill(); err != nil {
			return err
		}
	}
	return nil
}

// fill sends what was gathered, then reads more.
func (cc *chunkCopier) fill() error {
	if err := cc.flushOut(); err != nil {
		return err
	}
	if err := cc.src.fill(); err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

func (cc *chunkCopier) flushOut() error {
	if len(cc.out) > 0 {
		if err := cc.dst.write(cc.out); err != nil {
			cc.dstErr = true
			return err
		}
		cc.out = cc.out[:0]
	}
	if err := cc.dst.flush(); err != nil {
		cc.dstErr = true
		return err
	}
	return nil
}

// parseChunkSize parses "1*HEXDIG [ BWS ; chunk-ext ]". Extensions are not
// interpreted, only checked to hold no control characters.
func parseChunkSize(b []byte) (int64, bool) {
	var n int64
	i := 0
	for ; i < len(b); i++ {
		c := b[i]
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			goto ext
		}
		if i >= 15 {
			return 0, false // would overflow int64
		}
		n = n<<4 | int64(d)
	}
ext:
	if i == 0 {
		return 0, false
	}
	rest := b[i:]
	for len(rest) > 0 && (rest[0] == ' ' || rest[0] == '\t') {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return n, len(rest) == len(b[i:]) // whitespace without extension is not allowed
	}
	if rest[0] != ';' {
		return 0, false
	}
	for _, c := range rest {
		if !valueChar[c] {
			return 0, false
		}
	}
	return n, true
}
