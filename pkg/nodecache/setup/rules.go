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

// Package setup prepares a node for node-cache: a link holding the local IPs
// and the netfilter rules that keep DNS to and from them out of conntrack and
// past host firewalls.
package setup

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	"k8s.io/klog/v2"

	"signet.dev/signet/pkg/util/iptables"
)

// DefaultDNSPort is the port node-cache answers on unless --port says otherwise.
const DefaultDNSPort = 53

// CommentPrefix starts the comment of every rule node-cache installs.
const CommentPrefix = "node-cache: "

// Rule is one netfilter rule for one family.
type Rule struct {
	// Table and Chain hold the rule.
	Table iptables.Table
	Chain iptables.Chain
	// Args are the match and target, comment included, as given to iptables.
	Args []string
}

// flow is traffic to (dport) or from (sport) localIP on one protocol and port.
type flow struct {
	proto string // udp or tcp
	dir   string // "to" or "from"
	port  int
	what  string // dns or health, for the comment
}

// RulesFor returns the rules for one local IP, for the family of localIP
// (give the result to the iptables runner of that family):
//
//   - raw PREROUTING: NOTRACK udp and tcp to localIP:dnsPort;
//   - raw OUTPUT: NOTRACK udp and tcp to and from localIP:dnsPort, and tcp to
//     and from localIP:healthPort;
//   - filter INPUT: ACCEPT what raw PREROUTING untracks, plus tcp to
//     localIP:healthPort (local probes cross INPUT after OUTPUT);
//   - filter OUTPUT: ACCEPT what raw OUTPUT untracks.
//
// Traffic from localIP is not accepted on INPUT: its source is easy to forge.
// Each rule has its own comment starting with CommentPrefix, so one rule can be
// found in iptables-save output. A healthPort of 0 leaves out the health rules.
func RulesFor(localIP netip.Addr, dnsPort, healthPort int) []Rule {
	localIP = localIP.Unmap()
	ip := netip.PrefixFrom(localIP, localIP.BitLen()).String()
	toDNS := []flow{{"udp", "to", dnsPort, "dns"}, {"tcp", "to", dnsPort, "dns"}}
	fromDNS := []flow{{"udp", "from", dnsPort, "dns"}, {"tcp", "from", dnsPort, "dns"}}
	var health []flow
	if healthPort > 0 {
		health = []flow{{"tcp", "to", healthPort, "health"}, {"tcp", "from", healthPort, "health"}}
	}
	output := append(append(append([]flow{}, toDNS...), fromDNS...), health...)
	input := append([]flow{}, toDNS...)
	if healthPort > 0 {
		input = append(input, health[0])
	}

	var rules []Rule
	add := func(table iptables.Table, chain iptables.Chain, target string, flows []flow) {
		for _, f := range flows {
			rules = append(rules, ruleFor(table, chain, target, ip, f))
		}
	}
	add(iptables.TableRaw, iptables.ChainPrerouting, "NOTRACK", toDNS)
	add(iptables.TableRaw, iptables.ChainOutput, "NOTRACK", output)
	add(iptables.TableFilter, iptables.ChainInput, "ACCEPT", input)
	add(iptables.TableFilter, iptables.ChainOutput, "ACCEPT", output)
	return rules
}

func ruleFor(table iptables.Table, chain iptables.Chain, target, ip string, f flow) Rule {
	addrFlag, portFlag := "-d", "--dport"
	if f.dir == "from" {
		addrFlag, portFlag = "-s", "--sport"
	}
	verb := "notrack"
	if target == "ACCEPT" {
		verb = "accept"
	}
	port := strconv.Itoa(f.port)
	// The order matches iptables-save's, so a rule reads the same in both.
	comment := fmt.Sprintf("%s%s %s %s %s %s port %s", CommentPrefix, verb, f.what, f.proto, f.dir, ip, port)
	return Rule{
		Table: table,
		Chain: chain,
		Args: []string{
			addrFlag, ip, "-p", f.proto, "-m", f.proto, portFlag, port,
			"-m", "comment", "--comment", comment, "-j", target,
		},
	}
}

// Netfilter installs and removes the rules for a set of local IPs.
type Netfilter struct {
	// IPv4 and IPv6 are the runners per family; one may be nil when no local
	// IP has that family.
	IPv4, IPv6 iptables.Interface
	// LocalIPs are the addresses node-cache listens on.
	LocalIPs []netip.Addr
	// DNSPort is the DNS port; 0 means DefaultDNSPort.
	DNSPort int
	// HealthPort is the health port; 0 leaves out the health rules.
	HealthPort int
}

func (n *Netfilter) runner(ip netip.Addr) (iptables.Interface, error) {
	r := n.IPv4
	if ip.Unmap().Is6() {
		r = n.IPv6
	}
	if r == nil {
		return nil, fmt.Errorf("no iptables runner for the family of %s", ip)
	}
	return r, nil
}

func (n *Netfilter) rules(ip netip.Addr) []Rule {
	port := n.DNSPort
	if port == 0 {
		port = DefaultDNSPort
	}
	return RulesFor(ip, port, n.HealthPort)
}

// Ensure inserts every missing rule at the start of its chain, so that host
// firewall rules further down cannot drop the flows. Rules already present
// are left alone: calling Ensure again never duplicates a rule. It tries every
// rule and returns all errors joined.
func (n *Netfilter) Ensure(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	var errs []error
	added := 0
	for _, ip := range n.LocalIPs {
		r, err := n.runner(ip)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, rule := range n.rules(ip) {
			existed, err := r.EnsureRule(ctx, iptables.Prepend, rule.Table, rule.Chain, rule.Args...)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !existed {
				added++
			}
		}
	}
	if added > 0 {
		logger.Info("Added node-cache netfilter rules", "rules", added, "localIPs", n.LocalIPs)
	}
	return errors.Join(errs...)
}

// Teardown removes every copy of every rule. Missing rules are not an error.
func (n *Netfilter) Teardown(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	var errs []error
	removed := 0
	for _, ip := range n.LocalIPs {
		r, err := n.runner(ip)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, rule := range n.rules(ip) {
			c, err := r.DeleteRule(ctx, rule.Table, rule.Chain, rule.Args...)
			removed += c
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	logger.Info("Removed node-cache netfilter rules", "rules", removed, "localIPs", n.LocalIPs)
	return errors.Join(errs...)
}
