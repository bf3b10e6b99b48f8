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

package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"
)

// upstream is a DNS server on 127.0.0.1 that answers every A query with ip
// and records the transport of each query.
type upstream struct {
	addr string
	ip   string
	mu   sync.Mutex
	seen map[string][]string // lower-case name -> networks
}

func startUpstream(t *testing.T, ip string) *upstream {
	t.Helper()
	u := &upstream{ip: ip, seen: map[string][]string{}}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		q := r.Question[0]
		u.mu.Lock()
		u.seen[strings.ToLower(q.Name)] = append(u.seen[strings.ToLower(q.Name)], w.RemoteAddr().Network())
		u.mu.Unlock()
		m := new(dns.Msg)
		m.SetReply(r)
		if q.Qtype == dns.TypeA {
			rr, _ := dns.NewRR(q.Name + " 300 IN A " + ip)
			m.Answer = append(m.Answer, rr)
		} else {
			rr, _ := dns.NewRR(q.Name + " 300 IN SOA ns. host. 1 2 3 4 300")
			m.Ns = append(m.Ns, rr)
		}
		_ = w.WriteMsg(m)
	})
	pc, ln := listenPair(t)
	u.addr = pc.LocalAddr().String()
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: handler}, {Listener: ln, Handler: handler}} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go func() { _ = s.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = s.Shutdown() })
	}
	return u
}

// queries returns the transports of the queries for name.
func (u *upstream) queries(name string) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.seen[strings.ToLower(name)]...)
}

// listenPair binds UDP and TCP on one free port of 127.0.0.1.
func listenPair(t *testing.T) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close()
	}
	t.Fatal("no free port for UDP and TCP")
	return nil, nil
}

// freePort returns a port of 127.0.0.1 free for UDP and TCP.
func freePort(t *testing.T) int {
	t.Helper()
	pc, ln := listenPair(t)
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	ln.Close()
	return port
}

// resolve asks addr for the A record of name over network; it returns the
// answer, or nil when nothing answered.
func resolve(network, addr, name string) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	r, _, err := (&dns.Client{Net: network, Timeout: time.Second}).Exchange(m, addr)
	if err != nil {
		return nil
	}
	return r
}

// events is the order in which the fake setup steps and the daemon acted.
type events struct {
	mu   sync.Mutex
	list []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, s)
}

func (e *events) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.list...)
}

func (e *events) count(s string) int {
	n := 0
	for _, x := range e.get() {
		if x == s {
			n++
		}
	}
	return n
}

// fakeStep records its calls and, on teardown, whether DNS still answered.
type fakeStep struct {
	kind     string
	ev       *events
	dnsAddr  string
	failWhen func(call int) bool // Ensure fails on these calls (1-based)
	mu       sync.Mutex
	calls    int
}

func (f *fakeStep) Ensure(context.Context) error {
	f.mu.Lock()
	f.calls++
	call := f.calls
	f.mu.Unlock()
	f.ev.add("ensure " + f.kind)
	if f.failWhen != nil && f.failWhen(call) {
		return fmt.Errorf("%s broken (call %d)", f.kind, call)
	}
	return nil
}

func (f *fakeStep) Teardown(context.Context) error {
	state := "dns stopped"
	if resolve("udp", f.dnsAddr, "teardown.cluster.local.") != nil {
		state = "dns answering"
	}
	f.ev.add("teardown " + f.kind + " (" + state + ")")
	return nil
}

type harness struct {
	t          *testing.T
	ev         *events
	d          *daemon
	dnsAddr    string
	cluster    *upstream
	resolvConf string
	cancel     context.CancelFunc
	done       chan error
	logs       func() string
}

type harnessOptions struct {
	args     []string // extra flags
	config   string   // content of the --config file, if any
	failWhen map[string]func(int) bool
	noWait   bool // do not wait for serving (startup is expected to fail)
}

// start runs node-cache on 127.0.0.1 with fake node setup steps.
func start(t *testing.T, ho harnessOptions) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, ev: &events{}, cluster: startUpstream(t, "10.96.0.1"), done: make(chan error, 1)}
	h.resolvConf = writeFile(t, dir, "resolv.conf", "nameserver 127.0.0.1\n")
	port := freePort(t)
	h.dnsAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args := []string{
		"--localip=127.0.0.1", "--port=" + strconv.Itoa(port),
		"--health-addr=127.0.0.1:0", "--metrics-addr=127.0.0.2:0",
		"--upstream-resolv-conf=" + h.resolvConf,
	}
	if ho.config == "" {
		args = append(args, "--cluster-dns="+h.cluster.addr)
	} else {
		args = append(args, "--config="+writeFile(t, dir, "config.yaml", strings.ReplaceAll(ho.config, "CLUSTER", h.cluster.addr)))
	}
	o := parse(t, noEnv, append(args, ho.args...)...)

	serving := make(chan *daemon, 1)
	hk := hooks{
		watchPeriod: 20 * time.Millisecond,
		serving:     func(d *daemon) { serving <- d },
	}
	hk.newInterface = func(*NodeCacheConfiguration) step {
		return &fakeStep{kind: kindInterface, ev: h.ev, dnsAddr: h.dnsAddr, failWhen: ho.failWhen[kindInterface]}
	}
	hk.newNetfilter = func(*NodeCacheConfiguration) step {
		return &fakeStep{kind: kindIPTables, ev: h.ev, dnsAddr: h.dnsAddr, failWhen: ho.failWhen[kindIPTables]}
	}
	logger := ktesting.NewLogger(t, ktesting.NewConfig(ktesting.BufferLogs(true), ktesting.Verbosity(2)))
	h.logs = func() string { return logger.GetSink().(ktesting.Underlier).GetBuffer().String() }
	ctx, cancel := context.WithCancel(klog.NewContext(context.Background(), logger))
	h.cancel = cancel
	go func() { h.done <- run(ctx, o, hk) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(30 * time.Second):
			t.Error("node-cache did not stop")
		}
	})
	if ho.noWait {
		return h
	}
	select {
	case h.d = <-serving:
		h.ev.add("serving")
	case err := <-h.done:
		t.Fatalf("node-cache exited: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("node-cache did not start serving")
	}
	return h
}

// stop ends node-cache as SIGTERM does and returns run's result.
func (h *harness) stop() error {
	h.t.Helper()
	h.cancel()
	select {
	case err := <-h.done:
		h.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		h.t.Fatal("node-cache did not stop")
		return nil
	}
}

// get fetches path from the HTTP server that serves it.
func (h *harness) get(path string) (int, string) {
	h.t.Helper()
	code, body := 0, ""
	for _, addr := range h.d.httpAddrs {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			h.t.Fatalf("GET %s: %v", path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		code, body = resp.StatusCode, string(b)
		if code != http.StatusNotFound {
			break
		}
	}
	return code, body
}

// eventually waits for cond, failing with what after 10s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunOrder(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		httpServers int
		want        []string
	}{
		{"teardown", nil, 2, []string{
			"ensure interface", "ensure iptables", "serving",
			"teardown iptables (dns stopped)", "teardown interface (dns stopped)"}},
		{"skip teardown", []string{"--skip-teardown"}, 2, []string{
			"ensure interface", "ensure iptables", "serving"}},
		{"no setup, health and metrics on one address", []string{"--setup-interface=false", "--setup-iptables=false", "--metrics-addr=127.0.0.1:0"}, 1,
			[]string{"serving"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, harnessOptions{args: tt.args})
			if len(h.d.httpAddrs) != tt.httpServers {
				t.Errorf("HTTP servers on %q, want %d", h.d.httpAddrs, tt.httpServers)
			}
			for _, network := range []string{"udp", "tcp"} {
				r := resolve(network, h.dnsAddr, "kubernetes.default.svc.cluster.local.")
				if r == nil || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "10.96.0.1" {
					t.Fatalf("%s answer %v, want 10.96.0.1 from cluster DNS", network, r)
				}
			}
			if got := h.cluster.queries("kubernetes.default.svc.cluster.local."); len(got) != 1 || got[0] != "tcp" {
				t.Errorf("cluster DNS saw %q, want one TCP query (the second was a cache hit)", got)
			}
			if code, body := h.get("/health"); code != http.StatusOK {
				t.Errorf("/health: %d %s", code, body)
			}
			if code, body := h.get("/metrics"); code != http.StatusOK ||
				!strings.Contains(body, `node_cache_setup_errors_total{kind="iptables"} 0`) ||
				!strings.Contains(body, "node_cache_requests_total") || !strings.Contains(body, "go_goroutines") {
				t.Errorf("/metrics: %d, missing node-cache, setup or Go metrics:\n%.2000s", code, body)
			}
			if err := h.stop(); err != nil {
				t.Fatalf("run() = %v", err)
			}
			if diff := strings.Join(h.ev.get(), "\n"); diff != strings.Join(tt.want, "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", diff, strings.Join(tt.want, "\n"))
			}
			if resolve("udp", h.dnsAddr, "after.cluster.local.") != nil {
				t.Error("DNS still answers after exit")
			}
		})
	}
}

func TestSyncRestoresSetup(t *testing.T) {
	// The second iptables Ensure (the first sync) fails; later ones work.
	h := start(t, harnessOptions{
		args:     []string{"--sync-interval=1s"},
		failWhen: map[string]func(int) bool{kindIPTables: func(call int) bool { return call == 2 }},
	})
	eventually(t, "three syncs of the rules", func() bool { return h.ev.count("ensure iptables") >= 3 })
	if got := testutil.ToFloat64(h.d.metrics.setupErrors.WithLabelValues(kindIPTables)); got != 1 {
		t.Errorf("setup errors for iptables = %v, want 1", got)
	}
	if got := testutil.ToFloat64(h.d.metrics.setupErrors.WithLabelValues(kindInterface)); got != 0 {
		t.Errorf("setup errors for the interface = %v, want 0", got)
	}
	if r := resolve("udp", h.dnsAddr, "still.cluster.local."); r == nil {
		t.Error("a failed sync stopped DNS")
	}
	if logs := h.logs(); !strings.Contains(logs, "Restoring node setup failed") || !strings.Contains(logs, "iptables broken (call 2)") {
		t.Errorf("the failed sync is not logged:\n%s", logs)
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}

func TestStartupSetupFailure(t *testing.T) {
	h := start(t, harnessOptions{
		failWhen: map[string]func(int) bool{kindInterface: func(int) bool { return true }},
		noWait:   true,
	})
	var err error
	select {
	case err = <-h.done:
		h.done <- err
	case <-time.After(30 * time.Second):
		t.Fatal("node-cache did not exit")
	}
	if err == nil || !strings.Contains(err.Error(), "setting up the interface") {
		t.Fatalf("run() = %v, want an interface setup error", err)
	}
	want := []string{"ensure interface", "teardown iptables (dns stopped)", "teardown interface (dns stopped)"}
	if got := h.ev.get(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events %q, want %q: no serving, nothing left behind", got, want)
	}
}

func TestStartupRejectsLoop(t *testing.T) {
	// A cluster DNS that is our own address never gets near the node.
	resolvConf := writeFile(t, t.TempDir(), "resolv.conf", "nameserver 127.0.0.1\n")
	o := parse(t, noEnv, "--localip=127.0.0.1", "--port=5300", "--cluster-dns=127.0.0.1:5300", "--upstream-resolv-conf="+resolvConf)
	ev := &events{}
	err := run(context.Background(), o, hooks{
		newInterface: func(*NodeCacheConfiguration) step { return &fakeStep{kind: kindInterface, ev: ev} },
		newNetfilter: func(*NodeCacheConfiguration) step { return &fakeStep{kind: kindIPTables, ev: ev} },
		watchPeriod:  time.Hour,
	})
	if err == nil || !strings.Contains(err.Error(), "forwarding loop") {
		t.Fatalf("run() = %v, want a forwarding loop error", err)
	}
	if got := ev.get(); len(got) != 0 {
		t.Errorf("the node was touched: %q", got)
	}
}

const reloadConfig = header + `
clusterDNS: [CLUSTER]
successTTL: 30s
stubDomains:
  corp.example: [STUB]
`

func TestReload(t *testing.T) {
	stubA := startUpstream(t, "192.0.2.1")
	stubB := startUpstream(t, "192.0.2.2")
	h := start(t, harnessOptions{config: strings.ReplaceAll(reloadConfig, "STUB", stubA.addr)})
	configFile := h.d.o.ConfigFile
	m := h.d.metrics
	success := func() float64 { return testutil.ToFloat64(m.reloads.WithLabelValues("success")) }
	failure := func() float64 { return testutil.ToFloat64(m.reloads.WithLabelValues("failure")) }
	write := func(content string) {
		t.Helper()
		content = strings.NewReplacer("CLUSTER", h.cluster.addr, "STUB_B", stubB.addr, "STUB", stubA.addr).Replace(content)
		// Write then rename, as a ConfigMap update does.
		tmp := configFile + ".new"
		if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, configFile); err != nil {
			t.Fatal(err)
		}
	}
	answer := func(name string) string {
		t.Helper()
		r := resolve("udp", h.dnsAddr, name)
		if r == nil || len(r.Answer) != 1 {
			t.Fatalf("answer for %s: %v", name, r)
		}
		return r.Answer[0].(*dns.A).A.String()
	}
	if got := answer("a.corp.example."); got != "192.0.2.1" {
		t.Fatalf("stub domain answered %s before reload, want 192.0.2.1", got)
	}

	// A good change: new stub servers, a new stub domain, a lower TTL cap,
	// and a cache size, which needs a restart.
	write(header + `
clusterDNS: [CLUSTER]
successTTL: 10s
cacheSize: 5
stubDomains:
  corp.example: [STUB_B]
  lab.example: [STUB_B]
`)
	eventually(t, "a successful reload", func() bool { return success() == 1 })
	if got := answer("b.corp.example."); got != "192.0.2.2" {
		t.Errorf("changed stub domain answered %s, want 192.0.2.2 from the new server", got)
	}
	if got := answer("c.lab.example."); got != "192.0.2.2" {
		t.Errorf("new stub domain answered %s, want 192.0.2.2", got)
	}
	if r := resolve("udp", h.dnsAddr, "d.corp.example."); r == nil || r.Answer[0].Header().Ttl != 10 {
		t.Errorf("answer after reload %v, want TTL capped at the new 10s", r)
	}
	if got := testutil.ToFloat64(m.restartRequired); got != 1 {
		t.Errorf("restart required = %v, want 1 for the cache size", got)
	}
	if logs := h.logs(); !strings.Contains(logs, "Configuration changes wait for a restart") || !strings.Contains(logs, "cacheSize") {
		t.Errorf("the pending cache size is not logged:\n%s", logs)
	}

	// Bad files: each is reported once and the configuration in force stays.
	for i, bad := range []string{
		header + "clusterDNS: [CLUSTER]\nstubDomain: {corp.example: [STUB]}\n", // unknown field
		header + "clusterDNS: []\n", // invalid
		"{not yaml",
	} {
		write(bad)
		eventually(t, "a failed reload", func() bool { return failure() == float64(i+1) })
		if got := testutil.ToFloat64(m.lastReloadOK); got != 0 {
			t.Errorf("last reload successful = %v after a bad file, want 0", got)
		}
		if got := answer(fmt.Sprintf("e%d.lab.example.", i)); got != "192.0.2.2" {
			t.Errorf("after bad file %d lab.example answered %s, want the configuration in force kept", i, got)
		}
	}
	time.Sleep(100 * time.Millisecond) // several polls of an unchanged bad file
	if got := failure(); got != 3 {
		t.Errorf("failed reloads = %v, want 3: an unchanged file is not reported again", got)
	}
	if logs := h.logs(); !strings.Contains(logs, "Configuration not reloaded") || !strings.Contains(logs, `stubDomain: Forbidden: unknown field`) {
		t.Errorf("the bad file is not logged with its error:\n%s", logs)
	}

	// Back to a good file without pending changes.
	write(strings.ReplaceAll(reloadConfig, "STUB", "STUB_B"))
	eventually(t, "a second successful reload", func() bool { return success() == 2 })
	if got := testutil.ToFloat64(m.restartRequired); got != 0 {
		t.Errorf("restart required = %v, want 0 once the file matches the running settings", got)
	}
	if got := testutil.ToFloat64(m.lastReloadOK); got != 1 {
		t.Errorf("last reload successful = %v, want 1", got)
	}
	if r := resolve("udp", h.dnsAddr, "f.lab.example."); r != nil && len(r.Answer) > 0 {
		t.Errorf("lab.example answered %v after it left the file, want it sent to the resolv.conf nameserver (none listens)", r)
	}

	// A change of resolv.conf alone reloads too.
	if err := os.WriteFile(h.resolvConf, []byte("nameserver 127.0.0.1\noptions ndots:5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a reload for resolv.conf", func() bool { return success() == 3 })
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}

func TestKeepRestartFields(t *testing.T) {
	cur := newDefaultConfiguration(noEnv)
	cur.LocalIPs = []string{"169.254.20.10"}
	next := cur.DeepCopy()
	next.LocalIPs = []string{"169.254.20.11"}
	next.Port = 5353
	next.MetricsAddr = ""
	next.SuccessTTL.Duration = time.Minute
	next.StubDomains = map[string][]string{"corp.example": {"10.0.0.53"}}
	changed := keepRestartFields(next, cur)
	if want := []string{"localIPs", "port", "metricsAddr"}; strings.Join(changed, ",") != strings.Join(want, ",") {
		t.Errorf("changed = %q, want %q", changed, want)
	}
	if next.LocalIPs[0] != "169.254.20.10" || next.Port != 53 || next.MetricsAddr != DefaultMetricsAddr {
		t.Errorf("restart fields not kept: %+v", next)
	}
	if next.SuccessTTL.Duration != time.Minute || len(next.StubDomains) != 1 {
		t.Errorf("reloadable fields lost: %+v", next)
	}
	for _, f := range restartFields {
		if _, ok := jsonFields(reflect.TypeOf(NodeCacheConfiguration{}))[f]; !ok {
			t.Errorf("restart field %q is not a field", f)
		}
	}
}
