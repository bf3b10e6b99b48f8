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
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Exit statuses of dns-lookup.
const (
	lookupAnswered = 0
	lookupNoAnswer = 1 // NXDOMAIN or no record of the type
	lookupUsage    = 2
	lookupFailed   = 3 // no server answered
)

func runDNSLookup(ctx context.Context, env *environment, args []string) int {
	fs := newFlagSet(env, "dns-lookup", "NAME [TYPE]")
	resolvConf := fs.String("resolv-conf", "/etc/resolv.conf", "resolv.conf file giving the nameservers, search list and ndots.")
	useTCP := fs.Bool("tcp", false, "Ask over TCP instead of UDP (UDP answers that are truncated are asked again over TCP anyway).")
	timeout := fs.Duration("timeout", 5*time.Second, "Time allowed for each query to each server.")
	full := fs.Bool("full", false, "Print whole resource records instead of their values.")
	port := fs.Int("port", 53, "Port of the nameservers.")
	if !parse(env, fs, args) {
		return lookupUsage
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		fs.Usage()
		return lookupUsage
	}
	name := fs.Arg(0)
	types := []uint16{dns.TypeA, dns.TypeAAAA}
	if fs.NArg() == 2 {
		t, ok := dns.StringToType[strings.ToUpper(fs.Arg(1))]
		if !ok {
			fmt.Fprintf(env.stderr, "signet-testd dns-lookup: unknown record type %q\n", fs.Arg(1))
			return lookupUsage
		}
		types = []uint16{t}
		if t == dns.TypePTR {
			if ip, err := netip.ParseAddr(name); err == nil {
				name, _ = dns.ReverseAddr(ip.String())
			}
		}
	}
	conf, err := dns.ClientConfigFromFile(*resolvConf)
	if err != nil {
		fmt.Fprintf(env.stderr, "signet-testd dns-lookup: %v\n", err)
		return lookupFailed
	}
	conf.Port = strconv.Itoa(*port)
	r := &resolver{conf: conf, timeout: *timeout, tcp: *useTCP}
	answered, failed := false, false
	for _, t := range types {
		res, err := r.resolve(ctx, name, t)
		if err != nil {
			fmt.Fprintf(env.stderr, "%s %s: %v\n", name, dns.TypeToString[t], err)
			failed = failed || !errors.Is(err, errNoAnswer)
			continue
		}
		answered = true
		fmt.Fprintf(env.stderr, "%s %s: answered for %s by %s\n", name, dns.TypeToString[t], res.name, res.server)
		for _, rr := range res.answers {
			if *full {
				fmt.Fprintln(env.stdout, rr.String())
			} else {
				fmt.Fprintln(env.stdout, rrValue(rr))
			}
		}
	}
	switch {
	case failed:
		return lookupFailed
	case answered:
		return lookupAnswered
	default:
		return lookupNoAnswer
	}
}

// errNoAnswer is NXDOMAIN or NODATA for every name tried.
var errNoAnswer = errors.New("no answer")

// resolver resolves the way the C library does from resolv.conf: names
// with fewer dots than ndots go through the search list first, each
// server is asked in turn, and NXDOMAIN or NODATA moves on to the next
// name.
type resolver struct {
	conf    *dns.ClientConfig
	timeout time.Duration
	tcp     bool
}

type resolved struct {
	name, server string
	answers      []dns.RR
}

func (r *resolver) resolve(ctx context.Context, name string, qtype uint16) (resolved, error) {
	if len(r.conf.Servers) == 0 {
		return resolved{}, errors.New("no nameserver in resolv.conf")
	}
	var (
		lastErr   error // of the last name no server answered
		gotNodata bool
		outcomes  []string
	)
	// As the C library's res_nsearch: NXDOMAIN, NODATA and SERVFAIL (or
	// another error answer) from every server move on to the next name; a
	// name no server answered at all (timeouts) ends the search. A NODATA
	// on the way wins over a later failure: the name exists without a
	// record of the type, as for a single-stack Service's other family.
	for _, candidate := range r.conf.NameList(name) {
		var candidateErr error
		answered, failedAnswer := false, false
		for _, server := range r.conf.Servers {
			addr := net.JoinHostPort(server, r.conf.Port)
			resp, err := r.exchange(ctx, candidate, qtype, addr)
			if err != nil {
				candidateErr = fmt.Errorf("%s: %w", addr, err)
				continue
			}
			if resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError {
				candidateErr = fmt.Errorf("%s answered %s for %s", addr, dns.RcodeToString[resp.Rcode], candidate)
				failedAnswer = true
				continue
			}
			answered = true
			if resp.Rcode == dns.RcodeNameError {
				outcomes = append(outcomes, candidate+": NXDOMAIN")
				break
			}
			var answers []dns.RR
			for _, rr := range resp.Answer {
				if rr.Header().Rrtype == qtype {
					answers = append(answers, rr)
				}
			}
			if len(answers) > 0 {
				return resolved{name: candidate, server: addr, answers: answers}, nil
			}
			gotNodata = true
			outcomes = append(outcomes, candidate+": NODATA")
			break
		}
		if answered {
			continue
		}
		lastErr = candidateErr
		outcomes = append(outcomes, fmt.Sprintf("%s: %v", candidate, candidateErr))
		if !failedAnswer {
			break // no server answered at all
		}
	}
	if gotNodata || lastErr == nil {
		return resolved{}, fmt.Errorf("%w (%s)", errNoAnswer, strings.Join(outcomes, ", "))
	}
	return resolved{}, fmt.Errorf("%w (%s)", lastErr, strings.Join(outcomes, ", "))
}

func (r *resolver) exchange(ctx context.Context, name string, qtype uint16, addr string) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true
	network := "udp"
	if r.tcp {
		network = "tcp"
	}
	c := &dns.Client{Net: network, Timeout: r.timeout}
	resp, _, err := c.ExchangeContext(ctx, m, addr)
	if err == nil && resp.Truncated && network == "udp" {
		c.Net = "tcp"
		resp, _, err = c.ExchangeContext(ctx, m, addr)
	}
	return resp, err
}

// rrValue is the part of a record a test compares: an address, a target,
// "priority weight port target" for SRV, the text of TXT.
func rrValue(rr dns.RR) string {
	switch v := rr.(type) {
	case *dns.A:
		return v.A.String()
	case *dns.AAAA:
		return v.AAAA.String()
	case *dns.CNAME:
		return v.Target
	case *dns.PTR:
		return v.Ptr
	case *dns.NS:
		return v.Ns
	case *dns.SRV:
		return fmt.Sprintf("%d %d %d %s", v.Priority, v.Weight, v.Port, v.Target)
	case *dns.MX:
		return fmt.Sprintf("%d %s", v.Preference, v.Mx)
	case *dns.TXT:
		return strings.Join(v.Txt, "")
	default:
		return strings.TrimPrefix(rr.String(), rr.Header().String())
	}
}
