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

// Command authority is the authoritative DNS server behind `make bench-dns`
// (hack/bench-dns.sh). node-cache and CoreDNS both forward to it, so a cache
// miss costs them the same upstream work.
//
// It serves one zone (--zone, default cluster.local) over UDP and TCP on
// --listen:
//
//   - svc-<i>.ns.svc.<zone> for 0 <= i < --services has one A record,
//     10.0.0.0 plus i; other types of those names get NODATA;
//   - the apex has an SOA and an NS record;
//   - every other name in the zone is NXDOMAIN;
//   - names outside the zone are REFUSED.
//
// Every record has the TTL --ttl, and negative answers carry the SOA (TTL
// and MINIMUM --ttl) so that resolvers cache them (RFC 2308). Answers are
// synthesized, so the zone costs no memory whatever its size.
//
// TCP connections are served for any number of queries, and closed when idle
// for --tcp-idle-timeout. On SIGUSR1 the server prints the number of queries
// it answered over UDP and TCP so far to stderr; it stops on SIGTERM or
// SIGINT.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/pflag"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "authority:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := pflag.NewFlagSet("authority", pflag.ContinueOnError)
	listen := fs.String("listen", "127.0.53.1:53", "host:port to serve on, over UDP and TCP")
	zone := fs.String("zone", "cluster.local", "the zone served")
	services := fs.Int("services", 1000000, "number of svc-<i>.ns.svc.<zone> names with an A record (at most 2^24)")
	ttl := fs.Duration("ttl", 30*time.Second, "TTL of every record, and the SOA MINIMUM")
	idle := fs.Duration("tcp-idle-timeout", 30*time.Second, "close a TCP connection idle this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *services < 0 || *services > 1<<24 {
		return fmt.Errorf("--services must be between 0 and %d", 1<<24)
	}
	if _, err := netip.ParseAddrPort(*listen); err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	a := newAuthority(*zone, *services, uint32(ttl.Seconds()))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)

	errc := make(chan error, 2)
	var servers []*dns.Server
	for _, network := range []string{"udp", "tcp"} {
		started := make(chan struct{})
		srv := &dns.Server{
			Addr:              *listen,
			Net:               network,
			Handler:           a.handler(network),
			MaxTCPQueries:     -1,
			IdleTimeout:       func() time.Duration { return *idle },
			NotifyStartedFunc: func() { close(started) },
		}
		servers = append(servers, srv)
		go func() { errc <- srv.ListenAndServe() }()
		select {
		case <-started:
		case err := <-errc:
			return fmt.Errorf("serving %s on %s: %w", network, *listen, err)
		}
	}
	fmt.Fprintf(os.Stderr, "authority: serving %s (%d services) on %s\n", a.zone, *services, *listen)

	for {
		select {
		case <-usr1:
			a.report()
		case err := <-errc:
			return err
		case <-ctx.Done():
			a.report()
			var errs []error
			for _, srv := range servers {
				errs = append(errs, srv.Shutdown())
			}
			return errors.Join(errs...)
		}
	}
}

// authority answers for one synthesized zone.
type authority struct {
	zone     string // canonical, lower case, with the final dot
	suffix   string // ".ns.svc." + zone
	services int
	ttl      uint32
	soa      *dns.SOA
	ns       *dns.NS
	udp, tcp atomic.Uint64
}

func newAuthority(zone string, services int, ttl uint32) *authority {
	zone = dns.CanonicalName(zone)
	hdr := func(rrtype uint16) dns.RR_Header {
		return dns.RR_Header{Name: zone, Rrtype: rrtype, Class: dns.ClassINET, Ttl: ttl}
	}
	return &authority{
		zone:     zone,
		suffix:   ".ns.svc." + zone,
		services: services,
		ttl:      ttl,
		soa: &dns.SOA{
			Hdr:     hdr(dns.TypeSOA),
			Ns:      "ns.dns." + zone,
			Mbox:    "hostmaster." + zone,
			Serial:  1,
			Refresh: 7200,
			Retry:   1800,
			Expire:  86400,
			Minttl:  ttl,
		},
		ns: &dns.NS{Hdr: hdr(dns.TypeNS), Ns: "ns.dns." + zone},
	}
}

func (a *authority) report() {
	fmt.Fprintf(os.Stderr, "authority: answered udp=%d tcp=%d\n", a.udp.Load(), a.tcp.Load())
}

func (a *authority) handler(network string) dns.HandlerFunc {
	counter := &a.udp
	if network == "tcp" {
		counter = &a.tcp
	}
	return func(w dns.ResponseWriter, req *dns.Msg) {
		counter.Add(1)
		// A failed write means the client went away; there is no one to tell.
		_ = w.WriteMsg(a.answer(req))
	}
}

// answer builds the response to req.
func (a *authority) answer(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	if len(req.Question) != 1 || req.Opcode != dns.OpcodeQuery {
		return m.SetRcode(req, dns.RcodeNotImplemented)
	}
	m.SetReply(req)
	if req.IsEdns0() != nil {
		m.SetEdns0(1232, false)
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if q.Qclass != dns.ClassINET || !dns.IsSubDomain(a.zone, name) {
		m.Rcode = dns.RcodeRefused
		return m
	}
	m.Authoritative = true
	switch {
	case name == a.zone:
		switch q.Qtype {
		case dns.TypeSOA:
			m.Answer = append(m.Answer, a.soa)
		case dns.TypeNS:
			m.Answer = append(m.Answer, a.ns)
		default:
			m.Ns = append(m.Ns, a.soa)
		}
	case a.service(name) >= 0:
		if q.Qtype == dns.TypeA {
			i := a.service(name)
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: a.ttl},
				A:   []byte{10, byte(i >> 16), byte(i >> 8), byte(i)},
			})
		} else {
			m.Ns = append(m.Ns, a.soa)
		}
	default:
		m.Rcode = dns.RcodeNameError
		m.Ns = append(m.Ns, a.soa)
	}
	return m
}

// service returns i for the lower-case name svc-<i>.ns.svc.<zone> with
// 0 <= i < services, and -1 for any other name.
func (a *authority) service(name string) int {
	label, ok := strings.CutSuffix(name, a.suffix)
	if !ok {
		return -1
	}
	digits, ok := strings.CutPrefix(label, "svc-")
	if !ok || digits == "" || len(digits) > 8 || (len(digits) > 1 && digits[0] == '0') ||
		strings.Trim(digits, "0123456789") != "" {
		return -1
	}
	i, err := strconv.Atoi(digits)
	if err != nil || i < 0 || i >= a.services {
		return -1
	}
	return i
}
