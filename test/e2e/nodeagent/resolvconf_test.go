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
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestPodResolvConf(t *testing.T) {
	dns := DNSSettings{
		ClusterDNS:    []netip.Addr{netip.MustParseAddr("169.254.20.10"), netip.MustParseAddr("fd00::10")},
		ClusterDomain: "cluster.local",
	}
	host := []byte("# the machine's\nnameserver 192.0.2.53\nsearch corp.example\noptions edns0 timeout:2\n")
	pod := func(mutate func(*corev1.Pod)) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}}
		if mutate != nil {
			mutate(p)
		}
		return p
	}
	const header = "# Written by the signet node agent for this pod.\n"
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		dns  DNSSettings
		want string
	}{
		{
			name: "ClusterFirst by default: node-cache, the namespace's search path, ndots:5",
			pod:  pod(nil),
			dns:  dns,
			want: header + "nameserver 169.254.20.10\nnameserver fd00::10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n",
		},
		{
			name: "Default copies the node's file",
			pod:  pod(func(p *corev1.Pod) { p.Spec.DNSPolicy = corev1.DNSDefault }),
			dns:  dns,
			want: header + "nameserver 192.0.2.53\nsearch corp.example\noptions edns0 timeout:2\n",
		},
		{
			name: "ClusterFirst on the host network means Default",
			pod:  pod(func(p *corev1.Pod) { p.Spec.HostNetwork = true }),
			dns:  dns,
			want: header + "nameserver 192.0.2.53\nsearch corp.example\noptions edns0 timeout:2\n",
		},
		{
			name: "ClusterFirstWithHostNet",
			pod: pod(func(p *corev1.Pod) {
				p.Spec.HostNetwork, p.Spec.DNSPolicy = true, corev1.DNSClusterFirstWithHostNet
			}),
			dns:  dns,
			want: header + "nameserver 169.254.20.10\nnameserver fd00::10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n",
		},
		{
			name: "ClusterFirst without cluster DNS falls back to Default",
			pod:  pod(nil),
			dns:  DNSSettings{ClusterDomain: "cluster.local"},
			want: header + "nameserver 192.0.2.53\nsearch corp.example\noptions edns0 timeout:2\n",
		},
		{
			name: "dnsConfig adds nameservers and searches and overrides options",
			pod: pod(func(p *corev1.Pod) {
				p.Spec.DNSConfig = &corev1.PodDNSConfig{
					Nameservers: []string{"10.0.0.53", "169.254.20.10"},
					Searches:    []string{"extra.example"},
					Options:     []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr.To("2")}, {Name: "single-request"}},
				}
			}),
			dns: dns,
			want: header + "nameserver 169.254.20.10\nnameserver fd00::10\nnameserver 10.0.0.53\n" +
				"search shop.svc.cluster.local svc.cluster.local cluster.local extra.example\noptions ndots:2 single-request\n",
		},
		{
			name: "None takes dnsConfig only",
			pod: pod(func(p *corev1.Pod) {
				p.Spec.DNSPolicy = corev1.DNSNone
				p.Spec.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1"}}
			}),
			dns:  dns,
			want: header + "nameserver 1.1.1.1\n",
		},
		{
			name: "at most three nameservers, as the C library reads",
			pod: pod(func(p *corev1.Pod) {
				p.Spec.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"10.0.0.1", "10.0.0.2"}}
			}),
			dns:  dns,
			want: header + "nameserver 169.254.20.10\nnameserver fd00::10\nnameserver 10.0.0.1\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := podResolvConf(tc.pod, tc.dns, host).String(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestParseResolvConf(t *testing.T) {
	rc := parseResolvConf([]byte("domain a.example\n; comment\nnameserver 10.0.0.1\nsearch b.example c.example\nnameserver fd00::1\noptions ndots:3\noptions ndots:1 rotate\nnameserver\n"))
	if got := rc.String(); got != "# Written by the signet node agent for this pod.\nnameserver 10.0.0.1\nnameserver fd00::1\nsearch b.example c.example\noptions ndots:1 rotate\n" {
		t.Errorf("got\n%s", got)
	}
}

func TestPodHosts(t *testing.T) {
	ips := []netip.Addr{netip.MustParseAddr("10.244.1.5"), netip.MustParseAddr("fd00:244:1::5")}
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "db-0", Namespace: "shop"}}
	want := "# Written by the signet node agent for this pod.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"10.244.1.5\tdb-0\nfd00:244:1::5\tdb-0\n"
	if got := podHosts(p, ips, "cluster.local"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	p.Spec.Hostname, p.Spec.Subdomain = "primary", "db"
	p.Spec.HostAliases = []corev1.HostAlias{{IP: "192.0.2.1", Hostnames: []string{"a.example", "b.example"}}}
	want = "# Written by the signet node agent for this pod.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"10.244.1.5\tprimary.db.shop.svc.cluster.local\tprimary\nfd00:244:1::5\tprimary.db.shop.svc.cluster.local\tprimary\n" +
		"192.0.2.1\ta.example\tb.example\n"
	if got := podHosts(p, ips, "cluster.local"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
