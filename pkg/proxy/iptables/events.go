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
	"context"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"signet.dev/signet/pkg/proxy"
	"signet.dev/signet/pkg/proxy/conntrack"
	"signet.dev/signet/pkg/proxy/topology"
)

// Event reasons kube-proxy records on Services.
const (
	ReasonInvalidTopologyKeys  = "InvalidTopologyKeys"
	ReasonTopologyKeysConflict = "TopologyKeysConflict"
)

// noteTopology logs and records, once per change, that a Service's
// topology keys are invalid or overridden by a Local traffic policy.
func (p *Proxier) noteTopology(logger klog.Logger, svc *corev1.Service, port *proxy.ServicePort) {
	name := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	var reason, msg string
	switch {
	case port.TopologyError != nil:
		reason = ReasonInvalidTopologyKeys
		msg = port.TopologyError.Error() + "; topology keys are ignored"
	case port.TopologyConflict:
		reason = ReasonTopologyKeysConflict
		msg = topology.AnnotationKeys + " is ignored: a Local traffic policy already decides which endpoints serve"
	}
	if p.topologyNote[name] == msg {
		return
	}
	if msg == "" {
		delete(p.topologyNote, name)
		return
	}
	p.topologyNote[name] = msg
	logger.Info("Service topology keys not applied", "service", klog.KObj(svc), "reason", reason, "message", msg)
	if p.cfg.Recorder != nil {
		p.cfg.Recorder.Event(svc, corev1.EventTypeWarning, reason, msg)
	}
}

// updateTopologyMetrics counts, over Services with topology keys, the
// endpoints the keys selected for this node and all usable ones.
func (p *Proxier) updateTopologyMetrics() {
	selected, total := 0, 0
	for _, sr := range p.programmed {
		for _, pr := range sr.ports {
			if len(pr.port.TopologyKeys) == 0 {
				continue
			}
			selected += len(pr.sel.Cluster)
			total += pr.sel.Usable
		}
	}
	p.cfg.Metrics.TopologyEndpoints.WithLabelValues(p.familyL, "selected").Set(float64(selected))
	p.cfg.Metrics.TopologyEndpoints.WithLabelValues(p.familyL, "total").Set(float64(total))
}

// syncHealth gives the health-check server the Services with a
// health-check node port and their local endpoint counts.
func (p *Proxier) syncHealth(logger klog.Logger) {
	if p.cfg.HealthServer == nil {
		return
	}
	ports := map[types.NamespacedName]int32{}
	local := map[types.NamespacedName]int{}
	for name, sr := range p.programmed {
		for _, pr := range sr.ports {
			if pr.port.HealthCheckNodePort != 0 {
				ports[name] = pr.port.HealthCheckNodePort
				local[name] = len(pr.sel.Local)
			}
		}
	}
	if err := p.cfg.HealthServer.SyncServices(ports); err != nil {
		logger.Error(err, "Serving health-check node ports")
	}
	if err := p.cfg.HealthServer.SyncEndpoints(local); err != nil {
		logger.Error(err, "Updating health-check node port endpoint counts")
	}
}

// clearConntrack deletes the UDP conntrack entries the sync made stale:
// entries DNATed to an endpoint that no longer serves, and entries to a
// Service address that had no endpoint (the packets were rejected, and
// the entry would keep them from being DNATed now that one exists).
func (p *Proxier) clearConntrack(ctx context.Context, logger klog.Logger, prev, next map[types.NamespacedName]*serviceRules) {
	if p.cfg.Conntrack == nil {
		return
	}
	var filters []conntrack.Filter
	for name, sr := range next {
		filters = append(filters, udpStaleFilters(prev[name], sr)...)
	}
	for _, f := range filters {
		n, err := p.cfg.Conntrack.Delete(ctx, p.family, f)
		if err != nil {
			p.cfg.Metrics.ConntrackErrors.WithLabelValues(p.familyL).Inc()
			logger.Error(err, "Deleting stale conntrack entries", "filter", f.String())
			continue
		}
		p.cfg.Metrics.ConntrackDeletions.WithLabelValues(p.familyL).Add(float64(n))
		if n > 0 {
			logger.V(2).Info("Deleted stale conntrack entries", "filter", f.String(), "entries", n)
		}
	}
}

// udpStaleFilters compares what a Service's UDP ports served before and
// after a sync.
func udpStaleFilters(prev, cur *serviceRules) []conntrack.Filter {
	if prev == nil {
		return nil
	}
	curPorts := map[proxy.ServicePortName]*portRules{}
	if cur != nil {
		for _, pr := range cur.ports {
			curPorts[pr.port.Name] = pr
		}
	}
	var out []conntrack.Filter
	for _, was := range prev.ports {
		if was.port.Protocol != corev1.ProtocolUDP {
			continue
		}
		now := curPorts[was.port.Name]
		before := servingSet(was)
		after := map[netip.Addr]bool{}
		if now != nil {
			after = servingSet(now)
		}
		for ip := range before {
			if after[ip] {
				continue
			}
			for _, addr := range serviceAddrs(was.port) {
				out = append(out, conntrack.Filter{Protocol: corev1.ProtocolUDP, OrigDst: addr, OrigDstPort: was.port.Port, DNATDst: ip})
			}
			if was.port.NodePort != 0 {
				out = append(out, conntrack.Filter{Protocol: corev1.ProtocolUDP, OrigDstPort: was.port.NodePort, DNATDst: ip})
			}
		}
		if len(before) == 0 && now != nil && len(after) > 0 {
			for _, addr := range serviceAddrs(now.port) {
				out = append(out, conntrack.Filter{Protocol: corev1.ProtocolUDP, OrigDst: addr, OrigDstPort: now.port.Port})
			}
			if now.port.NodePort != 0 {
				out = append(out, conntrack.Filter{Protocol: corev1.ProtocolUDP, OrigDstPort: now.port.NodePort})
			}
		}
	}
	return out
}

// servingSet are the endpoint IPs a port sends traffic to.
func servingSet(pr *portRules) map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	for _, e := range pr.sel.Internal(pr.port) {
		out[e.IP] = true
	}
	if pr.port.External() {
		for _, e := range pr.sel.External(pr.port) {
			out[e.IP] = true
		}
	}
	return out
}

func serviceAddrs(port *proxy.ServicePort) []netip.Addr {
	out := append([]netip.Addr(nil), port.ClusterIPs...)
	out = append(out, port.ExternalIPs...)
	return append(out, port.LoadBalancerIPs...)
}
