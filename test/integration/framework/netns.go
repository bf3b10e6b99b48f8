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
	"net"
	"net/url"
	"path/filepath"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"signet.dev/signet/test/integration/framework/nsutil"
)

// KubeconfigIn returns a kubeconfig for a process running inside ns:
// kube-apiserver listens on this machine's loopback, which ns cannot see,
// so a forwarder on ns's own loopback carries the connections to it (no
// address outside the test's namespaces receives traffic). The forwarder
// stops when the test ends.
func (c *Cluster) KubeconfigIn(t testing.TB, ns *nsutil.NS) string {
	t.Helper()
	ln, err := ns.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server, err := url.Parse(c.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	nsutil.Forward(t, ln, func() (net.Conn, error) { return net.Dial("tcp", server.Host) })
	cfg, err := clientcmd.LoadFromFile(c.KubeconfigFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range cfg.Clusters {
		cl.Server = "https://" + ln.Addr().String()
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}
	return kubeconfig
}
