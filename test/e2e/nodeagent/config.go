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

package nodeagent

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Defaults of the flags.
const (
	DefaultBridge                 = "cbr0"
	DefaultClusterDomain          = "cluster.local"
	DefaultMaxPods                = 250
	DefaultLeaseDuration          = 40 * time.Second
	DefaultNodeStatusUpdatePeriod = time.Minute
	DefaultHealthAddr             = "127.0.0.1:10248"
	// TestdName is the file name of signet-testd looked for next to the
	// agent's executable and on PATH.
	TestdName = "signet-testd"

	defaultRestartBackoff    = time.Second
	defaultMaxRestartBackoff = 30 * time.Second
	// restartBackoffReset: a container that ran this long before exiting
	// restarts without delay, and its back-off starts over.
	restartBackoffReset = time.Minute
)

// Config is the agent's configuration.
type Config struct {
	// Kubeconfig is the kubeconfig file of the API server; empty means
	// in-cluster configuration.
	Kubeconfig string
	// NodeName is the Node the agent registers and whose Pods it runs.
	NodeName string
	// NodeIPs are the node's addresses, one per family; the first is the
	// primary (status.hostIP).
	NodeIPs []netip.Addr
	// PodCIDRs are the node's pod ranges, one per family; the first family
	// is the pods' primary one (status.podIP).
	PodCIDRs []netip.Prefix
	// NodeLabels are set on the Node, with kubernetes.io/hostname,
	// kubernetes.io/os and kubernetes.io/arch.
	NodeLabels map[string]string
	// Bridge is the node's pod bridge; created with the pod CIDRs'
	// gateways (their first address) if missing.
	Bridge string
	// DNS is what the pods' resolv.conf is made of.
	DNS DNSSettings
	// StateDir holds the agent's records and the containers' logs.
	StateDir string
	// TestdBinary is the path of signet-testd.
	TestdBinary string
	// MaxPods is the Node's pod capacity.
	MaxPods int
	// LeaseDuration is the Node Lease's duration; the agent renews it every
	// quarter of it.
	LeaseDuration time.Duration
	// NodeStatusUpdatePeriod is how often the Node's status (and its Ready
	// condition's heartbeat) is written when nothing changed.
	NodeStatusUpdatePeriod time.Duration
	// HealthAddr is host:port of /healthz, /readyz and /metrics; empty
	// turns them off.
	HealthAddr string
	// RestartBackoff and MaxRestartBackoff bound the delay before a
	// container that keeps exiting is started again.
	RestartBackoff, MaxRestartBackoff time.Duration
}

// Options are the command-line flags, turned into a Config by Config().
type Options struct {
	Kubeconfig             string
	NodeName               string
	NodeIPs                []string
	PodCIDRs               []string
	NodeLabels             map[string]string
	Bridge                 string
	ClusterDNS             []string
	ClusterDomain          string
	StateDir               string
	TestdBinary            string
	MaxPods                int
	LeaseDuration          time.Duration
	NodeStatusUpdatePeriod time.Duration
	HealthAddr             string
	// Cleanup removes everything the agent created and exits.
	Cleanup bool
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		Bridge:                 DefaultBridge,
		ClusterDomain:          DefaultClusterDomain,
		MaxPods:                DefaultMaxPods,
		LeaseDuration:          DefaultLeaseDuration,
		NodeStatusUpdatePeriod: DefaultNodeStatusUpdatePeriod,
		HealthAddr:             DefaultHealthAddr,
	}
}

// AddFlags registers the flags on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Path of the kubeconfig of the API server (in-cluster configuration when empty).")
	fs.StringVar(&o.NodeName, "node-name", o.NodeName, "Name of the Node to register and run the Pods of. Required.")
	fs.StringSliceVar(&o.NodeIPs, "node-ip", o.NodeIPs, "Comma-separated node addresses, at most one per family, primary first, e.g. 10.100.0.11,fd00:100::11. "+
		"Reported as the Node's InternalIPs and the pods' hostIPs. Required.")
	fs.StringSliceVar(&o.PodCIDRs, "pod-cidrs", o.PodCIDRs, "Comma-separated pod CIDRs of the node, at most one per family, primary first, e.g. 10.244.1.0/24,fd00:244:1::/64. "+
		"Their first address is the bridge's (the pods' gateway). Set as the Node's spec.podCIDRs. Required.")
	fs.StringToStringVar(&o.NodeLabels, "node-labels", o.NodeLabels, "Comma-separated key=value labels of the Node, e.g. topology.kubernetes.io/zone=zone-a,topology.kubernetes.io/region=region-1. "+
		"kubernetes.io/hostname, kubernetes.io/os and kubernetes.io/arch are always set.")
	fs.StringVar(&o.Bridge, "bridge", o.Bridge, "Name of the node's pod bridge, created if missing (and then removed by --cleanup).")
	fs.StringSliceVar(&o.ClusterDNS, "cluster-dns", o.ClusterDNS, "Comma-separated nameserver addresses of ClusterFirst pods (node-cache's, e.g. 169.254.20.10,fd00::10). "+
		"Without any, pods get the node's resolv.conf.")
	fs.StringVar(&o.ClusterDomain, "cluster-domain", o.ClusterDomain, "The cluster's DNS domain, for the pods' search path.")
	fs.StringVar(&o.StateDir, "state-dir", o.StateDir, "Directory of the agent's records (pod addresses, namespaces) and the containers' logs; one per node. Required.")
	fs.StringVar(&o.TestdBinary, "testd-binary", o.TestdBinary, "Path of signet-testd, the program testd, agnhost and pause images run. "+
		"Default: "+TestdName+" next to this executable, else on PATH.")
	fs.IntVar(&o.MaxPods, "max-pods", o.MaxPods, "The Node's pod capacity (also capped by the addresses of the smallest pod CIDR).")
	fs.DurationVar(&o.LeaseDuration, "lease-duration", o.LeaseDuration, "Duration of the Node's Lease in kube-node-lease, renewed every quarter of it.")
	fs.DurationVar(&o.NodeStatusUpdatePeriod, "node-status-update-period", o.NodeStatusUpdatePeriod, "How often the Node's status is written when nothing changed.")
	fs.StringVar(&o.HealthAddr, "health-addr", o.HealthAddr, "host:port of /healthz, /readyz and /metrics, in the node's network namespace; empty turns them off.")
	fs.BoolVar(&o.Cleanup, "cleanup", o.Cleanup, "Remove every pod namespace, veth, hostPort rule and file the agent created for --node-name in --state-dir "+
		"(and the bridge if it created it), then exit. Needs neither the API server nor --kubeconfig.")
}

// Config validates the options and returns the configuration they make.
// For --cleanup only --node-name and --state-dir are needed.
func (o *Options) Config() (*Config, error) {
	c := &Config{
		Kubeconfig:             o.Kubeconfig,
		NodeName:               o.NodeName,
		NodeLabels:             map[string]string{},
		Bridge:                 o.Bridge,
		DNS:                    DNSSettings{ClusterDomain: strings.TrimSuffix(o.ClusterDomain, ".")},
		StateDir:               o.StateDir,
		TestdBinary:            o.TestdBinary,
		MaxPods:                o.MaxPods,
		LeaseDuration:          o.LeaseDuration,
		NodeStatusUpdatePeriod: o.NodeStatusUpdatePeriod,
		HealthAddr:             o.HealthAddr,
		RestartBackoff:         defaultRestartBackoff,
		MaxRestartBackoff:      defaultMaxRestartBackoff,
	}
	var errs []error
	if msgs := validation.IsDNS1123Subdomain(c.NodeName); c.NodeName == "" || len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--node-name %q: must be a DNS subdomain (%s)", c.NodeName, strings.Join(msgs, "; ")))
	}
	if c.StateDir == "" {
		errs = append(errs, errors.New("--state-dir is required"))
	}
	if c.Bridge == "" || len(c.Bridge) > maxLinkName || strings.ContainsAny(c.Bridge, "/ \t\n:") {
		errs = append(errs, fmt.Errorf("--bridge %q: must be a link name of 1-%d characters without '/', ':' or spaces", c.Bridge, maxLinkName))
	}
	if o.Cleanup {
		return c, errors.Join(errs...)
	}

	var err error
	if c.NodeIPs, err = parseDualStackAddrs("--node-ip", o.NodeIPs); err != nil {
		errs = append(errs, err)
	}
	if c.PodCIDRs, err = parseDualStackPrefixes("--pod-cidrs", o.PodCIDRs); err != nil {
		errs = append(errs, err)
	}
	for _, p := range c.PodCIDRs {
		if _, err := NewAllocator(p); err != nil {
			errs = append(errs, fmt.Errorf("--pod-cidrs: %w", err))
		}
	}
	for _, s := range o.ClusterDNS {
		ip, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			errs = append(errs, fmt.Errorf("--cluster-dns %q: not an IP address", s))
			continue
		}
		c.DNS.ClusterDNS = append(c.DNS.ClusterDNS, ip.Unmap())
	}
	if msgs := validation.IsDNS1123Subdomain(c.DNS.ClusterDomain); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("--cluster-domain %q: %s", c.DNS.ClusterDomain, strings.Join(msgs, "; ")))
	}
	keys := make([]string, 0, len(o.NodeLabels))
	for k := range o.NodeLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := o.NodeLabels[k]
		if msgs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--node-labels %s=%s: %s", k, v, strings.Join(msgs, "; ")))
			continue
		}
		c.NodeLabels[k] = v
	}
	if c.MaxPods < 1 {
		errs = append(errs, fmt.Errorf("--max-pods %d: must be at least 1", c.MaxPods))
	}
	if c.LeaseDuration < 4*time.Second {
		errs = append(errs, fmt.Errorf("--lease-duration %v: must be at least 4s", c.LeaseDuration))
	}
	if c.NodeStatusUpdatePeriod < time.Second {
		errs = append(errs, fmt.Errorf("--node-status-update-period %v: must be at least 1s", c.NodeStatusUpdatePeriod))
	}
	if c.TestdBinary == "" {
		c.TestdBinary = findTestd()
	}
	if c.TestdBinary == "" {
		errs = append(errs, fmt.Errorf("%s not found next to this executable nor on PATH: build it (go build -o _output/bin/%s ./test/e2e/testd) or give --testd-binary", TestdName, TestdName))
	} else if st, err := os.Stat(c.TestdBinary); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		errs = append(errs, fmt.Errorf("--testd-binary %q: not an executable file", c.TestdBinary))
	} else if abs, err := filepath.Abs(c.TestdBinary); err == nil {
		c.TestdBinary = abs
	}
	return c, errors.Join(errs...)
}

// findTestd looks for signet-testd next to the running executable, then
// on PATH.
func findTestd() string {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), TestdName)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath(TestdName); err == nil {
		return p
	}
	return ""
}

// parseDualStackAddrs parses one or two addresses of different families.
func parseDualStackAddrs(flag string, values []string) ([]netip.Addr, error) {
	if len(values) == 0 || len(values) > 2 {
		return nil, fmt.Errorf("%s: want one address, or two of different families, got %d", flag, len(values))
	}
	var out []netip.Addr
	for _, v := range values {
		ip, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%s %q: not an IP address", flag, v)
		}
		out = append(out, ip.Unmap())
	}
	if len(out) == 2 && out[0].Is4() == out[1].Is4() {
		return nil, fmt.Errorf("%s: %s and %s are of the same family", flag, out[0], out[1])
	}
	return out, nil
}

// parseDualStackPrefixes parses one or two CIDRs of different families.
func parseDualStackPrefixes(flag string, values []string) ([]netip.Prefix, error) {
	if len(values) == 0 || len(values) > 2 {
		return nil, fmt.Errorf("%s: want one CIDR, or two of different families, got %d", flag, len(values))
	}
	var out []netip.Prefix
	for _, v := range values {
		p, err := netip.ParsePrefix(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%s %q: not a CIDR", flag, v)
		}
		out = append(out, p)
	}
	if len(out) == 2 && out[0].Addr().Is4() == out[1].Addr().Is4() {
		return nil, fmt.Errorf("%s: %s and %s are of the same family", flag, out[0], out[1])
	}
	return out, nil
}
