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
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation"

	"signet.dev/signet/pkg/ingress/controller"
)

const (
	// DefaultHTTPAddr and DefaultHTTPSAddr listen on every address of
	// both families (an empty host is one dual-stack socket).
	DefaultHTTPAddr  = ":80"
	DefaultHTTPSAddr = ":443"
	// DefaultAdminAddr is where /healthz, /readyz and /metrics are served:
	// loopback only, as the metrics name every Ingress and backend.
	DefaultAdminAddr = "127.0.0.1:10254"
	// DefaultLeaderElectionNamespace is the namespace of the Lease.
	DefaultLeaderElectionNamespace = "kube-system"
	// defaultLeaseName is the Lease of the default controller name; other
	// controller names get their own (see leaseName).
	defaultLeaseName = "signet-ingress"
	// maxControllerNameLength is IngressClass spec.controller's limit.
	maxControllerNameLength = 250
)

// Options are the flags of signet-ingress.
type Options struct {
	// Kubeconfig is the path of a kubeconfig file; empty means in-cluster.
	Kubeconfig string
	// Master overrides the API server address in the kubeconfig.
	Master string

	// ControllerName is the spec.controller of the IngressClasses served.
	ControllerName string
	// WatchNamespace restricts Ingresses, Services, slices, Secrets and
	// ConfigMaps to one namespace; empty means all.
	WatchNamespace string
	// PublishAddresses are reported in status.loadBalancer.ingress.
	PublishAddresses []string

	// HTTPAddrs and HTTPSAddrs are the proxy's listen addresses.
	HTTPAddrs  []string
	HTTPSAddrs []string
	// TrustForwardedHeaders keeps the client's X-Forwarded-* headers.
	TrustForwardedHeaders bool
	// Timeouts of the proxy; zero means the proxy's default.
	ReadHeaderTimeout       time.Duration
	IdleTimeout             time.Duration
	UpstreamDialTimeout     time.Duration
	UpstreamResponseTimeout time.Duration
	UpstreamIdleTimeout     time.Duration
	// ShutdownDelay is how long the proxy keeps serving after SIGTERM,
	// with /readyz failing, before it stops accepting connections.
	ShutdownDelay time.Duration
	// ShutdownTimeout bounds the wait for requests in flight once the
	// listeners are closed.
	ShutdownTimeout time.Duration

	// AdminAddr is host:port of /healthz, /readyz and /metrics.
	AdminAddr string

	// LeaderElect elects one replica to write Ingress status.
	LeaderElect bool
	// LeaseDuration, RenewDeadline and RetryPeriod time the election.
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
	// ResourceNamespace and ResourceName name the Lease; an empty name is
	// derived from the controller name.
	ResourceNamespace string
	ResourceName      string
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		ControllerName:    controller.DefaultControllerName,
		HTTPAddrs:         []string{DefaultHTTPAddr},
		HTTPSAddrs:        []string{DefaultHTTPSAddr},
		AdminAddr:         DefaultAdminAddr,
		LeaderElect:       true,
		LeaseDuration:     15 * time.Second,
		RenewDeadline:     10 * time.Second,
		RetryPeriod:       2 * time.Second,
		ResourceNamespace: DefaultLeaderElectionNamespace,
	}
}

// AddFlags registers every flag of o on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig,
		"Path to a kubeconfig file with the kube-apiserver address and credentials. Empty means in-cluster configuration.")
	fs.StringVar(&o.Master, "master", o.Master,
		"The address of the Kubernetes API server; overrides any value in --kubeconfig.")
	fs.StringVar(&o.ControllerName, "controller-name", o.ControllerName,
		"Serve the Ingresses of the IngressClasses whose spec.controller is this name; Ingresses of every other class are left alone.")
	fs.StringVar(&o.WatchNamespace, "watch-namespace", o.WatchNamespace,
		"Serve only the Ingresses of this namespace (and watch only its Services, EndpointSlices, Secrets and ConfigMaps). Empty means all namespaces.")
	fs.StringSliceVar(&o.PublishAddresses, "publish-address", o.PublishAddresses,
		"Comma-separated addresses reported in every Ingress's status.loadBalancer.ingress: IPv4 and IPv6 addresses as ip, DNS names as hostname. Empty reports none.")
	fs.StringSliceVar(&o.HTTPAddrs, "http-addr", o.HTTPAddrs,
		"Comma-separated host:port pairs to serve HTTP on: an IPv4 address, an [IPv6] address, or an empty host for every address of both families (one dual-stack socket), e.g. 10.0.0.5:80,[fd00::5]:80. [::] is dual-stack too, so 0.0.0.0:80 and [::]:80 together fail with \"address already in use\": use :80. Empty turns HTTP off.")
	fs.StringSliceVar(&o.HTTPSAddrs, "https-addr", o.HTTPSAddrs,
		"Comma-separated host:port pairs to serve HTTPS on, like --http-addr. Empty turns HTTPS off; --http-addr and --https-addr may not both be empty.")
	fs.BoolVar(&o.TrustForwardedHeaders, "trust-forwarded-headers", o.TrustForwardedHeaders,
		"Trust the X-Forwarded-For, -Proto and -Host headers clients send (set when a trusted load balancer is in front): append to X-Forwarded-For and keep the others. Otherwise they are replaced.")
	fs.DurationVar(&o.ReadHeaderTimeout, "read-header-timeout", o.ReadHeaderTimeout,
		"How long a client may take to send a request's head. 0 uses the proxy's default (10s).")
	fs.DurationVar(&o.IdleTimeout, "idle-timeout", o.IdleTimeout,
		"How long an idle client keep-alive connection is kept open. 0 uses the proxy's default (60s).")
	fs.DurationVar(&o.UpstreamDialTimeout, "upstream-dial-timeout", o.UpstreamDialTimeout,
		"How long connecting to an endpoint may take. 0 uses the proxy's default (5s).")
	fs.DurationVar(&o.UpstreamResponseTimeout, "upstream-response-timeout", o.UpstreamResponseTimeout,
		"How long an endpoint may take to send its response head after the request was sent, and each later read of the response. 0 uses the proxy's default (60s).")
	fs.DurationVar(&o.UpstreamIdleTimeout, "upstream-idle-timeout", o.UpstreamIdleTimeout,
		"How long an idle connection to an endpoint is kept for reuse. 0 uses the proxy's default (60s).")
	fs.DurationVar(&o.ShutdownDelay, "shutdown-delay", o.ShutdownDelay,
		"After SIGTERM, keep serving this long with /readyz failing (so load balancers stop sending new connections) before closing the listeners and draining requests in flight.")
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", o.ShutdownTimeout,
		"After the listeners close, how long requests in flight may take to finish before their connections are closed. 0 uses the proxy's default (15s).")
	fs.StringVar(&o.AdminAddr, "admin-addr", o.AdminAddr,
		"host:port of the HTTP server for /healthz, /readyz and /metrics. Empty turns it off.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect,
		"Elect one replica on a coordination.k8s.io Lease to write Ingress status; every replica serves traffic either way. Turning it off with more than one replica makes them all write status.")
	fs.DurationVar(&o.LeaseDuration, "leader-elect-lease-duration", o.LeaseDuration,
		"How long followers wait after the last renewal before they try to take the lease.")
	fs.DurationVar(&o.RenewDeadline, "leader-elect-renew-deadline", o.RenewDeadline,
		"How long the leader keeps trying to renew before it gives up leadership. Must be less than the lease duration.")
	fs.DurationVar(&o.RetryPeriod, "leader-elect-retry-period", o.RetryPeriod,
		"How long candidates wait between attempts to acquire or renew the lease. Must be less than the renew deadline.")
	fs.StringVar(&o.ResourceNamespace, "leader-elect-resource-namespace", o.ResourceNamespace,
		"Namespace of the Lease used for leader election.")
	fs.StringVar(&o.ResourceName, "leader-elect-resource-name", o.ResourceName,
		`Name of the Lease used for leader election. Empty means "signet-ingress" for the default --controller-name and "signet-ingress-<controller name with every character other than a-z and 0-9 as '-'>" for any other, so that deployments of different controller names elect separately.`)
}

// Validate reports every flag error at once.
func (o *Options) Validate() error {
	var errs []error
	switch {
	case o.ControllerName == "":
		errs = append(errs, errors.New("--controller-name must not be empty"))
	case len(o.ControllerName) > maxControllerNameLength:
		errs = append(errs, fmt.Errorf("--controller-name must be at most %d characters", maxControllerNameLength))
	case !strings.Contains(o.ControllerName, "/"):
		errs = append(errs, fmt.Errorf("--controller-name %q must be a domain-prefixed path such as signet.dev/ingress", o.ControllerName))
	}
	if o.WatchNamespace != "" {
		if msgs := validation.IsDNS1123Label(o.WatchNamespace); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--watch-namespace %q is not a namespace name: %s", o.WatchNamespace, strings.Join(msgs, "; ")))
		}
	}
	if _, err := controller.ParsePublishAddresses(o.PublishAddresses); err != nil {
		errs = append(errs, fmt.Errorf("--publish-address: %w", err))
	}
	if len(trimmed(o.HTTPAddrs)) == 0 && len(trimmed(o.HTTPSAddrs)) == 0 {
		errs = append(errs, errors.New("--http-addr and --https-addr must not both be empty"))
	}
	for _, f := range []struct {
		name  string
		addrs []string
	}{{"--http-addr", o.HTTPAddrs}, {"--https-addr", o.HTTPSAddrs}} {
		for _, a := range trimmed(f.addrs) {
			if err := validateListenAddr(a); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
			}
		}
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{
		{"--read-header-timeout", o.ReadHeaderTimeout}, {"--idle-timeout", o.IdleTimeout},
		{"--upstream-dial-timeout", o.UpstreamDialTimeout}, {"--upstream-response-timeout", o.UpstreamResponseTimeout},
		{"--upstream-idle-timeout", o.UpstreamIdleTimeout}, {"--shutdown-delay", o.ShutdownDelay},
		{"--shutdown-timeout", o.ShutdownTimeout},
	} {
		if d.value < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative, got %v", d.name, d.value))
		}
	}
	if o.AdminAddr != "" {
		if err := validateListenAddr(o.AdminAddr); err != nil {
			errs = append(errs, fmt.Errorf("--admin-addr: %w", err))
		}
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
		if msgs := validation.IsDNS1123Label(o.ResourceNamespace); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--leader-elect-resource-namespace %q is not a namespace name: %s", o.ResourceNamespace, strings.Join(msgs, "; ")))
		}
		if o.ResourceName != "" {
			if msgs := validation.IsDNS1123Subdomain(o.ResourceName); len(msgs) > 0 {
				errs = append(errs, fmt.Errorf("--leader-elect-resource-name %q is not a valid name: %s", o.ResourceName, strings.Join(msgs, "; ")))
			}
		}
	}
	return utilerrors.NewAggregate(errs)
}

// validateListenAddr accepts host:port with an empty host or an IP
// literal and a port from 1 to 65535.
func validateListenAddr(a string) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return fmt.Errorf("%q must be host:port: %w", a, err)
	}
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("%q: the host must be empty or an IP address", a)
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: the port must be a number from 1 to 65535", a)
	}
	return nil
}

// trimmed drops spaces around list items and empty items.
func trimmed(list []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// leaseName is the Lease to elect on: --leader-elect-resource-name, or a
// name derived from the controller name.
func (o *Options) leaseName() string {
	if o.ResourceName != "" {
		return o.ResourceName
	}
	if o.ControllerName == controller.DefaultControllerName {
		return defaultLeaseName
	}
	var b strings.Builder
	b.WriteString(defaultLeaseName + "-")
	for _, r := range strings.ToLower(o.ControllerName) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if len(name) > validation.DNS1123SubdomainMaxLength {
		name = strings.TrimRight(name[:validation.DNS1123SubdomainMaxLength], "-")
	}
	return name
}
