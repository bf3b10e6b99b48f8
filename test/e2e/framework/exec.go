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
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
)

// NetnsAnnotation is the annotation in which the node agent names a pod's
// network namespace.
const NetnsAnnotation = "e2e.signet.dev/netns"

// Result is how a command ended.
type Result struct {
	Command  string
	Stdout   string
	Stderr   string
	ExitCode int
}

func (r Result) String() string {
	return fmt.Sprintf("%s: exit %d, stdout %q, stderr %q", r.Command, r.ExitCode, r.Stdout, r.Stderr)
}

// commandTimeout bounds every command the suite runs in a namespace; the
// commands themselves carry shorter timeouts (connect, dns-lookup).
const commandTimeout = 30 * time.Second

// run runs argv and returns how it ended; it fails the spec only when the
// command could not be started at all.
func run(ctx context.Context, argv ...string) Result {
	ginkgo.GinkgoHelper()
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := Result{Command: strings.Join(argv, " "), Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.ExitCode = exitErr.ExitCode()
		if r.ExitCode < 0 { // killed (the timeout)
			r.ExitCode = 128
			r.Stderr += fmt.Sprintf("\n(killed after %s)", commandTimeout)
		}
	default:
		gomega.Expect(err).NotTo(gomega.HaveOccurred(), "starting %s", r.Command)
	}
	return r
}

// PodNetns is the network namespace of a pod, as its node agent recorded it.
func PodNetns(pod *corev1.Pod) string {
	ginkgo.GinkgoHelper()
	netns := pod.Annotations[NetnsAnnotation]
	gomega.Expect(netns).NotTo(gomega.BeEmpty(), "pod %s/%s has no %s annotation: not started by a node agent of the local cluster?",
		pod.Namespace, pod.Name, NetnsAnnotation)
	return netns
}

// ExecInPod runs argv, a program of this machine, in the pod's network
// namespace with the pod's /etc/resolv.conf and /etc/hosts (what
// hack/pod-exec.sh does).
func ExecInPod(ctx context.Context, pod *corev1.Pod, argv ...string) Result {
	ginkgo.GinkgoHelper()
	RequireRoot()
	return run(ctx, append([]string{"ip", "netns", "exec", PodNetns(pod)}, argv...)...)
}

// NodeNetnsPath is the network namespace of a node of the local cluster:
// local-up names each node's namespace after the node.
func NodeNetnsPath(node string) string {
	return filepath.Join("/run/netns", node)
}

// ExecInNode runs argv in a node's network namespace. It uses nsenter
// rather than ip netns exec so that the command sees the machine's /etc.
func ExecInNode(ctx context.Context, node string, argv ...string) Result {
	ginkgo.GinkgoHelper()
	RequireRoot()
	path := NodeNetnsPath(node)
	if _, err := os.Stat(path); err != nil {
		ginkgo.Fail(fmt.Sprintf("node %s has no network namespace %s: is this the local cluster? (%v)", node, path, err))
	}
	return run(ctx, append([]string{"nsenter", "--net=" + path, "--"}, argv...)...)
}

// Exit statuses of signet-testd connect.
const (
	ConnectOK       = 0
	ConnectRefused  = 1
	ConnectTimedOut = 2
)

// Connect opens one connection from inside a pod with signet-testd
// connect, asks a serve-hostname server for its name and returns the
// answer; the Result says how it went (ConnectRefused, ConnectTimedOut).
func Connect(ctx context.Context, pod *corev1.Pod, protocol, hostPort string) Result {
	ginkgo.GinkgoHelper()
	return ExecInPod(ctx, pod, connectArgv(protocol, hostPort)...)
}

// ConnectFromNode is Connect from a node's own network namespace.
func ConnectFromNode(ctx context.Context, node, protocol, hostPort string) Result {
	ginkgo.GinkgoHelper()
	return ExecInNode(ctx, node, connectArgv(protocol, hostPort)...)
}

func connectArgv(protocol, hostPort string) []string {
	return []string{TestContext.Testd, "connect", "--protocol=" + protocol, "--timeout=5s", "--send=hostname", hostPort}
}

// Hostname asks the serve-hostname server behind hostPort, from inside a
// pod, for its name; the error says how the connection failed.
func Hostname(ctx context.Context, pod *corev1.Pod, protocol, hostPort string) (string, error) {
	ginkgo.GinkgoHelper()
	r := Connect(ctx, pod, protocol, hostPort)
	if r.ExitCode != ConnectOK {
		return "", errors.New(r.String())
	}
	return strings.TrimSpace(r.Stdout), nil
}

// DNSLookup resolves name from inside a pod with signet-testd dns-lookup
// (through the pod's resolv.conf unless args say otherwise) and returns
// the answers, one per line, sorted as printed.
func DNSLookup(ctx context.Context, pod *corev1.Pod, args ...string) ([]string, Result) {
	ginkgo.GinkgoHelper()
	r := ExecInPod(ctx, pod, append([]string{TestContext.Testd, "dns-lookup"}, args...)...)
	return strings.Fields(r.Stdout), r
}
