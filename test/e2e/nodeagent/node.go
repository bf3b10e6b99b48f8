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
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// NodeLeaseNamespace holds the Nodes' Leases.
const NodeLeaseNamespace = "kube-node-lease"

// nodeRegistration registers the Node and keeps it fresh, as kubelet does:
// the Lease is renewed every quarter of its duration (the node lifecycle
// controller watches it), the status written every status period.
type nodeRegistration struct {
	client kubernetes.Interface
	cfg    *Config
	// capacity is the node's resources; info its system information.
	capacity corev1.ResourceList
	info     corev1.NodeSystemInfo
	// uid is the Node's UID once registered, for the Lease's owner.
	uid types.UID
}

func newNodeRegistration(client kubernetes.Interface, cfg *Config) *nodeRegistration {
	return &nodeRegistration{client: client, cfg: cfg, capacity: nodeCapacity(cfg), info: nodeInfo()}
}

// nodeLabels are the labels the agent sets on its Node.
func nodeLabels(cfg *Config) map[string]string {
	labels := map[string]string{}
	for k, v := range cfg.NodeLabels {
		labels[k] = v
	}
	labels[corev1.LabelHostname] = cfg.NodeName
	labels[corev1.LabelOSStable] = "linux"
	labels[corev1.LabelArchStable] = runtime.GOARCH
	return labels
}

func podCIDRStrings(cidrs []netip.Prefix) []string {
	out := make([]string, len(cidrs))
	for i, c := range cidrs {
		out[i] = c.String()
	}
	return out
}

// register creates the Node, or brings an existing one in line (labels,
// pod CIDRs), then writes its status.
func (r *nodeRegistration) register(ctx context.Context) error {
	nodes := r.client.CoreV1().Nodes()
	cidrs := podCIDRStrings(r.cfg.PodCIDRs)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := nodes.Get(ctx, r.cfg.NodeName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			node = &corev1.Node{
				ObjectMeta: metav1.ObjectMeta{Name: r.cfg.NodeName, Labels: nodeLabels(r.cfg)},
				Spec:       corev1.NodeSpec{PodCIDR: cidrs[0], PodCIDRs: cidrs},
			}
			created, err := nodes.Create(ctx, node, metav1.CreateOptions{})
			if err != nil {
				return err
			}
			r.uid = created.UID
			klog.FromContext(ctx).Info("Registered the Node", "node", r.cfg.NodeName, "podCIDRs", cidrs)
			return nil
		}
		if err != nil {
			return err
		}
		if len(node.Spec.PodCIDRs) > 0 && !slices.Equal(node.Spec.PodCIDRs, cidrs) {
			return fmt.Errorf("the Node %s has pod CIDRs %v and the agent was given %v; they cannot change: delete the Node or fix --pod-cidrs",
				r.cfg.NodeName, node.Spec.PodCIDRs, cidrs)
		}
		changed := false
		if len(node.Spec.PodCIDRs) == 0 {
			node.Spec.PodCIDR, node.Spec.PodCIDRs = cidrs[0], cidrs
			changed = true
		}
		if node.Labels == nil {
			node.Labels = map[string]string{}
		}
		for k, v := range nodeLabels(r.cfg) {
			if node.Labels[k] != v {
				node.Labels[k] = v
				changed = true
			}
		}
		r.uid = node.UID
		if !changed {
			return nil
		}
		_, err = nodes.Update(ctx, node, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return err
	}
	return r.updateStatus(ctx)
}

// updateStatus writes the Node's status with a fresh heartbeat.
func (r *nodeRegistration) updateStatus(ctx context.Context) error {
	nodes := r.client.CoreV1().Nodes()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := nodes.Get(ctx, r.cfg.NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		node.Status = nodeStatus(node.Status, r.cfg, r.capacity, r.info, metav1.Now().Rfc3339Copy())
		_, err = nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{})
		return err
	})
}

// nodeStatus is the status the agent reports: both families' addresses,
// capacity, system information and healthy conditions whose heartbeat is
// now, keeping the transition time of a condition that did not change.
func nodeStatus(old corev1.NodeStatus, cfg *Config, capacity corev1.ResourceList, info corev1.NodeSystemInfo, now metav1.Time) corev1.NodeStatus {
	s := *old.DeepCopy()
	s.Addresses = nil
	for _, ip := range cfg.NodeIPs {
		s.Addresses = append(s.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip.String()})
	}
	s.Addresses = append(s.Addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: cfg.NodeName})
	s.Capacity = capacity.DeepCopy()
	s.Allocatable = capacity.DeepCopy()
	s.NodeInfo = info
	s.Phase = ""
	s.DaemonEndpoints = corev1.NodeDaemonEndpoints{}
	for _, want := range []struct {
		t       corev1.NodeConditionType
		status  corev1.ConditionStatus
		reason  string
		message string
	}{
		{corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "the signet node agent is posting ready status"},
		{corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "the node agent does not track memory"},
		{corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "the node agent does not track disk"},
		{corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "the node agent does not track processes"},
		{corev1.NodeNetworkUnavailable, corev1.ConditionFalse, "NodeAgentNetworkReady", "the pods' bridge and routes are set up"},
	} {
		cond := corev1.NodeCondition{
			Type: want.t, Status: want.status, Reason: want.reason, Message: want.message,
			LastHeartbeatTime: now, LastTransitionTime: now,
		}
		found := false
		for i := range s.Conditions {
			if s.Conditions[i].Type != want.t {
				continue
			}
			if s.Conditions[i].Status == want.status {
				cond.LastTransitionTime = s.Conditions[i].LastTransitionTime
			}
			s.Conditions[i] = cond
			found = true
		}
		if !found {
			s.Conditions = append(s.Conditions, cond)
		}
	}
	return s
}

// renewLease creates or renews the Node's Lease.
func (r *nodeRegistration) renewLease(ctx context.Context) error {
	leases := r.client.CoordinationV1().Leases(NodeLeaseNamespace)
	now := metav1.NewMicroTime(time.Now())
	duration := int32(r.cfg.LeaseDuration / time.Second)
	lease, err := leases.Get(ctx, r.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		lease = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: r.cfg.NodeName, Namespace: NodeLeaseNamespace},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       ptr.To(r.cfg.NodeName),
				LeaseDurationSeconds: ptr.To(duration),
				RenewTime:            &now,
			},
		}
		if r.uid != "" {
			lease.OwnerReferences = []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Node", Name: r.cfg.NodeName, UID: r.uid,
			}}
		}
		_, err = leases.Create(ctx, lease, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	lease.Spec.HolderIdentity = ptr.To(r.cfg.NodeName)
	lease.Spec.LeaseDurationSeconds = ptr.To(duration)
	lease.Spec.RenewTime = &now
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

// run keeps the Node fresh until ctx ends.
func (r *nodeRegistration) run(ctx context.Context) {
	logger := klog.FromContext(ctx)
	renew := time.NewTicker(r.cfg.LeaseDuration / 4)
	defer renew.Stop()
	status := time.NewTicker(r.cfg.NodeStatusUpdatePeriod)
	defer status.Stop()
	if err := r.renewLease(ctx); err != nil {
		logger.Error(err, "Renewing the node Lease")
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-renew.C:
			if err := r.renewLease(ctx); err != nil && ctx.Err() == nil {
				logger.Error(err, "Renewing the node Lease")
			}
		case <-status.C:
			if err := r.updateStatus(ctx); err != nil && ctx.Err() == nil {
				logger.Error(err, "Updating the Node status")
			}
		}
	}
}

// nodeCapacity is what the Node offers: the machine's CPUs and memory
// (every node of the local cluster shares them) and the pods it can hold.
func nodeCapacity(cfg *Config) corev1.ResourceList {
	pods := cfg.MaxPods
	for _, c := range cfg.PodCIDRs {
		if a, err := NewAllocator(c); err == nil && a.Size() < pods {
			pods = a.Size()
		}
	}
	return corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(memTotal(), resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(int64(pods), resource.DecimalSI),
	}
}

// memTotal is the machine's memory in bytes, from /proc/meminfo.
func memTotal() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// nodeInfo describes the node; the version is the pinned Kubernetes API's,
// so that kubectl shows which release the node agent stands in for.
func nodeInfo() corev1.NodeSystemInfo {
	version := "v0.0.0"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "k8s.io/api" && strings.HasPrefix(d.Version, "v0.") {
				version = "v1." + strings.TrimPrefix(d.Version, "v0.")
			}
		}
	}
	kernel := ""
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(data))
	}
	osImage := "Linux"
	if data, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				osImage = strings.Trim(v, `"`)
			}
		}
	}
	return corev1.NodeSystemInfo{
		KernelVersion:           kernel,
		OSImage:                 osImage,
		ContainerRuntimeVersion: "nodeagent://" + version,
		KubeletVersion:          version + "-nodeagent",
		OperatingSystem:         "linux",
		Architecture:            runtime.GOARCH,
	}
}
