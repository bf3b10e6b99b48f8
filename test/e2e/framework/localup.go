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

package framework

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"
)

// LocalUpTimeout bounds one `hack/local-up-cluster.sh up` on a running
// cluster: it starts what is down and waits for the nodes and DNS.
const LocalUpTimeout = 5 * time.Minute

// LocalUp is the local cluster of hack/local-up-cluster.sh that KUBECONFIG
// names: its kubeconfig is <checkout>/_output/local-up/kubeconfig, next to
// pids/<name>.pid (the pid and binary of each process the script started)
// and logs/<name>.log.
type LocalUp struct {
	// Dir is the cluster's _output/local-up directory.
	Dir string
	// Script is hack/local-up-cluster.sh of the checkout that made it.
	Script string
}

// RequireLocalUp returns the local cluster KUBECONFIG names, for a spec
// that stops and starts its processes. It needs root (see RequireRoot)
// and the pid file of process next to KUBECONFIG: without it (KUBECONFIG
// names another cluster) the spec is skipped, or fails when
// SIGNET_REQUIRE_ROOT_TESTS is set.
func RequireLocalUp(process string) LocalUp {
	ginkgo.GinkgoHelper()
	RequireRoot()
	dir := filepath.Dir(TestContext.KubeConfig)
	l := LocalUp{Dir: dir, Script: filepath.Join(filepath.Dir(filepath.Dir(dir)), "hack", "local-up-cluster.sh")}
	if _, err := os.Stat(l.PidFile(process)); err != nil {
		msg := fmt.Sprintf("this spec kills and restarts %s of the local cluster of hack/local-up-cluster.sh, "+
			"but KUBECONFIG=%s is not that cluster's kubeconfig (%v)", process, TestContext.KubeConfig, err)
		if os.Getenv("SIGNET_REQUIRE_ROOT_TESTS") != "" {
			ginkgo.Fail(msg + " (SIGNET_REQUIRE_ROOT_TESTS is set)")
		}
		ginkgo.Skip(msg)
	}
	if _, err := os.Stat(l.Script); err != nil {
		ginkgo.Fail(fmt.Sprintf("the local cluster in %s has no hack/local-up-cluster.sh next to it: %v", dir, err))
	}
	return l
}

// PidFile is the pid file of one of the cluster's processes.
func (l LocalUp) PidFile(name string) string {
	return filepath.Join(l.Dir, "pids", name+".pid")
}

// LogFile is the log of one of the cluster's processes.
func (l LocalUp) LogFile(name string) string {
	return filepath.Join(l.Dir, "logs", name+".log")
}

// Pid returns the pid of the cluster's process name and whether it runs,
// checked as the script checks it: the pid file's pid must run (not as a
// zombie) the binary the file names, so that a reused pid is never taken
// for the process.
func (l LocalUp) Pid(name string) (int, bool) {
	pid, bin, err := l.readPidFile(name)
	if err != nil {
		return 0, false
	}
	return pid, processRuns(pid, bin)
}

func (l LocalUp) readPidFile(name string) (int, string, error) {
	data, err := os.ReadFile(l.PidFile(name))
	if err != nil {
		return 0, "", err
	}
	pidText, bin, ok := strings.Cut(strings.TrimSpace(string(data)), " ")
	pid, err := strconv.Atoi(pidText)
	if !ok || err != nil || pid <= 0 || bin == "" {
		return 0, "", fmt.Errorf("%s: want \"PID BINARY\", got %q", l.PidFile(name), data)
	}
	return pid, bin, nil
}

// processRuns says whether pid runs bin and is not a zombie.
func processRuns(pid int, bin string) bool {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil || strings.TrimSuffix(exe, " (deleted)") != bin {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return false
	}
	state := stat[i+2]
	return state != 'Z' && state != 'X'
}

// Kill sends SIGKILL to the cluster's process name, waits until it no
// longer runs and returns the pid it killed. The pid file stays: the
// script takes a pid file whose process is gone for a process that is
// down, and `up` starts it again.
func (l LocalUp) Kill(ctx context.Context, name string) int {
	ginkgo.GinkgoHelper()
	pid, bin, err := l.readPidFile(name)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "pid file of %s", name)
	gomega.Expect(processRuns(pid, bin)).To(gomega.BeTrue(),
		"%s (pid %d, %s) does not run; `hack/local-up-cluster.sh up` starts it", name, pid, bin)
	gomega.Expect(syscall.Kill(pid, syscall.SIGKILL)).To(gomega.Succeed(), "SIGKILL to %s (pid %d)", name, pid)
	gomega.Eventually(ctx, func() bool { return processRuns(pid, bin) }).
		WithTimeout(30*time.Second).WithPolling(100*time.Millisecond).Should(gomega.BeFalse(), "%s (pid %d) still runs after SIGKILL", name, pid)
	return pid
}

// Up runs `hack/local-up-cluster.sh up`, which starts the cluster's
// processes that do not run (and nothing else) and waits until the nodes
// are Ready and DNS answers; its output goes to the spec's output.
func (l LocalUp) Up(ctx context.Context) {
	ginkgo.GinkgoHelper()
	ctx, cancel := context.WithTimeout(ctx, LocalUpTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, l.Script, "up")
	cmd.Dir = filepath.Dir(filepath.Dir(l.Script))
	// The processes it starts write to their own logs, not to this pipe;
	// should one keep it anyway, do not wait for it.
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	ginkgo.GinkgoWriter.Printf("%s up:\n%s\n", l.Script, out)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "%s up:\n%s", l.Script, out)
}

// LogTail returns the last n lines of the process's log.
func (l LocalUp) LogTail(name string, n int) string {
	data, err := os.ReadFile(l.LogFile(name))
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
