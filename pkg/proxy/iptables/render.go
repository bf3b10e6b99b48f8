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

// renderContext is what rendering needs beyond the port.
type renderContext struct {
	clusterCIDR   netip.Prefix
	masqueradeAll bool
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

	var nat, natSvc, natNP, fSvc, fExt, fNP bytes.Buffer
	natW := &lineWriter{buf: &nat}
	natSvcW := &lineWriter{buf: &natSvc}
	natNPW := &lineWriter{buf: &natNP}
	fSvcW := &lineWriter{buf: &fSvc}
	fExtW := &lineWriter{buf: &fExt}
	fNPW := &lineWriter{buf: &fNP}

	// Cluster IPs.
	for _, ip := range port.ClusterIPs {
		dst := []string{"-d", hostPrefix(ip), "-p", proto, "-m", proto, "--dport", portStr}
		if len(internal) == 0 {
			fSvcW.rule(chainServices, append(append(comment(name+" has no endpoints"), dst...), "-j", "REJECT")...)
			continue
		}
		natSvcW.rule(chainServices, append(append(comment(name+" cluster IP"), dst...), "-j", internalTarget)...)
	}

	// External IPs and load balancer IPs.
	extIPs := append(append([]netip.Addr(nil), port.ExternalIPs...), port.LoadBalancerIPs...)
	for i, ip := range extIPs {
		what := " external IP"
		if i >= len(port.ExternalIPs) {
			what = " loadbalancer IP"
		}
		dst := []string{"-d", hostPrefix(ip), "-p", proto, "-m", proto, "--dport", portStr}
		if !useExt {
			fExtW.rule(chainExternalServices, append(append(comment(name+rejectReason(port, sel)), dst...), "-j", rejectVerdict(port, sel))...)
			continue
		}
		natSvcW.rule(chainServices, append(append(comment(name+what), dst...), "-j", extChain)...)
	}

	// Node port.
	if port.NodePort != 0 {
		np := strconv.Itoa(int(port.NodePort))
		if !useExt {
			fExtW.rule(chainExternalServices, append(comment(name+rejectReason(port, sel)),
				"-m", "addrtype", "--dst-type", "LOCAL", "-p", proto, "-m", proto, "--dport", np, "-j", rejectVerdict(port, sel))...)
		} else {
			natNPW.rule(chainNodePorts, append(comment(name), "-p", proto, "-m", proto, "--dport", np, "-j", extChain)...)
		}
	}
	if port.HealthCheckNodePort != 0 {
		fNPW.rule(chainNodePorts, append(comment(name+" health check node port"),
			"-m", "tcp", "-p", "tcp", "--dport", strconv.Itoa(int(port.HealthCheckNodePort)), "-j", "ACCEPT")...)
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
					natW.rule(extChain, append(comment("pod traffic for "+name+" external destinations"),
						"-s", c.clusterCIDR.String(), "-j", internalTarget)...)
				}
				natW.rule(extChain, append(comment("masquerade LOCAL traffic for "+name+" external destinations"),
					"-m", "addrtype", "--src-type", "LOCAL", "-j", chainMarkMasq)...)
				natW.rule(extChain, append(comment("route LOCAL traffic for "+name+" external destinations"),
					"-m", "addrtype", "--src-type", "LOCAL", "-j", internalTarget)...)
			}
			natW.rule(extChain, "-j", localChain)
		} else {
			natW.rule(extChain, append(comment("masquerade traffic for "+name+" external destinations"), "-j", chainMarkMasq)...)
			natW.rule(extChain, "-j", svcChain)
		}
	}

	epChains := map[*proxy.Endpoint]string{}
	writeSvcChain := func(chain string, eps []*proxy.Endpoint, masq bool) {
		r.natChains = append(r.natChains, chain)
		if masq {
			for _, ip := range port.ClusterIPs {
				dst := []string{"-d", hostPrefix(ip), "-p", proto, "-m", proto, "--dport", portStr}
				switch {
				case c.masqueradeAll:
					natW.rule(chain, append(append(comment(name+" cluster IP"), dst...), "-j", chainMarkMasq)...)
				case c.clusterCIDR.IsValid():
					natW.rule(chain, append(append(append(comment(name+" cluster IP"), "!", "-s", c.clusterCIDR.String()), dst...), "-j", chainMarkMasq)...)
				}
			}
		}
		if port.AffinityTimeout > 0 {
			for _, ep := range eps {
				sep := endpointChain(port.Name, ep)
				natW.rule(chain, append(comment(name+" -> "+ep.String()),
					"-m", "recent", "--name", sep, "--rcheck", "--seconds", strconv.Itoa(int(port.AffinityTimeout)), "--reap", "-j", sep)...)
			}
		}
		for i, ep := range eps {
			sep := endpointChain(port.Name, ep)
			epChains[ep] = sep
			args := comment(name + " -> " + ep.String())
			if left := len(eps) - i; left > 1 {
				args = append(args, "-m", "statistic", "--mode", "random", "--probability", probability(left))
			}
			natW.rule(chain, append(args, "-j", sep)...)
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
		natW.rule(sep, append(comment(name), "-s", hostPrefix(ep.IP), "-j", chainMarkMasq)...)
		args := append(comment(name), "-p", proto)
		if port.AffinityTimeout > 0 {
			args = append(args, "-m", "recent", "--name", sep, "--set")
		}
		natW.rule(sep, append(args, "-m", proto, "-j", "DNAT", "--to-destination", ep.String())...)
	}

	r.natRules, r.natServices, r.natNodePorts = nat.Bytes(), natSvc.Bytes(), natNP.Bytes()
	r.filterServices, r.filterExternal, r.filterNodePts = fSvc.Bytes(), fExt.Bytes(), fNP.Bytes()
	r.natCount = natW.count + natSvcW.count + natNPW.count
	r.filterCount = fSvcW.count + fExtW.count + fNPW.count
	return r
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
