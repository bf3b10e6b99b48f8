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
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/apiserver/pkg/admission"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/util/compatibility"
	"k8s.io/component-base/cli/globalflag"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/component-base/version/verflag"
	"k8s.io/klog/v2"

	clientset "signet.dev/client-go/clientset/versioned"
	informers "signet.dev/client-go/informers/externalversions"

	"signet.dev/signet/pkg/admission/initializer"
	"signet.dev/signet/pkg/apiserver"
	"signet.dev/signet/pkg/apiserver/embeddedetcd"
	"signet.dev/signet/pkg/generated/openapi"
)

// NewCommand returns the signet-apiserver command.
func NewCommand() *cobra.Command {
	o := NewOptions()
	logOptions := logs.NewOptions()
	cmd := &cobra.Command{
		Use:   "signet-apiserver",
		Short: "Serve the networking.signet.dev and discovery.signet.dev APIs",
		Long: `signet-apiserver serves Ingress and IngressClass (networking.signet.dev v1, v1beta1)
and EndpointSlice (discovery.signet.dev v1, v1alpha1), stored as v1 in etcd.

In production it runs as an aggregated API server behind kube-apiserver, which
delegates authentication and authorization to it. With --standalone it runs
alone: it makes its own certificate and admin token and writes a kubeconfig.
Without --etcd-servers it embeds etcd, with its data under --data-dir.`,
		SilenceUsage: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return compatibility.DefaultComponentGlobalsRegistry.Set()
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			verflag.PrintAndExitIfRequested()
			if err := logsapi.ValidateAndApply(logOptions, nil); err != nil {
				return err
			}
			o.complete()
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

// Run starts signet-apiserver and blocks until ctx is done; then it drains
// requests and stops (the embedded etcd last).
func Run(ctx context.Context, o *Options) error {
	logger := klog.FromContext(ctx)

	if o.usesEmbeddedEtcd() {
		etcd, err := embeddedetcd.Start(ctx, filepath.Join(o.DataDir, "etcd"))
		if err != nil {
			return err
		}
		// Stop etcd only after the API server has drained its requests.
		defer etcd.Stop()
		o.Recommended.Etcd.StorageConfig.Transport.ServerList = []string{etcd.ClientURL()}
		go func() {
			if err := <-etcd.Errors(); err != nil {
				logger.Error(err, "Embedded etcd failed")
			}
		}()
	}

	var standalone *standaloneAccess
	if o.Standalone {
		var err error
		if standalone, err = prepareStandalone(o); err != nil {
			return err
		}
	}

	config, signetInformers, err := newConfig(o)
	if err != nil {
		return err
	}
	if standalone != nil {
		if err := standalone.applyTo(config.GenericConfig, signetInformers); err != nil {
			return err
		}
	}
	server, err := config.Complete().New()
	if err != nil {
		return err
	}
	if standalone != nil {
		if err := standalone.writeKubeconfig(o); err != nil {
			return err
		}
	}
	return server.GenericAPIServer.PrepareRun().RunWithContext(ctx)
}

// newConfig turns the options into the generic server's configuration.
func newConfig(o *Options) (*apiserver.Config, informers.SharedInformerFactory, error) {
	if err := o.Recommended.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil, loopbackIPs()); err != nil {
		return nil, nil, fmt.Errorf("creating a self-signed serving certificate: %w", err)
	}

	var signetInformers informers.SharedInformerFactory
	o.Recommended.ExtraAdmissionInitializers = func(c *genericapiserver.RecommendedConfig) ([]admission.PluginInitializer, error) {
		client, err := clientset.NewForConfig(c.LoopbackClientConfig)
		if err != nil {
			return nil, err
		}
		signetInformers = informers.NewSharedInformerFactory(client, 0)
		return []admission.PluginInitializer{initializer.New(signetInformers)}, nil
	}

	cfg := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	namer := openapinamer.NewDefinitionNamer(apiserver.Scheme)
	cfg.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(openapi.GetOpenAPIDefinitions, namer)
	cfg.OpenAPIConfig.Info.Title = "signet"
	cfg.OpenAPIConfig.Info.Version = "v1"
	cfg.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(openapi.GetOpenAPIDefinitions, namer)
	cfg.OpenAPIV3Config.Info.Title = "signet"
	cfg.OpenAPIV3Config.Info.Version = "v1"
	cfg.FeatureGate = compatibility.DefaultComponentGlobalsRegistry.FeatureGateFor(basecompatibility.DefaultKubeComponent)
	cfg.EffectiveVersion = compatibility.DefaultComponentGlobalsRegistry.EffectiveVersionFor(basecompatibility.DefaultKubeComponent)

	if err := o.Recommended.ApplyTo(cfg); err != nil {
		return nil, nil, err
	}
	cfg.ShutdownDelayDuration = o.ShutdownDelay
	cfg.ShutdownWatchTerminationGracePeriod = o.ShutdownWatchGrace
	cfg.AddPostStartHookOrDie("start-signet-informers", func(ctx genericapiserver.PostStartHookContext) error {
		if signetInformers != nil {
			signetInformers.Start(ctx.Done())
		}
		return nil
	})
	return &apiserver.Config{GenericConfig: cfg}, signetInformers, nil
}
