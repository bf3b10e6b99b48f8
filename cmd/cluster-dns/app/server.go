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

// Package app is the cluster-dns command: flags, clients and informers,
// and the run loop that serves DNS, health and metrics until asked to stop.
package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/component-base/cli/globalflag"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/component-base/version/verflag"
	"k8s.io/klog/v2"

	signetclient "signet.dev/client-go/clientset/versioned"
	signetinformers "signet.dev/client-go/informers/externalversions"

	"signet.dev/signet/pkg/clusterdns"
	"signet.dev/signet/pkg/util/kubeclient"
)

const (
	// userAgent names this component's requests in API server logs.
	userAgent = "cluster-dns"
	// shutdownTimeout bounds answering the queries in flight on exit.
	shutdownTimeout = 5 * time.Second
)

// NewCommand returns the cluster-dns command.
func NewCommand() *cobra.Command {
	o := NewOptions()
	logOptions := logs.NewOptions()
	cmd := &cobra.Command{
		Use:   "cluster-dns",
		Short: "Serve the cluster's DNS from Services and signet EndpointSlices",
		Long: `cluster-dns answers the Kubernetes DNS-Based Service Discovery specification
(schema 1.1.0) for --cluster-domain: A and AAAA records of Services by IP
family, SRV records of named ports, PTR records, CNAMEs of ExternalName
Services and the dns-version TXT record, from Services in kube-apiserver and
discovery.signet.dev EndpointSlices.

Headless Services with the service.signet.dev/topology-keys annotation are
answered with the endpoints kube-proxy would pick on the node a query comes
from, which node-cache names in EDNS0 option 65001.

It answers SERVFAIL until its informers have synced, refuses names outside
the cluster domain and the reverse zones, and serves /health, /ready and
/metrics.`,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			verflag.PrintAndExitIfRequested()
			if len(args) > 0 {
				return fmt.Errorf("unexpected arguments: %q", args)
			}
			if err := logsapi.ValidateAndApply(logOptions, nil); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return Run(cmd.Context(), o)
		},
	}
	fs := cmd.Flags()
	o.AddFlags(fs)
	logsapi.AddFlags(logOptions, fs)
	verflag.AddFlags(fs)
	globalflag.AddGlobalFlags(fs, cmd.Name(), logs.SkipLoggingConfigurationFlags())
	return cmd
}

// Run serves DNS, health and metrics from the clients --kubeconfig
// describes until ctx is done, then stops answering (queries in flight get
// up to 5s) and stops the informers.
func Run(ctx context.Context, o *Options) error {
	cfg, err := kubeclient.RESTConfig(o.Kubeconfig, o.Master)
	if err != nil {
		return err
	}
	cfg = rest.AddUserAgent(cfg, userAgent)
	kubeClient, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	signetClient, err := signetclient.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("creating the signet client: %w", err)
	}
	return run(ctx, o, kubeClient, signetClient, hooks{})
}

// hooks let tests learn the bound addresses.
type hooks struct {
	// serving, when set, is called once DNS and HTTP are served, with their
	// bound addresses.
	serving func(dnsAddrs, httpAddrs []string)
}

func run(ctx context.Context, o *Options, kubeClient kubernetes.Interface, signetClient signetclient.Interface, h hooks) (err error) {
	logger := klog.FromContext(ctx)
	registry := prometheus.NewRegistry()
	registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)

	store := clusterdns.NewStore()
	kubeFactory := kubeinformers.NewSharedInformerFactory(kubeClient, 0)
	signetFactory := signetinformers.NewSharedInformerFactory(signetClient, 0)
	sources, err := clusterdns.NewSources(store,
		kubeFactory.Core().V1().Services(),
		signetFactory.Discovery().V1().EndpointSlices(),
		kubeFactory.Core().V1().Nodes(),
		logger)
	if err != nil {
		return err
	}
	metrics := clusterdns.NewMetrics(registry, store)
	handler, err := clusterdns.NewHandler(o.handlerConfig(), store, sources.NodeLabels, sources.HasSynced, metrics, logger)
	if err != nil {
		return err
	}
	server, err := clusterdns.NewServer(o.serverConfig(), handler, metrics)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	kubeFactory.Start(ctx.Done())
	signetFactory.Start(ctx.Done())
	defer func() {
		cancel()
		kubeFactory.Shutdown()
		signetFactory.Shutdown()
	}()

	// Bind DNS before the informers sync: queries get SERVFAIL rather than
	// no answer, and a port in use fails the start at once.
	if err := server.Start(ctx); err != nil {
		return fmt.Errorf("starting DNS: %w", err)
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer scancel()
		if serr := server.Shutdown(sctx); serr != nil {
			err = errors.Join(err, fmt.Errorf("stopping DNS: %w", serr))
		}
	}()

	httpErr := make(chan error, 2)
	httpServers, httpAddrs, err := serveHTTP(ctx, o, registry, server.HealthHandler(sources.HasSynced), httpErr)
	if err != nil {
		return err
	}
	defer func() {
		hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer hcancel()
		for _, hs := range httpServers {
			_ = hs.Shutdown(hctx)
		}
	}()
	if h.serving != nil {
		h.serving(server.Addrs(), httpAddrs)
	}
	logger.Info("cluster-dns is serving", "clusterDomain", o.ClusterDomain, "dns", server.Addrs(), "http", httpAddrs, "ttl", o.TTL)

	go func() {
		if cache.WaitForCacheSync(ctx.Done(), sources.HasSynced) {
			services, endpoints := store.Counts()
			logger.Info("Informers synced; answering", "services", services, "headlessEndpoints", endpoints)
		}
	}()

	select {
	case <-ctx.Done():
		logger.Info("Shutting down", "cause", context.Cause(ctx))
		return nil
	case err := <-httpErr:
		return err
	}
}

// serveHTTP starts the health and metrics servers; one address may serve
// both.
func serveHTTP(ctx context.Context, o *Options, registry *prometheus.Registry, health http.Handler, errs chan<- error) ([]*http.Server, []string, error) {
	var order []string
	muxes := map[string]*http.ServeMux{}
	mux := func(addr string) *http.ServeMux {
		if m, ok := muxes[addr]; ok {
			return m
		}
		m := http.NewServeMux()
		muxes[addr] = m
		order = append(order, addr)
		return m
	}
	if o.HealthAddr != "" {
		mux(o.HealthAddr).Handle("/", health)
	}
	if o.MetricsAddr != "" {
		mux(o.MetricsAddr).Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry}))
	}
	var servers []*http.Server
	var bound []string
	for _, addr := range order {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, hs := range servers {
				_ = hs.Close()
			}
			return nil, nil, fmt.Errorf("listening for HTTP on %s: %w", addr, err)
		}
		hs := &http.Server{Handler: muxes[addr], ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, hs)
		bound = append(bound, ln.Addr().String())
		go func() {
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("HTTP server on %s: %w", addr, err)
			}
		}()
		klog.FromContext(ctx).V(2).Info("Serving HTTP", "address", ln.Addr().String())
	}
	return servers, bound, nil
}
