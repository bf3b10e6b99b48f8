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
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
)

// Waiting reasons, as kubelet reports them.
const (
	reasonContainerCreating = "ContainerCreating"
	reasonCrashLoopBackOff  = "CrashLoopBackOff"
	reasonConfigError       = "CreateContainerConfigError"
	reasonCreateError       = "CreateContainerError"
	reasonImageNeverPull    = "ErrImageNeverPull"
	// reasonAgentRestart ends a run the previous agent's exit cut short.
	reasonAgentRestart = "NodeAgentRestart"
)

// sandbox is one pod on this node: its records, network and containers.
// Its fields are guarded by mu; the agent's goroutines (process exits,
// probes, termination) take it.
type sandbox struct {
	key  string // namespace/name
	uid  types.UID
	rec  *PodRecord
	host bool // hostNetwork

	// ctx ends when the pod starts terminating: it stops the probes.
	ctx    context.Context
	cancel context.CancelFunc

	mu sync.Mutex
	// pod is the Pod as first seen: the agent does not follow spec
	// changes (such as a new image) of a running pod.
	pod         *corev1.Pod
	netReady    bool
	annotated   bool
	startTime   metav1.Time
	containers  []*container
	terminating bool
	// staleRV is the resourceVersion the last status update was based on:
	// while the informer still holds it, it holds a status older than the
	// agent's own.
	staleRV string
}

// container is one container of a sandbox.
type container struct {
	spec corev1.Container
	proc *process
	// everStarted says a run has begun; the next start is a restart.
	everStarted  bool
	restartCount int32
	ready        bool
	// waiting explains why the container does not run (yet).
	waitingReason, waitingMessage string
	// lastTerm is how the previous run ended, final how the last one did
	// when no restart follows.
	lastTerm, final *corev1.ContainerStateTerminated
	backoff         time.Duration
	nextStart       time.Time
	stopProbes      context.CancelFunc
}

func newSandbox(pod *corev1.Pod, rec *PodRecord) *sandbox {
	ctx, cancel := context.WithCancel(context.Background())
	sb := &sandbox{
		key:       pod.Namespace + "/" + pod.Name,
		uid:       pod.UID,
		rec:       rec,
		host:      pod.Spec.HostNetwork,
		ctx:       ctx,
		cancel:    cancel,
		pod:       pod.DeepCopy(),
		startTime: metav1.Now().Rfc3339Copy(),
	}
	if pod.Status.StartTime != nil {
		sb.startTime = *pod.Status.StartTime
	}
	for _, c := range pod.Spec.Containers {
		sb.containers = append(sb.containers, &container{spec: c, waitingReason: reasonContainerCreating})
	}
	return sb
}

// adoptStatuses carries restart counts over from the Pod's status when a
// restarted agent takes a pod on again: a container that ran before counts
// its next start as a restart.
func (sb *sandbox) adoptStatuses(statuses []corev1.ContainerStatus) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	for _, c := range sb.containers {
		for _, s := range statuses {
			if s.Name != c.spec.Name {
				continue
			}
			c.restartCount = s.RestartCount
			switch {
			case s.State.Running != nil:
				c.everStarted = true
				c.lastTerm = &corev1.ContainerStateTerminated{
					ExitCode: 137, Reason: reasonAgentRestart, Message: "the node agent restarted; the container was stopped with it",
					StartedAt: s.State.Running.StartedAt, FinishedAt: metav1.Now().Rfc3339Copy(), ContainerID: s.ContainerID,
				}
			case s.LastTerminationState.Terminated != nil:
				c.everStarted = true
				c.lastTerm = s.LastTerminationState.Terminated.DeepCopy()
			}
		}
	}
}

// podIPs are the sandbox's addresses: its own, or the node's for a
// hostNetwork pod.
func (sb *sandbox) podIPs(nodeIPs []netip.Addr) []netip.Addr {
	if sb.host {
		return nodeIPs
	}
	return sb.rec.IPs
}

// view is what the status is computed from.
func (sb *sandbox) view(nodeIPs []netip.Addr) podView {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	v := podView{
		IPs:          sb.podIPs(nodeIPs),
		HostIPs:      nodeIPs,
		SandboxReady: sb.netReady,
		Terminating:  sb.terminating,
		StartTime:    sb.startTime,
	}
	if !sb.netReady {
		v.IPs = nil
	}
	for _, c := range sb.containers {
		cv := containerView{
			Name:         c.spec.Name,
			Image:        c.spec.Image,
			ImageID:      imageID(c.spec.Image),
			RestartCount: c.restartCount,
		}
		if c.lastTerm != nil {
			cv.LastState.Terminated = c.lastTerm.DeepCopy()
		}
		switch {
		case c.proc != nil:
			cv.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(c.proc.started).Rfc3339Copy()}
			cv.ContainerID = containerID(c.proc)
			cv.Ready = c.ready
			cv.Started = true
		case c.final != nil:
			cv.State.Terminated = c.final.DeepCopy()
			cv.ContainerID = c.final.ContainerID
		default:
			cv.State.Waiting = &corev1.ContainerStateWaiting{Reason: c.waitingReason, Message: c.waitingMessage}
		}
		v.Containers = append(v.Containers, cv)
	}
	return v
}

// containerID names one run of a container by its process ID.
func containerID(p *process) string { return "nodeagent://" + strconv.Itoa(p.pid()) }

// shouldRestart says whether a container that ended with code runs again.
func shouldRestart(policy corev1.RestartPolicy, code int32) bool {
	switch policy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return code != 0
	}
	return true
}

// nextBackoff doubles the restart delay from initial up to max; the first
// restart has none.
func nextBackoff(cur, initial, max time.Duration) time.Duration {
	switch {
	case cur <= 0:
		return initial
	case cur*2 > max:
		return max
	}
	return cur * 2
}

// gracePeriod is how long a deleted pod's containers get between SIGTERM
// and SIGKILL.
func gracePeriod(pod *corev1.Pod) time.Duration {
	switch {
	case pod.DeletionGracePeriodSeconds != nil:
		return time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		return time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	return 30 * time.Second
}

// syncContainers starts the containers that should run and are not
// running; it returns when the sandbox wants to be synced again (0 for
// never), for a back-off that ends.
func (a *Agent) syncContainers(ctx context.Context, sb *sandbox) time.Duration {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.terminating || !sb.netReady {
		return 0
	}
	now := time.Now()
	var requeue time.Duration
	for _, c := range sb.containers {
		if c.proc != nil || c.final != nil {
			continue
		}
		if wait := c.nextStart.Sub(now); wait > 0 {
			if requeue == 0 || wait < requeue {
				requeue = wait
			}
			continue
		}
		if err := a.startContainer(ctx, sb, c); err != nil {
			klog.FromContext(ctx).Info("Container did not start", "pod", sb.key, "container", c.spec.Name, "reason", c.waitingReason, "err", err)
			c.waitingMessage = err.Error()
			c.backoff = nextBackoff(c.backoff, a.cfg.RestartBackoff, a.cfg.MaxRestartBackoff)
			c.nextStart = now.Add(c.backoff)
			if requeue == 0 || c.backoff < requeue {
				requeue = c.backoff
			}
		}
	}
	return requeue
}

// startContainer starts one run of a container; on failure it sets the
// waiting reason. sb.mu is held.
func (a *Agent) startContainer(ctx context.Context, sb *sandbox, c *container) error {
	pod := sb.pod
	ips := sb.podIPs(a.cfg.NodeIPs)
	hostname := podHostname(pod.Spec.Hostname, pod.Name)
	env, values, err := containerEnv(podEnv{pod: pod, podIPs: ips, hostIPs: a.cfg.NodeIPs, hostname: hostname, path: containerPath()}, &c.spec)
	if err != nil {
		c.waitingReason = reasonConfigError
		return err
	}
	argv, err := containerArgv(c.spec.Image, expandAll(c.spec.Command, values), expandAll(c.spec.Args, values), a.cfg.TestdBinary)
	if err != nil {
		c.waitingReason = reasonConfigError
		if classifyImage(c.spec.Image) == imageUnknown {
			c.waitingReason = reasonImageNeverPull
		}
		return err
	}
	if _, err := exec.LookPath(argv[0]); err != nil {
		c.waitingReason = reasonCreateError
		return fmt.Errorf("%s: %w", argv[0], err)
	}
	dir := "/"
	if st, err := os.Stat(c.spec.WorkingDir); c.spec.WorkingDir != "" && err == nil && st.IsDir() {
		dir = c.spec.WorkingDir
	}
	l := launch{
		netns: sb.rec.Netns, hostname: hostname, argv: argv, env: env, dir: dir,
		logPath: a.store.LogFile(pod.Namespace, pod.Name, c.spec.Name), self: a.self,
	}
	if sb.host {
		l.netns, l.hostname = "", ""
	}
	proc, err := startProcess(l)
	if err != nil {
		c.waitingReason = reasonCreateError
		return err
	}
	if c.everStarted {
		c.restartCount++
	}
	c.everStarted = true
	c.proc = proc
	c.waitingReason, c.waitingMessage = "", ""
	c.ready = c.spec.ReadinessProbe == nil
	a.metrics.containerStarts.Inc()
	klog.FromContext(ctx).V(2).Info("Started container", "pod", sb.key, "container", c.spec.Name, "pid", proc.pid(), "argv", argv)
	a.event(pod, corev1.EventTypeNormal, "Started", "Started container %s (pid %d)", c.spec.Name, proc.pid())

	probeCtx, stop := context.WithCancel(sb.ctx)
	c.stopProbes = stop
	a.startProbes(probeCtx, sb, c, proc, ips)
	go func() {
		<-proc.done
		a.containerExited(sb, c, proc)
	}()
	return nil
}

// containerPath is the PATH containers get: the agent's own.
func containerPath() string {
	if p := os.Getenv("PATH"); p != "" {
		return p
	}
	return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
}

// containerExited records the end of a run and decides on a restart.
func (a *Agent) containerExited(sb *sandbox, c *container, proc *process) {
	sb.mu.Lock()
	if c.proc != proc {
		sb.mu.Unlock()
		return
	}
	c.stopProbes()
	c.proc, c.ready = nil, false
	term := &corev1.ContainerStateTerminated{
		ExitCode:    proc.exitCode,
		Reason:      "Completed",
		StartedAt:   metav1.NewTime(proc.started).Rfc3339Copy(),
		FinishedAt:  metav1.NewTime(proc.finished).Rfc3339Copy(),
		ContainerID: containerID(proc),
	}
	if proc.exitCode != 0 {
		term.Reason = "Error"
	}
	restart := !sb.terminating && shouldRestart(sb.pod.Spec.RestartPolicy, proc.exitCode)
	if restart {
		c.lastTerm = term
		if proc.finished.Sub(proc.started) >= restartBackoffReset {
			c.backoff = 0
		}
		c.nextStart = proc.finished.Add(c.backoff)
		if c.backoff > 0 {
			c.waitingReason = reasonCrashLoopBackOff
			c.waitingMessage = fmt.Sprintf("back-off %v restarting failed container=%s pod=%s", c.backoff, c.spec.Name, sb.key)
		} else {
			c.waitingReason, c.waitingMessage = reasonContainerCreating, ""
		}
		c.backoff = nextBackoff(c.backoff, a.cfg.RestartBackoff, a.cfg.MaxRestartBackoff)
	} else {
		c.final = term
	}
	pod := sb.pod
	sb.mu.Unlock()
	if restart && !sb.terminating {
		a.event(pod, corev1.EventTypeWarning, "BackOff", "Container %s exited with status %d; restarting", c.spec.Name, proc.exitCode)
	}
	a.enqueue(sb.key)
}

// startProbes runs the readiness and liveness probes of one run.
func (a *Agent) startProbes(ctx context.Context, sb *sandbox, c *container, proc *process, targets []netip.Addr) {
	spec := c.spec
	newProber := func(p *corev1.Probe) *prober {
		return &prober{probe: p, container: &spec, targets: targets, exec: a.execInPod(sb)}
	}
	if p := spec.ReadinessProbe; p != nil {
		w := &probeWorker{kind: "readiness", probe: p, run: newProber(p).run, result: newThresholds(p, false), eager: true}
		w.onChange = func(ok bool, err error) {
			sb.mu.Lock()
			if c.proc == proc {
				c.ready = ok
			}
			sb.mu.Unlock()
			if !ok {
				a.event(sb.pod, corev1.EventTypeWarning, "Unhealthy", "Readiness probe of %s failed: %v", spec.Name, err)
			}
			a.enqueue(sb.key)
		}
		go w.loop(ctx)
	}
	if p := spec.LivenessProbe; p != nil {
		w := &probeWorker{kind: "liveness", probe: p, run: newProber(p).run, result: newThresholds(p, true)}
		w.onChange = func(ok bool, err error) {
			if ok {
				return
			}
			a.event(sb.pod, corev1.EventTypeWarning, "Unhealthy", "Liveness probe of %s failed: %v; restarting it", spec.Name, err)
			go proc.stop(gracePeriod(sb.pod))
		}
		go w.loop(ctx)
	}
}

// execInPod runs an exec probe's command in the pod's network namespace.
func (a *Agent) execInPod(sb *sandbox) func(ctx context.Context, command []string) error {
	return func(ctx context.Context, command []string) error {
		if len(command) == 0 {
			return fmt.Errorf("the exec probe has no command")
		}
		argv := append([]string(nil), command...)
		if testdCommands.Has(path.Base(argv[0])) {
			argv[0] = a.cfg.TestdBinary
		}
		if !sb.host {
			argv = append([]string{"ip", "netns", "exec", sb.rec.Netns}, argv...)
		}
		out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, truncateOutput(out))
		}
		return nil
	}
}

func truncateOutput(b []byte) string {
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// runningProcesses returns the processes of the sandbox's running
// containers. sb.mu is held.
func (sb *sandbox) runningProcesses() []*process {
	var out []*process
	for _, c := range sb.containers {
		if c.proc != nil {
			out = append(out, c.proc)
		}
	}
	return out
}

// stopAll stops every running container, each with the grace period.
func (sb *sandbox) stopAll(grace time.Duration) {
	sb.mu.Lock()
	procs := sb.runningProcesses()
	sb.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stop(grace)
		}()
	}
	wg.Wait()
}
