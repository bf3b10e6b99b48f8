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
	"k8s.io/apimachinery/pkg/util/validation"

	discoveryv1 "signet.dev/api/discovery/v1"

	"signet.dev/signet/pkg/controller/endpointslice"
)

const (
	// DefaultBindAddress is where /healthz, /readyz and /metrics are served.
	DefaultBindAddress = ":10360"
	// DefaultLeaderElectionName is the default name of the Lease.
	DefaultLeaderElectionName = "signet-controller-manager"
	// DefaultLeaderElectionNamespace is the default namespace of the Lease.
	DefaultLeaderElectionNamespace = "kube-system"
)

// Options are the flags of signet-controller-manager.
type Options struct {
	// Kubeconfig is the path of a kubeconfig file; empty means in-cluster.
	Kubeconfig string
	// Master overrides the API server address in the kubeconfig.
	Master string

	// ConcurrentEndpointSliceSyncs is the number of EndpointSlice workers.
	ConcurrentEndpointSliceSyncs int
	// MaxEndpointsPerSlice is the most endpoints a slice holds.
	MaxEndpointsPerSlice int
	// TopologyLabels are the node label keys copied into each endpoint.
	TopologyLabels []string
	// SettleDelay is how long endpoints stay unchanged before compaction.
	SettleDelay time.Duration

	// LeaderElect turns leader election on.
	LeaderElect bool
	// LeaseDuration, RenewDeadline and RetryPeriod time the election.
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
	// ResourceNamespace and ResourceName name the Lease.
	ResourceNamespace string
	ResourceName      string

	// BindAddress is host:port of the health and metrics server.
	BindAddress string
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		ConcurrentEndpointSliceSyncs: 5,
		MaxEndpointsPerSlice:         endpointslice.DefaultMaxEndpointsPerSlice,
		TopologyLabels:               append([]string(nil), endpointslice.DefaultTopologyLabels...),
		SettleDelay:                  endpointslice.DefaultSettleDelay,
		LeaderElect:                  true,
		LeaseDuration:                15 * time.Second,
		RenewDeadline:                10 * time.Second,
		RetryPeriod:                  2 * time.Second,
		ResourceNamespace:            DefaultLeaderElectionNamespace,
		ResourceName:                 DefaultLeaderElectionName,
		BindAddress:                  DefaultBindAddress,
	}
}

// AddFlags registers every flag of o on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig,
		"Path to a kubeconfig file with the kube-apiserver address and credentials. Empty means in-cluster configuration.")
	fs.StringVar(&o.Master, "master", o.Master,
		"The address of the Kubernetes API server; overrides any value in --kubeconfig.")
	fs.IntVar(&o.ConcurrentEndpointSliceSyncs, "concurrent-endpointslice-syncs", o.ConcurrentEndpointSliceSyncs,
		"Number of Services whose EndpointSlices are synced at the same time. Larger is more responsive but uses more CPU and network.")
	fs.IntVar(&o.MaxEndpointsPerSlice, "max-endpoints-per-slice", o.MaxEndpointsPerSlice,
		fmt.Sprintf("The most endpoints an EndpointSlice holds, from 1 to %d.", discoveryv1.MaxEndpointsPerSlice))
	fs.StringSliceVar(&o.TopologyLabels, "topology-labels", o.TopologyLabels,
		"Comma-separated node label keys copied into each endpoint's topology, for Service topology keys to match against.")
	fs.DurationVar(&o.SettleDelay, "endpointslice-settle-delay", o.SettleDelay,
		"How long a Service's endpoints must be unchanged before small churn slices are compacted into full ones.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect,
		"Elect a leader on a coordination.k8s.io Lease before running the controllers; enable when running replicated.")
	fs.DurationVar(&o.LeaseDuration, "leader-elect-lease-duration", o.LeaseDuration,
		"How long followers wait after the last renewal before they try to take the lease.")
	fs.DurationVar(&o.RenewDeadline, "leader-elect-renew-deadline", o.RenewDeadline,
		"How long the leader keeps trying to renew before it gives up leadership. Must be less than the lease duration.")
	fs.DurationVar(&o.RetryPeriod, "leader-elect-retry-period", o.RetryPeriod,
		"How long candidates wait between attempts to acquire or renew the lease. Must be less than the renew deadline.")
	fs.StringVar(&o.ResourceNamespace, "leader-elect-resource-namespace", o.ResourceNamespace,
		"Namespace of the Lease used for leader election.")
	fs.StringVar(&o.ResourceName, "leader-elect-resource-name", o.ResourceName,
		"Name of the Lease used for leader election.")
	fs.StringVar(&o.BindAddress, "bind-address", o.BindAddress,
		"host:port of the HTTP server for /healthz, /readyz and /metrics. Empty turns it off.")
}

// Validate reports every flag error at once.
func (o *Options) Validate() error {
	var errs []error
	if o.ConcurrentEndpointSliceSyncs < 1 {
		errs = append(errs, fmt.Errorf("--concurrent-endpointslice-syncs must be at least 1, got %d", o.ConcurrentEndpointSliceSyncs))
	}
	if o.MaxEndpointsPerSlice < 1 || o.MaxEndpointsPerSlice > discoveryv1.MaxEndpointsPerSlice {
		errs = append(errs, fmt.Errorf("--max-endpoints-per-slice must be between 1 and %d, got %d", discoveryv1.MaxEndpointsPerSlice, o.MaxEndpointsPerSlice))
	}
	if len(o.TopologyLabels) == 0 {
		errs = append(errs, errors.New("--topology-labels must name at least one node label key"))
	}
	for _, key := range o.TopologyLabels {
		if msgs := validation.IsQualifiedName(key); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--topology-labels: %q is not a valid label key: %s", key, strings.Join(msgs, "; ")))
		}
	}
	if o.SettleDelay < 0 {
		errs = append(errs, fmt.Errorf("--endpointslice-settle-delay must not be negative, got %v", o.SettleDelay))
	}
	if o.LeaderElect {
		if o.LeaseDuration <= 0 || o.RenewDeadline <= 0 || o.RetryPeriod <= 0 {
			errs = append(errs, errors.New("--leader-elect-lease-duration, --leader-elect-renew-deadline and --leader-elect-retry-period must be positive"))
		} else {
			if o.RenewDeadline >= o.LeaseDuration {
				errs = append(errs, fmt.Errorf("--leader-elect-renew-deadline (%v) must be less than --leader-elect-lease-duration (%v)", o.RenewDeadline, o.LeaseDuration))
			}
			if o.RetryPeriod >= o.RenewDeadline {
				errs = append(errs, fmt.Errorf("--leader-elect-retry-period (%v) must be less than --leader-elect-renew-deadline (%v)", o.RetryPeriod, o.RenewDeadline))
			}
		}
		if o.ResourceNamespace == "" {
			errs = append(errs, errors.New("--leader-elect-resource-namespace must not be empty"))
		}
		if o.ResourceName == "" {
			errs = append(errs, errors.New("--leader-elect-resource-name must not be empty"))
		}
	}
	if o.BindAddress != "" {
		if _, _, err := net.SplitHostPort(o.BindAddress); err != nil {
			errs = append(errs, fmt.Errorf("--bind-address %q must be host:port: %w", o.BindAddress, err))
		}
	}
	return utilerrors.NewAggregate(errs)
}

// controllerOptions are the EndpointSlice reconciler's options from the flags.
func (o *Options) controllerOptions() endpointslice.Options {
	return endpointslice.Options{
		MaxEndpointsPerSlice: o.MaxEndpointsPerSlice,
		TopologyLabels:       o.TopologyLabels,
		SettleDelay:          o.SettleDelay,
	}
}
