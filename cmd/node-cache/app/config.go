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
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"signet.dev/signet/pkg/nodecache/cache"
	"signet.dev/signet/pkg/nodecache/server"
	"signet.dev/signet/pkg/nodecache/setup"
	"signet.dev/signet/pkg/util/componentconfig"
)

const (
	// GroupVersion is the apiVersion of the configuration file.
	GroupVersion = "nodecache.signet.dev/v1alpha1"
	// Kind is the kind of the configuration file.
	Kind = "NodeCacheConfiguration"
)

// Defaults of NodeCacheConfiguration, which are also the flag defaults.
const (
	DefaultHealthAddr   = ":8080"
	DefaultMetricsAddr  = ":9253"
	DefaultSuccessTTL   = 30 * time.Second
	DefaultDenialTTL    = 5 * time.Second
	DefaultSyncInterval = 60 * time.Second
	// nodeNameEnv names the environment variable the node name defaults to,
	// set from the downward API (spec.nodeName) in a DaemonSet.
	nodeNameEnv = "NODE_NAME"
	// maxInterfaceName is IFNAMSIZ less the terminating NUL.
	maxInterfaceName = 15
)

// NodeCacheConfiguration is node-cache's configuration: what the flags set,
// plus stub domains, which only the file can set. As a file (--config) it is
// YAML or JSON with apiVersion nodecache.signet.dev/v1alpha1 and kind
// NodeCacheConfiguration. A field the file leaves out keeps its default;
// flags given on the command line override the file.
type NodeCacheConfiguration struct {
	metav1.TypeMeta `json:",inline"`

	// LocalIPs are the addresses node-cache answers on, IPv4 and IPv6 alike,
	// such as 169.254.20.10 and fd00::10. Clients must be able to reach them
	// on this node only: link-local or unique local addresses not used
	// elsewhere. Required; not reloadable. Flag --localip.
	// +listType=set
	LocalIPs []string `json:"localIPs,omitempty"`
	// InterfaceName is the link that holds LocalIPs. Default "nodelocaldns";
	// at most 15 characters. Not reloadable. Flag --interface-name.
	InterfaceName string `json:"interfaceName,omitempty"`
	// SetupInterface creates InterfaceName, adds LocalIPs to it and removes
	// it on exit. Turn it off when something else provides the addresses.
	// Default true; not reloadable. Flag --setup-interface.
	SetupInterface bool `json:"setupInterface"`
	// SetupIPTables installs the NOTRACK and ACCEPT rules for DNS to and
	// from LocalIPs (iptables for IPv4, ip6tables for IPv6) and removes them
	// on exit. Default true; not reloadable. Flag --setup-iptables.
	SetupIPTables bool `json:"setupIPTables"`
	// SkipTeardown leaves the interface and the rules in place on exit, so
	// clients keep reaching LocalIPs while node-cache restarts or is
	// replaced. Default false; reloadable. Flag --skip-teardown.
	SkipTeardown bool `json:"skipTeardown"`
	// ClusterDomain is the cluster's DNS domain; its names and the reverse
	// zones go to ClusterDNS over TCP. Default "cluster.local"; reloadable.
	// Flag --cluster-domain.
	ClusterDomain string `json:"clusterDomain,omitempty"`
	// ClusterDNS are the cluster DNS servers, as IP or IP:port (port 53 by
	// default); usually the ClusterIP of the cluster DNS Service. Required;
	// reloadable. Flag --cluster-dns.
	// +listType=atomic
	ClusterDNS []string `json:"clusterDNS,omitempty"`
	// UpstreamResolvConf is the resolv.conf file whose nameservers resolve
	// every name outside the cluster domain and the stub domains. It is read
	// again whenever its content changes. Default "/etc/resolv.conf";
	// reloadable. Flag --upstream-resolv-conf.
	UpstreamResolvConf string `json:"upstreamResolvConf,omitempty"`
	// Port is the DNS port on every local IP, UDP and TCP. Default 53; not
	// reloadable. Flag --port.
	Port int32 `json:"port,omitempty"`
	// HealthAddr is host:port of the HTTP server for /health and /ready
	// (also /healthz and /readyz). Empty turns it off. Default ":8080"; not
	// reloadable. Flag --health-addr.
	HealthAddr string `json:"healthAddr"`
	// MetricsAddr is host:port of the HTTP server for /metrics. Empty turns
	// it off; the same address as HealthAddr serves both. Default ":9253";
	// not reloadable. Flag --metrics-addr.
	MetricsAddr string `json:"metricsAddr"`
	// CacheSize is the most answers cached; the least recently used go
	// first. Default 10000; not reloadable. Flag --cache-size.
	CacheSize int32 `json:"cacheSize,omitempty"`
	// SuccessTTL caps how long a positive answer is cached. At least 1s.
	// Default 30s; reloadable (answers cached before keep their TTL).
	// Flag --success-ttl.
	SuccessTTL metav1.Duration `json:"successTTL,omitempty"`
	// DenialTTL caps how long a negative answer (NXDOMAIN, NODATA) is
	// cached. At least 1s. Default 5s; reloadable. Flag --denial-ttl.
	DenialTTL metav1.Duration `json:"denialTTL,omitempty"`
	// SyncInterval is how often the interface and the rules are checked and
	// restored. At least 1s. Default 60s; reloadable. Flag --sync-interval.
	SyncInterval metav1.Duration `json:"syncInterval,omitempty"`
	// NodeName is this node's name, sent to ClusterDNS with every query
	// (EDNS0 option 65001) so cluster DNS can answer with topology in mind.
	// Empty sends no name. Default the NODE_NAME environment variable;
	// reloadable. Flag --node-name.
	NodeName string `json:"nodeName,omitempty"`
	// StubDomains maps a domain to its own servers (IP or IP:port, port 53
	// by default), asked over UDP with TCP on truncation. A longer domain
	// wins over a shorter one, the cluster domain included. Reloadable; only
	// the file sets it.
	// +optional
	StubDomains map[string][]string `json:"stubDomains,omitempty"`
}

// NewDefaultConfiguration returns the defaults, the node name taken from the
// NODE_NAME environment variable.
func NewDefaultConfiguration() *NodeCacheConfiguration {
	return newDefaultConfiguration(os.Getenv)
}

func newDefaultConfiguration(getenv func(string) string) *NodeCacheConfiguration {
	return &NodeCacheConfiguration{
		TypeMeta:           metav1.TypeMeta{APIVersion: GroupVersion, Kind: Kind},
		InterfaceName:      setup.DefaultInterfaceName,
		SetupInterface:     true,
		SetupIPTables:      true,
		ClusterDomain:      server.DefaultClusterDomain,
		UpstreamResolvConf: server.DefaultResolvConf,
		Port:               setup.DefaultDNSPort,
		HealthAddr:         DefaultHealthAddr,
		MetricsAddr:        DefaultMetricsAddr,
		CacheSize:          cache.DefaultMaxEntries,
		SuccessTTL:         metav1.Duration{Duration: DefaultSuccessTTL},
		DenialTTL:          metav1.Duration{Duration: DefaultDenialTTL},
		SyncInterval:       metav1.Duration{Duration: DefaultSyncInterval},
		NodeName:           getenv(nodeNameEnv),
	}
}

// DeepCopy returns a copy of c that shares nothing with it.
func (c *NodeCacheConfiguration) DeepCopy() *NodeCacheConfiguration {
	out := *c
	out.LocalIPs = append([]string(nil), c.LocalIPs...)
	out.ClusterDNS = append([]string(nil), c.ClusterDNS...)
	if c.StubDomains != nil {
		out.StubDomains = make(map[string][]string, len(c.StubDomains))
		for d, servers := range c.StubDomains {
			out.StubDomains[d] = append([]string(nil), servers...)
		}
	}
	return &out
}

// fileFormat is the format of the --config file.
var fileFormat = componentconfig.Format{
	APIVersion:   GroupVersion,
	Kind:         Kind,
	Descriptions: map[string]string{"stubDomains": "a map from domain to a list of servers"},
}

// decodeConfiguration decodes a configuration file over into, which holds
// the defaults: fields the file leaves out keep them. Decoding is strict:
// duplicate keys, unknown fields (names are case-sensitive), values of the
// wrong type, and a missing or different apiVersion or kind are errors
// naming the field.
func decodeConfiguration(data []byte, into *NodeCacheConfiguration) error {
	return fileFormat.Decode(data, into)
}

// jsonFields maps the JSON names of t's fields, inline structs flattened, to
// the fields.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	return componentconfig.JSONFields(t)
}

// flagNames maps the top-level fields to their flags, for error messages.
var flagNames = componentconfig.Flags{
	"localIPs":           "localip",
	"interfaceName":      "interface-name",
	"setupInterface":     "setup-interface",
	"setupIPTables":      "setup-iptables",
	"skipTeardown":       "skip-teardown",
	"clusterDomain":      "cluster-domain",
	"clusterDNS":         "cluster-dns",
	"upstreamResolvConf": "upstream-resolv-conf",
	"port":               "port",
	"healthAddr":         "health-addr",
	"metricsAddr":        "metrics-addr",
	"cacheSize":          "cache-size",
	"successTTL":         "success-ttl",
	"denialTTL":          "denial-ttl",
	"syncInterval":       "sync-interval",
	"nodeName":           "node-name",
}

// Validate returns what is wrong with c, with exact field paths such as
// localIPs[1] or stubDomains[corp.example][0].
func (c *NodeCacheConfiguration) Validate() field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateLocalIPs(field.NewPath("localIPs"), c.LocalIPs)...)
	if c.SetupInterface {
		p := field.NewPath("interfaceName")
		switch n := c.InterfaceName; {
		case n == "":
			errs = append(errs, field.Required(p, "needed to set up the interface (or turn setupInterface off)"))
		case len(n) > maxInterfaceName:
			errs = append(errs, field.TooLong(p, n, maxInterfaceName))
		case n == "." || n == ".." || strings.ContainsAny(n, "/: \t\n"):
			errs = append(errs, field.Invalid(p, n, "must be a link name: no '/', ':' or whitespace, not '.' or '..'"))
		}
	}
	errs = append(errs, validateDomain(field.NewPath("clusterDomain"), c.ClusterDomain)...)
	if len(c.ClusterDNS) == 0 {
		errs = append(errs, field.Required(field.NewPath("clusterDNS"), "at least one cluster DNS server (IP or IP:port) is needed"))
	}
	for i, s := range c.ClusterDNS {
		errs = append(errs, validateServer(field.NewPath("clusterDNS").Index(i), s)...)
	}
	if c.UpstreamResolvConf == "" {
		errs = append(errs, field.Required(field.NewPath("upstreamResolvConf"), "names the nameservers of names outside the cluster"))
	}
	if msgs := validation.IsValidPortNum(int(c.Port)); len(msgs) > 0 {
		errs = append(errs, field.Invalid(field.NewPath("port"), c.Port, strings.Join(msgs, "; ")))
	}
	errs = append(errs, validateHTTPAddr(field.NewPath("healthAddr"), c.HealthAddr)...)
	errs = append(errs, validateHTTPAddr(field.NewPath("metricsAddr"), c.MetricsAddr)...)
	if c.CacheSize < 1 {
		errs = append(errs, field.Invalid(field.NewPath("cacheSize"), c.CacheSize, "must be at least 1"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"successTTL", c.SuccessTTL.Duration}, {"denialTTL", c.DenialTTL.Duration}, {"syncInterval", c.SyncInterval.Duration}} {
		if d.v < time.Second {
			errs = append(errs, field.Invalid(field.NewPath(d.name), d.v.String(), "must be at least 1s"))
		}
	}
	if c.NodeName != "" {
		if msgs := validation.IsDNS1123Subdomain(c.NodeName); len(msgs) > 0 {
			errs = append(errs, field.Invalid(field.NewPath("nodeName"), c.NodeName, strings.Join(msgs, "; ")))
		}
	}
	errs = append(errs, c.validateStubDomains(field.NewPath("stubDomains"))...)
	return errs
}

func validateLocalIPs(p *field.Path, ips []string) field.ErrorList {
	var errs field.ErrorList
	if len(ips) == 0 {
		return append(errs, field.Required(p, "at least one IPv4 or IPv6 address to answer on, such as 169.254.20.10 or fd00::10"))
	}
	seen := map[netip.Addr]bool{}
	for i, s := range ips {
		ip, err := netip.ParseAddr(s)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(p.Index(i), s, "must be an IPv4 or IPv6 address"))
			continue
		case ip.Zone() != "":
			errs = append(errs, field.Invalid(p.Index(i), s, "must not carry a zone"))
			continue
		case ip.Is4In6():
			errs = append(errs, field.Invalid(p.Index(i), s, "must not be IPv4-mapped; give the IPv4 address"))
			continue
		case ip.IsUnspecified() || ip.IsMulticast():
			errs = append(errs, field.Invalid(p.Index(i), s, "must be a unicast address, not unspecified or multicast"))
			continue
		}
		if seen[ip] {
			errs = append(errs, field.Duplicate(p.Index(i), s))
		}
		seen[ip] = true
	}
	return errs
}

// validateServer checks an upstream given as IP or IP:port.
func validateServer(p *field.Path, s string) field.ErrorList {
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil && ip.Zone() == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return field.ErrorList{field.Invalid(p, s, "must be an IP address or IP:port ([IPv6]:port)")}
	}
	var errs field.ErrorList
	if ip, err := netip.ParseAddr(host); err != nil || ip.Zone() != "" {
		errs = append(errs, field.Invalid(p, s, "host must be an IP address; a name would be resolved through node-cache's own upstreams"))
	}
	if n, err := strconv.Atoi(port); err != nil || len(validation.IsValidPortNum(n)) > 0 {
		errs = append(errs, field.Invalid(p, s, "port must be between 1 and 65535"))
	}
	return errs
}

func validateHTTPAddr(p *field.Path, s string) field.ErrorList {
	if s == "" {
		return nil // off
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return field.ErrorList{field.Invalid(p, s, "must be host:port, such as :8080 or 169.254.20.10:8080")}
	}
	var errs field.ErrorList
	if host != "" {
		if _, err := netip.ParseAddr(host); err != nil && len(validation.IsDNS1123Subdomain(host)) > 0 {
			errs = append(errs, field.Invalid(p, s, "host must be empty, an IP address or a host name"))
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		errs = append(errs, field.Invalid(p, s, "port must be between 0 and 65535"))
	}
	return errs
}

// validateDomain checks a DNS domain below the root; a trailing dot is
// allowed.
func validateDomain(p *field.Path, d string) field.ErrorList {
	name := strings.TrimSuffix(d, ".")
	if name == "" {
		return field.ErrorList{field.Required(p, "a domain below the root, such as cluster.local")}
	}
	if _, ok := dns.IsDomainName(d); !ok || strings.Contains(name, "..") {
		return field.ErrorList{field.Invalid(p, d, "must be a DNS domain name, such as cluster.local")}
	}
	return nil
}

func (c *NodeCacheConfiguration) validateStubDomains(p *field.Path) field.ErrorList {
	var errs field.ErrorList
	domains := make([]string, 0, len(c.StubDomains))
	for d := range c.StubDomains {
		domains = append(domains, d)
	}
	sort.Strings(domains)
	seen := map[string]string{strings.ToLower(dns.Fqdn(c.ClusterDomain)): "the cluster domain"}
	for _, z := range server.DefaultReverseZones {
		seen[z] = "a reverse zone sent to cluster DNS"
	}
	for _, d := range domains {
		dp := p.Key(d)
		if de := validateDomain(dp, d); len(de) > 0 {
			errs = append(errs, de...)
			continue
		}
		canon := strings.ToLower(dns.Fqdn(d))
		if other, ok := seen[canon]; ok {
			errs = append(errs, field.Duplicate(dp, fmt.Sprintf("%s is already %s", d, other)))
		}
		seen[canon] = "stub domain " + d
		servers := c.StubDomains[d]
		if len(servers) == 0 {
			errs = append(errs, field.Required(dp, "at least one server (IP or IP:port)"))
		}
		for i, s := range servers {
			errs = append(errs, validateServer(dp.Index(i), s)...)
		}
	}
	return errs
}

// validationError turns errs into one error whose lines name the field and,
// where there is one, its flag.
func validationError(errs field.ErrorList) error {
	if err := flagNames.Errors(errs, componentconfig.FieldFirst); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	return nil
}

// localIPs returns the local IPs, which Validate has checked.
func (c *NodeCacheConfiguration) localIPs() []netip.Addr {
	out := make([]netip.Addr, 0, len(c.LocalIPs))
	for _, s := range c.LocalIPs {
		if ip, err := netip.ParseAddr(s); err == nil {
			out = append(out, ip)
		}
	}
	return out
}

// healthPort returns the port of HealthAddr, or 0 when it is off.
func (c *NodeCacheConfiguration) healthPort() int {
	if c.HealthAddr == "" {
		return 0
	}
	_, port, _ := net.SplitHostPort(c.HealthAddr)
	n, _ := strconv.Atoi(port)
	return n
}

// serverConfig is the DNS server's configuration.
func (c *NodeCacheConfiguration) serverConfig() server.Config {
	listen := make([]string, 0, len(c.LocalIPs))
	for _, ip := range c.localIPs() {
		listen = append(listen, netip.AddrPortFrom(ip, uint16(c.Port)).String())
	}
	var stubs map[string][]string
	if len(c.StubDomains) > 0 {
		stubs = c.DeepCopy().StubDomains
	}
	return server.Config{
		ListenAddrs:   listen,
		ClusterDomain: c.ClusterDomain,
		ClusterDNS:    append([]string(nil), c.ClusterDNS...),
		ResolvConf:    c.UpstreamResolvConf,
		StubDomains:   stubs,
		NodeName:      c.NodeName,
		Cache: cache.Config{
			MaxEntries: int(c.CacheSize),
			SuccessTTL: c.SuccessTTL.Duration,
			DenialTTL:  c.DenialTTL.Duration,
		},
	}
}
