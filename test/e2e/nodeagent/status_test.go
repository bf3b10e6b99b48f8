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
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

var (
	t0 = metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	t1 = metav1.NewTime(t0.Add(time.Minute))
)

func running(name string, ready bool) containerView {
	return containerView{Name: name, Image: "signet.dev/testd", ContainerID: "nodeagent://42",
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: t0}}, Ready: ready, Started: true}
}

func exited(name string, code int32) *corev1.ContainerStateTerminated {
	return &corev1.ContainerStateTerminated{ExitCode: code, StartedAt: t0, FinishedAt: t1, ContainerID: "nodeagent://42"}
}

func TestPodPhase(t *testing.T) {
	waiting := containerView{Name: "c", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reasonContainerCreating}}}
	backingOff := containerView{Name: "c", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reasonCrashLoopBackOff}},
		LastState: corev1.ContainerState{Terminated: exited("c", 1)}}
	done := func(code int32) containerView {
		return containerView{Name: "c", State: corev1.ContainerState{Terminated: exited("c", code)}}
	}
	for _, tc := range []struct {
		name       string
		policy     corev1.RestartPolicy
		sandbox    bool
		containers []containerView
		want       corev1.PodPhase
	}{
		{"no sandbox yet", corev1.RestartPolicyAlways, false, []containerView{waiting}, corev1.PodPending},
		{"not started yet", corev1.RestartPolicyAlways, true, []containerView{waiting}, corev1.PodPending},
		{"one runs, one not yet", corev1.RestartPolicyAlways, true, []containerView{running("a", true), waiting}, corev1.PodPending},
		{"running", corev1.RestartPolicyAlways, true, []containerView{running("a", false)}, corev1.PodRunning},
		{"backing off before a restart", corev1.RestartPolicyAlways, true, []containerView{backingOff}, corev1.PodRunning},
		{"all succeeded, Never", corev1.RestartPolicyNever, true, []containerView{done(0), done(0)}, corev1.PodSucceeded},
		{"one failed, Never", corev1.RestartPolicyNever, true, []containerView{done(0), done(2)}, corev1.PodFailed},
		{"succeeded, OnFailure", corev1.RestartPolicyOnFailure, true, []containerView{done(0)}, corev1.PodSucceeded},
		{"one still running, one done", corev1.RestartPolicyNever, true, []containerView{running("a", true), done(0)}, corev1.PodRunning},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := podPhase(tc.policy, podView{SandboxReady: tc.sandbox, Containers: tc.containers}); got != tc.want {
				t.Errorf("phase %s, want %s", got, tc.want)
			}
		})
	}
}

func TestPodStatus(t *testing.T) {
	ips := []netip.Addr{netip.MustParseAddr("10.244.1.5"), netip.MustParseAddr("fd00:244:1::5")}
	hostIPs := []netip.Addr{netip.MustParseAddr("10.100.0.11"), netip.MustParseAddr("fd00:100::11")}
	base := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Generation: 2},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "serve"}}},
		Status: corev1.PodStatus{
			QOSClass:   corev1.PodQOSBestEffort,
			Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: t0}},
		},
	}
	view := podView{IPs: ips, HostIPs: hostIPs, SandboxReady: true, StartTime: t0, Containers: []containerView{running("serve", true)}}

	got := podStatus(base, view, t1)
	want := corev1.PodStatus{
		ObservedGeneration: 2,
		Phase:              corev1.PodRunning,
		QOSClass:           corev1.PodQOSBestEffort,
		HostIP:             "10.100.0.11",
		HostIPs:            []corev1.HostIP{{IP: "10.100.0.11"}, {IP: "fd00:100::11"}},
		PodIP:              "10.244.1.5",
		PodIPs:             []corev1.PodIP{{IP: "10.244.1.5"}, {IP: "fd00:244:1::5"}},
		StartTime:          &t0,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: t0},
			{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue, LastTransitionTime: t1, ObservedGeneration: 2},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: t1, ObservedGeneration: 2},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: t1, ObservedGeneration: 2},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: t1, ObservedGeneration: 2},
		},
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: "serve", Image: "signet.dev/testd", ContainerID: "nodeagent://42", Ready: true, Started: ptr.To(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: t0}},
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("status (-want +got):\n%s", diff)
	}

	t.Run("an unchanged status is equal, transition times kept", func(t *testing.T) {
		again := base.DeepCopy()
		again.Status = got
		later := metav1.NewTime(t1.Add(time.Hour))
		if next := podStatus(again, view, later); !apiequality.Semantic.DeepEqual(next, got) {
			t.Errorf("recomputing an unchanged status changed it:\n%s", cmp.Diff(got, next))
		}
	})

	t.Run("terminating: nothing is ready, the transition is now", func(t *testing.T) {
		cur := base.DeepCopy()
		cur.Status = got
		v := view
		v.Terminating = true
		later := metav1.NewTime(t1.Add(time.Hour))
		s := podStatus(cur, v, later)
		if s.ContainerStatuses[0].Ready {
			t.Error("a terminating pod's container is ready")
		}
		for _, c := range s.Conditions {
			switch c.Type {
			case corev1.PodReady, corev1.ContainersReady:
				if c.Status != corev1.ConditionFalse || c.Reason != "PodTerminating" || !c.LastTransitionTime.Equal(&later) {
					t.Errorf("%s: %+v", c.Type, c)
				}
			case corev1.PodReadyToStartContainers:
				if !c.LastTransitionTime.Equal(&t1) {
					t.Errorf("%s changed its transition time without changing", c.Type)
				}
			}
		}
	})

	t.Run("unready container", func(t *testing.T) {
		v := view
		v.Containers = []containerView{running("serve", false)}
		s := podStatus(base, v, t1)
		for _, c := range s.Conditions {
			if c.Type == corev1.PodReady && (c.Status != corev1.ConditionFalse || c.Message != "containers with unready status: [serve]") {
				t.Errorf("Ready: %+v", c)
			}
		}
	})

	t.Run("readiness gates", func(t *testing.T) {
		p := base.DeepCopy()
		p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/lb"}}
		s := podStatus(p, view, t1)
		if podConditionStatus(s, corev1.PodReady) != corev1.ConditionFalse || podConditionStatus(s, corev1.ContainersReady) != corev1.ConditionTrue {
			t.Errorf("an unmet gate: %+v", s.Conditions)
		}
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: "example.com/lb", Status: corev1.ConditionTrue})
		if s := podStatus(p, view, t1); podConditionStatus(s, corev1.PodReady) != corev1.ConditionTrue {
			t.Errorf("a met gate: %+v", s.Conditions)
		}
	})

	t.Run("no sandbox yet: no addresses, Pending", func(t *testing.T) {
		v := podView{HostIPs: hostIPs, StartTime: t0, Containers: []containerView{{Name: "serve",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reasonContainerCreating}}}}}
		s := podStatus(base, v, t1)
		if s.Phase != corev1.PodPending || s.PodIP != "" || len(s.PodIPs) != 0 || podConditionStatus(s, corev1.PodReadyToStartContainers) != corev1.ConditionFalse {
			t.Errorf("status %+v", s)
		}
	})

	t.Run("a terminal phase stays", func(t *testing.T) {
		p := base.DeepCopy()
		p.Status.Phase = corev1.PodSucceeded
		if s := podStatus(p, view, t1); s.Phase != corev1.PodSucceeded {
			t.Errorf("phase went from Succeeded to %s", s.Phase)
		}
	})
}

func podConditionStatus(s corev1.PodStatus, t corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range s.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

func TestRestartRules(t *testing.T) {
	for _, tc := range []struct {
		policy corev1.RestartPolicy
		code   int32
		want   bool
	}{
		{corev1.RestartPolicyAlways, 0, true},
		{corev1.RestartPolicyAlways, 1, true},
		{"", 0, true},
		{corev1.RestartPolicyOnFailure, 0, false},
		{corev1.RestartPolicyOnFailure, 137, true},
		{corev1.RestartPolicyNever, 1, false},
	} {
		if got := shouldRestart(tc.policy, tc.code); got != tc.want {
			t.Errorf("shouldRestart(%q, %d) = %v", tc.policy, tc.code, got)
		}
	}
	var got []time.Duration
	b := time.Duration(0)
	for i := 0; i < 7; i++ {
		b = nextBackoff(b, time.Second, 30*time.Second)
		got = append(got, b)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("back-offs %v, want %v seconds", got, want)
		}
	}
	p := &corev1.Pod{}
	if gracePeriod(p) != 30*time.Second {
		t.Errorf("default grace %v", gracePeriod(p))
	}
	p.Spec.TerminationGracePeriodSeconds = ptr.To[int64](5)
	if gracePeriod(p) != 5*time.Second {
		t.Errorf("spec grace %v", gracePeriod(p))
	}
	p.DeletionGracePeriodSeconds = ptr.To[int64](0)
	if gracePeriod(p) != 0 {
		t.Errorf("deletion grace %v", gracePeriod(p))
	}
}
