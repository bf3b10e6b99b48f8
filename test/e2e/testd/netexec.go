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
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	defaultNetexecHTTPPort = 8080
	defaultNetexecUDPPort  = 8081
	// dialTimeout bounds each try of /dial.
	dialTimeout = 5 * time.Second
	// maxTries bounds /dial's tries parameter.
	maxTries = 100
	// maxResponse bounds what /dial reads from one answer.
	maxResponse = 64 << 10
)

func runNetexec(ctx context.Context, env *environment, args []string) int {
	fs := newFlagSet(env, "netexec", "")
	httpPort := fs.Int("http-port", defaultNetexecHTTPPort, "Port of the HTTP server.")
	udpPort := fs.Int("udp-port", defaultNetexecUDPPort, "Port of the UDP server (answers \"hostname\", \"echo TEXT\", \"clientip\"); -1 switches it off.")
	if !parse(env, fs, args) {
		return 2
	}
	if *httpPort <= 0 || *httpPort > 65535 || *udpPort == 0 || *udpPort > 65535 {
		fmt.Fprintln(env.stderr, "signet-testd netexec: ports must be in 1-65535 (--udp-port -1 switches UDP off)")
		return 2
	}
	n := &netexec{hostname: hostnameOf(env), env: env}
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(*httpPort))
	if err != nil {
		fmt.Fprintf(env.stderr, "signet-testd netexec: %v\n", err)
		return 1
	}
	servers := []func(context.Context) error{func(ctx context.Context) error { return serveHTTP(ctx, ln, n.handler()) }}
	if *udpPort > 0 {
		pc, err := net.ListenPacket("udp", ":"+strconv.Itoa(*udpPort))
		if err != nil {
			ln.Close()
			fmt.Fprintf(env.stderr, "signet-testd netexec: %v\n", err)
			return 1
		}
		servers = append(servers, func(ctx context.Context) error { return serveUDP(ctx, pc, n.udpReply) })
	}
	fmt.Fprintf(env.stderr, "netexec: %q serving HTTP on %d, UDP on %d\n", n.hostname, *httpPort, *udpPort)
	if err := runAll(ctx, servers...); err != nil {
		fmt.Fprintf(env.stderr, "signet-testd netexec: %v\n", err)
		return 1
	}
	return 0
}

// netexec is an HTTP server for connectivity tests. It runs no shell and
// no command: everything it can do is one of its endpoints.
type netexec struct {
	hostname string
	env      *environment
}

// dialResult is /dial's answer, the shape upstream's agnhost uses.
type dialResult struct {
	Responses []string `json:"responses"`
	Errors    []string `json:"errors"`
}

func (n *netexec) handler() http.Handler {
	mux := http.NewServeMux()
	text := func(w http.ResponseWriter, s string) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, s)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		text(w, n.hostname)
	})
	mux.HandleFunc("/hostname", func(w http.ResponseWriter, r *http.Request) { text(w, n.hostname) })
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { text(w, "ok") })
	mux.HandleFunc("/clientip", func(w http.ResponseWriter, r *http.Request) { text(w, r.RemoteAddr) })
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		if c := r.URL.Query().Get("code"); c != "" {
			code, err := strconv.Atoi(c)
			if err != nil || code < 200 || code > 599 {
				http.Error(w, "code must be an HTTP status code (200-599)", http.StatusBadRequest)
				return
			}
			w.WriteHeader(code)
		}
		text(w, r.URL.Query().Get("msg"))
	})
	mux.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) {
		code := 0
		if c := r.URL.Query().Get("code"); c != "" {
			var err error
			if code, err = strconv.Atoi(c); err != nil || code < 0 || code > 255 {
				http.Error(w, "code must be 0-255", http.StatusBadRequest)
				return
			}
		}
		text(w, fmt.Sprintf("exiting with status %d\n", code))
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		fmt.Fprintf(n.env.stderr, "netexec: /exit asked for status %d\n", code)
		go func() {
			time.Sleep(100 * time.Millisecond)
			n.env.exit(code)
		}()
	})
	mux.HandleFunc("/dial", n.dial)
	return mux
}

// dial is /dial?host=H&port=P&protocol=http|tcp|udp&request=R&tries=N:
// it reaches H:P from inside the pod N times and returns what it got.
//   - http GETs http://H:P/R and returns the body;
//   - tcp connects and returns the first line the server sends
//     (serve-hostname --tcp sends its hostname); R is not sent;
//   - udp sends R as one datagram and returns the datagram that comes back.
func (n *netexec) dial(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	host, port := q.Get("host"), q.Get("port")
	protocol := q.Get("protocol")
	if protocol == "" {
		protocol = "http"
	}
	request := q.Get("request")
	if request == "" {
		request = "hostname"
	}
	tries := 1
	if t := q.Get("tries"); t != "" {
		var err error
		if tries, err = strconv.Atoi(t); err != nil || tries < 1 || tries > maxTries {
			http.Error(w, fmt.Sprintf("tries must be 1-%d", maxTries), http.StatusBadRequest)
			return
		}
	}
	if p, err := strconv.Atoi(port); host == "" || err != nil || p < 1 || p > 65535 {
		http.Error(w, "host and port (1-65535) are required", http.StatusBadRequest)
		return
	}
	var once func(ctx context.Context, addr, request string) (string, error)
	switch protocol {
	case "http":
		once = dialHTTP
	case "tcp":
		once = dialTCP
	case "udp":
		once = dialUDP
	default:
		http.Error(w, "protocol must be http, tcp or udp", http.StatusBadRequest)
		return
	}
	addr := net.JoinHostPort(host, port)
	res := dialResult{Responses: []string{}, Errors: []string{}}
	for i := 0; i < tries; i++ {
		ctx, cancel := context.WithTimeout(r.Context(), dialTimeout)
		got, err := once(ctx, addr, request)
		cancel()
		if err != nil {
			res.Errors = append(res.Errors, err.Error())
			continue
		}
		res.Responses = append(res.Responses, got)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

func dialHTTP(ctx context.Context, addr, request string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/"+strings.TrimPrefix(request, "/"), nil)
	if err != nil {
		return "", err
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", req.URL, resp.Status, body)
	}
	return string(body), nil
}

func dialTCP(ctx context.Context, addr, _ string) (string, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(d)
	}
	line, err := bufio.NewReader(io.LimitReader(c, maxResponse)).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func dialUDP(ctx context.Context, addr, request string) (string, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, "udp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(d)
	}
	if _, err := io.WriteString(c, request); err != nil {
		return "", err
	}
	buf := make([]byte, maxDatagram)
	k, err := c.Read(buf)
	if err != nil {
		return "", err
	}
	return string(buf[:k]), nil
}

// udpReply answers netexec's UDP requests.
func (n *netexec) udpReply(req []byte, peer net.Addr) []byte {
	s := strings.TrimSpace(string(req))
	switch {
	case s == "hostname":
		return []byte(n.hostname)
	case s == "clientip":
		return []byte(peer.String())
	case s == "echo" || strings.HasPrefix(s, "echo "):
		return []byte(strings.TrimPrefix(strings.TrimPrefix(s, "echo"), " "))
	default:
		return []byte("unknown request " + strconv.Quote(s))
	}
}
