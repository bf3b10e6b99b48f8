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
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"signet.dev/signet/pkg/nodecache/dnswire"
)

// Upstream is one upstream server of a group.
type Upstream struct {
	f     *Forwarder
	group *Group
	addr  string
	pool  *tcpPool

	downUntil atomic.Int64 // unix nanoseconds; tried last until then

	udpLatency, tcpLatency prometheus.Observer
	errors                 prometheus.Counter
}

func (f *Forwarder) newUpstream(g *Group, addr string) *Upstream {
	u := &Upstream{
		f:          f,
		group:      g,
		addr:       addr,
		udpLatency: f.metrics.latency.WithLabelValues(addr, "udp"),
		tcpLatency: f.metrics.latency.WithLabelValues(addr, "tcp"),
		errors:     f.metrics.errors.WithLabelValues(addr),
	}
	opened := f.metrics.conns.WithLabelValues(addr)
	u.pool = &tcpPool{
		addr:        addr,
		dial:        func(ctx context.Context) (net.Conn, error) { return f.dialer.DialContext(ctx, "tcp", addr) },
		maxConns:    f.cfg.MaxConnsPerUpstream,
		maxPipeline: f.cfg.MaxPipeline,
		idleTimeout: f.cfg.IdleTimeout,
		clock:       f.clock,
		onOpen:      opened.Inc,
	}
	return u
}

// Addr returns the upstream's host:port.
func (u *Upstream) Addr() string { return u.addr }

// Group returns the group the upstream belongs to.
func (u *Upstream) Group() *Group { return u.group }

// Exchange sends q to this upstream alone, within the per-attempt timeout, and
// returns its answer. It records health and metrics. It is not bounded by
// MaxConcurrent; Group.Resolve is.
func (u *Upstream) Exchange(ctx context.Context, q dnswire.Question) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, u.f.cfg.Timeout)
	defer cancel()
	m, err := u.exchange(ctx, q)
	now := u.f.clock.Now()
	if err != nil {
		u.errors.Inc()
		u.downUntil.Store(now.Add(u.f.cfg.DownTime).UnixNano())
		return nil, fmt.Errorf("upstream %s: %w", u.addr, err)
	}
	u.downUntil.Store(0)
	u.f.lastSuccess.Store(now.UnixNano())
	u.f.metrics.rcodes.WithLabelValues(u.addr, dns.RcodeToString[m.Rcode]).Inc()
	return m, nil
}

func (u *Upstream) exchange(ctx context.Context, q dnswire.Question) (*dns.Msg, error) {
	query, err := u.pack(q)
	if err != nil {
		return nil, err
	}
	if u.group.proto == UDP {
		start := time.Now()
		wire, err := u.exchangeUDP(ctx, query[2:])
		if err != nil {
			return nil, err
		}
		u.udpLatency.Observe(time.Since(start).Seconds())
		m, err := u.unpack(wire, q)
		if err != nil || !m.Truncated {
			return m, err
		}
		// Truncated: ask again over TCP.
	}
	start := time.Now()
	wire, err := u.pool.exchange(ctx, query)
	if err != nil {
		return nil, err
	}
	u.tcpLatency.Observe(time.Since(start).Seconds())
	return u.unpack(wire, q)
}

// pack builds the query for q, preceded by two bytes for the TCP length.
func (u *Upstream) pack(q dnswire.Question) ([]byte, error) {
	m := &dns.Msg{
		MsgHdr: dns.MsgHdr{
			Opcode:           dns.OpcodeQuery,
			RecursionDesired: true,
			CheckingDisabled: q.CD,
		},
		Question: []dns.Question{{Name: q.Name, Qtype: q.Type, Qclass: q.Class}},
	}
	opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	opt.SetUDPSize(u.f.cfg.UDPSize)
	opt.SetDo(q.DO)
	opt.Option = u.group.options
	m.Extra = []dns.RR{opt}
	wire, err := m.Pack()
	if err != nil {
		return nil, fmt.Errorf("packing query for %q: %w", q.Name, err)
	}
	buf := make([]byte, 2+len(wire))
	copy(buf[2:], wire)
	binary.BigEndian.PutUint16(buf, uint16(len(buf)-2))
	return buf, nil
}

// unpack parses an answer and checks that it answers q.
func (u *Upstream) unpack(wire []byte, q dnswire.Question) (*dns.Msg, error) {
	m := new(dns.Msg)
	if err := m.Unpack(wire); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	if !m.Response || len(m.Question) != 1 ||
		m.Question[0].Qtype != q.Type || m.Question[0].Qclass != q.Class ||
		!strings.EqualFold(m.Question[0].Name, q.Name) {
		return nil, fmt.Errorf("%w: question %v", ErrBadResponse, m.Question)
	}
	return m, nil
}

var udpBufs = sync.Pool{New: func() any { b := make([]byte, dnswire.MaxMsgSize); return &b }}

// exchangeUDP sends query from a fresh socket, so each query has its own
// random source port, and waits for the answer with a matching ID, ignoring
// anything else.
func (u *Upstream) exchangeUDP(ctx context.Context, query []byte) ([]byte, error) {
	conn, err := u.f.dialer.DialContext(ctx, "udp", u.addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	id := uint16(rand.Uint32())
	binary.BigEndian.PutUint16(query, id)
	if _, err := conn.Write(query); err != nil {
		return nil, err
	}
	bp := udpBufs.Get().(*[]byte)
	defer udpBufs.Put(bp)
	buf := *bp
	for {
		n, err := conn.Read(buf)
		if err != nil {
			if ctx.Err() != nil && errors.Is(err, os.ErrDeadlineExceeded) {
				return nil, ctx.Err()
			}
			return nil, err
		}
		if n < dnswire.HeaderLen || binary.BigEndian.Uint16(buf) != id || buf[2]&0x80 == 0 {
			continue // not our answer: spoofed, late or garbage
		}
		return append([]byte(nil), buf[:n]...), nil
	}
}
