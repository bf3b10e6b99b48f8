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
	"crypto/sha256"
	"encoding/hex"
	"net"
	"strings"

	"k8s.io/apimachinery/pkg/types"
)

const (
	// NetnsAnnotation is the Pod annotation in which the agent records the
	// name of the pod's network namespace, for hack/pod-exec.sh and tests:
	// "ip netns exec <name> COMMAND" runs COMMAND in the pod's network
	// with its resolv.conf.
	NetnsAnnotation = "e2e.signet.dev/netns"

	// vethPrefix starts the node-side name of every pod's veth.
	vethPrefix = "veth"
	// maxLinkName is IFNAMSIZ less the terminating NUL.
	maxLinkName = 15
	// maxNamePart bounds each of the node, namespace and pod names within
	// a network namespace name.
	maxNamePart = 63
	// uidHashLen is how many hex digits of the pod UID's hash end a
	// network namespace name, so that a pod recreated under the same name
	// gets a namespace of its own.
	uidHashLen = 6
)

// NetnsName is the network namespace of a pod:
// <node>_<namespace>_<pod>_<hash of the UID>. Underscores cannot occur
// in Kubernetes names, so the parts stay apart and every namespace of a
// node starts with NetnsPrefix(node).
func NetnsName(node, namespace, pod string, uid types.UID) string {
	return NetnsPrefix(node) + truncate(namespace) + "_" + truncate(pod) + "_" + uidHash(uid)[:uidHashLen]
}

// NetnsPrefix starts the name of every pod network namespace of a node.
func NetnsPrefix(node string) string {
	return truncate(node) + "_"
}

// HostVethName is the node-side end of a pod's veth pair: "veth" and the
// start of the UID's hash, 15 characters, the most a link name holds. The
// pod side is always eth0.
func HostVethName(uid types.UID) string {
	return vethPrefix + uidHash(uid)[:maxLinkName-len(vethPrefix)]
}

// isAgentVeth reports whether a link name is one HostVethName makes.
func isAgentVeth(name string) bool {
	rest, ok := strings.CutPrefix(name, vethPrefix)
	if !ok || len(name) != maxLinkName {
		return false
	}
	_, err := hex.DecodeString(rest + "0") // an odd number of digits
	return err == nil && strings.ToLower(rest) == rest
}

func uidHash(uid types.UID) string {
	sum := sha256.Sum256([]byte(uid))
	return hex.EncodeToString(sum[:])
}

func truncate(s string) string {
	if len(s) > maxNamePart {
		return s[:maxNamePart]
	}
	return s
}

// bridgeMAC is a fixed, locally administered MAC address for the node's
// bridge. A bridge without one takes the lowest MAC of its ports, which
// changes as pods come and go and leaves stale neighbour entries in the
// pods for the gateway.
func bridgeMAC(node string) net.HardwareAddr {
	sum := sha256.Sum256([]byte("bridge/" + node))
	mac := net.HardwareAddr(sum[:6])
	mac[0] = (mac[0] | 0x02) &^ 0x01 // locally administered, unicast
	return mac
}

// podHostname is the hostname of a pod: spec.hostname, else its name, cut
// to a DNS label (63 characters) as kubelet does.
func podHostname(specHostname, name string) string {
	h := specHostname
	if h == "" {
		h = name
	}
	if len(h) > 63 {
		h = strings.TrimRight(h[:63], "-.")
	}
	return h
}
