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
	"testing"

	"github.com/google/go-cmp/cmp"

	"signet.dev/signet/pkg/util/iptables"
)

func TestFake(t *testing.T) {
	ctx := context.Background()
	f := New(iptables.ProtocolIPv4)
	rule := []string{"-d", "10.0.0.1/32", "-m", "comment", "--comment", "a b", "-j", "ACCEPT"}
	if existed, err := f.EnsureRule(ctx, iptables.Append, iptables.TableFilter, iptables.ChainInput, "-j", "DROP"); err != nil || existed {
		t.Fatalf("EnsureRule DROP = %v, %v", existed, err)
	}
	for i, wantExisted := range []bool{false, true} {
		existed, err := f.EnsureRule(ctx, iptables.Prepend, iptables.TableFilter, iptables.ChainInput, rule...)
		if err != nil || existed != wantExisted {
			t.Fatalf("EnsureRule #%d = %v, %v; want %v, nil", i, existed, err, wantExisted)
		}
	}
	if _, err := f.EnsureRule(ctx, iptables.Append, iptables.TableFilter, "NOPE", rule...); err == nil {
		t.Error("EnsureRule in a missing chain succeeded")
	}
	got, err := f.ListRules(ctx, iptables.TableFilter)
	if err != nil {
		t.Fatal(err)
	}
	want := []iptables.Rule{
		{Table: iptables.TableFilter, Chain: iptables.ChainInput, Spec: `-d 10.0.0.1/32 -m comment --comment "a b" -j ACCEPT`},
		{Table: iptables.TableFilter, Chain: iptables.ChainInput, Spec: `-j DROP`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListRules (-want +got):\n%s", diff)
	}
	f.AddRule(iptables.TableFilter, iptables.ChainInput, rule...)
	if removed, err := f.DeleteRule(ctx, iptables.TableFilter, iptables.ChainInput, rule...); err != nil || removed != 2 {
		t.Errorf("DeleteRule = %d, %v; want 2, nil", removed, err)
	}
	if n := f.Count(); n != 1 {
		t.Errorf("Count = %d, want 1", n)
	}
}
