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

package fake

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"signet.dev/signet/pkg/util/iptables"
)

// maxChainNameLen is the longest chain name netfilter accepts (legacy
// iptables refuses 29 characters and more).
const maxChainNameLen = 28

// RestoreError is the error Restore returns for input iptables-restore would
// reject. Nothing of the input has been applied.
type RestoreError struct {
	// Command is iptables-restore or ip6tables-restore.
	Command string
	// Line is the 1-based line of the input that failed. A missing COMMIT is
	// reported one past the last line, as iptables-restore does.
	Line int
	// Reason says what is wrong with the line.
	Reason string
}

func (e *RestoreError) Error() string {
	return fmt.Sprintf("%s: line %d failed: %s", e.Command, e.Line, e.Reason)
}

// Restore implements iptables.Interface by applying data as iptables-restore
// does, all or nothing:
//
//   - "*table" opens a table and "COMMIT" closes it; "#" comments and blank
//     lines are skipped.
//   - ":CHAIN POLICY [packets:bytes]" declares a chain. A user-defined chain
//     ("-" policy) is created, or flushed if it exists. A built-in chain
//     takes the policy (ACCEPT or DROP, "-" keeps it) and keeps its rules, as
//     iptables-restore --noflush leaves built-in chains alone.
//   - "-A CHAIN args", "-I CHAIN [n] args", "-D CHAIN args|n",
//     "-R CHAIN n args", "-N CHAIN", "-F [CHAIN]", "-X CHAIN", "-P CHAIN POLICY"
//     and "-Z" act as the iptables commands do; arguments split on blanks,
//     and double quotes group (with \" and \\ escapes inside them).
//
// Without noFlush every table named in data is emptied first: its rules are
// removed and its user-defined chains deleted. With noFlush, tables and chains
// that data does not declare keep their rules.
//
// Checks, each reported as a *RestoreError naming the line: an unknown table,
// a line outside a table, a missing COMMIT, a rule in a chain that does not
// exist, a jump (-j) or goto (-g) to something that is neither a chain of the
// table nor a known target (ACCEPT, DROP, REJECT, RETURN, DNAT, SNAT,
// MASQUERADE, MARK, LOG, NOTRACK, CT, CONNMARK), a target used outside its
// table (DNAT, SNAT and MASQUERADE in nat; NOTRACK and CT in raw; REJECT in
// filter) or in a built-in chain of the wrong hook, deleting (-X) a built-in,
// missing, non-empty or still referenced chain, and chains that jump in a loop
// (reported at COMMIT).
//
// Every call not refused through Err is recorded for Restores, including
// failed ones. RestoreErr makes the call fail after it is recorded.
func (f *IPTables) Restore(_ context.Context, data []byte, noFlush bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return f.Err
	}
	f.restores = append(f.restores, slices.Clone(data))
	if f.RestoreErr != nil {
		return f.RestoreErr
	}
	r := &restorer{
		command:  f.restoreCommand(),
		noFlush:  noFlush,
		tables:   cloneTables(f.tables),
		policies: map[iptables.Table]map[iptables.Chain]string{},
	}
	for t, p := range f.policies {
		r.policies[t] = maps.Clone(p)
	}
	if err := r.run(string(data)); err != nil {
		return err
	}
	f.tables, f.policies = r.tables, r.policies
	return nil
}

func (f *IPTables) restoreCommand() string {
	if f.protocol == iptables.ProtocolIPv6 {
		return "ip6tables-restore"
	}
	return "iptables-restore"
}

// cloneTables copies the chain maps and rule lists; argument lists are shared
// because nothing modifies one in place.
func cloneTables(in map[iptables.Table]map[iptables.Chain][][]string) map[iptables.Table]map[iptables.Chain][][]string {
	out := make(map[iptables.Table]map[iptables.Chain][][]string, len(in))
	for t, chains := range in {
		c := make(map[iptables.Chain][][]string, len(chains))
		for name, rules := range chains {
			c[name] = slices.Clone(rules)
		}
		out[t] = c
	}
	return out
}

// restorer applies one restore input to a private copy of the state.
type restorer struct {
	command  string
	noFlush  bool
	tables   map[iptables.Table]map[iptables.Chain][][]string
	policies map[iptables.Table]map[iptables.Chain]string

	// table is the open table, "" between COMMIT and the next "*table".
	table     iptables.Table
	tableLine int
	line      int
}

func (r *restorer) fail(format string, args ...any) error {
	return &RestoreError{Command: r.command, Line: r.line, Reason: fmt.Sprintf(format, args...)}
}

func (r *restorer) run(data string) error {
	lines := strings.Split(data, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, text := range lines {
		r.line = i + 1
		text = strings.TrimSpace(text)
		var err error
		switch {
		case text == "" || strings.HasPrefix(text, "#"):
		case strings.HasPrefix(text, "*"):
			err = r.openTable(iptables.Table(strings.TrimSpace(text[1:])))
		case text == "COMMIT":
			err = r.commit()
		case strings.HasPrefix(text, ":"):
			err = r.declare(text[1:])
		case strings.HasPrefix(text, "-"):
			err = r.command1(text)
		default:
			err = r.fail("unexpected line %q", text)
		}
		if err != nil {
			return err
		}
	}
	if r.table != "" {
		r.line = len(lines) + 1
		return r.fail("COMMIT expected for table %s opened at line %d", r.table, r.tableLine)
	}
	return nil
}

func (r *restorer) openTable(table iptables.Table) error {
	if r.table != "" {
		return r.fail("table %s opened before COMMIT of table %s (line %d)", table, r.table, r.tableLine)
	}
	if builtinChains(table) == nil {
		return r.fail("table %q does not exist", table)
	}
	chains, ok := r.tables[table]
	if !ok {
		chains = map[iptables.Chain][][]string{}
		for _, c := range builtinChains(table) {
			chains[c] = nil
		}
		r.tables[table] = chains
	}
	if !r.noFlush {
		for c := range chains {
			if isBuiltin(table, c) {
				chains[c] = nil
			} else {
				delete(chains, c)
			}
		}
	}
	r.table, r.tableLine = table, r.line
	return nil
}

func (r *restorer) commit() error {
	if r.table == "" {
		return r.fail("COMMIT outside a table")
	}
	if loop := findLoop(r.tables[r.table]); loop != nil {
		return r.fail("chains of table %s jump in a loop: %s", r.table, strings.Join(loop, " -> "))
	}
	r.table = ""
	return nil
}

func (r *restorer) declare(decl string) error {
	if r.table == "" {
		return r.fail("chain declaration outside a table")
	}
	fields := strings.Fields(decl)
	if len(fields) < 2 || len(fields) > 3 {
		return r.fail("malformed chain declaration %q, want \":CHAIN POLICY [packets:bytes]\"", ":"+decl)
	}
	chain, policy := iptables.Chain(fields[0]), fields[1]
	chains := r.tables[r.table]
	if isBuiltin(r.table, chain) {
		switch policy {
		case "-":
		case "ACCEPT", "DROP":
			r.setPolicy(chain, policy)
		default:
			return r.fail("invalid policy %q for built-in chain %s", policy, chain)
		}
		return nil
	}
	if policy != "-" {
		return r.fail("user-defined chain %s cannot have policy %s", chain, policy)
	}
	if err := r.checkChainName(chain); err != nil {
		return err
	}
	chains[chain] = nil // created, or flushed if it existed
	return nil
}

func (r *restorer) setPolicy(chain iptables.Chain, policy string) {
	p, ok := r.policies[r.table]
	if !ok {
		p = map[iptables.Chain]string{}
		r.policies[r.table] = p
	}
	p[chain] = policy
}

func (r *restorer) checkChainName(chain iptables.Chain) error {
	switch {
	case chain == "":
		return r.fail("empty chain name")
	case len(chain) > maxChainNameLen:
		return r.fail("chain name %q is longer than %d characters", chain, maxChainNameLen)
	case strings.HasPrefix(string(chain), "-") || strings.HasPrefix(string(chain), "!"):
		return r.fail("invalid chain name %q", chain)
	case knownTarget(string(chain)):
		return r.fail("chain name %q is a target name", chain)
	}
	return nil
}

// command1 applies one "-X CHAIN ..." line.
func (r *restorer) command1(text string) error {
	if r.table == "" {
		return r.fail("command outside a table (missing \"*table\")")
	}
	args, err := splitArgs(text)
	if err != nil {
		return r.fail("%v", err)
	}
	cmd, rest := args[0], args[1:]
	if cmd == "-Z" || cmd == "--zero" {
		return nil // counters are not modelled
	}
	if cmd == "-F" || cmd == "--flush" {
		if len(rest) == 0 {
			for c := range r.tables[r.table] {
				r.tables[r.table][c] = nil
			}
			return nil
		}
	}
	if len(rest) == 0 {
		return r.fail("%s needs a chain", cmd)
	}
	chain := iptables.Chain(rest[0])
	rest = rest[1:]
	chains := r.tables[r.table]
	rules, exists := chains[chain]
	if cmd != "-N" && cmd != "--new-chain" && !exists {
		return r.fail("%s: chain %s does not exist in table %s", cmd, chain, r.table)
	}
	switch cmd {
	case "-A", "--append":
		if err := r.checkRule(chain, rest); err != nil {
			return err
		}
		chains[chain] = append(rules, rest)
	case "-I", "--insert":
		pos := 1
		if len(rest) > 0 && isNumber(rest[0]) {
			pos, _ = strconv.Atoi(rest[0])
			rest = rest[1:]
			if pos < 1 || pos > len(rules)+1 {
				return r.fail("-I %s: index %d out of range (chain has %d rules)", chain, pos, len(rules))
			}
		}
		if err := r.checkRule(chain, rest); err != nil {
			return err
		}
		chains[chain] = slices.Insert(rules, pos-1, rest)
	case "-R", "--replace":
		if len(rest) == 0 || !isNumber(rest[0]) {
			return r.fail("-R %s needs a rule number", chain)
		}
		pos, _ := strconv.Atoi(rest[0])
		if pos < 1 || pos > len(rules) {
			return r.fail("-R %s: index %d out of range (chain has %d rules)", chain, pos, len(rules))
		}
		if err := r.checkRule(chain, rest[1:]); err != nil {
			return err
		}
		rules = slices.Clone(rules)
		rules[pos-1] = rest[1:]
		chains[chain] = rules
	case "-D", "--delete":
		idx := -1
		if len(rest) == 1 && isNumber(rest[0]) {
			n, _ := strconv.Atoi(rest[0])
			if n >= 1 && n <= len(rules) {
				idx = n - 1
			}
		} else {
			idx = slices.IndexFunc(rules, func(rule []string) bool { return slices.Equal(rule, rest) })
		}
		if idx < 0 {
			return r.fail("-D %s: no such rule", chain)
		}
		chains[chain] = slices.Delete(slices.Clone(rules), idx, idx+1)
	case "-N", "--new-chain":
		if exists {
			return r.fail("-N: chain %s already exists", chain)
		}
		if err := r.checkChainName(chain); err != nil {
			return err
		}
		chains[chain] = nil
	case "-F", "--flush":
		chains[chain] = nil
	case "-X", "--delete-chain":
		return r.deleteChain(chain)
	case "-P", "--policy":
		if !isBuiltin(r.table, chain) {
			return r.fail("-P: %s is not a built-in chain", chain)
		}
		if len(rest) != 1 || (rest[0] != "ACCEPT" && rest[0] != "DROP") {
			return r.fail("-P %s needs ACCEPT or DROP", chain)
		}
		r.setPolicy(chain, rest[0])
	case "-t", "--table":
		return r.fail("-t cannot be used in a restore input")
	default:
		return r.fail("unknown command %q", cmd)
	}
	return nil
}

func (r *restorer) deleteChain(chain iptables.Chain) error {
	if isBuiltin(r.table, chain) {
		return r.fail("-X: cannot delete built-in chain %s", chain)
	}
	chains := r.tables[r.table]
	if n := len(chains[chain]); n > 0 {
		return r.fail("-X: chain %s is not empty (%d rules); flush it first", chain, n)
	}
	for _, from := range sortedChains(r.table, chains) {
		for i, rule := range chains[from] {
			if target, _ := ruleTarget(rule); target == string(chain) {
				return r.fail("-X: chain %s is still referenced by rule %d of chain %s", chain, i+1, from)
			}
		}
	}
	delete(chains, chain)
	return nil
}

// checkRule checks the target of a rule about to be added to chain.
func (r *restorer) checkRule(chain iptables.Chain, args []string) error {
	target, isGoto, err := ruleTargetStrict(args)
	if err != nil {
		return r.fail("%v", err)
	}
	if target == "" {
		return nil
	}
	chains := r.tables[r.table]
	if _, ok := chains[iptables.Chain(target)]; ok {
		if isBuiltin(r.table, iptables.Chain(target)) {
			return r.fail("cannot jump to built-in chain %s", target)
		}
		return nil
	}
	if isGoto {
		return r.fail("-g %s: chain %s does not exist in table %s", target, target, r.table)
	}
	if !knownTarget(target) {
		return r.fail("-j %s: no chain or target %s in table %s", target, target, r.table)
	}
	if tables := targetTables(target); tables != nil && !slices.Contains(tables, r.table) {
		return r.fail("target %s is only valid in table %s", target, tables[0])
	}
	if hooks := targetHooks(target); hooks != nil && isBuiltin(r.table, chain) && !slices.Contains(hooks, chain) {
		return r.fail("target %s is not valid in chain %s", target, chain)
	}
	return nil
}

// ruleTarget returns the -j or -g target of a stored rule ("" for none).
func ruleTarget(args []string) (target string, isGoto bool) {
	target, isGoto, _ = ruleTargetStrict(args)
	return target, isGoto
}

// ruleTargetStrict finds the -j or -g target of a rule, skipping the values
// of options it knows take one (so that a comment "-j" is not a target).
func ruleTargetStrict(args []string) (target string, isGoto bool, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch a {
		case "-j", "--jump", "-g", "--goto":
			if i+1 >= len(args) || args[i+1] == "" {
				return "", false, fmt.Errorf("%s needs a target", a)
			}
			if target != "" {
				return "", false, fmt.Errorf("more than one target (%s and %s)", target, args[i+1])
			}
			target, isGoto = args[i+1], a == "-g" || a == "--goto"
			i++
		default:
			if optionArity(a) == 1 {
				i++
			}
		}
	}
	return target, isGoto, nil
}

// findLoop returns a cycle of jumps and gotos among chains, or nil.
func findLoop(chains map[iptables.Chain][][]string) []string {
	const (
		unvisited = iota
		active
		done
	)
	state := map[iptables.Chain]int{}
	var stack []string
	var visit func(c iptables.Chain) []string
	visit = func(c iptables.Chain) []string {
		state[c] = active
		stack = append(stack, string(c))
		for _, rule := range chains[c] {
			t, _ := ruleTarget(rule)
			next := iptables.Chain(t)
			if _, ok := chains[next]; !ok {
				continue
			}
			switch state[next] {
			case active:
				start := slices.Index(stack, string(next))
				return append(slices.Clone(stack[start:]), string(next))
			case unvisited:
				if loop := visit(next); loop != nil {
					return loop
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[c] = done
		return nil
	}
	names := slices.Sorted(maps.Keys(chains))
	for _, c := range names {
		if state[c] == unvisited {
			if loop := visit(c); loop != nil {
				return loop
			}
		}
	}
	return nil
}

// splitArgs splits a restore line into arguments as iptables-restore does:
// blanks separate arguments, double quotes group, and inside quotes \" is a
// quote and \\ a backslash.
func splitArgs(s string) ([]string, error) {
	var (
		args   []string
		cur    strings.Builder
		inArg  bool
		quoted bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
			cur.WriteByte(s[i+1])
			i++
		case c == '"':
			quoted = !quoted
			inArg = true
		case !quoted && (c == ' ' || c == '\t'):
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if quoted {
		return nil, errors.New("unterminated quoted string")
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
