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

// Command bench-ingress measures signet-ingress against nginx as the proxy
// in front of the same backend, and the time from `kubectl apply` of a
// changed Ingress to the first request served by the new route.
//
// Both proxies get the same routes: two hosts, a Prefix and an Exact
// location on one, a Prefix location on the other, all to one upstream of
// two endpoints (10.77.0.1 and 10.77.0.2, one port) over keep-alive
// connections, with the X-Forwarded-* headers set. Everything that carries
// traffic runs in a network namespace of its own (signet-bench-ingress),
// whose loopback holds those two addresses: endpoints must not be loopback
// addresses, and no address outside our own namespaces may receive
// traffic. signet-ingress reaches kube-apiserver through a forwarder on the
// namespace's loopback. The backend is nginx
// serving a 100-byte body. Each proxy runs alone on --proxy-cpu with one
// worker (nginx worker_processes 1; signet-ingress GOMAXPROCS=1); wrk,
// the backend and the control plane (etcd, kube-apiserver, signet-apiserver
// and this program) share --client-cpu. wrk cycles through the three
// routes. Runs alternate between the implementations; with --runs > 1 each
// figure is the median of the runs.
//
// signet-ingress is configured the way a user does it: an IngressClass, a
// Service without selector, a signet EndpointSlice and two Ingresses,
// through the real API servers the integration tests use. The config
// change measurement applies, --changes times, an Ingress with a new Exact
// path using kubectl, and polls that path every 2 ms from the moment
// kubectl starts until signet-ingress answers it with 200.
//
// Output: a table, then one JSON object per line:
//
//	{"impl": "signet-ingress"|"nginx", "rps": x, "p50_ms": y, "p99_ms": z,
//	 "proxy_cpu": c, "rps_per_cpu_second": r}
//	{"impl": "signet-ingress", "config_to_traffic_ms": w}
//
// proxy_cpu is the share of its core the proxy used during the run (near 1:
// the proxy is the bottleneck) and rps_per_cpu_second its requests per
// CPU-second, from /proc.
//
// Run it with `make bench-ingress` (hack/bench-ingress.sh installs wrk and
// nginx and builds the upstream binaries first). See docs/benchmarks.md.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/vishvananda/netns"

	discoveryv1 "signet.dev/api/discovery/v1"
	networkingv1 "signet.dev/api/networking/v1"

	"signet.dev/signet/test/integration/framework"
)

const (
	namespace  = "bench"
	className  = "bench"
	controller = "signet.dev/ingress"
	hostFoo    = "foo.example.com"
	hostBar    = "bar.example.com"

	// netnsName is the namespace everything that carries traffic runs in;
	// the ports are fixed, as the namespace is private.
	netnsName   = "signet-bench-ingress"
	backendPort = 8081
	nginxPort   = 8082
	signetPort  = 8083
	adminPort   = 10254
	apiPort     = 6443
)

// backendIPs are the backend's addresses, on the namespace's loopback.
var backendIPs = []string{"10.77.0.1", "10.77.0.2"}

// body is what the backend answers: 100 bytes.
var body = strings.Repeat("signet-ingress bench backend body. ", 3)[:100]

type options struct {
	duration    time.Duration
	warmup      time.Duration
	connections int
	runs        int
	changes     int
	proxyCPU    int
	clientCPU   int
	impls       string
	out         string
}

type result struct {
	Impl  string  `json:"impl"`
	RPS   float64 `json:"rps"`
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
	// ProxyCPU is the share of its core the proxy used during the run (1
	// is the whole core): near 1, the proxy is what limits rps; well
	// below, something else (client, backend, other load) does.
	ProxyCPU float64 `json:"proxy_cpu"`
	// RPSPerCPUSecond is requests served per CPU-second of the proxy, its
	// cost per request, which holds even when the proxy is not the limit.
	RPSPerCPUSecond float64 `json:"rps_per_cpu_second"`
}

type changeResult struct {
	Impl              string  `json:"impl"`
	ConfigToTrafficMS float64 `json:"config_to_traffic_ms"`
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured wrk run")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "length of the unmeasured wrk run before each measured one")
	flag.IntVar(&o.connections, "connections", 50, "wrk connections (one thread)")
	flag.IntVar(&o.runs, "runs", 3, "measured runs per implementation; figures are medians")
	flag.IntVar(&o.changes, "changes", 10, "config changes measured; the figure is the median")
	flag.IntVar(&o.proxyCPU, "proxy-cpu", 0, "CPU the proxy under test runs on")
	flag.IntVar(&o.clientCPU, "client-cpu", 1, "CPU of wrk, the backend and the control plane")
	flag.StringVar(&o.impls, "impls", "nginx,signet-ingress", "implementations to measure")
	flag.StringVar(&o.out, "out", "_output/bench-ingress", "directory for configs and logs")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-ingress:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench-ingress: "+format+"\n", args...)
}

func run(o options) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, tool := range []string{"wrk", "nginx", "taskset"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (hack/bench-ingress.sh installs it): %w", tool, err)
		}
	}
	out, err := filepath.Abs(o.out)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(out, "logs"), 0o755); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return errors.New("must run as root (it creates a network namespace)")
	}
	if err := setupNetns(); err != nil {
		return err
	}
	defer func() { _ = exec.Command("ip", "netns", "del", netnsName).Run() }()
	// Everything this program starts inherits the client CPU; only the
	// proxies are moved to the proxy CPU.
	if err := exec.Command("taskset", "-a", "-p", "-c", strconv.Itoa(o.clientCPU), strconv.Itoa(os.Getpid())).Run(); err != nil {
		return fmt.Errorf("pinning this process to CPU %d: %w", o.clientCPU, err)
	}
	impls := strings.Split(o.impls, ",")

	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			stopProcess(p)
		}
	}()

	backend, err := startNginx(out, "backend", backendConfig(out, backendPort), -1)
	if err != nil {
		return err
	}
	procs = append(procs, backend)

	targets := map[string]string{}
	pids := map[string]int{} // the proxy processes, for their CPU time
	if slices.Contains(impls, "nginx") {
		p, err := startNginx(out, "nginx-proxy", proxyConfig(out, nginxPort, backendPort), o.proxyCPU)
		if err != nil {
			return err
		}
		procs = append(procs, p)
		targets["nginx"] = fmt.Sprintf("127.0.0.1:%d", nginxPort)
		pids["nginx"] = p.Process.Pid
	}

	var cluster *framework.Cluster
	var signetAddr string
	if slices.Contains(impls, "signet-ingress") {
		logf("starting etcd, kube-apiserver and signet-apiserver")
		cluster, err = framework.Start(ctx)
		if err != nil {
			return err
		}
		defer cluster.Stop()
		p, addr, err := startSignetIngress(ctx, o, out, cluster, backendPort)
		if err != nil {
			return err
		}
		procs = append(procs, p)
		signetAddr = addr
		targets["signet-ingress"] = addr
		pids["signet-ingress"] = p.Process.Pid
	}

	for _, impl := range impls {
		if err := waitForRoutes(targets[impl], time.Minute); err != nil {
			return fmt.Errorf("%s (logs in %s/logs): %w", impl, out, err)
		}
	}

	script := filepath.Join(out, "routes.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o644); err != nil {
		return err
	}
	samples := map[string][]result{}
	for r := 0; r < o.runs; r++ {
		for _, impl := range impls {
			logf("run %d/%d: %s", r+1, o.runs, impl)
			if _, err := runWrk(o, script, targets[impl], o.warmup); err != nil {
				return fmt.Errorf("%s warm-up: %w", impl, err)
			}
			cpu0, err := cpuSeconds(pids[impl])
			if err != nil {
				return err
			}
			start := time.Now()
			res, err := runWrk(o, script, targets[impl], o.duration)
			if err != nil {
				return fmt.Errorf("%s: %w", impl, err)
			}
			wall := time.Since(start).Seconds()
			cpu1, err := cpuSeconds(pids[impl])
			if err != nil {
				return err
			}
			res.Impl = impl
			if cpu := cpu1 - cpu0; cpu > 0 {
				res.ProxyCPU = round(cpu/wall, 2)
				res.RPSPerCPUSecond = round(res.RPS*wall/cpu, 0)
			}
			logf("  %.0f requests/s, p50 %.3f ms, p99 %.3f ms, proxy CPU %.2f, %.0f requests per CPU-second",
				res.RPS, res.P50MS, res.P99MS, res.ProxyCPU, res.RPSPerCPUSecond)
			samples[impl] = append(samples[impl], res)
		}
	}

	var changes []float64
	if cluster != nil && o.changes > 0 {
		changes, err = measureChanges(ctx, o, out, cluster, signetAddr)
		if err != nil {
			return err
		}
	}

	var results []result
	for _, impl := range impls {
		results = append(results, medianResult(impl, samples[impl]))
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "impl\trequests/s\tp50 ms\tp99 ms\tvs nginx\tproxy CPU\trequests/CPU-s\n")
	var nginxRPS float64
	for _, r := range results {
		if r.Impl == "nginx" {
			nginxRPS = r.RPS
		}
	}
	for _, r := range results {
		ratio := "-"
		if nginxRPS > 0 {
			ratio = fmt.Sprintf("%.2fx", r.RPS/nginxRPS)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.3f\t%.3f\t%s\t%.2f\t%.0f\n", r.Impl, r.RPS, r.P50MS, r.P99MS, ratio, r.ProxyCPU, r.RPSPerCPUSecond)
	}
	tw.Flush()
	if len(changes) > 0 {
		fmt.Printf("\nconfig change to traffic (kubectl apply -> first 200 on the new path), %d changes: median %.0f ms, min %.0f ms, max %.0f ms\n",
			len(changes), median(changes), slices.Min(changes), slices.Max(changes))
	}
	fmt.Println()
	enc := json.NewEncoder(os.Stdout)
	for _, r := range results {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	if len(changes) > 0 {
		return enc.Encode(changeResult{Impl: "signet-ingress", ConfigToTrafficMS: round(median(changes), 1)})
	}
	return nil
}

// wrkScript cycles through the three routes, with the Host of each.
const wrkScript = `
local reqs = {}
local n = 0
init = function(args)
  reqs[1] = wrk.format("GET", "/", {["Host"] = "` + hostFoo + `"})
  reqs[2] = wrk.format("GET", "/exact", {["Host"] = "` + hostFoo + `"})
  reqs[3] = wrk.format("GET", "/api/users", {["Host"] = "` + hostBar + `"})
end
request = function()
  n = n % 3 + 1
  return reqs[n]
end
`

func backendConfig(out string, port int) string {
	return fmt.Sprintf(`%s
worker_processes 1;
daemon off;
pid %[2]s/backend.pid;
error_log %[2]s/logs/backend-error.log warn;
events { worker_connections 4096; }
http {
    %[3]s
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    default_type text/plain;
    server {
        listen %[6]s:%[4]d;
        listen %[7]s:%[4]d;
        location / { return 200 "%[5]s"; }
    }
}
`, userDirective(), out, tempPaths(out, "backend"), port, body, backendIPs[0], backendIPs[1])
}

func proxyConfig(out string, port, backendPort int) string {
	location := `proxy_pass http://backend;`
	return fmt.Sprintf(`%s
worker_processes 1;
daemon off;
pid %[2]s/nginx-proxy.pid;
error_log %[2]s/logs/nginx-proxy-error.log warn;
events { worker_connections 4096; }
http {
    %[3]s
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    upstream backend {
        server %[9]s:%[5]d;
        server %[10]s:%[5]d;
        keepalive 64;
        keepalive_requests 10000000;
    }
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Forwarded-Host $http_host;
    proxy_buffering on;
    server {
        listen 127.0.0.1:%[4]d default_server;
        server_name _;
        return 404;
    }
    server {
        listen 127.0.0.1:%[4]d;
        server_name %[6]s;
        location / { %[8]s }
        location = /exact { %[8]s }
    }
    server {
        listen 127.0.0.1:%[4]d;
        server_name %[7]s;
        location = /api { %[8]s }
        location /api/ { %[8]s }
    }
}
`, userDirective(), out, tempPaths(out, "nginx-proxy"), port, backendPort, hostFoo, hostBar, location, backendIPs[0], backendIPs[1])
}

// userDirective keeps nginx's worker as root when we are root, so that it
// can use the temp directories under _output.
func userDirective() string {
	if os.Geteuid() == 0 {
		return "user root root;"
	}
	return ""
}

func tempPaths(out, name string) string {
	var b strings.Builder
	for _, kind := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&b, "%s_temp_path %s/tmp/%s/%s;\n    ", kind, out, name, kind)
	}
	return b.String()
}

// startNginx writes conf and runs nginx in the foreground, pinned to cpu
// (unless cpu < 0: it inherits this process's CPU).
func startNginx(out, name, conf string, cpu int) (*exec.Cmd, error) {
	file := filepath.Join(out, name+".conf")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(out, "tmp", name), 0o755); err != nil {
		return nil, err
	}
	args := []string{"ip", "netns", "exec", netnsName, "nginx", "-p", out, "-c", file}
	if cpu >= 0 {
		args = append([]string{"taskset", "-c", strconv.Itoa(cpu)}, args...)
	}
	cmd, err := startProcess(out, name, nil, args...)
	if err != nil {
		return nil, err
	}
	return cmd, nil
}

func startProcess(out, name string, env []string, args ...string) (*exec.Cmd, error) {
	logFile, err := os.Create(filepath.Join(out, "logs", name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	logFile.Close()
	return cmd, nil
}

func stopProcess(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func startSignetIngress(ctx context.Context, o options, out string, c *framework.Cluster, backendPort int) (*exec.Cmd, string, error) {
	logf("building signet-ingress")
	bin := filepath.Join(out, "signet-ingress")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/signet-ingress")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, "", fmt.Errorf("building signet-ingress: %w", err)
	}
	if err := createObjects(ctx, c, backendPort); err != nil {
		return nil, "", err
	}
	kubeconfig, err := forwardAPIServer(ctx, out, c)
	if err != nil {
		return nil, "", err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", signetPort)
	cmd, err := startProcess(out, "signet-ingress", []string{"GOMAXPROCS=1"},
		"taskset", "-c", strconv.Itoa(o.proxyCPU), "ip", "netns", "exec", netnsName, bin,
		"--kubeconfig", kubeconfig,
		"--http-addr", addr,
		"--https-addr", "",
		"--admin-addr", fmt.Sprintf("127.0.0.1:%d", adminPort),
		"--publish-address", "127.0.0.1",
		"--leader-elect=false",
	)
	if err != nil {
		return nil, "", err
	}
	return cmd, addr, nil
}

// waitForRoutes polls checkRoutes until it passes or timeout runs out.
func waitForRoutes(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := checkRoutes(addr)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("routes not served within %s: %w", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func createObjects(ctx context.Context, c *framework.Cluster, backendPort int) error {
	if _, err := c.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "backend", Namespace: namespace},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{
			Name: "http", Port: 80, TargetPort: intstr.FromInt32(int32(backendPort)), Protocol: corev1.ProtocolTCP,
		}}},
	}
	if _, err := c.Kube.CoreV1().Services(namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return err
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "backend-1", Namespace: namespace, Labels: map[string]string{
			discoveryv1.LabelServiceName: "backend",
			discoveryv1.LabelManagedBy:   "bench-ingress",
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{backendIPs[0]}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}},
			{Addresses: []string{backendIPs[1]}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}},
		},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(int32(backendPort)), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	if _, err := c.Signet.DiscoveryV1().EndpointSlices(namespace).Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		return err
	}
	class := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: className},
		Spec:       networkingv1.IngressClassSpec{Controller: controller},
	}
	if _, err := c.Signet.NetworkingV1().IngressClasses().Create(ctx, class, metav1.CreateOptions{}); err != nil {
		return err
	}
	backend := networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: "backend", Port: networkingv1.ServiceBackendPort{Name: "http"},
	}}
	path := func(p string, t networkingv1.PathType) networkingv1.HTTPIngressPath {
		return networkingv1.HTTPIngressPath{Path: p, PathType: ptr.To(t), Backend: backend}
	}
	for _, ing := range []*networkingv1.Ingress{
		{
			ObjectMeta: metav1.ObjectMeta{Name: "foo", Namespace: namespace},
			Spec: networkingv1.IngressSpec{IngressClassName: ptr.To(className), Rules: []networkingv1.IngressRule{{
				Host: hostFoo,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
					path("/", networkingv1.PathTypePrefix), path("/exact", networkingv1.PathTypeExact),
				}}},
			}}},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: "bar", Namespace: namespace},
			Spec: networkingv1.IngressSpec{IngressClassName: ptr.To(className), Rules: []networkingv1.IngressRule{{
				Host: hostBar,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
					path("/api", networkingv1.PathTypePrefix),
				}}},
			}}},
		},
	} {
		if _, err := c.Signet.NetworkingV1().Ingresses(namespace).Create(ctx, ing, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// checkRoutes asks the proxy at addr for each route once and checks that
// the backend's body came back, and that an unknown host is refused.
func checkRoutes(addr string) error {
	client := nsClient(2 * time.Second)
	for _, r := range []struct{ host, path string }{{hostFoo, "/"}, {hostFoo, "/exact"}, {hostBar, "/api/users"}, {hostBar, "/api"}} {
		code, got, err := get(client, addr, r.host, r.path)
		if err != nil {
			return err
		}
		if code != http.StatusOK || got != body {
			return fmt.Errorf("http://%s%s through %s: %d %q, want 200 and the backend's body", r.host, r.path, addr, code, got)
		}
	}
	code, _, err := get(client, addr, hostBar, "/other")
	if err != nil {
		return err
	}
	if code != http.StatusNotFound {
		return fmt.Errorf("http://%s/other through %s: %d, want 404", hostBar, addr, code)
	}
	return nil
}

func get(client *http.Client, addr, host, path string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

var (
	rpsRE     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	latencyRE = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
	errorsRE  = regexp.MustCompile(`Socket errors:.*|Non-2xx or 3xx responses: \d+`)
)

func runWrk(o options, script, addr string, d time.Duration) (result, error) {
	cmd := exec.Command("taskset", "-c", strconv.Itoa(o.clientCPU), "ip", "netns", "exec", netnsName, "wrk",
		"-t1", "-c"+strconv.Itoa(o.connections), "-d"+strconv.Itoa(int(d.Seconds()))+"s",
		"--latency", "-s", script, "http://"+addr+"/")
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stdout
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("wrk: %w: %s", err, stdout.String())
	}
	text := stdout.String()
	if m := errorsRE.FindString(text); m != "" {
		return result{}, fmt.Errorf("wrk reported errors (%s):\n%s", m, text)
	}
	m := rpsRE.FindStringSubmatch(text)
	if m == nil {
		return result{}, fmt.Errorf("no Requests/sec in wrk's output:\n%s", text)
	}
	var r result
	r.RPS, _ = strconv.ParseFloat(m[1], 64)
	for _, l := range latencyRE.FindAllStringSubmatch(text, -1) {
		v, _ := strconv.ParseFloat(l[2], 64)
		switch l[3] {
		case "us":
			v /= 1000
		case "s":
			v *= 1000
		}
		if l[1] == "50" {
			r.P50MS = v
		} else {
			r.P99MS = v
		}
	}
	if r.P50MS == 0 || r.P99MS == 0 {
		return result{}, fmt.Errorf("no latency distribution in wrk's output:\n%s", text)
	}
	return r, nil
}

// measureChanges applies, o.changes times, an Ingress with a new Exact path
// and returns the milliseconds from starting kubectl to the first 200 on
// that path.
func measureChanges(ctx context.Context, o options, out string, c *framework.Cluster, addr string) ([]float64, error) {
	client := nsClient(time.Second)
	var ms []float64
	for i := 1; i <= o.changes; i++ {
		path := fmt.Sprintf("/change-%d", i)
		if code, _, err := get(client, addr, hostFoo+".change", path); err != nil || code != http.StatusNotFound {
			return nil, fmt.Errorf("before change %d: %s answered %d, %v; want 404", i, path, code, err)
		}
		manifest := fmt.Sprintf(`apiVersion: networking.signet.dev/v1
kind: Ingress
metadata:
  name: change
  namespace: %s
spec:
  ingressClassName: %s
  rules:
  - host: %s.change
    http:
      paths:
      - path: %s
        pathType: Exact
        backend:
          service:
            name: backend
            port:
              name: http
`, namespace, className, hostFoo, path)
		file := filepath.Join(out, "change.yaml")
		if err := os.WriteFile(file, []byte(manifest), 0o644); err != nil {
			return nil, err
		}
		apply := c.KubectlCmd(ctx, "apply", "-f", file)
		var applyOut bytes.Buffer
		apply.Stdout, apply.Stderr = &applyOut, &applyOut
		start := time.Now()
		if err := apply.Start(); err != nil {
			return nil, err
		}
		applied := make(chan error, 1)
		go func() { applied <- apply.Wait() }()
		deadline := start.Add(30 * time.Second)
		var elapsed time.Duration
		for {
			code, _, err := get(client, addr, hostFoo+".change", path)
			if err == nil && code == http.StatusOK {
				elapsed = time.Since(start)
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("change %d: %s not served within 30s (last: %d, %v)", i, path, code, err)
			}
			time.Sleep(2 * time.Millisecond)
		}
		if err := <-applied; err != nil {
			return nil, fmt.Errorf("kubectl apply: %w: %s", err, applyOut.String())
		}
		logf("change %d: %s live %.0f ms after kubectl apply started", i, path, float64(elapsed.Microseconds())/1000)
		ms = append(ms, float64(elapsed.Microseconds())/1000)
	}
	return ms, nil
}

func medianResult(impl string, rs []result) result {
	var rps, p50, p99, cpu, perCPU []float64
	for _, r := range rs {
		rps, p50, p99 = append(rps, r.RPS), append(p50, r.P50MS), append(p99, r.P99MS)
		cpu, perCPU = append(cpu, r.ProxyCPU), append(perCPU, r.RPSPerCPUSecond)
	}
	return result{Impl: impl, RPS: round(median(rps), 0), P50MS: round(median(p50), 3), P99MS: round(median(p99), 3),
		ProxyCPU: round(median(cpu), 2), RPSPerCPUSecond: round(median(perCPU), 0)}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// setupNetns (re)creates the namespace with loopback up and the backend
// addresses on it.
func setupNetns() error {
	_ = exec.Command("ip", "netns", "del", netnsName).Run()
	cmds := [][]string{{"ip", "netns", "add", netnsName}, {"ip", "-n", netnsName, "link", "set", "lo", "up"}}
	for _, ip := range backendIPs {
		cmds = append(cmds, []string{"ip", "-n", netnsName, "addr", "add", ip + "/32", "dev", "lo"})
	}
	for _, c := range cmds {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w: %s", strings.Join(c, " "), err, out)
		}
	}
	return nil
}

// inNetns runs fn on an OS thread switched into the namespace; sockets fn
// makes stay there.
func inNetns(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		target, err := netns.GetFromName(netnsName)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			errc <- err
			return
		}
		errc <- fn()
		// Only a thread back in its own namespace may be reused; otherwise
		// it stays locked and exits with the goroutine.
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
	}()
	return <-errc
}

// nsClient is an HTTP client whose connections are made inside the
// namespace.
func nsClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (c net.Conn, err error) {
			err = inNetns(func() error {
				c, err = dialer.DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
	}}
}

// forwardAPIServer listens on the namespace's loopback and carries every
// connection to kube-apiserver; it returns a kubeconfig for processes in
// the namespace.
func forwardAPIServer(ctx context.Context, out string, c *framework.Cluster) (string, error) {
	server, err := url.Parse(c.Config.Host)
	if err != nil {
		return "", err
	}
	var ln net.Listener
	if err := inNetns(func() (err error) {
		ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", apiPort))
		return err
	}); err != nil {
		return "", fmt.Errorf("listening in %s: %w", netnsName, err)
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go relay(in, server.Host)
		}
	}()
	cfg, err := clientcmd.LoadFromFile(c.KubeconfigFile)
	if err != nil {
		return "", err
	}
	for _, cl := range cfg.Clusters {
		cl.Server = fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	}
	file := filepath.Join(out, "kubeconfig")
	return file, clientcmd.WriteToFile(*cfg, file)
}

func relay(in net.Conn, to string) {
	defer in.Close()
	up, err := net.Dial("tcp", to)
	if err != nil {
		return
	}
	defer up.Close()
	go func() { _, _ = io.Copy(up, in); up.Close() }()
	_, _ = io.Copy(in, up)
}

// cpuSeconds is the user and system CPU time of pid and its children
// (nginx's worker is a child of its master), from /proc.
func cpuSeconds(pid int) (float64, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var ticks float64
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// The fields after the command name, which is in parentheses and
		// may hold spaces: state ppid ... utime (14th field) stime (15th).
		rest := string(b[bytes.LastIndexByte(b, ')')+2:])
		f := strings.Fields(rest)
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		if p != pid && ppid != pid {
			continue
		}
		utime, _ := strconv.ParseFloat(f[11], 64)
		stime, _ := strconv.ParseFloat(f[12], 64)
		ticks += utime + stime
	}
	// USER_HZ is 100 on Linux for every architecture Go supports.
	return ticks / 100, nil
}
