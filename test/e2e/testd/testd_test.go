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
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// syncBuffer is a bytes.Buffer safe for the goroutines of a server.
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

func testEnv(hostname string) (*environment, *syncBuffer, *syncBuffer) {
	var stdout, stderr syncBuffer
	return &environment{
		stdout:   &stdout,
		stderr:   &stderr,
		hostname: func() (string, error) { return hostname, nil },
		exit:     func(int) { panic("exit called") },
	}, &stdout, &stderr
}

// freePorts returns n loopback ports free for TCP and UDP right now.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err != nil {
			continue
		}
		pc.Close()
		ports = append(ports, port)
	}
	return ports
}

// start runs the program with args until the test ends and returns its
// exit status channel.
func start(t *testing.T, env *environment, args ...string) <-chan int {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, env, args) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("signet-testd %v did not stop", args)
		}
	})
	return done
}

// eventually retries f until it succeeds or 5s pass.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func httpGet(u string) (string, error) {
	resp, err := http.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("%s: %s", resp.Status, body)
	}
	return string(body), nil
}

func TestRunDispatch(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		want     int
		inStderr string
	}{
		{"no arguments", nil, 2, "usage: signet-testd SUBCOMMAND"},
		{"help", []string{"--help"}, 2, "serve-hostname"},
		{"unknown subcommand", []string{"shell"}, 2, `unknown subcommand "shell"`},
		{"unknown flag", []string{"serve-hostname", "--nope"}, 2, "unknown flag: --nope"},
		{"pause takes no arguments but flags", []string{"pause", "--x"}, 2, "unknown flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, _, stderr := testEnv("pod-a")
			if got := run(context.Background(), env, tc.args); got != tc.want {
				t.Errorf("exit status %d, want %d", got, tc.want)
			}
			if !strings.Contains(stderr.String(), tc.inStderr) {
				t.Errorf("stderr %q does not mention %q", stderr.String(), tc.inStderr)
			}
		})
	}
}

func TestPauseStopsOnCancel(t *testing.T) {
	env, _, _ := testEnv("pod-a")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- run(ctx, env, []string{"pause"}) }()
	select {
	case code := <-done:
		t.Fatalf("pause returned %d before it was told to stop", code)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("pause exited %d after SIGTERM, want 0", code)
	}
}

func TestHostnamePorts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		common  int
		on      [3]bool
		own     [3]int
		want    servedPorts
		wantErr string
	}{
		{name: "defaults: HTTP on --port", common: 9376, on: [3]bool{true, false, false}, want: servedPorts{http: 9376}},
		{name: "agnhost style: TCP and UDP on --port", common: 9376, on: [3]bool{false, true, true}, want: servedPorts{tcp: 9376, udp: 9376}},
		{name: "own ports switch protocols on", common: 9376, on: [3]bool{true, false, false}, own: [3]int{8080, 8081, 8082},
			want: servedPorts{http: 8080, tcp: 8081, udp: 8082}},
		{name: "-1 switches a protocol off", common: 9376, on: [3]bool{true, true, false}, own: [3]int{-1, 0, 53},
			want: servedPorts{tcp: 9376, udp: 53}},
		{name: "HTTP and TCP on one port", common: 9376, on: [3]bool{true, true, false}, wantErr: "cannot both listen on port 9376"},
		{name: "nothing to serve", common: 9376, own: [3]int{-1, -1, -1}, wantErr: "no protocol to serve"},
		{name: "port out of range", common: 9376, own: [3]int{70000, 0, 0}, wantErr: "out of range"},
		{name: "bad common port", common: 0, on: [3]bool{true, false, false}, wantErr: "--port 0 is out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := hostnamePorts(tc.common, tc.on, tc.own)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestServeHostname(t *testing.T) {
	ports := freePorts(t, 3)
	env, _, stderr := testEnv("web-7d4b9-x2x4q")
	start(t, env, "serve-hostname",
		"--http-port="+strconv.Itoa(ports[0]), "--tcp-port="+strconv.Itoa(ports[1]), "--udp-port="+strconv.Itoa(ports[2]))

	for _, host := range []string{"127.0.0.1", "::1"} {
		t.Run("HTTP over "+host, func(t *testing.T) {
			eventually(t, "HTTP answers", func() error {
				body, err := httpGet("http://" + net.JoinHostPort(host, strconv.Itoa(ports[0])) + "/anything")
				if err == nil && body != "web-7d4b9-x2x4q" {
					return fmt.Errorf("body %q, want the hostname", body)
				}
				return err
			})
		})
		t.Run("TCP over "+host, func(t *testing.T) {
			eventually(t, "TCP answers", func() error {
				c, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(ports[1])))
				if err != nil {
					return err
				}
				defer c.Close()
				line, err := bufio.NewReader(c).ReadString('\n')
				if err == nil && line != "web-7d4b9-x2x4q\n" {
					return fmt.Errorf("line %q, want the hostname and a newline", line)
				}
				return err
			})
		})
		t.Run("UDP over "+host, func(t *testing.T) {
			eventually(t, "UDP answers", func() error {
				got, err := connectOnce(context.Background(), "udp", net.JoinHostPort(host, strconv.Itoa(ports[2])), "anything")
				if err == nil && got != "web-7d4b9-x2x4q" {
					return fmt.Errorf("datagram %q, want the hostname", got)
				}
				return err
			})
		})
	}
	if !strings.Contains(stderr.String(), `answering "web-7d4b9-x2x4q"`) {
		t.Errorf("the log does not say what is served: %q", stderr.String())
	}
}

func TestServeHostnamePortInUse(t *testing.T) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	env, _, stderr := testEnv("pod-a")
	code := run(context.Background(), env, []string{"serve-hostname", "--port=" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)})
	if code != 1 || !strings.Contains(stderr.String(), "address already in use") {
		t.Errorf("exit %d, stderr %q; want 1 and the listen error", code, stderr.String())
	}
}

// startNetexec serves netexec's handler on loopback.
func startNetexec(t *testing.T, env *environment) *httptest.Server {
	t.Helper()
	n := &netexec{hostname: "client-pod", env: env}
	srv := httptest.NewServer(n.handler())
	t.Cleanup(srv.Close)
	return srv
}

func TestNetexecEndpoints(t *testing.T) {
	env, _, _ := testEnv("client-pod")
	srv := startNetexec(t, env)
	for _, tc := range []struct {
		name, path string
		wantCode   int
		want       func(body string) bool
	}{
		{"root is the hostname", "/", 200, func(b string) bool { return b == "client-pod" }},
		{"hostname", "/hostname", 200, func(b string) bool { return b == "client-pod" }},
		{"healthz", "/healthz", 200, func(b string) bool { return b == "ok" }},
		{"echo", "/echo?msg=hello%20there", 200, func(b string) bool { return b == "hello there" }},
		{"echo with a status code", "/echo?msg=gone&code=503", 503, func(b string) bool { return b == "gone" }},
		{"echo with a bad status code", "/echo?code=42", 400, func(string) bool { return true }},
		{"clientip is the peer", "/clientip", 200, func(b string) bool { return strings.HasPrefix(b, "127.0.0.1:") }},
		{"no shell", "/shell?cmd=id", 404, func(string) bool { return true }},
		{"dial needs a host", "/dial?port=80", 400, func(b string) bool { return strings.Contains(b, "host and port") }},
		{"dial knows its protocols", "/dial?host=127.0.0.1&port=80&protocol=sctp", 400, func(b string) bool { return strings.Contains(b, "http, tcp or udp") }},
		{"dial bounds tries", "/dial?host=127.0.0.1&port=80&tries=1000", 400, func(string) bool { return true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantCode || !tc.want(string(body)) {
				t.Errorf("GET %s: %d %q", tc.path, resp.StatusCode, body)
			}
		})
	}
}

func TestNetexecDial(t *testing.T) {
	ports := freePorts(t, 3)
	target, _, _ := testEnv("server-pod")
	start(t, target, "serve-hostname",
		"--http-port="+strconv.Itoa(ports[0]), "--tcp-port="+strconv.Itoa(ports[1]), "--udp-port="+strconv.Itoa(ports[2]))
	env, _, _ := testEnv("client-pod")
	srv := startNetexec(t, env)
	closed := freePorts(t, 1)[0]

	dial := func(params url.Values) (dialResult, error) {
		var res dialResult
		body, err := httpGet(srv.URL + "/dial?" + params.Encode())
		if err != nil {
			return res, err
		}
		err = json.Unmarshal([]byte(body), &res)
		return res, err
	}
	for _, tc := range []struct {
		name, host, protocol string
		port, tries          int
		wantResponses        int
		wantErrors           int
	}{
		{"HTTP over IPv4", "127.0.0.1", "http", ports[0], 3, 3, 0},
		{"HTTP over IPv6", "::1", "http", ports[0], 1, 1, 0},
		{"TCP", "127.0.0.1", "tcp", ports[1], 2, 2, 0},
		{"UDP over IPv6", "::1", "udp", ports[2], 2, 2, 0},
		{"refused", "127.0.0.1", "tcp", closed, 2, 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := url.Values{"host": {tc.host}, "port": {strconv.Itoa(tc.port)}, "protocol": {tc.protocol}, "tries": {strconv.Itoa(tc.tries)}}
			eventually(t, "dial", func() error {
				res, err := dial(params)
				if err != nil {
					return err
				}
				if len(res.Responses) != tc.wantResponses || len(res.Errors) != tc.wantErrors {
					return fmt.Errorf("got %+v, want %d responses and %d errors", res, tc.wantResponses, tc.wantErrors)
				}
				for _, r := range res.Responses {
					if r != "server-pod" {
						return fmt.Errorf("response %q, want the target's hostname", r)
					}
				}
				return nil
			})
		})
	}
}

func TestNetexecExit(t *testing.T) {
	env, _, _ := testEnv("pod-a")
	exited := make(chan int, 1)
	env.exit = func(code int) { exited <- code }
	srv := startNetexec(t, env)
	body, err := httpGet(srv.URL + "/exit?code=3")
	if err != nil || !strings.Contains(body, "exiting with status 3") {
		t.Fatalf("/exit: %q, %v", body, err)
	}
	select {
	case code := <-exited:
		if code != 3 {
			t.Errorf("exited with %d, want 3", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("/exit did not end the process")
	}
}

func TestNetexecUDPReply(t *testing.T) {
	n := &netexec{hostname: "pod-a"}
	peer := &net.UDPAddr{IP: net.ParseIP("10.244.1.7"), Port: 40000}
	for req, want := range map[string]string{
		"hostname":    "pod-a",
		"hostname\n":  "pod-a",
		"echo hi you": "hi you",
		"echo":        "",
		"clientip":    "10.244.1.7:40000",
		"rm -rf /":    `unknown request "rm -rf /"`,
	} {
		if got := string(n.udpReply([]byte(req), peer)); got != want {
			t.Errorf("udpReply(%q) = %q, want %q", req, got, want)
		}
	}
}

// fakeDNS answers A, AAAA and SRV for the names in records and NXDOMAIN for
// every other name; it counts the questions it saw.
type fakeDNS struct {
	mu        sync.Mutex
	records   map[string][]string // "name. TYPE" -> RR texts
	questions []string
}

func (f *fakeDNS) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	q := r.Question[0]
	f.mu.Lock()
	f.questions = append(f.questions, q.Name+" "+dns.TypeToString[q.Qtype])
	f.mu.Unlock()
	m := new(dns.Msg)
	m.SetReply(r)
	known := false
	for key, rrs := range f.records {
		name, typ, _ := strings.Cut(key, " ")
		if !strings.EqualFold(name, q.Name) {
			continue
		}
		known = true
		if typ != dns.TypeToString[q.Qtype] {
			continue
		}
		for _, text := range rrs {
			rr, err := dns.NewRR(text)
			if err != nil {
				panic(err)
			}
			m.Answer = append(m.Answer, rr)
		}
	}
	if !known {
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}

func startFakeDNS(t *testing.T, records map[string][]string) (*fakeDNS, int) {
	t.Helper()
	f := &fakeDNS{records: records}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: f}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return f, pc.LocalAddr().(*net.UDPAddr).Port
}

func TestDNSLookup(t *testing.T) {
	f, port := startFakeDNS(t, map[string][]string{
		"web.default.svc.cluster.local. A":    {"web.default.svc.cluster.local. 5 IN A 10.96.0.20"},
		"web.default.svc.cluster.local. AAAA": {"web.default.svc.cluster.local. 5 IN AAAA fd00:10:96::20"},
		"_http._tcp.web.default.svc.cluster.local. SRV": {
			"_http._tcp.web.default.svc.cluster.local. 5 IN SRV 0 100 80 web.default.svc.cluster.local."},
		"v4only.default.svc.cluster.local. A": {"v4only.default.svc.cluster.local. 5 IN A 10.96.0.21"},
		"20.0.96.10.in-addr.arpa. PTR":        {"20.0.96.10.in-addr.arpa. 5 IN PTR web.default.svc.cluster.local."},
		"example.com. A":                      {"example.com. 5 IN A 192.0.2.1"},
	})
	resolvConf := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(resolvConf, []byte("nameserver 127.0.0.1\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		args       []string
		wantStatus int
		wantOut    string
	}{
		{"short name through the search list, both families", []string{"web"}, 0, "10.96.0.20\nfd00:10:96::20\n"},
		{"namespace-qualified name", []string{"web.default", "AAAA"}, 0, "fd00:10:96::20\n"},
		{"SRV", []string{"_http._tcp.web", "srv"}, 0, "0 100 80 web.default.svc.cluster.local.\n"},
		{"PTR of an IP", []string{"10.96.0.20", "PTR"}, 0, "web.default.svc.cluster.local.\n"},
		{"absolute name skips the search list", []string{"example.com.", "A"}, 0, "192.0.2.1\n"},
		{"only one family answers", []string{"v4only"}, 0, "10.96.0.21\n"},
		{"NXDOMAIN", []string{"nothing-here"}, 1, ""},
		{"NODATA", []string{"v4only", "AAAA"}, 1, ""},
		{"unknown type", []string{"web", "BOGUS"}, 2, ""},
		{"full records", []string{"--full", "web", "A"}, 0, "web.default.svc.cluster.local.\t5\tIN\tA\t10.96.0.20\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, stdout, stderr := testEnv("pod-a")
			args := append([]string{"dns-lookup", "--resolv-conf=" + resolvConf, "--port=" + strconv.Itoa(port), "--timeout=2s"}, tc.args...)
			if got := run(context.Background(), env, args); got != tc.wantStatus {
				t.Errorf("exit status %d, want %d; stderr:\n%s", got, tc.wantStatus, stderr.String())
			}
			if stdout.String() != tc.wantOut {
				t.Errorf("stdout %q, want %q", stdout.String(), tc.wantOut)
			}
		})
	}
	// The search list is tried in order: a short name costs one question
	// per search domain until one answers.
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.questions) == 0 || f.questions[0] != "web.default.svc.cluster.local. A" {
		t.Errorf("first question %v, want web.default.svc.cluster.local. A", f.questions)
	}
}

func TestDNSLookupNoServer(t *testing.T) {
	closed := freePorts(t, 1)[0]
	resolvConf := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(resolvConf, []byte("nameserver 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env, _, stderr := testEnv("pod-a")
	code := run(context.Background(), env, []string{"dns-lookup", "--resolv-conf=" + resolvConf, "--port=" + strconv.Itoa(closed), "--timeout=500ms", "web.", "A"})
	if code != lookupFailed {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, lookupFailed, stderr.String())
	}
}

func TestConnect(t *testing.T) {
	ports := freePorts(t, 2)
	target, _, _ := testEnv("server-pod")
	start(t, target, "serve-hostname", "--tcp-port="+strconv.Itoa(ports[0]), "--http-port=-1")
	closed := ports[1]
	// A UDP socket that reads and never answers.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	for _, tc := range []struct {
		name    string
		args    []string
		want    int
		wantOut string
	}{
		{"TCP connects", []string{"127.0.0.1:" + strconv.Itoa(ports[0])}, connectOK, ""},
		{"TCP reads the answer", []string{"--send=hi", "[::1]:" + strconv.Itoa(ports[0])}, connectOK, "server-pod\n"},
		{"TCP refused", []string{"127.0.0.1:" + strconv.Itoa(closed)}, connectRefused, ""},
		{"UDP refused (ICMP port unreachable)", []string{"--protocol=udp", "127.0.0.1:" + strconv.Itoa(closed)}, connectRefused, ""},
		{"UDP without an answer times out", []string{"--protocol=udp", "--timeout=200ms", silent.LocalAddr().String()}, connectTimedOut, ""},
		{"usage", []string{"--protocol=sctp", "127.0.0.1:1"}, connectUsage, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, stdout, stderr := testEnv("client-pod")
			var got int
			eventually(t, "connect", func() error {
				stdout.mu.Lock()
				stdout.b.Reset()
				stdout.mu.Unlock()
				got = run(context.Background(), env, append([]string{"connect"}, tc.args...))
				if got != tc.want {
					return fmt.Errorf("exit %d, want %d; stderr:\n%s", got, tc.want, stderr.String())
				}
				return nil
			})
			if stdout.String() != tc.wantOut {
				t.Errorf("stdout %q, want %q", stdout.String(), tc.wantOut)
			}
		})
	}
}

// TestDNSLookupNodataBeatsLaterServfail: like the C library, a NODATA
// answer for one name of the search list wins over a SERVFAIL for a later
// one (here the bare name, which a node's cache forwards to an upstream
// that fails), and a SERVFAIL moves on to the next name.
func TestDNSLookupNodataBeatsLaterServfail(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		q := r.Question[0]
		m := new(dns.Msg)
		m.SetReply(r)
		switch {
		case q.Name == "v6only.default.svc.cluster.local." && q.Qtype == dns.TypeAAAA:
			rr, _ := dns.NewRR("v6only.default.svc.cluster.local. 5 IN AAAA fd00:10:96::21")
			m.Answer = append(m.Answer, rr)
		case q.Name == "v6only.default.svc.cluster.local.":
			// NODATA: the name exists without a record of the type.
		case q.Name == "flaky.svc.cluster.local.":
			m.Rcode = dns.RcodeServerFailure
		case q.Name == "flaky.cluster.local." && q.Qtype == dns.TypeA:
			rr, _ := dns.NewRR("flaky.cluster.local. 5 IN A 10.96.0.22")
			m.Answer = append(m.Answer, rr)
		case strings.HasSuffix(q.Name, ".cluster.local."):
			m.Rcode = dns.RcodeNameError
		default:
			m.Rcode = dns.RcodeServerFailure // outside the cluster: the upstream fails
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	port := pc.LocalAddr().(*net.UDPAddr).Port
	resolvConf := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(resolvConf, []byte("nameserver 127.0.0.1\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		args       []string
		wantStatus int
		wantOut    string
	}{
		{"NODATA, then SERVFAIL for the bare name: no record", []string{"v6only", "A"}, lookupNoAnswer, ""},
		{"both families: the one that exists answers", []string{"v6only"}, lookupAnswered, "fd00:10:96::21\n"},
		{"SERVFAIL moves on to the next name", []string{"flaky", "A"}, lookupAnswered, "10.96.0.22\n"},
		{"NXDOMAIN, then SERVFAIL: no server answered", []string{"nothing-here", "A"}, lookupFailed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, stdout, stderr := testEnv("pod-a")
			args := append([]string{"dns-lookup", "--resolv-conf=" + resolvConf, "--port=" + strconv.Itoa(port), "--timeout=2s"}, tc.args...)
			if got := run(context.Background(), env, args); got != tc.wantStatus {
				t.Errorf("exit status %d, want %d; stderr:\n%s", got, tc.wantStatus, stderr.String())
			}
			if stdout.String() != tc.wantOut {
				t.Errorf("stdout %q, want %q", stdout.String(), tc.wantOut)
			}
		})
	}
}
