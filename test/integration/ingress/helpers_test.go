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

package ingress

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	discoveryv1 "signet.dev/api/discovery/v1"
	networkingv1 "signet.dev/api/networking/v1"

	"signet.dev/signet/test/integration/framework"
	"signet.dev/signet/test/integration/framework/nsutil"
)

const (
	// convergeTimeout bounds every wait for the control plane and the
	// proxy to reach a state; generous, as the machine is small and shared.
	convergeTimeout = 90 * time.Second
	pollInterval    = 100 * time.Millisecond
)

// publishAddresses are what every signet-ingress of these tests reports
// (documentation addresses: only reported in status, never connected to).
var publishAddresses = []networkingv1.IngressLoadBalancerIngress{
	{IP: "203.0.113.200"}, {IP: "2001:db8::200"}, {Hostname: "ingress.example.com"},
}

func waitFor(t *testing.T, what string, cond func() error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), pollInterval, convergeTimeout, true, func(context.Context) (bool, error) {
		last = cond()
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v; last check: %v", what, err, last)
	}
}

// The backend addresses: non-loopback (signet-apiserver refuses loopback
// endpoints), on the loopback link of each test's own network namespace,
// which has no link to anything else.
const (
	backendV4 = "10.90.0.2"
	backendV6 = "fd00:90::2"
	// firstProxyPort is the first port signet-ingress listens on in a
	// namespace, below the ephemeral range the backends' ports come from.
	firstProxyPort = 10000
)

// testNet is the network namespace of one test. The backends (sockets of
// the test process) and signet-ingress listen in it, and the test process
// connects from it, so that nothing outside it but loopback receives
// traffic: signet-ingress reaches kube-apiserver through a forwarder on
// the namespace's loopback (see framework.Cluster.KubeconfigIn).
type testNet struct {
	ns       *nsutil.NS
	v4, v6   netip.Addr
	nextPort int
}

// newNet creates the namespace of a test, with backendV4 and backendV6 on
// its loopback link. It skips the test without root (or fails it when
// SIGNET_REQUIRE_ROOT_TESTS=1, as in CI).
func newNet(t *testing.T) *testNet {
	t.Helper()
	nsutil.RequireRoot(t)
	ns := nsutil.New(t, "ingress")
	ns.Addr(t, "lo", backendV4+"/32")
	ns.Addr(t, "lo", backendV6+"/128")
	return &testNet{
		ns:       ns,
		v4:       netip.MustParseAddr(backendV4),
		v6:       netip.MustParseAddr(backendV6),
		nextPort: firstProxyPort,
	}
}

// port returns a port nothing in the namespace listens on: the namespace
// is the test's own, so counting is enough.
func (n *testNet) port() string {
	p := n.nextPort
	n.nextPort++
	return strconv.Itoa(p)
}

// httpClient is a client connecting from inside the namespace.
func (n *testNet) httpClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{DialContext: n.ns.Dial, DisableKeepAlives: true},
		Timeout:   10 * time.Second,
	}
}

// backend is an HTTP server of the test process that answers every
// request with its name (body and X-Backend), echoes what it received in
// X-Seen-* headers, and answers its health path /healthz with 200 or 500.
type backend struct {
	name    string
	ns      *nsutil.NS
	addr    netip.AddrPort
	healthy atomic.Bool
	hits    atomic.Int64
	// slowStarted receives when a request for /slow arrives.
	slowStarted chan struct{}

	mu  sync.Mutex
	srv *http.Server
}

// startBackend starts a backend on ip, a port of its own, in the test's
// namespace.
func startBackend(t *testing.T, n *testNet, name string, ip netip.Addr) *backend {
	t.Helper()
	ln, err := n.ns.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	return serveBackend(t, n, name, ln)
}

// startBackendsOnOnePort starts a backend on each address, all on one
// port, as the pods of one Deployment would be.
func startBackendsOnOnePort(t *testing.T, n *testNet, names []string, ips []netip.Addr) []*backend {
	t.Helper()
	for range 50 {
		first, err := n.ns.Listen("tcp", net.JoinHostPort(ips[0].String(), "0"))
		if err != nil {
			t.Fatal(err)
		}
		port := strconv.Itoa(first.Addr().(*net.TCPAddr).Port)
		lns := []net.Listener{first}
		for _, ip := range ips[1:] {
			ln, err := n.ns.Listen("tcp", net.JoinHostPort(ip.String(), port))
			if err != nil {
				break
			}
			lns = append(lns, ln)
		}
		if len(lns) < len(ips) {
			for _, ln := range lns {
				ln.Close()
			}
			continue
		}
		var out []*backend
		for i, ln := range lns {
			out = append(out, serveBackend(t, n, names[i], ln))
		}
		return out
	}
	t.Fatalf("no port free on all of %v", ips)
	return nil
}

func serveBackend(t *testing.T, n *testNet, name string, ln net.Listener) *backend {
	t.Helper()
	b := &backend{name: name, ns: n.ns, addr: netip.MustParseAddrPort(ln.Addr().String()), slowStarted: make(chan struct{}, 1)}
	b.healthy.Store(true)
	b.serve(ln)
	t.Cleanup(b.stop)
	return b
}

// handler answers by path without cleaning it first (http.ServeMux would
// redirect "/a/../b"): the backend must see what the proxy sent.
func (b *backend) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			if !b.healthy.Load() {
				http.Error(w, "unhealthy", http.StatusInternalServerError)
				return
			}
			_, _ = io.WriteString(w, "ok")
			return
		case "/slow":
			select {
			case b.slowStarted <- struct{}{}:
			default:
			}
			time.Sleep(2 * time.Second)
		default:
			b.hits.Add(1)
		}
		h := w.Header()
		h.Set("X-Backend", b.name)
		h.Set("X-Seen-Uri", r.RequestURI)
		h.Set("X-Seen-Host", r.Host)
		h.Set("X-Seen-Forwarded-For", r.Header.Get("X-Forwarded-For"))
		h.Set("X-Seen-Forwarded-Proto", r.Header.Get("X-Forwarded-Proto"))
		h.Set("X-Seen-Forwarded-Host", r.Header.Get("X-Forwarded-Host"))
		_, _ = io.WriteString(w, b.name)
	})
}

func (b *backend) serve(ln net.Listener) {
	srv := &http.Server{Handler: b.handler(), ReadHeaderTimeout: 10 * time.Second}
	b.mu.Lock()
	b.srv = srv
	b.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// stop closes the listener and every connection: new connections are
// refused.
func (b *backend) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.srv != nil {
		_ = b.srv.Close()
		b.srv = nil
	}
}

// restart serves again on the same address.
func (b *backend) restart(t *testing.T) {
	t.Helper()
	var ln net.Listener
	waitFor(t, "the port of "+b.name+" to be free again", func() (err error) {
		ln, err = b.ns.Listen("tcp", b.addr.String())
		return err
	})
	b.serve(ln)
}

// newNamespace creates a namespace for one test.
func newNamespace(t *testing.T, prefix string) string {
	t.Helper()
	ns, err := cluster.Kube.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a namespace: %v", err)
	}
	return ns.Name
}

// createService creates a Service without selector with the port
// "http" (80) and the port "health" (81), and one EndpointSlice per
// backend, as an EndpointSlice controller would for pods whose named
// target ports differ. Backends in notReady get ready=false.
func createService(t *testing.T, ns, name string, backends []*backend, notReady ...*backend) {
	t.Helper()
	ctx := context.Background()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			Ports: []corev1.ServicePort{
				{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP},
				{Name: "health", Port: 81, Protocol: corev1.ProtocolTCP},
			},
		},
	}
	if _, err := cluster.Kube.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating Service %s/%s: %v", ns, name, err)
	}
	for _, b := range backends {
		ready := true
		for _, nr := range notReady {
			if nr == b {
				ready = false
			}
		}
		createSlice(t, ns, name, b, ready)
	}
}

func createSlice(t *testing.T, ns, service string, b *backend, ready bool) {
	t.Helper()
	family := discoveryv1.AddressTypeIPv4
	if b.addr.Addr().Is6() {
		family = discoveryv1.AddressTypeIPv6
	}
	port := int32(b.addr.Port())
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name:   service + "-" + b.name,
			Labels: map[string]string{discoveryv1.LabelServiceName: service},
		},
		AddressType: family,
		Ports: []discoveryv1.EndpointPort{
			{Name: ptr.To("http"), Port: ptr.To(port), Protocol: ptr.To(corev1.ProtocolTCP)},
			{Name: ptr.To("health"), Port: ptr.To(port), Protocol: ptr.To(corev1.ProtocolTCP)},
		},
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{b.addr.Addr().String()},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)},
		}},
	}
	if _, err := cluster.Signet.DiscoveryV1().EndpointSlices(ns).Create(context.Background(), slice, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating EndpointSlice %s/%s: %v", ns, slice.Name, err)
	}
}

func createClass(t *testing.T, name, controller string) {
	t.Helper()
	class := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       networkingv1.IngressClassSpec{Controller: controller},
	}
	if _, err := cluster.Signet.NetworkingV1().IngressClasses().Create(context.Background(), class, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating IngressClass %s: %v", name, err)
	}
}

func createIngress(t *testing.T, ns string, ing *networkingv1.Ingress) *networkingv1.Ingress {
	t.Helper()
	out, err := cluster.Signet.NetworkingV1().Ingresses(ns).Create(context.Background(), ing, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating Ingress %s/%s: %v", ns, ing.Name, err)
	}
	return out
}

func getIngress(t *testing.T, ns, name string) *networkingv1.Ingress {
	t.Helper()
	ing, err := cluster.Signet.NetworkingV1().Ingresses(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("getting Ingress %s/%s: %v", ns, name, err)
	}
	return ing
}

// updateIngress applies change to the current Ingress, retrying on
// conflicts with the controller's status writes.
func updateIngress(t *testing.T, ns, name string, change func(*networkingv1.Ingress)) *networkingv1.Ingress {
	t.Helper()
	for {
		ing := getIngress(t, ns, name)
		change(ing)
		out, err := cluster.Signet.NetworkingV1().Ingresses(ns).Update(context.Background(), ing, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			t.Fatalf("updating Ingress %s/%s: %v", ns, name, err)
		}
		return out
	}
}

// Builders of Ingress specs.

func ingressOf(name, class string, rules ...networkingv1.IngressRule) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       networkingv1.IngressSpec{IngressClassName: ptr.To(class), Rules: rules},
	}
}

func rule(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
	return networkingv1.IngressRule{
		Host:             host,
		IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}},
	}
}

func svc(name string) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: name, Port: networkingv1.ServiceBackendPort{Name: "http"},
	}}
}

func svcPort(name string, number int32) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: name, Port: networkingv1.ServiceBackendPort{Number: number},
	}}
}

func path(typ networkingv1.PathType, p string, b networkingv1.IngressBackend) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: p, PathType: ptr.To(typ), Backend: b}
}

func exact(p string, b networkingv1.IngressBackend) networkingv1.HTTPIngressPath {
	return path(networkingv1.PathTypeExact, p, b)
}

func prefix(p string, b networkingv1.IngressBackend) networkingv1.HTTPIngressPath {
	return path(networkingv1.PathTypePrefix, p, b)
}

func regex(p string, b networkingv1.IngressBackend) networkingv1.HTTPIngressPath {
	return path(networkingv1.PathTypeImplementationSpecific, p, b)
}

// Status checks.

func condition(ing *networkingv1.Ingress, typ string) *metav1.Condition {
	return meta.FindStatusCondition(ing.Status.Conditions, typ)
}

// waitForStatus waits until the Ingress reports the publish addresses,
// Accepted with status and reason for its current generation, and
// Programmed True for it; it returns the Ingress.
func waitForStatus(t *testing.T, ns, name string, accepted metav1.ConditionStatus, reason string) *networkingv1.Ingress {
	t.Helper()
	var ing *networkingv1.Ingress
	waitFor(t, fmt.Sprintf("Ingress %s/%s to be Accepted=%s (%s) and Programmed", ns, name, accepted, reason), func() error {
		ing = getIngress(t, ns, name)
		a, p := condition(ing, networkingv1.IngressConditionAccepted), condition(ing, networkingv1.IngressConditionProgrammed)
		switch {
		case a == nil || p == nil:
			return fmt.Errorf("conditions %+v", ing.Status.Conditions)
		case a.Status != accepted || a.Reason != reason || a.ObservedGeneration != ing.Generation:
			return fmt.Errorf("generation %d, Accepted %+v", ing.Generation, *a)
		case p.Status != metav1.ConditionTrue || p.Reason != "Programmed" || p.ObservedGeneration != ing.Generation:
			return fmt.Errorf("generation %d, Programmed %+v", ing.Generation, *p)
		}
		return nil
	})
	if got := ing.Status.LoadBalancer.Ingress; len(got) != len(publishAddresses) {
		t.Errorf("%s/%s: status addresses %+v, want %+v", ns, name, got, publishAddresses)
	} else {
		for i := range got {
			if got[i].IP != publishAddresses[i].IP || got[i].Hostname != publishAddresses[i].Hostname {
				t.Errorf("%s/%s: status address %d is %+v, want %+v", ns, name, i, got[i], publishAddresses[i])
			}
		}
	}
	return ing
}

// proxyAddr is a listen address of signet-ingress in a test's namespace.
type proxyAddr struct {
	ns       *nsutil.NS
	hostPort string
}

// String is host:port, for messages.
func (a proxyAddr) String() string { return a.hostPort }

// signetIngress is a running signet-ingress binary, in a test's namespace.
type signetIngress struct {
	httpV4, httpV6, httpsV4, httpsV6 proxyAddr
	admin                            string
	// adminClient connects to admin from inside the namespace.
	adminClient *http.Client
	log         string
	cmd         *exec.Cmd
	done        chan error

	stopOnce sync.Once
	stopErr  error
}

// startIngress runs signet-ingress for controllerName inside the test's
// namespace, listening on its 127.0.0.1 and [::1], and waits until it is
// ready. At the end of the test it is stopped with SIGTERM, which must
// make it exit 0.
func startIngress(t *testing.T, n *testNet, controllerName string, extraArgs ...string) *signetIngress {
	t.Helper()
	bin := framework.BuildCommand(t, "./cmd/signet-ingress", "")
	at := func(ip string) proxyAddr { return proxyAddr{ns: n.ns, hostPort: net.JoinHostPort(ip, n.port())} }
	si := &signetIngress{
		httpV4:      at("127.0.0.1"),
		httpV6:      at("::1"),
		httpsV4:     at("127.0.0.1"),
		httpsV6:     at("::1"),
		admin:       net.JoinHostPort("127.0.0.1", n.port()),
		adminClient: n.httpClient(),
		log:         filepath.Join(t.TempDir(), "signet-ingress.log"),
		done:        make(chan error, 1),
	}
	var publish []string
	for _, a := range publishAddresses {
		publish = append(publish, a.IP+a.Hostname)
	}
	args := append([]string{
		"--kubeconfig=" + cluster.KubeconfigIn(t, n.ns),
		"--controller-name=" + controllerName,
		"--http-addr=" + si.httpV4.hostPort + "," + si.httpV6.hostPort,
		"--https-addr=" + si.httpsV4.hostPort + "," + si.httpsV6.hostPort,
		"--admin-addr=" + si.admin,
		"--publish-address=" + strings.Join(publish, ","),
		"--leader-elect-lease-duration=6s",
		"--leader-elect-renew-deadline=4s",
		"--leader-elect-retry-period=1s",
		"--v=2",
	}, extraArgs...)
	logFile, err := os.Create(si.log)
	if err != nil {
		t.Fatal(err)
	}
	// "ip netns exec" enters the namespace and execs the binary: the
	// process started is signet-ingress itself, which gets the signals.
	si.cmd = n.ns.Command(context.Background(), bin, args...)
	si.cmd.Stdout, si.cmd.Stderr = logFile, logFile
	si.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := si.cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting signet-ingress: %v", err)
	}
	go func() {
		si.done <- si.cmd.Wait()
		logFile.Close()
	}()
	t.Cleanup(func() {
		if err := si.stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			out, _ := os.ReadFile(si.log)
			t.Logf("signet-ingress log:\n%s", out)
		}
	})
	waitFor(t, "signet-ingress to be ready", func() error {
		select {
		case err := <-si.done:
			si.done <- err
			out, _ := os.ReadFile(si.log)
			return fmt.Errorf("signet-ingress exited: %v\n%s", err, out)
		default:
		}
		resp, err := si.adminClient.Get("http://" + si.admin + "/readyz")
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
	return si
}

// stop sends SIGTERM and expects exit status 0 (once; later calls return
// the first result).
func (si *signetIngress) stop() error {
	si.stopOnce.Do(func() {
		_ = si.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-si.done:
			si.done <- err
			if err != nil {
				si.stopErr = fmt.Errorf("signet-ingress did not exit 0 on SIGTERM: %v", err)
			}
		case <-time.After(60 * time.Second):
			_ = si.cmd.Process.Kill()
			<-si.done
			si.stopErr = errors.New("signet-ingress did not stop within 60s of SIGTERM")
		}
	})
	return si.stopErr
}

func (si *signetIngress) metrics(t *testing.T) string {
	t.Helper()
	resp, err := si.adminClient.Get("http://" + si.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// metricValue returns the value of one series in a /metrics page, or -1.
func metricValue(page, series string) float64 {
	for _, line := range strings.Split(page, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			if v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
				return v
			}
		}
	}
	return -1
}

// reply is what one request through the proxy got.
type reply struct {
	code    int
	body    string
	header  http.Header
	tlsCert *x509.Certificate
}

// backendName is the name of the backend that answered, or "" when the
// proxy answered itself.
func (r reply) backendName() string { return r.header.Get("X-Backend") }

// String says what happened, for messages.
func (r reply) String() string {
	if b := r.backendName(); b != "" {
		return fmt.Sprintf("%d from %s", r.code, b)
	}
	return fmt.Sprintf("%d from the proxy: %q", r.code, r.body)
}

// get sends one GET through the proxy at addr with the Host header host
// and the request target target exactly as given.
func get(addr proxyAddr, host, target string) (reply, error) {
	return do(addr, host, target, nil)
}

// do sends one GET, connecting from inside the proxy's namespace; with
// tlsConf, over TLS (tlsConf.ServerName is the SNI).
func do(addr proxyAddr, host, target string, tlsConf *tls.Config) (reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := addr.ns.Dial(ctx, "tcp", addr.hostPort)
	if err != nil {
		return reply{}, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	var r reply
	if tlsConf != nil {
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return reply{}, fmt.Errorf("TLS handshake: %w", err)
		}
		if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
			r.tlsCert = certs[0]
		}
		conn = tc
	}
	// The request is written by hand so that the target reaches the proxy
	// exactly as given (no cleaning, no escaping).
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: signet-ingress-test\r\nConnection: close\r\n\r\n", target, host); err != nil {
		return reply{}, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	r.code, r.body, r.header = resp.StatusCode, string(body), resp.Header
	return r, nil
}

// expectation is the answer a request should get: a backend's name, or a
// status code the proxy answers itself.
type expectation struct {
	backend string
	code    int
}

func from(name string) expectation { return expectation{backend: name, code: 200} }
func status(code int) expectation  { return expectation{code: code} }

func (e expectation) check(r reply) error {
	if r.code != e.code || r.backendName() != e.backend {
		if e.backend != "" {
			return fmt.Errorf("got %v, want 200 from %s", r, e.backend)
		}
		return fmt.Errorf("got %v, want %d from the proxy", r, e.code)
	}
	return nil
}

// waitForReply polls until a request for host and target through addr
// gets want.
func waitForReply(t *testing.T, addr proxyAddr, host, target string, want expectation) reply {
	t.Helper()
	var r reply
	waitFor(t, fmt.Sprintf("GET %s%s via %s", host, target, addr), func() error {
		var err error
		if r, err = get(addr, host, target); err != nil {
			return err
		}
		return want.check(r)
	})
	return r
}

// Certificates.

// testCA issues server certificates for the TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "signet-ingress test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue returns PEM certificate and key for dnsNames.
func (ca *testCA) issue(t *testing.T, dnsNames ...string) (crt, key []byte) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: dnsNames[0]},
		DNSNames:     dnsNames,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &priv.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

func createTLSSecret(t *testing.T, ns, name string, crt, key []byte) {
	t.Helper()
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key},
	}
	if _, err := cluster.Kube.CoreV1().Secrets(ns).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating Secret %s/%s: %v", ns, name, err)
	}
}
