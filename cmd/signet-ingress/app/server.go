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

// Package app is the signet-ingress command: flags, clients and
// informers, the proxy, the controller, leader election for status, and
// the admin server, run until asked to stop.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/component-base/cli/globalflag"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/component-base/version/verflag"
	"k8s.io/klog/v2"

	signetclient "signet.dev/client-go/clientset/versioned"
	signetinformers "signet.dev/client-go/informers/externalversions"

	"signet.dev/signet/pkg/ingress/controller"
	"signet.dev/signet/pkg/ingress/proxy"
	"signet.dev/signet/pkg/util/kubeclient"
)

const (
	// userAgent names this component's requests in API server logs.
	userAgent = "signet-ingress"
	// statusWorkers is the number of Ingress status writers.
	statusWorkers = 2
	// adminShutdownTimeout bounds the admin server's shutdown.
	adminShutdownTimeout = 5 * time.Second
)

// NewCommand returns the signet-ingress command.
func NewCommand() *cobra.Command {
	o := NewOptions()
	logOptions := logs.NewOptions()
	cmd := &cobra.Command{
		Use:   "signet-ingress",
		Short: "Route the Ingresses of signet's IngressClasses to EndpointSlice endpoints",
		Long: `signet-ingress is an Ingress controller and HTTP(S) proxy in one process. It
serves the Ingresses (networking.signet.dev/v1) whose IngressClass names
--controller-name in spec.controller, chosen by spec.ingressClassName or the
legacy kubernetes.io/ingress.class annotation, and leaves every other Ingress
alone. Requests are matched as docs/ingress.md describes and sent round-robin
to the ready endpoints of discovery.signet.dev EndpointSlices (both families),
not to ClusterIPs. Configuration changes swap an immutable route table; nothing
is reloaded.

Every replica serves traffic; the replica holding the leader lease writes
Ingress status: the --publish-address addresses and the Accepted and
Programmed conditions. /healthz, /readyz (informers synced, first
configuration applied, listeners bound) and /metrics are served on
--admin-addr. SIGTERM closes the listeners after --shutdown-delay, finishes
the requests in flight and exits 0.`,
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

// proxyOptions maps the flags to the proxy's options.
func (o *Options) proxyOptions(reg prometheus.Registerer) proxy.Options {
	return proxy.Options{
		HTTPAddrs:             trimmed(o.HTTPAddrs),
		HTTPSAddrs:            trimmed(o.HTTPSAddrs),
		TrustForwardedHeaders: o.TrustForwardedHeaders,
		ReadHeaderTimeout:     o.ReadHeaderTimeout,
		IdleTimeout:           o.IdleTimeout,
		DialTimeout:           o.UpstreamDialTimeout,
		ResponseTimeout:       o.UpstreamResponseTimeout,
		UpstreamIdleTimeout:   o.UpstreamIdleTimeout,
		ShutdownTimeout:       o.ShutdownTimeout,
		Registerer:            reg,
	}
}

// Run serves until ctx is done, then shuts down gracefully.
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
	return run(ctx, o, kubeClient, signetClient)
}

func run(ctx context.Context, o *Options, kubeClient kubernetes.Interface, signetClient signetclient.Interface) error {
	logger := klog.FromContext(ctx)
	publish, err := controller.ParsePublishAddresses(o.PublishAddresses)
	if err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)

	p, err := proxy.New(o.proxyOptions(registry))
	if err != nil {
		return fmt.Errorf("configuring the proxy: %w", err)
	}
	kubeFactory := kubeinformers.NewSharedInformerFactoryWithOptions(kubeClient, 0, kubeinformers.WithNamespace(o.WatchNamespace))
	signetFactory := signetinformers.NewSharedInformerFactoryWithOptions(signetClient, 0, signetinformers.WithNamespace(o.WatchNamespace))
	ctrl, err := controller.New(ctx, signetClient, controller.NewInformers(kubeFactory, signetFactory, o.WatchNamespace), p, controller.Options{
		ControllerName:   o.ControllerName,
		PublishAddresses: publish,
		Registerer:       registry,
	})
	if err != nil {
		return fmt.Errorf("creating the controller: %w", err)
	}

	// work ends the controller, the informers and leader election; the
	// proxy has its own context, ended after --shutdown-delay, so it
	// serves until it has drained.
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	serving, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServing()
	var shuttingDown atomic.Bool

	admin, err := serveAdmin(logger, o.AdminAddr, registry, func() error {
		switch {
		case shuttingDown.Load():
			return errors.New("shutting down")
		case !ctrl.HasSynced():
			return errors.New("informers not synced")
		case !ctrl.Ready():
			return errors.New("no configuration applied or the listeners are not bound yet")
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer admin.stop()

	proxyDone := make(chan error, 1)
	go func() { proxyDone <- p.Run(serving) }()

	var wg sync.WaitGroup
	kubeFactory.Start(work.Done())
	signetFactory.Start(work.Done())
	ctrlDone := make(chan error, 1)
	wg.Go(func() { ctrlDone <- ctrl.Run(work) })
	if o.LeaderElect {
		id, err := identity()
		if err != nil {
			stopServing()
			<-proxyDone
			return err
		}
		wg.Go(func() { o.electAndWriteStatus(work, kubeClient, ctrl, id) })
	} else {
		wg.Go(func() { ctrl.RunStatus(work, statusWorkers) })
	}
	logger.Info("signet-ingress is starting", "controller", o.ControllerName, "http", trimmed(o.HTTPAddrs), "https", trimmed(o.HTTPSAddrs),
		"admin", o.AdminAddr, "namespace", o.WatchNamespace, "publish", o.PublishAddresses, "leaderElect", o.LeaderElect)

	var runErr error
	select {
	case <-ctx.Done():
		logger.Info("Shutting down", "cause", context.Cause(ctx), "delay", o.ShutdownDelay)
		shuttingDown.Store(true)
		if o.ShutdownDelay > 0 {
			select {
			case <-time.After(o.ShutdownDelay):
			case runErr = <-proxyDone:
				proxyDone <- runErr
			}
		}
	case runErr = <-proxyDone:
		proxyDone <- runErr
		if runErr == nil {
			runErr = errors.New("the proxy stopped")
		}
		runErr = fmt.Errorf("proxy: %w", runErr)
	case runErr = <-admin.errs:
		runErr = fmt.Errorf("admin server: %w", runErr)
	case runErr = <-ctrlDone:
		if runErr == nil {
			runErr = errors.New("stopped")
		}
		runErr = fmt.Errorf("controller: %w", runErr)
	}
	shuttingDown.Store(true)

	// Stop accepting and drain, then stop watching and release the lease.
	stopServing()
	if err := <-proxyDone; err != nil && runErr == nil {
		runErr = fmt.Errorf("proxy: %w", err)
	}
	stopWork()
	wg.Wait()
	kubeFactory.Shutdown()
	signetFactory.Shutdown()
	logger.Info("Stopped")
	return runErr
}

// electAndWriteStatus writes Ingress status while this replica holds the
// lease, and campaigns again whenever it loses it, until ctx is done.
func (o *Options) electAndWriteStatus(ctx context.Context, kubeClient kubernetes.Interface, ctrl *controller.Controller, id string) {
	logger := klog.FromContext(ctx)
	lease := o.leaseName()
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: o.ResourceNamespace, Name: lease},
		Client:     kubeClient.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: id},
	}
	for ctx.Err() == nil {
		elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock:            lock,
			LeaseDuration:   o.LeaseDuration,
			RenewDeadline:   o.RenewDeadline,
			RetryPeriod:     o.RetryPeriod,
			ReleaseOnCancel: true,
			Name:            lease,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(ctx context.Context) {
					logger.Info("Started leading: writing Ingress status", "lease", klog.KRef(o.ResourceNamespace, lease), "identity", id)
					ctrl.RunStatus(ctx, statusWorkers)
				},
				OnStoppedLeading: func() {
					logger.Info("Stopped leading; still serving traffic", "identity", id)
				},
				OnNewLeader: func(leader string) {
					if leader != id {
						logger.Info("Another replica writes Ingress status", "leader", leader)
					}
				},
			},
		})
		if err != nil {
			// Validate checked the timings; this is a programming error.
			logger.Error(err, "Setting up leader election; Ingress status is not written")
			return
		}
		logger.Info("Waiting for the lease to write Ingress status", "lease", klog.KRef(o.ResourceNamespace, lease), "identity", id)
		elector.Run(ctx)
		select {
		case <-ctx.Done():
		case <-time.After(o.RetryPeriod):
		}
	}
}

// identity is this replica's name in the Lease: the hostname and a random
// suffix, so two processes on one host never share it.
func identity() (string, error) {
	host, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("getting the hostname for the leader election identity: %w", err)
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating the leader election identity: %w", err)
	}
	return host + "_" + hex.EncodeToString(b), nil
}

// adminServer serves /healthz, /readyz and /metrics.
type adminServer struct {
	srv  *http.Server
	errs chan error
}

func (a *adminServer) stop() {
	if a.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), adminShutdownTimeout)
	defer cancel()
	_ = a.srv.Shutdown(ctx)
}

// serveAdmin starts the admin server on addr (none when addr is empty).
func serveAdmin(logger klog.Logger, addr string, registry *prometheus.Registry, ready func() error) (*adminServer, error) {
	a := &adminServer{errs: make(chan error, 1)}
	if addr == "" {
		return a, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on --admin-addr %q: %w", addr, err)
	}
	a.srv = &http.Server{Handler: adminHandler(registry, ready), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		logger.Info("Serving health and metrics", "address", ln.Addr().String())
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.errs <- err
		}
	}()
	return a, nil
}

// adminHandler serves /healthz (the process is up), /readyz (ready says
// why not) and /metrics from registry.
func adminHandler(registry *prometheus.Registry, ready func() error) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := ready(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	mux.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry}))
	return mux
}
