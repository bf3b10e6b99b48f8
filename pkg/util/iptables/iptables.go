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

// Package iptables runs iptables and ip6tables for one IP family: rules are
// ensured without duplicates, deleted with all their copies, and listed from
// iptables-save. Every command waits for the xtables lock (-w).
package iptables

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Protocol is the IP family a runner manages.
type Protocol string

const (
	// ProtocolIPv4 runs iptables, iptables-save and iptables-restore.
	ProtocolIPv4 Protocol = "IPv4"
	// ProtocolIPv6 runs ip6tables, ip6tables-save and ip6tables-restore.
	ProtocolIPv6 Protocol = "IPv6"
)

// Table is a netfilter table.
type Table string

// Tables used by signet.
const (
	TableRaw    Table = "raw"
	TableFilter Table = "filter"
	TableNAT    Table = "nat"
	TableMangle Table = "mangle"
)

// Chain is a netfilter chain.
type Chain string

// Built-in chains.
const (
	ChainPrerouting  Chain = "PREROUTING"
	ChainInput       Chain = "INPUT"
	ChainForward     Chain = "FORWARD"
	ChainOutput      Chain = "OUTPUT"
	ChainPostrouting Chain = "POSTROUTING"
)

// Position says where EnsureRule inserts a rule that is missing.
type Position string

const (
	// Append adds the rule at the end of the chain (-A).
	Append Position = "-A"
	// Prepend adds the rule at the start of the chain (-I).
	Prepend Position = "-I"
)

// maxDeletes bounds the loop that removes all copies of one rule.
const maxDeletes = 1000

// Rule is one rule as listed by iptables-save.
type Rule struct {
	// Table holds the rule.
	Table Table
	// Chain holds the rule.
	Chain Chain
	// Spec is the rest of the "-A CHAIN ..." line, as iptables-save quotes it.
	Spec string
}

// Interface is what callers use; fake.IPTables implements it for tests.
type Interface interface {
	// Protocol is the IP family this runner manages.
	Protocol() Protocol
	// EnsureChain creates a chain if it does not exist and reports whether it existed.
	EnsureChain(ctx context.Context, table Table, chain Chain) (existed bool, err error)
	// EnsureRule adds the rule at pos unless an identical rule exists (checked with -C).
	// It reports whether the rule existed.
	EnsureRule(ctx context.Context, pos Position, table Table, chain Chain, args ...string) (existed bool, err error)
	// DeleteRule removes every copy of the rule and reports how many it removed.
	// A missing rule or chain is not an error.
	DeleteRule(ctx context.Context, table Table, chain Chain, args ...string) (removed int, err error)
	// Save returns the iptables-save output for one table.
	Save(ctx context.Context, table Table) ([]byte, error)
	// ListRules returns the rules of one table, in order, parsed from Save.
	ListRules(ctx context.Context, table Table) ([]Rule, error)
	// Restore feeds data to iptables-restore; with noFlush, tables and chains not
	// named in data keep their rules (--noflush).
	Restore(ctx context.Context, data []byte, noFlush bool) error
}

// Executor runs a command. stdin may be nil. A non-zero exit must be returned
// as an error with an ExitCode() int method, as *exec.ExitError has.
type Executor interface {
	Run(ctx context.Context, name string, args []string, stdin []byte) (stdout, stderr []byte, err error)
}

// OSExecutor runs commands with os/exec.
type OSExecutor struct{}

// Run implements Executor.
func (OSExecutor) Run(ctx context.Context, name string, args []string, stdin []byte) ([]byte, []byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	return stdout.Bytes(), stderr.Bytes(), err
}

// Error is a failed iptables command.
type Error struct {
	// Command is the command line that failed.
	Command string
	// ExitCode is the exit status, or -1 when the command did not run.
	ExitCode int
	// Stderr is what the command wrote to standard error, trimmed.
	Stderr string
	// Err is the underlying error.
	Err error
}

func (e *Error) Error() string {
	if e.Stderr == "" {
		return fmt.Sprintf("%s: %v", e.Command, e.Err)
	}
	return fmt.Sprintf("%s: %v: %s", e.Command, e.Err, e.Stderr)
}

func (e *Error) Unwrap() error { return e.Err }

// IsNotFound reports whether err is an iptables exit status 1, which -C and -D
// use for "no such rule" and "no such chain".
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.ExitCode == 1
}

type runner struct {
	exec     Executor
	protocol Protocol
}

// New returns a runner for one family. A nil exec means OSExecutor.
func New(exec Executor, protocol Protocol) Interface {
	if exec == nil {
		exec = OSExecutor{}
	}
	return &runner{exec: exec, protocol: protocol}
}

func (r *runner) Protocol() Protocol { return r.protocol }

func (r *runner) binary(suffix string) string {
	if r.protocol == ProtocolIPv6 {
		return "ip6tables" + suffix
	}
	return "iptables" + suffix
}

func (r *runner) run(ctx context.Context, name string, args []string, stdin []byte) ([]byte, error) {
	stdout, stderr, err := r.exec.Run(ctx, name, args, stdin)
	if err == nil {
		return stdout, nil
	}
	code := -1
	var ec interface{ ExitCode() int }
	if errors.As(err, &ec) {
		code = ec.ExitCode()
	}
	return stdout, &Error{
		Command:  name + " " + joinArgs(args),
		ExitCode: code,
		Stderr:   strings.TrimSpace(string(stderr)),
		Err:      err,
	}
}

func (r *runner) iptables(ctx context.Context, op string, table Table, chain Chain, args []string) error {
	full := append([]string{"-w", "-t", string(table), op, string(chain)}, args...)
	_, err := r.run(ctx, r.binary(""), full, nil)
	return err
}

func (r *runner) EnsureChain(ctx context.Context, table Table, chain Chain) (bool, error) {
	err := r.iptables(ctx, "-N", table, chain, nil)
	if err == nil {
		return false, nil
	}
	// -N on an existing chain exits 1 ("Chain already exists"); confirm with -S.
	if IsNotFound(err) {
		if r.iptables(ctx, "-S", table, chain, nil) == nil {
			return true, nil
		}
	}
	return false, err
}

func (r *runner) EnsureRule(ctx context.Context, pos Position, table Table, chain Chain, args ...string) (bool, error) {
	exists, err := r.checkRule(ctx, table, chain, args)
	if err != nil || exists {
		return exists, err
	}
	return false, r.iptables(ctx, string(pos), table, chain, args)
}

func (r *runner) checkRule(ctx context.Context, table Table, chain Chain, args []string) (bool, error) {
	err := r.iptables(ctx, "-C", table, chain, args)
	switch {
	case err == nil:
		return true, nil
	case IsNotFound(err):
		return false, nil
	default:
		return false, err
	}
}

func (r *runner) DeleteRule(ctx context.Context, table Table, chain Chain, args ...string) (int, error) {
	for removed := 0; removed < maxDeletes; removed++ {
		err := r.iptables(ctx, "-D", table, chain, args)
		if IsNotFound(err) {
			return removed, nil
		}
		if err != nil {
			return removed, err
		}
	}
	return maxDeletes, fmt.Errorf("%s -t %s -D %s %s: still present after %d deletions", r.binary(""), table, chain, joinArgs(args), maxDeletes)
}

func (r *runner) Save(ctx context.Context, table Table) ([]byte, error) {
	return r.run(ctx, r.binary("-save"), []string{"-t", string(table)}, nil)
}

func (r *runner) ListRules(ctx context.Context, table Table) ([]Rule, error) {
	out, err := r.Save(ctx, table)
	if err != nil {
		return nil, err
	}
	return ParseSave(out)[table], nil
}

func (r *runner) Restore(ctx context.Context, data []byte, noFlush bool) error {
	args := []string{"-w"}
	if noFlush {
		args = append(args, "--noflush")
	}
	_, err := r.run(ctx, r.binary("-restore"), args, data)
	return err
}

// ParseSave returns the rules of every table in iptables-save output, in order.
func ParseSave(data []byte) map[Table][]Rule {
	rules := map[Table][]Rule{}
	var table Table
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "*"):
			table = Table(line[1:])
			if _, ok := rules[table]; !ok {
				rules[table] = nil
			}
		case strings.HasPrefix(line, "-A "):
			chain, spec, _ := strings.Cut(line[len("-A "):], " ")
			rules[table] = append(rules[table], Rule{Table: table, Chain: Chain(chain), Spec: spec})
		}
	}
	return rules
}

// joinArgs renders args for error messages, quoting those with spaces.
func joinArgs(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"") {
			quoted[i] = fmt.Sprintf("%q", a)
		} else {
			quoted[i] = a
		}
	}
	return strings.Join(quoted, " ")
}
