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

package setup

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"signet.dev/signet/pkg/util/iptables"
	"signet.dev/signet/pkg/util/iptables/fake"
)

// line renders a rule the way a reviewer reads it.
func line(r Rule) string {
	return string(r.Table) + " " + string(r.Chain) + " " + strings.Join(r.Args, " ")
}

func TestRulesFor(t *testing.T) {
	tests := []struct {
		name       string
		ip         string
		dnsPort    int
		healthPort int
		want       []string
	}{
		{
			name: "IPv4", ip: "169.254.20.10", dnsPort: 53, healthPort: 8080,
			want: []string{
				"raw PREROUTING -d 169.254.20.10/32 -p udp -m udp --dport 53 -m comment --comment node-cache: notrack dns udp to 169.254.20.10/32 port 53 -j NOTRACK",
				"raw PREROUTING -d 169.254.20.10/32 -p tcp -m tcp --dport 53 -m comment --comment node-cache: notrack dns tcp to 169.254.20.10/32 port 53 -j NOTRACK",
				"raw OUTPUT -d 169.254.20.10/32 -p udp -m udp --dport 53 -m comment --comment node-cache: notrack dns udp to 169.254.20.10/32 port 53 -j NOTRACK",
				"raw OUTPUT -d 169.254.20.10/32 -p tcp -m tcp --dport 53 -m comment --comment node-cache: notrack dns tcp to 169.254.20.10/32 port 53 -j NOTRACK",
				"raw OUTPUT -s 169.254.20.10/32 -p udp -m udp --sport 53 -m comment --comment node-cache: notrack dns udp from 169.254.20.10/32 port 53 -j NOTRACK",
				"raw OUTPUT -s 169.254.20.10/32 -p tcp -m tcp --sport 53 -m comment --comment node-cache: notrack dns tcp from 169.254.20.10/32 port 53 -j NOTRACK",
				"raw OUTPUT -d 169.254.20.10/32 -p tcp -m tcp --dport 8080 -m comment --comment node-cache: notrack health tcp to 169.254.20.10/32 port 8080 -j NOTRACK",
				"raw OUTPUT -s 169.254.20.10/32 -p tcp -m tcp --sport 8080 -m comment --comment node-cache: notrack health tcp from 169.254.20.10/32 port 8080 -j NOTRACK",
				"filter INPUT -d 169.254.20.10/32 -p udp -m udp --dport 53 -m comment --comment node-cache: accept dns udp to 169.254.20.10/32 port 53 -j ACCEPT",
				"filter INPUT -d 169.254.20.10/32 -p tcp -m tcp --dport 53 -m comment --comment node-cache: accept dns tcp to 169.254.20.10/32 port 53 -j ACCEPT",
				"filter INPUT -d 169.254.20.10/32 -p tcp -m tcp --dport 8080 -m comment --comment node-cache: accept health tcp to 169.254.20.10/32 port 8080 -j ACCEPT",
				"filter OUTPUT -d 169.254.20.10/32 -p udp -m udp --dport 53 -m comment --comment node-cache: accept dns udp to 169.254.20.10/32 port 53 -j ACCEPT",
				"filter OUTPUT -d 169.254.20.10/32 -p tcp -m tcp --dport 53 -m comment --comment node-cache: accept dns tcp to 169.254.20.10/32 port 53 -j ACCEPT",
				"filter OUTPUT -s 169.254.20.10/32 -p udp -m udp --sport 53 -m comment --comment node-cache: accept dns udp from 169.254.20.10/32 port 53 -j ACCEPT",
				"filter OUTPUT -s 169.254.20.10/32 -p tcp -m tcp --sport 53 -m comment --comment node-cache: accept dns tcp from 169.254.20.10/32 port 53 -j ACCEPT",
				"filter OUTPUT -d 169.254.20.10/32 -p tcp -m tcp --dport 8080 -m comment --comment node-cache: accept health tcp to 169.254.20.10/32 port 8080 -j ACCEPT",
				"filter OUTPUT -s 169.254.20.10/32 -p tcp -m tcp --sport 8080 -m comment --comment node-cache: accept health tcp from 169.254.20.10/32 port 8080 -j ACCEPT",
			},
		},
		{
			name: "IPv6, custom DNS port, no health port", ip: "fd00::10", dnsPort: 5353, healthPort: 0,
			want: []string{
				"raw PREROUTING -d fd00::10/128 -p udp -m udp --dport 5353 -m comment --comment node-cache: notrack dns udp to fd00::10/128 port 5353 -j NOTRACK",
				"raw PREROUTING -d fd00::10/128 -p tcp -m tcp --dport 5353 -m comment --comment node-cache: notrack dns tcp to fd00::10/128 port 5353 -j NOTRACK",
				"raw OUTPUT -d fd00::10/128 -p udp -m udp --dport 5353 -m comment --comment node-cache: notrack dns udp to fd00::10/128 port 5353 -j NOTRACK",
				"raw OUTPUT -d fd00::10/128 -p tcp -m tcp --dport 5353 -m comment --comment node-cache: notrack dns tcp to fd00::10/128 port 5353 -j NOTRACK",
				"raw OUTPUT -s fd00::10/128 -p udp -m udp --sport 5353 -m comment --comment node-cache: notrack dns udp from fd00::10/128 port 5353 -j NOTRACK",
				"raw OUTPUT -s fd00::10/128 -p tcp -m tcp --sport 5353 -m comment --comment node-cache: notrack dns tcp from fd00::10/128 port 5353 -j NOTRACK",
				"filter INPUT -d fd00::10/128 -p udp -m udp --dport 5353 -m comment --comment node-cache: accept dns udp to fd00::10/128 port 5353 -j ACCEPT",
				"filter INPUT -d fd00::10/128 -p tcp -m tcp --dport 5353 -m comment --comment node-cache: accept dns tcp to fd00::10/128 port 5353 -j ACCEPT",
				"filter OUTPUT -d fd00::10/128 -p udp -m udp --dport 5353 -m comment --comment node-cache: accept dns udp to fd00::10/128 port 5353 -j ACCEPT",
				"filter OUTPUT -d fd00::10/128 -p tcp -m tcp --dport 5353 -m comment --comment node-cache: accept dns tcp to fd00::10/128 port 5353 -j ACCEPT",
				"filter OUTPUT -s fd00::10/128 -p udp -m udp --sport 5353 -m comment --comment node-cache: accept dns udp from fd00::10/128 port 5353 -j ACCEPT",
				"filter OUTPUT -s fd00::10/128 -p tcp -m tcp --sport 5353 -m comment --comment node-cache: accept dns tcp from fd00::10/128 port 5353 -j ACCEPT",
			},
		},
		{
			name: "IPv4-mapped IPv6 is treated as IPv4", ip: "::ffff:169.254.20.10", dnsPort: 53, healthPort: 0,
			want: []string{
				"raw PREROUTING -d 169.254.20.10/32 -p udp -m udp --dport 53 -m comment --comment node-cache: notrack dns udp to 169.254.20.10/32 port 53 -j NOTRACK",
				"raw PREROUTING -d 169.254.20.10/32 -p tcp -m tcp --dport 53 -m comment --comment node-cache: notrack dns tcp to 169.254.20.10/32 port 53 -j NOTRACK",
				"raw OUTPUT -d 169.254.20.10/32 -p udp -m udp --dport 53 -m comment --comment node-cache: notrack dns udp to 169.254.20.10/32 port 53 -j NOTRACK",
				"raw OUTPUT -d 169.254.20.10/32 -p tcp -m tcp --dport 53 -m comment --comment node-cache: notrack dns tcp to 169.254.20.10/32 port 53 -j NOTRACK",
				"raw OUTPUT -s 169.254.20.10/32 -p udp -m udp --sport 53 -m comment --comment node-cache: notrack dns udp from 169.254.20.10/32 port 53 -j NOTRACK",
				"raw OUTPUT -s 169.254.20.10/32 -p tcp -m tcp --sport 53 -m comment --comment node-cache: notrack dns tcp from 169.254.20.10/32 port 53 -j NOTRACK",
				"filter INPUT -d 169.254.20.10/32 -p udp -m udp --dport 53 -m comment --comment node-cache: accept dns udp to 169.254.20.10/32 port 53 -j ACCEPT",
				"filter INPUT -d 169.254.20.10/32 -p tcp -m tcp --dport 53 -m comment --comment node-cache: accept dns tcp to 169.254.20.10/32 port 53 -j ACCEPT",
				"filter OUTPUT -d 169.254.20.10/32 -p udp -m udp --dport 53 -m comment --comment node-cache: accept dns udp to 169.254.20.10/32 port 53 -j ACCEPT",
				"filter OUTPUT -d 169.254.20.10/32 -p tcp -m tcp --dport 53 -m comment --comment node-cache: accept dns tcp to 169.254.20.10/32 port 53 -j ACCEPT",
				"filter OUTPUT -s 169.254.20.10/32 -p udp -m udp --sport 53 -m comment --comment node-cache: accept dns udp from 169.254.20.10/32 port 53 -j ACCEPT",
				"filter OUTPUT -s 169.254.20.10/32 -p tcp -m tcp --sport 53 -m comment --comment node-cache: accept dns tcp from 169.254.20.10/32 port 53 -j ACCEPT",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, r := range RulesFor(netip.MustParseAddr(tc.ip), tc.dnsPort, tc.healthPort) {
				got = append(got, line(r))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("RulesFor (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNetfilterEnsureIdempotentAndTeardown(t *testing.T) {
	ctx := context.Background()
	v4, v6 := fake.New(iptables.ProtocolIPv4), fake.New(iptables.ProtocolIPv6)
	nf := &Netfilter{
		IPv4: v4, IPv6: v6,
		LocalIPs:   []netip.Addr{netip.MustParseAddr("169.254.20.10"), netip.MustParseAddr("fd00::10")},
		HealthPort: 8080,
	}
	// A host firewall rule that must stay, and stay after node-cache's rules.
	v4.AddRule(iptables.TableFilter, iptables.ChainInput, "-j", "DROP")

	for i := range 3 {
		if err := nf.Ensure(ctx); err != nil {
			t.Fatalf("Ensure #%d: %v", i, err)
		}
	}
	want4 := RulesFor(netip.MustParseAddr("169.254.20.10"), DefaultDNSPort, 8080)
	want6 := RulesFor(netip.MustParseAddr("fd00::10"), DefaultDNSPort, 8080)
	if got := v4.Count(); got != len(want4)+1 {
		t.Errorf("IPv4 holds %d rules after three Ensures, want %d", got, len(want4)+1)
	}
	if got := v6.Count(); got != len(want6) {
		t.Errorf("IPv6 holds %d rules after three Ensures, want %d", got, len(want6))
	}
	for _, r := range want6 {
		if strings.Contains(strings.Join(r.Args, " "), "169.254") {
			t.Fatalf("IPv6 rule names an IPv4 address: %v", r.Args)
		}
	}
	input := v4.Rules(iptables.TableFilter, iptables.ChainInput)
	if last := strings.Join(input[len(input)-1], " "); last != "-j DROP" {
		t.Errorf("last INPUT rule = %q, want the host's DROP after node-cache's ACCEPTs", last)
	}

	// A copy left by a crashed run is removed too.
	v4.AddRule(want4[0].Table, want4[0].Chain, want4[0].Args...)
	if err := nf.Teardown(ctx); err != nil {
		t.Fatalf("Teardown: %v", err)
	}
	if got := v4.Rules(iptables.TableFilter, iptables.ChainInput); len(got) != 1 || strings.Join(got[0], " ") != "-j DROP" {
		t.Errorf("IPv4 filter INPUT after Teardown = %v, want only the host's DROP", got)
	}
	if got := v4.Count(); got != 1 {
		t.Errorf("IPv4 holds %d rules after Teardown, want 1", got)
	}
	if got := v6.Count(); got != 0 {
		t.Errorf("IPv6 holds %d rules after Teardown, want 0", got)
	}
	if err := nf.Teardown(ctx); err != nil {
		t.Errorf("second Teardown: %v", err)
	}
}

func TestNetfilterMissingFamily(t *testing.T) {
	nf := &Netfilter{IPv4: fake.New(iptables.ProtocolIPv4), LocalIPs: []netip.Addr{netip.MustParseAddr("fd00::10")}}
	if err := nf.Ensure(context.Background()); err == nil {
		t.Fatal("Ensure with an IPv6 local IP and no IPv6 runner succeeded, want an error")
	}
}
