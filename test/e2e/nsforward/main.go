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

// Command nsforward carries TCP connections from listeners inside named
// network namespaces to an address of the namespace it was started in.
// The local cluster (hack/local-up-cluster.sh) runs one per node: the
// node's processes reach kube-apiserver, which listens on the machine's
// loopback, at 127.0.0.1:6443 of the node's own loopback, and no address
// outside the cluster's namespaces receives traffic.
//
//	nsforward --listen=node-1/127.0.0.1:6443 --to=127.0.0.1:26443
//
// A listen address is NETNS/HOST:PORT, NETNS a name under /run/netns (as
// "ip netns" makes them); --listen may repeat. Connections to --to are
// dialled from the namespace nsforward runs in. Test infrastructure, not
// shipped. It exits on SIGTERM or SIGINT, or when a listener fails.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netns"
)

type listenFlags []string

func (l *listenFlags) String() string     { return strings.Join(*l, ",") }
func (l *listenFlags) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var listens listenFlags
	fs := flag.NewFlagSet("nsforward", flag.ContinueOnError)
	fs.Var(&listens, "listen", "NETNS/HOST:PORT to listen on inside the network namespace NETNS (/run/netns/NETNS); repeatable")
	to := fs.String("to", "", "HOST:PORT to connect to, from nsforward's own network namespace")
	dialTimeout := fs.Duration("dial-timeout", 10*time.Second, "timeout of each connection to --to")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: nsforward --listen=NETNS/HOST:PORT [--listen=...] --to=HOST:PORT\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if len(listens) == 0 || *to == "" || fs.NArg() != 0 {
		fs.Usage()
		os.Exit(2)
	}
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)

	var lns []net.Listener
	for _, spec := range listens {
		ns, addr, ok := strings.Cut(spec, "/")
		if !ok || ns == "" || addr == "" {
			log.Fatalf("--listen=%q: want NETNS/HOST:PORT", spec)
		}
		ln, err := listenIn(ns, addr)
		if err != nil {
			log.Fatalf("listening on %s in network namespace %s: %v", addr, ns, err)
		}
		log.Printf("forwarding %s in network namespace %s to %s", ln.Addr(), ns, *to)
		lns = append(lns, ln)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { errc <- serve(ctx, ln, *to, *dialTimeout) }()
	}
	select {
	case <-ctx.Done():
		log.Print("signalled, stopping")
		for _, ln := range lns {
			ln.Close()
		}
	case err := <-errc:
		log.Fatalf("a listener failed: %v", err)
	}
}

// listenIn opens a TCP listener inside the named network namespace: on a
// locked OS thread switched into it, and back. The socket stays in the
// namespace it was created in.
func listenIn(name, addr string) (net.Listener, error) {
	type result struct {
		ln  net.Listener
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		target, err := netns.GetFromName(name)
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: err}
			return
		}
		defer target.Close()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: err}
			return
		}
		defer orig.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			done <- result{err: err}
			return
		}
		ln, lerr := net.Listen("tcp", addr)
		if err := netns.Set(orig); err != nil {
			// The thread stays locked and ends with this goroutine.
			if ln != nil {
				ln.Close()
			}
			done <- result{err: errors.Join(lerr, err)}
			return
		}
		runtime.UnlockOSThread()
		done <- result{ln: ln, err: lerr}
	}()
	r := <-done
	return r.ln, r.err
}

// serve accepts connections until ln is closed and splices each to a new
// connection to target.
func serve(ctx context.Context, ln net.Listener, target string, timeout time.Duration) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
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
			up, err := net.DialTimeout("tcp", target, timeout)
			if err != nil {
				log.Printf("%s -> %s: %v", c.RemoteAddr(), target, err)
				return
			}
			defer up.Close()
			done := make(chan struct{}, 2)
			go func() { copyAndClose(up, c); done <- struct{}{} }()
			go func() { copyAndClose(c, up); done <- struct{}{} }()
			<-done
			<-done
		}()
	}
}

func copyAndClose(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	if tc, ok := dst.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
	}
}
