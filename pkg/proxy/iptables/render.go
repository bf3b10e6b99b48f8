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

package iptables

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"

	"signet.dev/signet/pkg/proxy"
)

// portRules is everything one Service port contributes to the ruleset,
// rendered once when the port or its endpoints change and reused by every
// later sync: a partial sync rewrites the shared top-level chains from
// these fragments without rendering any unchanged Service again.
type portRules struct {
	port *proxy.ServicePort
	sel  proxy.Selection
	// eps are all the port's endpoints, as the slice cache merged them.
	eps []*proxy.Endpoint

	// natChains are the per-Service chains of the nat table (SVC, SVL,
	// EXT, SEP) and natRules their rules.
	natChains []string
	natRules  []byte
	// Lines of the shared chains.
	natServices, natNodePorts                     []byte
	filterServices, filterExternal, filterNodePts []byte
	// natCount and filterCount are the rule counts, for the metrics.
	natCount, filterCount int
}

// renderContext is what rendering needs beyond the port, and scratch
// space reused from one port to the next: a full sync of 10,000 Services
// renders 10,000 ports, and allocating fresh buffers for each is most of
// its cost.
type renderContext struct {
	clusterCIDR   netip.Prefix
	masqueradeAll bool

	// Scratch buffers, reset for each port; the fragments are copied out.
	nat, natSvc, natNP, fSvc, fExt, fNP lineWriter
	// probabilities[n] is 1/n formatted for the statistic match.
	probabilities []string
	// sepNames caches endpoint chain names (a hash each) by port and
	// endpoint; entries of deleted chains are dropped by forget.
	sepNames map[sepKey]string
}

type sepKey struct {
	port proxy.ServicePortName
	ep   netip.AddrPort
}

func newRenderContext(cidr netip.Prefix, masqueradeAll bool) *renderContext {
	return &renderContext{clusterCIDR: cidr, masqueradeAll: masqueradeAll, sepNames: map[sepKey]string{}}
}

// probability returns 1/n as iptables' statistic module wants it.
func (c *renderContext) probability(n int) string {
	for len(c.probabilities) <= n {
		c.probabilities = append(c.probabilities, fmt.Sprintf("%0.10f", 1.0/float64(len(c.probabilities))))
	}
	return c.probabilities[n]
}

// endpointChain returns the KUBE-SEP chain of an endpoint of a port.
func (c *renderContext) endpointChain(pn proxy.ServicePortName, ep *proxy.Endpoint) string {
	k := sepKey{port: pn, ep: netip.AddrPortFrom(ep.IP, uint16(ep.Port))}
	if name, ok := c.sepNames[k]; ok {
		return name
	}
	name := endpointChain(pn, ep)
	c.sepNames[k] = name
	return name
}

// forget drops cached endpoint chain names that are not in keep.
func (c *renderContext) forget(keep func(string) bool) {
	for k, name := range c.sepNames {
		if !keep(name) {
			delete(c.sepNames, k)
		}
	}
}

// lineWriter writes rules into a buffer: begin, arguments, end.
type lineWriter struct {
	buf   bytes.Buffer
	count int
}

func (w *lineWriter) reset() {
	w.buf.Reset()
	w.count = 0
}

// begin starts "-A chain".
func (w *lineWriter) begin(chain string) *lineWriter {
	w.buf.WriteString("-A ")
	w.buf.WriteString(chain)
	return w
}

// args appends arguments.
func (w *lineWriter) args(args ...string) *lineWriter {
	for _, a := range args {
		w.buf.WriteByte(' ')
		w.buf.WriteString(a)
	}
	return w
}

// comment appends "-m comment --comment" with the parts joined and
// quoted.
func (w *lineWriter) comment(parts ...string) *lineWriter {
	w.buf.WriteString(` -m comment --comment "`)
	for _, p := range parts {
		if needsEscape(p) {
			q := strconv.Quote(p)
			w.buf.WriteString(q[1 : len(q)-1])
			continue
		}
		w.buf.WriteString(p)
	}
	w.buf.WriteByte('"')
	return w
}

// end finishes the rule.
func (w *lineWriter) end() {
	w.buf.WriteByte('\n')
	w.count++
}

// rule writes a whole rule.
func (w *lineWriter) rule(chain string, args ...string) {
	w.begin(chain).args(args...).end()
}

// needsEscape reports whether s holds a character that must be escaped
// inside a double-quoted iptables-restore argument. Names of Kubernetes
// objects never do; the check keeps odd input from breaking the ruleset.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' || c < 0x20 || c >= 0x7f {
			return true
		}
	}
	return false
}

// render computes the rules of one port with its selection.
func (c *renderContext) render(port *proxy.ServicePort, eps []*proxy.Endpoint, sel proxy.Selection) *portRules {
	r := &portRules{port: port, sel: sel, eps: eps}
	name := port.Name.String()
	proto := protocolArg(port.Protocol)
	portStr := strconv.Itoa(int(port.Port))
	svcChain, localChain, extChain := portChains(port.Name)

	internal := sel.Internal(port)
	external := sel.External(port)
	useExt := port.External() && len(external) > 0
	internalTarget := svcChain
	if port.InternalPolicyLocal {
		internalTarget = localChain
	}
	// The cluster chain serves cluster IPs unless internal traffic is
	// Local, and external traffic unless it is Local; the local chain
	// the other way round.
	useCluster := len(sel.Cluster) > 0 && (!port.InternalPolicyLocal || (useExt && !port.ExternalPolicyLocal))
	useLocal := len(sel.Local) > 0 && (port.InternalPolicyLocal || (useExt && port.ExternalPolicyLocal))

	nat, natSvc, natNP, fSvc, fExt, fNP := &c.nat, &c.natSvc, &c.natNP, &c.fSvc, &c.fExt, &c.fNP
	for _, w := range []*lineWriter{nat, natSvc, natNP, fSvc, fExt, fNP} {
		w.reset()
	}

	// Cluster IPs.
	for _, ip := range port.ClusterIPs {
		if len(internal) == 0 {
			fSvc.begin(chainServices).comment(name, " has no endpoints").
				args("-d", hostPrefix(ip), "-p", proto, "-m", proto, "--dport", portStr, "-j", "REJECT").end()
			continue
		}
		natSvc.begin(chainServices).comment(name, " cluster IP").
			args("-d", hostPrefix(ip), "-p", proto, "-m", proto, "--dport", portStr, "-j", internalTarget).end()
	}

	// External IPs and load balancer IPs.
	for _, ip := range port.ExternalIPs {
		c.externalAddr(r, port, sel, name, " external IP", ip, proto, portStr, useExt, extChain)
	}
	for _, ip := range port.LoadBalancerIPs {
		c.externalAddr(r, port, sel, name, " loadbalancer IP", ip, proto, portStr, useExt, extChain)
	}

	// Node port.
	if port.NodePort != 0 {
		np := strconv.Itoa(int(port.NodePort))
		if !useExt {
			fExt.begin(chainExternalServices).comment(name, rejectReason(port, sel)).
				args("-m", "addrtype", "--dst-type", "LOCAL", "-p", proto, "-m", proto, "--dport", np, "-j", rejectVerdict(port, sel)).end()
		} else {
			natNP.begin(chainNodePorts).comment(name).args("-p", proto, "-m", proto, "--dport", np, "-j", extChain).end()
		}
	}
	if port.HealthCheckNodePort != 0 {
		fNP.begin(chainNodePorts).comment(name, " health check node port").
			args("-m", "tcp", "-p", "tcp", "--dport", strconv.Itoa(int(port.HealthCheckNodePort)), "-j", "ACCEPT").end()
	}

	// KUBE-EXT: external traffic. With a Cluster policy it is always
	// masqueraded (the reply must come back through this node); with a
	// Local policy the client address is kept and only local endpoints
	// serve, except for traffic from pods or this node, which takes the
	// internal path.
	if useExt {
		r.natChains = append(r.natChains, extChain)
		if port.ExternalPolicyLocal {
			if len(internal) > 0 {
				if c.clusterCIDR.IsValid() {
					nat.begin(extChain).comment("pod traffic for ", name, " external destinations").
						args("-s", c.clusterCIDR.String(), "-j", internalTarget).end()
				}
				nat.begin(extChain).comment("masquerade LOCAL traffic for ", name, " external destinations").
					args("-m", "addrtype", "--src-type", "LOCAL", "-j", chainMarkMasq).end()
				nat.begin(extChain).comment("route LOCAL traffic for ", name, " external destinations").
					args("-m", "addrtype", "--src-type", "LOCAL", "-j", internalTarget).end()
			}
			nat.rule(extChain, "-j", localChain)
		} else {
			nat.begin(extChain).comment("masquerade traffic for ", name, " external destinations").args("-j", chainMarkMasq).end()
			nat.rule(extChain, "-j", svcChain)
		}
	}

	var epChains map[*proxy.Endpoint]string
	if useCluster || useLocal {
		epChains = make(map[*proxy.Endpoint]string, len(sel.Cluster)+len(sel.Local))
	}
	writeSvcChain := func(chain string, eps []*proxy.Endpoint, masq bool) {
		r.natChains = append(r.natChains, chain)
		if masq {
			for _, ip := range port.ClusterIPs {
				switch {
				case c.masqueradeAll:
					nat.begin(chain).comment(name, " cluster IP").
						args("-d", hostPrefix(ip), "-p", proto, "-m", proto, "--dport", portStr, "-j", chainMarkMasq).end()
				case c.clusterCIDR.IsValid():
					nat.begin(chain).comment(name, " cluster IP").
						args("!", "-s", c.clusterCIDR.String(), "-d", hostPrefix(ip), "-p", proto, "-m", proto, "--dport", portStr, "-j", chainMarkMasq).end()
				}
			}
		}
		if port.AffinityTimeout > 0 {
			seconds := strconv.Itoa(int(port.AffinityTimeout))
			for _, ep := range eps {
				sep := c.endpointChain(port.Name, ep)
				nat.begin(chain).comment(name, " -> ", ep.String()).
					args("-m", "recent", "--name", sep, "--rcheck", "--seconds", seconds, "--reap", "-j", sep).end()
			}
		}
		for i, ep := range eps {
			sep := c.endpointChain(port.Name, ep)
			epChains[ep] = sep
			nat.begin(chain).comment(name, " -> ", ep.String())
			if left := len(eps) - i; left > 1 {
				nat.args("-m", "statistic", "--mode", "random", "--probability", c.probability(left))
			}
			nat.args("-j", sep).end()
		}
	}
	if useCluster {
		writeSvcChain(svcChain, sel.Cluster, !port.InternalPolicyLocal)
	}
	if useLocal {
		writeSvcChain(localChain, sel.Local, port.InternalPolicyLocal)
	}

	// KUBE-SEP: one per endpoint in use, in address order.
	for _, ep := range eps {
		sep, ok := epChains[ep]
		if !ok {
			continue
		}
		r.natChains = append(r.natChains, sep)
		nat.begin(sep).comment(name).args("-s", hostPrefix(ep.IP), "-j", chainMarkMasq).end()
		nat.begin(sep).comment(name).args("-p", proto)
		if port.AffinityTimeout > 0 {
			nat.args("-m", "recent", "--name", sep, "--set")
		}
		nat.args("-m", proto, "-j", "DNAT", "--to-destination", ep.String()).end()
	}

	r.natRules, r.natServices, r.natNodePorts = clone(&nat.buf), clone(&natSvc.buf), clone(&natNP.buf)
	r.filterServices, r.filterExternal, r.filterNodePts = clone(&fSvc.buf), clone(&fExt.buf), clone(&fNP.buf)
	r.natCount = nat.count + natSvc.count + natNP.count
	r.filterCount = fSvc.count + fExt.count + fNP.count
	return r
}

// externalAddr writes the rules of one external or load balancer IP.
func (c *renderContext) externalAddr(r *portRules, port *proxy.ServicePort, sel proxy.Selection, name, what string,
	ip netip.Addr, proto, portStr string, useExt bool, extChain string) {
	if !useExt {
		c.fExt.begin(chainExternalServices).comment(name, rejectReason(port, sel)).
			args("-d", hostPrefix(ip), "-p", proto, "-m", proto, "--dport", portStr, "-j", rejectVerdict(port, sel)).end()
		return
	}
	c.natSvc.begin(chainServices).comment(name, what).
		args("-d", hostPrefix(ip), "-p", proto, "-m", proto, "--dport", portStr, "-j", extChain).end()
}

// clone copies a scratch buffer's content out (nil when empty).
func clone(b *bytes.Buffer) []byte {
	if b.Len() == 0 {
		return nil
	}
	return bytes.Clone(b.Bytes())
}

// rejectVerdict is what external traffic without a usable endpoint gets:
// REJECT when the Service has no endpoint at all, DROP when it has some
// but a Local policy keeps them off this node, so that a load balancer's
// retry goes to another node instead of failing fast here.
func rejectVerdict(port *proxy.ServicePort, sel proxy.Selection) string {
	if port.ExternalPolicyLocal && sel.Usable > 0 {
		return "DROP"
	}
	return "REJECT"
}

func rejectReason(port *proxy.ServicePort, sel proxy.Selection) string {
	if port.ExternalPolicyLocal && sel.Usable > 0 {
		return " has no local endpoints"
	}
	return " has no endpoints"
}
