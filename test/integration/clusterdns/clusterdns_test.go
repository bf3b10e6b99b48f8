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

package clusterdns

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	signetclientset "signet.dev/client-go/clientset/versioned"
	signetinformers "signet.dev/client-go/informers/externalversions"

	"signet.dev/signet/cmd/cluster-dns/app"
	"signet.dev/signet/pkg/clusterdns"
	"signet.dev/signet/pkg/controller/endpointslice"
	"signet.dev/signet/pkg/proxy/topology"
	"signet.dev/signet/test/integration/framework"
)

const (
	// convergeTimeout bounds every wait for the controllers and DNS to
	// reach a state; generous, as the machine is small and shared.
	convergeTimeout = 90 * time.Second
	suffix          = ".svc.cluster.local."
)

// testNode is one of the Nodes the pods are bound to.
type testNode struct{ name, zone string }

// The node-caches run for node-in-zone-a and node-in-zone-b; the "-2"
// Nodes exist for zone fallback.
var testNodes = []testNode{
	{"node-in-zone-a", "zone-a"},
	{"node-in-zone-a-2", "zone-a"},
	{"node-in-zone-b", "zone-b"},
	{"node-in-zone-b-2", "zone-b"},
}

// podSpec is a pod the test creates, with the status a kubelet would write.
type podSpec struct {
	name, app, node     string
	hostname, subdomain string
	ips                 []string
	notReady            bool
}

func TestClusterDNS(t *testing.T) {
	ctx := context.Background()
	ensureNodes(t)
	ns := newNamespace(t)
	startController(t)
	dnsAddr, dnsHTTP := startClusterDNS(t)

	web := createService(t, ns, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{
			Selector:       map[string]string{"app": "web"},
			IPFamilyPolicy: ptr.To(corev1.IPFamilyPolicyRequireDualStack),
			IPFamilies:     []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol},
			Ports:          []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}},
		},
	})
	createService(t, ns, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: corev1.ServiceSpec{
			ClusterIP:      corev1.ClusterIPNone,
			Selector:       map[string]string{"app": "db"},
			IPFamilyPolicy: ptr.To(corev1.IPFamilyPolicyRequireDualStack),
			IPFamilies:     []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol},
			Ports:          []corev1.ServicePort{{Name: "pg", Port: 5432, TargetPort: intstr.FromString("pg")}},
		},
	})
	createService(t, ns, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "near", Annotations: map[string]string{
			topology.AnnotationKeys: corev1.LabelHostname + "," + corev1.LabelTopologyZone,
		}},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			Selector:  map[string]string{"app": "near"},
			Ports:     []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}},
		},
	})
	createService(t, ns, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "ext"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "www.example.com"},
	})
	for _, p := range []podSpec{
		{name: "web-a", app: "web", node: "node-in-zone-a", ips: []string{"10.244.1.1", "fd00:10:244::1:1"}},
		{name: "web-b", app: "web", node: "node-in-zone-b", ips: []string{"10.244.1.2", "fd00:10:244::1:2"}},
		{name: "db-0", app: "db", node: "node-in-zone-a", hostname: "db-0", subdomain: "db", ips: []string{"10.244.2.1", "fd00:10:244::2:1"}},
		{name: "db-1", app: "db", node: "node-in-zone-b", hostname: "db-1", subdomain: "db", ips: []string{"10.244.2.2", "fd00:10:244::2:2"}},
		{name: "db-2", app: "db", node: "node-in-zone-b", hostname: "db-2", subdomain: "db", ips: []string{"10.244.2.3", "fd00:10:244::2:3"}, notReady: true},
		{name: "near-a", app: "near", node: "node-in-zone-a", ips: []string{"10.244.3.1"}},
		{name: "near-a2", app: "near", node: "node-in-zone-a-2", ips: []string{"10.244.3.2"}},
		{name: "near-b", app: "near", node: "node-in-zone-b", ips: []string{"10.244.3.3"}},
	} {
		createPod(t, ns, p)
	}
	webV4, webV6 := web.Spec.ClusterIPs[0], web.Spec.ClusterIPs[1]
	n := func(name string) string { return name + "." + ns + suffix }
	rev := func(ip string) string { r, _ := dns.ReverseAddr(ip); return r }

	// Wait for the headless Services' endpoints, which need the
	// controller's slices and cluster-dns' informers.
	waitForAnswer(t, dnsAddr, query{name: n("db"), qtype: dns.TypeAAAA}, []string{
		n("db") + " 30 IN AAAA fd00:10:244::2:1",
		n("db") + " 30 IN AAAA fd00:10:244::2:2",
	})
	waitForAnswer(t, dnsAddr, query{name: n("db"), qtype: dns.TypeA}, []string{
		n("db") + " 30 IN A 10.244.2.1",
		n("db") + " 30 IN A 10.244.2.2",
	})
	waitForAnswer(t, dnsAddr, query{name: n("near"), qtype: dns.TypeA}, []string{
		n("near") + " 30 IN A 10.244.3.1",
		n("near") + " 30 IN A 10.244.3.2",
		n("near") + " 30 IN A 10.244.3.3",
	})

	t.Run("specification", func(t *testing.T) {
		tests := []struct {
			name   string
			q      query
			rcode  int
			answer []string
			extra  []string
		}{
			{name: "dns-version", q: query{name: "dns-version.cluster.local.", qtype: dns.TypeTXT},
				answer: []string{`dns-version.cluster.local. 30 IN TXT "1.1.0"`}},
			{name: "ClusterIP A", q: query{name: n("web"), qtype: dns.TypeA}, answer: []string{n("web") + " 30 IN A " + webV4}},
			{name: "ClusterIP AAAA", q: query{name: n("web"), qtype: dns.TypeAAAA}, answer: []string{n("web") + " 30 IN AAAA " + webV6}},
			{name: "ClusterIP SRV", q: query{name: "_http._tcp." + n("web"), qtype: dns.TypeSRV},
				answer: []string{"_http._tcp." + n("web") + " 30 IN SRV 0 100 80 " + n("web")},
				extra:  []string{n("web") + " 30 IN A " + webV4, n("web") + " 30 IN AAAA " + webV6}},
			{name: "PTR of the IPv4 cluster IP", q: query{name: rev(webV4), qtype: dns.TypePTR}, answer: []string{rev(webV4) + " 30 IN PTR " + n("web")}},
			{name: "PTR of the IPv6 cluster IP", q: query{name: rev(webV6), qtype: dns.TypePTR}, answer: []string{rev(webV6) + " 30 IN PTR " + n("web")}},
			{name: "headless A: ready pods only", q: query{name: n("db"), qtype: dns.TypeA}, answer: []string{
				n("db") + " 30 IN A 10.244.2.1", n("db") + " 30 IN A 10.244.2.2"}},
			{name: "pod hostname A", q: query{name: "db-0." + n("db"), qtype: dns.TypeA}, answer: []string{"db-0." + n("db") + " 30 IN A 10.244.2.1"}},
			{name: "pod hostname AAAA", q: query{name: "db-1." + n("db"), qtype: dns.TypeAAAA}, answer: []string{"db-1." + n("db") + " 30 IN AAAA fd00:10:244::2:2"}},
			{name: "not-ready pod hostname", q: query{name: "db-2." + n("db"), qtype: dns.TypeA}, rcode: dns.RcodeNameError},
			{name: "headless SRV with the target port", q: query{name: "_pg._tcp." + n("db"), qtype: dns.TypeSRV}, answer: []string{
				"_pg._tcp." + n("db") + " 30 IN SRV 0 100 5432 db-0." + n("db"),
				"_pg._tcp." + n("db") + " 30 IN SRV 0 100 5432 db-1." + n("db"),
			}, extra: []string{
				"db-0." + n("db") + " 30 IN A 10.244.2.1", "db-0." + n("db") + " 30 IN AAAA fd00:10:244::2:1",
				"db-1." + n("db") + " 30 IN A 10.244.2.2", "db-1." + n("db") + " 30 IN AAAA fd00:10:244::2:2",
			}},
			{name: "PTR of a pod with a hostname", q: query{name: rev("fd00:10:244::2:1"), qtype: dns.TypePTR},
				answer: []string{rev("fd00:10:244::2:1") + " 30 IN PTR db-0." + n("db")}},
			{name: "pod without hostname gets a generated one", q: query{name: "10-244-3-3." + n("near"), qtype: dns.TypeA},
				answer: []string{"10-244-3-3." + n("near") + " 30 IN A 10.244.3.3"}},
			{name: "ExternalName", q: query{name: n("ext"), qtype: dns.TypeA}, answer: []string{n("ext") + " 30 IN CNAME www.example.com."}},
			{name: "missing Service", q: query{name: n("nope"), qtype: dns.TypeA}, rcode: dns.RcodeNameError},
			{name: "namespace is NODATA", q: query{name: ns + suffix, qtype: dns.TypeA}},
			{name: "headless without the option: every endpoint", q: query{name: n("near"), qtype: dns.TypeA}, answer: []string{
				n("near") + " 30 IN A 10.244.3.1", n("near") + " 30 IN A 10.244.3.2", n("near") + " 30 IN A 10.244.3.3"}},
			{name: "topology: same node", q: query{name: n("near"), qtype: dns.TypeA, node: "node-in-zone-a-2"},
				answer: []string{n("near") + " 30 IN A 10.244.3.2"}},
			{name: "topology: zone fallback", q: query{name: n("near"), qtype: dns.TypeA, node: "node-in-zone-b-2"},
				answer: []string{n("near") + " 30 IN A 10.244.3.3"}},
			{name: "letter case kept", q: query{name: strings.ToUpper(n("web")), qtype: dns.TypeA},
				answer: []string{strings.ToUpper(n("web")) + " 30 IN A " + webV4}},
			{name: "outside the cluster domain", q: query{name: "www.example.com.", qtype: dns.TypeA}, rcode: dns.RcodeRefused},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				for _, network := range []string{"udp", "tcp"} {
					tc.q.network = network
					r := tc.q.exchange(t, dnsAddr)
					if r.Rcode != tc.rcode {
						t.Errorf("%s: rcode %s, want %s", network, dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
					}
					if got := rrStrings(r.Answer); !slices.Equal(got, sorted(tc.answer)) {
						t.Errorf("%s: answer\n got %q\nwant %q", network, got, sorted(tc.answer))
					}
					if got := rrStrings(r.Extra); !slices.Equal(got, sorted(tc.extra)) {
						t.Errorf("%s: additional\n got %q\nwant %q", network, got, sorted(tc.extra))
					}
					if (r.Rcode == dns.RcodeNameError || len(r.Answer) == 0 && r.Rcode == dns.RcodeSuccess) && (len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA) {
						t.Errorf("%s: negative answer without the SOA: %v", network, r.Ns)
					}
				}
			})
		}
	})

	t.Run("answers follow the API", func(t *testing.T) {
		createPod(t, ns, podSpec{name: "db-3", app: "db", node: "node-in-zone-a-2", hostname: "db-3", subdomain: "db", ips: []string{"10.244.2.4", "fd00:10:244::2:4"}})
		waitForAnswer(t, dnsAddr, query{name: "db-3." + n("db"), qtype: dns.TypeA}, []string{"db-3." + n("db") + " 30 IN A 10.244.2.4"})
		if err := cluster.Kube.CoreV1().Services(ns).Delete(ctx, "ext", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitForRcode(t, dnsAddr, query{name: n("ext"), qtype: dns.TypeA}, dns.RcodeNameError)
	})

	t.Run("through node-caches of two zones", func(t *testing.T) {
		upstream := startUpstream(t)
		ncA := startNodeCache(t, "node-in-zone-a", "127.0.0.2", dnsAddr, upstream.resolvConf)
		ncB := startNodeCache(t, "node-in-zone-b", "127.0.0.3", dnsAddr, upstream.resolvConf)

		// node-cache counts TTLs down in its cache: compare without them.
		near := query{name: n("near"), qtype: dns.TypeA}
		for _, network := range []string{"udp", "tcp"} {
			near.network = network
			if got, want := withoutTTL(near.exchange(t, ncA.addr).Answer), []string{n("near") + " IN A 10.244.3.1"}; !slices.Equal(got, want) {
				t.Errorf("%s through node-cache of node-in-zone-a: %q, want %q", network, got, want)
			}
			if got, want := withoutTTL(near.exchange(t, ncB.addr).Answer), []string{n("near") + " IN A 10.244.3.3"}; !slices.Equal(got, want) {
				t.Errorf("%s through node-cache of node-in-zone-b: %q, want %q", network, got, want)
			}
		}
		// Names without topology answer the same everywhere.
		for _, nc := range []*nodeCache{ncA, ncB} {
			r := query{name: n("web"), qtype: dns.TypeAAAA}.exchange(t, nc.addr)
			if got, want := withoutTTL(r.Answer), []string{n("web") + " IN AAAA " + webV6}; !slices.Equal(got, want) {
				t.Errorf("web AAAA through node-cache of %s: %q, want %q", nc.node, got, want)
			}
			r = query{name: "db-0." + n("db"), qtype: dns.TypeA}.exchange(t, nc.addr)
			if got, want := withoutTTL(r.Answer), []string{"db-0." + n("db") + " IN A 10.244.2.1"}; !slices.Equal(got, want) {
				t.Errorf("db-0 through node-cache of %s: %q, want %q", nc.node, got, want)
			}
		}
		metrics := httpGet(t, dnsHTTP+"/metrics")
		if v := metricValue(metrics, `cluster_dns_topology_answers_total{result="filtered"}`); v < 2 {
			t.Errorf("cluster-dns counted %v answers narrowed by topology, want at least 2", v)
		}

		// Names outside the cluster go to the resolv.conf upstream, never
		// tagged with the node name.
		if upstream.server == nil {
			t.Log("Not root: no stand-in upstream on port 53; skipping the check that the node name stays inside")
			return
		}
		r := query{name: "www.example.com.", qtype: dns.TypeA}.exchange(t, ncA.addr)
		if len(r.Answer) != 1 {
			t.Errorf("external name through node-cache: %v", r)
		}
		queries, tagged := upstream.counts()
		if queries == 0 || tagged != 0 {
			t.Errorf("upstream saw %d queries, %d with the node name; want some, none tagged", queries, tagged)
		}
	})
}

// query is one DNS question, optionally tagged with a node name as
// node-cache tags the queries it forwards.
type query struct {
	name    string
	qtype   uint16
	node    string
	network string // "udp" (default) or "tcp"
}

func (q query) exchange(t *testing.T, addr string) *dns.Msg {
	t.Helper()
	r, err := q.try(addr)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (q query) try(addr string) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(q.name, q.qtype)
	m.SetEdns0(4096, false)
	if q.node != "" {
		opt := m.IsEdns0()
		opt.Option = append(opt.Option, &dns.EDNS0_LOCAL{Code: clusterdns.NodeNameOption, Data: []byte(q.node)})
	}
	network := q.network
	if network == "" {
		network = "udp"
	}
	r, _, err := (&dns.Client{Net: network, Timeout: 5 * time.Second}).Exchange(m, addr)
	if err != nil {
		return nil, fmt.Errorf("%s %s query to %s: %w", q.name, dns.TypeToString[q.qtype], addr, err)
	}
	return r, nil
}

// rrStrings renders records with single spaces, sorted, without OPT.
func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, strings.Join(strings.Fields(rr.String()), " "))
		}
	}
	slices.Sort(out)
	return out
}

// withoutTTL is rrStrings without the TTL field.
func withoutTTL(rrs []dns.RR) []string {
	var out []string
	for _, s := range rrStrings(rrs) {
		f := strings.Fields(s)
		out = append(out, strings.Join(append(f[:1:1], f[2:]...), " "))
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// waitFor polls cond until it returns nil, and fails the test with its last
// error after convergeTimeout.
func waitFor(t *testing.T, what string, cond func(ctx context.Context) error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, convergeTimeout, true, func(ctx context.Context) (bool, error) {
		last = cond(ctx)
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v; last check: %v", what, err, last)
	}
}

func waitForAnswer(t *testing.T, addr string, q query, want []string) {
	t.Helper()
	want = sorted(want)
	waitFor(t, fmt.Sprintf("%s %s to answer %q", q.name, dns.TypeToString[q.qtype], want), func(context.Context) error {
		r, err := q.try(addr)
		if err != nil {
			return err
		}
		if got := rrStrings(r.Answer); !slices.Equal(got, want) {
			return fmt.Errorf("rcode %s, answer %q", dns.RcodeToString[r.Rcode], got)
		}
		return nil
	})
}

func waitForRcode(t *testing.T, addr string, q query, rcode int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s %s to answer %s", q.name, dns.TypeToString[q.qtype], dns.RcodeToString[rcode]), func(context.Context) error {
		r, err := q.try(addr)
		if err != nil {
			return err
		}
		if r.Rcode != rcode {
			return fmt.Errorf("rcode %s", dns.RcodeToString[r.Rcode])
		}
		return nil
	})
}

var (
	nodesOnce sync.Once
	nodesErr  error
)

// ensureNodes creates the test Nodes, labelled as a kubelet would.
func ensureNodes(t *testing.T) {
	t.Helper()
	nodesOnce.Do(func() {
		for _, n := range testNodes {
			node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: map[string]string{
				corev1.LabelHostname:       n.name,
				corev1.LabelTopologyZone:   n.zone,
				corev1.LabelTopologyRegion: "region-1",
			}}}
			if _, err := cluster.Kube.CoreV1().Nodes().Create(context.Background(), node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				nodesErr = fmt.Errorf("creating Node %s: %w", n.name, err)
				return
			}
		}
	})
	if nodesErr != nil {
		t.Fatal(nodesErr)
	}
}

// newNamespace creates a namespace with the default ServiceAccount pod
// admission wants (no controller creates it here).
func newNamespace(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	ns, err := cluster.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "dns-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a namespace: %v", err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	if _, err := cluster.Kube.CoreV1().ServiceAccounts(ns.Name).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating the default ServiceAccount: %v", err)
	}
	return ns.Name
}

func createService(t *testing.T, ns string, svc *corev1.Service) *corev1.Service {
	t.Helper()
	out, err := cluster.Kube.CoreV1().Services(ns).Create(context.Background(), svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating Service %s/%s: %v", ns, svc.Name, err)
	}
	return out
}

// createPod creates a pod bound to its node and writes its status: Running,
// Ready unless notReady, with its IPs.
func createPod(t *testing.T, ns string, p podSpec) {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.name, Labels: map[string]string{"app": p.app}},
		Spec: corev1.PodSpec{
			NodeName:                     p.node,
			Hostname:                     p.hostname,
			Subdomain:                    p.subdomain,
			AutomountServiceAccountToken: ptr.To(false),
			Containers: []corev1.Container{{
				Name:  "app",
				Image: "example.invalid/app:1",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "pg", ContainerPort: 5432}},
			}},
		},
	}
	created, err := cluster.Kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating pod %s: %v", p.name, err)
	}
	ready := corev1.ConditionTrue
	if p.notReady {
		ready = corev1.ConditionFalse
	}
	created.Status.Phase = corev1.PodRunning
	created.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
		{Type: corev1.PodReady, Status: ready},
	}
	created.Status.PodIP = p.ips[0]
	for _, ip := range p.ips {
		created.Status.PodIPs = append(created.Status.PodIPs, corev1.PodIP{IP: ip})
	}
	if _, err := cluster.Kube.CoreV1().Pods(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("writing the status of pod %s: %v", p.name, err)
	}
}

// startController runs the EndpointSlice controller in this process until
// the end of the test.
func startController(t *testing.T) {
	t.Helper()
	cfg := rest.AddUserAgent(rest.CopyConfig(cluster.Config), "clusterdns-integration-test")
	kubeClient, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	signetClient, err := signetclientset.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kubeFactory := kubeinformers.NewSharedInformerFactory(kubeClient, 0)
	signetFactory := signetinformers.NewSharedInformerFactory(signetClient, 0)
	ctx, cancel := context.WithCancel(context.Background())
	c, err := endpointslice.NewController(ctx,
		kubeFactory.Core().V1().Pods(), kubeFactory.Core().V1().Services(), kubeFactory.Core().V1().Nodes(),
		signetFactory.Discovery().V1().EndpointSlices(), kubeClient, signetClient,
		endpointslice.ControllerOptions{Registerer: prometheus.NewRegistry()})
	if err != nil {
		cancel()
		t.Fatalf("creating the EndpointSlice controller: %v", err)
	}
	kubeFactory.Start(ctx.Done())
	signetFactory.Start(ctx.Done())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx, 2)
		kubeFactory.Shutdown()
		signetFactory.Shutdown()
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// startClusterDNS runs cluster-dns (app.Run, as the binary does) on a
// loopback port until the end of the test, and waits until it is ready. It
// returns the DNS address and the base URL of its HTTP server.
func startClusterDNS(t *testing.T) (string, string) {
	t.Helper()
	dnsPort := freePort(t, "127.0.0.1")
	httpPort := freePort(t, "127.0.0.1")
	o := app.NewOptions()
	o.Kubeconfig = cluster.KubeconfigFile
	o.Listen = []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(dnsPort))}
	o.HealthAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(httpPort))
	o.MetricsAddr = o.HealthAddr
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(klog.NewContext(context.Background(), klog.Background()))
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("cluster-dns: %v", err)
		}
	})
	base := "http://" + o.HealthAddr
	waitFor(t, "cluster-dns to be ready", func(ctx context.Context) error {
		select {
		case err := <-done:
			done <- err
			return fmt.Errorf("cluster-dns exited: %v", err)
		default:
		}
		return checkReady(ctx, base+"/ready")
	})
	return o.Listen[0], base
}

func checkReady(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %s", url, resp.StatusCode, body)
	}
	return nil
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// metricValue returns the value of one series in a /metrics page, or -1.
func metricValue(page, series string) float64 {
	for _, line := range strings.Split(page, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

// freePort returns a port free for both TCP and UDP on ip right now.
func freePort(t *testing.T, ip string) int {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port)))
		ln.Close()
		if err == nil {
			pc.Close()
			return port
		}
	}
	t.Fatalf("no port free for TCP and UDP on %s", ip)
	return 0
}

// upstream stands in for the nodes' resolv.conf nameserver. node-cache
// reads only addresses from resolv.conf and always uses port 53, which
// takes root to bind; without it the address is left dead, and names
// outside the cluster fail fast.
type upstream struct {
	resolvConf string
	server     *dns.Server

	mu             sync.Mutex
	queries, nodes int
}

// upstreamIP is a loopback address nothing else on the machine uses.
const upstreamIP = "127.0.83.53"

func startUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{resolvConf: filepath.Join(t.TempDir(), "resolv.conf")}
	if err := os.WriteFile(u.resolvConf, []byte("nameserver "+upstreamIP+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", net.JoinHostPort(upstreamIP, "53"))
	if err != nil {
		return u
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		u.mu.Lock()
		u.queries++
		if opt := r.IsEdns0(); opt != nil {
			for _, o := range opt.Option {
				if o.Option() == clusterdns.NodeNameOption {
					u.nodes++
				}
			}
		}
		u.mu.Unlock()
		m := new(dns.Msg)
		m.SetReply(r)
		if len(r.Question) == 1 && r.Question[0].Qtype == dns.TypeA {
			rr, _ := dns.NewRR(r.Question[0].Name + " 60 IN A 192.0.2.1")
			m.Answer = append(m.Answer, rr)
		}
		_ = w.WriteMsg(m)
	})
	started := make(chan struct{})
	u.server = &dns.Server{PacketConn: pc, Handler: handler, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = u.server.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = u.server.Shutdown() })
	return u
}

func (u *upstream) counts() (queries, tagged int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.queries, u.nodes
}

// nodeCache is a node-cache process playing one node's cache.
type nodeCache struct {
	node, addr string
	cmd        *exec.Cmd
	log        string
	done       chan error
}

// nodeCacheBinary builds cmd/node-cache from this checkout once.
func nodeCacheBinary(t *testing.T) string {
	return framework.BuildCommand(t, "./cmd/node-cache", "")
}

// startNodeCache runs node-cache for a node on localIP, without its link
// and rules, forwarding the cluster domain to clusterDNS, and waits until
// it is ready.
func startNodeCache(t *testing.T, node, localIP, clusterDNS, resolvConf string) *nodeCache {
	t.Helper()
	bin := nodeCacheBinary(t)
	port := freePort(t, localIP)
	health := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t, "127.0.0.1")))
	metrics := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t, "127.0.0.1")))
	nc := &nodeCache{node: node, addr: net.JoinHostPort(localIP, strconv.Itoa(port)), log: filepath.Join(t.TempDir(), "node-cache.log"), done: make(chan error, 1)}
	logFile, err := os.Create(nc.log)
	if err != nil {
		t.Fatal(err)
	}
	nc.cmd = exec.Command(bin,
		"--setup-interface=false", "--setup-iptables=false",
		"--localip="+localIP, "--port="+strconv.Itoa(port),
		"--node-name="+node,
		"--cluster-dns="+clusterDNS,
		"--upstream-resolv-conf="+resolvConf,
		"--health-addr="+health, "--metrics-addr="+metrics,
		"--v=2",
	)
	nc.cmd.Env = append(os.Environ(), "NODE_NAME=")
	nc.cmd.Stdout, nc.cmd.Stderr = logFile, logFile
	nc.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := nc.cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting node-cache: %v", err)
	}
	go func() {
		nc.done <- nc.cmd.Wait()
		logFile.Close()
	}()
	t.Cleanup(func() {
		_ = nc.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-nc.done:
		case <-time.After(30 * time.Second):
			_ = nc.cmd.Process.Kill()
			<-nc.done
			t.Errorf("node-cache of %s did not stop on SIGTERM", node)
		}
		if t.Failed() {
			out, _ := os.ReadFile(nc.log)
			t.Logf("node-cache of %s:\n%s", node, out)
		}
	})
	waitFor(t, "node-cache of "+node+" to be ready", func(ctx context.Context) error {
		select {
		case err := <-nc.done:
			nc.done <- err
			out, _ := os.ReadFile(nc.log)
			return fmt.Errorf("node-cache exited: %v\n%s", err, out)
		default:
		}
		return checkReady(ctx, "http://"+health+"/ready")
	})
	return nc
}
