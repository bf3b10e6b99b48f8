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

package nodeagent

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"signet.dev/signet/pkg/util/iptables"
	"signet.dev/signet/pkg/util/iptables/fake"
)

const (
	hpNodeV4, hpNodeV6 = "10.100.0.11", "fd00:100::11"
	hpGwV4, hpGwV6     = "10.244.1.1", "fd00:244:1::1"
)

// hostPortPod returns a pod with ports and its two addresses,
// 10.244.1.<n> and fd00:244:1::<n>.
func hostPortPod(name string, n int, ports ...corev1.ContainerPort) (*corev1.Pod, []netip.Addr) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "serve", Ports: ports}}},
	}
	return pod, []netip.Addr{netip.MustParseAddr(fmt.Sprintf("10.244.1.%d", n)), netip.MustParseAddr(fmt.Sprintf("fd00:244:1::%d", n))}
}

func TestPodHostPorts(t *testing.T) {
	pod, ips := hostPortPod("web", 5,
		corev1.ContainerPort{ContainerPort: 80, HostPort: 8080},
		corev1.ContainerPort{ContainerPort: 53, HostPort: 5353, Protocol: corev1.ProtocolUDP, HostIP: hpNodeV4},
		corev1.ContainerPort{ContainerPort: 9090},
		corev1.ContainerPort{ContainerPort: 443, HostPort: 8443, HostIP: "0.0.0.0"},
	)
	var got []string
	for _, m := range podHostPorts(pod, ips) {
		host := "*"
		if m.HostIP.IsValid() {
			host = m.HostIP.String()
		}
		got = append(got, fmt.Sprintf("%s %s %s:%d -> %s", m.Pod, m.Protocol, host, m.HostPort, netip.AddrPortFrom(m.PodIP, uint16(m.ContainerPort))))
	}
	want := []string{
		"shop/web TCP *:8080 -> 10.244.1.5:80",
		"shop/web TCP *:8080 -> [fd00:244:1::5]:80",
		"shop/web UDP 10.100.0.11:5353 -> 10.244.1.5:53",
		"shop/web TCP *:8443 -> 10.244.1.5:443",
		"shop/web TCP *:8443 -> [fd00:244:1::5]:443",
	}
	if !slices.Equal(got, want) {
		t.Errorf("mappings\n%q\nwant\n%q", got, want)
	}
}

// hostPortFakes returns one fake per family whose local addresses are the
// node's and the bridge's.
func hostPortFakes() (v4, v6 *fake.IPTables) {
	v4, v6 = fake.New(iptables.ProtocolIPv4), fake.New(iptables.ProtocolIPv6)
	v4.SetLocalAddresses(hpNodeV4, hpGwV4)
	v6.SetLocalAddresses(hpNodeV6, hpGwV6)
	return v4, v6
}

func TestHostPortRules(t *testing.T) {
	ctx := context.Background()
	web, webIPs := hostPortPod("web", 5,
		corev1.ContainerPort{ContainerPort: 80, HostPort: 8080},
		corev1.ContainerPort{ContainerPort: 53, HostPort: 5353, Protocol: corev1.ProtocolUDP})
	dns, dnsIPs := hostPortPod("dns", 6,
		corev1.ContainerPort{ContainerPort: 53, HostPort: 53, Protocol: corev1.ProtocolUDP, HostIP: hpNodeV4})
	mappings := append(podHostPorts(web, webIPs), podHostPorts(dns, dnsIPs)...)
	v4, v6 := hostPortFakes()
	var cleared []string
	h := &hostPorts{runners: []iptables.Interface{v4, v6}, clearUDP: func(_ context.Context, family iptables.Protocol, port int32) {
		cleared = append(cleared, fmt.Sprintf("%s/%d", family, port))
	}}
	if err := h.Sync(ctx, mappings); err != nil {
		t.Fatal(err)
	}
	// New UDP mappings lose the conntrack entries made without them.
	if want := []string{"IPv4/53", "IPv4/5353", "IPv6/5353"}; !slices.Equal(cleared, want) {
		t.Errorf("cleared UDP conntrack entries of %v, want %v", cleared, want)
	}

	for _, tc := range []struct {
		name     string
		fake     *fake.IPTables
		packet   fake.Packet
		wantDNAT string
		wantMasq bool
	}{
		{name: "from another machine to the node's IPv4", fake: v4,
			packet:   fake.Packet{Protocol: "tcp", Source: "10.100.0.2", Destination: hpNodeV4, DestinationPort: 8080, InInterface: "uplink"},
			wantDNAT: "10.244.1.5:80"},
		{name: "from another machine to the node's IPv6", fake: v6,
			packet:   fake.Packet{Protocol: "tcp", Source: "fd00:100::2", Destination: hpNodeV6, DestinationPort: 8080, InInterface: "uplink"},
			wantDNAT: "[fd00:244:1::5]:80"},
		{name: "UDP", fake: v6,
			packet:   fake.Packet{Protocol: "udp", Source: "fd00:100::2", Destination: hpNodeV6, DestinationPort: 5353, InInterface: "uplink"},
			wantDNAT: "[fd00:244:1::5]:53"},
		{name: "from the node itself", fake: v4,
			packet:   fake.Packet{Protocol: "tcp", Source: hpNodeV4, Destination: hpNodeV4, DestinationPort: 8080, Local: true},
			wantDNAT: "10.244.1.5:80"},
		{name: "a pod reaching itself through its hostPort is masqueraded", fake: v4,
			packet:   fake.Packet{Protocol: "tcp", Source: "10.244.1.5", Destination: hpNodeV4, DestinationPort: 8080, InInterface: "cbr0"},
			wantDNAT: "10.244.1.5:80", wantMasq: true},
		{name: "another pod is not masqueraded", fake: v4,
			packet:   fake.Packet{Protocol: "tcp", Source: "10.244.1.7", Destination: hpGwV4, DestinationPort: 8080, InInterface: "cbr0"},
			wantDNAT: "10.244.1.5:80"},
		{name: "loopback is left alone", fake: v4,
			packet: fake.Packet{Protocol: "tcp", Source: "127.0.0.1", Destination: "127.0.0.1", DestinationPort: 8080, Local: true}},
		{name: "IPv6 loopback is left alone", fake: v6,
			packet: fake.Packet{Protocol: "tcp", Source: "::1", Destination: "::1", DestinationPort: 8080, Local: true}},
		{name: "the wrong protocol", fake: v4,
			packet: fake.Packet{Protocol: "udp", Source: "10.100.0.2", Destination: hpNodeV4, DestinationPort: 8080, InInterface: "uplink"}},
		{name: "an address that is not the node's", fake: v4,
			packet: fake.Packet{Protocol: "tcp", Source: "10.100.0.2", Destination: "10.244.1.9", DestinationPort: 8080, InInterface: "uplink"}},
		{name: "a hostIP mapping on its address", fake: v4,
			packet:   fake.Packet{Protocol: "udp", Source: "10.100.0.2", Destination: hpNodeV4, DestinationPort: 53, InInterface: "uplink"},
			wantDNAT: "10.244.1.6:53"},
		{name: "a hostIP mapping on another node address", fake: v4,
			packet: fake.Packet{Protocol: "udp", Source: "10.244.1.7", Destination: hpGwV4, DestinationPort: 53, InInterface: "cbr0"}},
		{name: "a hostIP mapping of the other family", fake: v6,
			packet: fake.Packet{Protocol: "udp", Source: "fd00:100::2", Destination: hpNodeV6, DestinationPort: 53, InInterface: "uplink"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outcomes, err := tc.fake.Trace(tc.packet)
			if err != nil {
				t.Fatal(err)
			}
			if len(outcomes) != 1 {
				t.Fatalf("outcomes %v", outcomes)
			}
			o := outcomes[0]
			if o.Verdict != fake.VerdictAccept || o.DNAT != tc.wantDNAT || o.Masquerade != tc.wantMasq {
				t.Errorf("got %s, want DNAT to %q, masquerade %v\npath: %s", o, tc.wantDNAT, tc.wantMasq, strings.Join(o.Path, "\n  "))
			}
		})
	}

	t.Run("a sync replaces the rules and keeps one jump per hook", func(t *testing.T) {
		cleared = nil
		if err := h.Sync(ctx, podHostPorts(dns, dnsIPs)); err != nil {
			t.Fatal(err)
		}
		if err := h.Sync(ctx, podHostPorts(dns, dnsIPs)); err != nil {
			t.Fatal(err)
		}
		// Removed UDP mappings lose their entries too, once.
		if want := []string{"IPv4/5353", "IPv6/5353"}; !slices.Equal(cleared, want) {
			t.Errorf("cleared UDP conntrack entries of %v, want %v", cleared, want)
		}
		outcomes, err := v4.Trace(fake.Packet{Protocol: "tcp", Source: "10.100.0.2", Destination: hpNodeV4, DestinationPort: 8080, InInterface: "uplink"})
		if err != nil || outcomes[0].DNAT != "" {
			t.Errorf("web's hostPort still maps after it was removed: %v %v", outcomes, err)
		}
		for _, f := range []*fake.IPTables{v4, v6} {
			for _, c := range []iptables.Chain{iptables.ChainPrerouting, iptables.ChainOutput, iptables.ChainPostrouting} {
				if n := len(f.Rules(iptables.TableNAT, c)); n != 1 {
					t.Errorf("%s nat %s has %d rules, want the one jump", f.Protocol(), c, n)
				}
			}
		}
	})

	t.Run("cleanup removes the chains and the jumps", func(t *testing.T) {
		if err := h.Cleanup(ctx); err != nil {
			t.Fatal(err)
		}
		for _, f := range []*fake.IPTables{v4, v6} {
			if chains := f.Chains(iptables.TableNAT); slices.Contains(chains, hostPortsChain) || slices.Contains(chains, hostPortsMasqChain) {
				t.Errorf("%s: chains left %v", f.Protocol(), chains)
			}
			if n := f.RuleCount(iptables.TableNAT); n != 0 {
				t.Errorf("%s: %d nat rules left", f.Protocol(), n)
			}
		}
		if err := h.Cleanup(ctx); err != nil {
			t.Errorf("a second cleanup: %v", err)
		}
	})
}

func TestHostPortRestoreText(t *testing.T) {
	pod, ips := hostPortPod("web", 5, corev1.ContainerPort{ContainerPort: 80, HostPort: 8080})
	got := string(hostPortRestore(iptables.ProtocolIPv6, podHostPorts(pod, ips)))
	want := `*nat
:SIGNET-HOSTPORTS - [0:0]
:SIGNET-HOSTPORTS-MASQ - [0:0]
-A SIGNET-HOSTPORTS -m comment --comment "shop/web:serve hostPort 8080/TCP" -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd00:244:1::5]:80
-A SIGNET-HOSTPORTS-MASQ -m comment --comment "shop/web:serve hostPort 8080/TCP" -s fd00:244:1::5/128 -d fd00:244:1::5/128 -p tcp -m tcp --dport 80 -j MASQUERADE
COMMIT
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
