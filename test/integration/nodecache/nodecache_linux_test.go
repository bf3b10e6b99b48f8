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

package nodecache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/vishvananda/netlink"

	"signet.dev/signet/pkg/nodecache/server"
	"signet.dev/signet/pkg/nodecache/setup"
	"signet.dev/signet/pkg/util/iptables"
	"signet.dev/signet/test/integration/framework"
	"signet.dev/signet/test/integration/framework/nsutil"
)

// The addresses of the test topology: a node namespace and a client
// namespace joined by a veth pair. The client routes the local IPs through
// the node.
const (
	v4LocalIP = "169.254.20.10"
	v6LocalIP = "fd00:20::10"
	nodeV4    = "10.250.0.1"
	clientV4  = "10.250.0.2"
	nodeV6    = "fd00:250::1"
	clientV6  = "fd00:250::2"
	// clusterDNSAddr is the test cluster DNS, on the node's loopback.
	clusterDNSAddr = "127.0.0.1:5353"
	// clusterAnswer is the address the test cluster DNS answers A queries with.
	clusterAnswer = "10.96.0.10"
	nodeName      = "node-e2e"
	linkName      = setup.DefaultInterfaceName
	healthPort    = 8080
	metricsPort   = 9253
)

var localIPs = []netip.Addr{netip.MustParseAddr(v4LocalIP), netip.MustParseAddr(v6LocalIP)}

func TestMain(m *testing.M) {
	code := m.Run()
	framework.RemoveBuiltCommands()
	os.Exit(code)
}

// nodeCacheBinary builds cmd/node-cache from this checkout.
func nodeCacheBinary(t *testing.T) string {
	return framework.BuildCommand(t, "./cmd/node-cache", "")
}

// topology is a node namespace and a client namespace joined by a veth pair.
type topology struct {
	node, client     string
	nodeNS, clientNS *nsutil.NS
	nodeLinks        *netlink.Handle
	http             *http.Client // dials from the client namespace
}

func newTopology(t *testing.T) *topology {
	t.Helper()
	topo := &topology{nodeNS: nsutil.New(t, "nc-node"), clientNS: nsutil.New(t, "nc-client")}
	topo.node, topo.client = topo.nodeNS.Name, topo.clientNS.Name
	nsutil.Run(t, "ip", "-n", topo.node, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", topo.client)
	for _, a := range []struct{ ns, v4, v6 string }{{topo.node, nodeV4, nodeV6}, {topo.client, clientV4, clientV6}} {
		nsutil.Run(t, "ip", "-n", a.ns, "addr", "add", a.v4+"/24", "dev", "veth0")
		nsutil.Run(t, "ip", "-n", a.ns, "-6", "addr", "add", a.v6+"/64", "dev", "veth0", "nodad")
		nsutil.Run(t, "ip", "-n", a.ns, "link", "set", "veth0", "up")
	}
	nsutil.Run(t, "ip", "-n", topo.client, "route", "add", v4LocalIP+"/32", "via", nodeV4, "dev", "veth0")
	nsutil.Run(t, "ip", "-n", topo.client, "-6", "route", "add", v6LocalIP+"/128", "via", nodeV6, "dev", "veth0")

	var err error
	if topo.nodeLinks, err = netlink.NewHandleAt(topo.nodeNS.Handle()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(topo.nodeLinks.Close)
	topo.http = &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				var c net.Conn
				err := topo.clientNS.Do(func() (err error) {
					c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
					return err
				})
				return c, err
			},
		},
	}
	return topo
}

// hostFirewall adds rules a locked-down node might have: conntrack in use
// (which also makes the conntrack table of the namespace meaningful) and DNS
// dropped at the end of INPUT, so queries get through only if node-cache's
// ACCEPT rules sit above.
func (topo *topology) hostFirewall(t *testing.T) {
	t.Helper()
	for _, cmd := range []string{"iptables", "ip6tables"} {
		nsutil.Run(t, "ip", "netns", "exec", topo.node, cmd, "-w", "-A", "INPUT", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP")
		for _, proto := range []string{"udp", "tcp"} {
			nsutil.Run(t, "ip", "netns", "exec", topo.node, cmd, "-w", "-A", "INPUT", "-p", proto, "--dport", "53", "-j", "DROP")
		}
	}
}

// query asks server for the A record of name over network, from the client
// namespace.
func (topo *topology) query(network, server, name string) (*dns.Msg, error) {
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	var conn *dns.Conn
	if err := topo.clientNS.Do(func() (err error) {
		conn, err = c.Dial(server)
		return err
	}); err != nil {
		return nil, err
	}
	defer conn.Close()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	r, _, err := c.ExchangeWithConn(m, conn)
	return r, err
}

// get fetches url from the client namespace.
func (topo *topology) get(url string) (int, string, error) {
	resp, err := topo.http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// sendUDP sends a datagram from the client namespace to addr.
func (topo *topology) sendUDP(t *testing.T, addr string) {
	t.Helper()
	if err := topo.clientNS.Do(func() error {
		c, err := net.Dial("udp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("control"))
		return err
	}); err != nil {
		t.Fatalf("sending to %s: %v", addr, err)
	}
}

// clusterDNS is a test cluster DNS in the node namespace: it answers every A
// query under the cluster domain with clusterAnswer and records how each
// query arrived.
type clusterDNS struct {
	mu      sync.Mutex
	seen    map[string][]string // lower-case name -> transports
	tags    map[string]string   // lower-case name -> node-name option
	servers []*dns.Server
}

func startClusterDNS(t *testing.T, topo *topology) *clusterDNS {
	t.Helper()
	c := &clusterDNS{seen: map[string][]string{}, tags: map[string]string{}}
	var pc net.PacketConn
	var ln net.Listener
	if err := topo.nodeNS.Do(func() (err error) {
		if pc, err = net.ListenPacket("udp", clusterDNSAddr); err != nil {
			return err
		}
		ln, err = net.Listen("tcp", clusterDNSAddr)
		return err
	}); err != nil {
		t.Fatalf("listening in %s: %v", topo.node, err)
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		q := r.Question[0]
		name := strings.ToLower(q.Name)
		c.mu.Lock()
		c.seen[name] = append(c.seen[name], w.RemoteAddr().Network())
		if opt := r.IsEdns0(); opt != nil {
			for _, o := range opt.Option {
				if l, ok := o.(*dns.EDNS0_LOCAL); ok && l.Code == server.DefaultNodeNameOption {
					c.tags[name] = string(l.Data)
				}
			}
		}
		c.mu.Unlock()
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		if q.Qtype == dns.TypeA {
			rr, _ := dns.NewRR(q.Name + " 30 IN A " + clusterAnswer)
			m.Answer = append(m.Answer, rr)
		} else {
			rr, _ := dns.NewRR("cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5")
			m.Ns = append(m.Ns, rr)
		}
		_ = w.WriteMsg(m)
	})
	c.servers = []*dns.Server{{PacketConn: pc, Handler: handler}, {Listener: ln, Handler: handler}}
	for _, s := range c.servers {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go func() { _ = s.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = s.Shutdown() })
	}
	return c
}

// transports returns how the queries for name arrived, and the node name
// the last one carried.
func (c *clusterDNS) transports(name string) ([]string, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen[strings.ToLower(name)]...), c.tags[strings.ToLower(name)]
}

// udpQueries counts the queries that arrived over UDP.
func (c *clusterDNS) udpQueries() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, nets := range c.seen {
		for _, network := range nets {
			if network == "udp" {
				n++
			}
		}
	}
	return n
}

// syncBuffer collects a process's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// process is node-cache running in the node namespace.
type process struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error // set when done is closed
}

// startNodeCache runs node-cache in the node namespace with the flags of a
// real node plus extra, and waits until it is ready.
func startNodeCache(t *testing.T, topo *topology, extra ...string) *process {
	t.Helper()
	resolvConf := filepath.Join(t.TempDir(), "resolv.conf")
	// An address the node namespace has no route to: names outside the
	// cluster fail at once and nothing leaves the namespace.
	if err := os.WriteFile(resolvConf, []byte("nameserver 192.0.2.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"netns", "exec", topo.node, nodeCacheBinary(t),
		"--localip=" + v4LocalIP + "," + v6LocalIP,
		"--cluster-dns=" + clusterDNSAddr,
		"--upstream-resolv-conf=" + resolvConf,
		fmt.Sprintf("--health-addr=:%d", healthPort),
		fmt.Sprintf("--metrics-addr=:%d", metricsPort),
		"--sync-interval=1s",
		"--node-name=" + nodeName,
		"-v=2",
	}, extra...)
	p := &process{cmd: exec.Command("ip", args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting node-cache: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("node-cache output:\n%s", p.out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	url := fmt.Sprintf("http://%s/ready", net.JoinHostPort(v4LocalIP, fmt.Sprint(healthPort)))
	for {
		select {
		case <-p.done:
			t.Fatalf("node-cache exited before it was ready: %v\n%s", p.err, p.out.String())
		default:
		}
		code, _, err := topo.get(url)
		if err == nil && code == http.StatusOK {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("node-cache not ready after 30s (last: %d %v)\n%s", code, err, p.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// terminate sends SIGTERM and waits for a clean exit.
func (p *process) terminate(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("node-cache did not exit within 30s of SIGTERM\n%s", p.out.String())
	}
	if p.err != nil {
		t.Fatalf("node-cache exited with %v\n%s", p.err, p.out.String())
	}
}

// iptablesSave returns the raw and filter tables of one family in the node
// namespace.
func (topo *topology) iptablesSave(t *testing.T, ip netip.Addr) string {
	t.Helper()
	cmd := "iptables-save"
	if ip.Is6() {
		cmd = "ip6tables-save"
	}
	return nsutil.Run(t, "ip", "netns", "exec", topo.node, cmd, "-t", "raw") +
		nsutil.Run(t, "ip", "netns", "exec", topo.node, cmd, "-t", "filter")
}

// checkRules fails unless every node-cache rule of every local IP is in place
// exactly once, in its table and chain.
func (topo *topology) checkRules(t *testing.T) {
	t.Helper()
	for _, p := range topo.ruleProblems(t) {
		t.Error(p)
	}
}

// ruleProblems lists how the node-cache rules differ from one copy of each.
func (topo *topology) ruleProblems(t *testing.T) []string {
	t.Helper()
	var problems []string
	for _, ip := range localIPs {
		saved := topo.iptablesSave(t, ip)
		parsed := iptables.ParseSave([]byte(saved))
		want := setup.RulesFor(ip, setup.DefaultDNSPort, healthPort)
		for _, r := range want {
			// A comment names the flow; the same flow has a rule in
			// more than one chain.
			comment := r.Args[len(r.Args)-3]
			n := 0
			for _, s := range parsed[r.Table] {
				if s.Chain == r.Chain && strings.Contains(s.Spec, `"`+comment+`"`) {
					if !strings.HasSuffix(s.Spec, "-j "+r.Args[len(r.Args)-1]) {
						problems = append(problems, fmt.Sprintf("rule %q: %s, want target %s", comment, s.Spec, r.Args[len(r.Args)-1]))
					}
					n++
				}
			}
			if n != 1 {
				problems = append(problems, fmt.Sprintf("%s: rule %q present %d times in %s %s, want once", ip, comment, n, r.Table, r.Chain))
			}
		}
		if n := strings.Count(saved, setup.CommentPrefix); n != len(want) {
			problems = append(problems, fmt.Sprintf("%s: %d rules carry the node-cache comment, want %d:\n%s", ip, n, len(want), saved))
		}
	}
	return problems
}

// checkNoRules fails if any node-cache rule is left.
func (topo *topology) checkNoRules(t *testing.T) {
	t.Helper()
	for _, ip := range localIPs {
		if saved := topo.iptablesSave(t, ip); strings.Contains(saved, "node-cache") {
			t.Errorf("node-cache rules left for %s:\n%s", ip, saved)
		}
	}
}

// checkLink fails unless the link exists, is up and holds both local IPs as
// host addresses; it returns the link's index.
func (topo *topology) checkLink(t *testing.T) int {
	t.Helper()
	link, err := topo.nodeLinks.LinkByName(linkName)
	if err != nil {
		t.Fatalf("link %s: %v", linkName, err)
	}
	if link.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("link %s is down", linkName)
	}
	addrs, err := topo.nodeLinks.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, a := range addrs {
		have[a.IPNet.String()] = true
	}
	for _, want := range []string{v4LocalIP + "/32", v6LocalIP + "/128"} {
		if !have[want] {
			t.Errorf("link %s (%s) lacks %s; has %v", linkName, link.Type(), want, addrs)
		}
	}
	return link.Attrs().Index
}

func (topo *topology) checkNoLink(t *testing.T) {
	t.Helper()
	var nf netlink.LinkNotFoundError
	if _, err := topo.nodeLinks.LinkByName(linkName); !errors.As(err, &nf) {
		t.Errorf("link %s after teardown: %v, want it gone", linkName, err)
	}
}

// dnsServers are the local IPs as DNS server addresses.
func dnsServers() []string {
	return []string{net.JoinHostPort(v4LocalIP, "53"), net.JoinHostPort(v6LocalIP, "53")}
}

// resolveA queries name and fails unless the answer is clusterAnswer.
func (topo *topology) resolveA(t *testing.T, network, server, name string) {
	t.Helper()
	r, err := topo.query(network, server, name)
	if err != nil {
		t.Fatalf("%s query to %s for %s: %v", network, server, name, err)
	}
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("%s query to %s for %s: %v", network, server, name, r)
	}
	if a, ok := r.Answer[0].(*dns.A); !ok || a.A.String() != clusterAnswer || a.Hdr.Name != name {
		t.Fatalf("%s query to %s for %s: answer %v, want %s", network, server, name, r.Answer[0], clusterAnswer)
	}
}

var dnsFlow = regexp.MustCompile(`\bdport=53\b`)

func TestServeAndTeardown(t *testing.T) {
	nsutil.RequireRoot(t, "iptables", "ip6tables", "iptables-save", "ip6tables-save", "conntrack")
	topo := newTopology(t)
	topo.hostFirewall(t)
	upstream := startClusterDNS(t, topo)
	p := startNodeCache(t, topo)

	t.Run("interface", func(t *testing.T) { topo.checkLink(t) })

	t.Run("queries through both local IPs over UDP and TCP", func(t *testing.T) {
		for _, srv := range dnsServers() {
			for _, network := range []string{"udp", "tcp"} {
				host, _, _ := net.SplitHostPort(srv)
				name := fmt.Sprintf("svc-%s-%s.default.svc.cluster.local.", strings.NewReplacer(".", "-", ":", "-").Replace(host), network)
				topo.resolveA(t, network, srv, name)
				topo.resolveA(t, network, srv, name) // from the cache
				nets, tag := upstream.transports(name)
				if len(nets) != 1 || nets[0] != "tcp" {
					t.Errorf("%s: cluster DNS saw %q, want one TCP query (the repeat served from the cache)", name, nets)
				}
				if tag != nodeName {
					t.Errorf("%s: cluster DNS got node name %q, want %q", name, tag, nodeName)
				}
			}
		}
		if n := upstream.udpQueries(); n != 0 {
			t.Errorf("cluster DNS got %d queries over UDP, want TCP only", n)
		}
	})

	t.Run("no conntrack entries for DNS to the local IPs", func(t *testing.T) {
		// Control flows to the node's own address, which node-cache does
		// not untrack: they must show, or the check below proves nothing.
		topo.sendUDP(t, net.JoinHostPort(nodeV4, "9999"))
		topo.sendUDP(t, net.JoinHostPort(nodeV6, "9999"))
		for _, family := range []string{"ipv4", "ipv6"} {
			out := nsutil.Run(t, "ip", "netns", "exec", topo.node, "conntrack", "-L", "-f", family)
			if !strings.Contains(out, "dport=9999") {
				t.Errorf("conntrack -L -f %s lacks the control flow to port 9999; is conntrack active?\n%s", family, out)
			}
			for _, line := range strings.Split(out, "\n") {
				if dnsFlow.MatchString(line) {
					t.Errorf("conntrack -L -f %s tracks a DNS flow: %s", family, line)
				}
			}
		}
	})

	t.Run("rules in place once each", func(t *testing.T) { topo.checkRules(t) })

	t.Run("sync restores a deleted rule and address without duplicates", func(t *testing.T) {
		r := setup.RulesFor(localIPs[0], setup.DefaultDNSPort, healthPort)[0]
		nsutil.Run(t, "ip", append([]string{"netns", "exec", topo.node, "iptables", "-w", "-t", string(r.Table), "-D", string(r.Chain)}, r.Args...)...)
		nsutil.Run(t, "ip", "-n", topo.node, "-6", "addr", "del", v6LocalIP+"/128", "dev", linkName)
		if len(topo.ruleProblems(t)) == 0 {
			t.Fatal("deleting a rule went unnoticed; the check below proves nothing")
		}
		deadline := time.Now().Add(10 * time.Second) // --sync-interval=1s
		for {
			problems := topo.ruleProblems(t)
			link, err := topo.nodeLinks.LinkByName(linkName)
			restored := false
			if err == nil {
				addrs, _ := topo.nodeLinks.AddrList(link, netlink.FAMILY_V6)
				for _, a := range addrs {
					restored = restored || a.IP.String() == v6LocalIP
				}
			}
			if len(problems) == 0 && restored {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not restored within 10s: address back %v, rule problems %q", restored, problems)
			}
			time.Sleep(200 * time.Millisecond)
		}
		time.Sleep(2 * time.Second) // two more syncs: still one copy of each
		topo.checkRules(t)
		topo.checkLink(t)
		topo.resolveA(t, "udp", dnsServers()[1], "restored.default.svc.cluster.local.")
	})

	t.Run("metrics", func(t *testing.T) {
		code, body, err := topo.get(fmt.Sprintf("http://%s/metrics", net.JoinHostPort(nodeV4, fmt.Sprint(metricsPort))))
		if err != nil || code != http.StatusOK {
			t.Fatalf("/metrics: %d %v", code, err)
		}
		for _, want := range []string{
			`node_cache_setup_errors_total{kind="interface"} 0`,
			`node_cache_setup_errors_total{kind="iptables"} 0`,
			`node_cache_cache_hits_total 4`,
			`node_cache_requests_total{proto="tcp",type="A"}`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	})

	p.terminate(t)
	t.Run("everything removed after SIGTERM", func(t *testing.T) {
		topo.checkNoRules(t)
		topo.checkNoLink(t)
		if _, err := topo.query("udp", dnsServers()[0], "gone.cluster.local."); err == nil {
			t.Error("DNS still answers after exit")
		}
		for _, want := range []string{"Stopped serving DNS", "Removed node-cache netfilter rules", "Deleted link"} {
			if !strings.Contains(p.out.String(), want) {
				t.Errorf("output lacks %q", want)
			}
		}
		out := p.out.String()
		if a, b, c := strings.Index(out, "Stopped serving DNS"), strings.Index(out, "Removed node-cache netfilter rules"), strings.Index(out, "Deleted link"); !(a < b && b < c) {
			t.Errorf("teardown order: stop answering at %d, rules removed at %d, link deleted at %d; want that order", a, b, c)
		}
	})
}

func TestSkipTeardown(t *testing.T) {
	nsutil.RequireRoot(t, "iptables", "ip6tables", "iptables-save", "ip6tables-save", "conntrack")
	topo := newTopology(t)
	startClusterDNS(t, topo)
	p := startNodeCache(t, topo, "--skip-teardown")
	for _, srv := range dnsServers() {
		topo.resolveA(t, "udp", srv, "before.default.svc.cluster.local.")
	}
	p.terminate(t)

	index := topo.checkLink(t)
	topo.checkRules(t)
	if strings.Contains(p.out.String(), "Removed node-cache netfilter rules") || strings.Contains(p.out.String(), "Deleted link") {
		t.Errorf("--skip-teardown removed something:\n%s", p.out.String())
	}

	// A new node-cache takes over what was left: the same link, no duplicate
	// rules. Without --skip-teardown it then cleans everything up.
	p = startNodeCache(t, topo)
	if got := topo.checkLink(t); got != index {
		t.Errorf("restart replaced the link: index %d, was %d", got, index)
	}
	topo.checkRules(t)
	for _, srv := range dnsServers() {
		topo.resolveA(t, "tcp", srv, "after.default.svc.cluster.local.")
	}
	p.terminate(t)
	topo.checkNoRules(t)
	topo.checkNoLink(t)
}
