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

// Command nodeagent is the node agent of signet's local cluster: it plays
// kubelet and CNI for one node whose pods are network namespaces on this
// machine. Test infrastructure; see docs/local-cluster.md.
//
// Run it in the node's network namespace but in the machine's mount
// namespace:
//
//	nsenter --net=/run/netns/node-1 -- nodeagent --kubeconfig=K --node-name=node-1 \
//	    --node-ip=10.100.0.11,fd00:100::11 --pod-cidrs=10.244.1.0/24,fd00:244:1::/64 \
//	    --node-labels=topology.kubernetes.io/zone=zone-a --cluster-dns=169.254.20.10,fd00::10 \
//	    --state-dir=_output/local-up/nodes/node-1
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/component-base/cli"
	"k8s.io/component-base/cli/globalflag"
	"k8s.io/component-base/logs"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/klog/v2"

	"signet.dev/signet/test/e2e/nodeagent"
)

func main() {
	// Every container starts as "nodeagent container-init ...", which sets
	// the pod's hostname and executes the container's program.
	if len(os.Args) > 1 && os.Args[1] == nodeagent.ContainerInitCommand {
		os.Exit(nodeagent.ContainerInit(os.Args[2:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	cmd := newCommand()
	cmd.SetContext(ctx)
	os.Exit(cli.Run(cmd))
}

func newCommand() *cobra.Command {
	o := nodeagent.NewOptions()
	logOptions := logs.NewOptions()
	cmd := &cobra.Command{
		Use:   "nodeagent",
		Short: "Run the pods of one node of signet's local cluster as network namespaces",
		Long: `nodeagent registers a Node and runs the Pods bound to it the way kubelet and a
bridge CNI plugin would, with network namespaces instead of containers: each pod
gets a namespace on the node's bridge with an IPv4 and an IPv6 address, its
resolv.conf and hosts files, hostPort rules (iptables and ip6tables), and its
containers run as processes of signet-testd (testd, agnhost and pause images)
or of the node (busybox and signet.dev/host images).

Run it inside the node's network namespace, sharing the machine's mount
namespace: nsenter --net=/run/netns/NODE -- nodeagent ... (not "ip netns exec").
On SIGTERM it stops the containers and keeps the pods' namespaces, which the
next run adopts; --cleanup removes everything it created.`,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unexpected arguments: %q", args)
			}
			if err := logsapi.ValidateAndApply(logOptions, nil); err != nil {
				return err
			}
			cfg, err := o.Config()
			if err != nil {
				return err
			}
			ctx := klog.NewContext(cmd.Context(), klog.Background().WithName("nodeagent").WithValues("node", cfg.NodeName))
			if o.Cleanup {
				return nodeagent.Cleanup(ctx, cfg)
			}
			restConfig, err := clientConfig(cfg.Kubeconfig)
			if err != nil {
				return err
			}
			client, err := kubernetes.NewForConfig(restConfig)
			if err != nil {
				return err
			}
			agent, err := nodeagent.New(cfg, client)
			if err != nil {
				return err
			}
			return agent.Run(ctx)
		},
	}
	fs := cmd.Flags()
	o.AddFlags(fs)
	logsapi.AddFlags(logOptions, fs)
	globalflag.AddGlobalFlags(fs, cmd.Name(), logs.SkipLoggingConfigurationFlags())
	return cmd
}

func clientConfig(kubeconfig string) (*rest.Config, error) {
	var (
		c   *rest.Config
		err error
	)
	if kubeconfig == "" {
		c, err = rest.InClusterConfig()
	} else {
		c, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	if err != nil {
		return nil, err
	}
	c.UserAgent = "nodeagent"
	c.QPS, c.Burst = 50, 100
	return c, nil
}
