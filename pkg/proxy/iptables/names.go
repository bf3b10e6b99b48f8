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
	"crypto/sha256"
	"encoding/base32"
	"net/netip"

	corev1 "k8s.io/api/core/v1"

	"signet.dev/signet/pkg/proxy"
)

// Chains kube-proxy owns. The names are upstream kube-proxy's, so that
// operators' tools and habits (iptables-save | grep KUBE-SVC) keep working.
const (
	chainServices         = "KUBE-SERVICES"
	chainExternalServices = "KUBE-EXTERNAL-SERVICES"
	chainNodePorts        = "KUBE-NODEPORTS"
	chainPostrouting      = "KUBE-POSTROUTING"
	chainMarkMasq         = "KUBE-MARK-MASQ"
	chainForward          = "KUBE-FORWARD"

	prefixService  = "KUBE-SVC-"
	prefixLocal    = "KUBE-SVL-"
	prefixExternal = "KUBE-EXT-"
	prefixEndpoint = "KUBE-SEP-"
)

// chainName hashes the parts into a chain name: iptables limits names to
// 28 characters, Service names are longer.
func chainName(prefix string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	sum := h.Sum(nil)
	return prefix + base32.StdEncoding.EncodeToString(sum[:10])[:16]
}

func portChains(pn proxy.ServicePortName) (svc, local, ext string) {
	key := pn.String() + "/" + string(pn.Protocol)
	return chainName(prefixService, key), chainName(prefixLocal, key), chainName(prefixExternal, key)
}

func endpointChain(pn proxy.ServicePortName, ep *proxy.Endpoint) string {
	return chainName(prefixEndpoint, pn.String()+"/"+string(pn.Protocol), ep.String())
}

// protocolArg is the -p value.
func protocolArg(p corev1.Protocol) string {
	switch p {
	case corev1.ProtocolUDP:
		return "udp"
	case corev1.ProtocolSCTP:
		return "sctp"
	}
	return "tcp"
}

// hostPrefix is ip/32 or ip/128.
func hostPrefix(ip netip.Addr) string {
	return netip.PrefixFrom(ip, ip.BitLen()).String()
}
