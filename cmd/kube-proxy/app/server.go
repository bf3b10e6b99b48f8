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

package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/wait"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/component-base/cli/globalflag"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/component-base/version/verflag"
	"k8s.io/klog/v2"

	signetclient "signet.dev/client-go/clientset/versioned"
	signetinformers "signet.dev/client-go/informers/externalversions"

	"signet.dev/signet/pkg/proxy"
	"signet.dev/signet/pkg/proxy/conntrack"
	"signet.dev/signet/pkg/proxy/healthcheck"
	"signet.dev/signet/pkg/proxy/iptables"
	"signet.dev/signet/pkg/proxy/metaproxier"
	utiliptables "signet.dev/signet/pkg/util/iptables"
	"signet.dev/signet/pkg/util/kubeclient"
)

const (
	// component names kube-proxy in events and API server logs.
	component = "kube-proxy"
	// shutdownTimeout bounds the HTTP servers' graceful shutdown.
	shutdownTimeout = 5 * time.Second
	// nodeWaitTimeout bounds the wait for this node's Node object at start,
	// when the IP families come from it.
	nodeWaitTimeout = 30 * time.Second
	// labelServiceProxyName marks a Service as served by another proxy;
	// kube-proxy leaves such Services (and their slices) alone.
	labelServiceProxyName = "service.kubernetes.io/service-proxy-name"
)

// NewCommand returns the kube-proxy command.
func NewCommand() *cobra.Command {
	o := NewOptions()
	logOptions := logs.NewOptions()
	cmd := &cobra.Command{
		Use:   component,
		Short: "Program Service virtual IPs into iptables and ip6tables from signet EndpointSlices",
		Long: `kube-proxy runs on every node. It watches Services in kube-apiserver,
EndpointSlices of discovery.signet.dev/v1 and this node's own Node, and programs
each Service's cluster IPs, node ports, external IPs and load balancer IPs with
iptables (IPv4) and ip6tables (IPv6), honouring the Service topology keys of the
service.signet.dev/topology-keys annotation.

Settings come from the flags or from a --config file; flags given on the command
line override the file. /healthz (also /livez, /readyz) is served on
--healthz-bind-address and /metrics on --metrics-bind-address. On SIGTERM or
SIGINT kube-proxy stops and leaves its rules in place, so that Service traffic
keeps flowing until the next kube-proxy takes over.`,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			verflag.PrintAndExitIfRequested()
			if len(args) > 0 {
				return fmt.Errorf("unexpected arguments: %q", args)
			}
			if err := logsapi.ValidateAndApply(logOptions, nil); err != nil {
				return err
			}
			cfg, err := o.Load()
			if err != nil {
				return err
			}
			return Run(cmd.Context(), o, cfg)
		},
	}
	fs := cmd.Flags()
	o.AddFlags(fs)
	logsapi.AddFlags(logOptions, fs)
	verflag.AddFlags(fs)
	globalflag.AddGlobalFlags(fs, cmd.Name(), logs.SkipLoggingConfigurationFlags())
	return cmd
}

// deps are what Run takes from the outside world; tests replace them.
type deps struct {
	kubeClient   kubernetes.Interface
	signetClient signetclient.Interface
	// newIPTables returns the runner of one family.
	newIPTables func(utiliptables.Protocol) utiliptables.Interface
	conntrack   conntrack.Interface
	// listen opens the HTTP servers' and health-check node ports' sockets.
	listen func(network, address string) (net.Listener, error)
	// hostname is the node name without --hostname-override.
	hostname func() (string, error)
	// localAddresses lists this host's addresses.
	localAddresses func() ([]netip.Addr, error)
	// nodeWait bounds the wait for this node's Node at start.
	nodeWait time.Duration
	// listening, if set, is told where each HTTP server listens.
	listening func(server string, addr net.Addr)
}

// Run runs kube-proxy with cfg until ctx is done.
func Run(ctx context.Context, o *Options, cfg *KubeProxyConfiguration) error {
	restCfg, err := kubeclient.RESTConfig(cfg.ClientConnection.Kubeconfig, o.Master)
	if err != nil {
		return err
	}
	restCfg = rest.AddUserAgent(restCfg, component)
	kubeClient, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	signetClient, err := signetclient.NewForConfig(restCfg)
	if err != nil {
		return fmt.Errorf("creating the signet client: %w", err)
	}
	return run(ctx, cfg, deps{
		kubeClient:   kubeClient,
		signetClient: signetClient,
		newIPTables: func(p utiliptables.Protocol) utiliptables.Interface {
			return utiliptables.New(utiliptables.OSExecutor{}, p)
		},
		conntrack:      &conntrack.Tool{Exec: utiliptables.OSExecutor{}},
		listen:         net.Listen,
		hostname:       os.Hostname,
		localAddresses: localAddresses,
		nodeWait:       nodeWaitTimeout,
	})
}

// run is Run with its dependencies given.
func run(ctx context.Context, cfg *KubeProxyConfiguration, d deps) error {
	logger := klog.FromContext(ctx)
	nodeName, err := resolveNodeName(cfg.HostnameOverride, d.hostname)
	if err != nil {
		return err
	}
	logger = logger.WithValues("node", nodeName)
	ctx = klog.NewContext(ctx, logger)
	// Validated by Load; parsed again here.
	clusterCIDRs, _ := parseClusterCIDRs(nil, cfg.ClusterCIDR)
	nodePorts, _ := parseNodePortAddresses(nil, cfg.NodePortAddresses)
	syncPeriod := cfg.IPTables.SyncPeriod.Duration

	families, err := detectFamilies(ctx, d.kubeClient, nodeName, clusterCIDRs, d.nodeWait)
	if err != nil {
		if ctx.Err() != nil {
			logger.Info("Stopped before starting")
			return nil
		}
		return err
	}
	families, err = usableFamilies(ctx, families, d.newIPTables, len(clusterCIDRs) > 0)
	if err != nil {
		return err
	}
	logger.Info("Starting kube-proxy", "mode", ModeIPTables, "ipFamilies", families, "primaryFamily", families[0])

	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartStructuredLogging(3)
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: d.kubeClient.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component, Host: nodeName})

	registry := prometheus.NewRegistry()
	registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	metrics := iptables.NewMetrics(registry)

	// health is set before any proxier syncs; the Service health servers
	// ask it so that a stale kube-proxy turns load balancers away.
	var health *healthcheck.ProxierHealth
	var proxiers []metaproxier.Proxier
	var healthProxiers []healthcheck.Proxier
	var serviceHealth []*healthcheck.ServiceHealthServer
	for _, family := range families {
		protocol, network := utiliptables.ProtocolIPv4, "tcp4"
		if family == corev1.IPv6Protocol {
			protocol, network = utiliptables.ProtocolIPv6, "tcp6"
		}
		flog := logger.WithValues("ipFamily", family)
		clusterCIDR := ofFamily(clusterCIDRs, family)
		var cidr netip.Prefix
		if len(clusterCIDR) > 0 {
			cidr = clusterCIDR[0]
		} else if !cfg.MasqueradeAll {
			flog.Info("No --cluster-cidr of this family and no --masquerade-all: traffic to cluster IPs from outside the pod network is not masqueraded")
		}
		shs := healthcheck.NewServiceHealthServer(healthcheck.ServiceHealthConfig{
			NodeName:  nodeName,
			Network:   network,
			Addresses: healthCheckAddresses(flog, family, nodePorts, d.localAddresses),
			Listen:    d.listen,
			Healthy:   func() bool { return health.Healthy() },
			Recorder:  recorder,
			Logger:    flog,
		})
		serviceHealth = append(serviceHealth, shs)
		p, err := iptables.New(iptables.Config{
			IPTables:          d.newIPTables(protocol),
			Conntrack:         d.conntrack,
			NodeName:          nodeName,
			ClusterCIDR:       cidr,
			MasqueradeAll:     cfg.MasqueradeAll,
			MasqueradeBit:     int(cfg.IPTables.MasqueradeBit),
			NodePortAddresses: ofFamily(nodePorts, family),
			FullSyncPeriod:    syncPeriod,
			Recorder:          recorder,
			HealthServer:      shs,
			Metrics:           metrics,
		})
		if err != nil {
			return fmt.Errorf("creating the %s proxier: %w", family, err)
		}
		proxiers = append(proxiers, p)
		healthProxiers = append(healthProxiers, p)
	}
	defer func() {
		for _, shs := range serviceHealth {
			shs.Close()
		}
	}()
	mp, err := metaproxier.New(logger, proxiers...)
	if err != nil {
		return err
	}
	health = healthcheck.NewProxierHealth(nodeName, 2*syncPeriod, nil, healthProxiers...)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// HTTP servers, opened before anything runs so that a taken port is
	// reported at once.
	if cfg.HealthzBindAddress != "" {
		mux := http.NewServeMux()
		for _, path := range []string{"/healthz", "/livez", "/readyz"} {
			mux.Handle(path, health)
		}
		stop, err := serve(ctx, cancel, d, "healthz", cfg.HealthzBindAddress, mux)
		if err != nil {
			return fmt.Errorf("--healthz-bind-address: %w", err)
		}
		defer stop()
	}
	if cfg.MetricsBindAddress != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry}))
		stop, err := serve(ctx, cancel, d, "metrics", cfg.MetricsBindAddress, mux)
		if err != nil {
			return fmt.Errorf("--metrics-bind-address: %w", err)
		}
		defer stop()
	}

	// Informers: Services from kube-apiserver and EndpointSlices from
	// discovery.signet.dev, both without those another proxy serves and
	// without headless ones; this node's Node only.
	selector := proxyLabelSelector()
	kubeFactory := kubeinformers.NewSharedInformerFactoryWithOptions(d.kubeClient, 0,
		kubeinformers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = selector }))
	nodeFactory := kubeinformers.NewSharedInformerFactoryWithOptions(d.kubeClient, 0,
		kubeinformers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", nodeName).String()
		}))
	signetFactory := signetinformers.NewSharedInformerFactoryWithOptions(d.signetClient, 0,
		signetinformers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = selector }))

	type registration struct {
		what     string
		informer cache.SharedIndexInformer
		handlers cache.ResourceEventHandler
		synced   func()
	}
	for _, r := range []registration{
		{"Services", kubeFactory.Core().V1().Services().Informer(), serviceHandlers(mp), mp.OnServicesSynced},
		{"EndpointSlices", signetFactory.Discovery().V1().EndpointSlices().Informer(), sliceHandlers(mp), mp.OnEndpointSlicesSynced},
		{"Node", nodeFactory.Core().V1().Nodes().Informer(), nodeHandlers(mp, logger), mp.OnNodeSynced},
	} {
		reg, err := r.informer.AddEventHandler(r.handlers)
		if err != nil {
			return fmt.Errorf("watching %s: %w", r.what, err)
		}
		go func() {
			if cache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
				logger.V(2).Info("Informer synced", "resource", r.what)
				r.synced()
			}
		}()
	}
	kubeFactory.Start(ctx.Done())
	nodeFactory.Start(ctx.Done())
	signetFactory.Start(ctx.Done())

	mp.SyncLoop(ctx, cfg.IPTables.MinSyncPeriod.Duration)

	// Stopping: the rules stay, so that Service traffic keeps flowing
	// while kube-proxy restarts or is replaced; the next one takes them
	// over with a full sync.
	kubeFactory.Shutdown()
	nodeFactory.Shutdown()
	signetFactory.Shutdown()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	logger.Info("Stopped kube-proxy; the iptables rules stay in place")
	return nil
}

// serve listens on addr and serves handler until stop is called; a
// server that fails cancels ctx with its error.
func serve(ctx context.Context, cancel context.CancelCauseFunc, d deps, name, addr string, handler http.Handler) (stop func(), err error) {
	logger := klog.FromContext(ctx)
	ln, err := d.listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if d.listening != nil {
		d.listening(name, ln.Addr())
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		logger.Info("Serving", "server", name, "address", ln.Addr().String())
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cancel(fmt.Errorf("%s server on %s: %w", name, addr, err))
		}
	}()
	return func() {
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer scancel()
		_ = srv.Shutdown(sctx)
	}, nil
}

// proxyLabelSelector selects the Services (and slices) kube-proxy
// programs: not those another proxy serves, not headless ones.
func proxyLabelSelector() string {
	sel := labels.NewSelector()
	for _, key := range []string{labelServiceProxyName, corev1.IsHeadlessService} {
		req, err := labels.NewRequirement(key, selection.DoesNotExist, nil)
		if err != nil {
			panic(err) // constant, valid keys
		}
		sel = sel.Add(*req)
	}
	return sel.String()
}

// resolveNodeName is --hostname-override or the hostname, lowercased.
func resolveNodeName(override string, hostname func() (string, error)) (string, error) {
	name := override
	if name == "" {
		h, err := hostname()
		if err != nil {
			return "", fmt.Errorf("getting the hostname for the node name (or set --hostname-override): %w", err)
		}
		name = h
	}
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return "", errors.New("the node name is empty: set --hostname-override")
	}
	return name, nil
}

// detectFamilies returns the IP families to program, primary first: those
// of --cluster-cidr when given, otherwise those of this node's Node
// (InternalIP addresses, then pod CIDRs), read with retries for at most
// wait; IPv4 when neither says.
func detectFamilies(ctx context.Context, client kubernetes.Interface, nodeName string, clusterCIDRs []netip.Prefix, timeout time.Duration) ([]corev1.IPFamily, error) {
	logger := klog.FromContext(ctx)
	if len(clusterCIDRs) > 0 {
		var out []corev1.IPFamily
		for _, p := range clusterCIDRs {
			out = append(out, proxy.Family(p.Addr()))
		}
		logger.Info("IP families from --cluster-cidr", "ipFamilies", out)
		return out, nil
	}
	var node *corev1.Node
	var lastErr error
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		n, err := client.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		if err != nil {
			lastErr = err
			logger.V(2).Info("Waiting for this node's Node object to learn its IP families", "err", err)
			return false, nil
		}
		node = n
		return true, nil
	})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if node == nil {
		if lastErr == nil {
			lastErr = err
		}
		logger.Info("Could not read this node's Node object; programming IPv4 only (set --cluster-cidr to choose the IP families)",
			"waited", timeout, "err", lastErr)
		return []corev1.IPFamily{corev1.IPv4Protocol}, nil
	}
	out := nodeFamilies(node)
	if len(out) == 0 {
		logger.Info("This node's Node object has no InternalIP address and no pod CIDR; programming IPv4 only (set --cluster-cidr to choose the IP families)")
		return []corev1.IPFamily{corev1.IPv4Protocol}, nil
	}
	logger.Info("IP families from this node's Node object", "ipFamilies", out)
	return out, nil
}

// nodeFamilies returns the families of a Node's InternalIP addresses, in
// order, then of its pod CIDRs.
func nodeFamilies(node *corev1.Node) []corev1.IPFamily {
	var out []corev1.IPFamily
	add := func(a netip.Addr) {
		if f := proxy.Family(a); !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	for _, a := range node.Status.Addresses {
		if a.Type != corev1.NodeInternalIP {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil {
			add(ip.Unmap())
		}
	}
	podCIDRs := node.Spec.PodCIDRs
	if len(podCIDRs) == 0 && node.Spec.PodCIDR != "" {
		podCIDRs = []string{node.Spec.PodCIDR}
	}
	for _, c := range podCIDRs {
		if p, err := netip.ParsePrefix(c); err == nil {
			add(p.Addr().Unmap())
		}
	}
	return out
}

// ofFamily returns the prefixes of one family.
func ofFamily(prefixes []netip.Prefix, family corev1.IPFamily) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range prefixes {
		if proxy.Family(p.Addr()) == family {
			out = append(out, p)
		}
	}
	return out
}

// healthCheckAddresses are the local addresses health-check node ports of
// family listen on: those inside --nodeport-addresses of the family, or
// nil (every address) when it lists none of the family or no local
// address matches.
func healthCheckAddresses(logger klog.Logger, family corev1.IPFamily, nodePorts []netip.Prefix, local func() ([]netip.Addr, error)) []netip.Addr {
	prefixes := ofFamily(nodePorts, family)
	if len(prefixes) == 0 {
		return nil
	}
	addrs, err := local()
	if err != nil {
		logger.Error(err, "Listing local addresses; health-check node ports listen on every address")
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		if proxy.Family(a) != family {
			continue
		}
		if slices.ContainsFunc(prefixes, func(p netip.Prefix) bool { return p.Contains(a) }) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		logger.Info("No local address inside --nodeport-addresses; health-check node ports listen on every address", "nodePortAddresses", prefixes)
		return nil
	}
	return out
}

// localAddresses lists this host's addresses, without IPv6 link-local
// ones (which need a zone to listen on).
func localAddresses() ([]netip.Addr, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, a := range addrs {
		ipnet, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipnet.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if ip.Is6() && ip.IsLinkLocalUnicast() {
			continue
		}
		out = append(out, ip)
	}
	return out, nil
}

// usableFamilies keeps the families whose iptables tool can read the nat
// table. A node without working ip6tables (no binary, no kernel support)
// then runs single-stack, as upstream kube-proxy does, instead of failing
// every IPv6 sync; but families the operator asked for with --cluster-cidr
// must work, and at least one family must.
func usableFamilies(ctx context.Context, families []corev1.IPFamily, newIPTables func(utiliptables.Protocol) utiliptables.Interface, explicit bool) ([]corev1.IPFamily, error) {
	logger := klog.FromContext(ctx)
	var usable []corev1.IPFamily
	for _, family := range families {
		protocol := utiliptables.ProtocolIPv4
		if family == corev1.IPv6Protocol {
			protocol = utiliptables.ProtocolIPv6
		}
		if _, err := newIPTables(protocol).Save(ctx, utiliptables.TableNAT); err != nil {
			if explicit {
				return nil, fmt.Errorf("--cluster-cidr asks for %s, but its iptables tool does not work: %w", family, err)
			}
			logger.Error(err, "Not proxying this IP family: its iptables tool does not work", "ipFamily", family)
			continue
		}
		usable = append(usable, family)
	}
	if len(usable) == 0 {
		return nil, fmt.Errorf("no IP family can be proxied: neither iptables nor ip6tables can read the nat table")
	}
	return usable, nil
}
