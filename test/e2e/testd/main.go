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

// Command signet-testd is the program the pods of signet's local cluster
// run: the node agent (test/e2e/nodeagent) starts it as a pod's container
// when the image names it (signet.dev/testd, or upstream's agnhost for
// familiarity), passing the container's arguments, whose first word picks
// a subcommand:
//
//	serve-hostname  answer the hostname (the pod's name) over HTTP, TCP and UDP
//	netexec         an HTTP server to test connectivity from inside a pod
//	dns-lookup      resolve a name through /etc/resolv.conf and print the answers
//	connect         open one connection and say how it went (exit status)
//	pause           do nothing until SIGTERM
//
// Build it with: go build -o _output/bin/signet-testd ./test/e2e/testd
//
// Every server stops on SIGTERM or SIGINT and then exits 0, so a pod's
// graceful deletion ends with a clean exit.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
)

// subcommand is one mode of the program.
type subcommand struct {
	summary string
	// run parses args (without the subcommand's name) and runs until done
	// or until ctx ends; it returns the exit status.
	run func(ctx context.Context, env *environment, args []string) int
}

// environment is what a subcommand touches outside itself, so tests can
// replace it.
type environment struct {
	stdout, stderr io.Writer
	// hostname returns the name servers answer with.
	hostname func() (string, error)
	// exit ends the process; netexec's /exit calls it.
	exit func(code int)
}

func subcommands() map[string]subcommand {
	return map[string]subcommand{
		"serve-hostname": {"answer the hostname over HTTP, TCP and UDP", runServeHostname},
		"netexec":        {"HTTP server for connectivity tests: /hostname, /echo, /clientip, /dial, /exit", runNetexec},
		"dns-lookup":     {"resolve NAME [TYPE] through /etc/resolv.conf and print the answers", runDNSLookup},
		"connect":        {"connect to HOST:PORT once; exit 0 connected, 1 refused, 2 timed out, 3 other error, 4 usage", runConnect},
		"pause":          {"sleep until SIGTERM or SIGINT", runPause},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	env := &environment{stdout: os.Stdout, stderr: os.Stderr, hostname: os.Hostname, exit: os.Exit}
	os.Exit(run(ctx, env, os.Args[1:]))
}

// run dispatches to the subcommand named by args[0].
func run(ctx context.Context, env *environment, args []string) int {
	cmds := subcommands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stderr, cmds)
		return 2
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "signet-testd: unknown subcommand %q\n", args[0])
		usage(env.stderr, cmds)
		return 2
	}
	return cmd.run(ctx, env, args[1:])
}

func usage(w io.Writer, cmds map[string]subcommand) {
	names := make([]string, 0, len(cmds))
	for name := range cmds {
		names = append(names, name)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: signet-testd SUBCOMMAND [flags] [args]")
	for _, name := range names {
		fmt.Fprintf(w, "  %-15s %s\n", name, cmds[name].summary)
	}
}

// newFlagSet returns a flag set for one subcommand that reports errors
// instead of exiting, and prints usage to env.stderr.
func newFlagSet(env *environment, name, args string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "usage: signet-testd %s [flags] %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, printing the problem on failure; it returns false
// when the subcommand should stop with status 2.
func parse(env *environment, fs *pflag.FlagSet, args []string) bool {
	if err := fs.Parse(args); err != nil {
		if err != pflag.ErrHelp {
			fmt.Fprintf(env.stderr, "signet-testd %s: %v\n", fs.Name(), err)
		}
		return false
	}
	return true
}

// hostnameOf returns env's hostname or a placeholder after reporting the
// failure, so servers still answer.
func hostnameOf(env *environment) string {
	h, err := env.hostname()
	if err != nil || strings.TrimSpace(h) == "" {
		fmt.Fprintf(env.stderr, "signet-testd: no hostname (%v)\n", err)
		return "unknown"
	}
	return h
}

// runPause blocks until the context ends.
func runPause(ctx context.Context, env *environment, args []string) int {
	fs := newFlagSet(env, "pause", "")
	if !parse(env, fs, args) {
		return 2
	}
	<-ctx.Done()
	return 0
}
