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
	"cmp"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"signet.dev/signet/pkg/util/iptables"
)

// Verdicts of an Outcome.
const (
	VerdictAccept = "ACCEPT"
	VerdictDrop   = "DROP"
	VerdictReject = "REJECT"
)

// maxTraceDepth bounds nested jumps, as the kernel bounds its jump stack.
const maxTraceDepth = 64

// Packet is the first packet of a connection, as Trace sees it.
type Packet struct {
	// Protocol is "tcp", "udp" or "sctp".
	Protocol string
	// Source and Destination are IP literals of the fake's family.
	Source, Destination string
	// SourcePort and DestinationPort are the transport ports; 0 is allowed.
	SourcePort, DestinationPort int
	// InInterface is the interface the packet arrived on, matched by -i.
	// Leave it empty for a locally generated packet.
	InInterface string
	// OutInterface is the interface routing picks for a packet that leaves
	// the host, matched by -o. A packet to a local address leaves by "lo"
	// whatever this says.
	OutInterface string
	// Local means the packet is generated on this host and starts in the
	// OUTPUT hook; otherwise it arrives and starts in PREROUTING.
	Local bool
	// Mark is the packet mark when the trace starts.
	Mark uint32
	// CTState is the conntrack state seen by -m conntrack --ctstate and
	// -m state --state: NEW (the default when empty), ESTABLISHED, RELATED,
	// INVALID or UNTRACKED. The nat table is consulted whatever the state,
	// as for a connection's first packet, except for UNTRACKED packets
	// (set here, or by a NOTRACK or CT --notrack target), which skip it as
	// they do in the kernel.
	CTState string
}

// Outcome is one place a packet can end up.
type Outcome struct {
	// Verdict is ACCEPT (delivered locally or forwarded), DROP or REJECT.
	Verdict string
	// DNAT is the address the packet was DNATed to, "ip:port" for IPv4 and
	// "[ip]:port" for IPv6; "" if it was not DNATed.
	DNAT string
	// Masquerade is whether a MASQUERADE or SNAT target took the packet in
	// nat POSTROUTING (or an SNAT in nat INPUT).
	Masquerade bool
	// Probability is the chance of this outcome. Rules with -m statistic
	// split a trace into a matching and a non-matching branch; the
	// probabilities of all outcomes of one Trace add up to 1.
	Probability float64
	// Path lists, for the first branch that reached this outcome, every rule
	// that matched ("nat/KUBE-SERVICES#3: <rule>") and every built-in chain
	// policy applied ("filter/INPUT: policy ACCEPT"), in order.
	Path []string
}

// String describes the outcome in one line without its path, e.g.
// "ACCEPT, DNAT to 10.244.1.2:8080, masqueraded, p=0.5".
func (o Outcome) String() string {
	var b strings.Builder
	b.WriteString(o.Verdict)
	if o.DNAT != "" {
		b.WriteString(", DNAT to " + o.DNAT)
	}
	if o.Masquerade {
		b.WriteString(", masqueraded")
	}
	fmt.Fprintf(&b, ", p=%.4g", o.Probability)
	return b.String()
}

// SetLocalAddresses sets the addresses of this host: -m addrtype LOCAL matches
// them, and Trace delivers packets to them through INPUT instead of
// forwarding them. Each entry is an IP or a CIDR; loopback addresses are
// always local. It panics on a malformed entry, which is a test setup error.
func (f *IPTables) SetLocalAddresses(addrs ...string) {
	prefixes := make([]netip.Prefix, 0, len(addrs))
	for _, a := range addrs {
		p, err := parsePrefix(a)
		if err != nil {
			panic(fmt.Sprintf("fake.SetLocalAddresses: %v", err))
		}
		prefixes = append(prefixes, p)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.local = prefixes
}

// SetRecent adds ip to the xt_recent list name, as if a packet had passed a
// "-m recent --name name --set" rule: later "--rcheck" and "--update" rules of
// that list match packets whose source (with --rdest: destination) is ip,
// whatever their --seconds. Lists start empty, and Trace does not add to them.
// It panics on a malformed IP, which is a test setup error.
func (f *IPTables) SetRecent(name, ip string) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		panic(fmt.Sprintf("fake.SetRecent: %v", err))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.recent == nil {
		f.recent = map[string]map[netip.Addr]bool{}
	}
	if f.recent[name] == nil {
		f.recent[name] = map[netip.Addr]bool{}
	}
	f.recent[name][a] = true
}

// Trace follows p through the current rules and returns every distinct place
// it can end up, with its probability, sorted by verdict, then DNAT, then
// masquerade. Outcomes that differ only in their path are merged.
//
// The hooks run as netfilter runs them for a connection's first packet, each
// hook's tables in priority order, skipping tables never used:
//
//	arriving:  PREROUTING (raw, mangle, nat), then routing on the (possibly
//	           DNATed) destination: to a local address INPUT (mangle, filter,
//	           security, nat); otherwise FORWARD (mangle, filter, security)
//	           and POSTROUTING (mangle, nat).
//	local:     OUTPUT (raw, mangle, nat), rerouting, OUTPUT (filter,
//	           security), POSTROUTING (mangle, nat), and for a local
//	           destination INPUT (mangle, filter, security) in by "lo".
//
// Supported matches ("!" negates where iptables allows): -s, -d (IP or CIDR),
// -p, -i, -o (with a "+" wildcard); -m tcp|udp|sctp --dport|--sport (port or
// a:b range); -m multiport --dports|--sports|--ports; -m comment;
// -m addrtype --src-type|--dst-type LOCAL (--limit-iface-in/out ignored);
// -m mark --mark v[/m]; -m conntrack --ctstate and -m state --state;
// -m statistic --mode random --probability p or --mode nth --every n
// [--packet k], both taken with their probability; -m recent
// --set|--rcheck|--update|--remove with --name, --seconds, --reap, --rsource,
// --rdest (see SetRecent).
//
// Supported targets: a chain (-j returns at the end or at RETURN, -g returns
// to the caller's caller), ACCEPT, DROP, REJECT, RETURN, DNAT
// --to-destination, SNAT, MASQUERADE, MARK (--set-xmark, --set-mark,
// --or-mark, --xor-mark, --and-mark), NOTRACK and CT --notrack (the packet
// becomes UNTRACKED), and the no-ops LOG and CONNMARK. DNAT, SNAT and
// MASQUERADE end the nat chain as ACCEPT does.
//
// Every rule of every table is checked first: an unknown or unsupported match,
// option or target (such as -m set), a jump to a missing chain, an address of
// the other family, a jump loop, or a NAT target reached from the wrong hook
// is an error, so that code under test cannot rely on something the tracer
// would silently ignore.
func (f *IPTables) Trace(p Packet) ([]Outcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &tracer{
		family:   f.protocol,
		rules:    map[iptables.Table]map[iptables.Chain][]*rule{},
		policies: f.policies,
		local:    f.local,
		recent:   f.recent,
	}
	for _, table := range slices.Sorted(maps.Keys(f.tables)) {
		chains := f.tables[table]
		parsed := map[iptables.Chain][]*rule{}
		for _, chain := range sortedChains(table, chains) {
			for i, args := range chains[chain] {
				r, err := parseRule(args, f.protocol)
				if err == nil {
					err = checkJump(table, chains, r)
				}
				if err != nil {
					return nil, fmt.Errorf("%s/%s rule %d (%s): %w", table, chain, i+1, quote(args), err)
				}
				r.where = fmt.Sprintf("%s/%s#%d", table, chain, i+1)
				parsed[chain] = append(parsed[chain], r)
			}
			if _, ok := parsed[chain]; !ok {
				parsed[chain] = nil
			}
		}
		t.rules[table] = parsed
	}
	start, err := t.start(p)
	if err != nil {
		return nil, err
	}
	if err := t.run(start, p); err != nil {
		return nil, err
	}
	return mergeOutcomes(t.done), nil
}

// tracer holds the parsed rules and collects outcomes for one Trace.
type tracer struct {
	family   iptables.Protocol
	rules    map[iptables.Table]map[iptables.Chain][]*rule
	policies map[iptables.Table]map[iptables.Chain]string
	local    []netip.Prefix
	recent   map[string]map[netip.Addr]bool

	// curHook is the hook being traversed, for targets valid only in some.
	curHook iptables.Chain
	done    []Outcome
}

// flow is one branch of a trace: the packet as rules have rewritten it so
// far, what happened to it, and how likely this branch is.
type flow struct {
	proto        string
	src, dst     netip.Addr
	sport, dport int
	in, out      string
	mark         uint32
	ctstate      string
	dnat         string
	masq         bool
	prob         float64
	path         []string
}

// note returns fl with s added to a path of its own.
func (fl flow) note(s string) flow {
	fl.path = append(slices.Clip(fl.path), s)
	return fl
}

type verdict int

const (
	// fallThrough: the chain ended or hit RETURN; the caller continues.
	fallThrough verdict = iota
	accept
	drop
	reject
)

type result struct {
	fl flow
	v  verdict
}

func (t *tracer) start(p Packet) (flow, error) {
	proto := strings.ToLower(p.Protocol)
	switch proto {
	case "tcp", "udp", "sctp":
	default:
		return flow{}, fmt.Errorf("packet protocol %q: want tcp, udp or sctp", p.Protocol)
	}
	src, err := parseFamilyAddr(p.Source, t.family)
	if err != nil {
		return flow{}, fmt.Errorf("packet source: %w", err)
	}
	dst, err := parseFamilyAddr(p.Destination, t.family)
	if err != nil {
		return flow{}, fmt.Errorf("packet destination: %w", err)
	}
	for _, port := range []int{p.SourcePort, p.DestinationPort} {
		if port < 0 || port > 65535 {
			return flow{}, fmt.Errorf("packet port %d out of range", port)
		}
	}
	state := strings.ToUpper(p.CTState)
	switch state {
	case "":
		state = "NEW"
	case "NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED":
	default:
		return flow{}, fmt.Errorf("packet conntrack state %q: want NEW, ESTABLISHED, RELATED, INVALID or UNTRACKED", p.CTState)
	}
	return flow{
		proto: proto, src: src, dst: dst, sport: p.SourcePort, dport: p.DestinationPort,
		mark: p.Mark, ctstate: state, prob: 1,
	}, nil
}

func (t *tracer) run(fl flow, p Packet) error {
	raw, mangle, nat, filter := iptables.TableRaw, iptables.TableMangle, iptables.TableNAT, iptables.TableFilter
	var passed []flow
	if !p.Local {
		fl.in = p.InInterface
		pre, err := t.hook([]flow{fl}, iptables.ChainPrerouting, raw, mangle, nat)
		if err != nil {
			return err
		}
		var input, forward []flow
		for _, fl := range pre {
			if t.isLocal(fl.dst) {
				input = append(input, fl)
			} else {
				fl.out = p.OutInterface
				forward = append(forward, fl)
			}
		}
		in, err := t.hook(input, iptables.ChainInput, mangle, filter, tableSecurity, nat)
		if err != nil {
			return err
		}
		fwd, err := t.hook(forward, iptables.ChainForward, mangle, filter, tableSecurity)
		if err != nil {
			return err
		}
		post, err := t.hook(fwd, iptables.ChainPostrouting, mangle, nat)
		if err != nil {
			return err
		}
		passed = append(in, post...)
	} else {
		fl.out = t.outInterface(fl, p)
		out, err := t.hook([]flow{fl}, iptables.ChainOutput, raw, mangle, nat)
		if err != nil {
			return err
		}
		for i := range out {
			out[i].out = t.outInterface(out[i], p) // rerouted after nat OUTPUT
		}
		if out, err = t.hook(out, iptables.ChainOutput, filter, tableSecurity); err != nil {
			return err
		}
		post, err := t.hook(out, iptables.ChainPostrouting, mangle, nat)
		if err != nil {
			return err
		}
		var input []flow
		for _, fl := range post {
			if t.isLocal(fl.dst) {
				fl.in, fl.out = "lo", ""
				input = append(input, fl)
			} else {
				passed = append(passed, fl)
			}
		}
		// The connection's NAT is settled by now: nat INPUT is not consulted.
		in, err := t.hook(input, iptables.ChainInput, mangle, filter, tableSecurity)
		if err != nil {
			return err
		}
		passed = append(passed, in...)
	}
	for _, fl := range passed {
		t.finish(fl, VerdictAccept)
	}
	return nil
}

func (t *tracer) outInterface(fl flow, p Packet) string {
	if t.isLocal(fl.dst) {
		return "lo"
	}
	return p.OutInterface
}

func (t *tracer) isLocal(a netip.Addr) bool {
	if a.IsLoopback() {
		return true
	}
	for _, p := range t.local {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (t *tracer) finish(fl flow, v string) {
	t.done = append(t.done, Outcome{Verdict: v, DNAT: fl.dnat, Masquerade: fl.masq, Probability: fl.prob, Path: fl.path})
}

// hook runs the built-in chain named hook of each table in turn and returns
// the flows every table accepted; dropped and rejected flows are finished.
func (t *tracer) hook(in []flow, hook iptables.Chain, tables ...iptables.Table) ([]flow, error) {
	t.curHook = hook
	cur := in
	for _, table := range tables {
		if _, ok := t.rules[table][hook]; !ok {
			continue
		}
		var next []flow
		for _, fl := range cur {
			if table == iptables.TableNAT && fl.ctstate == "UNTRACKED" {
				next = append(next, fl) // NAT needs conntrack
				continue
			}
			results, err := t.runChain(table, hook, fl, nil)
			if err != nil {
				return nil, err
			}
			for _, r := range results {
				switch r.v {
				case fallThrough:
					policy := policyOf(t.policies, table, hook)
					fl := r.fl.note(fmt.Sprintf("%s/%s: policy %s", table, hook, policy))
					if policy == "DROP" {
						t.finish(fl, VerdictDrop)
					} else {
						next = append(next, fl)
					}
				case accept:
					next = append(next, r.fl)
				case drop:
					t.finish(r.fl, VerdictDrop)
				case reject:
					t.finish(r.fl, VerdictReject)
				}
			}
		}
		cur = next
	}
	return cur, nil
}

// runChain runs one chain; stack holds the chains being run, outermost first.
func (t *tracer) runChain(table iptables.Table, chain iptables.Chain, fl flow, stack []iptables.Chain) ([]result, error) {
	if slices.Contains(stack, chain) {
		loop := append(slices.Clone(stack), chain)
		return nil, fmt.Errorf("%s: jump loop %v", table, loop)
	}
	if len(stack) >= maxTraceDepth {
		return nil, fmt.Errorf("%s: jumps nest deeper than %d at chain %s", table, maxTraceDepth, chain)
	}
	return t.runFrom(table, chain, 0, fl, append(slices.Clip(stack), chain))
}

// runFrom runs the rules of chain from index i on.
func (t *tracer) runFrom(table iptables.Table, chain iptables.Chain, i int, fl flow, stack []iptables.Chain) ([]result, error) {
	rules := t.rules[table][chain]
	for ; i < len(rules); i++ {
		p, err := rules[i].matchProbability(t, &fl)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rules[i].where, err)
		}
		switch {
		case p <= 0:
			continue
		case p >= 1:
			return t.apply(table, chain, i, fl, stack)
		}
		hit, miss := fl, fl
		hit.prob *= p
		miss.prob *= 1 - p
		taken, err := t.apply(table, chain, i, hit, stack)
		if err != nil {
			return nil, err
		}
		rest, err := t.runFrom(table, chain, i+1, miss, stack)
		if err != nil {
			return nil, err
		}
		return append(taken, rest...), nil
	}
	return []result{{fl: fl, v: fallThrough}}, nil
}

// apply runs the target of rule i, which matched fl, and the rest of the chain
// where the target lets the packet continue.
func (t *tracer) apply(table iptables.Table, chain iptables.Chain, i int, fl flow, stack []iptables.Chain) ([]result, error) {
	r := t.rules[table][chain][i]
	fl = fl.note(r.where + ": " + r.text)
	continueWith := func(fl flow) ([]result, error) { return t.runFrom(table, chain, i+1, fl, stack) }
	switch r.target {
	case "", "LOG", "CONNMARK":
		return continueWith(fl)
	case "NOTRACK", "CT": // only CT --notrack is accepted
		fl.ctstate = "UNTRACKED"
		return continueWith(fl)
	case "MARK":
		fl.mark = r.mark(fl.mark)
		return continueWith(fl)
	case "ACCEPT":
		return []result{{fl: fl, v: accept}}, nil
	case "DROP":
		return []result{{fl: fl, v: drop}}, nil
	case "REJECT":
		return []result{{fl: fl, v: reject}}, nil
	case "RETURN":
		return []result{{fl: fl, v: fallThrough}}, nil
	case "DNAT":
		if t.curHook != iptables.ChainPrerouting && t.curHook != iptables.ChainOutput {
			return nil, fmt.Errorf("%s: DNAT reached from hook %s; it is valid only in PREROUTING and OUTPUT", r.where, t.curHook)
		}
		fl.dst = r.dnatAddr
		if r.dnatPort != 0 {
			fl.dport = r.dnatPort
		}
		fl.dnat = netip.AddrPortFrom(fl.dst, uint16(fl.dport)).String()
		return []result{{fl: fl, v: accept}}, nil
	case "SNAT", "MASQUERADE":
		if t.curHook != iptables.ChainPostrouting && (r.target == "MASQUERADE" || t.curHook != iptables.ChainInput) {
			return nil, fmt.Errorf("%s: %s reached from hook %s", r.where, r.target, t.curHook)
		}
		fl.masq = true
		return []result{{fl: fl, v: accept}}, nil
	}
	sub, err := t.runChain(table, iptables.Chain(r.target), fl, stack)
	if err != nil {
		return nil, err
	}
	if r.isGoto {
		// Falling off a goto'd chain returns to the caller of this chain.
		return sub, nil
	}
	var out []result
	for _, s := range sub {
		if s.v != fallThrough {
			out = append(out, s)
			continue
		}
		rest, err := continueWith(s.fl)
		if err != nil {
			return nil, err
		}
		out = append(out, rest...)
	}
	return out, nil
}

// mergeOutcomes merges outcomes that differ only in path and probability and
// sorts them.
func mergeOutcomes(in []Outcome) []Outcome {
	var out []Outcome
	for _, o := range in {
		i := slices.IndexFunc(out, func(x Outcome) bool {
			return x.Verdict == o.Verdict && x.DNAT == o.DNAT && x.Masquerade == o.Masquerade
		})
		if i < 0 {
			out = append(out, o)
			continue
		}
		out[i].Probability += o.Probability
	}
	slices.SortStableFunc(out, func(a, b Outcome) int {
		if c := cmp.Compare(a.Verdict, b.Verdict); c != 0 {
			return c
		}
		if c := cmp.Compare(a.DNAT, b.DNAT); c != 0 {
			return c
		}
		switch {
		case a.Masquerade == b.Masquerade:
			return 0
		case !a.Masquerade:
			return -1
		}
		return 1
	})
	return out
}

// rule is a parsed rule.
type rule struct {
	// where names the rule for paths and errors: "table/chain#n".
	where string
	// text is the rule's arguments as iptables-save writes them.
	text    string
	matches []matchFunc
	target  string
	isGoto  bool

	dnatAddr netip.Addr
	dnatPort int
	mark     func(uint32) uint32
}

// matchFunc returns the probability that a packet in state fl matches: 0 or
// 1 for deterministic matches, in between for -m statistic.
type matchFunc func(t *tracer, fl *flow) float64

func (r *rule) matchProbability(t *tracer, fl *flow) (float64, error) {
	p := 1.0
	for _, m := range r.matches {
		p *= m(t, fl)
		if p == 0 {
			return 0, nil
		}
	}
	return p, nil
}

// matchOptions lists the options of each supported match module and whether
// they take a value (1) or not (0).
var matchOptions = map[string]map[string]int{
	"comment":   {"--comment": 1},
	"tcp":       portOptions(),
	"udp":       portOptions(),
	"sctp":      portOptions(),
	"multiport": {"--dports": 1, "--destination-ports": 1, "--sports": 1, "--source-ports": 1, "--ports": 1},
	"addrtype":  {"--src-type": 1, "--dst-type": 1, "--limit-iface-in": 0, "--limit-iface-out": 0},
	"mark":      {"--mark": 1},
	"conntrack": {"--ctstate": 1},
	"state":     {"--state": 1},
	"statistic": {"--mode": 1, "--probability": 1, "--every": 1, "--packet": 1},
	"recent": {"--name": 1, "--set": 0, "--rcheck": 0, "--update": 0, "--remove": 0,
		"--seconds": 1, "--reap": 0, "--rsource": 0, "--rdest": 0},
}

func portOptions() map[string]int {
	return map[string]int{"--dport": 1, "--destination-port": 1, "--sport": 1, "--source-port": 1}
}

// targetOptions lists the known targets and their options, as matchOptions.
var targetOptions = map[string]map[string]int{
	"ACCEPT":     {},
	"DROP":       {},
	"RETURN":     {},
	"REJECT":     {"--reject-with": 1},
	"DNAT":       {"--to-destination": 1, "--random": 0, "--persistent": 0},
	"SNAT":       {"--to-source": 1, "--random": 0, "--random-fully": 0, "--persistent": 0},
	"MASQUERADE": {"--to-ports": 1, "--random": 0, "--random-fully": 0},
	"MARK":       {"--set-xmark": 1, "--set-mark": 1, "--or-mark": 1, "--xor-mark": 1, "--and-mark": 1},
	"LOG": {"--log-prefix": 1, "--log-level": 1, "--log-tcp-sequence": 0, "--log-tcp-options": 0,
		"--log-ip-options": 0, "--log-uid": 0},
	"NOTRACK": {},
	"CT":      {"--notrack": 0},
	"CONNMARK": {"--set-xmark": 1, "--set-mark": 1, "--save-mark": 0, "--restore-mark": 0,
		"--and-mark": 1, "--or-mark": 1, "--xor-mark": 1, "--nfmask": 1, "--ctmask": 1, "--mask": 1},
}

// negatable lists the options that take a leading "!".
var negatable = map[string]bool{
	"--dport": true, "--destination-port": true, "--sport": true, "--source-port": true,
	"--dports": true, "--destination-ports": true, "--sports": true, "--source-ports": true, "--ports": true,
	"--src-type": true, "--dst-type": true, "--mark": true, "--ctstate": true, "--state": true,
	"--probability": true, "--every": true,
	"--set": true, "--rcheck": true, "--update": true, "--remove": true,
}

func knownTarget(name string) bool {
	_, ok := targetOptions[name]
	return ok
}

// targetTables returns the tables a target is valid in, nil for any.
func targetTables(target string) []iptables.Table {
	switch target {
	case "DNAT", "SNAT", "MASQUERADE":
		return []iptables.Table{iptables.TableNAT}
	case "NOTRACK", "CT":
		return []iptables.Table{iptables.TableRaw}
	case "REJECT":
		return []iptables.Table{iptables.TableFilter}
	}
	return nil
}

// targetHooks returns the hooks a target is valid in, nil for any.
func targetHooks(target string) []iptables.Chain {
	switch target {
	case "DNAT":
		return []iptables.Chain{iptables.ChainPrerouting, iptables.ChainOutput}
	case "SNAT":
		return []iptables.Chain{iptables.ChainPostrouting, iptables.ChainInput}
	case "MASQUERADE":
		return []iptables.Chain{iptables.ChainPostrouting}
	}
	return nil
}

// optionArity returns how many values an option takes (1 for the core
// options with a value), 0 for a flag or an option it does not know.
func optionArity(opt string) int {
	switch opt {
	case "-s", "--source", "-d", "--destination", "-p", "--protocol",
		"-i", "--in-interface", "-o", "--out-interface", "-m", "--match":
		return 1
	}
	for _, opts := range matchOptions {
		if n, ok := opts[opt]; ok {
			return n
		}
	}
	for _, opts := range targetOptions {
		if n, ok := opts[opt]; ok {
			return n
		}
	}
	return 0
}

// option is a module or target option of a rule.
type option struct {
	name, value string
	negated     bool
}

// parseRule parses a rule's arguments into matches and a target.
func parseRule(args []string, family iptables.Protocol) (*rule, error) {
	r := &rule{text: quote(args)}
	var (
		opts     []option
		modules  []string
		proto    string
		protoNeg bool
		negated  bool
	)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "!" {
			if negated {
				return nil, fmt.Errorf("double \"!\"")
			}
			negated = true
			continue
		}
		value := ""
		if optionArity(a) == 1 || a == "-j" || a == "--jump" || a == "-g" || a == "--goto" {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("%s needs a value", a)
			}
			i++
			value = args[i]
		}
		switch a {
		case "-s", "--source", "-d", "--destination":
			m, err := addressMatch(value, family, a == "-s" || a == "--source", negated)
			if err != nil {
				return nil, err
			}
			r.matches = append(r.matches, m)
		case "-p", "--protocol":
			p, err := protocolName(value)
			if err != nil {
				return nil, err
			}
			neg := negated
			proto, protoNeg = p, neg
			r.matches = append(r.matches, func(_ *tracer, fl *flow) float64 {
				return boolProb((p == "all" || fl.proto == p) != neg)
			})
		case "-i", "--in-interface", "-o", "--out-interface":
			in := a == "-i" || a == "--in-interface"
			pattern, neg := value, negated
			r.matches = append(r.matches, func(_ *tracer, fl *flow) float64 {
				iface := fl.out
				if in {
					iface = fl.in
				}
				return boolProb(interfaceMatches(pattern, iface) != neg)
			})
		case "-m", "--match":
			if negated {
				return nil, fmt.Errorf("\"!\" before %s", a)
			}
			if value == "set" {
				return nil, fmt.Errorf("match %q is unsupported by the fake tracer", value)
			}
			if _, ok := matchOptions[value]; !ok {
				return nil, fmt.Errorf("unknown match %q", value)
			}
			if !slices.Contains(modules, value) {
				modules = append(modules, value)
			}
		case "-j", "--jump", "-g", "--goto":
			if negated {
				return nil, fmt.Errorf("\"!\" before %s", a)
			}
			if r.target != "" {
				return nil, fmt.Errorf("more than one target (%s and %s)", r.target, value)
			}
			r.target, r.isGoto = value, a == "-g" || a == "--goto"
		default:
			if !strings.HasPrefix(a, "--") {
				return nil, fmt.Errorf("unexpected argument %q", a)
			}
			if !knownOption(a) {
				return nil, fmt.Errorf("unknown option %q", a)
			}
			if negated && !negatable[a] {
				return nil, fmt.Errorf("%s cannot be negated", a)
			}
			opts = append(opts, option{name: a, value: value, negated: negated})
		}
		negated = false
	}
	if negated {
		return nil, fmt.Errorf("trailing \"!\"")
	}

	// Give each option to the target or to the match that owns it. Like
	// iptables, -p tcp|udp|sctp loads its match implicitly.
	implicit := ""
	if !protoNeg && (proto == "tcp" || proto == "udp" || proto == "sctp") {
		implicit = proto
	}
	byModule := map[string][]option{}
	var targetOpts []option
	for _, o := range opts {
		if _, ok := targetOptions[r.target][o.name]; ok {
			targetOpts = append(targetOpts, o)
			continue
		}
		owner := ""
		for _, m := range modules {
			if _, ok := matchOptions[m][o.name]; ok {
				owner = m
				break
			}
		}
		if owner == "" && implicit != "" {
			if _, ok := matchOptions[implicit][o.name]; ok {
				owner = implicit
				modules = append(modules, implicit)
			}
		}
		if owner == "" {
			return nil, fmt.Errorf("option %s belongs to no match or target of this rule", o.name)
		}
		byModule[owner] = append(byModule[owner], o)
	}
	for _, m := range modules {
		matches, err := buildMatch(m, byModule[m], proto, protoNeg)
		if err != nil {
			return nil, fmt.Errorf("-m %s: %w", m, err)
		}
		r.matches = append(r.matches, matches...)
	}
	if err := r.buildTarget(targetOpts, family); err != nil {
		return nil, fmt.Errorf("-j %s: %w", r.target, err)
	}
	return r, nil
}

func knownOption(name string) bool {
	for _, opts := range matchOptions {
		if _, ok := opts[name]; ok {
			return true
		}
	}
	for _, opts := range targetOptions {
		if _, ok := opts[name]; ok {
			return true
		}
	}
	return false
}

// checkJump checks that a rule's target is a known target or a chain of its
// table.
func checkJump(table iptables.Table, chains map[iptables.Chain][][]string, r *rule) error {
	if r.target == "" || (knownTarget(r.target) && !r.isGoto) {
		return nil
	}
	if _, ok := chains[iptables.Chain(r.target)]; !ok {
		if r.isGoto && knownTarget(r.target) {
			return fmt.Errorf("-g needs a chain, not target %s", r.target)
		}
		return fmt.Errorf("unknown target or missing chain %q in table %s", r.target, table)
	}
	if isBuiltin(table, iptables.Chain(r.target)) {
		return fmt.Errorf("jump to built-in chain %s", r.target)
	}
	return nil
}

func buildMatch(module string, opts []option, proto string, protoNeg bool) ([]matchFunc, error) {
	var out []matchFunc
	switch module {
	case "comment":
		return nil, nil
	case "tcp", "udp", "sctp":
		if proto != module || protoNeg {
			return nil, fmt.Errorf("needs -p %s", module)
		}
		for _, o := range opts {
			ranges, err := parsePortList(o.value, false)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", o.name, err)
			}
			out = append(out, portMatch(ranges, o.name == "--sport" || o.name == "--source-port", false, o.negated))
		}
	case "multiport":
		if protoNeg || (proto != "tcp" && proto != "udp" && proto != "sctp") {
			return nil, fmt.Errorf("needs -p tcp, udp or sctp")
		}
		for _, o := range opts {
			ranges, err := parsePortList(o.value, true)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", o.name, err)
			}
			src := o.name == "--sports" || o.name == "--source-ports"
			out = append(out, portMatch(ranges, src, o.name == "--ports", o.negated))
		}
	case "addrtype":
		for _, o := range opts {
			if o.name != "--src-type" && o.name != "--dst-type" {
				continue // --limit-iface-in/out: every local address counts
			}
			for _, typ := range strings.Split(o.value, ",") {
				if typ != "LOCAL" {
					return nil, fmt.Errorf("%s %s is unsupported by the fake tracer (only LOCAL)", o.name, typ)
				}
			}
			src, neg := o.name == "--src-type", o.negated
			out = append(out, func(t *tracer, fl *flow) float64 {
				a := fl.dst
				if src {
					a = fl.src
				}
				return boolProb(t.isLocal(a) != neg)
			})
		}
	case "mark":
		for _, o := range opts {
			value, mask, err := parseMark(o.value)
			if err != nil {
				return nil, fmt.Errorf("--mark: %w", err)
			}
			neg := o.negated
			out = append(out, func(_ *tracer, fl *flow) float64 {
				return boolProb((fl.mark&mask == value) != neg)
			})
		}
	case "conntrack", "state":
		for _, o := range opts {
			states := strings.Split(o.value, ",")
			for _, s := range states {
				switch s {
				case "NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED":
				case "SNAT", "DNAT":
					if module == "conntrack" {
						break
					}
					fallthrough
				default:
					return nil, fmt.Errorf("%s: unknown state %q", o.name, s)
				}
			}
			neg := o.negated
			out = append(out, func(_ *tracer, fl *flow) float64 {
				hit := slices.ContainsFunc(states, func(s string) bool {
					switch s {
					case "DNAT":
						return fl.dnat != ""
					case "SNAT":
						return fl.masq
					}
					return s == fl.ctstate
				})
				return boolProb(hit != neg)
			})
		}
	case "statistic":
		m, err := statisticMatch(opts)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	case "recent":
		m, err := recentMatch(opts)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	default:
		return nil, fmt.Errorf("unsupported match")
	}
	return out, nil
}

func statisticMatch(opts []option) (matchFunc, error) {
	var mode string
	prob, every, packet := -1.0, 0, 0
	neg := false
	for _, o := range opts {
		var err error
		switch o.name {
		case "--mode":
			mode = o.value
		case "--probability":
			prob, err = strconv.ParseFloat(o.value, 64)
			if err == nil && (prob < 0 || prob > 1) {
				err = fmt.Errorf("out of [0, 1]")
			}
			neg = o.negated
		case "--every":
			every, err = strconv.Atoi(o.value)
			if err == nil && every < 1 {
				err = fmt.Errorf("must be at least 1")
			}
			neg = o.negated
		case "--packet":
			packet, err = strconv.Atoi(o.value)
		}
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", o.name, o.value, err)
		}
	}
	var p float64
	switch mode {
	case "random":
		if prob < 0 || every != 0 {
			return nil, fmt.Errorf("--mode random needs --probability (and no --every)")
		}
		p = prob
	case "nth":
		if every == 0 || prob >= 0 {
			return nil, fmt.Errorf("--mode nth needs --every (and no --probability)")
		}
		if packet < 0 || packet >= every {
			return nil, fmt.Errorf("--packet %d must be in [0, %d)", packet, every)
		}
		p = 1 / float64(every)
	default:
		return nil, fmt.Errorf("--mode %q: want random or nth", mode)
	}
	if neg {
		p = 1 - p
	}
	return func(*tracer, *flow) float64 { return p }, nil
}

func recentMatch(opts []option) (matchFunc, error) {
	name, command, useDst, neg := "DEFAULT", "", false, false
	for _, o := range opts {
		switch o.name {
		case "--name":
			name = o.value
		case "--set", "--rcheck", "--update", "--remove":
			if command != "" {
				return nil, fmt.Errorf("both %s and %s", command, o.name)
			}
			command, neg = o.name, o.negated
		case "--rdest":
			useDst = true
		case "--rsource":
			useDst = false
		case "--seconds":
			if n, err := strconv.Atoi(o.value); err != nil || n < 1 {
				return nil, fmt.Errorf("--seconds %q: want a positive number", o.value)
			}
		}
	}
	if command == "" {
		return nil, fmt.Errorf("needs one of --set, --rcheck, --update, --remove")
	}
	if command == "--set" {
		// Adding to the list is not modelled; the match always succeeds.
		return func(*tracer, *flow) float64 { return boolProb(!neg) }, nil
	}
	return func(t *tracer, fl *flow) float64 {
		a := fl.src
		if useDst {
			a = fl.dst
		}
		return boolProb(t.recent[name][a] != neg)
	}, nil
}

func (r *rule) buildTarget(opts []option, family iptables.Protocol) error {
	has := func(name string) (string, bool) {
		for _, o := range opts {
			if o.name == name {
				return o.value, true
			}
		}
		return "", false
	}
	switch r.target {
	case "DNAT":
		to, ok := has("--to-destination")
		if !ok {
			return fmt.Errorf("needs --to-destination")
		}
		addr, port, err := parseDNAT(to, family)
		if err != nil {
			return fmt.Errorf("--to-destination %q: %w", to, err)
		}
		r.dnatAddr, r.dnatPort = addr, port
	case "SNAT":
		to, ok := has("--to-source")
		if !ok {
			return fmt.Errorf("needs --to-source")
		}
		if _, _, err := parseDNAT(to, family); err != nil {
			return fmt.Errorf("--to-source %q: %w", to, err)
		}
	case "CT":
		if _, ok := has("--notrack"); !ok {
			return fmt.Errorf("only CT --notrack is supported by the fake tracer")
		}
	case "MARK":
		if len(opts) != 1 {
			return fmt.Errorf("needs exactly one of --set-xmark, --set-mark, --or-mark, --xor-mark, --and-mark")
		}
		value, mask, err := parseMark(opts[0].value)
		if err != nil {
			return fmt.Errorf("%s: %w", opts[0].name, err)
		}
		if opts[0].name != "--set-xmark" && opts[0].name != "--set-mark" && mask != ^uint32(0) {
			return fmt.Errorf("%s takes no mask", opts[0].name)
		}
		switch opts[0].name {
		case "--set-xmark":
			r.mark = func(m uint32) uint32 { return (m &^ mask) ^ value }
		case "--set-mark":
			r.mark = func(m uint32) uint32 { return (m &^ mask) | value }
		case "--or-mark":
			r.mark = func(m uint32) uint32 { return m | value }
		case "--xor-mark":
			r.mark = func(m uint32) uint32 { return m ^ value }
		case "--and-mark":
			r.mark = func(m uint32) uint32 { return m & value }
		}
	}
	return nil
}

// parseDNAT parses ip, ip:port, [ip] or [ip]:port.
func parseDNAT(s string, family iptables.Protocol) (netip.Addr, int, error) {
	host, port := s, ""
	switch {
	case strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]"):
		host = s[1 : len(s)-1]
	case strings.HasPrefix(s, "["):
		var err error
		if host, port, err = net.SplitHostPort(s); err != nil {
			return netip.Addr{}, 0, err
		}
	case strings.Count(s, ":") == 1:
		host, port, _ = strings.Cut(s, ":")
	}
	if strings.Contains(host, "-") || strings.Contains(port, "-") {
		return netip.Addr{}, 0, fmt.Errorf("ranges are unsupported by the fake tracer")
	}
	addr, err := parseFamilyAddr(host, family)
	if err != nil {
		return netip.Addr{}, 0, err
	}
	n := 0
	if port != "" {
		if n, err = strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return netip.Addr{}, 0, fmt.Errorf("bad port %q", port)
		}
	}
	return addr, n, nil
}

func addressMatch(value string, family iptables.Protocol, src, negated bool) (matchFunc, error) {
	if strings.Contains(value, ",") {
		return nil, fmt.Errorf("address list %q is unsupported by the fake tracer", value)
	}
	p, err := parsePrefix(value)
	if err != nil {
		return nil, err
	}
	if err := checkFamily(p.Addr(), family); err != nil {
		return nil, err
	}
	return func(_ *tracer, fl *flow) float64 {
		a := fl.dst
		if src {
			a = fl.src
		}
		return boolProb(p.Contains(a) != negated)
	}, nil
}

// parsePrefix parses a CIDR or a bare IP (as a full-length prefix).
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func parseFamilyAddr(s string, family iptables.Protocol) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, err
	}
	return a, checkFamily(a, family)
}

func checkFamily(a netip.Addr, family iptables.Protocol) error {
	if (family == iptables.ProtocolIPv6) != a.Is6() {
		return fmt.Errorf("address %s is not %s", a, family)
	}
	return nil
}

func protocolName(s string) (string, error) {
	switch p := strings.ToLower(s); p {
	case "all", "0":
		return "all", nil
	case "6":
		return "tcp", nil
	case "17":
		return "udp", nil
	case "132":
		return "sctp", nil
	case "":
		return "", fmt.Errorf("empty protocol")
	default:
		return p, nil
	}
}

func interfaceMatches(pattern, iface string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "+"); ok {
		return strings.HasPrefix(iface, prefix)
	}
	return pattern == iface
}

type portRange struct{ lo, hi int }

// parsePortList parses a port, a range a:b (a: and :b are open), or with list
// a comma-separated list of those.
func parsePortList(s string, list bool) ([]portRange, error) {
	items := []string{s}
	if list {
		items = strings.Split(s, ",")
	}
	var out []portRange
	for _, item := range items {
		lo, hi, isRange := strings.Cut(item, ":")
		r := portRange{lo: 0, hi: 65535}
		var err error
		if lo != "" || !isRange {
			if r.lo, err = strconv.Atoi(lo); err != nil {
				return nil, fmt.Errorf("bad port %q", item)
			}
		}
		switch {
		case !isRange:
			r.hi = r.lo
		case hi != "":
			if r.hi, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("bad port %q", item)
			}
		}
		if r.lo < 0 || r.hi > 65535 || r.lo > r.hi {
			return nil, fmt.Errorf("bad port range %q", item)
		}
		out = append(out, r)
	}
	return out, nil
}

// portMatch matches the source or destination port (either with both)
// against ranges.
func portMatch(ranges []portRange, src, both, negated bool) matchFunc {
	in := func(port int) bool {
		return slices.ContainsFunc(ranges, func(r portRange) bool { return port >= r.lo && port <= r.hi })
	}
	return func(_ *tracer, fl *flow) float64 {
		var hit bool
		switch {
		case both:
			hit = in(fl.sport) || in(fl.dport)
		case src:
			hit = in(fl.sport)
		default:
			hit = in(fl.dport)
		}
		return boolProb(hit != negated)
	}
}

// parseMark parses value[/mask]; the mask defaults to all ones.
func parseMark(s string) (value, mask uint32, err error) {
	v, m, hasMask := strings.Cut(s, "/")
	value64, err := strconv.ParseUint(v, 0, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("bad mark %q", s)
	}
	mask64 := uint64(^uint32(0))
	if hasMask {
		if mask64, err = strconv.ParseUint(m, 0, 32); err != nil {
			return 0, 0, fmt.Errorf("bad mask %q", s)
		}
	}
	return uint32(value64), uint32(mask64), nil
}

func boolProb(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
