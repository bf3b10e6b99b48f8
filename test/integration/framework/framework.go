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

// Package framework starts, for one integration test package, the control
// plane signet runs in: an etcd, an unmodified upstream kube-apiserver
// built from the pinned k8s.io/kubernetes module (hack/build-upstream.sh),
// and signet-apiserver as an aggregated API server behind it, registered
// through APIServices exactly as deploy/ registers it on a real cluster.
//
// The servers are real processes on loopback ports; their logs are kept in
// the cluster's directory, whose path failing tests print.
package framework

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	signetclientset "signet.dev/client-go/clientset/versioned"

	"signet.dev/signet/pkg/apiserver/embeddedetcd"
)

const (
	// SignetNamespace holds the Service the APIServices point at.
	SignetNamespace = "signet-system"
	// SignetServiceName is that Service: an ExternalName of localhost, so
	// that kube-apiserver's aggregator dials signet-apiserver on this
	// machine (see "Aggregation routing" in DESIGN.md).
	SignetServiceName = "signet-apiserver"
	startTimeout      = 3 * time.Minute
	stopGrace         = 30 * time.Second
)

// APIServices are the group versions signet-apiserver serves, with the
// priorities that make kubectl prefer signet's Ingress and EndpointSlice
// over the built-in ones of the same name (networking.k8s.io has 17200,
// discovery.k8s.io 16200).
var APIServices = []struct {
	Group, Version                        string
	GroupPriorityMinimum, VersionPriority int64
}{
	{"networking.signet.dev", "v1", 18000, 20},
	{"networking.signet.dev", "v1beta1", 18000, 10},
	{"discovery.signet.dev", "v1", 17000, 20},
	{"discovery.signet.dev", "v1alpha1", 17000, 10},
}

// Cluster is a running control plane.
type Cluster struct {
	// Dir holds certificates, kubeconfigs, data and logs.
	Dir string
	// KubeconfigFile is an admin (system:masters) kubeconfig for
	// kube-apiserver, through which signet's groups are reached too.
	KubeconfigFile string
	// Config is the admin client configuration of KubeconfigFile.
	Config *rest.Config
	// Kube is a client of the core API.
	Kube kubernetes.Interface
	// Signet is a client of signet's API groups, through aggregation.
	Signet signetclientset.Interface
	// Dynamic is a dynamic client, for APIServices and raw objects.
	Dynamic dynamic.Interface
	// Kubectl is the path of kubectl built from the same upstream module.
	Kubectl string
	// EtcdURL is the etcd kube-apiserver stores in.
	EtcdURL string

	etcd          *embeddedetcd.Server
	kubeAPIServer *process
	signet        *process
	signetBinary  string
	signetArgs    []string
	signetURL     string
	ca            *authority
}

// Start brings a cluster up, or returns an error after stopping whatever
// it had started.
func Start(ctx context.Context) (c *Cluster, err error) {
	dir, err := os.MkdirTemp("", "signet-integration-")
	if err != nil {
		return nil, err
	}
	c = &Cluster{Dir: dir}
	defer func() {
		if err != nil {
			c.Stop()
			err = fmt.Errorf("%w (logs in %s)", err, dir)
		}
	}()

	bins, err := buildBinaries(ctx, dir)
	if err != nil {
		return nil, err
	}
	c.Kubectl = bins.kubectl
	c.signetBinary = bins.signetAPIServer

	if c.etcd, err = embeddedetcd.Start(ctx, filepath.Join(dir, "etcd")); err != nil {
		return nil, err
	}
	c.EtcdURL = c.etcd.ClientURL()

	if err := c.startKubeAPIServer(ctx, bins.kubeAPIServer); err != nil {
		return nil, err
	}
	if err := c.startSignetAPIServer(ctx); err != nil {
		return nil, err
	}
	if err := c.registerAPIServices(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Stop stops every server, signet-apiserver first, and removes the
// cluster's directory unless SIGNET_KEEP_TEST_DIR is set.
func (c *Cluster) Stop() {
	for _, p := range []*process{c.signet, c.kubeAPIServer} {
		if p != nil {
			_ = p.stop(stopGrace)
		}
	}
	if c.etcd != nil {
		c.etcd.Stop()
	}
	if os.Getenv("SIGNET_KEEP_TEST_DIR") == "" {
		_ = os.RemoveAll(c.Dir)
	}
}

func (c *Cluster) startKubeAPIServer(ctx context.Context, binary string) error {
	var err error
	pki := filepath.Join(c.Dir, "pki")
	if err := os.MkdirAll(pki, 0o700); err != nil {
		return err
	}
	if c.ca, err = newAuthority(pki, "ca"); err != nil {
		return err
	}
	frontProxyCA, err := newAuthority(pki, "front-proxy-ca")
	if err != nil {
		return err
	}
	loopback := []net.IP{net.ParseIP("127.0.0.1")}
	serverCert, serverKey, err := c.ca.issue(pki, "kube-apiserver", "kube-apiserver", nil, []string{"localhost", "kubernetes.default.svc"}, loopback)
	if err != nil {
		return err
	}
	adminCert, adminKey, err := c.ca.issue(pki, "admin", "signet-test-admin", []string{"system:masters"}, nil, nil)
	if err != nil {
		return err
	}
	proxyCert, proxyKey, err := frontProxyCA.issue(pki, "front-proxy-client", "front-proxy-client", nil, nil, nil)
	if err != nil {
		return err
	}
	saKey, err := newServiceAccountKey(pki)
	if err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	server := "https://127.0.0.1:" + itoa(port)
	c.kubeAPIServer, err = startProcess("kube-apiserver", filepath.Join(c.Dir, "kube-apiserver.log"), binary,
		"--bind-address=127.0.0.1",
		"--secure-port="+itoa(port),
		"--etcd-servers="+c.EtcdURL,
		"--etcd-prefix=/kubernetes",
		"--tls-cert-file="+serverCert,
		"--tls-private-key-file="+serverKey,
		"--client-ca-file="+c.ca.certFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+saKey,
		"--service-account-signing-key-file="+saKey,
		"--service-cluster-ip-range=10.96.0.0/16,fd00:10:96::/112",
		"--requestheader-client-ca-file="+frontProxyCA.certFile,
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file="+proxyCert,
		"--proxy-client-key-file="+proxyKey,
		"--v=1",
	)
	if err != nil {
		return err
	}

	if err := c.writeKubeconfig(server, adminCert, adminKey); err != nil {
		return err
	}
	return c.kubeAPIServer.waitFor(ctx, startTimeout, "becoming ready", func(ctx context.Context) error {
		body, err := c.Kube.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("%v: %s", err, body)
		}
		return nil
	})
}

func (c *Cluster) writeKubeconfig(server, certFile, keyFile string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: server, CertificateAuthority: c.ca.certFile}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificate: certFile, ClientKey: keyFile}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "admin", Namespace: "default"}
	cfg.CurrentContext = "test"
	c.KubeconfigFile = filepath.Join(c.Dir, "admin.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, c.KubeconfigFile); err != nil {
		return err
	}
	restConfig, err := clientcmd.BuildConfigFromFlags("", c.KubeconfigFile)
	if err != nil {
		return err
	}
	restConfig.QPS, restConfig.Burst = 100, 200
	c.Config = restConfig
	if c.Kube, err = kubernetes.NewForConfig(restConfig); err != nil {
		return err
	}
	if c.Signet, err = signetclientset.NewForConfig(restConfig); err != nil {
		return err
	}
	c.Dynamic, err = dynamic.NewForConfig(restConfig)
	return err
}

// startSignetAPIServer runs signet-apiserver in aggregated mode with its
// embedded etcd, delegating authentication and authorization to
// kube-apiserver with the admin kubeconfig.
func (c *Cluster) startSignetAPIServer(ctx context.Context) error {
	pki := filepath.Join(c.Dir, "pki")
	cert, key, err := c.ca.issue(pki, "signet-apiserver", "signet-apiserver", nil,
		[]string{SignetServiceName + "." + SignetNamespace + ".svc", "localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	c.signetURL = "https://127.0.0.1:" + itoa(port)
	c.signetArgs = []string{
		"--bind-address=127.0.0.1",
		"--secure-port=" + itoa(port),
		"--tls-cert-file=" + cert,
		"--tls-private-key-file=" + key,
		"--data-dir=" + filepath.Join(c.Dir, "signet-apiserver"),
		"--kubeconfig=" + c.KubeconfigFile,
		"--authentication-kubeconfig=" + c.KubeconfigFile,
		"--authorization-kubeconfig=" + c.KubeconfigFile,
		"--v=1",
	}
	return c.runSignetAPIServer(ctx)
}

func (c *Cluster) runSignetAPIServer(ctx context.Context) error {
	var err error
	c.signet, err = startProcess("signet-apiserver", filepath.Join(c.Dir, "signet-apiserver.log"), c.signetBinary, c.signetArgs...)
	if err != nil {
		return err
	}
	// Talk to signet-apiserver directly: its health endpoints answer
	// without credentials.
	direct, err := rest.HTTPClientFor(&rest.Config{TLSClientConfig: rest.TLSClientConfig{CAFile: c.ca.certFile}})
	if err != nil {
		return err
	}
	return c.signet.waitFor(ctx, startTimeout, "becoming ready", func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.signetURL+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := direct.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz: %d %s", resp.StatusCode, body)
		}
		return nil
	})
}

// RestartSignetAPIServer stops signet-apiserver gracefully and starts it
// again with the same flags and data directory.
func (c *Cluster) RestartSignetAPIServer(ctx context.Context) error {
	if err := c.signet.stop(stopGrace); err != nil {
		return err
	}
	if err := c.runSignetAPIServer(ctx); err != nil {
		return err
	}
	return c.waitForAPIServices(ctx)
}

var apiServiceResource = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

func (c *Cluster) registerAPIServices(ctx context.Context) error {
	if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: SignetNamespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	_, portText, _ := net.SplitHostPort(strings.TrimPrefix(c.signetURL, "https://"))
	port, err := strconv.Atoi(portText)
	if err != nil {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: SignetServiceName, Namespace: SignetNamespace},
		Spec: corev1.ServiceSpec{
			Type:         corev1.ServiceTypeExternalName,
			ExternalName: "localhost",
		},
	}
	if _, err := c.Kube.CoreV1().Services(SignetNamespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	caBundle, err := os.ReadFile(c.ca.certFile)
	if err != nil {
		return err
	}
	for _, a := range APIServices {
		obj := &unstructured.Unstructured{Object: map[string]interface{}{
			"apiVersion": "apiregistration.k8s.io/v1",
			"kind":       "APIService",
			"metadata":   map[string]interface{}{"name": a.Version + "." + a.Group},
			"spec": map[string]interface{}{
				"group":                a.Group,
				"version":              a.Version,
				"groupPriorityMinimum": a.GroupPriorityMinimum,
				"versionPriority":      a.VersionPriority,
				"caBundle":             caBundle,
				"service": map[string]interface{}{
					"namespace": SignetNamespace,
					"name":      SignetServiceName,
					"port":      int64(port),
				},
			},
		}}
		if _, err := c.Dynamic.Resource(apiServiceResource).Create(ctx, obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating APIService %s: %w", obj.GetName(), err)
		}
	}
	return c.waitForAPIServices(ctx)
}

// waitForAPIServices waits until every APIService is Available, its
// OpenAPI v3 document is aggregated (kubectl explain and server-side apply
// clients read it), and each group answers a list through kube-apiserver.
func (c *Cluster) waitForAPIServices(ctx context.Context) error {
	return c.signet.waitFor(ctx, startTimeout, "serving through kube-apiserver", func(ctx context.Context) error {
		for _, a := range APIServices {
			obj, err := c.Dynamic.Resource(apiServiceResource).Get(ctx, a.Version+"."+a.Group, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if !available(obj) {
				return fmt.Errorf("APIService %s is not Available", obj.GetName())
			}
			path := "/openapi/v3/apis/" + a.Group + "/" + a.Version
			if _, err := c.Kube.Discovery().RESTClient().Get().AbsPath(path).DoRaw(ctx); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
		if _, err := c.Signet.NetworkingV1().IngressClasses().List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
			return err
		}
		_, err := c.Signet.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{Limit: 1})
		return err
	})
}

func available(apiService *unstructured.Unstructured) bool {
	conditions, _, _ := unstructured.NestedSlice(apiService.Object, "status", "conditions")
	for _, raw := range conditions {
		cond, ok := raw.(map[string]interface{})
		if ok && cond["type"] == "Available" && cond["status"] == "True" {
			return true
		}
	}
	return false
}

// KubectlCmd returns a kubectl command against the cluster.
func (c *Cluster) KubectlCmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.Kubectl, append([]string{"--kubeconfig=" + c.KubeconfigFile}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECACHEDIR="+filepath.Join(c.Dir, "kubectl-cache"))
	return cmd
}

// Logs returns the tail of a server's log, for failure messages.
func (c *Cluster) Logs(name string) string {
	data, err := os.ReadFile(filepath.Join(c.Dir, name+".log"))
	if err != nil {
		return err.Error()
	}
	const max = 8000
	if len(data) > max {
		data = data[len(data)-max:]
	}
	return string(data)
}

// RunTests is the TestMain of an integration test package: it starts a
// cluster, stores it in *c for the tests, runs them and stops the cluster.
func RunTests(m interface{ Run() int }, c **Cluster) int {
	cluster, err := Start(context.Background())
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting the test cluster: %v\n", err)
		return 1
	}
	defer cluster.Stop()
	defer RemoveBuiltCommands()
	*c = cluster
	return m.Run()
}
