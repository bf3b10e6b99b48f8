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

// Package nodeagent is the node agent of signet's local cluster: test
// infrastructure that plays kubelet and CNI for one node whose pods are
// network namespaces on this machine.
//
// Run inside a node's network namespace (sharing the machine's mount
// namespace, so that the pods' namespaces are visible to everyone), it
// registers its Node and keeps its Lease renewed; for every Pod bound to
// the node it creates a network namespace joined to the node's bridge by a
// veth pair, gives it an IPv4 and an IPv6 address from the node's pod
// CIDRs, writes its resolv.conf and hosts files, maps its hostPorts with
// iptables and ip6tables, and runs each container as a process in that
// namespace: the built-in test program (signet-testd) or a host program,
// chosen by the container's image. It reports the pod's IPs, phase,
// readiness (from readiness probes against both families) and container
// states; it restarts containers by restart policy; and it honours a
// deletion's grace period before removing the namespace and the Pod.
//
// What it keeps on disk (--state-dir) lets a restarted agent adopt the pods
// it ran and lets --cleanup remove everything it created. See
// docs/local-cluster.md.
package nodeagent
