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

package framework

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netns"
)

// DialInNode opens a TCP connection from inside a node's network namespace:
// the socket is created on a thread moved into that namespace, and the
// thread is moved back (or, if that fails, ends with its goroutine).
func DialInNode(ctx context.Context, node, hostPort string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: err}
			return
		}
		defer orig.Close()
		target, err := netns.GetFromPath(NodeNetnsPath(node))
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("node %s: %w", node, err)}
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("entering node %s: %w", node, err)}
			return
		}
		// The socket belongs to the namespace it was created in, whichever
		// thread uses it later.
		conn, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", hostPort)
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		} // else the goroutine ends locked and the runtime drops the thread
		done <- result{conn, err}
	}()
	r := <-done
	return r.conn, r.err
}

// HTTPGetInNode fetches http://hostPort/path from inside a node's network
// namespace and returns the body of a 200 answer.
func HTTPGetInNode(ctx context.Context, node, hostPort, path string) (string, error) {
	conn, err := DialInNode(ctx, node, hostPort)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, hostPort); err != nil {
		return "", err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET http://%s%s in node %s: %s", hostPort, path, node, resp.Status)
	}
	return string(body), nil
}

// SumMetric adds up the samples of a counter or gauge in Prometheus text
// format whose name is exactly name (any labels).
func SumMetric(text, name string) (float64, bool) {
	var sum float64
	found := false
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		fields := strings.Fields(rest[strings.LastIndex(rest, "}")+1:])
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		sum += v
		found = true
	}
	return sum, found
}
