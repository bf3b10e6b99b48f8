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
)

// errHeadTooLarge is returned by grow when a message head does not fit in
// the largest buffer allowed.
var errHeadTooLarge = errors.New("message head too large")

// bufReader is a minimal buffered reader over a connection. Unlike
// bufio.Reader it exposes its buffer: a request or response head is parsed
// in place, its lines are copied to the other side as whole spans, and a
// Content-Length body that arrived with the head is forwarded straight from
// the buffer, without another copy. It can also grow, once, for an unusually
// large head, so that the common small head costs a small buffer.
type bufReader struct {
	rd   io.Reader
	buf  []byte
	r, w int
}

// reset points b at rd with an empty buffer of at least size bytes,
// keeping the buffer it has when it is large enough.
func (b *bufReader) reset(rd io.Reader, size int) {
	b.rd = rd
	if cap(b.buf) < size {
		b.buf = make([]byte, size)
	}
	b.buf = b.buf[:cap(b.buf)]
	b.r, b.w = 0, 0
}

// buffered returns the bytes read but not consumed. The slice is valid
// until the next fill or grow.
func (b *bufReader) buffered() []byte { return b.buf[b.r:b.w] }

// n returns the number of buffered bytes.
func (b *bufReader) n() int { return b.w - b.r }

// discard consumes n buffered bytes (n <= b.n()).
func (b *bufReader) discard(n int) {
	b.r += n
	if b.r == b.w {
		b.r, b.w = 0, 0
	}
}

// full reports whether the buffer has no room left even after compaction.
func (b *bufReader) full() bool { return b.r == 0 && b.w == len(b.buf) }

// fill reads once from the connection, appending to the buffered bytes. It
// returns nil when at least one byte was added and the read error
// otherwise; a full buffer returns errHeadTooLarge (callers grow first).
func (b *bufReader) fill() error {
	if b.r > 0 && b.w == len(b.buf) {
		// Move the unread bytes to the front; this only happens when a
		// message straddles the end of the buffer.
		b.w = copy(b.buf, b.buf[b.r:b.w])
		b.r = 0
	}
	if b.w == len(b.buf) {
		return errHeadTooLarge
	}
	for range 100 {
		n, err := b.rd.Read(b.buf[b.w:])
		b.w += n
		if n > 0 {
			// A connection repeats its error on the next Read, so
			// dropping it here loses nothing.
			return nil
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// grow doubles the buffer, up to limit bytes, keeping the buffered bytes.
func (b *bufReader) grow(limit int) error {
	if len(b.buf) >= limit {
		return errHeadTooLarge
	}
	size := min(2*len(b.buf), limit)
	nb := make([]byte, size)
	b.w = copy(nb, b.buf[b.r:b.w])
	b.r = 0
	b.buf = nb
	return nil
}

// Read implements io.Reader: buffered bytes first, then, when the buffer is
// empty, straight from the connection into p (large reads skip the buffer).
func (b *bufReader) Read(p []byte) (int, error) {
	if b.r < b.w {
		n := copy(p, b.buf[b.r:b.w])
		b.discard(n)
		return n, nil
	}
	return b.rd.Read(p)
}
