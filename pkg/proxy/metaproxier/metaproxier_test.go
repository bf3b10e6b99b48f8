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

package metaproxier

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/ptr"

	discoveryv1 "signet.dev/api/discovery/v1"

	"signet.dev/signet/pkg/proxy/iptables"
	utiliptables "signet.dev/signet/pkg/util/iptables"
	"signet.dev/signet/pkg/util/iptables/fake"
)

func service(name string, clusterIPs ...string) *corev1.Service {
	var families []corev1.IPFamily
	for _, ip := range clusterIPs {
		if strings.Contains(ip, ":") {
			families = append(families, corev1.IPv6Protocol)
		} else {
			families = append(families, corev1.IPv4Protocol)
		}
	}
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.ServiceSpec{
			Type:       corev1.ServiceTypeClusterIP,
			ClusterIP:  clusterIPs[0],
			ClusterIPs: clusterIPs,
			IPFamilies: families,
			Ports:      []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}},
		},
	}
}

func slice(svc string, addressType discoveryv1.AddressType, addresses ...string) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "default",
			Name:      svc + "-" + strings.ToLower(string(addressType)),
			Labels:    map[string]string{discoveryv1.LabelServiceName: svc},
		},
		AddressType: addressType,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	for _, a := range addresses {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{a},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
			NodeName:   ptr.To("node-a"),
		})
	}
	return s
}

// newProxier returns a real iptables proxier of one family over a fake
// iptables.
func newProxier(t *testing.T, protocol utiliptables.Protocol) (*iptables.Proxier, *fake.IPTables) {
	t.Helper()
	ipt := fake.New(protocol)
	p, err := iptables.New(iptables.Config{IPTables: ipt, NodeName: "node-a"})
	if err != nil {
		t.Fatalf("creating the %s proxier: %v", protocol, err)
	}
	return p, ipt
}

// restored returns everything written to ipt with iptables-restore.
func restored(ipt *fake.IPTables) string {
	var b strings.Builder
	for _, r := range ipt.Restores() {
		b.Write(r)
	}
	return b.String()
}

// feed gives the MetaProxier a dual-stack Service, one Service of each
// single family, their slices (and an FQDN slice), then syncs.
func feed(t *testing.T, m *MetaProxier) {
	t.Helper()
	_, ctx := ktesting.NewTestContext(t)
	m.OnServiceUpdate(service("dual", "10.96.0.10", "fd00:96::10"))
	m.OnServiceUpdate(service("v4only", "10.96.0.20"))
	m.OnServiceUpdate(service("v6only", "fd00:96::30"))
	m.OnServicesSynced()
	m.OnEndpointSliceUpdate(slice("dual", discoveryv1.AddressTypeIPv4, "10.244.1.10"))
	m.OnEndpointSliceUpdate(slice("dual", discoveryv1.AddressTypeIPv6, "fd00:244::10"))
	m.OnEndpointSliceUpdate(slice("v4only", discoveryv1.AddressTypeIPv4, "10.244.1.20"))
	m.OnEndpointSliceUpdate(slice("v6only", discoveryv1.AddressTypeIPv6, "fd00:244::30"))
	m.OnEndpointSliceUpdate(slice("dual", discoveryv1.AddressTypeFQDN, "backend.example.com"))
	m.OnEndpointSlicesSynced()
	m.OnNodeSynced()
	m.OnNodeUpdate(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}})
	m.OnNodeSynced()
	if err := m.Sync(ctx); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

// checkMentions fails unless text holds every one of want and none of
// avoid.
func checkMentions(t *testing.T, what, text string, want, avoid []string) {
	t.Helper()
	if text == "" {
		t.Fatalf("%s: nothing was restored", what)
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s: restore input does not mention %q", what, w)
		}
	}
	for _, a := range avoid {
		if strings.Contains(text, a) {
			t.Errorf("%s: restore input mentions %q, which belongs to another family", what, a)
		}
	}
}

var (
	v4Addrs = []string{"10.96.0.10/32", "10.96.0.20/32", "10.244.1.10:8080", "10.244.1.20:8080"}
	v6Addrs = []string{"fd00:96::10/128", "fd00:96::30/128", "[fd00:244::10]:8080", "[fd00:244::30]:8080"}
)

func TestDualStackRoutesByFamily(t *testing.T) {
	p4, ipt4 := newProxier(t, utiliptables.ProtocolIPv4)
	p6, ipt6 := newProxier(t, utiliptables.ProtocolIPv6)
	m, err := New(ktesting.NewLogger(t, ktesting.NewConfig()), p4, p6)
	if err != nil {
		t.Fatal(err)
	}
	feed(t, m)

	v4, v6 := restored(ipt4), restored(ipt6)
	checkMentions(t, "iptables", v4, v4Addrs, append(slices.Clone(v6Addrs), "fd00:", "default/v6only", "backend.example.com"))
	checkMentions(t, "ip6tables", v6, v6Addrs, append(slices.Clone(v4Addrs), "10.96.", "10.244.", "default/v4only", "backend.example.com"))
	if got := m.Families(); !slices.Equal(got, []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}) {
		t.Errorf("Families() = %v, want [IPv4 IPv6]", got)
	}
	for _, p := range m.Proxiers() {
		if p.LastSuccess().IsZero() {
			t.Errorf("%s proxier has no successful sync", p.Family())
		}
	}
}

func TestSingleStack(t *testing.T) {
	tests := []struct {
		name         string
		protocol     utiliptables.Protocol
		want, avoid  []string
		otherService string
	}{
		{name: "IPv4 node", protocol: utiliptables.ProtocolIPv4, want: v4Addrs, avoid: v6Addrs, otherService: "default/v6only"},
		{name: "IPv6 node", protocol: utiliptables.ProtocolIPv6, want: v6Addrs, avoid: v4Addrs, otherService: "default/v4only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ipt := newProxier(t, tc.protocol)
			m, err := New(ktesting.NewLogger(t, ktesting.NewConfig()), p)
			if err != nil {
				t.Fatal(err)
			}
			// Slices of the other family have no proxier to go to.
			feed(t, m)
			checkMentions(t, string(tc.protocol), restored(ipt), tc.want, append(slices.Clone(tc.avoid), tc.otherService))
		})
	}
}

// recorder is a Proxier that records the calls it gets.
type recorder struct {
	family corev1.IPFamily

	mu    sync.Mutex
	calls []string
	// looping is closed when SyncLoop starts; stopped when it returns.
	looping, stopped chan struct{}
}

func newRecorder(f corev1.IPFamily) *recorder {
	return &recorder{family: f, looping: make(chan struct{}), stopped: make(chan struct{})}
}

func (r *recorder) record(call string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call)
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

func (r *recorder) Family() corev1.IPFamily { return r.family }
func (r *recorder) OnServiceUpdate(svc *corev1.Service) {
	r.record("OnServiceUpdate " + svc.Name)
}
func (r *recorder) OnServiceDelete(svc *corev1.Service) {
	r.record("OnServiceDelete " + svc.Name)
}
func (r *recorder) OnServicesSynced() { r.record("OnServicesSynced") }
func (r *recorder) OnEndpointSliceUpdate(s *discoveryv1.EndpointSlice) {
	r.record("OnEndpointSliceUpdate " + s.Name)
}
func (r *recorder) OnEndpointSliceDelete(s *discoveryv1.EndpointSlice) {
	r.record("OnEndpointSliceDelete " + s.Name)
}
func (r *recorder) OnEndpointSlicesSynced()     { r.record("OnEndpointSlicesSynced") }
func (r *recorder) OnNodeUpdate(n *corev1.Node) { r.record("OnNodeUpdate " + n.Name) }
func (r *recorder) OnNodeSynced()               { r.record("OnNodeSynced") }
func (r *recorder) Sync(context.Context) error  { r.record("Sync"); return nil }
func (r *recorder) LastSuccess() time.Time      { return time.Time{} }
func (r *recorder) Pending() int                { return 0 }
func (r *recorder) SyncLoop(ctx context.Context, _ time.Duration) {
	close(r.looping)
	<-ctx.Done()
	close(r.stopped)
}

func TestEventRouting(t *testing.T) {
	svc := service("web", "10.96.0.1", "fd00::1")
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}}
	v4 := slice("web", discoveryv1.AddressTypeIPv4, "10.0.0.1")
	v6 := slice("web", discoveryv1.AddressTypeIPv6, "fd00::a")
	fqdn := slice("web", discoveryv1.AddressTypeFQDN, "a.example.com")

	tests := []struct {
		name       string
		event      func(m *MetaProxier)
		wantV4     []string
		wantV6     []string
		wantV6Only []string // on a node serving IPv6 only
	}{
		{name: "service update", event: func(m *MetaProxier) { m.OnServiceUpdate(svc) },
			wantV4: []string{"OnServiceUpdate web"}, wantV6: []string{"OnServiceUpdate web"}, wantV6Only: []string{"OnServiceUpdate web"}},
		{name: "service delete", event: func(m *MetaProxier) { m.OnServiceDelete(svc) },
			wantV4: []string{"OnServiceDelete web"}, wantV6: []string{"OnServiceDelete web"}, wantV6Only: []string{"OnServiceDelete web"}},
		{name: "services synced", event: func(m *MetaProxier) { m.OnServicesSynced() },
			wantV4: []string{"OnServicesSynced"}, wantV6: []string{"OnServicesSynced"}, wantV6Only: []string{"OnServicesSynced"}},
		{name: "IPv4 slice update", event: func(m *MetaProxier) { m.OnEndpointSliceUpdate(v4) },
			wantV4: []string{"OnEndpointSliceUpdate web-ipv4"}},
		{name: "IPv4 slice delete", event: func(m *MetaProxier) { m.OnEndpointSliceDelete(v4) },
			wantV4: []string{"OnEndpointSliceDelete web-ipv4"}},
		{name: "IPv6 slice update", event: func(m *MetaProxier) { m.OnEndpointSliceUpdate(v6) },
			wantV6: []string{"OnEndpointSliceUpdate web-ipv6"}, wantV6Only: []string{"OnEndpointSliceUpdate web-ipv6"}},
		{name: "IPv6 slice delete", event: func(m *MetaProxier) { m.OnEndpointSliceDelete(v6) },
			wantV6: []string{"OnEndpointSliceDelete web-ipv6"}, wantV6Only: []string{"OnEndpointSliceDelete web-ipv6"}},
		{name: "FQDN slice update", event: func(m *MetaProxier) { m.OnEndpointSliceUpdate(fqdn) }},
		{name: "FQDN slice delete", event: func(m *MetaProxier) { m.OnEndpointSliceDelete(fqdn) }},
		{name: "slices synced", event: func(m *MetaProxier) { m.OnEndpointSlicesSynced() },
			wantV4: []string{"OnEndpointSlicesSynced"}, wantV6: []string{"OnEndpointSlicesSynced"}, wantV6Only: []string{"OnEndpointSlicesSynced"}},
		{name: "node update", event: func(m *MetaProxier) { m.OnNodeUpdate(node) },
			wantV4: []string{"OnNodeUpdate node-a"}, wantV6: []string{"OnNodeUpdate node-a"}, wantV6Only: []string{"OnNodeUpdate node-a"}},
		{name: "node synced", event: func(m *MetaProxier) { m.OnNodeSynced() },
			wantV4: []string{"OnNodeSynced"}, wantV6: []string{"OnNodeSynced"}, wantV6Only: []string{"OnNodeSynced"}},
		{name: "sync", event: func(m *MetaProxier) { _ = m.Sync(context.Background()) },
			wantV4: []string{"Sync"}, wantV6: []string{"Sync"}, wantV6Only: []string{"Sync"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logger := ktesting.NewLogger(t, ktesting.NewConfig())
			r4, r6 := newRecorder(corev1.IPv4Protocol), newRecorder(corev1.IPv6Protocol)
			dual, err := New(logger, r4, r6)
			if err != nil {
				t.Fatal(err)
			}
			tc.event(dual)
			if got := r4.take(); !slices.Equal(got, tc.wantV4) {
				t.Errorf("dual-stack node, IPv4 proxier got %q, want %q", got, tc.wantV4)
			}
			if got := r6.take(); !slices.Equal(got, tc.wantV6) {
				t.Errorf("dual-stack node, IPv6 proxier got %q, want %q", got, tc.wantV6)
			}

			only6 := newRecorder(corev1.IPv6Protocol)
			single, err := New(logger, only6)
			if err != nil {
				t.Fatal(err)
			}
			tc.event(single)
			if got := only6.take(); !slices.Equal(got, tc.wantV6Only) {
				t.Errorf("IPv6-only node got %q, want %q", got, tc.wantV6Only)
			}
		})
	}
}

func TestSyncLoopRunsEveryFamilyUntilCancelled(t *testing.T) {
	r4, r6 := newRecorder(corev1.IPv4Protocol), newRecorder(corev1.IPv6Protocol)
	m, err := New(ktesting.NewLogger(t, ktesting.NewConfig()), r4, r6)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		m.SyncLoop(ctx, time.Second)
		close(done)
	}()
	for _, r := range []*recorder{r4, r6} {
		select {
		case <-r.looping:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s sync loop did not start", r.family)
		}
	}
	select {
	case <-done:
		t.Fatal("SyncLoop returned before its context was cancelled")
	default:
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("SyncLoop did not return after its context was cancelled")
	}
	for _, r := range []*recorder{r4, r6} {
		select {
		case <-r.stopped:
		default:
			t.Errorf("SyncLoop returned before the %s loop stopped", r.family)
		}
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name     string
		families []corev1.IPFamily
		wantErr  string
	}{
		{name: "none", wantErr: "at least one IP family"},
		{name: "IPv4", families: []corev1.IPFamily{corev1.IPv4Protocol}},
		{name: "IPv6 primary", families: []corev1.IPFamily{corev1.IPv6Protocol, corev1.IPv4Protocol}},
		{name: "twice IPv4", families: []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv4Protocol}, wantErr: "two proxiers for IPv4"},
		{name: "unknown family", families: []corev1.IPFamily{"IPv5"}, wantErr: `unknown IP family "IPv5"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ps []Proxier
			for _, f := range tc.families {
				ps = append(ps, newRecorder(f))
			}
			m, err := New(ktesting.NewLogger(t, ktesting.NewConfig()), ps...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New() error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Families(); !slices.Equal(got, tc.families) {
				t.Errorf("Families() = %v, want %v (primary first)", got, tc.families)
			}
		})
	}
}
