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
	"testing"
	"time"
)

// pipeUpConn is an upConn over one end of a pipe; closed reports whether
// the pool closed it.
func pipeUpConn(t *testing.T, p *pool) (*upConn, func() bool) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	u := &upConn{pool: p}
	u.conn = a
	return u, func() bool {
		b.SetReadDeadline(time.Now().Add(time.Second))
		_, err := b.Read(make([]byte, 1))
		return err != nil && !isTimeout(err)
	}
}

func TestPool(t *testing.T) {
	now := time.Now()
	p := &pool{addr: "x", max: 2, idleTimeout: time.Minute}
	u1, closed1 := pipeUpConn(t, p)
	u2, _ := pipeUpConn(t, p)
	u3, _ := pipeUpConn(t, p)
	p.put(u1, now)
	p.put(u2, now.Add(time.Second))
	p.put(u3, now.Add(2*time.Second))
	if n := p.idleCount(); n != 2 {
		t.Fatalf("%d idle, want the bound of 2", n)
	}
	if !closed1() {
		t.Errorf("the oldest connection was not closed when the pool was full")
	}
	if got := p.get(now.Add(3 * time.Second)); got != u3 || !got.reused {
		t.Errorf("get returned %p, want the most recent (%p), marked reused", got, u3)
	}
	p.put(u3, now.Add(3*time.Second))
	// u2 expires first.
	p.sweep(now.Add(time.Second + time.Minute))
	if n := p.idleCount(); n != 1 {
		t.Errorf("%d idle after the sweep, want 1", n)
	}
	if got := p.get(now.Add(2 * time.Hour)); got != nil {
		t.Errorf("get returned an expired connection")
	}
	u4, closed4 := pipeUpConn(t, p)
	p.retire()
	p.put(u4, now)
	if p.idleCount() != 0 || !closed4() {
		t.Errorf("a retired pool kept a connection")
	}
}
