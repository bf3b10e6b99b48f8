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

package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	utiliptables "signet.dev/signet/pkg/util/iptables"
	"signet.dev/signet/pkg/util/iptables/fake"
)

// brokenSave is an iptables runner whose tool cannot read the nat table,
// as ip6tables on a kernel without IPv6 netfilter.
type brokenSave struct{ *fake.IPTables }

func (brokenSave) Save(context.Context, utiliptables.Table) ([]byte, error) {
	return nil, errors.New("ip6tables-save: Table does not exist (do you need to insmod?)")
}

func TestUsableFamilies(t *testing.T) {
	dual := []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
	noV6 := func(p utiliptables.Protocol) utiliptables.Interface {
		if p == utiliptables.ProtocolIPv6 {
			return brokenSave{fake.New(p)}
		}
		return fake.New(p)
	}
	working := func(p utiliptables.Protocol) utiliptables.Interface { return fake.New(p) }

	got, err := usableFamilies(context.Background(), dual, working, false)
	if err != nil || !slices.Equal(got, dual) {
		t.Errorf("both tools work: %v, %v; want both families", got, err)
	}
	got, err = usableFamilies(context.Background(), dual, noV6, false)
	if err != nil || !slices.Equal(got, []corev1.IPFamily{corev1.IPv4Protocol}) {
		t.Errorf("ip6tables broken, families from the Node: %v, %v; want IPv4 only", got, err)
	}
	if _, err := usableFamilies(context.Background(), dual, noV6, true); err == nil || !strings.Contains(err.Error(), "--cluster-cidr asks for IPv6") {
		t.Errorf("ip6tables broken, IPv6 asked for by --cluster-cidr: error %v, want one naming the flag", err)
	}
	if _, err := usableFamilies(context.Background(), []corev1.IPFamily{corev1.IPv6Protocol}, noV6, false); err == nil {
		t.Error("no usable family at all is not an error")
	}
}
