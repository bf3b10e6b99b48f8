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

// Package conntrack deletes connection-tracking entries that would keep
// sending UDP clients to endpoints that are gone. UDP has no connection
// to close: as long as a client keeps sending from the same source port,
// the kernel keeps the old entry, and its DNAT to a dead pod, alive. DNS
// clients are the usual victims.
package conntrack

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"signet.dev/signet/pkg/util/iptables"
)

// Filter selects the entries to delete. Zero fields match everything;
// Protocol is required.
type Filter struct {
	Protocol corev1.Protocol
	// OrigDst and OrigDstPort match the destination the client sent to (a
	// Service IP and port, or a node port on any local address).
	OrigDst     netip.Addr
	OrigDstPort int32
	// DNATDst matches the address the destination was rewritten to (the
	// endpoint).
	DNATDst netip.Addr
}

// String renders the filter as conntrack's arguments, for logs.
func (f Filter) String() string {
	return fmt.Sprint(f.args(corev1.IPv4Protocol)[2:])
}

func (f Filter) args(family corev1.IPFamily) []string {
	fam := "ipv4"
	if family == corev1.IPv6Protocol {
		fam = "ipv6"
	}
	args := []string{"-D", "-f", fam, "-p", protocolName(f.Protocol)}
	if f.OrigDst.IsValid() {
		args = append(args, "--orig-dst", f.OrigDst.String())
	}
	if f.OrigDstPort != 0 {
		args = append(args, "--orig-port-dst", strconv.Itoa(int(f.OrigDstPort)))
	}
	if f.DNATDst.IsValid() {
		args = append(args, "--dst-nat", f.DNATDst.String())
	}
	return args
}

func protocolName(p corev1.Protocol) string {
	switch p {
	case corev1.ProtocolUDP:
		return "udp"
	case corev1.ProtocolSCTP:
		return "sctp"
	}
	return "tcp"
}

// Interface deletes entries.
type Interface interface {
	// Delete removes every entry of family that the filter matches and
	// returns how many it removed.
	Delete(ctx context.Context, family corev1.IPFamily, f Filter) (int, error)
}

// Tool runs the conntrack command-line tool (package conntrack).
type Tool struct {
	Exec iptables.Executor
	// Path is the binary, "conntrack" by default.
	Path string
}

var deletedRE = regexp.MustCompile(`(\d+) flow entries have been deleted`)

// Delete implements Interface.
func (t *Tool) Delete(ctx context.Context, family corev1.IPFamily, f Filter) (int, error) {
	path := t.Path
	if path == "" {
		path = "conntrack"
	}
	_, stderr, err := t.Exec.Run(ctx, path, f.args(family), nil)
	// conntrack prints the count on stderr and exits 1 when it deleted
	// nothing; that is success here.
	if m := deletedRE.FindSubmatch(stderr); m != nil {
		n, _ := strconv.Atoi(string(m[1]))
		return n, nil
	}
	if err == nil {
		return 0, nil
	}
	var exit interface{ ExitCode() int }
	if errors.As(err, &exit) {
		return 0, fmt.Errorf("%s %v: exit %d: %s", path, f.args(family), exit.ExitCode(), stderr)
	}
	return 0, fmt.Errorf("%s %v: %w", path, f.args(family), err)
}
