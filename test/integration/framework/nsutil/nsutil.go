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

// Package nsutil builds small networks of Linux network namespaces for
// data-path tests: namespaces, veth links between them, and sockets
// opened inside them from the test process. Every namespace and link a
// test creates is removed when the test ends; nothing outside them
// receives traffic.
package nsutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netns"
)

// RequireEnv names the environment variable that turns the skips of data-path
// tests into failures. CI sets it: there, a data-path test that did not run
// must not pass as a skip.
const RequireEnv = "SIGNET_REQUIRE_ROOT_TESTS"

// skip skips the test, or fails it when RequireEnv is "1".
func skip(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf(format+" ("+RequireEnv+"=1: this test must run here)", args...)
	}
	t.Skipf(format, args...)
}

// RequireRoot skips the test unless it runs as root with the given tools
// (and ip) on PATH.
func RequireRoot(t testing.TB, tools ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		skip(t, "skipping: needs root to create network namespaces, links and iptables rules")
	}
	for _, tool := range append([]string{"ip"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			skip(t, "skipping: %s not found (apt-get install iproute2 iptables conntrack)", tool)
		}
	}
}

// Run runs a command and fails the test when it fails; it returns the
// combined output.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// NS is a network namespace made for one test.
type NS struct {
	Name   string
	handle netns.NsHandle
}

// New creates a namespace named prefix-<random>, with loopback up, and
// removes it when the test ends.
func New(t testing.TB, prefix string) *NS {
	t.Helper()
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := prefix + "-" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		skip(t, "skipping: ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	h, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ns := &NS{Name: name, handle: h}
	ns.IP(t, "link", "set", "lo", "up")
	return ns
}

// Handle is the namespace's handle, for netlink.NewHandleAt and the like;
// it is closed when the test ends.
func (ns *NS) Handle() netns.NsHandle { return ns.handle }

// IP runs "ip -n <ns> args...".
func (ns *NS) IP(t testing.TB, args ...string) string {
	t.Helper()
	return Run(t, "ip", append([]string{"-n", ns.Name}, args...)...)
}

// Exec runs a command inside the namespace and returns its combined
// output and error.
func (ns *NS) Exec(name string, args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns.Name, name}, args...)...).CombinedOutput()
	return string(out), err
}

// MustExec is Exec failing the test on an error.
func (ns *NS) MustExec(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := ns.Exec(name, args...)
	if err != nil {
		t.Fatalf("in %s: %s %s: %v\n%s", ns.Name, name, strings.Join(args, " "), err, out)
	}
	return out
}

// Command returns a command that runs inside the namespace.
func (ns *NS) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// Do runs fn on an OS thread switched into the namespace. Sockets fn
// creates stay in the namespace after the thread switches back.
func (ns *NS) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(ns.handle); err != nil {
			errc <- err
			return
		}
		err = fn()
		if rerr := netns.Set(orig); rerr != nil {
			// Leave the thread locked: it ends with this goroutine.
			errc <- errors.Join(err, rerr)
			return
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

// Dial connects from inside the namespace.
func (ns *NS) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := ns.Do(func() (err error) {
		c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// Listen listens inside the namespace.
func (ns *NS) Listen(network, addr string) (net.Listener, error) {
	var l net.Listener
	err := ns.Do(func() (err error) {
		l, err = net.Listen(network, addr)
		return err
	})
	return l, err
}

// ListenPacket listens for packets inside the namespace.
func (ns *NS) ListenPacket(network, addr string) (net.PacketConn, error) {
	var c net.PacketConn
	err := ns.Do(func() (err error) {
		c, err = net.ListenPacket(network, addr)
		return err
	})
	return c, err
}

// Link joins a and b with a veth pair named aName in a and bName in b,
// both up.
func Link(t testing.TB, a *NS, aName string, b *NS, bName string) {
	t.Helper()
	a.IP(t, "link", "add", aName, "type", "veth", "peer", "name", bName, "netns", b.Name)
	a.IP(t, "link", "set", aName, "up")
	b.IP(t, "link", "set", bName, "up")
}

// Addr adds an address (CIDR notation) to a link; IPv6 addresses skip
// duplicate address detection so that they are usable at once.
func (ns *NS) Addr(t testing.TB, dev, cidr string) {
	t.Helper()
	if strings.Contains(cidr, ":") {
		ns.IP(t, "-6", "addr", "add", cidr, "dev", dev, "nodad")
		return
	}
	ns.IP(t, "addr", "add", cidr, "dev", dev)
}

// Forwarding turns on IPv4 and IPv6 forwarding in the namespace.
func (ns *NS) Forwarding(t testing.TB) {
	t.Helper()
	ns.MustExec(t, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
	ns.MustExec(t, "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1")
}

// Forward accepts TCP connections on ln and splices each to dial(),
// until the test ends: a process in one namespace can reach a loopback
// service of another (kube-apiserver for a kube-proxy in a node
// namespace) without any address outside the namespaces receiving
// traffic.
func Forward(t testing.TB, ln net.Listener, dial func() (net.Conn, error)) {
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := dial()
				if err != nil {
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
	}()
}

func copyAndClose(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	if tc, ok := dst.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
	}
}

// String is the namespace name.
func (ns *NS) String() string { return ns.Name }
