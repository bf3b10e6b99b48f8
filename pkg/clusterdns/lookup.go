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

package clusterdns

import (
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// SchemaVersion is the version of the Kubernetes DNS specification served,
// the content of the TXT record dns-version.<zone>.
const SchemaVersion = "1.1.0"

// The reverse zones, whose PTR records name Services and endpoints.
const (
	reverseZone4 = "in-addr.arpa."
	reverseZone6 = "ip6.arpa."
)

// maxChase bounds the CNAMEs followed inside the cluster domain for one
// answer, against ExternalName Services pointing at each other.
const maxChase = 8

// node is what one name holds, for one query type.
type node struct {
	// exists: the name exists (it holds records of some type, or names
	// below it do); otherwise the answer is NXDOMAIN.
	exists bool
	// answer are the records of the query type (all of them for ANY),
	// owned by the name as asked.
	answer []dns.RR
	// extra are records for the additional section.
	extra []dns.RR
	// cname is the target when the name is an alias; answer then holds
	// the CNAME record whatever the query type.
	cname string
}

// rrs builds records with one owner, type-agnostic parts filled in.
type rrs struct {
	owner string
	ttl   uint32
}

func (b rrs) hdr(t uint16) dns.RR_Header {
	return dns.RR_Header{Name: b.owner, Rrtype: t, Class: dns.ClassINET, Ttl: b.ttl}
}

// addr returns an A or AAAA record for a, nil when qtype wants neither.
func (b rrs) addr(qtype uint16, a netip.Addr) dns.RR {
	switch {
	case a.Is4() && wants(qtype, dns.TypeA):
		return &dns.A{Hdr: b.hdr(dns.TypeA), A: net.IP(a.AsSlice())}
	case a.Is6() && wants(qtype, dns.TypeAAAA):
		return &dns.AAAA{Hdr: b.hdr(dns.TypeAAAA), AAAA: net.IP(a.AsSlice())}
	}
	return nil
}

// wants reports whether a query of type qtype is answered with records of
// type t.
func wants(qtype, t uint16) bool { return qtype == t || qtype == dns.TypeANY }

// appendAddrs appends the address records of addrs that qtype wants.
func (b rrs) appendAddrs(out []dns.RR, qtype uint16, addrs ...netip.Addr) []dns.RR {
	for _, a := range addrs {
		if rr := b.addr(qtype, a); rr != nil {
			out = append(out, rr)
		}
	}
	return out
}

// serviceName is <service>.<ns>.svc.<zone>.
func (h *Handler) serviceName(namespace, service string) string {
	return service + "." + namespace + ".svc." + h.zone
}

// soa is the SOA record of a zone apex (the cluster domain or a reverse
// zone) for the authority section of negative answers.
func (h *Handler) soa(apex string) dns.RR {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: apex, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: h.ttl},
		Ns:      "ns.dns." + h.zone,
		Mbox:    "hostmaster." + h.zone,
		Serial:  h.store.Serial(),
		Refresh: 7200,
		Retry:   1800,
		Expire:  86400,
		Minttl:  h.ttl,
	}
}

// labelsBelow returns the labels of name (lower-case, fully qualified)
// left of zone, which name must be in.
func labelsBelow(name, zone string) []string {
	n := dns.CountLabel(name) - dns.CountLabel(zone)
	if n <= 0 {
		return nil
	}
	return dns.SplitDomainName(name)[:n]
}

// lookupCluster answers a name of the cluster domain:
//
//	<zone>                                  SOA
//	dns-version.<zone>                      TXT
//	svc.<zone>                              (exists)
//	<ns>.svc.<zone>                         (exists while ns has a Service)
//	<service>.<ns>.svc.<zone>               A/AAAA, or CNAME
//	_<proto>.<service>.<ns>.svc.<zone>      (exists while SRV records below)
//	_<port>._<proto>.<service>.<ns>.svc...  SRV
//	<hostname>.<service>.<ns>.svc.<zone>    A/AAAA (headless)
//	pod.<zone>, <ns>.pod.<zone>             (exist)
//	<a>-<b>-<c>-<d>.<ns>.pod.<zone>         A (AAAA for dashed IPv6), unless
//	                                        pod records are off
func (h *Handler) lookupCluster(owner, name string, qtype uint16, c *client) node {
	b := rrs{owner: owner, ttl: h.ttl}
	l := labelsBelow(name, h.zone)
	switch {
	case len(l) == 0:
		n := node{exists: true}
		if wants(qtype, dns.TypeSOA) {
			soa := h.soa(owner)
			n.answer = append(n.answer, soa)
		}
		return n
	case len(l) == 1 && l[0] == "dns-version":
		n := node{exists: true}
		if wants(qtype, dns.TypeTXT) {
			n.answer = append(n.answer, &dns.TXT{Hdr: b.hdr(dns.TypeTXT), Txt: []string{SchemaVersion}})
		}
		return n
	case l[len(l)-1] == "svc":
		return h.lookupServices(b, l[:len(l)-1], qtype, c)
	case l[len(l)-1] == "pod" && h.podRecords:
		return lookupPod(b, l[:len(l)-1], qtype)
	}
	return node{}
}

// lookupServices answers names under svc.<zone>; l are the labels left of
// "svc".
func (h *Handler) lookupServices(b rrs, l []string, qtype uint16, c *client) node {
	switch len(l) {
	case 0:
		return node{exists: true}
	case 1:
		return node{exists: h.store.namespaceExists(l[0])}
	}
	e := h.store.service(l[len(l)-1], l[len(l)-2])
	if e == nil {
		return node{}
	}
	rest := l[:len(l)-2]
	switch {
	case len(rest) == 0:
		return h.serviceNode(b, e, qtype, c)
	case len(rest) == 1 && strings.HasPrefix(rest[0], "_"):
		return node{exists: len(rest[0]) > 1 && e.hasPortProto(rest[0][1:])}
	case len(rest) == 1:
		return hostnameNode(b, e, rest[0], qtype)
	case len(rest) == 2 && strings.HasPrefix(rest[0], "_") && strings.HasPrefix(rest[1], "_"):
		return h.srvNode(b, e, rest[0][1:], rest[1][1:], qtype, c)
	}
	return node{}
}

// serviceNode answers <service>.<ns>.svc.<zone>.
func (h *Handler) serviceNode(b rrs, e *serviceEntry, qtype uint16, c *client) node {
	switch e.Kind {
	case kindClusterIP:
		return node{exists: true, answer: b.appendAddrs(nil, qtype, e.ClusterIPs...)}
	case kindExternalName:
		if e.ExternalName == "" {
			return node{exists: true}
		}
		return node{exists: true, cname: e.ExternalName, answer: []dns.RR{
			&dns.CNAME{Hdr: b.hdr(dns.TypeCNAME), Target: e.ExternalName},
		}}
	}
	// Headless. Without a published endpoint the name does not exist (the
	// specification asks for NXDOMAIN); with some, topology may leave none
	// for this node, which is then an empty answer.
	if len(e.Endpoints) == 0 {
		return node{}
	}
	n := node{exists: true}
	if !wants(qtype, dns.TypeA) && !wants(qtype, dns.TypeAAAA) {
		return n
	}
	for _, ep := range h.selectEndpoints(e, c) {
		n.answer = b.appendAddrs(n.answer, qtype, ep.Addr)
	}
	return n
}

// hostnameNode answers <hostname>.<service>.<ns>.svc.<zone>: every address
// of the endpoints with that hostname, whatever the topology (the name
// asks for those endpoints, not for the nearest).
func hostnameNode(b rrs, e *serviceEntry, hostname string, qtype uint16) node {
	eps := e.byHostname[hostname]
	if len(eps) == 0 {
		return node{}
	}
	n := node{exists: true}
	for _, ep := range eps {
		n.answer = b.appendAddrs(n.answer, qtype, ep.Addr)
	}
	return n
}

// srvNode answers _<port>._<proto>.<service>.<ns>.svc.<zone>: for a
// ClusterIP Service one record pointing at the Service, for a headless one
// a record per selected endpoint pointing at its hostname, with the
// endpoint's port. The targets' addresses go to the additional section.
func (h *Handler) srvNode(b rrs, e *serviceEntry, port, proto string, qtype uint16, c *client) node {
	srv := func(p uint16, target string) dns.RR {
		return &dns.SRV{Hdr: b.hdr(dns.TypeSRV), Priority: 0, Weight: 100, Port: p, Target: target}
	}
	switch e.Kind {
	case kindClusterIP:
		n := node{}
		target := h.serviceName(e.Namespace, e.Name)
		for _, p := range e.Ports {
			if p.Name != port || p.Proto != proto {
				continue
			}
			n.exists = true
			if wants(qtype, dns.TypeSRV) {
				n.answer = append(n.answer, srv(p.Port, target))
			}
		}
		if len(n.answer) > 0 {
			n.extra = rrs{owner: target, ttl: b.ttl}.appendAddrs(nil, dns.TypeANY, e.ClusterIPs...)
		}
		return n
	case kindHeadless:
		n := node{}
		for _, ep := range e.Endpoints {
			if hasPort(ep, port, proto) {
				n.exists = true
				break
			}
		}
		if !n.exists || !wants(qtype, dns.TypeSRV) {
			return n
		}
		type key struct {
			target string
			port   uint16
		}
		seen := map[key]bool{}
		for _, ep := range h.selectEndpoints(e, c) {
			target := ep.Hostname + "." + h.serviceName(e.Namespace, e.Name)
			for _, p := range ep.Ports {
				if p.Name != port || p.Proto != proto || seen[key{target, p.Port}] {
					continue
				}
				seen[key{target, p.Port}] = true
				n.answer = append(n.answer, srv(p.Port, target))
			}
			if hasPort(ep, port, proto) {
				n.extra = rrs{owner: target, ttl: b.ttl}.appendAddrs(n.extra, dns.TypeANY, ep.Addr)
			}
		}
		return n
	}
	return node{}
}

func hasPort(ep *endpoint, port, proto string) bool {
	for _, p := range ep.Ports {
		if p.Name == port && p.Proto == proto {
			return true
		}
	}
	return false
}

// lookupPod answers the pod records <a>-<b>-<c>-<d>.<ns>.pod.<zone>: the
// address the first label spells (dashes for colons for IPv6), whatever the
// namespace and whether a pod has it (CoreDNS's "pods insecure";
// cluster-dns does not watch pods). Schema 1.1.0 dropped these deprecated
// records; they are served as an extension because the Kubernetes
// documentation still promises them. l are the labels left of "pod".
func lookupPod(b rrs, l []string, qtype uint16) node {
	switch len(l) {
	case 0, 1:
		return node{exists: true}
	case 2:
		a, ok := parseDashedAddr(l[0])
		if !ok {
			return node{}
		}
		return node{exists: true, answer: b.appendAddrs(nil, qtype, a)}
	}
	return node{}
}

// lookupReverse answers a name under in-addr.arpa. or ip6.arpa.: PTR
// records for Service cluster IPs and the endpoints of headless Services;
// the reverse name of a network holding such an address exists too.
func (h *Handler) lookupReverse(owner, name, apex string, qtype uint16) node {
	l := labelsBelow(name, apex)
	if len(l) == 0 {
		n := node{exists: true}
		if wants(qtype, dns.TypeSOA) {
			n.answer = append(n.answer, h.soa(owner))
		}
		return n
	}
	p, ok := parseReverse(l, apex == reverseZone6)
	if !ok {
		return node{}
	}
	if !p.IsSingleIP() {
		return node{exists: h.store.anyAddressIn(p)}
	}
	targets := h.store.ptrTargets(p.Addr())
	if len(targets) == 0 {
		return node{}
	}
	n := node{exists: true}
	if !wants(qtype, dns.TypePTR) {
		return n
	}
	b := rrs{owner: owner, ttl: h.ttl}
	for _, t := range targets {
		target := h.serviceName(t.Namespace, t.Service)
		if t.Hostname != "" {
			target = t.Hostname + "." + target
		}
		n.answer = append(n.answer, &dns.PTR{Hdr: b.hdr(dns.TypePTR), Ptr: target})
	}
	return n
}

// parseReverse turns the labels of a reverse name, left of its zone, into
// the network they spell: four decimal octets (fewer for a network) under
// in-addr.arpa., 32 hex nibbles (fewer for a network) under ip6.arpa.,
// least significant first.
func parseReverse(l []string, v6 bool) (netip.Prefix, bool) {
	if !v6 {
		if len(l) > 4 {
			return netip.Prefix{}, false
		}
		var b [4]byte
		for i, s := range l {
			v, err := strconv.ParseUint(s, 10, 8)
			if err != nil || (len(s) > 1 && s[0] == '0') {
				return netip.Prefix{}, false
			}
			b[len(l)-1-i] = byte(v)
		}
		return netip.PrefixFrom(netip.AddrFrom4(b), 8*len(l)), true
	}
	if len(l) > 32 {
		return netip.Prefix{}, false
	}
	var b [16]byte
	for i, s := range l {
		if len(s) != 1 {
			return netip.Prefix{}, false
		}
		v, err := strconv.ParseUint(s, 16, 4)
		if err != nil {
			return netip.Prefix{}, false
		}
		pos := len(l) - 1 - i // nibble index from the most significant
		if pos%2 == 0 {
			b[pos/2] |= byte(v) << 4
		} else {
			b[pos/2] |= byte(v)
		}
	}
	return netip.PrefixFrom(netip.AddrFrom16(b), 4*len(l)), true
}
