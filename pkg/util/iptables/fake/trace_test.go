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

package fake

import (
	"math"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"signet.dev/signet/pkg/util/iptables"
)

// serviceRules is a kube-proxy style ruleset written by hand. Addresses are
// placeholders so that one text serves both families:
//
//   - ns/two (TWO, port 80): endpoints EP1, EP2 picked 1/2 each; NodePort 30080.
//   - ns/three (THREE, port 80): endpoints EP3, EP4, EP5 picked with
//     probabilities 1/3, 1/2, 1.
//   - ns/sticky (STICKY, port 80): endpoints EP6, EP7 with ClientIP affinity.
//   - ns/empty (EMPTY, port 80): no endpoints, rejected in filter.
//
// Traffic to a service from outside the pod network PODS is marked for
// masquerade; KUBE-POSTROUTING masquerades marked packets.
const serviceRules = `*nat
:KUBE-SERVICES - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-SVC-TWO - [0:0]
:KUBE-EXT-TWO - [0:0]
:KUBE-SEP-EP1 - [0:0]
:KUBE-SEP-EP2 - [0:0]
:KUBE-SVC-THREE - [0:0]
:KUBE-SEP-EP3 - [0:0]
:KUBE-SEP-EP4 - [0:0]
:KUBE-SEP-EP5 - [0:0]
:KUBE-SVC-STICKY - [0:0]
:KUBE-SEP-EP6 - [0:0]
:KUBE-SEP-EP7 - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-SERVICES -m comment --comment "ns/two:http cluster IP" -m tcp -p tcp -d {TWO}/{HOST} --dport 80 -j KUBE-SVC-TWO
-A KUBE-SERVICES -m comment --comment "ns/three:http cluster IP" -m tcp -p tcp -d {THREE}/{HOST} --dport 80 -j KUBE-SVC-THREE
-A KUBE-SERVICES -m comment --comment "ns/sticky:http cluster IP" -m tcp -p tcp -d {STICKY}/{HOST} --dport 80 -j KUBE-SVC-STICKY
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-NODEPORTS -m comment --comment "ns/two:http" -m tcp -p tcp --dport 30080 -j KUBE-EXT-TWO
-A KUBE-EXT-TWO -m comment --comment "masquerade traffic for ns/two:http external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-TWO -j KUBE-SVC-TWO
-A KUBE-SVC-TWO -m comment --comment "ns/two:http cluster IP" -m tcp -p tcp -d {TWO}/{HOST} --dport 80 ! -s {PODS} -j KUBE-MARK-MASQ
-A KUBE-SVC-TWO -m comment --comment "ns/two:http -> {EP1:8080}" -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-EP1
-A KUBE-SVC-TWO -m comment --comment "ns/two:http -> {EP2:8080}" -j KUBE-SEP-EP2
-A KUBE-SEP-EP1 -m comment --comment ns/two:http -s {EP1}/{HOST} -j KUBE-MARK-MASQ
-A KUBE-SEP-EP1 -m comment --comment ns/two:http -m tcp -p tcp -j DNAT --to-destination {EP1:8080}
-A KUBE-SEP-EP2 -m comment --comment ns/two:http -s {EP2}/{HOST} -j KUBE-MARK-MASQ
-A KUBE-SEP-EP2 -m comment --comment ns/two:http -m tcp -p tcp -j DNAT --to-destination {EP2:8080}
-A KUBE-SVC-THREE -m tcp -p tcp -d {THREE}/{HOST} --dport 80 ! -s {PODS} -j KUBE-MARK-MASQ
-A KUBE-SVC-THREE -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-EP3
-A KUBE-SVC-THREE -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-EP4
-A KUBE-SVC-THREE -j KUBE-SEP-EP5
-A KUBE-SEP-EP3 -m tcp -p tcp -j DNAT --to-destination {EP3:8080}
-A KUBE-SEP-EP4 -m tcp -p tcp -j DNAT --to-destination {EP4:8080}
-A KUBE-SEP-EP5 -m tcp -p tcp -j DNAT --to-destination {EP5:8080}
-A KUBE-SVC-STICKY -m tcp -p tcp -d {STICKY}/{HOST} --dport 80 ! -s {PODS} -j KUBE-MARK-MASQ
-A KUBE-SVC-STICKY -m recent --name KUBE-SEP-EP6 --rcheck --seconds 10800 --reap -j KUBE-SEP-EP6
-A KUBE-SVC-STICKY -m recent --name KUBE-SEP-EP7 --rcheck --seconds 10800 --reap -j KUBE-SEP-EP7
-A KUBE-SVC-STICKY -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-EP6
-A KUBE-SVC-STICKY -j KUBE-SEP-EP7
-A KUBE-SEP-EP6 -m recent --name KUBE-SEP-EP6 --set -m tcp -p tcp -j DNAT --to-destination {EP6:8080}
-A KUBE-SEP-EP7 -m recent --name KUBE-SEP-EP7 --set -m tcp -p tcp -j DNAT --to-destination {EP7:8080}
COMMIT
*filter
:FORWARD ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-FORWARD - [0:0]
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -m comment --comment "ns/empty:http has no endpoints" -m tcp -p tcp -d {EMPTY}/{HOST} --dport 80 -j REJECT --reject-with {UNREACHABLE}
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
COMMIT
`

// family holds the addresses of one IP family for serviceRules.
type family struct {
	name     string
	protocol iptables.Protocol
	addr     map[string]string
}

func families() []family {
	return []family{
		{name: "IPv4", protocol: iptables.ProtocolIPv4, addr: map[string]string{
			"HOST": "32", "PODS": "10.244.0.0/16", "UNREACHABLE": "icmp-port-unreachable",
			"TWO": "10.96.0.10", "THREE": "10.96.0.11", "STICKY": "10.96.0.12", "EMPTY": "10.96.0.13",
			"EP1": "10.244.1.2", "EP2": "10.244.2.3", "EP3": "10.244.1.3", "EP4": "10.244.1.4", "EP5": "10.244.2.5",
			"EP6": "10.244.1.6", "EP7": "10.244.2.7",
			"NODE": "192.168.0.2", "POD": "10.244.3.9", "CLIENT": "203.0.113.7", "OTHERCLIENT": "203.0.113.8",
		}},
		{name: "IPv6", protocol: iptables.ProtocolIPv6, addr: map[string]string{
			"HOST": "128", "PODS": "fd00:244::/48", "UNREACHABLE": "icmp6-port-unreachable",
			"TWO": "fd00:96::10", "THREE": "fd00:96::11", "STICKY": "fd00:96::12", "EMPTY": "fd00:96::13",
			"EP1": "fd00:244:0:1::2", "EP2": "fd00:244:0:2::3", "EP3": "fd00:244:0:1::3", "EP4": "fd00:244:0:1::4",
			"EP5": "fd00:244:0:2::5", "EP6": "fd00:244:0:1::6", "EP7": "fd00:244:0:2::7",
			"NODE": "2001:db8::2", "POD": "fd00:244:0:3::9", "CLIENT": "2001:db8:ff::7", "OTHERCLIENT": "2001:db8:ff::8",
		}},
	}
}

// expand replaces {KEY} with the family's address for KEY, and {KEY:port}
// with the address and port as DNAT writes them ("[ip]:port" for IPv6).
func (fam family) expand(s string) string {
	var pairs []string
	for k, v := range fam.addr {
		pairs = append(pairs, "{"+k+"}", v)
		if a, err := netip.ParseAddr(v); err == nil {
			pairs = append(pairs, "{"+k+":8080}", netip.AddrPortFrom(a, 8080).String())
		}
	}
	out := strings.NewReplacer(pairs...).Replace(s)
	if strings.Contains(out, "{") {
		panic("unexpanded placeholder in: " + out)
	}
	return out
}

// newServiceFake returns a fake loaded with serviceRules for fam, with the
// node's address local.
func newServiceFake(t *testing.T, fam family) *IPTables {
	t.Helper()
	f := New(fam.protocol)
	restore(t, f, fam.expand(serviceRules), true)
	f.SetLocalAddresses(fam.addr["NODE"])
	return f
}

// checkTrace traces p and compares the outcomes with want, ignoring paths
// and allowing rounding in probabilities.
func checkTrace(t *testing.T, f *IPTables, p Packet, want []Outcome) {
	t.Helper()
	got, err := f.Trace(p)
	if err != nil {
		t.Fatalf("Trace(%+v): %v", p, err)
	}
	sum := 0.0
	for _, o := range got {
		sum += o.Probability
		if len(o.Path) == 0 {
			t.Errorf("outcome %v has no path", o)
		}
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("probabilities add up to %v, want 1", sum)
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Outcome{}, "Path"), cmpopts.EquateApprox(0, 1e-6)); diff != "" {
		var b strings.Builder
		for _, o := range got {
			b.WriteString(o.String() + "\n\t" + strings.Join(o.Path, "\n\t") + "\n")
		}
		t.Errorf("Trace(%+v) (-want +got):\n%s\ngot paths:\n%s", p, diff, b.String())
	}
}

func TestTraceServices(t *testing.T) {
	for _, fam := range families() {
		t.Run(fam.name, func(t *testing.T) {
			f := newServiceFake(t, fam)
			a := fam.addr
			dnat := func(ep string) string { return fam.expand("{" + ep + ":8080}") }
			tests := []struct {
				name   string
				recent map[string]string // list -> source address
				packet Packet
				want   []Outcome
			}{{
				name:   "pod to cluster IP: two endpoints, half each, no masquerade",
				packet: Packet{Protocol: "tcp", Source: a["POD"], Destination: a["TWO"], DestinationPort: 80, InInterface: "cni0"},
				want: []Outcome{
					{Verdict: "ACCEPT", DNAT: dnat("EP1"), Probability: 0.5},
					{Verdict: "ACCEPT", DNAT: dnat("EP2"), Probability: 0.5},
				},
			}, {
				name:   "host to cluster IP: masqueraded through the mark (negated -s)",
				packet: Packet{Protocol: "tcp", Source: a["NODE"], Destination: a["TWO"], DestinationPort: 80, Local: true},
				want: []Outcome{
					{Verdict: "ACCEPT", DNAT: dnat("EP1"), Masquerade: true, Probability: 0.5},
					{Verdict: "ACCEPT", DNAT: dnat("EP2"), Masquerade: true, Probability: 0.5},
				},
			}, {
				name:   "hairpin: an endpoint reaching itself is masqueraded, the other endpoint is not",
				packet: Packet{Protocol: "tcp", Source: a["EP1"], Destination: a["TWO"], DestinationPort: 80, InInterface: "cni0"},
				want: []Outcome{
					{Verdict: "ACCEPT", DNAT: dnat("EP1"), Masquerade: true, Probability: 0.5},
					{Verdict: "ACCEPT", DNAT: dnat("EP2"), Probability: 0.5},
				},
			}, {
				name:   "wrong port is not a service",
				packet: Packet{Protocol: "tcp", Source: a["POD"], Destination: a["TWO"], DestinationPort: 81, InInterface: "cni0"},
				want:   []Outcome{{Verdict: "ACCEPT", Probability: 1}},
			}, {
				name:   "wrong protocol is not a service",
				packet: Packet{Protocol: "udp", Source: a["POD"], Destination: a["TWO"], DestinationPort: 80, InInterface: "cni0"},
				want:   []Outcome{{Verdict: "ACCEPT", Probability: 1}},
			}, {
				name:   "three endpoints: a third each",
				packet: Packet{Protocol: "tcp", Source: a["POD"], Destination: a["THREE"], DestinationPort: 80, InInterface: "cni0"},
				want: []Outcome{
					{Verdict: "ACCEPT", DNAT: dnat("EP3"), Probability: 1.0 / 3},
					{Verdict: "ACCEPT", DNAT: dnat("EP4"), Probability: 1.0 / 3},
					{Verdict: "ACCEPT", DNAT: dnat("EP5"), Probability: 1.0 / 3},
				},
			}, {
				name:   "no endpoints: rejected in filter FORWARD",
				packet: Packet{Protocol: "tcp", Source: a["POD"], Destination: a["EMPTY"], DestinationPort: 80, InInterface: "cni0"},
				want:   []Outcome{{Verdict: "REJECT", Probability: 1}},
			}, {
				name:   "no endpoints: rejected in filter OUTPUT for the host",
				packet: Packet{Protocol: "tcp", Source: a["NODE"], Destination: a["EMPTY"], DestinationPort: 80, Local: true},
				want:   []Outcome{{Verdict: "REJECT", Probability: 1}},
			}, {
				name:   "no endpoints: an established connection is not rejected",
				packet: Packet{Protocol: "tcp", Source: a["POD"], Destination: a["EMPTY"], DestinationPort: 80, InInterface: "cni0", CTState: "ESTABLISHED"},
				want:   []Outcome{{Verdict: "ACCEPT", Probability: 1}},
			}, {
				name:   "invalid forwarded packet is dropped",
				packet: Packet{Protocol: "tcp", Source: a["POD"], Destination: a["EP1"], DestinationPort: 8080, InInterface: "cni0", CTState: "INVALID"},
				want:   []Outcome{{Verdict: "DROP", Probability: 1}},
			}, {
				name:   "NodePort via addrtype LOCAL: DNATed and masqueraded",
				packet: Packet{Protocol: "tcp", Source: a["CLIENT"], Destination: a["NODE"], DestinationPort: 30080, InInterface: "eth0"},
				want: []Outcome{
					{Verdict: "ACCEPT", DNAT: dnat("EP1"), Masquerade: true, Probability: 0.5},
					{Verdict: "ACCEPT", DNAT: dnat("EP2"), Masquerade: true, Probability: 0.5},
				},
			}, {
				name:   "NodePort from the host itself",
				packet: Packet{Protocol: "tcp", Source: a["NODE"], Destination: a["NODE"], DestinationPort: 30080, Local: true},
				want: []Outcome{
					{Verdict: "ACCEPT", DNAT: dnat("EP1"), Masquerade: true, Probability: 0.5},
					{Verdict: "ACCEPT", DNAT: dnat("EP2"), Masquerade: true, Probability: 0.5},
				},
			}, {
				name:   "another port on the node is delivered locally",
				packet: Packet{Protocol: "tcp", Source: a["CLIENT"], Destination: a["NODE"], DestinationPort: 30081, InInterface: "eth0"},
				want:   []Outcome{{Verdict: "ACCEPT", Probability: 1}},
			}, {
				name:   "NodePort on an address that is not the node's",
				packet: Packet{Protocol: "tcp", Source: a["CLIENT"], Destination: a["OTHERCLIENT"], DestinationPort: 30080, InInterface: "eth0"},
				want:   []Outcome{{Verdict: "ACCEPT", Probability: 1}},
			}, {
				name:   "affinity: without an entry the endpoints are picked at random",
				packet: Packet{Protocol: "tcp", Source: a["CLIENT"], Destination: a["STICKY"], DestinationPort: 80, InInterface: "eth0"},
				want: []Outcome{
					{Verdict: "ACCEPT", DNAT: dnat("EP6"), Masquerade: true, Probability: 0.5},
					{Verdict: "ACCEPT", DNAT: dnat("EP7"), Masquerade: true, Probability: 0.5},
				},
			}, {
				name:   "affinity: a client with an entry sticks to its endpoint",
				recent: map[string]string{"KUBE-SEP-EP7": a["CLIENT"]},
				packet: Packet{Protocol: "tcp", Source: a["CLIENT"], Destination: a["STICKY"], DestinationPort: 80, InInterface: "eth0"},
				want:   []Outcome{{Verdict: "ACCEPT", DNAT: dnat("EP7"), Masquerade: true, Probability: 1}},
			}, {
				name:   "affinity: another client's entry does not apply",
				recent: map[string]string{"KUBE-SEP-EP7": a["OTHERCLIENT"]},
				packet: Packet{Protocol: "tcp", Source: a["CLIENT"], Destination: a["STICKY"], DestinationPort: 80, InInterface: "eth0"},
				want: []Outcome{
					{Verdict: "ACCEPT", DNAT: dnat("EP6"), Masquerade: true, Probability: 0.5},
					{Verdict: "ACCEPT", DNAT: dnat("EP7"), Masquerade: true, Probability: 0.5},
				},
			}}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					f := f
					if tc.recent != nil {
						f = newServiceFake(t, fam)
						for list, ip := range tc.recent {
							f.SetRecent(list, ip)
						}
					}
					checkTrace(t, f, tc.packet, tc.want)
				})
			}
		})
	}
}

func TestTraceNodePortNeedsLocalAddress(t *testing.T) {
	for _, fam := range families() {
		t.Run(fam.name, func(t *testing.T) {
			f := New(fam.protocol)
			restore(t, f, fam.expand(serviceRules), true)
			// The node's address is not local: the packet is just forwarded.
			checkTrace(t, f, Packet{Protocol: "tcp", Source: fam.addr["CLIENT"], Destination: fam.addr["NODE"], DestinationPort: 30080, InInterface: "eth0"},
				[]Outcome{{Verdict: "ACCEPT", Probability: 1}})
		})
	}
}

func TestTraceRestoreFailureKeepsBehaviour(t *testing.T) {
	fam := families()[0]
	f := newServiceFake(t, fam)
	p := Packet{Protocol: "tcp", Source: fam.addr["POD"], Destination: fam.addr["TWO"], DestinationPort: 80, InInterface: "cni0"}
	before, err := f.Trace(p)
	if err != nil {
		t.Fatal(err)
	}
	// A sync that drops EP2 but fails half way must not change where packets go.
	bad := "*nat\n:KUBE-SVC-TWO - [0:0]\n-A KUBE-SVC-TWO -j KUBE-SEP-EP1\n-A KUBE-SVC-TWO -j KUBE-SEP-MISSING\nCOMMIT\n"
	if err := f.Restore(t.Context(), []byte(bad), true); err == nil {
		t.Fatal("Restore with a jump to a missing chain succeeded")
	}
	checkTrace(t, f, p, before)
}

func TestTraceJumpGotoReturn(t *testing.T) {
	f := New(iptables.ProtocolIPv4)
	restore(t, f, `*filter
:SUB - [0:0]
:OUTER - [0:0]
:GOTO - [0:0]
-A INPUT -p tcp --dport 1 -j SUB
-A INPUT -p tcp --dport 1 -j REJECT
-A INPUT -p tcp --dport 2 -g SUB
-A INPUT -p tcp --dport 2 -j REJECT
-A INPUT -p tcp --dport 3 -j SUB
-A INPUT -p tcp --dport 3 -j ACCEPT
-A INPUT -p tcp --dport 4 -j OUTER
-A INPUT -p tcp --dport 4 -j REJECT
-A INPUT -p tcp --dport 5 -j RETURN
-A INPUT -p tcp --dport 5 -j REJECT
-A SUB -p tcp --dport 3 -j RETURN
-A SUB -p tcp --dport 3 -j DROP
-A OUTER -g GOTO
-A OUTER -j DROP
COMMIT
`, true)
	f.SetLocalAddresses("10.0.0.1")
	tests := []struct {
		name string
		port int
		want string
	}{
		{"jump returns to the next rule", 1, "REJECT"},
		{"goto from a built-in chain ends in its policy", 2, "ACCEPT"},
		{"RETURN leaves the rest of the chain", 3, "ACCEPT"},
		{"goto from a user chain returns to that chain's caller", 4, "REJECT"},
		{"RETURN in a built-in chain applies the policy", 5, "ACCEPT"},
		{"no rule applies the policy", 6, "ACCEPT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkTrace(t, f, Packet{Protocol: "tcp", Source: "10.0.0.2", Destination: "10.0.0.1", DestinationPort: tc.port, InInterface: "eth0"},
				[]Outcome{{Verdict: tc.want, Probability: 1}})
		})
	}

	restore(t, f, "*filter\n:INPUT DROP [0:0]\nCOMMIT\n", true)
	checkTrace(t, f, Packet{Protocol: "tcp", Source: "10.0.0.2", Destination: "10.0.0.1", DestinationPort: 6, InInterface: "eth0"},
		[]Outcome{{Verdict: "DROP", Probability: 1}})
}

func TestTraceMatches(t *testing.T) {
	f := New(iptables.ProtocolIPv4)
	restore(t, f, `*mangle
-A PREROUTING -i eth+ -j MARK --set-xmark 0x10/0xf0
-A PREROUTING -i eth1 -j MARK --set-mark 0x1/0x1
-A PREROUTING -i eth2 -j MARK --and-mark 0xff0
-A PREROUTING -i eth3 -j MARK --or-mark 0x100
-A PREROUTING -i eth3 -j MARK --xor-mark 0x1
COMMIT
*filter
:CHECKS - [0:0]
-A FORWARD -j CHECKS
-A CHECKS -m mark --mark 0x112 -j ACCEPT
-A CHECKS -m mark --mark 0x11 -j REJECT
-A CHECKS -m mark --mark 0x4/0x4 -j REJECT
-A CHECKS -m mark ! --mark 0x10/0xf0 -o wan0 -j DROP
-A CHECKS -s 10.1.0.0/16 ! -d 10.2.0.0/16 -j DROP
-A CHECKS -p udp -m multiport --dports 53,1000:1010 -j ACCEPT
-A CHECKS -p udp -j DROP
-A CHECKS -p tcp --sport 1024: -m tcp ! --dport 22 -j ACCEPT
-A CHECKS -p sctp -m state --state NEW,RELATED -j REJECT
-A CHECKS ! -i eth+ -j REJECT
-A CHECKS -m statistic --mode nth --every 4 --packet 0 -j DROP
COMMIT
`, true)
	f.SetLocalAddresses("10.9.0.1/32")
	tests := []struct {
		name   string
		packet Packet
		want   []Outcome
	}{
		{"wildcard interface sets the mark, eth1 adds a bit, mark 0x11 is rejected",
			Packet{Protocol: "tcp", Source: "10.3.0.1", Destination: "10.4.0.1", DestinationPort: 80, SourcePort: 40000, InInterface: "eth1"},
			[]Outcome{{Verdict: "REJECT", Probability: 1}}},
		{"initial mark is kept by --set-xmark outside its mask",
			Packet{Protocol: "tcp", Source: "10.3.0.1", Destination: "10.4.0.1", DestinationPort: 80, SourcePort: 40000, InInterface: "eth0", Mark: 0x4},
			[]Outcome{{Verdict: "REJECT", Probability: 1}}},
		{"--and-mark clears bits",
			Packet{Protocol: "tcp", Source: "10.3.0.1", Destination: "10.4.0.1", DestinationPort: 80, SourcePort: 40000, InInterface: "eth2", Mark: 0x4},
			[]Outcome{{Verdict: "ACCEPT", Probability: 1}}},
		{"--or-mark and --xor-mark keep the other bits",
			Packet{Protocol: "udp", Source: "10.3.0.1", Destination: "10.4.0.1", DestinationPort: 9999, InInterface: "eth3", Mark: 0x3},
			[]Outcome{{Verdict: "ACCEPT", Probability: 1}}},
		{"without the mark the same packet is dropped",
			Packet{Protocol: "udp", Source: "10.3.0.1", Destination: "10.4.0.1", DestinationPort: 9999, InInterface: "eth0", Mark: 0x3},
			[]Outcome{{Verdict: "DROP", Probability: 1}}},
		{"negated mark and -o",
			Packet{Protocol: "tcp", Source: "10.3.0.1", Destination: "10.4.0.1", DestinationPort: 80, SourcePort: 40000, InInterface: "wlan0", OutInterface: "wan0"},
			[]Outcome{{Verdict: "DROP", Probability: 1}}},
		{"negated destination",
			Packet{Protocol: "tcp", Source: "10.1.2.3", Destination: "10.4.0.1", DestinationPort: 80, SourcePort: 40000, InInterface: "eth0"},
			[]Outcome{{Verdict: "DROP", Probability: 1}}},
		{"negated destination that does not match",
			Packet{Protocol: "tcp", Source: "10.1.2.3", Destination: "10.2.0.1", DestinationPort: 80, SourcePort: 40000, InInterface: "eth0"},
			[]Outcome{{Verdict: "ACCEPT", Probability: 1}}},
		{"multiport single port",
			Packet{Protocol: "udp", Source: "10.3.0.1", Destination: "10.4.0.1", DestinationPort: 53, InInterface: "eth0"},
			[]Outcome{{Verdict: "ACCEPT", Probability: 1}}},
		{"multiport range",
			Packet{Protocol: "udp", Source: "10.3.0.1", Destination: "10.4.0.1", DestinationPort: 1010, InInterface: "eth0"},
			[]Outcome{{Verdict: "ACCEPT", Probability: 1}}},
		{"multiport miss",
			Packet{Protocol: "udp", Source: "10.3.0.1", Destination: "10.4.0.1", DestinationPort: 1011, InInterface: "eth0"},
			[]Outcome{{Verdict: "DROP", Probability: 1}}},
		{"negated port falls through to nth: a quarter dropped",
			Packet{Protocol: "tcp", Source: "10.3.0.1", Destination: "10.4.0.1", DestinationPort: 22, SourcePort: 40000, InInterface: "eth0"},
			[]Outcome{{Verdict: "ACCEPT", Probability: 0.75}, {Verdict: "DROP", Probability: 0.25}}},
		{"open-ended source port range",
			Packet{Protocol: "tcp", Source: "10.3.0.1", Destination: "10.4.0.1", DestinationPort: 22, SourcePort: 1000, InInterface: "eth0"},
			[]Outcome{{Verdict: "ACCEPT", Probability: 0.75}, {Verdict: "DROP", Probability: 0.25}}},
		{"state match",
			Packet{Protocol: "sctp", Source: "10.3.0.1", Destination: "10.4.0.1", DestinationPort: 22, InInterface: "eth0", CTState: "related"},
			[]Outcome{{Verdict: "REJECT", Probability: 1}}},
		{"negated wildcard interface",
			Packet{Protocol: "sctp", Source: "10.3.0.1", Destination: "10.4.0.1", DestinationPort: 22, InInterface: "wlan0", CTState: "ESTABLISHED"},
			[]Outcome{{Verdict: "REJECT", Probability: 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkTrace(t, f, tc.packet, tc.want)
		})
	}
}

func TestTraceLocalDNATAndRerouting(t *testing.T) {
	f := New(iptables.ProtocolIPv6)
	restore(t, f, `*nat
:KUBE-SERVICES - [0:0]
-A OUTPUT -j KUBE-SERVICES
-A KUBE-SERVICES -d fd00:96::1/128 -p udp --dport 53 -j DNAT --to-destination ::1
-A KUBE-SERVICES -d fd00:96::2/128 -p udp --dport 53 -j DNAT --to-destination [fd00:244::5]
COMMIT
*filter
-A OUTPUT -o lo -p udp --dport 53 -j ACCEPT
-A OUTPUT -o eth0 -p udp -d fd00:244::5 -j REJECT
-A INPUT -i lo -m addrtype --src-type LOCAL --dst-type LOCAL -j DROP
COMMIT
`, true)
	f.SetLocalAddresses("2001:db8::2")
	// DNAT without a port keeps the port; the packet to ::1 leaves by lo and
	// comes back in through INPUT.
	checkTrace(t, f, Packet{Protocol: "udp", Source: "2001:db8::2", Destination: "fd00:96::1", DestinationPort: 53, Local: true, OutInterface: "eth0"},
		[]Outcome{{Verdict: "DROP", DNAT: "[::1]:53", Probability: 1}})
	checkTrace(t, f, Packet{Protocol: "udp", Source: "2001:db8::2", Destination: "fd00:96::2", DestinationPort: 53, Local: true, OutInterface: "eth0"},
		[]Outcome{{Verdict: "REJECT", DNAT: "[fd00:244::5]:53", Probability: 1}})
}

func TestTracePath(t *testing.T) {
	fam := families()[0]
	f := newServiceFake(t, fam)
	got, err := f.Trace(Packet{Protocol: "tcp", Source: fam.addr["POD"], Destination: fam.addr["EMPTY"], DestinationPort: 80, InInterface: "cni0"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d outcomes, want 1: %v", len(got), got)
	}
	want := []string{
		`raw/PREROUTING: policy ACCEPT`,
		`nat/PREROUTING#1: -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
		`nat/PREROUTING: policy ACCEPT`,
		`filter/FORWARD#1: -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
		`filter/KUBE-SERVICES#1: -m comment --comment "ns/empty:http has no endpoints" -m tcp -p tcp -d 10.96.0.13/32 --dport 80 -j REJECT --reject-with icmp-port-unreachable`,
	}
	if diff := cmp.Diff(want, got[0].Path); diff != "" {
		t.Errorf("path (-want +got):\n%s", diff)
	}
	if s := got[0].String(); s != "REJECT, p=1" {
		t.Errorf("String() = %q", s)
	}
	o := Outcome{Verdict: "ACCEPT", DNAT: "10.244.1.2:8080", Masquerade: true, Probability: 0.5}
	if s := o.String(); s != "ACCEPT, DNAT to 10.244.1.2:8080, masqueraded, p=0.5" {
		t.Errorf("String() = %q", s)
	}
}

func TestTraceErrors(t *testing.T) {
	tests := []struct {
		name   string
		family iptables.Protocol
		table  iptables.Table
		chain  iptables.Chain
		rule   []string // added to chain with AddRule, bypassing Restore's checks
		packet Packet
		want   string
	}{
		{name: "ipset", table: filter, chain: "INPUT", rule: []string{"-m", "set", "--match-set", "x", "src", "-j", "DROP"}, want: `match "set" is unsupported`},
		{name: "unknown match", table: filter, chain: "INPUT", rule: []string{"-m", "owner", "--uid-owner", "0", "-j", "DROP"}, want: `unknown match "owner"`},
		{name: "unknown option", table: filter, chain: "INPUT", rule: []string{"-m", "conntrack", "--ctorigdst", "10.0.0.1", "-j", "DROP"}, want: `unknown option "--ctorigdst"`},
		{name: "option without its match", table: filter, chain: "INPUT", rule: []string{"--dport", "80", "-j", "DROP"}, want: "belongs to no match"},
		{name: "tcp match without -p tcp", table: filter, chain: "INPUT", rule: []string{"-m", "tcp", "--dport", "80", "-j", "DROP"}, want: "needs -p tcp"},
		{name: "unknown target", table: filter, chain: "INPUT", rule: []string{"-j", "TPROXY"}, want: `missing chain "TPROXY"`},
		{name: "unsupported addrtype", table: filter, chain: "INPUT", rule: []string{"-m", "addrtype", "--dst-type", "BROADCAST", "-j", "DROP"}, want: "BROADCAST is unsupported"},
		{name: "address of the other family", table: filter, chain: "INPUT", rule: []string{"-s", "fd00::1", "-j", "DROP"}, want: "is not IPv4"},
		{name: "DNAT port range", table: nat, chain: "PREROUTING", rule: []string{"-j", "DNAT", "--to-destination", "10.0.0.1:80-90"}, want: "ranges are unsupported"},
		{name: "bad probability", table: nat, chain: "PREROUTING", rule: []string{"-m", "statistic", "--mode", "random", "--probability", "2", "-j", "ACCEPT"}, want: "out of [0, 1]"},
		{name: "DNAT reached from POSTROUTING", table: nat, chain: "POSTROUTING", rule: []string{"-j", "DNAT", "--to-destination", "10.0.0.1"}, want: "DNAT reached from hook POSTROUTING"},
		{name: "bad packet address", table: filter, chain: "INPUT", packet: Packet{Protocol: "tcp", Source: "fd00::1", Destination: "10.0.0.1"}, want: "packet source"},
		{name: "bad packet protocol", table: filter, chain: "INPUT", packet: Packet{Protocol: "icmp", Source: "10.0.0.2", Destination: "10.0.0.1"}, want: "packet protocol"},
		{name: "IPv6 address in IPv4 rule list", family: iptables.ProtocolIPv6, table: filter, chain: "INPUT", rule: []string{"-d", "10.0.0.1/32", "-j", "DROP"}, want: "is not IPv6"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fam := tc.family
			if fam == "" {
				fam = iptables.ProtocolIPv4
			}
			f := New(fam)
			f.chains(tc.table)
			if tc.rule != nil {
				f.AddRule(tc.table, tc.chain, tc.rule...)
			}
			p := tc.packet
			if p.Protocol == "" {
				p = Packet{Protocol: "tcp", Source: "10.0.0.2", Destination: "10.0.0.1", DestinationPort: 80}
				if fam == iptables.ProtocolIPv6 {
					p.Source, p.Destination = "fd00::2", "fd00::1"
				}
			}
			_, err := f.Trace(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Trace = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestTraceJumpLoop(t *testing.T) {
	// Restore refuses loops, so build one rule by rule.
	f := New(iptables.ProtocolIPv4)
	f.AddRule(filter, "INPUT", "-j", "A")
	f.AddRule(filter, "A", "-p", "tcp", "-j", "B")
	f.AddRule(filter, "B", "-g", "A")
	f.SetLocalAddresses("10.0.0.1")
	_, err := f.Trace(Packet{Protocol: "tcp", Source: "10.0.0.2", Destination: "10.0.0.1"})
	if err == nil || !strings.Contains(err.Error(), "jump loop [INPUT A B A]") {
		t.Errorf("Trace = %v, want a jump loop error", err)
	}
	// A packet that does not take the loop is traced.
	checkTrace(t, f, Packet{Protocol: "udp", Source: "10.0.0.2", Destination: "10.0.0.1"}, []Outcome{{Verdict: "ACCEPT", Probability: 1}})
}

func TestTraceNotrack(t *testing.T) {
	f := New(iptables.ProtocolIPv4)
	restore(t, f, `*raw
-A PREROUTING -p udp --dport 53 -j NOTRACK
-A OUTPUT -p udp --dport 53 -j CT --notrack
COMMIT
*nat
-A PREROUTING -p udp -j DNAT --to-destination 10.0.0.53
-A OUTPUT -p udp -j DNAT --to-destination 10.0.0.53
COMMIT
*filter
-A INPUT -m conntrack --ctstate UNTRACKED -j ACCEPT
-A INPUT -j DROP
-A OUTPUT -m state --state UNTRACKED -j REJECT
COMMIT
`, true)
	f.SetLocalAddresses("10.0.0.1")
	tests := []struct {
		name   string
		packet Packet
		want   []Outcome
	}{
		{"untracked packets skip nat", Packet{Protocol: "udp", Source: "10.0.0.2", Destination: "10.0.0.1", DestinationPort: 53, InInterface: "eth0"},
			[]Outcome{{Verdict: "ACCEPT", Probability: 1}}},
		{"tracked packets are DNATed", Packet{Protocol: "udp", Source: "10.0.0.2", Destination: "10.0.0.1", DestinationPort: 54, InInterface: "eth0"},
			[]Outcome{{Verdict: "ACCEPT", DNAT: "10.0.0.53:54", Probability: 1}}},
		{"CT --notrack in OUTPUT", Packet{Protocol: "udp", Source: "10.0.0.1", Destination: "10.0.0.9", DestinationPort: 53, Local: true},
			[]Outcome{{Verdict: "REJECT", Probability: 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkTrace(t, f, tc.packet, tc.want)
		})
	}
}
