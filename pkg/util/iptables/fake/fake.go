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

// Package fake is an in-memory iptables.Interface for unit tests of code that
// ensures and deletes rules.
package fake

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"signet.dev/signet/pkg/util/iptables"
)

// IPTables keeps rules in memory. Rules are matched by their exact arguments,
// as iptables -C matches them after normalisation.
type IPTables struct {
	protocol iptables.Protocol

	mu sync.Mutex
	// tables maps table -> chain -> rules (each rule is its argument list).
	tables map[iptables.Table]map[iptables.Chain][][]string
	// restores holds every Restore input, in order.
	restores [][]byte
	// Err, when set, is returned by every call that changes state.
	Err error
}

var _ iptables.Interface = &IPTables{}

// New returns an empty fake for one family with the built-in raw and filter chains.
func New(protocol iptables.Protocol) *IPTables {
	return &IPTables{
		protocol: protocol,
		tables: map[iptables.Table]map[iptables.Chain][][]string{
			iptables.TableRaw:    {iptables.ChainPrerouting: nil, iptables.ChainOutput: nil},
			iptables.TableFilter: {iptables.ChainInput: nil, iptables.ChainForward: nil, iptables.ChainOutput: nil},
		},
	}
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

// Save implements iptables.Interface with iptables-save's layout (arguments
// are joined as given, not normalised).
func (f *IPTables) Save(_ context.Context, table iptables.Table) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%s\n", table)
	chains := f.tables[table]
	names := make([]string, 0, len(chains))
	for c := range chains {
		names = append(names, string(c))
	}
	slices.Sort(names)
	for _, c := range names {
		fmt.Fprintf(&b, ":%s ACCEPT [0:0]\n", c)
	}
	for _, c := range names {
		for _, r := range chains[iptables.Chain(c)] {
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

// Restore implements iptables.Interface by recording data; see Restores.
func (f *IPTables) Restore(_ context.Context, data []byte, _ bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return f.Err
	}
	f.restores = append(f.restores, slices.Clone(data))
	return nil
}

// Restores returns every input given to Restore, in order.
func (f *IPTables) Restores() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.restores)
}

func (f *IPTables) chains(table iptables.Table) map[iptables.Chain][][]string {
	chains, ok := f.tables[table]
	if !ok {
		chains = map[iptables.Chain][][]string{}
		f.tables[table] = chains
	}
	return chains
}

func quote(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t") {
			out[i] = `"` + a + `"`
		} else {
			out[i] = a
		}
	}
	return strings.Join(out, " ")
}
