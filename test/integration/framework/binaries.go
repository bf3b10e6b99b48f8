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
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
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
	bin := filepath.Join(dir, "bin", "signet-apiserver")
	if err := goBuild(ctx, bin, "./cmd/signet-apiserver"); err != nil {
		return "", err
	}
	return bin, nil
}

// goBuild builds the main package pkg (relative to the module root) of
// this checkout into out.
func goBuild(ctx context.Context, out, pkg string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %v\n%s", pkg, err, output)
	}
	return nil
}

// commands caches what BuildCommand built, per test binary.
var commands struct {
	sync.Mutex
	dir   string
	built map[string]string
	errs  map[string]error
}

// BuildCommand builds the main package pkg of this checkout ("./cmd/kube-proxy",
// relative to the module root) once per test binary and returns the
// binary's path. Binaries share one directory, so programs that look for
// each other beside themselves find each other; the binary is called name,
// or pkg's last element when name is empty. RunTests removes the directory
// at the end.
func BuildCommand(t testing.TB, pkg, name string) string {
	t.Helper()
	commands.Lock()
	defer commands.Unlock()
	if bin, ok := commands.built[pkg]; ok {
		return bin
	}
	if err, ok := commands.errs[pkg]; ok {
		t.Fatal(err)
	}
	if commands.dir == "" {
		dir, err := os.MkdirTemp("", "signet-test-bin-")
		if err != nil {
			t.Fatal(err)
		}
		commands.dir, commands.built, commands.errs = dir, map[string]string{}, map[string]error{}
	}
	if name == "" {
		name = path.Base(pkg)
	}
	bin := filepath.Join(commands.dir, name)
	if err := goBuild(context.Background(), bin, pkg); err != nil {
		commands.errs[pkg] = err
		t.Fatal(err)
	}
	commands.built[pkg] = bin
	return bin
}

// RemoveBuiltCommands deletes what BuildCommand built; RunTests calls it,
// a TestMain without a cluster calls it itself.
func RemoveBuiltCommands() {
	commands.Lock()
	defer commands.Unlock()
	if commands.dir != "" {
		_ = os.RemoveAll(commands.dir)
	}
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
