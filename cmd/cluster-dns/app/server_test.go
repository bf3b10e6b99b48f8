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
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"

	discoveryv1 "signet.dev/api/discovery/v1"
	signetfake "signet.dev/client-go/clientset/versioned/fake"

	"signet.dev/signet/pkg/clusterdns"
)

// TestRun runs the command on fake clients: DNS and HTTP come up, answers
// follow the API objects, and cancelling the context stops everything.
func TestRun(t *testing.T) {
	kube := kubefake.NewClientset(
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kubernetes"},
			Spec:       corev1.ServiceSpec{ClusterIP: "10.96.0.1", ClusterIPs: []string{"10.96.0.1", "fd00:10:96::1"}},
		},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "db", Annotations: map[string]string{"service.signet.dev/topology-keys": "topology.kubernetes.io/zone"}},
			Spec:       corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone},
		},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{"topology.kubernetes.io/zone": "a"}}},
	)
	signet := signetfake.NewClientset(&discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: "db-1", Labels: map[string]string{discoveryv1.LabelServiceName: "db"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.244.0.1"}, Topology: map[string]string{"topology.kubernetes.io/zone": "a"}},
			{Addresses: []string{"10.244.0.2"}, Topology: map[string]string{"topology.kubernetes.io/zone": "b"}},
		},
	})

	o := NewOptions()
	o.Listen = []string{"127.0.0.1:0"}
	o.HealthAddr = "127.0.0.1:0"
	o.MetricsAddr = o.HealthAddr // one server for both
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type addrs struct{ dns, http []string }
	serving := make(chan addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, o, kube, signet, hooks{serving: func(d, h []string) { serving <- addrs{d, h} }})
	}()
	var a addrs
	select {
	case a = <-serving:
	case err := <-done:
		t.Fatalf("run() = %v before serving", err)
	case <-time.After(30 * time.Second):
		t.Fatal("not serving after 30s")
	}
	if len(a.dns) != 1 || len(a.http) != 1 {
		t.Fatalf("serving DNS on %v and HTTP on %v, want one of each", a.dns, a.http)
	}
	base := "http://" + a.http[0]
	poll(t, "/ready to turn 200", func() error {
		if code, body := get(t, base+"/ready"); code != http.StatusOK {
			return fmt.Errorf("/ready %d %s", code, body)
		}
		return nil
	})

	query := func(name string, qtype uint16, node string) *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		if node != "" {
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_LOCAL{Code: clusterdns.NodeNameOption, Data: []byte(node)})
		}
		r, _, err := (&dns.Client{Net: "tcp", Timeout: 5 * time.Second}).Exchange(m, a.dns[0])
		if err != nil {
			t.Fatalf("query %s: %v", name, err)
		}
		return r
	}
	if r := query("kubernetes.default.svc.cluster.local.", dns.TypeAAAA, ""); len(r.Answer) != 1 || r.Answer[0].(*dns.AAAA).AAAA.String() != "fd00:10:96::1" {
		t.Errorf("AAAA answer %v", r)
	}
	if r := query("db.default.svc.cluster.local.", dns.TypeA, "node-a"); len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "10.244.0.1" {
		t.Errorf("topology answer for node-a %v, want 10.244.0.1 only", r)
	}
	if r := query("db.default.svc.cluster.local.", dns.TypeA, ""); len(r.Answer) != 2 {
		t.Errorf("answer without a node %v, want both endpoints", r)
	}

	// A change in the API shows in the answers.
	if _, err := kube.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "new"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.org"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, "the new Service to answer", func() error {
		if r := query("new.default.svc.cluster.local.", dns.TypeCNAME, ""); len(r.Answer) != 1 {
			return fmt.Errorf("answer %v", r)
		}
		return nil
	})

	_, metrics := get(t, base+"/metrics")
	for _, want := range []string{
		`cluster_dns_requests_total{proto="tcp",type="A"} 2`,
		`cluster_dns_topology_answers_total{result="filtered"} 1`,
		`cluster_dns_topology_answers_total{result="no_node"} 1`,
		`cluster_dns_node_option_total{result="known"} 1`,
		"cluster_dns_services 3",
		"cluster_dns_headless_endpoints 2",
		"go_goroutines",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if code, _ := get(t, base+"/health"); code != http.StatusOK {
		t.Errorf("/health %d", code)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run() = %v after cancel, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run() did not return after cancel")
	}
	if _, _, err := (&dns.Client{Net: "tcp", Timeout: time.Second}).Exchange(new(dns.Msg).SetQuestion("x.cluster.local.", dns.TypeA), a.dns[0]); err == nil {
		t.Errorf("DNS still answered after shutdown")
	}
	if _, err := http.Get(base + "/health"); err == nil {
		t.Errorf("HTTP still served after shutdown")
	}
}

func TestRunFailsOnTakenPort(t *testing.T) {
	o := NewOptions()
	o.Listen = []string{"127.0.0.1:0"}
	o.HealthAddr, o.MetricsAddr = "", ""
	ctx := klog.NewContext(context.Background(), klog.Background())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Hold the port run would take: the first run binds, the second fails.
	first := make(chan []string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, o, kubefake.NewClientset(), signetfake.NewClientset(), hooks{serving: func(d, _ []string) { first <- d }})
	}()
	var bound []string
	select {
	case bound = <-first:
	case err := <-done:
		t.Fatal(err)
	}
	o2 := NewOptions()
	o2.Listen = bound
	o2.HealthAddr, o2.MetricsAddr = "", ""
	if err := run(ctx, o2, kubefake.NewClientset(), signetfake.NewClientset(), hooks{}); err == nil || !strings.Contains(err.Error(), "starting DNS") {
		t.Errorf("second run() = %v, want a DNS start error", err)
	}
	cancel()
	<-done
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func poll(t *testing.T, what string, cond func() error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		last = cond()
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, last)
	}
}
