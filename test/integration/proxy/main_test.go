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

// Package proxy tests kube-proxy's data path: the kube-proxy binary runs
// inside a node network namespace with the real iptables and ip6tables,
// against the integration framework's kube-apiserver and signet-apiserver,
// and a client namespace reaches a backend namespace through the rules it
// writes.
package proxy

import (
	"os"
	"testing"

	"signet.dev/signet/test/integration/framework"
)

var cluster *framework.Cluster

func TestMain(m *testing.M) {
	os.Exit(framework.RunTests(m, &cluster))
}
