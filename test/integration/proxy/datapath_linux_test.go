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

package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	discoveryv1 "signet.dev/api/discovery/v1"
	"signet.dev/signet/test/integration/framework"
	"signet.dev/signet/test/integration/framework/nsutil"
)

// The test network: a client and a backend ("pod") namespace, each joined
// to the node namespace by a veth pair; the node routes between them.
const (
	nodeName = "datapath-node"

	nodeClientV4, clientV4 = "10.250.0.1", "10.250.0.2"
	nodeClientV6, clientV6 = "fd00:250::1", "fd00:250::2"
	nodePodV4, podV4       = "10.244.1.1", "10.244.1.2"
	nodePodV6, podV6       = "fd00:244:1::1", "fd00:244:1::2"
	clusterCIDRs           = "10.244.0.0/16,fd00:244::/48"
	backendPort            = 8080
)

// kubeProxy builds cmd/kube-proxy from this checkout once.
func kubeProxy(t *testing.T) string {
	return framework.BuildCommand(t, "./cmd/kube-proxy", "")
}

type network struct {
	node, client, backend *nsutil.NS
}

func newNetwork(t *testing.T) *network {
	n := &network{
		node:    nsutil.New(t, "dp-node"),
		client:  nsutil.New(t, "dp-client"),
		backend: nsutil.New(t, "dp-pod"),
	}
	nsutil.Link(t, n.node, "to-client", n.client, "eth0")
	nsutil.Link(t, n.node, "to-pod", n.backend, "eth0")
	for _, a := range []struct {
		ns   *nsutil.NS
		dev  string
		cidr string
	}{
		{n.node, "to-client", nodeClientV4 + "/24"}, {n.node, "to-client", nodeClientV6 + "/64"},
		{n.client, "eth0", clientV4 + "/24"}, {n.client, "eth0", clientV6 + "/64"},
		{n.node, "to-pod", nodePodV4 + "/24"}, {n.node, "to-pod", nodePodV6 + "/64"},
		{n.backend, "eth0", podV4 + "/24"}, {n.backend, "eth0", podV6 + "/64"},
	} {
		a.ns.Addr(t, a.dev, a.cidr)
	}
	n.client.IP(t, "route", "add", "default", "via", nodeClientV4)
	n.client.IP(t, "-6", "route", "add", "default", "via", nodeClientV6)
	n.backend.IP(t, "route", "add", "default", "via", nodePodV4)
	n.backend.IP(t, "-6", "route", "add", "default", "via", nodePodV6)
	// The node's uplink: like a real node it routes everything it has no
	// better route for (Service IPs included) out of it, so that a packet
	// to a Service IP without endpoints meets the FORWARD chain's REJECT
	// instead of a routing failure.
	n.node.IP(t, "route", "add", "default", "via", clientV4)
	n.node.IP(t, "-6", "route", "add", "default", "via", clientV6)
	n.node.Forwarding(t)
	return n
}

// serveBackend answers each connection with "backend <peer address>".
func (n *network) serveBackend(t *testing.T) {
	for _, addr := range []struct{ network, addr string }{{"tcp4", fmt.Sprintf("0.0.0.0:%d", backendPort)}, {"tcp6", fmt.Sprintf("[::]:%d", backendPort)}} {
		ln, err := n.backend.Listen(addr.network, addr.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				fmt.Fprintf(c, "backend %s\n", c.RemoteAddr())
				c.Close()
			}
		}()
	}
}

// get connects from the client namespace and returns the backend's line.
func (n *network) get(ctx context.Context, addr string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := n.client.Dial(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// runKubeProxy starts kube-proxy in the node namespace, reaching
// kube-apiserver through a forwarder on the namespace's loopback.
func (n *network) runKubeProxy(t *testing.T, ctx context.Context) *exec.Cmd {
	kubeconfig := cluster.KubeconfigIn(t, n.node)
	cmd := n.node.Command(ctx, kubeProxy(t),
		"--kubeconfig="+kubeconfig,
		"--hostname-override="+nodeName,
		"--proxy-mode=iptables",
		"--cluster-cidr="+clusterCIDRs,
		"--iptables-sync-period=30s",
		"--iptables-min-sync-period=100ms",
		"--healthz-bind-address=127.0.0.1:10256",
		"--metrics-bind-address=127.0.0.1:10249",
		"-v=2",
	)
	logs, err := os.Create(filepath.Join(t.TempDir(), "kube-proxy.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
		if t.Failed() {
			data, _ := os.ReadFile(logs.Name())
			t.Logf("kube-proxy log:\n%s", data)
		}
	})
	return cmd
}

func waitFor(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		last = err
		return ok, nil
	})
	if err != nil {
		t.Fatalf("%s: %v (last error: %v)", what, err, last)
	}
}

func reaches(n *network, addr string) func(ctx context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		line, err := n.get(ctx, addr)
		if err != nil {
			return false, err
		}
		return strings.HasPrefix(line, "backend "), nil
	}
}

func refused(n *network, addr string) func(ctx context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		_, err := n.get(ctx, addr)
		return errors.Is(err, syscall.ECONNREFUSED), err
	}
}

func TestDataPath(t *testing.T) {
	nsutil.RequireRoot(t, "iptables", "ip6tables", "iptables-restore", "ip6tables-restore", "conntrack")
	ctx := context.Background()
	n := newNetwork(t)
	n.serveBackend(t)

	ns := "datapath"
	if _, err := cluster.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName, Labels: map[string]string{"kubernetes.io/hostname": nodeName}}}
	if _, err := cluster.Kube.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cluster.Kube.CoreV1().Nodes().Delete(context.Background(), nodeName, metav1.DeleteOptions{})
	})
	svc, err := cluster.Kube.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: corev1.ServiceSpec{
			Type:           corev1.ServiceTypeNodePort,
			IPFamilyPolicy: ptr.To(corev1.IPFamilyPolicyRequireDualStack),
			IPFamilies:     []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol},
			Selector:       map[string]string{"app": "web"},
			Ports:          []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(backendPort), Protocol: corev1.ProtocolTCP}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(svc.Spec.ClusterIPs) != 2 {
		t.Fatalf("the Service got cluster IPs %v, want one per family", svc.Spec.ClusterIPs)
	}
	nodePort := svc.Spec.Ports[0].NodePort
	slices := cluster.Signet.DiscoveryV1().EndpointSlices(ns)
	for _, s := range []struct {
		name string
		typ  discoveryv1.AddressType
		ip   string
	}{{"web-v4", discoveryv1.AddressTypeIPv4, podV4}, {"web-v6", discoveryv1.AddressTypeIPv6, podV6}} {
		_, err := slices.Create(ctx, &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: ns, Labels: map[string]string{
				discoveryv1.LabelServiceName: "web", discoveryv1.LabelManagedBy: "datapath-test",
			}},
			AddressType: s.typ,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](backendPort), Protocol: ptr.To(corev1.ProtocolTCP)}},
			Endpoints: []discoveryv1.Endpoint{{
				Addresses:  []string{s.ip},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
				NodeName:   ptr.To(nodeName),
			}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}

	proxy := n.runKubeProxy(t, ctx)
	addrs := map[string]string{
		"IPv4 cluster IP": net.JoinHostPort(svc.Spec.ClusterIPs[0], "80"),
		"IPv6 cluster IP": net.JoinHostPort(svc.Spec.ClusterIPs[1], "80"),
		"IPv4 node port":  net.JoinHostPort(nodeClientV4, fmt.Sprint(nodePort)),
		"IPv6 node port":  net.JoinHostPort(nodeClientV6, fmt.Sprint(nodePort)),
	}
	for what, addr := range addrs {
		waitFor(t, "the client reaches the backend through the "+what+" "+addr, reaches(n, addr))
	}
	// The client is outside the cluster network: the backend sees the
	// node's address (masquerade), so that its reply returns through the
	// node.
	line, err := n.get(ctx, addrs["IPv4 cluster IP"])
	if err != nil || !strings.HasPrefix(line, "backend "+nodePodV4+":") {
		t.Errorf("the backend saw %q (%v), want the node's address %s", line, err, nodePodV4)
	}

	// kube-proxy's health endpoint reports the successful syncs.
	healthz := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return n.node.Dial(ctx, network, addr)
		},
	}}
	resp, err := healthz.Get("http://127.0.0.1:10256/healthz")
	if err != nil {
		t.Errorf("/healthz: %v", err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("/healthz: %s %s", resp.Status, body)
		}
	}

	// signet-apiserver (the slices' server) restarts: the rules stay and
	// traffic keeps flowing.
	before := n.node.MustExec(t, "iptables-save", "-t", "nat")
	if err := cluster.RestartSignetAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	for what, addr := range addrs {
		if line, err := n.get(ctx, addr); err != nil || !strings.HasPrefix(line, "backend ") {
			t.Errorf("after the apiserver restart the %s answers %q, %v", what, line, err)
		}
	}
	if proxy.ProcessState != nil {
		t.Fatalf("kube-proxy exited during the apiserver restart: %v", proxy.ProcessState)
	}
	after := n.node.MustExec(t, "iptables-save", "-t", "nat")
	if ruleLines(before) != ruleLines(after) {
		t.Errorf("the nat rules changed across the apiserver restart:\nbefore:\n%s\nafter:\n%s", ruleLines(before), ruleLines(after))
	}

	// Without endpoints the Service rejects: the client is refused at once
	// instead of waiting for a timeout.
	for _, name := range []string{"web-v4", "web-v6"} {
		if err := slices.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for what, addr := range addrs {
		waitFor(t, "the "+what+" "+addr+" refuses connections without endpoints", refused(n, addr))
	}

	// SIGTERM: kube-proxy exits cleanly and leaves the rules in place, so a
	// restarting kube-proxy does not cut Services off.
	if err := proxy.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := proxy.Wait(); err != nil {
		t.Errorf("kube-proxy after SIGTERM: %v", err)
	}
	if save := n.node.MustExec(t, "iptables-save", "-t", "nat"); !strings.Contains(save, "KUBE-SERVICES") {
		t.Errorf("the rules are gone after kube-proxy stopped:\n%s", save)
	}
	if save := n.node.MustExec(t, "ip6tables-save", "-t", "nat"); !strings.Contains(save, "KUBE-SERVICES") {
		t.Errorf("the IPv6 rules are gone after kube-proxy stopped:\n%s", save)
	}
}

// ruleLines keeps the rule and chain lines of iptables-save output,
// without its comments and counters.
func ruleLines(save string) string {
	var out []string
	for _, l := range strings.Split(save, "\n") {
		if strings.HasPrefix(l, "-A ") || (strings.HasPrefix(l, ":") && strings.Contains(l, "KUBE-")) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
