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
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/spf13/pflag"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"signet.dev/signet/pkg/clusterdns"
)

const (
	// DefaultListen answers on port 53 of every address, both families:
	// the usual target port of the cluster DNS Service.
	DefaultListen = ":53"
	// DefaultHealthAddr is where /health and /ready are served.
	DefaultHealthAddr = ":8080"
	// DefaultMetricsAddr is where /metrics is served.
	DefaultMetricsAddr = ":9153"
)

// Options are the flags of cluster-dns.
type Options struct {
	// Kubeconfig is the path of a kubeconfig file; empty means in-cluster.
	Kubeconfig string
	// Master overrides the API server address in the kubeconfig.
	Master string
	// ClusterDomain is the domain answered for.
	ClusterDomain string
	// Listen are the host:port pairs served over UDP and TCP.
	Listen []string
	// HealthAddr is host:port of /health and /ready; empty turns it off.
	HealthAddr string
	// MetricsAddr is host:port of /metrics; empty turns it off.
	MetricsAddr string
	// TTL is the time to live of every record.
	TTL time.Duration
	// PodRecords serves the pod records <a>-<b>-<c>-<d>.<ns>.pod.<zone>,
	// an extension of schema 1.1.0.
	PodRecords bool
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		ClusterDomain: clusterdns.DefaultClusterDomain,
		Listen:        []string{DefaultListen},
		HealthAddr:    DefaultHealthAddr,
		MetricsAddr:   DefaultMetricsAddr,
		TTL:           clusterdns.DefaultTTL,
		PodRecords:    true,
	}
}

// AddFlags registers every flag of o on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig,
		"Path to a kubeconfig file with the kube-apiserver address and credentials. Empty means in-cluster configuration.")
	fs.StringVar(&o.Master, "master", o.Master,
		"The address of the Kubernetes API server; overrides any value in --kubeconfig.")
	fs.StringVar(&o.ClusterDomain, "cluster-domain", o.ClusterDomain,
		"The cluster's DNS domain. Its names, in-addr.arpa and ip6.arpa are answered; every other name is refused.")
	fs.StringSliceVar(&o.Listen, "listen", o.Listen,
		"Comma-separated host:port pairs to answer DNS on, UDP and TCP: IPv4, [IPv6] or an empty host for every address of both families, e.g. 10.96.0.10:53,[fd00:10:96::a]:53.")
	fs.StringVar(&o.HealthAddr, "health-addr", o.HealthAddr,
		"host:port of the HTTP server for /health and /ready (also /healthz, /readyz). Empty turns it off.")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", o.MetricsAddr,
		"host:port of the HTTP server for /metrics. Empty turns it off; the same address as --health-addr serves both.")
	fs.DurationVar(&o.TTL, "ttl", o.TTL,
		"Time to live of every record, and how long resolvers may cache a negative answer (the SOA minimum). Whole seconds, from 1s to 24h.")
	fs.BoolVar(&o.PodRecords, "pod-records", o.PodRecords,
		"Answer pod records <a>-<b>-<c>-<d>.<namespace>.pod.<cluster-domain> with the address the name spells (dashes for colons for IPv6), without checking that a pod has it. Schema 1.1.0 dropped these deprecated records; the Kubernetes documentation still describes them.")
}

// Validate reports every flag error at once.
func (o *Options) Validate() error {
	var errs []error
	if o.ClusterDomain == "" {
		errs = append(errs, errors.New("--cluster-domain must not be empty"))
	} else if err := (clusterdns.HandlerConfig{Zone: o.ClusterDomain}).WithDefaults().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("--cluster-domain: %w", err))
	}
	if o.TTL < time.Second || o.TTL > 24*time.Hour || o.TTL%time.Second != 0 {
		errs = append(errs, fmt.Errorf("--ttl must be whole seconds from 1s to 24h, got %v", o.TTL))
	}
	if len(o.Listen) == 0 {
		errs = append(errs, errors.New("--listen must name at least one host:port"))
	}
	for _, a := range o.Listen {
		if err := clusterdns.ValidateListenAddr(strings.TrimSpace(a)); err != nil {
			errs = append(errs, fmt.Errorf("--listen: %w", err))
		}
	}
	for _, f := range []struct{ name, value string }{{"--health-addr", o.HealthAddr}, {"--metrics-addr", o.MetricsAddr}} {
		if f.value == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(f.value); err != nil {
			errs = append(errs, fmt.Errorf("%s %q must be host:port: %w", f.name, f.value, err))
		}
	}
	return utilerrors.NewAggregate(errs)
}

func (o *Options) handlerConfig() clusterdns.HandlerConfig {
	return clusterdns.HandlerConfig{
		Zone:              o.ClusterDomain,
		TTL:               o.TTL,
		DisablePodRecords: !o.PodRecords,
	}
}

func (o *Options) serverConfig() clusterdns.ServerConfig {
	addrs := make([]string, 0, len(o.Listen))
	for _, a := range o.Listen {
		addrs = append(addrs, strings.TrimSpace(a))
	}
	return clusterdns.ServerConfig{ListenAddrs: addrs}
}
