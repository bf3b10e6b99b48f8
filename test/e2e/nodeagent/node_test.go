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
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func testConfig() *Config {
	return &Config{
		NodeName:               "node-1",
		NodeIPs:                []netip.Addr{netip.MustParseAddr("10.100.0.11"), netip.MustParseAddr("fd00:100::11")},
		PodCIDRs:               []netip.Prefix{netip.MustParsePrefix("10.244.1.0/24"), netip.MustParsePrefix("fd00:244:1::/64")},
		NodeLabels:             map[string]string{"topology.kubernetes.io/zone": "zone-a"},
		MaxPods:                500,
		LeaseDuration:          40 * time.Second,
		NodeStatusUpdatePeriod: time.Minute,
	}
}

func TestNodeStatus(t *testing.T) {
	cfg := testConfig()
	capacity := nodeCapacity(cfg)
	if capacity.Pods().Value() != 253 {
		t.Errorf("pod capacity %v: want it capped by the /24's 253 addresses", capacity.Pods())
	}
	s := nodeStatus(corev1.NodeStatus{}, cfg, capacity, nodeInfo(), t0)
	var addrs []string
	for _, a := range s.Addresses {
		addrs = append(addrs, string(a.Type)+"="+a.Address)
	}
	if strings.Join(addrs, " ") != "InternalIP=10.100.0.11 InternalIP=fd00:100::11 Hostname=node-1" {
		t.Errorf("addresses %v", addrs)
	}
	if !strings.HasPrefix(s.NodeInfo.KubeletVersion, "v") || !strings.HasSuffix(s.NodeInfo.KubeletVersion, "-nodeagent") || s.NodeInfo.OperatingSystem != "linux" {
		t.Errorf("node info %+v", s.NodeInfo)
	}
	ready := func(s corev1.NodeStatus) corev1.NodeCondition {
		for _, c := range s.Conditions {
			if c.Type == corev1.NodeReady {
				return c
			}
		}
		t.Fatal("no Ready condition")
		return corev1.NodeCondition{}
	}
	if c := ready(s); c.Status != corev1.ConditionTrue || !c.LastHeartbeatTime.Equal(&t0) {
		t.Errorf("Ready %+v", c)
	}
	// The next heartbeat moves lastHeartbeatTime, not lastTransitionTime.
	next := nodeStatus(s, cfg, capacity, nodeInfo(), t1)
	if c := ready(next); !c.LastHeartbeatTime.Equal(&t1) || !c.LastTransitionTime.Equal(&t0) {
		t.Errorf("after a heartbeat: %+v", c)
	}
	if len(next.Conditions) != len(s.Conditions) {
		t.Errorf("conditions duplicated: %v", next.Conditions)
	}
	// The node lifecycle controller marked it Unknown: Ready again is a
	// transition.
	unknown := next.DeepCopy()
	for i := range unknown.Conditions {
		if unknown.Conditions[i].Type == corev1.NodeReady {
			unknown.Conditions[i].Status = corev1.ConditionUnknown
		}
	}
	later := metav1.NewTime(t1.Add(time.Minute))
	if c := ready(nodeStatus(*unknown, cfg, capacity, nodeInfo(), later)); c.Status != corev1.ConditionTrue || !c.LastTransitionTime.Equal(&later) {
		t.Errorf("after Unknown: %+v", c)
	}
}

func TestNodeRegistration(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig()

	t.Run("creates the Node and its Lease", func(t *testing.T) {
		client := fake.NewSimpleClientset()
		r := newNodeRegistration(client, cfg)
		if err := r.register(ctx); err != nil {
			t.Fatal(err)
		}
		node, err := client.CoreV1().Nodes().Get(ctx, "node-1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(node.Spec.PodCIDRs, ",") != "10.244.1.0/24,fd00:244:1::/64" || node.Spec.PodCIDR != "10.244.1.0/24" {
			t.Errorf("pod CIDRs %v / %s", node.Spec.PodCIDRs, node.Spec.PodCIDR)
		}
		if node.Labels[corev1.LabelHostname] != "node-1" || node.Labels["topology.kubernetes.io/zone"] != "zone-a" || node.Labels[corev1.LabelOSStable] != "linux" {
			t.Errorf("labels %v", node.Labels)
		}
		if len(node.Status.Addresses) != 3 {
			t.Errorf("status not written: %+v", node.Status)
		}
		if err := r.renewLease(ctx); err != nil {
			t.Fatal(err)
		}
		lease, err := client.CoordinationV1().Leases(NodeLeaseNamespace).Get(ctx, "node-1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if *lease.Spec.HolderIdentity != "node-1" || *lease.Spec.LeaseDurationSeconds != 40 {
			t.Errorf("lease %+v", lease)
		}
		first := lease.Spec.RenewTime.Time
		time.Sleep(2 * time.Millisecond)
		if err := r.renewLease(ctx); err != nil {
			t.Fatal(err)
		}
		lease, _ = client.CoordinationV1().Leases(NodeLeaseNamespace).Get(ctx, "node-1", metav1.GetOptions{})
		if !lease.Spec.RenewTime.After(first) {
			t.Errorf("the lease was not renewed: %v then %v", first, lease.Spec.RenewTime)
		}
	})

	t.Run("adopts an existing Node, keeping labels it does not own", func(t *testing.T) {
		client := fake.NewSimpleClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1", UID: "node-uid",
			Labels: map[string]string{"team": "net", "topology.kubernetes.io/zone": "old"}}})
		r := newNodeRegistration(client, cfg)
		if err := r.register(ctx); err != nil {
			t.Fatal(err)
		}
		node, _ := client.CoreV1().Nodes().Get(ctx, "node-1", metav1.GetOptions{})
		if node.Labels["team"] != "net" || node.Labels["topology.kubernetes.io/zone"] != "zone-a" || len(node.Spec.PodCIDRs) != 2 {
			t.Errorf("node %+v", node.ObjectMeta.Labels)
		}
		// The Lease belongs to the Node, and goes with it.
		if err := r.renewLease(ctx); err != nil {
			t.Fatal(err)
		}
		lease, _ := client.CoordinationV1().Leases(NodeLeaseNamespace).Get(ctx, "node-1", metav1.GetOptions{})
		if len(lease.OwnerReferences) != 1 || lease.OwnerReferences[0].Kind != "Node" || lease.OwnerReferences[0].UID != "node-uid" {
			t.Errorf("lease owners %+v", lease.OwnerReferences)
		}
	})

	t.Run("refuses other pod CIDRs", func(t *testing.T) {
		client := fake.NewSimpleClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}, Spec: corev1.NodeSpec{PodCIDRs: []string{"10.244.9.0/24"}}})
		err := newNodeRegistration(client, cfg).register(ctx)
		if err == nil || !strings.Contains(err.Error(), "cannot change") {
			t.Errorf("error %v", err)
		}
	})
}
