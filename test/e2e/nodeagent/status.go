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
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// containerView is what the agent knows of one container, for its status.
type containerView struct {
	Name, Image, ImageID, ContainerID string
	// State is Waiting (not started yet, or backing off before a
	// restart), Running, or Terminated (for good: no restart follows).
	State corev1.ContainerState
	// LastState is how the previous run ended.
	LastState    corev1.ContainerState
	Ready        bool
	Started      bool
	RestartCount int32
}

// podView is what the agent knows of one pod, for its status.
type podView struct {
	// IPs are the pod's addresses, primary family first.
	IPs []netip.Addr
	// HostIPs are the node's addresses, primary family first.
	HostIPs []netip.Addr
	// SandboxReady says the network namespace is set up.
	SandboxReady bool
	// Terminating says the pod is being stopped: nothing is ready.
	Terminating bool
	// StartTime is when the agent took the pod on.
	StartTime metav1.Time
	// Containers follow spec.containers.
	Containers []containerView
}

// podStatus computes a pod's status from what the agent knows, keeping
// what the agent does not own (conditions of other types, QoS class,
// nominated node...) and the transition times of conditions that did not
// change. All times must be whole seconds, as the API stores them, so
// that an unchanged status compares equal after a round trip.
func podStatus(pod *corev1.Pod, v podView, now metav1.Time) corev1.PodStatus {
	s := *pod.Status.DeepCopy()
	s.ObservedGeneration = pod.Generation
	s.HostIP, s.HostIPs = "", nil
	for _, ip := range v.HostIPs {
		s.HostIPs = append(s.HostIPs, corev1.HostIP{IP: ip.String()})
	}
	if len(s.HostIPs) > 0 {
		s.HostIP = s.HostIPs[0].IP
	}
	s.PodIP, s.PodIPs = "", nil
	for _, ip := range v.IPs {
		s.PodIPs = append(s.PodIPs, corev1.PodIP{IP: ip.String()})
	}
	if len(s.PodIPs) > 0 {
		s.PodIP = s.PodIPs[0].IP
	}
	if s.StartTime == nil && !v.StartTime.IsZero() {
		t := v.StartTime
		s.StartTime = &t
	}

	s.ContainerStatuses = make([]corev1.ContainerStatus, 0, len(v.Containers))
	var unready []string
	for _, c := range v.Containers {
		ready := c.Ready && c.State.Running != nil && !v.Terminating
		started := c.Started && c.State.Running != nil
		s.ContainerStatuses = append(s.ContainerStatuses, corev1.ContainerStatus{
			Name:                 c.Name,
			Image:                c.Image,
			ImageID:              c.ImageID,
			ContainerID:          c.ContainerID,
			State:                c.State,
			LastTerminationState: c.LastState,
			Ready:                ready,
			Started:              &started,
			RestartCount:         c.RestartCount,
		})
		if !ready {
			unready = append(unready, c.Name)
		}
	}
	if !isTerminal(pod.Status.Phase) {
		s.Phase = podPhase(pod.Spec.RestartPolicy, v)
	}

	conds := conditionSetter{pod: pod, now: now, status: &s}
	conds.set(corev1.PodReadyToStartContainers, v.SandboxReady, "", "")
	conds.set(corev1.PodInitialized, true, "", "")
	containersReady := len(unready) == 0 && len(v.Containers) > 0
	var reason, message string
	switch {
	case v.Terminating:
		reason, message = "PodTerminating", "the pod is being deleted"
	case !containersReady:
		reason, message = "ContainersNotReady", fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))
	}
	if isTerminal(s.Phase) {
		reason = "PodCompleted"
	}
	conds.set(corev1.ContainersReady, containersReady, reason, message)
	ready := containersReady
	if ready {
		if missing := unmetReadinessGates(pod); len(missing) > 0 {
			ready = false
			reason, message = "ReadinessGatesNotReady", fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist or is not True", missing[0])
		}
	}
	conds.set(corev1.PodReady, ready, reason, message)
	return s
}

func isTerminal(p corev1.PodPhase) bool { return p == corev1.PodSucceeded || p == corev1.PodFailed }

// podPhase follows kubelet: Pending while a container has never run,
// Running while any runs or is about to run again, and Succeeded or
// Failed once every container has ended for good.
func podPhase(policy corev1.RestartPolicy, v podView) corev1.PodPhase {
	if !v.SandboxReady || len(v.Containers) == 0 {
		return corev1.PodPending
	}
	var waiting, running, restarting, succeeded, failed int
	for _, c := range v.Containers {
		switch {
		case c.State.Running != nil:
			running++
		case c.State.Terminated != nil:
			if c.State.Terminated.ExitCode == 0 {
				succeeded++
			} else {
				failed++
			}
		case c.LastState.Terminated != nil:
			restarting++
		default:
			waiting++
		}
	}
	switch {
	case waiting > 0:
		return corev1.PodPending
	case running > 0 || restarting > 0:
		return corev1.PodRunning
	case failed > 0 && policy != corev1.RestartPolicyAlways:
		return corev1.PodFailed
	case succeeded == len(v.Containers) && policy != corev1.RestartPolicyAlways:
		return corev1.PodSucceeded
	}
	return corev1.PodRunning
}

// unmetReadinessGates lists the readiness gates whose condition is not True.
func unmetReadinessGates(pod *corev1.Pod) []string {
	var out []string
	for _, g := range pod.Spec.ReadinessGates {
		met := false
		for _, c := range pod.Status.Conditions {
			if c.Type == g.ConditionType && c.Status == corev1.ConditionTrue {
				met = true
			}
		}
		if !met {
			out = append(out, string(g.ConditionType))
		}
	}
	return out
}

// conditionSetter sets conditions, keeping a condition's transition time
// while its status stays the same.
type conditionSetter struct {
	pod    *corev1.Pod
	now    metav1.Time
	status *corev1.PodStatus
}

func (c conditionSetter) set(t corev1.PodConditionType, ok bool, reason, message string) {
	status := corev1.ConditionFalse
	if ok {
		status = corev1.ConditionTrue
		reason, message = "", ""
	}
	cond := corev1.PodCondition{
		Type:               t,
		Status:             status,
		Reason:             reason,
		Message:            message,
		LastTransitionTime: c.now,
		ObservedGeneration: c.pod.Generation,
	}
	for i := range c.status.Conditions {
		old := &c.status.Conditions[i]
		if old.Type != t {
			continue
		}
		if old.Status == status {
			cond.LastTransitionTime = old.LastTransitionTime
			cond.LastProbeTime = old.LastProbeTime
		}
		*old = cond
		return
	}
	c.status.Conditions = append(c.status.Conditions, cond)
}
