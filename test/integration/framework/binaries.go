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

package framework

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

type binaries struct {
	kubeAPIServer   string
	kubectl         string
	signetAPIServer string
}

// buildBinaries finds or builds what the cluster runs:
//   - kube-apiserver and kubectl from hack/build-upstream.sh, which builds
//     each upstream version once and caches it under _output/upstream
//     (SIGNET_UPSTREAM_BIN_DIR points at another directory of them);
//   - signet-apiserver from this checkout, built afresh for every test
//     package so the tests never run a stale binary (SIGNET_APISERVER_BIN
//     points at a prebuilt one).
func buildBinaries(ctx context.Context, dir string) (binaries, error) {
	upstream, err := upstreamBinDir(ctx)
	if err != nil {
		return binaries{}, err
	}
	b := binaries{
		kubeAPIServer: filepath.Join(upstream, "kube-apiserver"),
		kubectl:       filepath.Join(upstream, "kubectl"),
	}
	if b.signetAPIServer, err = BuildSignetAPIServer(ctx, dir); err != nil {
		return binaries{}, err
	}
	for _, f := range []string{b.kubeAPIServer, b.kubectl, b.signetAPIServer} {
		if _, err := os.Stat(f); err != nil {
			return binaries{}, fmt.Errorf("missing binary: %w", err)
		}
	}
	return b, nil
}

// BuildSignetAPIServer builds signet-apiserver from this checkout into
// dir/bin, or returns SIGNET_APISERVER_BIN when that is set.
func BuildSignetAPIServer(ctx context.Context, dir string) (string, error) {
	if bin := os.Getenv("SIGNET_APISERVER_BIN"); bin != "" {
		return bin, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "bin", "signet-apiserver")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/signet-apiserver")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building signet-apiserver: %v\n%s", err, out)
	}
	return bin, nil
}

// Kubectl returns kubectl built from the pinned upstream module.
func Kubectl(ctx context.Context) (string, error) {
	dir, err := upstreamBinDir(ctx)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "kubectl"), nil
}

func upstreamBinDir(ctx context.Context) (string, error) {
	if dir := os.Getenv("SIGNET_UPSTREAM_BIN_DIR"); dir != "" {
		return dir, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "build-upstream.sh"), "kube-apiserver", "kubectl")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("building upstream components: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}
