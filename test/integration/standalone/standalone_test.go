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

// Package standalone tests signet-apiserver run the way the README starts
// it locally: --standalone, with its own certificate, token and kubeconfig,
// embedded etcd by default or an external etcd with --etcd-servers.
package standalone

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	signetclientset "signet.dev/client-go/clientset/versioned"

	"signet.dev/signet/pkg/apiserver/embeddedetcd"
	"signet.dev/signet/test/integration/framework"
)

var binary, kubectlBinary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "signet-standalone-bin-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	if binary, err = framework.BuildSignetAPIServer(ctx, dir); err != nil {
		panic(err)
	}
	if kubectlBinary, err = framework.Kubectl(ctx); err != nil {
		panic(err)
	}
	return m.Run()
}

type server struct {
	dataDir string
	port    int
	cmd     *exec.Cmd
	log     string
}

// start runs signet-apiserver --standalone and waits until it is ready.
func start(t *testing.T, dataDir string, port int, extra ...string) *server {
	t.Helper()
	s := &server{dataDir: dataDir, port: port, log: filepath.Join(dataDir+"-logs", "signet-apiserver.log")}
	if err := os.MkdirAll(filepath.Dir(s.log), 0o755); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--standalone", "--data-dir=" + dataDir, "--secure-port=" + strconv.Itoa(port), "--bind-address=127.0.0.1"}, extra...)
	s.cmd = exec.Command(binary, args...)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stop(t); logFile.Close() })

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := client.Get("https://127.0.0.1:" + strconv.Itoa(port) + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("signet-apiserver did not become ready:\n%s", s.logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
	return s
}

func (s *server) stop(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
		t.Errorf("signet-apiserver ignored SIGTERM for 30s")
	}
}

func (s *server) logs() string {
	data, _ := os.ReadFile(s.log)
	return string(data)
}

func (s *server) kubeconfig() string { return filepath.Join(s.dataDir, "kubeconfig") }

func (s *server) kubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(kubectlBinary, append([]string{"--kubeconfig=" + s.kubeconfig()}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECACHEDIR="+filepath.Join(s.dataDir+"-logs", "kubectl-cache"))
	cmd.Stdin = strings.NewReader(stdin)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s\nserver log:\n%s", strings.Join(args, " "), err, stderr.String(), s.logs())
	}
	return string(out)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

const legacyIngress = `
apiVersion: networking.signet.dev/v1beta1
kind: Ingress
metadata:
  name: legacy
spec:
  backend:
    serviceName: fallback
    servicePort: 8080
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /cart
        backend:
          serviceName: cart
          servicePort: http
`

// TestStandaloneWithKubectl is the README's local start: apply a v1beta1
// Ingress with the kubeconfig the server wrote and read it back as v1.
func TestStandaloneWithKubectl(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	port := freePort(t)
	s := start(t, dataDir, port)

	if out := s.kubectl(t, legacyIngress, "apply", "-f", "-"); !strings.Contains(out, "ingress.networking.signet.dev/legacy created") {
		t.Errorf("kubectl apply printed %q", out)
	}
	out := s.kubectl(t, "", "get", "ingresses.v1.networking.signet.dev", "legacy", "-o", "yaml")
	for _, want := range []string{"apiVersion: networking.signet.dev/v1", "defaultBackend:", "name: fallback", "number: 8080", "name: http", "pathType: ImplementationSpecific"} {
		if !strings.Contains(out, want) {
			t.Errorf("v1 view lacks %q:\n%s", want, out)
		}
	}

	t.Run("only the admin token is authorized", func(t *testing.T) {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		base := "https://127.0.0.1:" + strconv.Itoa(port)
		for path, want := range map[string]int{
			"/readyz": http.StatusOK, "/livez": http.StatusOK, "/healthz": http.StatusOK,
			"/apis/networking.signet.dev/v1/ingresses": http.StatusForbidden,
			"/metrics": http.StatusForbidden,
		} {
			resp, err := client.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("anonymous GET %s = %d, want %d", path, resp.StatusCode, want)
			}
		}
		metrics := s.kubectl(t, "", "get", "--raw", "/metrics")
		if !strings.Contains(metrics, "apiserver_request_total") {
			t.Errorf("the admin cannot read the standard apiserver metrics")
		}
	})

	t.Run("a restart keeps data, certificate and token", func(t *testing.T) {
		s.stop(t)
		s2 := start(t, dataDir, port)
		out := s2.kubectl(t, "", "get", "ingresses.networking.signet.dev", "legacy", "-o", "jsonpath={.spec.defaultBackend.service.name}")
		if out != "fallback" {
			t.Errorf("after a restart the Ingress reads %q", out)
		}
	})
}

// TestExternalEtcd points a standalone server at an etcd it does not own
// and checks the objects land there, under signet's prefix.
func TestExternalEtcd(t *testing.T) {
	ctx := context.Background()
	etcd, err := embeddedetcd.Start(ctx, filepath.Join(t.TempDir(), "external-etcd"))
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Stop()

	dataDir := filepath.Join(t.TempDir(), "data")
	s := start(t, dataDir, freePort(t), "--etcd-servers="+etcd.ClientURL())
	if _, err := os.Stat(filepath.Join(dataDir, "etcd")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an embedded etcd data directory exists although --etcd-servers was given (%v)", err)
	}
	s.kubectl(t, legacyIngress, "apply", "-f", "-")

	cfg, err := clientcmd.BuildConfigFromFlags("", s.kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	client := signetclientset.NewForConfigOrDie(cfg)
	if _, err := client.NetworkingV1().Ingresses("default").Get(ctx, "legacy", metav1.GetOptions{}); err != nil {
		t.Fatalf("reading back through the API: %v", err)
	}
	etcdClient, err := clientv3.New(clientv3.Config{Endpoints: []string{etcd.ClientURL()}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer etcdClient.Close()
	resp, err := etcdClient.Get(ctx, "/registry/signet.dev/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, kv := range resp.Kvs {
		keys = append(keys, string(kv.Key))
	}
	want := "/registry/signet.dev/networking.signet.dev/ingresses/default/legacy"
	found := false
	for _, k := range keys {
		found = found || k == want
	}
	if !found {
		t.Errorf("etcd keys under /registry/signet.dev/ = %v, want %s", keys, want)
	}
}
