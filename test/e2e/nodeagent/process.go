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
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
)

// ContainerInitCommand is the hidden first argument with which the agent
// runs its own executable as the first program of every container in a
// pod namespace (see ContainerInit).
const ContainerInitCommand = "container-init"

// launch is how to start one run of a container.
type launch struct {
	// netns is the pod's network namespace; empty runs the process in the
	// agent's (the node's), for hostNetwork pods.
	netns string
	// hostname is set in a UTS namespace of the container's own (pod
	// namespaces only).
	hostname string
	argv     []string
	env      []string
	dir      string
	logPath  string
	// self is the agent's executable.
	self string
}

// process is one run of a container.
type process struct {
	cmd     *exec.Cmd
	started time.Time
	// done is closed when the process has ended; exitCode and finished are
	// set then (128+signal for a process killed by a signal).
	done     chan struct{}
	exitCode int32
	finished time.Time
}

// command is the command line that starts a container: "ip netns exec"
// enters the pod's namespace and mounts its /etc/netns files (resolv.conf,
// hosts) in a mount namespace of the process's own; the agent's
// container-init then sets the hostname and executes the program.
func (l launch) command() []string {
	init := []string{l.self, ContainerInitCommand}
	if l.hostname != "" && l.netns != "" {
		init = append(init, "--hostname="+l.hostname)
	}
	init = append(append(init, "--"), l.argv...)
	if l.netns == "" {
		return init
	}
	return append([]string{"ip", "netns", "exec", l.netns}, init...)
}

// startProcess starts a container's process in a process group of its own,
// its output appended to the log file. The process dies with the agent.
func startProcess(l launch) (*process, error) {
	log, err := os.OpenFile(l.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close() // the child keeps its own descriptor
	argv := l.command()
	fmt.Fprintf(log, "==> %s: starting %s\n", time.Now().UTC().Format(time.RFC3339), strings.Join(l.argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = l.env
	cmd.Dir = l.dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if l.netns != "" {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWUTS
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, started: time.Now(), done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		p.finished = time.Now()
		p.exitCode = exitCode(cmd.ProcessState)
		close(p.done)
	}()
	return p, nil
}

func exitCode(s *os.ProcessState) int32 {
	if s == nil {
		return -1
	}
	if ws, ok := s.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int32(ws.Signal())
	}
	return int32(s.ExitCode())
}

// pid is the container's process ID.
func (p *process) pid() int { return p.cmd.Process.Pid }

// signal sends sig to the container's process group.
func (p *process) signal(sig syscall.Signal) {
	_ = syscall.Kill(-p.pid(), sig)
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to grace for the process to end, then
// sends SIGKILL and waits for it.
func (p *process) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	if grace > 0 {
		p.signal(syscall.SIGTERM)
		select {
		case <-p.done:
			return
		case <-time.After(grace):
		}
	}
	p.signal(syscall.SIGKILL)
	<-p.done
}

// ContainerInit is the first program of a container, run by the agent as
// "<agent> container-init [--hostname=NAME] -- PROGRAM ARGS...": it sets
// the hostname (in the UTS namespace the agent gave the container) and
// executes the program, which keeps its process ID. It returns only on
// failure: 126 when the program cannot run, 127 when it is not found.
func ContainerInit(args []string) int {
	fs := pflag.NewFlagSet(ContainerInitCommand, pflag.ContinueOnError)
	hostname := fs.String("hostname", "", "Hostname to set before executing the program.")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", ContainerInitCommand, err)
		return 126
	}
	argv := fs.Args()
	if len(argv) == 0 {
		fmt.Fprintf(os.Stderr, "%s: no program to run\n", ContainerInitCommand)
		return 126
	}
	if *hostname != "" {
		if err := unix.Sethostname([]byte(*hostname)); err != nil {
			fmt.Fprintf(os.Stderr, "%s: setting the hostname: %v\n", ContainerInitCommand, err)
			return 126
		}
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", ContainerInitCommand, err)
		return 127
	}
	err = syscall.Exec(path, argv, os.Environ())
	fmt.Fprintf(os.Stderr, "%s: executing %s: %v\n", ContainerInitCommand, path, err)
	if errors.Is(err, syscall.ENOENT) {
		return 127
	}
	return 126
}
