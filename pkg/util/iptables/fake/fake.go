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

// Package fake is an in-memory iptables.Interface for unit tests.
//
// It serves code that ensures and deletes single rules (EnsureRule,
// DeleteRule) and code that writes a whole ruleset with iptables-restore:
// Restore parses and applies its input the way iptables-restore does, all or
// nothing, and reports the failing line. Trace then says where a given packet
// ends up under the current rules, so tests can assert behaviour ("this packet
// is DNATed to one of these endpoints and masqueraded") instead of rule text.
package fake

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"signet.dev/signet/pkg/util/iptables"
)

// IPTables keeps rules in memory. Rules are matched by their exact arguments,
// as iptables -C matches them after normalisation.
//
// A table known to netfilter (raw, mangle, nat, filter, security) comes into
// existence with its built-in chains the first time it is used, as the kernel
// loads it on demand. Built-in chains have a policy, ACCEPT unless a restore
// input sets another; user-defined chains have none.
type IPTables struct {
	protocol iptables.Protocol

	mu sync.Mutex
	// tables maps table -> chain -> rules (each rule is its argument list).
	tables map[iptables.Table]map[iptables.Chain][][]string
	// policies maps table -> built-in chain -> policy; a missing entry is ACCEPT.
	policies map[iptables.Table]map[iptables.Chain]string
	// restores holds every Restore input, in order.
	restores [][]byte
	// local holds the prefixes Trace treats as addresses of this host.
	local []netip.Prefix
	// recent maps an xt_recent list name to the addresses it holds.
	recent map[string]map[netip.Addr]bool

	// Err, when set, is returned by every call that changes state.
	Err error
	// RestoreErr, when set, is returned by Restore after it records its
	// input and before it applies anything, as when iptables-restore fails.
	// Other calls keep working.
	RestoreErr error
}

var _ iptables.Interface = &IPTables{}

// New returns an empty fake for one family with the built-in raw and filter chains.
func New(protocol iptables.Protocol) *IPTables {
	f := &IPTables{
		protocol: protocol,
		tables:   map[iptables.Table]map[iptables.Chain][][]string{},
		policies: map[iptables.Table]map[iptables.Chain]string{},
	}
	f.chains(iptables.TableRaw)
	f.chains(iptables.TableFilter)
	return f
}

// Protocol implements iptables.Interface.
func (f *IPTables) Protocol() iptables.Protocol { return f.protocol }

// EnsureChain implements iptables.Interface.
func (f *IPTables) EnsureChain(_ context.Context, table iptables.Table, chain iptables.Chain) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return false, f.Err
	}
	chains := f.chains(table)
	if _, ok := chains[chain]; ok {
		return true, nil
	}
	chains[chain] = nil
	return false, nil
}

// EnsureRule implements iptables.Interface.
func (f *IPTables) EnsureRule(_ context.Context, pos iptables.Position, table iptables.Table, chain iptables.Chain, args ...string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return false, f.Err
	}
	chains := f.chains(table)
	rules, ok := chains[chain]
	if !ok {
		return false, fmt.Errorf("fake %s: table %s has no chain %s", f.protocol, table, chain)
	}
	if slices.ContainsFunc(rules, func(r []string) bool { return slices.Equal(r, args) }) {
		return true, nil
	}
	rule := slices.Clone(args)
	if pos == iptables.Prepend {
		chains[chain] = append([][]string{rule}, rules...)
	} else {
		chains[chain] = append(rules, rule)
	}
	return false, nil
}

// DeleteRule implements iptables.Interface.
func (f *IPTables) DeleteRule(_ context.Context, table iptables.Table, chain iptables.Chain, args ...string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return 0, f.Err
	}
	chains := f.chains(table)
	before := len(chains[chain])
	if before == 0 {
		return 0, nil
	}
	chains[chain] = slices.DeleteFunc(chains[chain], func(r []string) bool { return slices.Equal(r, args) })
	return before - len(chains[chain]), nil
}

// AddRule appends a rule without checking for duplicates, as a second writer
// (or an older version) might have left it.
func (f *IPTables) AddRule(table iptables.Table, chain iptables.Chain, args ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	chains := f.chains(table)
	chains[chain] = append(chains[chain], slices.Clone(args))
}

// Rules returns a copy of the argument lists of a chain, in order.
func (f *IPTables) Rules(table iptables.Table, chain iptables.Chain) [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out [][]string
	for _, r := range f.tables[table][chain] {
		out = append(out, slices.Clone(r))
	}
	return out
}

// Count returns how many rules the fake holds in all tables and chains.
func (f *IPTables) Count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, chains := range f.tables {
		for _, rules := range chains {
			n += len(rules)
		}
	}
	return n
}

// RuleCount returns how many rules one table holds in all its chains.
func (f *IPTables) RuleCount(table iptables.Table) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, rules := range f.tables[table] {
		n += len(rules)
	}
	return n
}

// Chains returns the chains of a table as iptables-save lists them: the
// built-in chains in hook order, then the user-defined chains sorted by name.
// A table that was never used has no chains.
func (f *IPTables) Chains(table iptables.Table) []iptables.Chain {
	f.mu.Lock()
	defer f.mu.Unlock()
	return sortedChains(table, f.tables[table])
}

// Policy returns the policy of a built-in chain (ACCEPT or DROP), "-" for a
// user-defined chain, and "" for a chain that does not exist.
func (f *IPTables) Policy(table iptables.Table, chain iptables.Chain) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.tables[table][chain]; !ok {
		return ""
	}
	return policyOf(f.policies, table, chain)
}

// Save implements iptables.Interface with iptables-save's layout: chain lines
// (built-in chains first, with their policy; user-defined chains with "-"),
// then every chain's rules in the same order. Arguments are written as given,
// not normalised, and quoted so that Restore reads them back unchanged.
// A known table that was never used is saved with its empty built-in chains.
func (f *IPTables) Save(_ context.Context, table iptables.Table) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	chains, ok := f.tables[table]
	if !ok {
		chains = map[iptables.Chain][][]string{}
		for _, c := range builtinChains(table) {
			chains[c] = nil
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%s\n", table)
	names := sortedChains(table, chains)
	for _, c := range names {
		fmt.Fprintf(&b, ":%s %s [0:0]\n", c, policyOf(f.policies, table, c))
	}
	for _, c := range names {
		for _, r := range chains[c] {
			if len(r) == 0 {
				fmt.Fprintf(&b, "-A %s\n", c)
				continue
			}
			fmt.Fprintf(&b, "-A %s %s\n", c, quote(r))
		}
	}
	b.WriteString("COMMIT\n")
	return b.Bytes(), nil
}

// ListRules implements iptables.Interface.
func (f *IPTables) ListRules(ctx context.Context, table iptables.Table) ([]iptables.Rule, error) {
	out, err := f.Save(ctx, table)
	if err != nil {
		return nil, err
	}
	return iptables.ParseSave(out)[table], nil
}

// Restores returns every input given to Restore, in order, including inputs
// that were rejected or failed through RestoreErr (but not calls refused
// through Err).
func (f *IPTables) Restores() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.restores)
}

// chains returns the chains of a table, creating the table (with its built-in
// chains, if netfilter knows it) on first use.
func (f *IPTables) chains(table iptables.Table) map[iptables.Chain][][]string {
	chains, ok := f.tables[table]
	if !ok {
		chains = map[iptables.Chain][][]string{}
		for _, c := range builtinChains(table) {
			chains[c] = nil
		}
		f.tables[table] = chains
	}
	return chains
}

// builtinChains returns the built-in chains of a netfilter table in hook
// order, or nil for a table netfilter does not have.
func builtinChains(table iptables.Table) []iptables.Chain {
	switch table {
	case iptables.TableRaw:
		return []iptables.Chain{iptables.ChainPrerouting, iptables.ChainOutput}
	case iptables.TableMangle:
		return []iptables.Chain{iptables.ChainPrerouting, iptables.ChainInput, iptables.ChainForward, iptables.ChainOutput, iptables.ChainPostrouting}
	case iptables.TableNAT:
		return []iptables.Chain{iptables.ChainPrerouting, iptables.ChainInput, iptables.ChainOutput, iptables.ChainPostrouting}
	case iptables.TableFilter, tableSecurity:
		return []iptables.Chain{iptables.ChainInput, iptables.ChainForward, iptables.ChainOutput}
	}
	return nil
}

// tableSecurity is the SELinux security table; signet does not write to it,
// but restore inputs and traces accept it as netfilter does.
const tableSecurity iptables.Table = "security"

func isBuiltin(table iptables.Table, chain iptables.Chain) bool {
	return slices.Contains(builtinChains(table), chain)
}

func policyOf(policies map[iptables.Table]map[iptables.Chain]string, table iptables.Table, chain iptables.Chain) string {
	if !isBuiltin(table, chain) {
		return "-"
	}
	if p, ok := policies[table][chain]; ok {
		return p
	}
	return "ACCEPT"
}

// sortedChains orders chains as iptables-save does: built-in chains in hook
// order, then user-defined chains by name.
func sortedChains(table iptables.Table, chains map[iptables.Chain][][]string) []iptables.Chain {
	var out []iptables.Chain
	for _, c := range builtinChains(table) {
		if _, ok := chains[c]; ok {
			out = append(out, c)
		}
	}
	var user []iptables.Chain
	for c := range chains {
		if !isBuiltin(table, c) {
			user = append(user, c)
		}
	}
	slices.Sort(user)
	return append(out, user...)
}

// quote joins args as iptables-save writes them: an argument that is empty or
// holds a blank or a double quote is double-quoted, with " and \ escaped.
func quote(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"") {
			r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
			out[i] = `"` + r.Replace(a) + `"`
		} else {
			out[i] = a
		}
	}
	return strings.Join(out, " ")
}
