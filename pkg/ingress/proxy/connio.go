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
	"net"
	"time"
)

// connIO is one side of a proxied exchange: a connection, its read buffer
// and its deadlines.
//
// Deadlines are set coarsely: a new deadline is only handed to the runtime
// when it differs from the one in force by more than a small slack (an
// eighth of the timeout, at most a second). A busy keep-alive connection
// thus touches its timers about once a second instead of several times per
// request, and a timeout fires at most that slack early.
type connIO struct {
	conn         net.Conn
	br           bufReader
	readTimeout  time.Duration
	writeTimeout time.Duration
	// rdl and wdl are the read and write deadlines in force (Unix ns, 0:
	// none).
	rdl, wdl int64
}

func slack(d time.Duration) int64 {
	return int64(min(d/8, time.Second))
}

// readDeadline arranges for reads to time out d after now.
func (c *connIO) readDeadline(now time.Time, d time.Duration) {
	t := now.UnixNano() + int64(d)
	if t < c.rdl || t-c.rdl > slack(d) {
		c.conn.SetReadDeadline(now.Add(d))
		c.rdl = t
	}
}

// writeDeadline arranges for writes to time out d after now.
func (c *connIO) writeDeadline(now time.Time, d time.Duration) {
	t := now.UnixNano() + int64(d)
	if t < c.wdl || t-c.wdl > slack(d) {
		c.conn.SetWriteDeadline(now.Add(d))
		c.wdl = t
	}
}

// clearDeadlines removes both deadlines (for upgraded connections, which
// may stay quiet for as long as their peers like).
func (c *connIO) clearDeadlines() {
	c.conn.SetDeadline(time.Time{})
	c.rdl, c.wdl = 0, 0
}

// fill reads more into the buffer, within readTimeout.
func (c *connIO) fill() error {
	c.readDeadline(time.Now(), c.readTimeout)
	return c.br.fill()
}

// write writes p within writeTimeout. It implements sink.
func (c *connIO) write(p []byte) error {
	return c.writeAt(p, time.Now())
}

// writeAt is write with the current time supplied by the caller, who read
// the clock a moment ago (reading it costs more than the rest of the
// deadline check).
func (c *connIO) writeAt(p []byte, now time.Time) error {
	c.writeDeadline(now, c.writeTimeout)
	_, err := c.conn.Write(p)
	return err
}

// flush implements sink: connection writes are not buffered.
func (c *connIO) flush() error { return nil }

// sink is where a body goes: a connection (HTTP/1.x client or backend) or
// an HTTP/2 response. flush is called before every read that may block, so
// that what was written so far reaches the peer first.
type sink interface {
	write(p []byte) error
	flush() error
}
