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
	"errors"
	"fmt"

	"k8s.io/klog/v2"
)

// Cleanup removes everything an agent created for cfg.NodeName, as
// recorded in cfg.StateDir or named after the node: the pods' processes,
// namespaces, veths and /etc/netns files, the hostPort rules of both
// families, the bridge if the agent created it, and the records (the
// containers' logs stay). It does not talk to the API server. Run it in
// the node's network namespace, with the agent stopped.
func Cleanup(ctx context.Context, cfg *Config) error {
	logger := klog.FromContext(ctx)
	if err := checkMountNamespace(); err != nil {
		return err
	}
	s, err := openStore(cfg.StateDir)
	if err != nil {
		return err
	}
	var errs []error
	agentRec, err := s.LoadAgent()
	if err != nil {
		errs = append(errs, err)
	}
	if agentRec.Node != "" && agentRec.Node != cfg.NodeName {
		return fmt.Errorf("--state-dir %s belongs to node %s, not %s", cfg.StateDir, agentRec.Node, cfg.NodeName)
	}
	bridge := cfg.Bridge
	if agentRec.Bridge != "" {
		bridge = agentRec.Bridge
	}
	n := newNodeNetwork(cfg.NodeName, bridge, nil)
	recs, err := s.LoadPods()
	if err != nil {
		errs = append(errs, err)
	}
	for _, rec := range recs {
		if err := n.teardownPod(rec); err != nil {
			errs = append(errs, fmt.Errorf("pod %s: %w", rec.Key(), err))
		}
		if err := s.DeletePod(rec); err != nil {
			errs = append(errs, err)
		}
	}
	leftovers := removeLeftovers(ctx, cfg.NodeName, n, nil, nil)
	hp := newHostPorts()
	if err := hp.Cleanup(ctx); err != nil {
		errs = append(errs, fmt.Errorf("hostPort rules: %w", err))
	}
	if agentRec.BridgeCreated {
		if err := n.deleteBridge(); err != nil {
			errs = append(errs, fmt.Errorf("bridge %s: %w", bridge, err))
		}
	}
	if err := s.RemoveAgent(); err != nil {
		errs = append(errs, err)
	}
	logger.Info("Cleaned up", "node", cfg.NodeName, "pods", len(recs), "leftovers", leftovers, "bridgeRemoved", agentRec.BridgeCreated)
	return errors.Join(errs...)
}
