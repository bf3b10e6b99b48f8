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

package endpointslice

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"signet.dev/signet/test/integration/framework"
)

// buildControllerManager builds signet-controller-manager from this
// checkout once per test binary, into the cluster's directory, or returns
// SIGNET_CONTROLLER_MANAGER_BIN when that is set.
func buildControllerManager(t *testing.T) string {
	if bin := os.Getenv("SIGNET_CONTROLLER_MANAGER_BIN"); bin != "" {
		return bin
	}
	return framework.BuildCommand(t, "./cmd/signet-controller-manager", "")
}

// managerProcess is one signet-controller-manager process.
type managerProcess struct {
	name    string
	cmd     *exec.Cmd
	logFile string
	addr    string
	client  *http.Client
	// done is closed when the process has exited, with waitErr set.
	done    chan struct{}
	waitErr error
}

// startControllerManager runs signet-controller-manager against the
// cluster with the tests' settle delay, its health and metrics server on a
// free loopback port, and the given extra flags (which override the
// defaults: the last value of a flag wins). It is stopped at the end
// of the test, if not before; its log is printed when the test fails.
func startControllerManager(t *testing.T, name string, extra ...string) *managerProcess {
	t.Helper()
	bin := buildControllerManager(t)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	p := &managerProcess{
		name:    name,
		logFile: filepath.Join(cluster.Dir, fmt.Sprintf("%s-%s.log", t.Name(), name)),
		addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		done:    make(chan struct{}),
		client:  &http.Client{Timeout: 5 * time.Second},
	}
	log, err := os.Create(p.logFile)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"--kubeconfig=" + cluster.KubeconfigFile,
		"--bind-address=" + p.addr,
		"--concurrent-endpointslice-syncs=2",
		"--endpointslice-settle-delay=" + settleDelay.String(),
		"--v=2",
	}, extra...)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = log, log
	// Die with the test binary.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		log.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		log.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			data, _ := os.ReadFile(p.logFile)
			const max = 6000
			if len(data) > max {
				data = data[len(data)-max:]
			}
			t.Logf("%s log tail (%s):\n%s", name, p.logFile, data)
		}
	})
	waitFor(t, convergeTimeout, name+" to serve /healthz", func(ctx context.Context) error {
		if p.exited() {
			return errors.New("the process exited")
		}
		return p.get(ctx, "/healthz")
	})
	return p
}

func (p *managerProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// get fails unless path answers 200.
func (p *managerProcess) get(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.addr+path, nil)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", path, resp.Status)
	}
	return nil
}

// metrics scrapes the process's /metrics.
func (p *managerProcess) metrics(ctx context.Context) (metricValues, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	return parseMetrics(resp.Body)
}

func (p *managerProcess) mustMetrics(t *testing.T) metricValues {
	t.Helper()
	m, err := p.metrics(context.Background())
	if err != nil {
		t.Fatalf("scraping %s: %v", p.name, err)
	}
	return m
}

// kill ends the process with SIGKILL: no graceful shutdown, no lease
// release.
func (p *managerProcess) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop asks the process to shut down and kills it if it has not within
// ten seconds.
func (p *managerProcess) stop() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.kill()
	}
}

// terminate sends SIGTERM and waits for the process to exit by itself,
// returning how it exited.
func (p *managerProcess) terminate(t *testing.T) error {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.waitErr
	case <-time.After(convergeTimeout):
		t.Fatalf("%s did not exit within %v of SIGTERM", p.name, convergeTimeout)
		return nil
	}
}

var identityPattern = regexp.MustCompile(`"Waiting for the lease".*identity="([^"]+)"`)

// identity waits for the process to log its leader election identity.
func (p *managerProcess) identity(t *testing.T) string {
	t.Helper()
	var id string
	waitFor(t, convergeTimeout, p.name+" to log its leader election identity", func(context.Context) error {
		data, err := os.ReadFile(p.logFile)
		if err != nil {
			return err
		}
		m := identityPattern.FindSubmatch(data)
		if m == nil {
			return errors.New("not logged yet")
		}
		id = string(m[1])
		return nil
	})
	return id
}

// freePort returns a loopback TCP port nobody listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// TestControllerManagerKilledMidRollout rolls a Service of 200 pods from
// one ReplicaSet to another in steps of 25 (new pods added, old pods
// deleted in a seeded random order), kills signet-controller-manager with
// SIGKILL in the middle, finishes the rollout with no controller running,
// and starts a new process: it must converge to exactly the slices the
// pods imply, with no duplicate, missing or extra endpoint, in
// ceil(200/100) slices once settled.
func TestControllerManagerKilledMidRollout(t *testing.T) {
	const (
		replicas = 200
		step     = 25
		steps    = replicas / step
		killAt   = steps / 2
	)
	ns := newNamespace(t)
	sel := map[string]string{"app": "rollout"}
	rsLabels := func(hash string) map[string]string {
		return map[string]string{"app": "rollout", "pod-template-hash": hash}
	}
	pods := createReadyPods(t, ns, podNames("rollout-old", 0, replicas), rsLabels("5d4c3b2a1"), false)
	svc := createService(t, ns, newService("rollout", sel))

	// The first process settles slowly, so that it is killed with the
	// rollout's churn slices in place rather than compacted ones.
	first := startControllerManager(t, "first", "--leader-elect=false", "--endpointslice-settle-delay=5m")
	waitFor(t, convergeTimeout, "the first process to be ready", func(ctx context.Context) error {
		return first.get(ctx, "/readyz")
	})
	waitForSlices(t, ns, svc, pods, ipv4Only, sliceCountFor(replicas))

	oldNames := podNames("rollout-old", 0, replicas)
	rng := rand.New(rand.NewPCG(4, 2))
	rng.Shuffle(len(oldNames), func(i, j int) { oldNames[i], oldNames[j] = oldNames[j], oldNames[i] })
	rollStep := func(i int) {
		added := createReadyPods(t, ns, podNames("rollout-new", i*step, step), rsLabels("9f8e7d6c5"), false)
		gone := oldNames[i*step : (i+1)*step]
		deletePods(t, ns, gone)
		pods = pods.with(added).without(gone...)
	}
	for i := range killAt {
		rollStep(i)
		// Let the controller follow, so that the kill finds a layout in
		// the middle of the rollout (churn slices of both ReplicaSets).
		waitForSlices(t, ns, svc, pods, ipv4Only, 0)
	}
	// Kill while the controller is busy with the next step.
	rollStep(killAt)
	first.kill()
	slices, err := serviceSlices(context.Background(), ns, svc.Name, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed the controller with %d slices of sizes %v", len(slices), sliceSizes(slices))
	for i := killAt + 1; i < steps; i++ {
		rollStep(i)
	}
	if len(pods) != replicas {
		t.Fatalf("test bug: %d pods after the rollout, want %d", len(pods), replicas)
	}

	second := startControllerManager(t, "second", "--leader-elect=false")
	waitForSlices(t, ns, svc, pods, ipv4Only, 0)
	waitForSlices(t, ns, svc, pods, ipv4Only, sliceCountFor(replicas))
	waitForWrites(t, "the second process", second.metrics)
}

// TestControllerManagerLeaderElection runs two signet-controller-manager
// processes with leader election on a Lease of the test's namespace:
// exactly one leads and writes, the other waits without writing; when the
// leader is killed the other takes the Lease over and reconciles the next
// change.
func TestControllerManagerLeaderElection(t *testing.T) {
	ns := newNamespace(t)
	const lease = "signet-controller-manager-it"
	flags := []string{
		"--leader-elect=true",
		"--leader-elect-resource-namespace=" + ns,
		"--leader-elect-resource-name=" + lease,
		"--leader-elect-lease-duration=4s",
		"--leader-elect-renew-deadline=3s",
		"--leader-elect-retry-period=1s",
	}
	procs := []*managerProcess{
		startControllerManager(t, "a", flags...),
		startControllerManager(t, "b", flags...),
	}
	ids := map[string]*managerProcess{}
	for _, p := range procs {
		ids[p.identity(t)] = p
	}
	if len(ids) != 2 {
		t.Fatalf("the two processes share one identity: %v", ids)
	}

	holder := func(ctx context.Context) (string, error) {
		l, err := cluster.Kube.CoordinationV1().Leases(ns).Get(ctx, lease, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		if l.Spec.HolderIdentity == nil {
			return "", nil
		}
		return *l.Spec.HolderIdentity, nil
	}
	var leader, follower *managerProcess
	waitFor(t, convergeTimeout, "one process to hold the Lease", func(ctx context.Context) error {
		h, err := holder(ctx)
		if err != nil {
			return err
		}
		p, ok := ids[h]
		if !ok {
			return fmt.Errorf("Lease holder %q is neither process (%v)", h, keys(ids))
		}
		leader = p
		return nil
	})
	for _, p := range procs {
		if p != leader {
			follower = p
		}
	}

	sel := map[string]string{"app": "elected"}
	pods := createReadyPods(t, ns, podNames("elected", 0, 20), sel, false)
	svc := createService(t, ns, newService("elected", sel))
	waitForSlices(t, ns, svc, pods, ipv4Only, 1)

	ctx := context.Background()
	if h, err := holder(ctx); err != nil || ids[h] != leader {
		t.Fatalf("the Lease changed hands while both ran: holder %q, err %v", h, err)
	}
	waitForWrites(t, "the leader ("+leader.name+")", leader.metrics)
	if m := follower.mustMetrics(t); m.sum(metricChanges) != 0 || m.sum(metricSyncCount) != 0 {
		t.Errorf("the follower (%s) synced or wrote: %s; %s", follower.name, m.series(metricChanges), m.series(metricSyncCount))
	}
	if err := follower.get(ctx, "/readyz"); err == nil {
		t.Errorf("the follower (%s) is ready, but it should not have started its informers", follower.name)
	}
	if err := follower.get(ctx, "/healthz"); err != nil {
		t.Errorf("the follower (%s) is not healthy: %v", follower.name, err)
	}

	leader.kill()
	waitFor(t, convergeTimeout, "the follower to take the Lease over", func(ctx context.Context) error {
		h, err := holder(ctx)
		if err != nil {
			return err
		}
		if ids[h] != follower {
			return fmt.Errorf("Lease holder is %q", h)
		}
		return nil
	})
	more := createReadyPods(t, ns, podNames("elected", 20, 15), sel, false)
	pods = pods.with(more)
	waitForSlices(t, ns, svc, pods, ipv4Only, 1)
	waitForWrites(t, "the new leader ("+follower.name+")", follower.metrics)
	waitFor(t, convergeTimeout, "the new leader to be ready", func(ctx context.Context) error {
		return follower.get(ctx, "/readyz")
	})

	// A graceful shutdown releases the Lease, so that a successor need
	// not wait for it to expire.
	if err := follower.terminate(t); err != nil {
		t.Errorf("the new leader (%s) exited with %v after SIGTERM, want success", follower.name, err)
	}
	if h, err := holder(ctx); err != nil || h != "" {
		t.Errorf("after the leader's graceful shutdown the Lease is held by %q (err %v), want it released", h, err)
	}
}

func keys(m map[string]*managerProcess) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
