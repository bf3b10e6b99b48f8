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
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// terminate stops a sandbox in the background: it marks the pod
// terminating (not ready), sends SIGTERM to its containers, waits up to
// the grace period, kills what is left, removes the network and records,
// and, when deleteObject is set, deletes the Pod object for good.
func (a *Agent) terminate(ctx context.Context, sb *sandbox, grace time.Duration, deleteObject bool) {
	sb.mu.Lock()
	if sb.terminating {
		sb.mu.Unlock()
		return
	}
	sb.terminating = true
	sb.cancel()
	pod := sb.pod
	sb.mu.Unlock()
	logger := klog.FromContext(ctx).WithValues("pod", sb.key, "uid", sb.uid)
	logger.V(2).Info("Terminating pod", "gracePeriod", grace)
	a.terminations.Add(1)
	go func() {
		defer a.terminations.Done()
		// Use a context of its own: a termination under way finishes even
		// when the agent is stopping.
		ctx := klog.NewContext(context.Background(), logger)
		if deleteObject {
			if cur, err := a.pods.Pods(pod.Namespace).Get(pod.Name); err == nil && cur.UID == sb.uid {
				wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				if err := a.writeStatus(wctx, cur, sb); err != nil {
					logger.V(2).Info("Could not mark the pod terminating", "err", err)
				}
				cancel()
			}
		}
		for _, c := range pod.Spec.Containers {
			a.event(pod, corev1.EventTypeNormal, "Killing", "Stopping container %s", c.Name)
		}
		sb.stopAll(grace)
		a.teardownSandbox(ctx, sb)
		if deleteObject {
			dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			if err := a.deletePod(dctx, pod); err != nil {
				logger.Error(err, "Deleting the pod")
			}
			cancel()
		}
		logger.V(2).Info("Pod terminated")
		a.enqueue(sb.key)
	}()
}

// deletePod removes the Pod object, as kubelet finishes a deletion once
// the pod's containers have stopped.
func (a *Agent) deletePod(ctx context.Context, pod *corev1.Pod) error {
	err := a.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// teardownSandbox removes a sandbox's network, addresses and record.
func (a *Agent) teardownSandbox(ctx context.Context, sb *sandbox) {
	logger := klog.FromContext(ctx)
	if err := a.net.teardownPod(sb.rec); err != nil {
		logger.Error(err, "Removing the pod's network", "pod", sb.key)
	}
	a.mu.Lock()
	delete(a.sandboxes, sb.uid)
	a.metrics.sandboxes.Set(float64(len(a.sandboxes)))
	a.mu.Unlock()
	if err := a.syncHostPorts(ctx); err != nil {
		logger.Error(err, "Writing the hostPort rules")
	}
	if err := a.store.DeletePod(sb.rec); err != nil {
		logger.Error(err, "Removing the pod's record", "pod", sb.key)
	}
	a.releaseIPs(sb.rec.IPs)
}

// stopAllContainers stops the containers of every sandbox, for the agent's
// exit.
func (a *Agent) stopAllContainers() {
	a.mu.Lock()
	sbs := make([]*sandbox, 0, len(a.sandboxes))
	for _, sb := range a.sandboxes {
		sbs = append(sbs, sb)
	}
	a.mu.Unlock()
	var wg sync.WaitGroup
	for _, sb := range sbs {
		sb.mu.Lock()
		sb.terminating = true // no restarts from here on
		sb.cancel()
		grace := min(gracePeriod(sb.pod), shutdownGrace)
		sb.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			sb.stopAll(grace)
		}()
	}
	wg.Wait()
}
