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

// Options are node-cache's command-line options.
type Options struct {
	// ConfigFile is the path of a NodeCacheConfiguration file (--config);
	// empty means flags only.
	ConfigFile string
	// Flags holds the defaults overridden by the flags given. Use Load for
	// the configuration in force.
	Flags *NodeCacheConfiguration

	fs     *pflag.FlagSet // where the flags were parsed, set by AddFlags
	getenv func(string) string
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return newOptions(os.Getenv)
}

func newOptions(getenv func(string) string) *Options {
	return &Options{Flags: newDefaultConfiguration(getenv), getenv: getenv}
}

// AddFlags registers node-cache's flags on fs and remembers fs, so Load can
// tell the flags given from the defaults.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	o.fs = fs
	fs.StringVar(&o.ConfigFile, "config", o.ConfigFile,
		"Path of a NodeCacheConfiguration file (apiVersion "+GroupVersion+") with the settings below and stubDomains. "+
			"Flags given on the command line override the file. The file is watched: upstream, stub domain and TTL changes "+
			"apply without a restart; a file that does not load keeps the configuration in force.")
	bindConfigFlags(fs, o.Flags)
}

// bindConfigFlags registers the flags that set fields of c, with c's values
// as defaults.
func bindConfigFlags(fs *pflag.FlagSet, c *NodeCacheConfiguration) {
	fs.StringSliceVar(&c.LocalIPs, "localip", c.LocalIPs,
		"Comma-separated IPv4 and/or IPv6 addresses to answer DNS on, for example 169.254.20.10,fd00::10. Required.")
	fs.StringVar(&c.InterfaceName, "interface-name", c.InterfaceName,
		"Name of the link that holds the local IPs.")
	fs.BoolVar(&c.SetupInterface, "setup-interface", c.SetupInterface,
		"Create the link, add the local IPs to it, restore it every --sync-interval and remove it on exit.")
	fs.BoolVar(&c.SetupIPTables, "setup-iptables", c.SetupIPTables,
		"Install the NOTRACK (raw) and ACCEPT (filter) rules for DNS to and from the local IPs before serving, restore them every --sync-interval and remove them on exit.")
	fs.BoolVar(&c.SkipTeardown, "skip-teardown", c.SkipTeardown,
		"On exit, leave the link and the rules in place (for example while node-cache is being replaced).")
	fs.StringVar(&c.ClusterDomain, "cluster-domain", c.ClusterDomain,
		"The cluster's DNS domain. Its names and the reverse zones go to --cluster-dns over TCP.")
	fs.StringSliceVar(&c.ClusterDNS, "cluster-dns", c.ClusterDNS,
		"Comma-separated cluster DNS servers as IP or IP:port (port 53 by default; [IPv6]:port). Required.")
	fs.StringVar(&c.UpstreamResolvConf, "upstream-resolv-conf", c.UpstreamResolvConf,
		"resolv.conf file whose nameservers resolve names outside the cluster domain and stub domains. Read again when it changes.")
	fs.Int32Var(&c.Port, "port", c.Port,
		"DNS port on every local IP, UDP and TCP.")
	fs.StringVar(&c.HealthAddr, "health-addr", c.HealthAddr,
		"host:port of the HTTP server for /health and /ready. Empty turns it off.")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr,
		"host:port of the HTTP server for /metrics. Empty turns it off.")
	fs.Int32Var(&c.CacheSize, "cache-size", c.CacheSize,
		"Most answers cached (entries); the least recently used are evicted first.")
	fs.DurationVar(&c.SuccessTTL.Duration, "success-ttl", c.SuccessTTL.Duration,
		"Longest time a positive answer is cached (at least 1s).")
	fs.DurationVar(&c.DenialTTL.Duration, "denial-ttl", c.DenialTTL.Duration,
		"Longest time a negative answer (NXDOMAIN, NODATA) is cached (at least 1s).")
	fs.DurationVar(&c.SyncInterval.Duration, "sync-interval", c.SyncInterval.Duration,
		"How often the link and the rules are checked and restored, for example 60s or 2m (at least 1s).")
	fs.StringVar(&c.NodeName, "node-name", c.NodeName,
		"This node's name, sent with every query to --cluster-dns (EDNS0 option 65001) so cluster DNS can answer with topology in mind. "+
			"Defaults to the NODE_NAME environment variable; empty sends none.")
}

// Load returns the configuration in force, validated: the defaults,
// overridden by the --config file when there is one, overridden by the flags
// given on the command line.
func (o *Options) Load() (*NodeCacheConfiguration, error) {
	data, err := readConfigFile(o.ConfigFile)
	if err != nil {
		return nil, err
	}
	return o.loadFrom(data)
}

// loadFrom is Load with the content of the --config file (nil without one).
func (o *Options) loadFrom(data []byte) (*NodeCacheConfiguration, error) {
	cfg := o.Flags.DeepCopy()
	if o.ConfigFile != "" {
		cfg = newDefaultConfiguration(o.getenv)
		if err := decodeConfiguration(data, cfg); err != nil {
			return nil, fmt.Errorf("loading --config file %s: %w", o.ConfigFile, err)
		}
		// Flags given on the command line win over the file.
		if err := componentconfig.ApplyGivenFlags(o.fs, func(fs *pflag.FlagSet) { bindConfigFlags(fs, cfg) }); err != nil {
			return nil, err
		}
	}
	if err := validationError(cfg.Validate()); err != nil {
		if o.ConfigFile != "" {
			return nil, fmt.Errorf("%w\n(from --config file %s and the flags given)", err, o.ConfigFile)
		}
		return nil, err
	}
	return cfg, nil
}

// givenFlags returns the configuration flags given on the command line.
func (o *Options) givenFlags() []string {
	return componentconfig.GivenFlags(o.fs, func(fs *pflag.FlagSet) {
		bindConfigFlags(fs, newDefaultConfiguration(o.getenv))
	})
}
