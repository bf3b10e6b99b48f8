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

// Package app is the node-cache command: flags, the configuration file, and
// the run loop that prepares the node, serves DNS and cleans up.
//
// The configuration in force is the defaults, overridden by the --config
// file, overridden by the flags given on the command line: per-node values
// (--localip, --node-name) stay in the DaemonSet's arguments while shared
// ones (upstreams, stub domains, TTLs) live in a ConfigMap. The file is
// polled; on change it is loaded again with the same flags on top. See
// docs/node-cache.md.
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
	"k8s.io/component-base/cli/globalflag"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/component-base/version/verflag"
	"k8s.io/klog/v2"

	"signet.dev/signet/pkg/nodecache/server"
	"signet.dev/signet/pkg/nodecache/setup"
	"signet.dev/signet/pkg/util/iptables"
)

const (
	// watchPeriod is how often the --config and resolv.conf files are
	// checked for changes.
	watchPeriod = 5 * time.Second
	// shutdownTimeout bounds answering the queries in flight on exit.
	shutdownTimeout = 5 * time.Second
	// teardownTimeout bounds removing the rules and the link on exit.
	teardownTimeout = 30 * time.Second
)

// NewCommand returns the node-cache command.
func NewCommand() *cobra.Command {
	o := NewOptions()
	logOptions := logs.NewOptions()
	cmd := &cobra.Command{
		Use:   "node-cache",
		Short: "Run a per-node DNS cache on link-local addresses, outside conntrack",
		Long: `node-cache answers DNS for the pods of one node on local addresses (such as
169.254.20.10 and fd00::10) held by a link of its own. Rules in the raw table
keep those flows out of conntrack. Cluster names go to the cluster DNS over
TCP on persistent connections, other names to the resolv.conf nameservers or
to stub domain servers, and answers are cached.

On start it sets up the link, installs the rules, then serves; every
--sync-interval it restores the link and the rules; on SIGTERM or SIGINT it
stops answering, removes the rules, then the link (unless --skip-teardown).`,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			verflag.PrintAndExitIfRequested()
			if len(args) > 0 {
				return fmt.Errorf("unexpected arguments: %q", args)
			}
			if err := logsapi.ValidateAndApply(logOptions, nil); err != nil {
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

// step is one part of the node setup, kept every sync and undone on exit.
type step interface {
	Ensure(ctx context.Context) error
	Teardown(ctx context.Context) error
}

type namedStep struct {
	kind string // kindInterface or kindIPTables
	step
}

// hooks are what tests replace: the node setup and the watch period.
type hooks struct {
	newInterface func(cfg *NodeCacheConfiguration) step
	newNetfilter func(cfg *NodeCacheConfiguration) step
	watchPeriod  time.Duration
	// serving, when set, is called once DNS and HTTP are served.
	serving func(d *daemon)
}

func defaultHooks() hooks {
	return hooks{
		newInterface: func(cfg *NodeCacheConfiguration) step {
			return &setup.Interface{Name: cfg.InterfaceName, LocalIPs: cfg.localIPs()}
		},
		newNetfilter: func(cfg *NodeCacheConfiguration) step {
			nf := &setup.Netfilter{LocalIPs: cfg.localIPs(), DNSPort: int(cfg.Port), HealthPort: cfg.healthPort()}
			for _, ip := range nf.LocalIPs {
				switch {
				case ip.Is4() && nf.IPv4 == nil:
					nf.IPv4 = iptables.New(nil, iptables.ProtocolIPv4)
				case ip.Is6() && nf.IPv6 == nil:
					nf.IPv6 = iptables.New(nil, iptables.ProtocolIPv6)
				}
			}
			return nf
		},
		watchPeriod: watchPeriod,
	}
}

// daemon is a running node-cache.
type daemon struct {
	o       *Options
	cfg     *NodeCacheConfiguration // in force
	watched string                  // fingerprint of the watched files behind cfg
	steps   []namedStep             // in setup order
	reg     *prometheus.Registry
	metrics *metrics
	srv     *server.Server

	httpServers []*http.Server
	httpAddrs   []string   // bound addresses, for tests
	httpErr     chan error // an HTTP server failed

	syncTicker *time.Ticker
}

// Run loads the configuration from o and runs node-cache until ctx is done:
// set up the link, install the rules, serve DNS, serve health and metrics,
// then restore the setup every sync interval and apply changes to the
// watched files; on exit stop answering, remove the rules, then the link,
// unless skipTeardown.
func Run(ctx context.Context, o *Options) error {
	return run(ctx, o, defaultHooks())
}

func run(ctx context.Context, o *Options, h hooks) (err error) {
	logger := klog.FromContext(ctx)
	data, err := readConfigFile(o.ConfigFile)
	if err != nil {
		return err
	}
	cfg, err := o.loadFrom(data)
	if err != nil {
		return err
	}
	d := &daemon{o: o, cfg: cfg, httpErr: make(chan error, 2), reg: prometheus.NewRegistry()}
	// Fingerprint resolv.conf before the server reads it: a change in
	// between causes one needless reload, never a missed one.
	d.watched = fingerprint(data, nil, cfg.UpstreamResolvConf)
	logger.Info("Starting node-cache", "localIPs", cfg.LocalIPs, "port", cfg.Port, "clusterDNS", cfg.ClusterDNS,
		"clusterDomain", cfg.ClusterDomain, "nodeName", cfg.NodeName, "stubDomains", len(cfg.StubDomains),
		"configFile", o.ConfigFile, "flagsOverridingFile", d.flagsOverridingFile())

	d.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	d.metrics = newMetrics(d.reg)
	// Build the server first: a bad resolv.conf or a loop to ourselves fails
	// here, before the node is touched.
	if d.srv, err = server.New(cfg.serverConfig(), d.reg); err != nil {
		return fmt.Errorf("configuring the DNS server: %w", err)
	}
	defer func() { err = errors.Join(err, d.stop(ctx)) }()

	if cfg.SetupInterface {
		d.steps = append(d.steps, namedStep{kindInterface, h.newInterface(cfg)})
	}
	if cfg.SetupIPTables {
		d.steps = append(d.steps, namedStep{kindIPTables, h.newNetfilter(cfg)})
	}
	// Rules go in before the first query can arrive: no window where DNS to
	// the local IPs is tracked or dropped.
	for _, s := range d.steps {
		if err := s.Ensure(ctx); err != nil {
			d.metrics.setupErrors.WithLabelValues(s.kind).Inc()
			return fmt.Errorf("setting up the %s: %w", s.kind, err)
		}
	}
	if err := d.srv.Start(ctx); err != nil {
		return fmt.Errorf("starting the DNS server: %w", err)
	}
	if err := d.serveHTTP(ctx); err != nil {
		return err
	}
	if h.serving != nil {
		h.serving(d)
	}
	logger.Info("node-cache is serving", "dns", d.srv.Addrs(), "http", d.httpAddrs)

	d.syncTicker = time.NewTicker(cfg.SyncInterval.Duration)
	defer d.syncTicker.Stop()
	watch := time.NewTicker(h.watchPeriod)
	defer watch.Stop()
	for {
		select {
		case <-ctx.Done():
			logger.Info("Shutting down", "cause", context.Cause(ctx))
			return nil
		case err := <-d.httpErr:
			return err
		case <-d.syncTicker.C:
			d.sync(ctx)
		case <-watch.C:
			d.checkFiles(ctx)
		}
	}
}

// flagsOverridingFile names the configuration flags given with --config.
func (d *daemon) flagsOverridingFile() []string {
	if d.o.ConfigFile == "" {
		return nil
	}
	return d.o.givenFlags()
}

// sync restores every setup step; errors are logged and counted, and the next
// sync tries again.
func (d *daemon) sync(ctx context.Context) {
	logger := klog.FromContext(ctx)
	for _, s := range d.steps {
		if err := s.Ensure(ctx); err != nil {
			d.metrics.setupErrors.WithLabelValues(s.kind).Inc()
			logger.Error(err, "Restoring node setup failed; retrying next sync", "kind", s.kind, "syncInterval", d.cfg.SyncInterval.Duration)
		}
	}
}

// serveHTTP starts the health and metrics servers; one address may serve
// both.
func (d *daemon) serveHTTP(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	var addrs []string
	muxes := map[string]*http.ServeMux{}
	mux := func(addr string) *http.ServeMux {
		if m, ok := muxes[addr]; ok {
			return m
		}
		m := http.NewServeMux()
		muxes[addr] = m
		addrs = append(addrs, addr)
		return m
	}
	if d.cfg.HealthAddr != "" {
		mux(d.cfg.HealthAddr).Handle("/", d.srv.Handler())
	}
	if d.cfg.MetricsAddr != "" {
		mux(d.cfg.MetricsAddr).Handle("/metrics", promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{Registry: d.reg}))
	}
	for _, addr := range addrs {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listening for HTTP on %s: %w", addr, err)
		}
		hs := &http.Server{Handler: muxes[addr], ReadHeaderTimeout: 10 * time.Second}
		d.httpServers = append(d.httpServers, hs)
		d.httpAddrs = append(d.httpAddrs, ln.Addr().String())
		go func() {
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				d.httpErr <- fmt.Errorf("HTTP server on %s: %w", addr, err)
			}
		}()
		logger.V(2).Info("Serving HTTP", "address", ln.Addr().String())
	}
	return nil
}

// stop undoes what run did, in order: stop answering DNS, remove the rules,
// remove the link (the last two unless skipTeardown), stop the HTTP servers.
// It runs with a context of its own: ctx is usually done by now.
func (d *daemon) stop(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	ctx = context.WithoutCancel(ctx)
	var errs []error
	sctx, cancel := context.WithTimeout(ctx, shutdownTimeout)
	if err := d.srv.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping the DNS server: %w", err))
	}
	cancel()
	if d.cfg.SkipTeardown {
		if len(d.steps) > 0 {
			logger.Info("Leaving the node setup in place (skipTeardown)", "interface", d.cfg.InterfaceName, "localIPs", d.cfg.LocalIPs)
		}
	} else {
		tctx, cancel := context.WithTimeout(ctx, teardownTimeout)
		for i := len(d.steps) - 1; i >= 0; i-- {
			s := d.steps[i]
			if err := s.Teardown(tctx); err != nil {
				d.metrics.setupErrors.WithLabelValues(s.kind).Inc()
				errs = append(errs, fmt.Errorf("removing the %s: %w", s.kind, err))
			}
		}
		cancel()
	}
	hctx, cancel := context.WithTimeout(ctx, shutdownTimeout)
	defer cancel()
	for _, hs := range d.httpServers {
		_ = hs.Shutdown(hctx)
	}
	return errors.Join(errs...)
}
