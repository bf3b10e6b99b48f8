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
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// Exit statuses of connect.
const (
	connectOK       = 0
	connectRefused  = 1
	connectTimedOut = 2
	connectUsage    = 4
	connectFailed   = 3
)

func runConnect(ctx context.Context, env *environment, args []string) int {
	fs := newFlagSet(env, "connect", "HOST:PORT")
	protocol := fs.String("protocol", "tcp", "tcp or udp.")
	timeout := fs.Duration("timeout", 5*time.Second, "Time allowed to connect and to read the answer.")
	send := fs.String("send", "", "Text to send; the first line (TCP) or datagram (UDP) that comes back is printed. "+
		"UDP sends \"hostname\" when this is empty, as a UDP connection is only known to work when something answers.")
	if !parse(env, fs, args) {
		return connectUsage
	}
	if fs.NArg() != 1 || (*protocol != "tcp" && *protocol != "udp") {
		fs.Usage()
		return connectUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	reply, err := connectOnce(ctx, *protocol, fs.Arg(0), *send)
	if err != nil {
		fmt.Fprintf(env.stderr, "connect %s %s: %v\n", *protocol, fs.Arg(0), err)
		return connectStatus(err)
	}
	if reply != "" {
		fmt.Fprintln(env.stdout, reply)
	}
	return connectOK
}

// connectOnce connects, sends send (if any) and returns the first answer.
func connectOnce(ctx context.Context, protocol, addr, send string) (string, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, protocol, addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(d)
	}
	if protocol == "udp" && send == "" {
		send = "hostname"
	}
	if send == "" {
		return "", nil
	}
	if protocol == "tcp" {
		send += "\n"
	}
	if _, err := io.WriteString(c, send); err != nil {
		return "", err
	}
	if protocol == "udp" {
		buf := make([]byte, maxDatagram)
		n, err := c.Read(buf)
		return string(buf[:n]), err
	}
	line, err := bufio.NewReader(io.LimitReader(c, maxResponse)).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// connectStatus maps a failure to connect's exit status.
func connectStatus(err error) int {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return connectRefused
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return connectTimedOut
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return connectTimedOut
	}
	return connectFailed
}
