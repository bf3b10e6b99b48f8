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

package main

import (
	utiliptables "k8s.io/kubernetes/pkg/util/iptables"
	iptablestest "k8s.io/kubernetes/pkg/util/iptables/testing"
)

// recorder is upstream's fake iptables with its restore calls replaced:
// they only remember the input, which is neither parsed nor copied, so a
// sync costs what the proxier itself spends. Everything else (the chains
// and jump rules ensured on a full sync, iptables-save of them) is the
// fake's own. With parse set, restores go to the fake as well, which
// parses the input and checks every jump; that costs far more than the
// proxier's own work at these sizes.
type recorder struct {
	*iptablestest.FakeIPTables
	parse bool
	// restores counts restore calls.
	restores int
	// last is the latest restore input, as the proxier passed it.
	last []byte
}

var _ utiliptables.Interface = &recorder{}

func newRecorder(parse bool) *recorder {
	return &recorder{FakeIPTables: iptablestest.NewFake(), parse: parse}
}

// Restore is part of utiliptables.Interface.
func (r *recorder) Restore(table utiliptables.Table, data []byte, flush utiliptables.FlushFlag, counters utiliptables.RestoreCountersFlag) error {
	r.restores++
	r.last = data
	if r.parse {
		return r.FakeIPTables.Restore(table, data, flush, counters)
	}
	return nil
}

// RestoreAll is part of utiliptables.Interface.
func (r *recorder) RestoreAll(data []byte, flush utiliptables.FlushFlag, counters utiliptables.RestoreCountersFlag) error {
	r.restores++
	r.last = data
	if r.parse {
		return r.FakeIPTables.RestoreAll(data, flush, counters)
	}
	return nil
}
