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

// Package ingress tests signet-ingress against a real control plane: etcd,
// upstream kube-apiserver and signet-apiserver behind it. Each test runs
// the signet-ingress binary for an IngressClass of its own, and sends real
// HTTP and HTTPS requests through it to backends served by the test
// process. No controller runs: the tests create Services without selectors
// and the signet EndpointSlices a controller would write.
//
// Each test has a network namespace of its own, with no link to anything
// else: signet-ingress runs in it (listening on its 127.0.0.1 and [::1]),
// the backends listen in it, and the test process connects from inside
// it. signet-apiserver refuses loopback endpoint addresses, so the
// backends listen on non-loopback addresses the test puts on the
// namespace's loopback link (10.90.0.2 and fd00:90::2). Nothing outside
// the namespaces receives traffic but this machine's loopback, where the
// control plane listens: signet-ingress reaches kube-apiserver through a
// forwarder on the namespace's loopback. The tests need root to create the
// namespaces: without it they are skipped, or fail when
// SIGNET_REQUIRE_ROOT_TESTS=1, as in CI.
//
// Each backend has a port of its own and so an EndpointSlice of its own:
// the slices of one Service carry different ports for the same port name,
// as named target ports do.
package ingress

import (
	"os"
	"testing"

	"signet.dev/signet/test/integration/framework"
)

var cluster *framework.Cluster

func TestMain(m *testing.M) {
	os.Exit(framework.RunTests(m, &cluster))
}
