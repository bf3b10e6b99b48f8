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
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"signet.dev/signet/pkg/util/componentconfig"
)

// Options are kube-proxy's command-line options.
type Options struct {
	// ConfigFile is the path of a KubeProxyConfiguration file (--config);
	// empty means flags only.
	ConfigFile string
	// Master overrides the API server address of the kubeconfig. It is a
	// flag only, as upstream.
	Master string
	// Flags holds the defaults overridden by the flags given; Load returns
	// the configuration in force.
	Flags *KubeProxyConfiguration

	// fs is where the flags were registered, to tell the flags given from
	// the defaults.
	fs *pflag.FlagSet
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{Flags: NewDefaultConfiguration()}
}

// AddFlags registers kube-proxy's flags on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	o.fs = fs
	fs.StringVar(&o.ConfigFile, "config", o.ConfigFile,
		"Path of a configuration file (apiVersion "+GroupVersion+", kind "+Kind+") with the settings of the flags below. "+
			"Flags given on the command line override the file.")
	fs.StringVar(&o.Master, "master", o.Master,
		"The address of the Kubernetes API server; overrides any value in --kubeconfig.")
	bindConfigFlags(fs, o.Flags)
}

// bindConfigFlags registers the flags that set fields of c, with c's
// values as their defaults.
func bindConfigFlags(fs *pflag.FlagSet, c *KubeProxyConfiguration) {
	fs.StringVar(&c.ClientConnection.Kubeconfig, "kubeconfig", c.ClientConnection.Kubeconfig,
		"Path to a kubeconfig file with the kube-apiserver address and credentials. Empty means in-cluster configuration.")
	fs.StringVar(&c.HostnameOverride, "hostname-override", c.HostnameOverride,
		"This node's name, if it is not the hostname. It must be the name of this node's Node object.")
	fs.StringVar(&c.Mode, "proxy-mode", c.Mode,
		`Which proxy mode to use; only "iptables" is implemented (empty also means iptables).`)
	fs.StringVar(&c.ClusterCIDR, "cluster-cidr", c.ClusterCIDR,
		"Comma-separated CIDRs of the pod network, at most one per IP family, such as 10.244.0.0/16,fd00:10:244::/56. "+
			"Traffic to a cluster IP from outside them is masqueraded. When given, they also decide which IP families are programmed; "+
			"otherwise the families come from this node's Node object.")
	fs.StringSliceVar(&c.NodePortAddresses, "nodeport-addresses", c.NodePortAddresses,
		"Comma-separated CIDRs of either family: node ports answer only on local addresses inside them. "+
			"A family with none listed answers on every local address but loopback.")
	fs.BoolVar(&c.MasqueradeAll, "masquerade-all", c.MasqueradeAll,
		"Masquerade (SNAT) all traffic to cluster IPs, not only traffic from outside --cluster-cidr.")
	fs.Int32Var(&c.IPTables.MasqueradeBit, "masquerade-bit", c.IPTables.MasqueradeBit,
		"The bit of the packet mark (1-31) that marks packets to masquerade.")
	fs.DurationVar(&c.IPTables.SyncPeriod.Duration, "iptables-sync-period", c.IPTables.SyncPeriod.Duration,
		"The longest time between two full syncs of the rules, such as 30s or 2m. /healthz fails when no sync succeeded for twice this long.")
	fs.DurationVar(&c.IPTables.MinSyncPeriod.Duration, "iptables-min-sync-period", c.IPTables.MinSyncPeriod.Duration,
		"The shortest time between two syncs; changes arriving faster are batched. 0 syncs at every change.")
	fs.StringVar(&c.HealthzBindAddress, "healthz-bind-address", c.HealthzBindAddress,
		"ip:port of the /healthz, /livez and /readyz server. Empty turns it off.")
	fs.StringVar(&c.MetricsBindAddress, "metrics-bind-address", c.MetricsBindAddress,
		"ip:port of the /metrics server. Empty turns it off.")
}

// Load returns the configuration in force, validated: the defaults,
// overridden by the --config file when there is one, overridden by the
// flags given on the command line (even when a flag is given its default
// value).
func (o *Options) Load() (*KubeProxyConfiguration, error) {
	var data []byte
	if o.ConfigFile != "" {
		var err error
		if data, err = os.ReadFile(o.ConfigFile); err != nil {
			return nil, fmt.Errorf("reading --config file: %w", err)
		}
	}
	return o.loadFrom(data)
}

// loadFrom is Load with the content of the --config file.
func (o *Options) loadFrom(data []byte) (*KubeProxyConfiguration, error) {
	cfg := o.Flags.DeepCopy()
	if o.ConfigFile != "" {
		cfg = NewDefaultConfiguration()
		if err := fileFormat.Decode(data, cfg); err != nil {
			return nil, fmt.Errorf("loading --config file %s: %w", o.ConfigFile, err)
		}
		// Flags given on the command line win over the file.
		if err := componentconfig.ApplyGivenFlags(o.fs, func(fs *pflag.FlagSet) { bindConfigFlags(fs, cfg) }); err != nil {
			return nil, err
		}
	}
	if err := withFlags(cfg.Validate()); err != nil {
		if o.ConfigFile != "" {
			return nil, fmt.Errorf("invalid configuration (from --config file %s and the flags given): %w", o.ConfigFile, err)
		}
		return nil, fmt.Errorf("invalid flags: %w", err)
	}
	return cfg, nil
}
