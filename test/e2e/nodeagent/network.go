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
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

const (
	// netnsRunDir is where iproute2 keeps named network namespaces.
	netnsRunDir = "/run/netns"
	// netnsEtcDir holds, per namespace, files that "ip netns exec" mounts
	// over /etc: the pods' resolv.conf and hosts.
	netnsEtcDir = "/etc/netns"
	// podInterface is the pod's end of its veth pair.
	podInterface = "eth0"
)

// nodeNetwork sets up the node side of the pods' network: the bridge with
// a gateway address per pod CIDR, and each pod's namespace and veth pair.
type nodeNetwork struct {
	bridge string
	mac    net.HardwareAddr
	// gateways are the bridge's addresses, gateway/prefix length, one per
	// pod CIDR.
	gateways []netip.Prefix
}

func newNodeNetwork(node, bridge string, cidrs []netip.Prefix) *nodeNetwork {
	n := &nodeNetwork{bridge: bridge, mac: bridgeMAC(node)}
	for _, c := range cidrs {
		n.gateways = append(n.gateways, netip.PrefixFrom(c.Addr().Next(), c.Bits()))
	}
	return n
}

// checkMountNamespace fails when the agent runs in a mount namespace of its
// own below the machine's, as "ip netns exec" makes: the network namespaces
// it creates for pods would be mounted there only, invisible to everyone
// else (pod-exec, tests, a restarted agent).
func checkMountNamespace() error {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	return mountNamespaceProblem(data)
}

// mountNamespaceProblem reads /proc/self/mountinfo: when /run/netns (or,
// before any namespace exists, /) is a slave mount, mounts made here do not
// reach the rest of the machine.
func mountNamespaceProblem(mountinfo []byte) error {
	var root, run string
	sc := bufio.NewScanner(bytes.NewReader(mountinfo))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 7 {
			continue
		}
		// Fields: id parent major:minor root mountpoint options optional... - ...
		var optional []string
		for _, f := range fields[6:] {
			if f == "-" {
				break
			}
			optional = append(optional, f)
		}
		switch fields[4] {
		case "/":
			root = strings.Join(optional, " ")
		case netnsRunDir:
			run = strings.Join(optional, " ")
		}
	}
	tags := root
	if run != "" {
		tags = run
	}
	if strings.Contains(tags, "master:") {
		return errors.New("the agent runs in a mount namespace of its own (as \"ip netns exec\" makes), where the pods' " +
			"network namespaces would be invisible to the rest of the machine; start it with " +
			"\"nsenter --net=" + netnsRunDir + "/<node namespace> -- nodeagent ...\" instead")
	}
	return nil
}

// ensureSysctls turns on forwarding and bridge netfilter in the node's
// namespace: pods route through the node, and kube-proxy's rules must see
// traffic between pods of the same bridge.
func ensureSysctls() error {
	var errs []error
	for _, s := range []struct {
		path     string
		optional bool
	}{
		{"net/ipv4/ip_forward", false},
		{"net/ipv6/conf/all/forwarding", false},
		{"net/bridge/bridge-nf-call-iptables", true},
		{"net/bridge/bridge-nf-call-ip6tables", true},
	} {
		p := filepath.Join("/proc/sys", s.path)
		if err := os.WriteFile(p, []byte("1"), 0o644); err != nil && !(s.optional && errors.Is(err, fs.ErrNotExist)) {
			errs = append(errs, fmt.Errorf("sysctl %s=1: %w", strings.ReplaceAll(s.path, "/", "."), err))
		}
	}
	return errors.Join(errs...)
}

// ensureBridge creates the bridge if it is missing and gives it the
// gateway addresses; it reports whether it created the bridge.
func (n *nodeNetwork) ensureBridge() (bool, error) {
	created := false
	link, err := netlink.LinkByName(n.bridge)
	var notFound netlink.LinkNotFoundError
	switch {
	case errors.As(err, &notFound):
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: n.bridge, HardwareAddr: n.mac}}
		if err := netlink.LinkAdd(br); err != nil {
			return false, fmt.Errorf("creating bridge %s: %w", n.bridge, err)
		}
		created = true
		if link, err = netlink.LinkByName(n.bridge); err != nil {
			return created, err
		}
	case err != nil:
		return false, fmt.Errorf("bridge %s: %w", n.bridge, err)
	case link.Type() != "bridge":
		return false, fmt.Errorf("%s is a %s link, not a bridge", n.bridge, link.Type())
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return created, fmt.Errorf("setting %s up: %w", n.bridge, err)
	}
	for _, gw := range n.gateways {
		if err := netlink.AddrReplace(link, nodadAddr(gw)); err != nil {
			return created, fmt.Errorf("adding %s to %s: %w", gw, n.bridge, err)
		}
	}
	return created, nil
}

// deleteBridge removes the bridge the agent created; a missing bridge is
// not an error. A bridge of that name without the MAC address the agent
// gives its bridges is someone else's (--cleanup run in the wrong network
// namespace) and stays.
func (n *nodeNetwork) deleteBridge() error {
	link, err := netlink.LinkByName(n.bridge)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if link.Attrs().HardwareAddr.String() != n.mac.String() {
		return fmt.Errorf("%s has MAC address %s, not the agent's %s: not removing a bridge the agent did not create here",
			n.bridge, link.Attrs().HardwareAddr, n.mac)
	}
	return netlink.LinkDel(link)
}

// nodadAddr is an address that skips IPv6 duplicate address detection, so
// that it is usable at once.
func nodadAddr(p netip.Prefix) *netlink.Addr {
	return &netlink.Addr{
		IPNet: &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())},
		Flags: unix.IFA_F_NODAD,
	}
}

// gatewayFor returns the gateway prefix of ip's pod CIDR.
func (n *nodeNetwork) gatewayFor(ip netip.Addr) (netip.Prefix, error) {
	for _, gw := range n.gateways {
		if gw.Masked().Contains(ip) {
			return gw, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("%s is in none of the node's pod CIDRs", ip)
}

// setupPod makes a pod's network: its namespace, the veth pair (node end on
// the bridge, eth0 in the pod), its addresses and default routes through
// the bridge. It can run again over a partial or complete setup.
func (n *nodeNetwork) setupPod(rec *PodRecord) error {
	if err := ensureNetns(rec.Netns); err != nil {
		return err
	}
	ns, err := netns.GetFromPath(filepath.Join(netnsRunDir, rec.Netns))
	if err != nil {
		return fmt.Errorf("opening network namespace %s: %w", rec.Netns, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("netlink in %s: %w", rec.Netns, err)
	}
	defer h.Close()

	if lo, err := h.LinkByName("lo"); err != nil {
		return err
	} else if err := h.LinkSetUp(lo); err != nil {
		return err
	}
	bridge, err := netlink.LinkByName(n.bridge)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", n.bridge, err)
	}
	eth0, err := h.LinkByName(podInterface)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		// A node end without its pod end is left from an interrupted setup.
		if stale, err := netlink.LinkByName(rec.HostVeth); err == nil {
			_ = netlink.LinkDel(stale)
		}
		veth := &netlink.Veth{
			LinkAttrs:     netlink.LinkAttrs{Name: rec.HostVeth, MasterIndex: bridge.Attrs().Index, MTU: bridge.Attrs().MTU},
			PeerName:      podInterface,
			PeerNamespace: netlink.NsFd(int(ns)),
		}
		if err := netlink.LinkAdd(veth); err != nil {
			return fmt.Errorf("creating veth %s: %w", rec.HostVeth, err)
		}
		eth0, err = h.LinkByName(podInterface)
	}
	if err != nil {
		return fmt.Errorf("%s in %s: %w", podInterface, rec.Netns, err)
	}
	host, err := netlink.LinkByName(rec.HostVeth)
	if err != nil {
		return fmt.Errorf("veth %s: %w", rec.HostVeth, err)
	}
	if host.Attrs().MasterIndex != bridge.Attrs().Index {
		if err := netlink.LinkSetMaster(host, bridge); err != nil {
			return fmt.Errorf("attaching %s to %s: %w", rec.HostVeth, n.bridge, err)
		}
	}
	if err := netlink.LinkSetUp(host); err != nil {
		return err
	}
	if err := h.LinkSetUp(eth0); err != nil {
		return err
	}
	for _, ip := range rec.IPs {
		gw, err := n.gatewayFor(ip)
		if err != nil {
			return err
		}
		if err := h.AddrReplace(eth0, nodadAddr(netip.PrefixFrom(ip, gw.Bits()))); err != nil {
			return fmt.Errorf("adding %s to the pod: %w", ip, err)
		}
		anyDst := &net.IPNet{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)}
		if ip.Is6() {
			anyDst = &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}
		}
		route := &netlink.Route{LinkIndex: eth0.Attrs().Index, Dst: anyDst, Gw: net.IP(gw.Addr().AsSlice())}
		if err := h.RouteReplace(route); err != nil {
			return fmt.Errorf("default route via %s in the pod: %w", gw.Addr(), err)
		}
	}
	return nil
}

// teardownPod removes a pod's network: it kills what still runs in the
// namespace, deletes the veth pair and the namespace, and removes the
// pod's files under /etc/netns. Missing pieces are not errors.
func (n *nodeNetwork) teardownPod(rec *PodRecord) error {
	if rec.Netns == "" {
		return nil
	}
	var errs []error
	if _, err := killNetnsProcesses(rec.Netns); err != nil {
		errs = append(errs, err)
	}
	if rec.HostVeth != "" {
		if link, err := netlink.LinkByName(rec.HostVeth); err == nil {
			if err := netlink.LinkDel(link); err != nil {
				errs = append(errs, fmt.Errorf("deleting %s: %w", rec.HostVeth, err))
			}
		}
	}
	if err := deleteNetns(rec.Netns); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(filepath.Join(netnsEtcDir, rec.Netns)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// isNetns reports whether path is a mounted network namespace (and not a
// file left behind without its mount).
func isNetns(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.NSFS_MAGIC
}

func ensureNetns(name string) error {
	path := filepath.Join(netnsRunDir, name)
	if isNetns(path) {
		return nil
	}
	_ = os.Remove(path) // a file without its mount
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns add %s: %v: %s", name, err, bytes.TrimSpace(out))
	}
	return nil
}

func deleteNetns(name string) error {
	path := filepath.Join(netnsRunDir, name)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns delete %s: %v: %s", name, err, bytes.TrimSpace(out))
	}
	return nil
}

// listNetns returns the named network namespaces starting with prefix.
func listNetns(prefix string) ([]string, error) {
	entries, err := os.ReadDir(netnsRunDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// listNetnsEtc returns the /etc/netns directories starting with prefix.
func listNetnsEtc(prefix string) ([]string, error) {
	entries, err := os.ReadDir(netnsEtcDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// bridgePorts returns the veths attached to the bridge.
func (n *nodeNetwork) bridgePorts() ([]string, error) {
	bridge, err := netlink.LinkByName(n.bridge)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	links, err := netlink.LinkList()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range links {
		if l.Attrs().MasterIndex == bridge.Attrs().Index && l.Type() == "veth" {
			out = append(out, l.Attrs().Name)
		}
	}
	return out, nil
}

// deleteLink deletes a link by name; a missing link is not an error.
func deleteLink(name string) error {
	link, err := netlink.LinkByName(name)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return netlink.LinkDel(link)
}

// writePodFiles writes the resolv.conf and hosts that "ip netns exec"
// mounts over /etc for the pod's processes.
func writePodFiles(netnsName, resolv, hosts string) error {
	dir := filepath.Join(netnsEtcDir, netnsName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, "resolv.conf"), []byte(resolv), 0o644); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "hosts"), []byte(hosts), 0o644)
}

// netnsProcesses returns the processes (other than this one) whose network
// namespace is the named one.
func netnsProcesses(name string) ([]int, error) {
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(netnsRunDir, name), &st); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	want := fmt.Sprintf("net:[%d]", st.Ino)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		if link, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns", "net")); err == nil && link == want {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// killNetnsProcesses kills every process left in a pod's namespace.
func killNetnsProcesses(name string) (int, error) {
	pids, err := netnsProcesses(name)
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	return len(pids), err
}
