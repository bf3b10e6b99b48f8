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
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"signet.dev/signet/pkg/util/iptables"
)

// The hostPort chains, in the nat table of each family. SIGNET-HOSTPORTS
// is jumped to from PREROUTING and OUTPUT for packets to the node's own
// addresses and DNATs each hostPort to its pod; SIGNET-HOSTPORTS-MASQ,
// jumped to from POSTROUTING, masquerades a pod reaching itself through
// its hostPort, whose answer would otherwise not go back through the node.
const (
	hostPortsChain     iptables.Chain = "SIGNET-HOSTPORTS"
	hostPortsMasqChain iptables.Chain = "SIGNET-HOSTPORTS-MASQ"
)

// hostPortMapping is one hostPort of one pod, for one family.
type hostPortMapping struct {
	// Pod is namespace/name, Container the container declaring the port.
	Pod, Container string
	Protocol       corev1.Protocol
	// HostIP limits the mapping to one node address; invalid means all.
	HostIP        netip.Addr
	HostPort      int32
	PodIP         netip.Addr
	ContainerPort int32
}

// podHostPorts lists a pod's hostPorts, one mapping per pod address whose
// family fits (all families when the port names no hostIP).
func podHostPorts(pod *corev1.Pod, ips []netip.Addr) []hostPortMapping {
	var out []hostPortMapping
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort == 0 {
				continue
			}
			proto := p.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			var hostIP netip.Addr
			if p.HostIP != "" {
				if a, err := netip.ParseAddr(p.HostIP); err == nil && !a.IsUnspecified() {
					hostIP = a.Unmap()
				}
			}
			for _, ip := range ips {
				if hostIP.IsValid() && hostIP.Is4() != ip.Is4() {
					continue
				}
				out = append(out, hostPortMapping{
					Pod: pod.Namespace + "/" + pod.Name, Container: c.Name, Protocol: proto,
					HostIP: hostIP, HostPort: p.HostPort, PodIP: ip, ContainerPort: p.ContainerPort,
				})
			}
		}
	}
	return out
}

// hostPortRestore is the iptables-restore input (--noflush) that sets both
// hostPort chains of one family to the mappings of that family.
func hostPortRestore(family iptables.Protocol, mappings []hostPortMapping) []byte {
	ms := make([]hostPortMapping, 0, len(mappings))
	for _, m := range mappings {
		if m.PodIP.Is4() == (family == iptables.ProtocolIPv4) {
			ms = append(ms, m)
		}
	}
	sort.SliceStable(ms, func(i, j int) bool {
		if ms[i].HostPort != ms[j].HostPort {
			return ms[i].HostPort < ms[j].HostPort
		}
		if ms[i].Protocol != ms[j].Protocol {
			return ms[i].Protocol < ms[j].Protocol
		}
		return ms[i].Pod < ms[j].Pod
	})
	hostBits := "/32"
	if family == iptables.ProtocolIPv6 {
		hostBits = "/128"
	}
	var b bytes.Buffer
	b.WriteString("*nat\n")
	fmt.Fprintf(&b, ":%s - [0:0]\n:%s - [0:0]\n", hostPortsChain, hostPortsMasqChain)
	for _, m := range ms {
		proto := strings.ToLower(string(m.Protocol))
		comment := strconv.Quote(fmt.Sprintf("%s:%s hostPort %d/%s", m.Pod, m.Container, m.HostPort, m.Protocol))
		dest := ""
		if m.HostIP.IsValid() {
			dest = " -d " + m.HostIP.String() + hostBits
		}
		to := m.PodIP.String() + ":" + strconv.Itoa(int(m.ContainerPort))
		if m.PodIP.Is6() {
			to = "[" + m.PodIP.String() + "]:" + strconv.Itoa(int(m.ContainerPort))
		}
		fmt.Fprintf(&b, "-A %s -m comment --comment %s%s -p %s -m %s --dport %d -j DNAT --to-destination %s\n",
			hostPortsChain, comment, dest, proto, proto, m.HostPort, to)
		fmt.Fprintf(&b, "-A %s -m comment --comment %s -s %s%s -d %s%s -p %s -m %s --dport %d -j MASQUERADE\n",
			hostPortsMasqChain, comment, m.PodIP, hostBits, m.PodIP, hostBits, proto, proto, m.ContainerPort)
	}
	b.WriteString("COMMIT\n")
	return b.Bytes()
}

// hostPortJump is a rule that leads from a built-in chain to ours.
type hostPortJump struct {
	chain iptables.Chain
	args  []string
}

// hostPortJumps are the jumps of one family. Packets to loopback are left
// alone: DNAT would send them out of the node with a loopback source.
func hostPortJumps(family iptables.Protocol) []hostPortJump {
	loopback := "127.0.0.0/8"
	if family == iptables.ProtocolIPv6 {
		loopback = "::1/128"
	}
	local := []string{"-m", "comment", "--comment", "signet node agent hostPorts", "-m", "addrtype", "--dst-type", "LOCAL"}
	return []hostPortJump{
		{iptables.ChainPrerouting, append(append([]string{}, local...), "-j", string(hostPortsChain))},
		{iptables.ChainOutput, append(append([]string{}, local...), "!", "-d", loopback, "-j", string(hostPortsChain))},
		{iptables.ChainPostrouting, []string{"-m", "comment", "--comment", "signet node agent hostPorts", "-j", string(hostPortsMasqChain)}},
	}
}

// hostPorts keeps the hostPort rules of both families.
type hostPorts struct {
	runners []iptables.Interface
	// clearUDP forgets the conntrack entries of UDP packets sent to a node
	// port: UDP "connections" would otherwise keep their old translation
	// (or lack of one) after a mapping comes or goes. Nil does nothing.
	clearUDP func(ctx context.Context, family iptables.Protocol, port int32)
	// udp holds, per family, the UDP hostPorts of the last sync.
	udp map[iptables.Protocol]sets.Set[int32]
}

func newHostPorts() *hostPorts {
	return &hostPorts{
		runners:  []iptables.Interface{iptables.New(nil, iptables.ProtocolIPv4), iptables.New(nil, iptables.ProtocolIPv6)},
		clearUDP: clearUDPConntrack,
	}
}

// Sync sets the rules of every family to mappings: the chains are
// rewritten in one iptables-restore per family, then the jumps to them are
// ensured, then the conntrack entries of UDP hostPorts that came or went
// are cleared.
func (h *hostPorts) Sync(ctx context.Context, mappings []hostPortMapping) error {
	var errs []error
	if h.udp == nil {
		h.udp = map[iptables.Protocol]sets.Set[int32]{}
	}
	for _, r := range h.runners {
		family := r.Protocol()
		if err := r.Restore(ctx, hostPortRestore(family, mappings), true); err != nil {
			errs = append(errs, err)
			continue
		}
		for _, j := range hostPortJumps(family) {
			if _, err := r.EnsureRule(ctx, iptables.Prepend, iptables.TableNAT, j.chain, j.args...); err != nil {
				errs = append(errs, err)
			}
		}
		udp := sets.New[int32]()
		for _, m := range mappings {
			if m.Protocol == corev1.ProtocolUDP && m.PodIP.Is4() == (family == iptables.ProtocolIPv4) {
				udp.Insert(m.HostPort)
			}
		}
		if h.clearUDP != nil {
			for _, port := range sets.List(udp.SymmetricDifference(h.udp[family])) {
				h.clearUDP(ctx, family, port)
			}
		}
		h.udp[family] = udp
	}
	return errors.Join(errs...)
}

// clearUDPConntrack deletes the conntrack entries of UDP packets to port,
// when the conntrack tool is there.
func clearUDPConntrack(ctx context.Context, family iptables.Protocol, port int32) {
	if _, err := exec.LookPath("conntrack"); err != nil {
		return
	}
	f := "ipv4"
	if family == iptables.ProtocolIPv6 {
		f = "ipv6"
	}
	// It exits 1 when there was nothing to delete.
	_ = exec.CommandContext(ctx, "conntrack", "-D", "-f", f, "-p", "udp", "--orig-port-dst", strconv.Itoa(int(port))).Run()
}

// Cleanup removes the jumps and the chains of every family; chains that
// are not there are not an error.
func (h *hostPorts) Cleanup(ctx context.Context) error {
	var errs []error
	for _, r := range h.runners {
		save, err := r.Save(ctx, iptables.TableNAT)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var present []iptables.Chain
		for _, c := range []iptables.Chain{hostPortsChain, hostPortsMasqChain} {
			if bytes.Contains(save, []byte("\n:"+string(c)+" ")) {
				present = append(present, c)
			}
		}
		if len(present) == 0 {
			continue
		}
		// A jump names its chain: no chain, no jump to remove.
		for _, j := range hostPortJumps(r.Protocol()) {
			if _, err := r.DeleteRule(ctx, iptables.TableNAT, j.chain, j.args...); err != nil {
				errs = append(errs, err)
			}
		}
		var del bytes.Buffer
		del.WriteString("*nat\n")
		for _, c := range present {
			fmt.Fprintf(&del, ":%s - [0:0]\n-X %s\n", c, c)
		}
		del.WriteString("COMMIT\n")
		if err := r.Restore(ctx, del.Bytes(), true); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
