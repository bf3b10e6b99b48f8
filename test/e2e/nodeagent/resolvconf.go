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
	"bufio"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

const (
	// maxNameservers is how many nameservers the C library uses.
	maxNameservers = 3
	// maxSearchDomains is kubelet's limit on the search list.
	maxSearchDomains = 32
	// defaultNdots is the ndots of cluster-first pods.
	defaultNdots = "5"
)

// resolvConf is the content of a resolv.conf file.
type resolvConf struct {
	nameservers []string
	searches    []string
	// options are "name" or "name:value", in order, one per name.
	options []string
}

// parseResolvConf reads the nameserver, search (and domain) and options
// lines of a resolv.conf file.
func parseResolvConf(data []byte) resolvConf {
	var rc resolvConf
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") || strings.HasPrefix(fields[0], ";") {
			continue
		}
		switch fields[0] {
		case "nameserver":
			if len(fields) > 1 {
				rc.nameservers = append(rc.nameservers, fields[1])
			}
		case "search", "domain":
			// The last search or domain line wins, as in the C library.
			rc.searches = append([]string(nil), fields[1:]...)
		case "options":
			for _, o := range fields[1:] {
				rc.options = setOption(rc.options, o)
			}
		}
	}
	return rc
}

// setOption sets an option, replacing one of the same name.
func setOption(options []string, opt string) []string {
	name, _, _ := strings.Cut(opt, ":")
	for i, o := range options {
		if n, _, _ := strings.Cut(o, ":"); n == name {
			out := slices.Clone(options)
			out[i] = opt
			return out
		}
	}
	return append(slices.Clone(options), opt)
}

// appendUnique appends the values of add that out lacks.
func appendUnique(out []string, add ...string) []string {
	for _, a := range add {
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// String renders the file.
func (rc resolvConf) String() string {
	var b strings.Builder
	b.WriteString("# Written by the signet node agent for this pod.\n")
	for _, ns := range rc.nameservers {
		fmt.Fprintf(&b, "nameserver %s\n", ns)
	}
	if len(rc.searches) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(rc.searches, " "))
	}
	if len(rc.options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(rc.options, " "))
	}
	return b.String()
}

// DNSSettings are the node's DNS settings for pods.
type DNSSettings struct {
	// ClusterDNS are the nameservers of cluster-first pods (node-cache's
	// addresses in the local cluster). Without any, cluster-first pods fall
	// back to the node's resolv.conf, as kubelet does.
	ClusterDNS []netip.Addr
	// ClusterDomain is the cluster's DNS domain, e.g. cluster.local.
	ClusterDomain string
}

// podResolvConf is the resolv.conf of a pod, by its dnsPolicy as kubelet
// writes it: ClusterFirst (the default) lists the cluster nameservers, the
// search path <namespace>.svc.<domain> svc.<domain> <domain> and ndots:5;
// Default copies the node's file (host is its content); None starts empty;
// spec.dnsConfig is then merged in. Unlike kubelet, ClusterFirst does not
// append the node's own search domains: the node's resolv.conf belongs to
// the machine running the whole local cluster.
func podResolvConf(pod *corev1.Pod, dns DNSSettings, host []byte) resolvConf {
	var rc resolvConf
	policy := pod.Spec.DNSPolicy
	if policy == "" {
		policy = corev1.DNSClusterFirst
	}
	if policy == corev1.DNSClusterFirst && pod.Spec.HostNetwork {
		// ClusterFirstWithHostNet is how a host-network pod asks for the
		// cluster DNS.
		policy = corev1.DNSDefault
	}
	if (policy == corev1.DNSClusterFirst || policy == corev1.DNSClusterFirstWithHostNet) && len(dns.ClusterDNS) == 0 {
		policy = corev1.DNSDefault
	}
	switch policy {
	case corev1.DNSClusterFirst, corev1.DNSClusterFirstWithHostNet:
		for _, ip := range dns.ClusterDNS {
			rc.nameservers = append(rc.nameservers, ip.String())
		}
		if d := strings.TrimSuffix(dns.ClusterDomain, "."); d != "" {
			rc.searches = []string{pod.Namespace + ".svc." + d, "svc." + d, d}
		}
		rc.options = []string{"ndots:" + defaultNdots}
	case corev1.DNSDefault:
		rc = parseResolvConf(host)
	}
	if c := pod.Spec.DNSConfig; c != nil {
		rc.nameservers = appendUnique(rc.nameservers, c.Nameservers...)
		rc.searches = appendUnique(rc.searches, c.Searches...)
		for _, o := range c.Options {
			opt := o.Name
			if o.Value != nil {
				opt += ":" + *o.Value
			}
			rc.options = setOption(rc.options, opt)
		}
	}
	if len(rc.nameservers) > maxNameservers {
		rc.nameservers = rc.nameservers[:maxNameservers]
	}
	if len(rc.searches) > maxSearchDomains {
		rc.searches = rc.searches[:maxSearchDomains]
	}
	return rc
}

// podHosts is the hosts file of a pod: loopback names, the pod's own
// addresses under its hostname (and FQDN when it has a subdomain), then
// spec.hostAliases.
func podHosts(pod *corev1.Pod, ips []netip.Addr, clusterDomain string) string {
	var b strings.Builder
	b.WriteString("# Written by the signet node agent for this pod.\n")
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	hostname := podHostname(pod.Spec.Hostname, pod.Name)
	names := hostname
	if sub := pod.Spec.Subdomain; sub != "" && clusterDomain != "" {
		names = fmt.Sprintf("%s.%s.%s.svc.%s\t%s", hostname, sub, pod.Namespace, strings.TrimSuffix(clusterDomain, "."), hostname)
	}
	for _, ip := range ips {
		fmt.Fprintf(&b, "%s\t%s\n", ip, names)
	}
	for _, alias := range pod.Spec.HostAliases {
		if len(alias.Hostnames) > 0 {
			fmt.Fprintf(&b, "%s\t%s\n", alias.IP, strings.Join(alias.Hostnames, "\t"))
		}
	}
	return b.String()
}
