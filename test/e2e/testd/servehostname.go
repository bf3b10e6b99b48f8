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

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

const (
	defaultServeHostnamePort = 9376
	// shutdownGrace bounds finishing the requests in flight on SIGTERM.
	shutdownGrace = 5 * time.Second
	// maxDatagram is the largest UDP request read.
	maxDatagram = 2048
)

func runServeHostname(ctx context.Context, env *environment, args []string) int {
	fs := newFlagSet(env, "serve-hostname", "")
	port := fs.Int("port", defaultServeHostnamePort, "Port of every protocol switched on with --http, --tcp or --udp.")
	httpOn := fs.Bool("http", true, "Serve the hostname over HTTP on --port (unless --http-port is given).")
	tcpOn := fs.Bool("tcp", false, "Serve the hostname over TCP on --port: each connection gets one line.")
	udpOn := fs.Bool("udp", false, "Serve the hostname over UDP on --port: each datagram gets one back.")
	httpPort := fs.Int("http-port", 0, "Serve HTTP on this port (switches HTTP on); -1 switches it off.")
	tcpPort := fs.Int("tcp-port", 0, "Serve TCP on this port (switches TCP on); -1 switches it off.")
	udpPort := fs.Int("udp-port", 0, "Serve UDP on this port (switches UDP on); -1 switches it off.")
	if !parse(env, fs, args) {
		return 2
	}
	ports, err := hostnamePorts(*port, [3]bool{*httpOn, *tcpOn, *udpOn}, [3]int{*httpPort, *tcpPort, *udpPort})
	if err != nil {
		fmt.Fprintf(env.stderr, "signet-testd serve-hostname: %v\n", err)
		return 2
	}
	s := &hostnameServer{hostname: hostnameOf(env), log: env.stderr}
	var servers []func(context.Context) error
	if ports.http > 0 {
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(ports.http))
		if err != nil {
			fmt.Fprintf(env.stderr, "signet-testd serve-hostname: %v\n", err)
			return 1
		}
		servers = append(servers, func(ctx context.Context) error { return serveHTTP(ctx, ln, s.httpHandler()) })
	}
	if ports.tcp > 0 {
		ln, err := net.Listen("tcp", ":"+strconv.Itoa(ports.tcp))
		if err != nil {
			fmt.Fprintf(env.stderr, "signet-testd serve-hostname: %v\n", err)
			return 1
		}
		servers = append(servers, func(ctx context.Context) error { return s.serveTCP(ctx, ln) })
	}
	if ports.udp > 0 {
		pc, err := net.ListenPacket("udp", ":"+strconv.Itoa(ports.udp))
		if err != nil {
			fmt.Fprintf(env.stderr, "signet-testd serve-hostname: %v\n", err)
			return 1
		}
		servers = append(servers, func(ctx context.Context) error {
			return serveUDP(ctx, pc, func(_ []byte, _ net.Addr) []byte { return []byte(s.hostname) })
		})
	}
	fmt.Fprintf(env.stderr, "serve-hostname: answering %q on %s\n", s.hostname, ports)
	if err := runAll(ctx, servers...); err != nil {
		fmt.Fprintf(env.stderr, "signet-testd serve-hostname: %v\n", err)
		return 1
	}
	return 0
}

// servedPorts are the ports of serve-hostname's protocols; 0 is off.
type servedPorts struct{ http, tcp, udp int }

func (p servedPorts) String() string {
	return fmt.Sprintf("http=%d tcp=%d udp=%d (0 is off)", p.http, p.tcp, p.udp)
}

// hostnamePorts works out which protocol listens where: a protocol's own
// port flag wins (-1 is off, 0 is unset); otherwise the protocol's switch
// puts it on the common port.
func hostnamePorts(common int, on [3]bool, own [3]int) (servedPorts, error) {
	var ports [3]int
	for i := range ports {
		switch {
		case own[i] < 0:
		case own[i] > 0:
			ports[i] = own[i]
		case on[i]:
			if common <= 0 {
				return servedPorts{}, fmt.Errorf("--port %d is out of range 1-65535", common)
			}
			ports[i] = common
		}
		if ports[i] > 65535 {
			return servedPorts{}, fmt.Errorf("port %d is out of range 1-65535", ports[i])
		}
	}
	p := servedPorts{http: ports[0], tcp: ports[1], udp: ports[2]}
	if p.http == 0 && p.tcp == 0 && p.udp == 0 {
		return p, errors.New("no protocol to serve: use --http, --tcp, --udp or their --*-port flags")
	}
	if p.http != 0 && p.http == p.tcp {
		return p, fmt.Errorf("HTTP and TCP cannot both listen on port %d", p.http)
	}
	return p, nil
}

// hostnameServer answers every request with the hostname.
type hostnameServer struct {
	hostname string
	log      io.Writer
}

func (s *hostnameServer) httpHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, s.hostname)
	})
}

// serveTCP writes the hostname and a newline to each connection and
// closes it.
func (s *hostnameServer) serveTCP(ctx context.Context, ln net.Listener) error {
	return acceptLoop(ctx, ln, func(c net.Conn) {
		_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, s.hostname+"\n")
	})
}

// acceptLoop hands each connection to handle (which need not close it)
// until ctx ends or the listener fails.
func acceptLoop(ctx context.Context, ln net.Listener, handle func(net.Conn)) error {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		go func() {
			defer c.Close()
			handle(c)
		}()
	}
}

// serveUDP answers each datagram with reply(request, peer) until ctx
// ends; a nil reply sends nothing.
func serveUDP(ctx context.Context, pc net.PacketConn, reply func(req []byte, peer net.Addr) []byte) error {
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()
	buf := make([]byte, maxDatagram)
	for {
		n, peer, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if out := reply(buf[:n], peer); out != nil {
			_, _ = pc.WriteTo(out, peer)
		}
	}
}

// serveHTTP serves h on ln until ctx ends, then lets the requests in
// flight finish for a while.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return nil
	}
}

// runAll runs servers until ctx ends or one fails; it returns the first
// failure after the others stopped.
func runAll(ctx context.Context, servers ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for _, serve := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := serve(ctx); err != nil {
				once.Do(func() { first = err })
				cancel()
			}
		}()
	}
	wg.Wait()
	return first
}
