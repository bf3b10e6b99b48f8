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

// Package proxy holds what every proxier of signet's kube-proxy shares: a
// Service's ports as a proxier programs them, the EndpointSlice cache that
// merges a Service's slices into one list of endpoints per port and
// family, and the choice of the endpoints that traffic may reach from this
// node (readiness, traffic policies, topology keys).
package proxy

import (
	"net/netip"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"signet.dev/signet/pkg/proxy/topology"
)

// ServicePortName names one port of one Service.
type ServicePortName struct {
	types.NamespacedName
	// Port is the port's name ("" for a Service's only, unnamed port).
	Port     string
	Protocol corev1.Protocol
}

// String is "namespace/name:port" (":port" omitted for an unnamed port),
// the form kube-proxy's comments and logs use.
func (n ServicePortName) String() string {
	if n.Port == "" {
		return n.NamespacedName.String()
	}
	return n.NamespacedName.String() + ":" + n.Port
}

// ServicePort is one port of a Service in one address family, as a proxier
// programs it. Its addresses are of that family only.
type ServicePort struct {
	Name     ServicePortName
	Protocol corev1.Protocol
	// Port is the Service port; NodePort is 0 when none is allocated.
	Port     int32
	NodePort int32
	// ClusterIPs are spec.clusterIPs of the family (none for a headless
	// Service, which a proxier skips).
	ClusterIPs []netip.Addr
	// ExternalIPs and LoadBalancerIPs are spec.externalIPs and the
	// status.loadBalancer.ingress IPs of the family.
	ExternalIPs     []netip.Addr
	LoadBalancerIPs []netip.Addr
	// AffinityTimeout is sessionAffinity ClientIP's timeout in seconds; 0
	// means no affinity.
	AffinityTimeout int32
	// ExternalPolicyLocal and InternalPolicyLocal are the traffic policies
	// set to Local.
	ExternalPolicyLocal bool
	InternalPolicyLocal bool
	// HealthCheckNodePort serves the count of local endpoints for load
	// balancers when ExternalPolicyLocal; 0 otherwise.
	HealthCheckNodePort int32
	// TopologyKeys are the Service's topology keys, nil when it has none,
	// when the annotation is invalid (TopologyError says why) or when a
	// Local traffic policy overrides them (TopologyConflict).
	TopologyKeys     []string
	TopologyError    error
	TopologyConflict bool
}

// External reports whether the port is reachable from outside the
// cluster network: by NodePort, external IP or load balancer IP.
func (p *ServicePort) External() bool {
	return p.NodePort != 0 || len(p.ExternalIPs) > 0 || len(p.LoadBalancerIPs) > 0
}

// Equal reports whether two ports program the same rules.
func (p *ServicePort) Equal(o *ServicePort) bool {
	return p.Name == o.Name && p.Protocol == o.Protocol && p.Port == o.Port && p.NodePort == o.NodePort &&
		slices.Equal(p.ClusterIPs, o.ClusterIPs) && slices.Equal(p.ExternalIPs, o.ExternalIPs) &&
		slices.Equal(p.LoadBalancerIPs, o.LoadBalancerIPs) && p.AffinityTimeout == o.AffinityTimeout &&
		p.ExternalPolicyLocal == o.ExternalPolicyLocal && p.InternalPolicyLocal == o.InternalPolicyLocal &&
		p.HealthCheckNodePort == o.HealthCheckNodePort && slices.Equal(p.TopologyKeys, o.TopologyKeys) &&
		p.TopologyConflict == o.TopologyConflict && (p.TopologyError == nil) == (o.TopologyError == nil)
}

// Family returns the address family of an IP.
func Family(ip netip.Addr) corev1.IPFamily {
	if ip.Is4() || ip.Is4In6() {
		return corev1.IPv4Protocol
	}
	return corev1.IPv6Protocol
}

// parseIPs keeps the valid IPs of family, unmapped, in order, without
// duplicates. Bad values are the apiserver's to reject; a proxier ignores
// them.
func parseIPs(values []string, family corev1.IPFamily) []netip.Addr {
	var out []netip.Addr
	for _, v := range values {
		ip, err := netip.ParseAddr(v)
		if err != nil {
			continue
		}
		ip = ip.Unmap()
		if Family(ip) != family || slices.Contains(out, ip) {
			continue
		}
		out = append(out, ip)
	}
	return out
}

// ServicePorts returns the ports of svc that a proxier of family programs:
// none for ExternalName or headless Services, or when the Service has no
// cluster IP of the family.
func ServicePorts(svc *corev1.Service, family corev1.IPFamily) []*ServicePort {
	if svc == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	clusterIPs := svc.Spec.ClusterIPs
	if len(clusterIPs) == 0 && svc.Spec.ClusterIP != "" {
		clusterIPs = []string{svc.Spec.ClusterIP}
	}
	ips := parseIPs(clusterIPs, family)
	if len(ips) == 0 {
		return nil
	}
	external := parseIPs(svc.Spec.ExternalIPs, family)
	var lbValues []string
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		for _, ing := range svc.Status.LoadBalancer.Ingress {
			// An ingress point in proxy mode wants its traffic to reach the
			// load balancer, not be short-circuited on the node.
			if ing.IPMode != nil && *ing.IPMode == corev1.LoadBalancerIPModeProxy {
				continue
			}
			lbValues = append(lbValues, ing.IP)
		}
	}
	lbIPs := parseIPs(lbValues, family)

	var affinity int32
	if svc.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		affinity = corev1.DefaultClientIPServiceAffinitySeconds
		if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
			affinity = *c.ClientIP.TimeoutSeconds
		}
	}
	externalLocal := svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal &&
		(svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer || len(external) > 0)
	internalLocal := svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal

	keys, topoErr := topology.ParseKeys(svc.Annotations[topology.AnnotationKeys])
	conflict := len(keys) > 0 && (externalLocal || internalLocal)
	if conflict {
		keys = nil
	}
	var healthPort int32
	if externalLocal && svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		healthPort = svc.Spec.HealthCheckNodePort
	}

	out := make([]*ServicePort, 0, len(svc.Spec.Ports))
	for _, sp := range svc.Spec.Ports {
		p := &ServicePort{
			Name: ServicePortName{
				NamespacedName: types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name},
				Port:           sp.Name,
				Protocol:       sp.Protocol,
			},
			Protocol:            sp.Protocol,
			Port:                sp.Port,
			ClusterIPs:          ips,
			ExternalIPs:         external,
			LoadBalancerIPs:     lbIPs,
			AffinityTimeout:     affinity,
			ExternalPolicyLocal: externalLocal,
			InternalPolicyLocal: internalLocal,
			HealthCheckNodePort: healthPort,
			TopologyKeys:        keys,
			TopologyError:       topoErr,
			TopologyConflict:    conflict,
		}
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
			p.Name.Protocol = corev1.ProtocolTCP
		}
		if svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			p.NodePort = sp.NodePort
		}
		out = append(out, p)
	}
	return out
}

// Endpoint is one backend of a Service port in one family.
type Endpoint struct {
	IP   netip.Addr
	Port int32
	// Ready, Serving and Terminating are the slice's conditions (an unset
	// ready or serving condition counts as true, as the API says).
	Ready, Serving, Terminating bool
	// NodeName is where the endpoint runs ("" if unknown).
	NodeName string
	// Topology are the endpoint node's label values the controller copied.
	Topology map[string]string
}

// String is "ip:port" ("[ip]:port" for IPv6), the form iptables DNAT takes.
func (e *Endpoint) String() string {
	return netip.AddrPortFrom(e.IP, uint16(e.Port)).String()
}

// TopologyValue implements topology.Endpoint.
func (e *Endpoint) TopologyValue(key string) (string, bool) {
	v, ok := e.Topology[key]
	return v, ok
}

// Equal reports whether two endpoints program the same rules.
func (e *Endpoint) Equal(o *Endpoint) bool {
	if e.IP != o.IP || e.Port != o.Port || e.Ready != o.Ready || e.Serving != o.Serving ||
		e.Terminating != o.Terminating || e.NodeName != o.NodeName || len(e.Topology) != len(o.Topology) {
		return false
	}
	for k, v := range e.Topology {
		if w, ok := o.Topology[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Selection is the endpoints of one Service port that traffic from this
// node may reach.
type Selection struct {
	// Cluster are the usable endpoints anywhere in the cluster, narrowed
	// by the topology keys when the port has them. Traffic that is not
	// restricted to this node by a Local traffic policy goes to them.
	Cluster []*Endpoint
	// Local are the usable endpoints on this node, for Local traffic
	// policies.
	Local []*Endpoint
	// TopologyKey is the key that selected Cluster ("" when topology did
	// not apply or selected nothing).
	TopologyKey string
	// Usable is how many endpoints could serve at all (ready, or serving
	// and terminating when none is ready), before locality and topology.
	Usable int
}

// Internal returns the endpoints for traffic to the cluster IPs.
func (s *Selection) Internal(p *ServicePort) []*Endpoint {
	if p.InternalPolicyLocal {
		return s.Local
	}
	return s.Cluster
}

// External returns the endpoints for traffic to node ports, external IPs
// and load balancer IPs.
func (s *Selection) External(p *ServicePort) []*Endpoint {
	if p.ExternalPolicyLocal {
		return s.Local
	}
	return s.Cluster
}

// usable returns the ready endpoints, or when there are none, the serving
// terminating ones: a terminating pod still serving is better than a
// connection refused, but only while nothing else can serve.
func usable(eps []*Endpoint) []*Endpoint {
	var ready, terminating []*Endpoint
	for _, e := range eps {
		switch {
		case e.Ready:
			ready = append(ready, e)
		case e.Serving && e.Terminating:
			terminating = append(terminating, e)
		}
	}
	if len(ready) > 0 {
		return ready
	}
	return terminating
}

// Select chooses the endpoints of port for a node named nodeName with
// nodeLabels. Readiness comes first: topology keys choose among the ready
// endpoints (or among the serving terminating ones when none is ready),
// and the Local set prefers ready local endpoints in the same way.
func Select(port *ServicePort, eps []*Endpoint, nodeName string, nodeLabels map[string]string) Selection {
	var local []*Endpoint
	for _, e := range eps {
		if e.NodeName != "" && e.NodeName == nodeName {
			local = append(local, e)
		}
	}
	all := usable(eps)
	sel := Selection{Local: usable(local), Usable: len(all)}
	sel.Cluster, sel.TopologyKey = topology.Filter(port.TopologyKeys, nodeLabels, all)
	return sel
}

// portKey identifies an endpoint within one Service port.
func portKey(ip netip.Addr, port int32) string {
	return ip.String() + "#" + strconv.Itoa(int(port))
}

// sortEndpoints orders endpoints by address then port, so that rules come
// out the same for the same input.
func sortEndpoints(eps []*Endpoint) {
	slices.SortFunc(eps, func(a, b *Endpoint) int {
		if c := a.IP.Compare(b.IP); c != 0 {
			return c
		}
		return int(a.Port) - int(b.Port)
	})
}
