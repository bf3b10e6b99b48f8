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

package forward

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"signet.dev/signet/pkg/nodecache/dnswire"
)

var (
	// errConnClosed means the connection died before the answer came; the
	// query may be retried on another connection.
	errConnClosed = errors.New("tcp connection closed")
	// errBusy means every connection carries MaxPipeline queries.
	errBusy = errors.New("tcp connections to upstream are saturated")
	// errPoolClosed means the forwarder was closed.
	errPoolClosed = errors.New("forwarder closed")
)

// tcpPool keeps a few persistent TCP connections to one upstream and
// pipelines queries on them, matching answers to queries by message ID.
// A new connection is opened only when every open one is busy.
type tcpPool struct {
	addr        string
	dial        func(ctx context.Context) (net.Conn, error)
	maxConns    int
	maxPipeline int
	idleTimeout time.Duration
	clock       clock.PassiveClock
	onOpen      func()

	mu       sync.Mutex
	conns    []*pipeConn
	dialing  int
	dialDone chan struct{} // closed when a dial under way ends
	closed   bool
	readers  sync.WaitGroup
}

// exchange sends query (a DNS message behind its two-byte length prefix; the
// ID is overwritten) and returns the answer. A query lost because a reused
// connection died, typically closed by the upstream while idle, is retried on
// another connection.
func (p *tcpPool) exchange(ctx context.Context, query []byte) ([]byte, error) {
	if len(query) < 2+dnswire.HeaderLen || len(query)-2 > dnswire.MaxMsgSize {
		return nil, fmt.Errorf("invalid query length %d", len(query))
	}
	binary.BigEndian.PutUint16(query, uint16(len(query)-2))
	for attempt := 0; ; attempt++ {
		pc, fresh, err := p.get(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := pc.roundTrip(ctx, query)
		if err == nil {
			return resp, nil
		}
		if !errors.Is(err, errConnClosed) || fresh || attempt >= p.maxConns || ctx.Err() != nil {
			return nil, err
		}
	}
}

// get returns a connection for one more query and whether it was dialled for
// it: an idle open connection, else a new one while under maxConns, else the
// least loaded one with room in its pipeline, else, while a dial is under way,
// whatever that dial brings.
func (p *tcpPool) get(ctx context.Context) (*pipeConn, bool, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, false, errPoolClosed
		}
		best, bestLoad := p.leastLoaded()
		if best != nil && bestLoad == 0 {
			p.mu.Unlock()
			return best, false, nil
		}
		if len(p.conns)+p.dialing < p.maxConns {
			return p.dialLocked(ctx, best, bestLoad)
		}
		if best != nil && bestLoad < p.maxPipeline {
			p.mu.Unlock()
			return best, false, nil
		}
		if p.dialing == 0 {
			p.mu.Unlock()
			return nil, false, errBusy
		}
		wait := p.dialDone
		p.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

// leastLoaded drops dead and idle connections and returns the open one with
// the fewest queries in flight. p.mu is held.
func (p *tcpPool) leastLoaded() (*pipeConn, int) {
	now := p.clock.Now()
	var best *pipeConn
	bestLoad := 0
	live := p.conns[:0]
	for _, pc := range p.conns {
		load, lastUsed, dead := pc.state()
		if dead {
			continue
		}
		if load == 0 && now.Sub(lastUsed) > p.idleTimeout {
			// The upstream may be closing it; do not reuse it.
			go pc.fail(errors.New("idle"))
			continue
		}
		live = append(live, pc)
		if best == nil || load < bestLoad {
			best, bestLoad = pc, load
		}
	}
	clear(p.conns[len(live):])
	p.conns = live
	return best, bestLoad
}

// dialLocked opens a new connection; p.mu is held on entry and released. If
// the dial fails, best is used when it has room.
func (p *tcpPool) dialLocked(ctx context.Context, best *pipeConn, bestLoad int) (*pipeConn, bool, error) {
	p.dialing++
	if p.dialDone == nil {
		p.dialDone = make(chan struct{})
	}
	p.mu.Unlock()
	conn, err := p.dial(ctx)
	p.mu.Lock()
	p.dialing--
	close(p.dialDone)
	p.dialDone = nil
	if p.dialing > 0 {
		p.dialDone = make(chan struct{})
	}
	if err == nil && p.closed {
		p.mu.Unlock()
		_ = conn.Close()
		return nil, false, errPoolClosed
	}
	if err != nil {
		p.mu.Unlock()
		if best != nil && bestLoad < p.maxPipeline {
			return best, false, nil
		}
		return nil, false, err
	}
	pc := &pipeConn{pool: p, conn: conn, pending: map[uint16]chan tcpResult{}, nextID: uint16(rand.Uint32()), lastUsed: p.clock.Now()}
	p.conns = append(p.conns, pc)
	p.readers.Add(1)
	p.mu.Unlock()
	p.onOpen()
	go pc.readLoop()
	return pc, true, nil
}

func (p *tcpPool) remove(pc *pipeConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, c := range p.conns {
		if c == pc {
			p.conns = append(p.conns[:i], p.conns[i+1:]...)
			return
		}
	}
}

// close closes every connection and waits for their readers.
func (p *tcpPool) close() {
	p.mu.Lock()
	p.closed = true
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, pc := range conns {
		pc.fail(errPoolClosed)
	}
	p.readers.Wait()
}

// openConns returns the number of open connections.
func (p *tcpPool) openConns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

type tcpResult struct {
	msg []byte
	err error
}

// pipeConn is one TCP connection carrying concurrent queries.
type pipeConn struct {
	pool *tcpPool
	conn net.Conn
	wmu  sync.Mutex // serialises writes

	mu       sync.Mutex
	pending  map[uint16]chan tcpResult
	nextID   uint16
	dead     bool
	lastUsed time.Time
	lastRead time.Time
}

func (pc *pipeConn) state() (load int, lastUsed time.Time, dead bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return len(pc.pending), pc.lastUsed, pc.dead
}

// roundTrip writes query under a fresh ID and waits for its answer.
func (pc *pipeConn) roundTrip(ctx context.Context, query []byte) ([]byte, error) {
	ch := make(chan tcpResult, 1)
	pc.mu.Lock()
	if pc.dead {
		pc.mu.Unlock()
		return nil, errConnClosed
	}
	if len(pc.pending) >= pc.pool.maxPipeline {
		pc.mu.Unlock()
		return nil, errBusy
	}
	id := pc.nextID
	for _, used := pc.pending[id]; used; _, used = pc.pending[id] {
		id++
	}
	pc.nextID = id + 1
	pc.pending[id] = ch
	sent := pc.pool.clock.Now()
	pc.lastUsed = sent
	pc.mu.Unlock()

	pc.wmu.Lock()
	binary.BigEndian.PutUint16(query[2:], id)
	dl, _ := ctx.Deadline()
	_ = pc.conn.SetWriteDeadline(dl)
	_, err := pc.conn.Write(query)
	pc.wmu.Unlock()
	if err != nil {
		// A partial write leaves the stream unusable.
		pc.fail(err)
		return nil, fmt.Errorf("%w: %w", errConnClosed, err)
	}

	select {
	case r := <-ch:
		return r.msg, r.err
	case <-ctx.Done():
		pc.mu.Lock()
		delete(pc.pending, id)
		silent := !pc.dead && pc.lastRead.Before(sent)
		pc.mu.Unlock()
		if silent {
			// Nothing at all came back since this query was sent: the
			// connection or the upstream is stuck. Let the others fail over.
			pc.fail(errors.New("upstream unresponsive"))
		}
		return nil, ctx.Err()
	}
}

// readLoop reads answers and hands each to the query waiting for its ID.
func (pc *pipeConn) readLoop() {
	defer pc.pool.readers.Done()
	var hdr [2]byte
	for {
		if _, err := io.ReadFull(pc.conn, hdr[:]); err != nil {
			pc.fail(err)
			return
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		if n < dnswire.HeaderLen {
			pc.fail(fmt.Errorf("answer of %d bytes is shorter than a header", n))
			return
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(pc.conn, msg); err != nil {
			pc.fail(err)
			return
		}
		id := binary.BigEndian.Uint16(msg)
		pc.mu.Lock()
		ch := pc.pending[id]
		delete(pc.pending, id)
		pc.lastRead = pc.pool.clock.Now()
		pc.lastUsed = pc.lastRead
		pc.mu.Unlock()
		if ch != nil {
			ch <- tcpResult{msg: msg}
		}
	}
}

// fail closes the connection and fails its pending queries. Idempotent.
func (pc *pipeConn) fail(cause error) {
	pc.mu.Lock()
	if pc.dead {
		pc.mu.Unlock()
		return
	}
	pc.dead = true
	pending := pc.pending
	pc.pending = nil
	pc.mu.Unlock()
	_ = pc.conn.Close()
	err := fmt.Errorf("%w: %w", errConnClosed, cause)
	for _, ch := range pending {
		ch <- tcpResult{err: err}
	}
	pc.pool.remove(pc)
}
