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

// Package deploy tests the manifests under deploy/: that an upstream
// kube-apiserver accepts every object in them (server-side dry-run through
// kubectl), and that they say what matters: least-privilege RBAC, the
// aggregation wiring, flags signet-apiserver knows, storage and probes.
package deploy

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"signet.dev/signet/test/integration/framework"
)

// cluster is shared by the tests of this package. It is the framework's
// control plane, whose signet-system namespace, signet-apiserver Service
// and APIServices stand in for the ones deploy/ creates on a real cluster.
var cluster *framework.Cluster

func TestMain(m *testing.M) {
	os.Exit(framework.RunTests(m, &cluster))
}

// kubectlResult is what a kubectl run printed.
type kubectlResult struct {
	stdout, stderr string
	err            error
}

func kubectlRun(args ...string) kubectlResult {
	cmd := cluster.KubectlCmd(context.Background(), args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return kubectlResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// forceConflicts lists the manifest files whose objects collide with
// objects the framework created under the same names, and why forcing is
// right for them.
//
// Without --force-conflicts, server-side apply refuses these files: the
// framework (field manager "deploy.test") owns fields to which the
// manifests give other values. Forcing makes kubectl's values win in the
// object the dry run validates, so what kube-apiserver checks is the
// manifest's content; and because it is a dry run, nothing is written and
// the framework's objects, which keep signet-apiserver reachable, stay as
// they are (TestServerSideDryRun checks that afterwards).
var forceConflicts = map[string]string{
	// The framework registers the same four APIService names, pointing
	// at its Service's port 8443 with its own test CA in caBundle; the
	// manifests say port 443 and carry the caBundle placeholder.
	"apiservices.yaml": "APIServices registered by the framework",
	// The framework's Service of the same name is an ExternalName of
	// localhost (DESIGN.md, "Aggregation routing"); the manifest's is a
	// ClusterIP Service with a selector, so spec.type conflicts. The
	// framework also keeps owning spec.externalName, which the manifest
	// does not set; kube-apiserver warns that it is ignored for a
	// ClusterIP Service (allowedWarnings).
	"service.yaml": "the framework's ExternalName Service",
}

// allowedWarnings are the only warnings kube-apiserver may return for a
// file's dry run; see forceConflicts.
var allowedWarnings = map[string][]string{
	"service.yaml": {`spec.externalName is ignored when spec.type is not "ExternalName"`},
}

// dryRunArgs are the arguments of a server-side dry-run apply of file in
// dir.
func dryRunArgs(dir, file string) []string {
	args := []string{"apply", "--dry-run=server", "--server-side"}
	if _, ok := forceConflicts[file]; ok {
		args = append(args, "--force-conflicts")
	}
	return append(args, "-f", filepath.Join(dir, file))
}

// TestServerSideDryRun applies every manifest to kube-apiserver with a
// server-side dry run: kube-apiserver decodes each object with strict
// field validation, defaults it, runs validation and admission (Pod
// Security included) and reports the result without storing anything.
func TestServerSideDryRun(t *testing.T) {
	ctx := context.Background()
	dir := deployDir(t)

	// The namespace for real, so that Pod Security admission evaluates the
	// workloads' dry runs against its labels (the framework created
	// signet-system already; this adds the manifest's labels).
	res := kubectlRun("apply", "--server-side", "-f", filepath.Join(dir, "namespace.yaml"))
	if res.err != nil {
		t.Fatalf("kubectl apply -f namespace.yaml: %v\n%s%s", res.err, res.stdout, res.stderr)
	}
	if want := "namespace/signet-system serverside-applied"; !strings.Contains(res.stdout, want) {
		t.Fatalf("kubectl apply -f namespace.yaml printed %q, want a line %q", res.stdout, want)
	}
	ns, err := cluster.Kube.CoreV1().Namespaces().Get(ctx, "signet-system", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ns.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		t.Fatalf("namespace signet-system has pod-security.kubernetes.io/enforce=%q after apply, want restricted", got)
	}

	for _, file := range manifestFiles {
		t.Run(file, func(t *testing.T) {
			args := dryRunArgs(dir, file)
			res := kubectlRun(args...)
			if res.err != nil {
				t.Fatalf("kubectl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), res.err, res.stdout, res.stderr)
			}
			lines := strings.Split(res.stdout, "\n")
			for _, obj := range readObjects(t, file) {
				want := kubectlName(obj.GVK, obj.Name) + " serverside-applied (server dry run)"
				if !containsLine(lines, want) {
					t.Errorf("kubectl %s did not print %q; stdout:\n%s", strings.Join(args, " "), want, res.stdout)
				}
			}
			checkWarnings(t, file, res.stderr)
		})
	}

	// Nothing was stored: an object only the manifests name is absent ...
	if _, err := cluster.Kube.RbacV1().ClusterRoles().Get(ctx, "signet-apiserver", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ClusterRole signet-apiserver after a dry run: err = %v, want NotFound", err)
	}
	if _, err := cluster.Kube.AppsV1().StatefulSets("signet-system").Get(ctx, "signet-apiserver", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("StatefulSet signet-system/signet-apiserver after a dry run: err = %v, want NotFound", err)
	}
	// ... and the framework's objects that the forced dry runs overrode
	// are unchanged, so signet-apiserver is still served.
	svc, err := cluster.Kube.CoreV1().Services(framework.SignetNamespace).Get(ctx, framework.SignetServiceName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.Type != "ExternalName" {
		t.Errorf("the framework's Service is of type %s after the dry runs, want ExternalName", svc.Spec.Type)
	}
	apiServices := cluster.Dynamic.Resource(schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"})
	for _, a := range framework.APIServices {
		obj, err := apiServices.Get(ctx, a.Version+"."+a.Group, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		port, _, _ := unstructured.NestedInt64(obj.Object, "spec", "service", "port")
		if port == 443 {
			t.Errorf("APIService %s points at port 443 after the dry runs: the dry run was stored", obj.GetName())
		}
	}
	if _, err := cluster.Signet.NetworkingV1().IngressClasses().List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		t.Errorf("signet's API is not served after the dry runs: %v", err)
	}
}

// TestKustomization applies deploy/ the way the README says, with -k, as
// a server-side dry run: the default variant (embedded etcd) and
// everything it needs, and not the external-etcd Deployment.
func TestKustomization(t *testing.T) {
	dir := deployDir(t)
	// --force-conflicts: see forceConflicts.
	args := []string{"apply", "--dry-run=server", "--server-side", "--force-conflicts", "-k", dir}
	res := kubectlRun(args...)
	if res.err != nil {
		t.Fatalf("kubectl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), res.err, res.stdout, res.stderr)
	}
	lines := strings.Split(res.stdout, "\n")
	var want []string
	for _, file := range manifestFiles {
		if slices.Contains(notInKustomization, file) {
			continue
		}
		for _, obj := range readObjects(t, file) {
			want = append(want, kubectlName(obj.GVK, obj.Name)+" serverside-applied (server dry run)")
		}
	}
	for _, w := range want {
		if !containsLine(lines, w) {
			t.Errorf("kubectl apply -k did not print %q; stdout:\n%s", w, res.stdout)
		}
	}
	if got := nonEmpty(lines); len(got) != len(want) {
		t.Errorf("kubectl apply -k printed %d objects, want %d:\n%s", len(got), len(want), res.stdout)
	}
	if strings.Contains(res.stdout, "deployment.apps/signet-apiserver ") {
		t.Errorf("kubectl apply -k applies the signet-apiserver Deployment; the default is the embedded-etcd StatefulSet only:\n%s", res.stdout)
	}
}

// TestPodSecurityWarningsAreReported shows that the warning check of
// TestServerSideDryRun can fail: the same StatefulSet without its
// security contexts draws Pod Security warnings from a dry run in the
// restricted signet-system namespace.
func TestPodSecurityWarningsAreReported(t *testing.T) {
	dir := deployDir(t)
	res := kubectlRun("apply", "--server-side", "-f", filepath.Join(dir, "namespace.yaml"))
	if res.err != nil {
		t.Fatalf("kubectl apply -f namespace.yaml: %v\n%s", res.err, res.stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "apiserver-embedded-etcd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Drop the pod's and the container's securityContext blocks.
	var kept []string
	skipIndent := -1
	for _, line := range strings.Split(string(data), "\n") {
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if skipIndent >= 0 {
			if strings.TrimSpace(line) == "" || indent > skipIndent {
				continue
			}
			skipIndent = -1
		}
		if strings.TrimSpace(line) == "securityContext:" {
			skipIndent = indent
			continue
		}
		kept = append(kept, line)
	}
	insecure := strings.Join(kept, "\n")
	if strings.Contains(insecure, "runAsNonRoot") {
		t.Fatalf("failed to strip the security contexts:\n%s", insecure)
	}
	cmd := cluster.KubectlCmd(context.Background(), "apply", "--dry-run=server", "--server-side", "-f", "-")
	cmd.Stdin = strings.NewReader(insecure)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl apply -f -: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "would violate PodSecurity") {
		t.Fatalf("a StatefulSet without security contexts drew no Pod Security warning; stderr:\n%s", stderr.String())
	}
}

// checkWarnings fails t for any warning kube-apiserver returned for file
// other than the allowed ones: deprecated APIs, fields it ignores, Pod
// Security violations.
func checkWarnings(t *testing.T, file, stderr string) {
	t.Helper()
	for _, line := range nonEmpty(strings.Split(stderr, "\n")) {
		allowed := false
		for _, w := range allowedWarnings[file] {
			if strings.Contains(line, w) {
				allowed = true
			}
		}
		if !allowed {
			t.Errorf("kubectl printed for %s: %s", file, line)
		}
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if strings.TrimSpace(l) == want {
			return true
		}
	}
	return false
}

func nonEmpty(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
