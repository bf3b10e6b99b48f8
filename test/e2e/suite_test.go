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

// Package e2e is signet's end-to-end suite: Ginkgo specs run against the
// cluster KUBECONFIG names, normally the local cluster of
// hack/local-up-cluster.sh, whose nodes and pods are network namespaces of
// this machine. `make test-e2e` brings that cluster up, runs the suite and
// brings it down; with KUBECONFIG set it runs against that cluster.
//
//	KUBECONFIG=_output/local-up/kubeconfig go test ./test/e2e/ -ginkgo.v
//	... -ginkgo.focus=DNS            one area
//	... -ginkgo.label-filter='!slow' without the 250-pod specs
//
// Specs that look inside pods and nodes run as root; each spec runs in its
// own namespace, deleted when it ends.
package e2e

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/format"

	"signet.dev/signet/test/e2e/framework"
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	format.MaxLength = 20000
	RunSpecs(t, "signet e2e")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	framework.Setup(ctx)
}, NodeTimeout(5*time.Minute))
