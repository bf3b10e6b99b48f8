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

// Package clusterdns tests cluster-dns against a real control plane: etcd,
// upstream kube-apiserver and signet-apiserver behind it, with the
// EndpointSlice controller and cluster-dns running in this process. The
// test creates Nodes in two zones, Services of every kind and pods (with
// the status a kubelet would write) through the API, checks answers with a
// DNS client, then puts two node-cache binaries in front of cluster-dns,
// one per zone, and checks that a headless Service with topology keys
// answers differently through each.
//
// No root is needed: node-cache runs without its link and rules, on
// loopback addresses. Run as root, the test also stands in for the nodes'
// resolv.conf upstream on port 53 and checks that node-cache never sends
// the node name there.
package clusterdns

import (
	"os"
	"testing"

	"signet.dev/signet/test/integration/framework"
)

var cluster *framework.Cluster

func TestMain(m *testing.M) {
	os.Exit(framework.RunTests(m, &cluster))
}
