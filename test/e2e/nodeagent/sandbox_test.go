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
	"os"
	"os/exec"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
)

func testAgent() *Agent {
	cfg := testConfig()
	cfg.RestartBackoff, cfg.MaxRestartBackoff = time.Second, 30*time.Second
	return &Agent{
		cfg:     cfg,
		metrics: newMetrics(),
		queue:   workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
	}
}

func testSandbox(policy corev1.RestartPolicy) (*sandbox, *container) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "u1"},
		Spec:       corev1.PodSpec{RestartPolicy: policy, Containers: []corev1.Container{{Name: "serve", Image: "signet.dev/testd"}}},
	}
	sb := newSandbox(pod, &PodRecord{Namespace: "shop", Name: "web", UID: "u1"})
	sb.netReady = true
	return sb, sb.containers[0]
}

// run pretends the container ran for ran and ended with code, and hands
// the exit to the agent.
func run(a *Agent, sb *sandbox, c *container, code int32, ran time.Duration) {
	now := time.Now()
	p := &process{cmd: &exec.Cmd{Process: &os.Process{Pid: 4242}}, started: now.Add(-ran), finished: now, exitCode: code, done: make(chan struct{})}
	close(p.done)
	sb.mu.Lock()
	c.proc, c.everStarted, c.stopProbes = p, true, func() {}
	sb.mu.Unlock()
	a.containerExited(sb, c, p)
}

func TestContainerExit(t *testing.T) {
	t.Run("Always restarts at once, then backs off, and a long run resets the back-off", func(t *testing.T) {
		a := testAgent()
		sb, c := testSandbox(corev1.RestartPolicyAlways)
		run(a, sb, c, 0, time.Second)
		if c.final != nil || c.lastTerm == nil || c.lastTerm.Reason != "Completed" || c.waitingReason != reasonContainerCreating || time.Until(c.nextStart) > 0 {
			t.Errorf("after the first exit: final %v, last %+v, waiting %q, next start in %v", c.final, c.lastTerm, c.waitingReason, time.Until(c.nextStart))
		}
		if a.queue.Len() != 1 {
			t.Errorf("the pod was not queued for a sync")
		}
		run(a, sb, c, 2, time.Second)
		if c.waitingReason != reasonCrashLoopBackOff || c.lastTerm.ExitCode != 2 || c.lastTerm.Reason != "Error" {
			t.Errorf("after the second exit: waiting %q, last %+v", c.waitingReason, c.lastTerm)
		}
		if d := time.Until(c.nextStart); d < 500*time.Millisecond || d > time.Second {
			t.Errorf("the second restart waits %v, want 1s", d)
		}
		run(a, sb, c, 2, time.Second)
		if d := time.Until(c.nextStart); d < 1500*time.Millisecond || d > 2*time.Second {
			t.Errorf("the third restart waits %v, want 2s", d)
		}
		run(a, sb, c, 1, 2*time.Minute)
		if d := time.Until(c.nextStart); d > 0 || c.waitingReason != reasonContainerCreating {
			t.Errorf("after a long run the restart waits %v (%s)", d, c.waitingReason)
		}
		v := sb.view(nil)
		if v.Containers[0].State.Waiting == nil || v.Containers[0].LastState.Terminated == nil || v.Containers[0].LastState.Terminated.ExitCode != 1 {
			t.Errorf("view %+v", v.Containers[0])
		}
		if phase := podPhase(corev1.RestartPolicyAlways, v); phase != corev1.PodRunning {
			t.Errorf("a container about to restart leaves the pod %s, want Running", phase)
		}
	})
	for _, tc := range []struct {
		name       string
		policy     corev1.RestartPolicy
		code       int32
		terminate  bool
		wantPhase  corev1.PodPhase
		wantReason string
	}{
		{"Never: the end", corev1.RestartPolicyNever, 1, false, corev1.PodFailed, "Error"},
		{"OnFailure after success: the end", corev1.RestartPolicyOnFailure, 0, false, corev1.PodSucceeded, "Completed"},
		{"a terminating pod does not restart", corev1.RestartPolicyAlways, 143, true, corev1.PodRunning, "Error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := testAgent()
			sb, c := testSandbox(tc.policy)
			sb.terminating = tc.terminate
			run(a, sb, c, tc.code, time.Second)
			if c.final == nil || c.final.Reason != tc.wantReason || c.final.ExitCode != tc.code {
				t.Fatalf("final %+v", c.final)
			}
			v := sb.view(nil)
			if v.Containers[0].State.Terminated == nil {
				t.Errorf("state %+v, want terminated", v.Containers[0].State)
			}
			if !tc.terminate {
				if phase := podPhase(tc.policy, v); phase != tc.wantPhase {
					t.Errorf("phase %s, want %s", phase, tc.wantPhase)
				}
			}
		})
	}
	t.Run("an exit of an older run is ignored", func(t *testing.T) {
		a := testAgent()
		sb, c := testSandbox(corev1.RestartPolicyAlways)
		old := &process{cmd: &exec.Cmd{Process: &os.Process{Pid: 1}}, done: make(chan struct{})}
		a.containerExited(sb, c, old)
		if c.lastTerm != nil || a.queue.Len() != 0 {
			t.Errorf("a stale exit changed the container: %+v", c.lastTerm)
		}
	})
}

func TestAdoptStatuses(t *testing.T) {
	sb, c := testSandbox(corev1.RestartPolicyAlways)
	sb.adoptStatuses([]corev1.ContainerStatus{{
		Name: "serve", RestartCount: 4, ContainerID: "nodeagent://99",
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: t0}},
	}})
	if c.restartCount != 4 || !c.everStarted || c.lastTerm == nil || c.lastTerm.Reason != reasonAgentRestart || c.lastTerm.ContainerID != "nodeagent://99" {
		t.Errorf("adopted container %+v, last %+v", c, c.lastTerm)
	}
	fresh, fc := testSandbox(corev1.RestartPolicyAlways)
	fresh.adoptStatuses([]corev1.ContainerStatus{{Name: "serve",
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reasonContainerCreating}}}})
	if fc.everStarted || fc.restartCount != 0 {
		t.Errorf("a container that never ran counts as started: %+v", fc)
	}
}
