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

package iptables

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// exitError mimics *exec.ExitError.
type exitError int

func (e exitError) Error() string { return "exit status " + string(rune('0'+int(e))) }
func (e exitError) ExitCode() int { return int(e) }

type result struct {
	stdout, stderr string
	code           int
}

// scriptExec answers commands in order from results and records them.
type scriptExec struct {
	t       *testing.T
	results []result
	calls   []string
	stdins  []string
}

func (s *scriptExec) Run(_ context.Context, name string, args []string, stdin []byte) ([]byte, []byte, error) {
	s.t.Helper()
	s.calls = append(s.calls, name+" "+strings.Join(args, " "))
	s.stdins = append(s.stdins, string(stdin))
	if len(s.results) == 0 {
		s.t.Fatalf("unexpected command %s %v", name, args)
	}
	r := s.results[0]
	s.results = s.results[1:]
	var err error
	if r.code != 0 {
		err = exitError(r.code)
	}
	return []byte(r.stdout), []byte(r.stderr), err
}

func TestEnsureRule(t *testing.T) {
	ctx := context.Background()
	rule := []string{"-d", "169.254.20.10/32", "-p", "udp", "-j", "NOTRACK"}
	tests := []struct {
		name       string
		protocol   Protocol
		pos        Position
		results    []result
		wantCalls  []string
		wantExists bool
		wantErr    string
	}{
		{
			name:       "present: only checked",
			protocol:   ProtocolIPv4,
			pos:        Prepend,
			results:    []result{{}},
			wantCalls:  []string{"iptables -w -t raw -C OUTPUT -d 169.254.20.10/32 -p udp -j NOTRACK"},
			wantExists: true,
		},
		{
			name:     "missing: inserted",
			protocol: ProtocolIPv4,
			pos:      Prepend,
			results:  []result{{code: 1, stderr: "iptables: Bad rule"}, {}},
			wantCalls: []string{
				"iptables -w -t raw -C OUTPUT -d 169.254.20.10/32 -p udp -j NOTRACK",
				"iptables -w -t raw -I OUTPUT -d 169.254.20.10/32 -p udp -j NOTRACK",
			},
		},
		{
			name:     "missing: appended with ip6tables",
			protocol: ProtocolIPv6,
			pos:      Append,
			results:  []result{{code: 1}, {}},
			wantCalls: []string{
				"ip6tables -w -t raw -C OUTPUT -d 169.254.20.10/32 -p udp -j NOTRACK",
				"ip6tables -w -t raw -A OUTPUT -d 169.254.20.10/32 -p udp -j NOTRACK",
			},
		},
		{
			name:      "check fails: not added",
			protocol:  ProtocolIPv4,
			pos:       Prepend,
			results:   []result{{code: 2, stderr: "unknown protocol\n"}},
			wantCalls: []string{"iptables -w -t raw -C OUTPUT -d 169.254.20.10/32 -p udp -j NOTRACK"},
			wantErr:   "iptables -w -t raw -C OUTPUT -d 169.254.20.10/32 -p udp -j NOTRACK: exit status 2: unknown protocol",
		},
		{
			name:     "insert fails: error names command and stderr",
			protocol: ProtocolIPv4,
			pos:      Prepend,
			results:  []result{{code: 1}, {code: 4, stderr: "Another app is currently holding the xtables lock"}},
			wantCalls: []string{
				"iptables -w -t raw -C OUTPUT -d 169.254.20.10/32 -p udp -j NOTRACK",
				"iptables -w -t raw -I OUTPUT -d 169.254.20.10/32 -p udp -j NOTRACK",
			},
			wantErr: "iptables -w -t raw -I OUTPUT -d 169.254.20.10/32 -p udp -j NOTRACK: exit status 4: Another app is currently holding the xtables lock",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ex := &scriptExec{t: t, results: tc.results}
			exists, err := New(ex, tc.protocol).EnsureRule(ctx, tc.pos, TableRaw, ChainOutput, rule...)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				var ie *Error
				if !errors.As(err, &ie) {
					t.Fatalf("err %T is not *Error", err)
				}
			} else if err != nil {
				t.Fatalf("EnsureRule: %v", err)
			}
			if exists != tc.wantExists {
				t.Errorf("exists = %v, want %v", exists, tc.wantExists)
			}
			if diff := cmp.Diff(tc.wantCalls, ex.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeleteRuleRemovesAllCopies(t *testing.T) {
	ctx := context.Background()
	del := "iptables -w -t filter -D INPUT -m comment --comment node-cache: x -j ACCEPT"
	tests := []struct {
		name        string
		results     []result
		wantRemoved int
		wantErr     bool
	}{
		{name: "absent", results: []result{{code: 1}}, wantRemoved: 0},
		{name: "one copy", results: []result{{}, {code: 1}}, wantRemoved: 1},
		{name: "three copies", results: []result{{}, {}, {}, {code: 1}}, wantRemoved: 3},
		{name: "error stops", results: []result{{}, {code: 2, stderr: "bad"}}, wantRemoved: 1, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ex := &scriptExec{t: t, results: tc.results}
			removed, err := New(ex, ProtocolIPv4).DeleteRule(ctx, TableFilter, ChainInput, "-m", "comment", "--comment", "node-cache: x", "-j", "ACCEPT")
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if removed != tc.wantRemoved {
				t.Errorf("removed = %d, want %d", removed, tc.wantRemoved)
			}
			for _, c := range ex.calls {
				if c != del {
					t.Errorf("call %q, want %q", c, del)
				}
			}
			if len(ex.results) != 0 {
				t.Errorf("%d scripted results unused", len(ex.results))
			}
		})
	}
}

func TestEnsureChain(t *testing.T) {
	ctx := context.Background()
	ex := &scriptExec{t: t, results: []result{{code: 1, stderr: "iptables: Chain already exists."}, {}, {}}}
	r := New(ex, ProtocolIPv4)
	existed, err := r.EnsureChain(ctx, TableNAT, "KUBE-SERVICES")
	if err != nil || !existed {
		t.Fatalf("EnsureChain existing = %v, %v; want true, nil", existed, err)
	}
	existed, err = r.EnsureChain(ctx, TableNAT, "KUBE-NEW")
	if err != nil || existed {
		t.Fatalf("EnsureChain new = %v, %v; want false, nil", existed, err)
	}
	want := []string{"iptables -w -t nat -N KUBE-SERVICES", "iptables -w -t nat -S KUBE-SERVICES", "iptables -w -t nat -N KUBE-NEW"}
	if diff := cmp.Diff(want, ex.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

const saveOutput = `# Generated by iptables-save v1.8.9 (nf_tables) on Fri Nov 27 19:29:49 2026
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -d 169.254.20.10/32 -p udp -m udp --dport 53 -m comment --comment "node-cache: a" -j NOTRACK
-A OUTPUT -s 169.254.20.10/32 -p tcp -m tcp --sport 53 -m comment --comment "node-cache: b" -j NOTRACK
COMMIT
# Completed on Fri Nov 27 19:29:49 2026
`

func TestListRules(t *testing.T) {
	ex := &scriptExec{t: t, results: []result{{stdout: saveOutput}}}
	rules, err := New(ex, ProtocolIPv6).ListRules(context.Background(), TableRaw)
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{
		{Table: TableRaw, Chain: ChainPrerouting, Spec: `-d 169.254.20.10/32 -p udp -m udp --dport 53 -m comment --comment "node-cache: a" -j NOTRACK`},
		{Table: TableRaw, Chain: ChainOutput, Spec: `-s 169.254.20.10/32 -p tcp -m tcp --sport 53 -m comment --comment "node-cache: b" -j NOTRACK`},
	}
	if diff := cmp.Diff(want, rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ip6tables-save -t raw"}, ex.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestRestore(t *testing.T) {
	ex := &scriptExec{t: t, results: []result{{}, {code: 1, stderr: "line 2 failed"}}}
	r := New(ex, ProtocolIPv4)
	data := []byte("*filter\nCOMMIT\n")
	if err := r.Restore(context.Background(), data, true); err != nil {
		t.Fatal(err)
	}
	err := r.Restore(context.Background(), data, false)
	if err == nil || !strings.Contains(err.Error(), "iptables-restore -w: exit status 1: line 2 failed") {
		t.Fatalf("err = %v", err)
	}
	want := []string{"iptables-restore -w --noflush", "iptables-restore -w"}
	if diff := cmp.Diff(want, ex.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if ex.stdins[0] != string(data) {
		t.Errorf("stdin = %q, want %q", ex.stdins[0], data)
	}
}
