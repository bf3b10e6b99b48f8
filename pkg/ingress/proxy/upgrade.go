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
	"io"
	"net"
	"time"

	"k8s.io/klog/v2"
)

// upgradeLinger bounds how long the other direction of an upgraded
// connection may stay open after one side finished sending.
const upgradeLinger = 30 * time.Second

// relayUpgrade completes a protocol switch (WebSocket and the like): the
// backend answered 101, whose head (n bytes) is in uc's buffer. The 101
// goes to the client, then bytes are copied both ways until both sides are
// done. uc was dialled for this request and never returns to a pool.
func (c *clientConn) relayUpgrade(be *backendRT, uc *upConn, n int, start time.Time) bool {
	b := c.appendResponseHead(c.sc.out[:0], bmNone, true, true)
	uc.br.discard(n)
	// Whatever the backend sent after the 101 belongs to the new protocol.
	b = append(b, uc.br.buffered()...)
	uc.br.discard(uc.br.n())
	c.sc.out = b[:0]
	c.state.Store(stateUpgraded)
	be.m.observe(101, time.Since(start))
	if err := c.write(b); err != nil {
		uc.close()
		return false
	}
	c.skipBody()
	if c.br.n() > 0 {
		// Bytes the client sent right after its request.
		if err := uc.write(c.br.buffered()); err != nil {
			uc.close()
			return false
		}
		c.br.discard(c.br.n())
	}
	c.dropScratch() // not needed while splicing, which may last long
	c.clearDeadlines()
	uc.clearDeadlines()
	if v := klog.V(4); v.Enabled() {
		v.InfoS("Switched protocols", "backend", be.name, "client", c.remoteIP)
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		splice(uc.conn, c.conn)
	}()
	splice(c.conn, uc.conn)
	<-done
	uc.close()
	return false
}

// splice copies src to dst until src is done, then half-closes dst so
// that its peer sees the end too, and gives the other direction a bounded
// time to finish.
func splice(dst, src net.Conn) {
	io.Copy(dst, src) // *net.TCPConn to *net.TCPConn uses splice(2)
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	} else {
		dst.Close()
	}
	dst.SetReadDeadline(time.Now().Add(upgradeLinger))
}
