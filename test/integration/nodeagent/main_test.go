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

// Package nodeagent tests the local cluster's node agent as a process: it
// runs in a node network namespace against the integration framework's
// kube-apiserver, registers its Node, runs pods as network namespaces with
// real veths, addresses of both families and hostPort rules, and removes
// them on deletion, on restart and on --cleanup. The tests need root and
// skip without it (the control plane is then not started either).
package nodeagent

import (
	"fmt"
	"os"
	"testing"

	"signet.dev/signet/test/integration/framework"
)

var cluster *framework.Cluster

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "nodeagent integration tests: not root, every test skips (no control plane started)")
		os.Exit(m.Run())
	}
	os.Exit(framework.RunTests(m, &cluster))
}
