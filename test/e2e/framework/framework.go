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

// Package framework is what signet's e2e specs share: clients of the
// cluster named by KUBECONFIG, a namespace per spec, pods of the local
// cluster's node agent (network namespaces running signet-testd), and
// running commands inside a pod's or a node's network namespace.
//
// The suite talks to the cluster through KUBECONFIG only. Specs that look
// inside pods and nodes (connections, DNS lookups, conntrack) also need
// root on the machine that runs the local cluster's network namespaces.
package framework

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	signetclient "signet.dev/client-go/clientset/versioned"
)

// Context is what the suite learns once, before the first spec.
type Context struct {
	// KubeConfig is the path KUBECONFIG names.
	KubeConfig string
	// RepoRoot is the root of the signet checkout the suite runs from.
	RepoRoot string
	// Kubectl is the kubectl binary: $KUBECTL, else the newest one
	// hack/build-upstream.sh built, else kubectl on PATH.
	Kubectl string
	// Testd is the signet-testd binary run inside pods for connections and
	// lookups: $SIGNET_TESTD, else _output/bin/signet-testd, else one built
	// for the run.
	Testd string

	Config *rest.Config
	Kube   kubernetes.Interface
	Signet signetclient.Interface
}

// TestContext is filled in by Setup before the first spec runs.
var TestContext Context

// Setup reads KUBECONFIG, builds the clients and waits until the cluster
// answers, both kube-apiserver and signet-apiserver through aggregation.
// It fails the suite with a clear message when KUBECONFIG is unset.
func Setup(ctx context.Context) {
	kubeconfig := os.Getenv("KUBECONFIG")
	if kubeconfig == "" {
		ginkgo.Fail("KUBECONFIG is not set: the e2e suite runs against a cluster. " +
			"Point KUBECONFIG at one (e.g. _output/local-up/kubeconfig after hack/local-up-cluster.sh up), " +
			"or run `make test-e2e`, which brings the local cluster up and down around the suite.")
	}
	if strings.Contains(kubeconfig, string(os.PathListSeparator)) {
		ginkgo.Fail(fmt.Sprintf("KUBECONFIG=%q names several files; the e2e suite takes one", kubeconfig))
	}
	abs, err := filepath.Abs(kubeconfig)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	if _, err := os.Stat(abs); err != nil {
		ginkgo.Fail(fmt.Sprintf("KUBECONFIG=%s: %v", kubeconfig, err))
	}
	TestContext.KubeConfig = abs

	cfg, err := clientcmd.BuildConfigFromFlags("", abs)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "loading KUBECONFIG %s", abs)
	// 250-pod specs list and watch a lot; the client's default 5 QPS would
	// throttle the suite rather than test the cluster.
	cfg.QPS, cfg.Burst = 50, 100
	cfg.UserAgent = "signet-e2e"
	TestContext.Config = cfg
	TestContext.Kube, err = kubernetes.NewForConfig(cfg)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	TestContext.Signet, err = signetclient.NewForConfig(cfg)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())

	TestContext.RepoRoot = repoRoot()
	TestContext.Kubectl = findKubectl(TestContext.RepoRoot)
	TestContext.Testd = findTestd(ctx, TestContext.RepoRoot)

	ginkgo.By("waiting for the cluster: kube-apiserver, signet-apiserver and Ready nodes")
	gomega.Eventually(ctx, func(g gomega.Gomega) {
		nodes, err := TestContext.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		g.Expect(err).NotTo(gomega.HaveOccurred())
		ready := 0
		for i := range nodes.Items {
			if NodeReady(&nodes.Items[i]) {
				ready++
			}
		}
		g.Expect(ready).To(gomega.BeNumerically(">", 0), "no Ready node")
		_, err = TestContext.Signet.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{Limit: 1})
		g.Expect(err).NotTo(gomega.HaveOccurred(), "signet-apiserver (discovery.signet.dev/v1) through kube-apiserver")
		_, err = TestContext.Signet.NetworkingV1().IngressClasses().List(ctx, metav1.ListOptions{Limit: 1})
		g.Expect(err).NotTo(gomega.HaveOccurred(), "signet-apiserver (networking.signet.dev/v1) through kube-apiserver")
	}).WithTimeout(3 * time.Minute).WithPolling(2 * time.Second).Should(gomega.Succeed())

	nodes, err := TestContext.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	for _, n := range SortedNodes(nodes.Items) {
		ginkgo.GinkgoWriter.Printf("node %s ready=%v addresses=%v podCIDRs=%v zone=%s\n", n.Name, NodeReady(&n),
			n.Status.Addresses, n.Spec.PodCIDRs, n.Labels[corev1.LabelTopologyZone])
	}
	ginkgo.GinkgoWriter.Printf("kubectl: %s\nsignet-testd: %s\n", TestContext.Kubectl, TestContext.Testd)
}

// repoRoot finds the signet checkout: go test runs a package in its own
// directory, test/e2e.
func repoRoot() string {
	dir, err := os.Getwd()
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	for d := dir; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module signet.dev/signet\n") {
			return d
		}
		if filepath.Dir(d) == d {
			ginkgo.Fail(fmt.Sprintf("cannot find the signet checkout (go.mod of signet.dev/signet) above %s", dir))
		}
	}
}

func findKubectl(root string) string {
	if k := os.Getenv("KUBECTL"); k != "" {
		return k
	}
	matches, _ := filepath.Glob(filepath.Join(root, "_output", "upstream", "*", "bin", "kubectl"))
	if len(matches) > 0 {
		sort.Strings(matches)
		return matches[len(matches)-1]
	}
	if k, err := exec.LookPath("kubectl"); err == nil {
		return k
	}
	return ""
}

func findTestd(ctx context.Context, root string) string {
	if t := os.Getenv("SIGNET_TESTD"); t != "" {
		return t
	}
	built := filepath.Join(root, "_output", "bin", "signet-testd")
	if _, err := os.Stat(built); err == nil {
		return built
	}
	dir, err := os.MkdirTemp("", "signet-e2e-testd-")
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	ginkgo.DeferCleanup(os.RemoveAll, dir)
	bin := filepath.Join(dir, "signet-testd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./test/e2e/testd")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "go build ./test/e2e/testd:\n%s", out)
	return bin
}

// RequireRoot skips a spec that looks inside the local cluster's network
// namespaces when the suite does not run as root, or fails it when
// SIGNET_REQUIRE_ROOT_TESTS is set (as CI sets it).
func RequireRoot() {
	if os.Geteuid() == 0 {
		return
	}
	msg := "this spec runs commands in the pods' and nodes' network namespaces of the local cluster and needs root"
	if os.Getenv("SIGNET_REQUIRE_ROOT_TESTS") != "" {
		ginkgo.Fail(msg + " (SIGNET_REQUIRE_ROOT_TESTS is set)")
	}
	ginkgo.Skip(msg)
}

// RequireKubectl fails a spec when no kubectl was found.
func RequireKubectl() {
	if TestContext.Kubectl == "" {
		ginkgo.Fail("no kubectl: set KUBECTL, run hack/build-upstream.sh kubectl, or put kubectl on PATH")
	}
}

// Kubectl runs kubectl against the suite's cluster with stdin as its input
// and returns its standard output; a failure fails the spec with stderr.
func Kubectl(ctx context.Context, stdin string, args ...string) string {
	ginkgo.GinkgoHelper()
	RequireKubectl()
	cmd := exec.CommandContext(ctx, TestContext.Kubectl, append([]string{"--kubeconfig", TestContext.KubeConfig}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "kubectl %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), stdout.String(), stderr.String())
	return stdout.String()
}
