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
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"signet.dev/signet/pkg/proxy"
	utiliptables "signet.dev/signet/pkg/util/iptables"
)

func portName(svc string) proxy.ServicePortName {
	return proxy.ServicePortName{NamespacedName: types.NamespacedName{Namespace: "ns", Name: svc}, Port: "p", Protocol: corev1.ProtocolTCP}
}

func epOf(ip string) *proxy.Endpoint {
	return &proxy.Endpoint{IP: netip.MustParseAddr(ip), Port: 8080}
}

func lastRestore(e *env) []byte {
	r := e.ipt.Restores()
	if len(r) == 0 {
		e.t.Fatal("no restore yet")
	}
	return r[len(r)-1]
}

func countChains(e *env, prefix string) int {
	n := 0
	for _, c := range e.ipt.Chains(utiliptables.TableNAT) {
		if strings.HasPrefix(string(c), prefix) {
			n++
		}
	}
	return n
}

func drain(r *record.FakeRecorder) []string {
	var out []string
	for {
		select {
		case ev := <-r.Events:
			out = append(out, ev)
		default:
			return out
		}
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
