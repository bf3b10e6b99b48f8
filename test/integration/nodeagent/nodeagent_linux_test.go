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

package nodeagent

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"signet.dev/signet/test/e2e/nodeagent"
	"signet.dev/signet/test/integration/framework"
	"signet.dev/signet/test/integration/framework/nsutil"
)

// The test network: a node namespace running the agent (its pods hang off
// the agent's bridge inside it) and a client namespace on the node's
// uplink, standing for another machine.
const (
	nodeV4, clientV4 = "10.100.0.11", "10.100.0.2"
	nodeV6, clientV6 = "fd00:100::11", "fd00:100::2"
	podCIDRs         = "10.244.1.0/24,fd00:244:1::/64"
	dnsV4, dnsV6     = "169.254.20.10", "fd00::10"
	zone             = "zone-a"

	httpPort, tcpPort, udpPort = 8080, 8081, 8082
	hostHTTPPort, hostUDPPort  = 38080, 38082
)

// binaries builds nodeagent and signet-testd from this checkout once, side
// by side as the local cluster has them.
func binaries(t *testing.T) (agent, testd string) {
	return framework.BuildCommand(t, "./test/e2e/nodeagent/cmd/nodeagent", ""),
		framework.BuildCommand(t, "./test/e2e/testd", nodeagent.TestdName)
}

// testNode is a node namespace with its agent.
type testNode struct {
	name            string
	node, client    *nsutil.NS
	kubeconfig      string
	stateDir        string
	agentBin, testd string
	agent           *exec.Cmd
	agentLog        string
	agentLogs       []string
}

func newTestNode(t *testing.T) *testNode {
	t.Helper()
	agentBin, testd := binaries(t)
	n := &testNode{
		node:     nsutil.New(t, "na-node"),
		client:   nsutil.New(t, "na-client"),
		stateDir: t.TempDir(),
		agentBin: agentBin,
		testd:    testd,
	}
	n.name = n.node.Name
	nsutil.Link(t, n.node, "uplink", n.client, "eth0")
	n.node.Addr(t, "uplink", nodeV4+"/24")
	n.node.Addr(t, "uplink", nodeV6+"/64")
	n.client.Addr(t, "eth0", clientV4+"/24")
	n.client.Addr(t, "eth0", clientV6+"/64")
	// The client reaches the pods through the node, as another node of
	// the local cluster does.
	n.client.IP(t, "route", "add", "10.244.1.0/24", "via", nodeV4)
	n.client.IP(t, "-6", "route", "add", "fd00:244:1::/64", "via", nodeV6)
	// node-cache's addresses, where a fake DNS server answers.
	n.node.Addr(t, "lo", dnsV4+"/32")
	n.node.Addr(t, "lo", dnsV6+"/128")

	n.kubeconfig = cluster.KubeconfigIn(t, n.node)
	t.Cleanup(func() {
		_ = cluster.Kube.CoreV1().Nodes().Delete(context.Background(), n.name, metav1.DeleteOptions{})
	})
	// Registered first, run last: after every agent has stopped.
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("NODEAGENT_TEST_LOGS") != "" {
			for _, l := range n.agentLogs {
				data, _ := os.ReadFile(l)
				t.Logf("%s:\n%s", filepath.Base(l), data)
			}
		}
	})
	return n
}

// serveDNS answers A questions for name with ip on node-cache's addresses
// in the node namespace.
func (n *testNode) serveDNS(t *testing.T, name, ip string) {
	t.Helper()
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		switch {
		case strings.EqualFold(q.Name, name) && q.Qtype == dns.TypeA:
			rr, _ := dns.NewRR(fmt.Sprintf("%s 5 IN A %s", name, ip))
			m.Answer = append(m.Answer, rr)
		case strings.EqualFold(q.Name, name):
		default:
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})
	for _, addr := range []string{dnsV4 + ":53", "[" + dnsV6 + "]:53"} {
		pc, err := n.node.ListenPacket("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		srv := &dns.Server{PacketConn: pc, Handler: handler}
		go func() { _ = srv.ActivateAndServe() }()
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
}

// startAgent runs the agent in the node namespace (nsenter: the node's
// network, the machine's mount namespace). Its logs are printed when the
// test fails, or always with NODEAGENT_TEST_LOGS set.
func (n *testNode) startAgent(t *testing.T) {
	t.Helper()
	n.agentLog = filepath.Join(t.TempDir(), fmt.Sprintf("nodeagent-%d.log", len(n.agentLogs)))
	n.agentLogs = append(n.agentLogs, n.agentLog)
	log, err := os.Create(n.agentLog)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command("nsenter", "--net=/run/netns/"+n.node.Name, "--", n.agentBin,
		"--kubeconfig="+n.kubeconfig,
		"--node-name="+n.name,
		"--node-ip="+nodeV4+","+nodeV6,
		"--pod-cidrs="+podCIDRs,
		"--node-labels=topology.kubernetes.io/zone="+zone+",topology.kubernetes.io/region=region-1",
		"--cluster-dns="+dnsV4+","+dnsV6,
		"--cluster-domain=cluster.local",
		"--state-dir="+n.stateDir,
		"--lease-duration=8s",
		"-v=2",
	)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.agent = cmd
	t.Cleanup(func() { n.stopAgent(t) })
}

// stopAgent sends SIGTERM and waits for the agent to exit.
func (n *testNode) stopAgent(t *testing.T) {
	t.Helper()
	if n.agent == nil || n.agent.ProcessState != nil {
		return
	}
	_ = n.agent.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- n.agent.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the agent exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		_ = n.agent.Process.Kill()
		<-done
		t.Errorf("the agent did not stop within 30s of SIGTERM")
	}
}

// cleanup runs nodeagent --cleanup in the node namespace.
func (n *testNode) cleanup(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("nsenter", "--net=/run/netns/"+n.node.Name, "--", n.agentBin,
		"--cleanup", "--node-name="+n.name, "--state-dir="+n.stateDir).CombinedOutput()
	if err != nil {
		t.Fatalf("nodeagent --cleanup: %v\n%s", err, out)
	}
	return string(out)
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func(ctx context.Context) error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		last = cond(ctx)
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s: %v (last: %v)", what, err, last)
	}
}

// get fetches url from inside ns.
func get(ctx context.Context, ns *nsutil.NS, u string) (string, error) {
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext:       func(ctx context.Context, network, addr string) (net.Conn, error) { return ns.Dial(ctx, network, addr) },
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", resp.Status, body)
	}
	return string(body), nil
}

// udpAsk sends one datagram from ns and returns the answer.
func udpAsk(ctx context.Context, ns *nsutil.NS, addr, msg string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := ns.Dial(ctx, "udp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, msg); err != nil {
		return "", err
	}
	buf := make([]byte, 512)
	k, err := c.Read(buf)
	return string(buf[:k]), err
}

// tcpLine connects from ns and returns the first line.
func tcpLine(ctx context.Context, ns *nsutil.NS, addr string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := ns.Dial(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

func testdPod(name string, hostPorts bool) *corev1.Pod {
	ports := []corev1.ContainerPort{
		{Name: "http", ContainerPort: httpPort, Protocol: corev1.ProtocolTCP},
		{Name: "dgram", ContainerPort: udpPort, Protocol: corev1.ProtocolUDP},
	}
	if hostPorts {
		ports[0].HostPort = hostHTTPPort
		ports[1].HostPort = hostUDPPort
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To[int64](5),
			Containers: []corev1.Container{{
				Name:  "serve",
				Image: "signet.dev/testd:latest",
				Args:  []string{"serve-hostname", fmt.Sprintf("--http-port=%d", httpPort), fmt.Sprintf("--tcp-port=%d", tcpPort), fmt.Sprintf("--udp-port=%d", udpPort)},
				Ports: ports,
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http")}},
					PeriodSeconds: 1,
				},
			}},
		},
	}
}

// runningAndReady waits for a pod to run, be ready and have an address of
// each family, and returns it.
func runningAndReady(t *testing.T, namespace, name string) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	waitFor(t, "pod "+name+" Running and Ready with both families", 90*time.Second, func(ctx context.Context) error {
		var err error
		pod, err = cluster.Kube.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if pod.Status.Phase != corev1.PodRunning || !podReady(pod) {
			return fmt.Errorf("phase %s, conditions %v, containers %+v", pod.Status.Phase, pod.Status.Conditions, pod.Status.ContainerStatuses)
		}
		if len(pod.Status.PodIPs) != 2 {
			return fmt.Errorf("pod IPs %v", pod.Status.PodIPs)
		}
		return nil
	})
	return pod
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func netnsExists(name string) bool {
	_, err := os.Stat(filepath.Join("/run/netns", name))
	return err == nil
}

func TestNodeAgent(t *testing.T) {
	nsutil.RequireRoot(t, "iptables", "ip6tables", "iptables-save", "ip6tables-save", "nsenter")
	ctx := context.Background()
	n := newTestNode(t)
	ns := "nodeagent-test"
	if _, err := cluster.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	// No controller manager runs here to create the namespace's default
	// ServiceAccount, which admission wants.
	if _, err := cluster.Kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	n.serveDNS(t, "web."+ns+".svc.cluster.local.", "10.96.0.5")
	n.startAgent(t)

	t.Run("the Node registers Ready with both families", func(t *testing.T) {
		waitFor(t, "the Node is Ready", time.Minute, func(ctx context.Context) error {
			node, err := cluster.Kube.CoreV1().Nodes().Get(ctx, n.name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			ready := false
			for _, c := range node.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					ready = true
				}
			}
			if !ready {
				return fmt.Errorf("conditions %v", node.Status.Conditions)
			}
			var internal []string
			for _, a := range node.Status.Addresses {
				if a.Type == corev1.NodeInternalIP {
					internal = append(internal, a.Address)
				}
			}
			if strings.Join(internal, ",") != nodeV4+","+nodeV6 {
				return fmt.Errorf("internal IPs %v", internal)
			}
			if strings.Join(node.Spec.PodCIDRs, ",") != podCIDRs {
				return fmt.Errorf("pod CIDRs %v", node.Spec.PodCIDRs)
			}
			if node.Labels[corev1.LabelHostname] != n.name || node.Labels[corev1.LabelTopologyZone] != zone {
				return fmt.Errorf("labels %v", node.Labels)
			}
			if node.Status.Allocatable.Pods().Value() < 1 {
				return fmt.Errorf("allocatable %v", node.Status.Allocatable)
			}
			return nil
		})
		// The Lease is renewed every quarter of its 8s.
		var first time.Time
		waitFor(t, "the Lease exists", 20*time.Second, func(ctx context.Context) error {
			lease, err := cluster.Kube.CoordinationV1().Leases(nodeagent.NodeLeaseNamespace).Get(ctx, n.name, metav1.GetOptions{})
			if err == nil {
				first = lease.Spec.RenewTime.Time
			}
			return err
		})
		waitFor(t, "the Lease is renewed", 20*time.Second, func(ctx context.Context) error {
			l, err := cluster.Kube.CoordinationV1().Leases(nodeagent.NodeLeaseNamespace).Get(ctx, n.name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if !l.Spec.RenewTime.After(first) {
				return fmt.Errorf("renew time still %v", l.Spec.RenewTime)
			}
			return nil
		})
	})

	pods := cluster.Kube.CoreV1().Pods(ns)
	for _, p := range []*corev1.Pod{testdPod("web", false), testdPod("hp", true)} {
		p.Spec.NodeName = n.name
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	client := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "client"},
		Spec: corev1.PodSpec{
			NodeName:                      n.name,
			TerminationGracePeriodSeconds: ptr.To[int64](5),
			Containers: []corev1.Container{{
				Name:  "netexec",
				Image: "registry.k8s.io/e2e-test-images/agnhost:2.53",
				Args:  []string{"netexec", fmt.Sprintf("--http-port=%d", httpPort), "--udp-port=-1"},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(httpPort)}},
					PeriodSeconds: 1,
				},
			}},
		},
	}
	if _, err := pods.Create(ctx, client, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	hostNet := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "hostnet"},
		Spec: corev1.PodSpec{
			NodeName:                      n.name,
			HostNetwork:                   true,
			TerminationGracePeriodSeconds: ptr.To[int64](5),
			Containers: []corev1.Container{{
				Name:  "netexec",
				Image: "signet.dev/testd",
				Args:  []string{"netexec", "--http-port=18080", "--udp-port=-1"},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(18080)}},
					PeriodSeconds: 1,
				},
			}},
		},
	}
	if _, err := pods.Create(ctx, hostNet, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	web := runningAndReady(t, ns, "web")
	hp := runningAndReady(t, ns, "hp")
	client = runningAndReady(t, ns, "client")

	t.Run("a hostNetwork pod has the node's addresses and network", func(t *testing.T) {
		pod := runningAndReady(t, ns, "hostnet")
		if pod.Status.PodIPs[0].IP != nodeV4 || pod.Status.PodIPs[1].IP != nodeV6 {
			t.Errorf("pod IPs %v, want the node's", pod.Status.PodIPs)
		}
		if _, ok := pod.Annotations[nodeagent.NetnsAnnotation]; ok {
			t.Errorf("a hostNetwork pod got a network namespace annotation")
		}
		for _, ip := range []string{nodeV4, nodeV6} {
			if _, err := get(ctx, n.client, "http://"+net.JoinHostPort(ip, "18080")+"/healthz"); err != nil {
				t.Errorf("the hostNetwork pod on %s: %v", ip, err)
			}
		}
	})

	t.Run("pods get one address per family from the pod CIDRs", func(t *testing.T) {
		for _, pod := range []*corev1.Pod{web, hp, client} {
			v4, err4 := netip.ParseAddr(pod.Status.PodIPs[0].IP)
			v6, err6 := netip.ParseAddr(pod.Status.PodIPs[1].IP)
			if err4 != nil || err6 != nil || !netip.MustParsePrefix("10.244.1.0/24").Contains(v4) || !netip.MustParsePrefix("fd00:244:1::/64").Contains(v6) {
				t.Errorf("pod %s has IPs %v", pod.Name, pod.Status.PodIPs)
			}
			if v4.String() == "10.244.1.1" || pod.Status.PodIP != v4.String() {
				t.Errorf("pod %s: podIP %s, podIPs %v", pod.Name, pod.Status.PodIP, pod.Status.PodIPs)
			}
			if pod.Status.HostIP != nodeV4 || len(pod.Status.HostIPs) != 2 || pod.Status.HostIPs[1].IP != nodeV6 {
				t.Errorf("pod %s: hostIPs %v", pod.Name, pod.Status.HostIPs)
			}
			cs := pod.Status.ContainerStatuses
			if len(cs) != 1 || cs[0].State.Running == nil || !cs[0].Ready || cs[0].RestartCount != 0 {
				t.Errorf("pod %s: container statuses %+v", pod.Name, cs)
			}
			if nsName := pod.Annotations[nodeagent.NetnsAnnotation]; !netnsExists(nsName) {
				t.Errorf("pod %s: annotated network namespace %q does not exist", pod.Name, nsName)
			}
		}
	})

	t.Run("pods answer on both families from the node", func(t *testing.T) {
		for _, ip := range web.Status.PodIPs {
			addr := net.JoinHostPort(ip.IP, fmt.Sprint(httpPort))
			waitFor(t, "HTTP "+addr, 10*time.Second, func(ctx context.Context) error {
				body, err := get(ctx, n.node, "http://"+addr+"/")
				if err == nil && body != "web" {
					return fmt.Errorf("the pod answered %q, want its name", body)
				}
				return err
			})
			tcp := net.JoinHostPort(ip.IP, fmt.Sprint(tcpPort))
			if line, err := tcpLine(ctx, n.node, tcp); err != nil || line != "web" {
				t.Errorf("TCP %s: %q, %v", tcp, line, err)
			}
		}
	})

	t.Run("a pod reaches another on both families", func(t *testing.T) {
		for _, ip := range web.Status.PodIPs {
			u := fmt.Sprintf("http://%s/dial?host=%s&port=%d&protocol=http&tries=2",
				net.JoinHostPort(client.Status.PodIP, fmt.Sprint(httpPort)), url.QueryEscape(ip.IP), httpPort)
			body, err := get(ctx, n.node, u)
			if err != nil || strings.Count(body, `"web"`) != 2 {
				t.Errorf("/dial to %s: %s, %v", ip.IP, body, err)
			}
		}
	})

	t.Run("hostPorts answer on both node addresses from another machine", func(t *testing.T) {
		for _, nodeIP := range []string{nodeV4, nodeV6} {
			addr := net.JoinHostPort(nodeIP, fmt.Sprint(hostHTTPPort))
			waitFor(t, "hostPort "+addr, 10*time.Second, func(ctx context.Context) error {
				body, err := get(ctx, n.client, "http://"+addr+"/")
				if err == nil && body != "hp" {
					return fmt.Errorf("answered %q, want hp", body)
				}
				return err
			})
			udp := net.JoinHostPort(nodeIP, fmt.Sprint(hostUDPPort))
			if got, err := udpAsk(ctx, n.client, udp, "hello"); err != nil || got != "hp" {
				t.Errorf("UDP hostPort %s: %q, %v", udp, got, err)
			}
		}
		for _, save := range []string{"iptables-save", "ip6tables-save"} {
			out := n.node.MustExec(t, save, "-t", "nat")
			if !strings.Contains(out, ns+"/hp:serve hostPort 38080/TCP") || !strings.Contains(out, "-j SIGNET-HOSTPORTS") {
				t.Errorf("%s lacks the hostPort rules:\n%s", save, out)
			}
		}
	})

	t.Run("pods resolve through their resolv.conf with pod-exec", func(t *testing.T) {
		netnsName := web.Annotations[nodeagent.NetnsAnnotation]
		resolv, err := exec.Command("ip", "netns", "exec", netnsName, "cat", "/etc/resolv.conf").CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, resolv)
		}
		want := "nameserver " + dnsV4 + "\nnameserver " + dnsV6 + "\nsearch " + ns + ".svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"
		if !strings.HasSuffix(string(resolv), want) {
			t.Errorf("the pod's resolv.conf is\n%s\nwant it to end with\n%s", resolv, want)
		}
		cmd := exec.Command(repoPath(t, "hack/pod-exec.sh"), ns, "client", "--", n.testd, "dns-lookup", "web", "A")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.KubeconfigFile, "KUBECTL="+cluster.Kubectl)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("pod-exec dns-lookup: %v\n%s", err, stderrOf(err))
		}
		if strings.TrimSpace(string(out)) != "10.96.0.5" {
			t.Errorf("dns-lookup web A in the pod printed %q, want 10.96.0.5", out)
		}
		// Without the API server, pod-exec reads the agents' records.
		cmd = exec.Command(repoPath(t, "hack/pod-exec.sh"), ns, "client", "--", "cat", "/etc/resolv.conf")
		cmd.Env = append(os.Environ(), "KUBECTL=false", "SIGNET_NODES_DIR="+filepath.Dir(n.stateDir))
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "nameserver "+dnsV4) {
			t.Errorf("pod-exec from the records: %v\n%s", err, out)
		}
	})

	t.Run("an exited container restarts and counts it", func(t *testing.T) {
		u := "http://" + net.JoinHostPort(client.Status.PodIP, fmt.Sprint(httpPort)) + "/exit?code=3"
		if _, err := get(ctx, n.node, u); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the container runs again", 30*time.Second, func(ctx context.Context) error {
			pod, err := pods.Get(ctx, "client", metav1.GetOptions{})
			if err != nil {
				return err
			}
			cs := pod.Status.ContainerStatuses[0]
			if cs.RestartCount != 1 || cs.State.Running == nil || cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 3 {
				return fmt.Errorf("status %+v", cs)
			}
			if !podReady(pod) {
				return fmt.Errorf("not ready again")
			}
			return nil
		})
	})

	t.Run("deleting a pod honours its grace period and removes everything", func(t *testing.T) {
		stubborn := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "stubborn"},
			Spec: corev1.PodSpec{
				NodeName:                      n.name,
				TerminationGracePeriodSeconds: ptr.To[int64](3),
				Containers: []corev1.Container{{
					Name:    "sh",
					Image:   "busybox",
					Command: []string{"sh", "-c", `trap "" TERM; while true; do sleep 0.2; done`},
				}},
			},
		}
		if _, err := pods.Create(ctx, stubborn, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "stubborn runs", time.Minute, func(ctx context.Context) error {
			p, err := pods.Get(ctx, "stubborn", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if !podReady(p) {
				return fmt.Errorf("not ready: %+v", p.Status.ContainerStatuses)
			}
			stubborn = p
			return nil
		})

		for _, pod := range []*corev1.Pod{hp, stubborn} {
			netnsName := pod.Annotations[nodeagent.NetnsAnnotation]
			w, err := pods.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + pod.Name, ResourceVersion: pod.ResourceVersion})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := pods.Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			sawUnready, gone := false, false
			timeout := time.After(time.Minute)
			for !gone {
				select {
				case ev, ok := <-w.ResultChan():
					if !ok {
						t.Fatalf("the watch of %s ended", pod.Name)
					}
					p, _ := ev.Object.(*corev1.Pod)
					switch {
					case ev.Type == watch.Deleted:
						gone = true
					case p != nil && p.DeletionTimestamp != nil && !podReady(p):
						sawUnready = true
					}
				case <-timeout:
					t.Fatalf("%s was not deleted within a minute", pod.Name)
				}
			}
			w.Stop()
			took := time.Since(start)
			if !sawUnready {
				t.Errorf("%s was not reported unready while terminating", pod.Name)
			}
			if pod.Name == "stubborn" && took < 2500*time.Millisecond {
				t.Errorf("stubborn ignores SIGTERM yet was gone after %v, before its 3s grace period", took)
			}
			if pod.Name == "hp" && took > 4*time.Second {
				t.Errorf("hp exits on SIGTERM yet took %v to go", took)
			}
			if netnsExists(netnsName) {
				t.Errorf("the network namespace %s of %s is still there", netnsName, pod.Name)
			}
			if _, err := os.Stat(filepath.Join("/etc/netns", netnsName)); err == nil {
				t.Errorf("/etc/netns/%s is still there", netnsName)
			}
		}
		for _, save := range []string{"iptables-save", "ip6tables-save"} {
			if out := n.node.MustExec(t, save, "-t", "nat"); strings.Contains(out, "/hp:") {
				t.Errorf("%s still has the rules of hp:\n%s", save, out)
			}
		}
		if _, err := get(ctx, n.client, "http://"+net.JoinHostPort(nodeV4, fmt.Sprint(hostHTTPPort))+"/"); err == nil {
			t.Errorf("the hostPort still answers after its pod was deleted")
		}
	})

	t.Run("a restarted agent adopts its pods", func(t *testing.T) {
		netnsName := web.Annotations[nodeagent.NetnsAnnotation]
		n.stopAgent(t)
		if !netnsExists(netnsName) {
			t.Fatalf("the agent removed %s on exit; it should keep it for the next run", netnsName)
		}
		// Something the old agent did not know about, to be cleaned up.
		stray := nodeagent.NetnsPrefix(n.name) + "stray_pod_000000"
		nsutil.Run(t, "ip", "netns", "add", stray)
		n.startAgent(t)
		var again *corev1.Pod
		waitFor(t, "web runs again, restarted once, with the same addresses", time.Minute, func(ctx context.Context) error {
			p, err := pods.Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return err
			}
			cs := p.Status.ContainerStatuses[0]
			if cs.RestartCount != 1 || cs.State.Running == nil || !podReady(p) {
				return fmt.Errorf("status %+v", cs)
			}
			again = p
			return nil
		})
		if fmt.Sprint(again.Status.PodIPs) != fmt.Sprint(web.Status.PodIPs) {
			t.Errorf("web's addresses changed across the restart: %v, then %v", web.Status.PodIPs, again.Status.PodIPs)
		}
		if netnsExists(stray) {
			_ = exec.Command("ip", "netns", "del", stray).Run()
			t.Errorf("the restarted agent left the stray namespace %s", stray)
		}
		body, err := get(ctx, n.node, "http://"+net.JoinHostPort(web.Status.PodIPs[1].IP, fmt.Sprint(httpPort))+"/")
		if err != nil || body != "web" {
			t.Errorf("web after the restart: %q, %v", body, err)
		}
	})

	t.Run("cleanup removes everything the agent created", func(t *testing.T) {
		n.stopAgent(t)
		out := n.cleanup(t)
		left, err := filepath.Glob("/run/netns/" + nodeagent.NetnsPrefix(n.name) + "*")
		if err != nil || len(left) > 0 {
			t.Errorf("namespaces left after --cleanup: %v\n%s", left, out)
		}
		left, _ = filepath.Glob("/etc/netns/" + nodeagent.NetnsPrefix(n.name) + "*")
		if len(left) > 0 {
			t.Errorf("/etc/netns directories left after --cleanup: %v", left)
		}
		for _, save := range []string{"iptables-save", "ip6tables-save"} {
			if out := n.node.MustExec(t, save, "-t", "nat"); strings.Contains(out, "SIGNET-HOSTPORTS") {
				t.Errorf("%s still has the hostPort chains:\n%s", save, out)
			}
		}
		if out, err := n.node.Exec("ip", "link", "show", nodeagent.DefaultBridge); err == nil {
			t.Errorf("the bridge is still there:\n%s", out)
		}
		if out := n.node.MustExec(t, "ip", "-o", "link", "show", "type", "veth"); strings.Count(out, "\n") != 1 {
			t.Errorf("veths left besides the uplink:\n%s", out)
		}
	})
}

// repoPath is a path in this checkout.
func repoPath(t *testing.T, rel string) string {
	t.Helper()
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(strings.TrimSpace(string(root)), rel)
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
