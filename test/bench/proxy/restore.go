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
	"context"

	utiliptables "signet.dev/signet/pkg/util/iptables"
)

// recorder is an iptables runner that only remembers what it was asked to
// restore: every other call succeeds at once, Save lists nothing, and the
// restore input is neither parsed nor copied, so a sync costs what the
// proxier itself spends.
type recorder struct {
	// restores counts Restore calls.
	restores int
	// last is the latest restore input, as the proxier passed it.
	last []byte
}

var _ utiliptables.Interface = &recorder{}

func (r *recorder) Protocol() utiliptables.Protocol { return utiliptables.ProtocolIPv4 }

func (r *recorder) EnsureChain(context.Context, utiliptables.Table, utiliptables.Chain) (bool, error) {
	return true, nil
}

func (r *recorder) EnsureRule(context.Context, utiliptables.Position, utiliptables.Table, utiliptables.Chain, ...string) (bool, error) {
	return true, nil
}

func (r *recorder) DeleteRule(context.Context, utiliptables.Table, utiliptables.Chain, ...string) (int, error) {
	return 0, nil
}

func (r *recorder) Save(context.Context, utiliptables.Table) ([]byte, error) { return nil, nil }

func (r *recorder) ListRules(context.Context, utiliptables.Table) ([]utiliptables.Rule, error) {
	return nil, nil
}

func (r *recorder) Restore(_ context.Context, data []byte, _ bool) error {
	r.restores++
	r.last = data
	return nil
}
