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

package server

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"k8s.io/klog/v2"

	"signet.dev/signet/pkg/nodecache/dnswire"
)

// protocol is the transport a query came over.
type protocol int

const (
	protoUDP protocol = iota
	protoTCP
)

func (p protocol) String() string {
	if p == protoTCP {
		return "tcp"
	}
	return "udp"
}

// aLongTimeAgo is a deadline in the past, to make blocked reads return.
var aLongTimeAgo = time.Unix(1, 0)

// serveUDP reads queries from one UDP socket. Cache hits and errors are
// answered inline; misses are resolved in their own goroutine, at most
// MaxInFlight at a time.
func (s *Server) serveUDP(conn *net.UDPConn) {
	defer s.wg.Done()
	logger := klog.FromContext(s.ctx)
	in := make([]byte, dnswire.MaxMsgSize)
	out := make([]byte, 0, dnswire.MaxMsgSize)
	for {
		n, addr, err := conn.ReadFromUDPAddrPort(in)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			logger.V(2).Info("Reading UDP query failed", "err", err)
			continue
		}
		msg := in[:n]
		var q dnswire.Query
		resp, act := s.handleFast(protoUDP, msg, &q, out[:0])
		switch act {
		case actReply:
			s.writeUDP(conn, resp, addr)
		case actResolve:
			if !s.acquire() {
				s.writeUDP(conn, s.refuse(msg, &q, out[:0]), addr)
				continue
			}
			req := s.getBuf()
			*req = append(*req, msg...)
			s.wg.Add(1)
			go s.resolveUDP(conn, addr, req, q)
		}
	}
}

func (s *Server) resolveUDP(conn *net.UDPConn, addr netip.AddrPort, req *[]byte, q dnswire.Query) {
	defer s.wg.Done()
	defer s.release()
	defer s.putBuf(req)
	out := s.getBuf()
	defer s.putBuf(out)
	s.writeUDP(conn, s.resolve(s.ctx, protoUDP, *req, &q, *out), addr)
}

func (s *Server) writeUDP(conn *net.UDPConn, resp []byte, addr netip.AddrPort) {
	if _, err := conn.WriteToUDPAddrPort(resp, addr); err != nil && !errors.Is(err, net.ErrClosed) {
		klog.FromContext(s.ctx).V(4).Info("Writing UDP answer failed", "client", addr, "err", err)
	}
}

// serveTCP accepts client connections, at most MaxTCPConns at a time.
func (s *Server) serveTCP(l net.Listener) {
	defer s.wg.Done()
	logger := klog.FromContext(s.ctx)
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			logger.V(2).Info("Accepting TCP connection failed", "err", err)
			time.Sleep(5 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		if !s.addConn(c) {
			s.metrics.tcpRejected.Inc()
			_ = c.Close()
			continue
		}
		s.wg.Add(1)
		go s.serveTCPConn(c)
	}
}

func (s *Server) addConn(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping || len(s.tcpConns) >= s.cfg.MaxTCPConns {
		return false
	}
	s.tcpConns[c] = struct{}{}
	return true
}

func (s *Server) removeConn(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tcpConns, c)
}

// tcpConn is one client TCP connection. Queries may be pipelined; answers
// are written as they are ready, in any order (RFC 7766 section 6.2.1.1).
type tcpConn struct {
	c        net.Conn
	wmu      sync.Mutex
	slots    chan struct{} // bounds queries being resolved for this connection
	inflight sync.WaitGroup
}

func (s *Server) serveTCPConn(c net.Conn) {
	defer s.wg.Done()
	tc := &tcpConn{c: c, slots: make(chan struct{}, s.cfg.MaxTCPPipeline)}
	defer func() {
		tc.inflight.Wait()
		s.removeConn(c)
		_ = c.Close()
	}()
	in, out := s.getBuf(), s.getBuf()
	defer s.putBuf(in)
	defer s.putBuf(out)
	buf := (*in)[:dnswire.MaxMsgSize]
	var hdr [2]byte
	for {
		_ = c.SetReadDeadline(time.Now().Add(s.cfg.TCPIdleTimeout))
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		msg := buf[:binary.BigEndian.Uint16(hdr[:])]
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		var q dnswire.Query
		resp, act := s.handleFast(protoTCP, msg, &q, (*out)[:2])
		switch act {
		case actReply:
			s.writeTCP(tc, resp)
		case actResolve:
			tc.slots <- struct{}{}
			if !s.acquire() {
				<-tc.slots
				s.writeTCP(tc, s.refuse(msg, &q, (*out)[:2]))
				continue
			}
			req := s.getBuf()
			*req = append(*req, msg...)
			tc.inflight.Add(1)
			go s.resolveTCP(tc, req, q)
		}
	}
}

func (s *Server) resolveTCP(tc *tcpConn, req *[]byte, q dnswire.Query) {
	defer tc.inflight.Done()
	defer func() { <-tc.slots }()
	defer s.release()
	defer s.putBuf(req)
	out := s.getBuf()
	defer s.putBuf(out)
	s.writeTCP(tc, s.resolve(s.ctx, protoTCP, *req, &q, (*out)[:2]))
}

// writeTCP writes resp, whose first two bytes are reserved for its length.
func (s *Server) writeTCP(tc *tcpConn, resp []byte) {
	if len(resp) <= 2 || len(resp)-2 > dnswire.MaxMsgSize {
		return
	}
	binary.BigEndian.PutUint16(resp, uint16(len(resp)-2))
	tc.wmu.Lock()
	defer tc.wmu.Unlock()
	_ = tc.c.SetWriteDeadline(time.Now().Add(s.cfg.TCPIdleTimeout))
	if _, err := tc.c.Write(resp); err != nil {
		klog.FromContext(s.ctx).V(4).Info("Writing TCP answer failed", "client", tc.c.RemoteAddr(), "err", err)
		_ = tc.c.Close()
	}
}
