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

package server

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"

	"signet.dev/signet/pkg/nodecache/cache"
	"signet.dev/signet/pkg/nodecache/forward"
)

// Defaults of Config.
const (
	DefaultClusterDomain    = "cluster.local"
	DefaultResolvConf       = "/etc/resolv.conf"
	DefaultNodeNameOption   = 65001
	DefaultMaxUDPSize       = 4096
	DefaultMaxInFlight      = 2000
	DefaultMaxTCPConns      = 1000
	DefaultMaxTCPPipeline   = 32
	DefaultTCPIdleTimeout   = 10 * time.Second
	DefaultReadyWindow      = 30 * time.Second
	DefaultLoopProbeTimeout = 2 * time.Second
)

// DefaultReverseZones are the reverse-lookup zones sent to cluster DNS.
var DefaultReverseZones = []string{"in-addr.arpa.", "ip6.arpa."}

// Config is everything a node-cache server needs. The zero value of a field
// means its default; ListenAddrs and ClusterDNS are required.
type Config struct {
	// ListenAddrs are the IP:port pairs served over both UDP and TCP, for
	// example 169.254.20.10:53 and [fd00::10]:53. Port 0 picks a free port,
	// the same for UDP and TCP (see Server.Addrs).
	ListenAddrs []string
	// ClusterDomain is the cluster's DNS domain, sent to cluster DNS.
	// Default "cluster.local".
	ClusterDomain string
	// ReverseZones are also sent to cluster DNS. Default in-addr.arpa. and
	// ip6.arpa.
	ReverseZones []string
	// ClusterDNS are the cluster DNS servers (host or host:port), always
	// queried over TCP on persistent connections. Required.
	ClusterDNS []string
	// ResolvConf is the file naming the upstreams of every other name,
	// queried over UDP with TCP on truncation. Default /etc/resolv.conf.
	ResolvConf string
	// UpstreamServers, when set, replace the nameservers of ResolvConf
	// (host or host:port), for nodes whose resolv.conf is not the right
	// source.
	UpstreamServers []string
	// StubDomains maps a domain to its own servers (host or host:port),
	// queried like the resolv.conf ones. A longer domain wins over a shorter
	// one, the cluster domain included.
	StubDomains map[string][]string
	// NodeName, when set, tags each query sent to cluster DNS with an EDNS0
	// local option holding the node name, so cluster DNS can answer with
	// topology in mind.
	NodeName string
	// NodeNameOption is the EDNS0 option code of the node-name tag.
	// Default 65001 (the first code of the local/experimental range).
	NodeNameOption uint16
	// MaxUDPSize is the largest UDP response sent, whatever the client
	// advertises, and the payload size advertised in responses. Default 4096.
	MaxUDPSize uint16
	// MaxInFlight bounds queries being resolved (cache misses); beyond it
	// new misses get REFUSED. Default 2000.
	MaxInFlight int
	// MaxTCPConns bounds client TCP connections; more are closed on accept.
	// Default 1000.
	MaxTCPConns int
	// MaxTCPPipeline bounds the queries resolved concurrently for one client
	// TCP connection; reading stalls beyond it. Default 32.
	MaxTCPPipeline int
	// TCPIdleTimeout closes client TCP connections idle this long. Default 10s.
	TCPIdleTimeout time.Duration
	// UDPReaders is the number of goroutines reading each UDP socket.
	// Default GOMAXPROCS.
	UDPReaders int
	// ReadyWindow: the server is ready while an upstream answered within
	// this window. Upstreams are probed when idle. Default 30s.
	ReadyWindow time.Duration
	// DisableLoopProbe turns off the start-up forwarding-loop probe. The check
	// that no upstream is a listen address always runs.
	DisableLoopProbe bool
	// LoopProbeTimeout bounds the start-up loop probe. Default 2s.
	LoopProbeTimeout time.Duration
	// Cache holds the cache options.
	Cache cache.Config
	// Forward holds the upstream transport options.
	Forward forward.Config
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.ClusterDomain == "" {
		c.ClusterDomain = DefaultClusterDomain
	}
	if c.ReverseZones == nil {
		c.ReverseZones = DefaultReverseZones
	}
	if c.ResolvConf == "" {
		c.ResolvConf = DefaultResolvConf
	}
	if c.NodeNameOption == 0 {
		c.NodeNameOption = DefaultNodeNameOption
	}
	if c.MaxUDPSize == 0 {
		c.MaxUDPSize = DefaultMaxUDPSize
	}
	defInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defInt(&c.MaxInFlight, DefaultMaxInFlight)
	defInt(&c.MaxTCPConns, DefaultMaxTCPConns)
	defInt(&c.MaxTCPPipeline, DefaultMaxTCPPipeline)
	defInt(&c.UDPReaders, runtime.GOMAXPROCS(0))
	defDur(&c.TCPIdleTimeout, DefaultTCPIdleTimeout)
	defDur(&c.ReadyWindow, DefaultReadyWindow)
	defDur(&c.LoopProbeTimeout, DefaultLoopProbeTimeout)
	c.Cache = c.Cache.WithDefaults()
	c.Forward = c.Forward.WithDefaults()
	return c
}

// Validate reports what is wrong with c, after defaulting.
func (c Config) Validate() error {
	var errs []error
	if len(c.ListenAddrs) == 0 {
		errs = append(errs, errors.New("at least one listen address is required"))
	}
	for _, a := range c.ListenAddrs {
		if _, err := parseListenAddr(a); err != nil {
			errs = append(errs, err)
		}
	}
	if len(c.ClusterDNS) == 0 {
		errs = append(errs, errors.New("at least one cluster DNS server is required"))
	}
	if _, ok := dns.IsDomainName(c.ClusterDomain); !ok || dns.Fqdn(c.ClusterDomain) == "." {
		errs = append(errs, fmt.Errorf("cluster domain %q is not a domain name below the root", c.ClusterDomain))
	}
	for d, servers := range c.StubDomains {
		if _, ok := dns.IsDomainName(d); !ok || dns.Fqdn(d) == "." {
			errs = append(errs, fmt.Errorf("stub domain %q is not a domain name below the root", d))
		}
		if len(servers) == 0 {
			errs = append(errs, fmt.Errorf("stub domain %q has no servers", d))
		}
	}
	if c.MaxUDPSize < 512 {
		errs = append(errs, fmt.Errorf("max UDP size must be at least 512, got %d", c.MaxUDPSize))
	}
	if c.MaxInFlight < 1 || c.MaxTCPConns < 1 || c.MaxTCPPipeline < 1 || c.UDPReaders < 1 {
		errs = append(errs, errors.New("max in-flight queries, max TCP connections, max TCP pipeline and UDP readers must be positive"))
	}
	if c.TCPIdleTimeout < 0 || c.ReadyWindow < 0 || c.LoopProbeTimeout < 0 {
		errs = append(errs, errors.New("timeouts must not be negative"))
	}
	errs = append(errs, c.Cache.Validate(), c.Forward.Validate())
	return errors.Join(errs...)
}

// parseListenAddr parses "IP:port"; an empty host means every address.
func parseListenAddr(s string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("listen address %q: %w", s, err)
	}
	if host == "" {
		host = "::"
	}
	ap, err := netip.ParseAddrPort(net.JoinHostPort(host, port))
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("listen address %q must be IP:port: %w", s, err)
	}
	return ap, nil
}

// groups turns c into upstream groups: cluster DNS over TCP for the cluster
// domain and reverse zones, one group per stub domain, and the resolv.conf
// nameservers for everything else.
func (c Config) groups(resolvConf []string) []forward.GroupConfig {
	cluster := forward.GroupConfig{
		Name:     "cluster",
		Zones:    append([]string{c.ClusterDomain}, c.ReverseZones...),
		Servers:  c.ClusterDNS,
		Protocol: forward.TCP,
	}
	if c.NodeName != "" {
		cluster.Options = []dns.EDNS0{&dns.EDNS0_LOCAL{Code: c.NodeNameOption, Data: []byte(c.NodeName)}}
	}
	groups := []forward.GroupConfig{cluster}
	stubs := make([]string, 0, len(c.StubDomains))
	for d := range c.StubDomains {
		stubs = append(stubs, d)
	}
	sort.Strings(stubs)
	for _, d := range stubs {
		groups = append(groups, forward.GroupConfig{
			Name:     "stub " + strings.ToLower(dns.Fqdn(d)),
			Zones:    []string{d},
			Servers:  c.StubDomains[d],
			Protocol: forward.UDP,
		})
	}
	return append(groups, forward.GroupConfig{
		Name:     "default",
		Zones:    []string{"."},
		Servers:  resolvConf,
		Protocol: forward.UDP,
	})
}
