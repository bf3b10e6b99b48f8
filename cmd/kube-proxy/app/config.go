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
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"signet.dev/signet/pkg/proxy"
	"signet.dev/signet/pkg/util/componentconfig"
)

const (
	// GroupVersion is the apiVersion of the configuration file.
	GroupVersion = "kubeproxy.signet.dev/v1alpha1"
	// Kind is the kind of the configuration file.
	Kind = "KubeProxyConfiguration"

	// ModeIPTables is the only proxy mode.
	ModeIPTables = "iptables"
)

// Defaults, for the flags and the file alike.
const (
	DefaultHealthzBindAddress = "0.0.0.0:10256"
	DefaultMetricsBindAddress = "127.0.0.1:10249"
	DefaultSyncPeriod         = 30 * time.Second
	DefaultMinSyncPeriod      = time.Second
	DefaultMasqueradeBit      = 14
)

// KubeProxyConfiguration is kube-proxy's configuration. As a file (--config)
// it is YAML or JSON with apiVersion kubeproxy.signet.dev/v1alpha1 and kind
// KubeProxyConfiguration; a field the file leaves out keeps its default, and
// a flag given on the command line overrides the file.
type KubeProxyConfiguration struct {
	metav1.TypeMeta `json:",inline"`

	// ClientConnection says how to reach kube-apiserver.
	// +optional
	ClientConnection ClientConnectionConfiguration `json:"clientConnection"`
	// HostnameOverride is this node's name, when it is not the hostname
	// (lowercased). It must be the name of this node's Node object. Flag
	// --hostname-override.
	// +optional
	HostnameOverride string `json:"hostnameOverride,omitempty"`
	// Mode is the proxy mode; only "iptables" (also the meaning of "") is
	// implemented. Flag --proxy-mode.
	// +optional
	Mode string `json:"mode,omitempty"`
	// ClusterCIDR is the pod network as a comma-separated list of CIDRs, at
	// most one per IP family, such as "10.244.0.0/16,fd00:10:244::/56".
	// Traffic to a cluster IP from outside it is masqueraded. When set, it
	// also decides which IP families kube-proxy programs. Flag
	// --cluster-cidr.
	// +optional
	ClusterCIDR string `json:"clusterCIDR,omitempty"`
	// NodePortAddresses are CIDRs of both families; node ports answer only
	// on local addresses inside them, and health-check node ports listen
	// on those addresses. A family with no CIDR listed answers on every
	// local address but loopback. Default: empty. Flag --nodeport-addresses.
	// +optional
	// +listType=atomic
	NodePortAddresses []string `json:"nodePortAddresses,omitempty"`
	// MasqueradeAll masquerades (SNATs) all traffic to cluster IPs, not only
	// traffic from outside ClusterCIDR. Default false. Flag
	// --masquerade-all.
	// +optional
	MasqueradeAll bool `json:"masqueradeAll"`
	// IPTables configures the iptables proxier.
	// +optional
	IPTables IPTablesConfiguration `json:"iptables"`
	// HealthzBindAddress is ip:port of the /healthz, /livez and /readyz
	// server; empty turns it off. Default "0.0.0.0:10256". Flag
	// --healthz-bind-address.
	// +optional
	HealthzBindAddress string `json:"healthzBindAddress"`
	// MetricsBindAddress is ip:port of the /metrics server; empty turns it
	// off. Default "127.0.0.1:10249". Flag --metrics-bind-address.
	// +optional
	MetricsBindAddress string `json:"metricsBindAddress"`
}

// ClientConnectionConfiguration says how to reach kube-apiserver.
type ClientConnectionConfiguration struct {
	// Kubeconfig is the path of a kubeconfig file; empty means in-cluster
	// configuration. Flag --kubeconfig.
	// +optional
	Kubeconfig string `json:"kubeconfig"`
}

// IPTablesConfiguration configures the iptables proxier.
type IPTablesConfiguration struct {
	// SyncPeriod is the longest time between two full syncs of the rules
	// (each rewrites every chain kube-proxy owns); /healthz fails when no
	// sync succeeded for twice this long. Greater than 0; default 30s.
	// Flag --iptables-sync-period.
	// +optional
	SyncPeriod metav1.Duration `json:"syncPeriod"`
	// MinSyncPeriod is the shortest time between two syncs: changes that
	// arrive faster are batched. 0 syncs at every change. At least 0 and at
	// most SyncPeriod; default 1s. Flag --iptables-min-sync-period.
	// +optional
	MinSyncPeriod metav1.Duration `json:"minSyncPeriod"`
	// MasqueradeBit is the bit of the packet mark that asks for
	// masquerading. From 1 to 31; default 14. Flag --masquerade-bit.
	// +optional
	MasqueradeBit int32 `json:"masqueradeBit"`
}

// NewDefaultConfiguration returns the defaults.
func NewDefaultConfiguration() *KubeProxyConfiguration {
	return &KubeProxyConfiguration{
		TypeMeta:           metav1.TypeMeta{APIVersion: GroupVersion, Kind: Kind},
		Mode:               ModeIPTables,
		HealthzBindAddress: DefaultHealthzBindAddress,
		MetricsBindAddress: DefaultMetricsBindAddress,
		IPTables: IPTablesConfiguration{
			SyncPeriod:    metav1.Duration{Duration: DefaultSyncPeriod},
			MinSyncPeriod: metav1.Duration{Duration: DefaultMinSyncPeriod},
			MasqueradeBit: DefaultMasqueradeBit,
		},
	}
}

// DeepCopy returns a copy that shares nothing with c.
func (c *KubeProxyConfiguration) DeepCopy() *KubeProxyConfiguration {
	out := *c
	out.NodePortAddresses = slices.Clone(c.NodePortAddresses)
	return &out
}

// fileFormat is the format of the --config file, decoded strictly:
// duplicate keys, fields kube-proxy does not know, values of the wrong type
// (each named with its path, such as iptables.syncPeriod) and a missing or
// different apiVersion or kind are errors.
var fileFormat = componentconfig.Format{APIVersion: GroupVersion, Kind: Kind}

// flagOf names the flag of each field, for error messages.
var flagOf = componentconfig.Flags{
	"clientConnection.kubeconfig": "kubeconfig",
	"hostnameOverride":            "hostname-override",
	"mode":                        "proxy-mode",
	"clusterCIDR":                 "cluster-cidr",
	"nodePortAddresses":           "nodeport-addresses",
	"masqueradeAll":               "masquerade-all",
	"iptables.syncPeriod":         "iptables-sync-period",
	"iptables.minSyncPeriod":      "iptables-min-sync-period",
	"iptables.masqueradeBit":      "masquerade-bit",
	"healthzBindAddress":          "healthz-bind-address",
	"metricsBindAddress":          "metrics-bind-address",
}

// withFlags renders validation errors with the flag of each field first:
// "--iptables-sync-period (iptables.syncPeriod): Invalid value: ...".
func withFlags(errs field.ErrorList) error {
	return flagOf.Errors(errs, componentconfig.FlagFirst)
}

// Validate reports every problem, with exact field paths.
func (c *KubeProxyConfiguration) Validate() field.ErrorList {
	var errs field.ErrorList
	if c.Mode != "" && c.Mode != ModeIPTables {
		errs = append(errs, field.NotSupported(field.NewPath("mode"), c.Mode, []string{ModeIPTables}))
	}
	if c.HostnameOverride != "" {
		name := strings.ToLower(strings.TrimSpace(c.HostnameOverride))
		for _, msg := range validation.IsDNS1123Subdomain(name) {
			errs = append(errs, field.Invalid(field.NewPath("hostnameOverride"), c.HostnameOverride, "must be a node name: "+msg))
		}
	}
	_, cidrErrs := parseClusterCIDRs(field.NewPath("clusterCIDR"), c.ClusterCIDR)
	errs = append(errs, cidrErrs...)
	_, npErrs := parseNodePortAddresses(field.NewPath("nodePortAddresses"), c.NodePortAddresses)
	errs = append(errs, npErrs...)

	ipt := field.NewPath("iptables")
	if c.IPTables.SyncPeriod.Duration <= 0 {
		errs = append(errs, field.Invalid(ipt.Child("syncPeriod"), c.IPTables.SyncPeriod.Duration.String(), "must be greater than 0"))
	}
	switch minSync := c.IPTables.MinSyncPeriod.Duration; {
	case minSync < 0:
		errs = append(errs, field.Invalid(ipt.Child("minSyncPeriod"), minSync.String(), "must not be negative"))
	case c.IPTables.SyncPeriod.Duration > 0 && minSync > c.IPTables.SyncPeriod.Duration:
		errs = append(errs, field.Invalid(ipt.Child("minSyncPeriod"), minSync.String(),
			fmt.Sprintf("must not be greater than iptables.syncPeriod (--iptables-sync-period, %v)", c.IPTables.SyncPeriod.Duration)))
	}
	// Bit 0 would be a valid mark bit, but the proxier reads 0 as "use the
	// default"; refuse it rather than silently use bit 14.
	if b := c.IPTables.MasqueradeBit; b < 1 || b > 31 {
		errs = append(errs, field.Invalid(ipt.Child("masqueradeBit"), b, "must be between 1 and 31"))
	}
	errs = append(errs, validateBindAddress(field.NewPath("healthzBindAddress"), c.HealthzBindAddress)...)
	errs = append(errs, validateBindAddress(field.NewPath("metricsBindAddress"), c.MetricsBindAddress)...)
	return errs
}

// parseClusterCIDRs parses the comma-separated cluster CIDRs, at most one
// per family, in the order given.
func parseClusterCIDRs(path *field.Path, value string) ([]netip.Prefix, field.ErrorList) {
	if strings.TrimSpace(value) == "" {
		return nil, nil
	}
	var out []netip.Prefix
	var errs field.ErrorList
	seen := map[corev1.IPFamily]netip.Prefix{}
	for _, s := range strings.Split(value, ",") {
		s = strings.TrimSpace(s)
		p, err := netip.ParsePrefix(s)
		if err != nil {
			errs = append(errs, field.Invalid(path, value, fmt.Sprintf("%q is not a CIDR such as 10.244.0.0/16 or fd00:10:244::/56", s)))
			continue
		}
		p = p.Masked()
		f := proxy.Family(p.Addr())
		if prev, dup := seen[f]; dup {
			errs = append(errs, field.Invalid(path, value, fmt.Sprintf("at most one CIDR per IP family: %s and %s are both %s", prev, p, f)))
			continue
		}
		seen[f] = p
		out = append(out, p)
	}
	return out, errs
}

// parseNodePortAddresses parses the node port CIDRs of both families.
func parseNodePortAddresses(path *field.Path, values []string) ([]netip.Prefix, field.ErrorList) {
	var out []netip.Prefix
	var errs field.ErrorList
	for i, s := range values {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			errs = append(errs, field.Invalid(path.Index(i), s, "must be a CIDR such as 10.0.0.0/8 or 2001:db8::/64"))
			continue
		}
		p = p.Masked()
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, errs
}

// validateBindAddress accepts "" (off) or ip:port.
func validateBindAddress(path *field.Path, value string) field.ErrorList {
	if value == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(value)
	if err != nil {
		return field.ErrorList{field.Invalid(path, value, "must be ip:port, such as 0.0.0.0:10256 or [::]:10256, or empty to turn the server off")}
	}
	var errs field.ErrorList
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			errs = append(errs, field.Invalid(path, value, fmt.Sprintf("%q is not an IP address", host)))
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		errs = append(errs, field.Invalid(path, value, fmt.Sprintf("%q is not a port number (0-65535)", port)))
	}
	return errs
}
