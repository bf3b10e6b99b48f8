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
	"os"
	"path/filepath"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/klog/v2"
)

// adopt takes on the pods a previous run of the agent left: a record
// whose Pod still exists, runs on this node and has not finished keeps
// its namespace and addresses (its containers, which died with the old
// agent, start again and count a restart); every other record is removed
// with its namespace. Namespaces, /etc/netns directories and bridge ports
// of this node that no record accounts for are removed too.
func (a *Agent) adopt(ctx context.Context) {
	logger := klog.FromContext(ctx)
	recs, err := a.store.LoadPods()
	if err != nil {
		logger.Error(err, "Reading pod records; the unreadable ones are skipped")
	}
	keepNetns, keepVeth := sets.New[string](), sets.New[string]()
	adopted := 0
	for _, rec := range recs {
		pod, err := a.pods.Pods(rec.Namespace).Get(rec.Name)
		if err != nil && !apierrors.IsNotFound(err) {
			logger.Error(err, "Looking up an adopted pod", "pod", rec.Key())
		}
		if err != nil || pod.UID != rec.UID || pod.Spec.NodeName != a.cfg.NodeName || isTerminal(pod.Status.Phase) {
			logger.Info("Removing the sandbox of a pod that is gone or finished", "pod", rec.Key(), "uid", rec.UID, "netns", rec.Netns)
			a.removeRecord(ctx, rec)
			continue
		}
		if err := a.reserveIPs(rec); err != nil {
			logger.Error(err, "Cannot keep the pod's addresses; removing its sandbox", "pod", rec.Key())
			a.removeRecord(ctx, rec)
			continue
		}
		if rec.Netns != "" {
			if n, err := killNetnsProcesses(rec.Netns); err != nil || n > 0 {
				logger.V(2).Info("Killed what the previous run left in the pod", "pod", rec.Key(), "processes", n, "err", err)
			}
			keepNetns.Insert(rec.Netns)
			keepVeth.Insert(rec.HostVeth)
		}
		sb := newSandbox(pod, rec)
		sb.adoptStatuses(pod.Status.ContainerStatuses)
		sb.annotated = sb.host || pod.Annotations[NetnsAnnotation] == rec.Netns
		sb.netReady = sb.host
		a.mu.Lock()
		a.sandboxes[pod.UID] = sb
		a.mu.Unlock()
		a.enqueue(sb.key)
		adopted++
	}
	a.mu.Lock()
	a.metrics.sandboxes.Set(float64(len(a.sandboxes)))
	a.mu.Unlock()
	removed := removeLeftovers(ctx, a.cfg.NodeName, a.net, keepNetns, keepVeth)
	logger.Info("Adopted the pods of the previous run", "adopted", adopted, "records", len(recs), "leftoversRemoved", removed)
}

// removeRecord removes a record's sandbox and the record.
func (a *Agent) removeRecord(ctx context.Context, rec *PodRecord) {
	if err := a.net.teardownPod(rec); err != nil {
		klog.FromContext(ctx).Error(err, "Removing a pod's network", "pod", rec.Key())
	}
	if err := a.store.DeletePod(rec); err != nil {
		klog.FromContext(ctx).Error(err, "Removing a pod's record", "pod", rec.Key())
	}
}

// removeLeftovers removes this node's pod namespaces, /etc/netns
// directories and bridge ports that are not kept; it returns how many.
func removeLeftovers(ctx context.Context, node string, n *nodeNetwork, keepNetns, keepVeth sets.Set[string]) int {
	logger := klog.FromContext(ctx)
	removed := 0
	prefix := NetnsPrefix(node)
	names, err := listNetns(prefix)
	if err != nil {
		logger.Error(err, "Listing network namespaces")
	}
	for _, name := range names {
		if keepNetns.Has(name) {
			continue
		}
		if err := n.teardownPod(&PodRecord{Netns: name}); err != nil {
			logger.Error(err, "Removing a leftover pod namespace", "netns", name)
		}
		removed++
	}
	dirs, err := listNetnsEtc(prefix)
	if err != nil {
		logger.Error(err, "Listing "+netnsEtcDir)
	}
	for _, d := range dirs {
		if !keepNetns.Has(d) {
			if err := os.RemoveAll(filepath.Join(netnsEtcDir, d)); err != nil {
				logger.Error(err, "Removing a leftover directory", "dir", d)
			}
		}
	}
	ports, err := n.bridgePorts()
	if err != nil {
		logger.Error(err, "Listing the bridge's ports")
	}
	for _, p := range ports {
		if keepVeth.Has(p) || !isAgentVeth(p) {
			continue
		}
		if err := deleteLink(p); err != nil {
			logger.Error(err, "Removing a leftover veth", "link", p)
		}
		removed++
	}
	return removed
}
