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
	"github.com/miekg/dns"
	"k8s.io/apimachinery/pkg/util/validation"

	"signet.dev/signet/pkg/proxy/topology"
)

// NodeNameOption is the EDNS0 option code under which node-cache sends the
// name of its node with every query it forwards to cluster DNS: the first
// code of the local/experimental range (RFC 6891 section 9), its data the
// node name in ASCII, without length prefix or terminator.
const NodeNameOption = 65001

// NodeLabelsFunc returns the labels of the Node of the given name, and
// whether such a Node is known.
type NodeLabelsFunc func(nodeName string) (labels map[string]string, known bool)

// Results of the node-name option, the values of the result label of
// cluster_dns_node_option_total.
const (
	nodeOptionKnown   = "known"
	nodeOptionUnknown = "unknown_node"
	nodeOptionInvalid = "invalid"
)

// Results of topology, the values of the result label of
// cluster_dns_topology_answers_total.
const (
	topologyFiltered = "filtered" // a node label key selected the endpoints
	topologyAll      = "all"      // "*" selected every endpoint
	topologyNone     = "none"     // no key matched: no endpoint for this node
	topologyNoNode   = "no_node"  // the query carries no node name: every endpoint
)

// client is what the handler knows of who asks: the node node-cache tagged
// the query with, and that node's labels, looked up on first use.
type client struct {
	node    string
	hasNode bool

	looked bool
	labels map[string]string
}

// nodeFromQuery returns the node name the query carries in option
// NodeNameOption. A value that is not a valid node name counts as no
// option; the second result says whether the option was there at all.
func nodeFromQuery(r *dns.Msg) (name string, present bool, valid bool) {
	opt := r.IsEdns0()
	if opt == nil {
		return "", false, false
	}
	for _, o := range opt.Option {
		l, ok := o.(*dns.EDNS0_LOCAL)
		if !ok || l.Code != NodeNameOption {
			continue
		}
		name = string(l.Data)
		return name, true, len(validation.IsDNS1123Subdomain(name)) == 0
	}
	return "", false, false
}

// selectEndpoints returns the endpoints of a headless Service that answer
// its name for the client: with topology keys and a node name, those
// kube-proxy on that node would pick, family by family (kube-proxy runs one
// proxier per family); otherwise all of them.
func (h *Handler) selectEndpoints(e *serviceEntry, c *client) []*endpoint {
	if len(e.TopologyKeys) == 0 {
		return e.Endpoints
	}
	if !c.hasNode {
		h.metrics.topology(topologyNoNode)
		return e.Endpoints
	}
	if !c.looked {
		c.looked = true
		var known bool
		c.labels, known = h.nodeLabels(c.node)
		if known {
			h.metrics.nodeOption(nodeOptionKnown)
		} else {
			// An unknown node has no labels: only "*" matches.
			h.metrics.nodeOption(nodeOptionUnknown)
		}
	}
	var v4, v6 []*endpoint
	for _, ep := range e.Endpoints {
		if ep.Addr.Is4() {
			v4 = append(v4, ep)
		} else {
			v6 = append(v6, ep)
		}
	}
	sel4, key4 := topology.Filter(e.TopologyKeys, c.labels, v4)
	sel6, key6 := topology.Filter(e.TopologyKeys, c.labels, v6)
	out := make([]*endpoint, 0, len(sel4)+len(sel6))
	out = append(append(out, sel4...), sel6...)
	switch {
	case len(out) == 0:
		h.metrics.topology(topologyNone)
	case (key4 != "" && key4 != topology.Any) || (key6 != "" && key6 != topology.Any):
		h.metrics.topology(topologyFiltered)
	default:
		h.metrics.topology(topologyAll)
	}
	return out
}
