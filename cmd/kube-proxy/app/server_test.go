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
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/ptr"

	discoveryv1 "signet.dev/api/discovery/v1"
	signetfake "signet.dev/client-go/clientset/versioned/fake"

	ctfake "signet.dev/signet/pkg/proxy/conntrack/fake"
	utiliptables "signet.dev/signet/pkg/util/iptables"
	iptfake "signet.dev/signet/pkg/util/iptables/fake"
)

func testService(name string, clusterIPs []string, mutate ...func(*corev1.Service)) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.ServiceSpec{
			Type:       corev1.ServiceTypeClusterIP,
			ClusterIP:  clusterIPs[0],
			ClusterIPs: clusterIPs,
			Ports:      []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}},
		},
	}
	for _, m := range mutate {
		m(svc)
	}
	return svc
}

func testSlice(svc string, addressType discoveryv1.AddressType, address string) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "default",
			Name:      svc + "-" + strings.ToLower(string(addressType)),
			Labels:    map[string]string{discoveryv1.LabelServiceName: svc},
		},
		AddressType: addressType,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}},
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{address},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
			NodeName:   ptr.To("node-a"),
		}},
	}
}

// selectors records the selectors of the informers' lists and watches.
type selectors struct {
	mu   sync.Mutex
	seen map[string][]string // "verb resource" -> "labels|fields"
}

func (s *selectors) reactor(action k8stesting.Action) (bool, runtime.Object, error) {
	var l, f string
	switch a := action.(type) {
	case k8stesting.ListAction:
		l, f = a.GetListRestrictions().Labels.String(), a.GetListRestrictions().Fields.String()
	case k8stesting.WatchAction:
		l, f = a.GetWatchRestrictions().Labels.String(), a.GetWatchRestrictions().Fields.String()
	default:
		return false, nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := action.GetVerb() + " " + action.GetResource().Resource
	s.seen[key] = append(s.seen[key], l+"|"+f)
	return false, nil, nil
}

func (s *selectors) get(key string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen[key])
}

// listener opens 127.0.0.1:0 whatever is asked for and remembers it.
type listener struct {
	mu     sync.Mutex
	opened map[string]string // "network address" asked -> address opened
}

func (l *listener) listen(network, address string) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.opened[network+" "+address] = ln.Addr().String()
	return ln, nil
}

func (l *listener) addr(key string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.opened[key]
	return a, ok
}

// eventually retries check until it returns nil or the time is up.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func httpGet(url string) (int, string, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func restoredText(ipt *iptfake.IPTables) string {
	var b strings.Builder
	for _, r := range ipt.Restores() {
		b.Write(r)
	}
	return b.String()
}

// TestRun runs kube-proxy in process against fake clients and fake
// iptables: families from the Node, rules for both, selectors, health,
// metrics, a health-check node port, a Service added later, and a
// shutdown that leaves the rules.
func TestRun(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{"topology.kubernetes.io/zone": "z1"}},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeHostName, Address: "node-a"},
			{Type: corev1.NodeInternalIP, Address: "fd00::1"},
			{Type: corev1.NodeInternalIP, Address: "10.0.0.1"},
		}},
	}
	lb := func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeLoadBalancer
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		s.Spec.HealthCheckNodePort = 32000
		s.Spec.Ports[0].NodePort = 31000
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.10"}}
	}
	kube := kubefake.NewClientset(node,
		testService("web", []string{"10.96.0.10", "fd00:96::10"}),
		testService("lb", []string{"10.96.0.30"}, lb),
		// Both left out by the label selector.
		testService("headless-ish", []string{"10.96.0.11"}, func(s *corev1.Service) {
			s.Labels = map[string]string{corev1.IsHeadlessService: ""}
		}),
		testService("other-proxy", []string{"10.96.0.12"}, func(s *corev1.Service) {
			s.Labels = map[string]string{labelServiceProxyName: "other"}
		}),
	)
	signet := signetfake.NewSimpleClientset(
		testSlice("web", discoveryv1.AddressTypeIPv4, "10.244.1.10"),
		testSlice("web", discoveryv1.AddressTypeIPv6, "fd00:244::10"),
		testSlice("lb", discoveryv1.AddressTypeIPv4, "10.244.1.30"),
	)
	sel := &selectors{seen: map[string][]string{}}
	kube.PrependReactor("list", "*", sel.reactor)
	kube.PrependWatchReactor("*", func(a k8stesting.Action) (bool, watch.Interface, error) {
		_, _, _ = sel.reactor(a)
		return false, nil, nil
	})
	signet.PrependReactor("list", "*", sel.reactor)

	ipts := map[utiliptables.Protocol]*iptfake.IPTables{}
	var iptMu sync.Mutex
	lis := &listener{opened: map[string]string{}}
	servers := map[string]string{}
	var serversMu sync.Mutex

	cfg := NewDefaultConfiguration()
	cfg.HealthzBindAddress = "127.0.0.1:0"
	cfg.MetricsBindAddress = "127.0.0.1:0"
	cfg.IPTables.MinSyncPeriod.Duration = 10 * time.Millisecond
	cfg.ClusterCIDR = ""
	if err := withFlags(cfg.Validate()); err != nil {
		t.Fatal(err)
	}
	d := deps{
		kubeClient:   kube,
		signetClient: signet,
		newIPTables: func(p utiliptables.Protocol) utiliptables.Interface {
			iptMu.Lock()
			defer iptMu.Unlock()
			ipts[p] = iptfake.New(p)
			return ipts[p]
		},
		conntrack:      &ctfake.Conntrack{},
		listen:         lis.listen,
		hostname:       func() (string, error) { return "Node-A", nil },
		localAddresses: func() ([]netip.Addr, error) { return nil, nil },
		nodeWait:       10 * time.Second,
		listening: func(name string, addr net.Addr) {
			serversMu.Lock()
			defer serversMu.Unlock()
			servers[name] = addr.String()
		},
	}
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, d) }()

	serverAddr := func(name string) string {
		t.Helper()
		var addr string
		eventually(t, "the "+name+" server listening", func() error {
			serversMu.Lock()
			defer serversMu.Unlock()
			if addr = servers[name]; addr == "" {
				return fmt.Errorf("not yet")
			}
			return nil
		})
		return addr
	}
	healthz := "http://" + serverAddr("healthz")
	eventually(t, "/healthz turning healthy", func() error {
		code, body, err := httpGet(healthz + "/healthz")
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("status %d: %s", code, body)
		}
		var s struct {
			NodeName string                  `json:"nodeName"`
			Families map[corev1.IPFamily]any `json:"families"`
		}
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			return err
		}
		if s.NodeName != "node-a" || len(s.Families) != 2 {
			return fmt.Errorf("body %s, want node-a with two families", body)
		}
		return nil
	})

	// The families came from the Node, IPv6 first as its first InternalIP.
	iptMu.Lock()
	v4, v6 := ipts[utiliptables.ProtocolIPv4], ipts[utiliptables.ProtocolIPv6]
	iptMu.Unlock()
	if v4 == nil || v6 == nil {
		t.Fatalf("iptables runners created: %v, want IPv4 and IPv6", ipts)
	}
	text4, text6 := restoredText(v4), restoredText(v6)
	for _, want := range []string{"10.96.0.10/32", "10.244.1.10:8080", "10.96.0.30/32", "192.0.2.10/32"} {
		if !strings.Contains(text4, want) {
			t.Errorf("iptables rules do not mention %s", want)
		}
	}
	for _, want := range []string{"fd00:96::10/128", "[fd00:244::10]:8080"} {
		if !strings.Contains(text6, want) {
			t.Errorf("ip6tables rules do not mention %s", want)
		}
	}
	for _, avoid := range []string{"10.96.0.11", "10.96.0.12", "headless-ish", "other-proxy", "fd00:"} {
		if strings.Contains(text4, avoid) {
			t.Errorf("iptables rules mention %s", avoid)
		}
	}

	// Informers ask for what kube-proxy needs only.
	const wantLabels = "!service.kubernetes.io/headless,!service.kubernetes.io/service-proxy-name"
	for key, want := range map[string]string{
		"list services":       wantLabels + "|",
		"list endpointslices": wantLabels + "|",
		"list nodes":          "|metadata.name=node-a",
		"watch nodes":         "|metadata.name=node-a",
	} {
		got := sel.get(key)
		if len(got) == 0 {
			t.Errorf("no %s", key)
		}
		for _, g := range got {
			if g != want {
				t.Errorf("%s with selectors %q, want %q", key, g, want)
			}
		}
	}

	// The health-check node port of the Local LoadBalancer Service is
	// served by the IPv4 proxier's server, with the local endpoint.
	var hc string
	eventually(t, "health-check node port opened", func() error {
		var ok bool
		if hc, ok = lis.addr("tcp4 0.0.0.0:32000"); !ok {
			return fmt.Errorf("not opened; opened %v", lis.opened)
		}
		return nil
	})
	if _, ok := lis.addr("tcp6 [::]:32000"); ok {
		t.Error("the IPv6 proxier opened a health-check node port for an IPv4-only Service")
	}
	code, body, err := httpGet("http://" + hc + "/")
	if err != nil || code != http.StatusOK || !strings.Contains(body, `"localEndpoints":1`) || !strings.Contains(body, `"name":"lb"`) {
		t.Errorf("health-check node port: %d %s %v, want 200 with one local endpoint of lb", code, body, err)
	}

	// Metrics.
	code, body, err = httpGet("http://" + serverAddr("metrics") + "/metrics")
	if err != nil || code != http.StatusOK {
		t.Fatalf("/metrics: %d %v", code, err)
	}
	for _, want := range []string{`signet_kubeproxy_sync_duration_seconds_count{ip_family="IPv4",type="full"}`,
		`signet_kubeproxy_iptables_rules{ip_family="IPv6",table="nat"}`, "go_goroutines", "process_start_time_seconds"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics has no %s", want)
		}
	}

	// A Service created now reaches the rules through the watch.
	if _, err := kube.CoreV1().Services("default").Create(ctx, testService("late", []string{"10.96.0.40"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := signet.DiscoveryV1().EndpointSlices("default").Create(ctx, testSlice("late", discoveryv1.AddressTypeIPv4, "10.244.1.40"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new Service programmed", func() error {
		if text := restoredText(v4); !strings.Contains(text, "10.96.0.40/32") || !strings.Contains(text, "10.244.1.40:8080") {
			return fmt.Errorf("not yet")
		}
		return nil
	})

	// Shutdown: run returns, servers close, the rules stay.
	natBefore := v4.RuleCount(utiliptables.TableNAT)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v, want nil after a graceful shutdown", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after its context was cancelled")
	}
	if n := v4.RuleCount(utiliptables.TableNAT); n == 0 || n != natBefore {
		t.Errorf("nat rules after shutdown: %d, want the %d programmed before", n, natBefore)
	}
	if _, _, err := httpGet(healthz + "/healthz"); err == nil {
		t.Error("/healthz still answers after shutdown")
	}
	if _, _, err := httpGet("http://" + hc + "/"); err == nil {
		t.Error("the health-check node port still answers after shutdown")
	}
}

func TestDetectFamilies(t *testing.T) {
	node := func(addrs []string, podCIDRs ...string) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}, Spec: corev1.NodeSpec{PodCIDRs: podCIDRs}}
		for _, a := range addrs {
			n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: a})
		}
		n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "2001:db8::99"})
		return n
	}
	v4, v6 := corev1.IPv4Protocol, corev1.IPv6Protocol
	tests := []struct {
		name         string
		clusterCIDRs string
		node         *corev1.Node
		want         []corev1.IPFamily
	}{
		{name: "cluster CIDR IPv4", clusterCIDRs: "10.244.0.0/16", node: node([]string{"fd00::1"}), want: []corev1.IPFamily{v4}},
		{name: "cluster CIDRs IPv6 first", clusterCIDRs: "fd00:10::/56,10.244.0.0/16", want: []corev1.IPFamily{v6, v4}},
		{name: "node IPv4", node: node([]string{"10.0.0.1"}), want: []corev1.IPFamily{v4}},
		{name: "node dual-stack", node: node([]string{"10.0.0.1", "fd00::1"}), want: []corev1.IPFamily{v4, v6}},
		{name: "node IPv6 primary", node: node([]string{"fd00::1", "10.0.0.1"}), want: []corev1.IPFamily{v6, v4}},
		{name: "pod CIDRs add a family", node: node([]string{"10.0.0.1"}, "10.244.1.0/24", "fd00:10:1::/64"), want: []corev1.IPFamily{v4, v6}},
		{name: "pod CIDRs only", node: node(nil, "fd00:10:1::/64"), want: []corev1.IPFamily{v6}},
		{name: "neither", node: node(nil), want: []corev1.IPFamily{v4}},
		{name: "no Node", want: []corev1.IPFamily{v4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ctx := ktesting.NewTestContext(t)
			var objs []runtime.Object
			if tc.node != nil {
				objs = append(objs, tc.node)
			}
			cidrs, errs := parseClusterCIDRs(nil, tc.clusterCIDRs)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			got, err := detectFamilies(ctx, kubefake.NewClientset(objs...), "node-a", cidrs, 100*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("families = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDetectFamiliesWaitsForTheNode(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	kube := kubefake.NewClientset()
	go func() {
		time.Sleep(300 * time.Millisecond)
		_, _ = kube.CoreV1().Nodes().Create(context.Background(), &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "node-a"},
			Status:     corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "fd00::1"}}},
		}, metav1.CreateOptions{})
	}()
	got, err := detectFamilies(ctx, kube, "node-a", nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []corev1.IPFamily{corev1.IPv6Protocol}) {
		t.Errorf("families = %v, want [IPv6] from the Node created later", got)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := detectFamilies(cctx, kubefake.NewClientset(), "node-a", nil, 10*time.Second); err == nil {
		t.Error("detectFamilies with a cancelled context returned no error")
	}
}

func TestResolveNodeName(t *testing.T) {
	host := func(name string, err error) func() (string, error) {
		return func() (string, error) { return name, err }
	}
	tests := []struct {
		name     string
		override string
		hostname func() (string, error)
		want     string
		wantErr  string
	}{
		{name: "hostname lowercased", hostname: host("Node-A.Example.com", nil), want: "node-a.example.com"},
		{name: "override wins", override: " Worker-1 ", hostname: host("ignored", nil), want: "worker-1"},
		{name: "hostname fails", hostname: host("", fmt.Errorf("no hostname")), wantErr: "set --hostname-override"},
		{name: "empty hostname", hostname: host("", nil), wantErr: "the node name is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolveNodeName(tc.override, tc.hostname)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("resolveNodeName = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestHealthCheckAddresses(t *testing.T) {
	local := func() ([]netip.Addr, error) {
		return []netip.Addr{
			netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("192.168.1.5"),
			netip.MustParseAddr("2001:db8::5"), netip.MustParseAddr("::1"),
		}, nil
	}
	prefixes := func(s ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, p := range s {
			out = append(out, netip.MustParsePrefix(p))
		}
		return out
	}
	tests := []struct {
		name      string
		family    corev1.IPFamily
		nodePorts []netip.Prefix
		want      []string
	}{
		{name: "no node port addresses", family: corev1.IPv4Protocol},
		{name: "only the other family", family: corev1.IPv4Protocol, nodePorts: prefixes("2001:db8::/64")},
		{name: "IPv4 matches", family: corev1.IPv4Protocol, nodePorts: prefixes("10.0.0.0/8", "192.168.0.0/16", "2001:db8::/64"), want: []string{"10.0.0.5", "192.168.1.5"}},
		{name: "IPv6 matches", family: corev1.IPv6Protocol, nodePorts: prefixes("10.0.0.0/8", "2001:db8::/64"), want: []string{"2001:db8::5"}},
		{name: "nothing local matches", family: corev1.IPv4Protocol, nodePorts: prefixes("172.16.0.0/12")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := healthCheckAddresses(ktesting.NewLogger(t, ktesting.NewConfig()), tc.family, tc.nodePorts, local)
			var gotS []string
			for _, a := range got {
				gotS = append(gotS, a.String())
			}
			if !slices.Equal(gotS, tc.want) {
				t.Errorf("addresses = %q, want %q (nil: every address)", gotS, tc.want)
			}
		})
	}
}
