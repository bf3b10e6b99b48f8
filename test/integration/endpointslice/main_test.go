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

// Package endpointslice tests the EndpointSlice controller against a real
// control plane: etcd, upstream kube-apiserver and signet-apiserver behind
// it. Most tests run the controller in this process, so that they can read
// its metrics registry and stop and start it at will; the tests named
// TestControllerManager* run the signet-controller-manager binary built
// from this checkout, to kill it mid-rollout and to exercise leader
// election.
//
// No kubelet, scheduler or kube-controller-manager runs: the tests create
// Nodes, create Pods already bound to them, and write the pods' status
// (Running, Ready, pod IPs) themselves. Without the garbage collector, the
// slices of a deleted Service disappear only if the controller deletes
// them.
package endpointslice

import (
	"os"
	"testing"

	"signet.dev/signet/test/integration/framework"
)

// cluster is shared by the tests of this package. The tests run one at a
// time (a controller watches every namespace, so two must not run at once);
// each works in its own namespace and leaves nothing behind in it.
var cluster *framework.Cluster

func TestMain(m *testing.M) {
	os.Exit(framework.RunTests(m, &cluster))
}
