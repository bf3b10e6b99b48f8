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
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/component-base/cli/globalflag"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/component-base/version/verflag"
	"k8s.io/klog/v2"

	signetclient "signet.dev/client-go/clientset/versioned"
	signetinformers "signet.dev/client-go/informers/externalversions"

	"signet.dev/signet/pkg/controller/endpointslice"
	"signet.dev/signet/pkg/util/kubeclient"
)

const (
	// userAgent names this component's requests in API server logs.
	userAgent = "signet-controller-manager"
	// shutdownTimeout bounds the HTTP server's graceful shutdown.
	shutdownTimeout = 5 * time.Second
)

// NewCommand returns the signet-controller-manager command.
func NewCommand() *cobra.Command {
	o := NewOptions()
	logOptions := logs.NewOptions()
	cmd := &cobra.Command{
		Use:   "signet-controller-manager",
		Short: "Run signet's controllers: EndpointSlices for discovery.signet.dev",
		Long: `signet-controller-manager watches Services, Pods and Nodes in kube-apiserver and
keeps discovery.signet.dev EndpointSlices for every Service with a selector.

Replicas elect a leader on a coordination.k8s.io Lease; only the leader runs the
controllers. Each replica serves /healthz, /readyz (informers synced) and
/metrics on --bind-address.`,
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

// Run starts the health and metrics server and, once leader (or at once
// without --leader-elect), the EndpointSlice controller. It blocks until
// ctx is done, then stops the workers and releases the lease.
func Run(ctx context.Context, o *Options) error {
	logger := klog.FromContext(ctx)

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

	registry := prometheus.NewRegistry()
	registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)

	kubeFactory := kubeinformers.NewSharedInformerFactory(kubeClient, 0)
	signetFactory := signetinformers.NewSharedInformerFactory(signetClient, 0)
	podInformer := kubeFactory.Core().V1().Pods()
	serviceInformer := kubeFactory.Core().V1().Services()
	nodeInformer := kubeFactory.Core().V1().Nodes()
	sliceInformer := signetFactory.Discovery().V1().EndpointSlices()

	controller, err := endpointslice.NewController(ctx, podInformer, serviceInformer, nodeInformer, sliceInformer,
		kubeClient, signetClient, endpointslice.ControllerOptions{
			Options:    o.controllerOptions(),
			Registerer: registry,
		})
	if err != nil {
		return fmt.Errorf("creating the EndpointSlice controller: %w", err)
	}
	synced := []cache.InformerSynced{
		podInformer.Informer().HasSynced,
		serviceInformer.Informer().HasSynced,
		nodeInformer.Informer().HasSynced,
		sliceInformer.Informer().HasSynced,
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	serverErr := make(chan error, 1)
	if o.BindAddress != "" {
		ln, err := net.Listen("tcp", o.BindAddress)
		if err != nil {
			return fmt.Errorf("listening on --bind-address %q: %w", o.BindAddress, err)
		}
		srv := &http.Server{
			Handler:           newHandler(registry, synced),
			ReadHeaderTimeout: 10 * time.Second,
		}
		go func() {
			logger.Info("Serving health and metrics", "address", ln.Addr().String())
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				serverErr <- err
				cancel()
			}
		}()
		defer func() {
			sctx, scancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer scancel()
			_ = srv.Shutdown(sctx)
		}()
	}

	run := func(ctx context.Context) {
		kubeFactory.Start(ctx.Done())
		signetFactory.Start(ctx.Done())
		controller.Run(ctx, o.ConcurrentEndpointSliceSyncs)
		// Wait for the informers' goroutines before the lease goes.
		kubeFactory.Shutdown()
		signetFactory.Shutdown()
	}

	if !o.LeaderElect {
		run(ctx)
		return serverError(serverErr)
	}

	id, err := identity()
	if err != nil {
		return err
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta: metav1.ObjectMeta{
			Namespace: o.ResourceNamespace,
			Name:      o.ResourceName,
		},
		Client:     kubeClient.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: id},
	}
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   o.LeaseDuration,
		RenewDeadline:   o.RenewDeadline,
		RetryPeriod:     o.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            o.ResourceName,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				logger.Info("Started leading", "identity", id)
				run(ctx)
			},
			OnStoppedLeading: func() {
				logger.Info("Stopped leading", "identity", id)
				// Losing the lease while still running means another
				// replica may act: stop rather than run two leaders.
				cancel()
			},
			OnNewLeader: func(leader string) {
				if leader != id {
					logger.Info("New leader elected", "leader", leader)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("setting up leader election: %w", err)
	}
	logger.Info("Waiting for the lease", "lease", klog.KRef(o.ResourceNamespace, o.ResourceName), "identity", id)
	elector.Run(ctx)
	return serverError(serverErr)
}

// serverError returns the health server's failure, if it had one.
func serverError(ch <-chan error) error {
	select {
	case err := <-ch:
		return fmt.Errorf("health and metrics server: %w", err)
	default:
		return nil
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

// newHandler serves /healthz (the process is up), /readyz (every informer
// has synced; on a non-leader replica the informers are not started, so it
// stays not ready) and /metrics from registry.
func newHandler(registry *prometheus.Registry, synced []cache.InformerSynced) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		for _, s := range synced {
			if !s() {
				http.Error(w, "informers not synced", http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte("ok"))
	})
	mux.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry}))
	return mux
}
