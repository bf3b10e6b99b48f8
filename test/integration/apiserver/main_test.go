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

// Package apiserver tests signet-apiserver as users meet it: behind an
// unmodified kube-apiserver, through the aggregation layer, with the
// generated clients and kubectl.
package apiserver

import (
	"os"
	"testing"

	"signet.dev/signet/test/integration/framework"
)

// cluster is shared by the tests of this package; each test works in its
// own namespace or with its own names.
var cluster *framework.Cluster

func TestMain(m *testing.M) {
	os.Exit(framework.RunTests(m, &cluster))
}
