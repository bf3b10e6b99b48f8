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

// Package clusterdns is signet's cluster DNS: it answers the Kubernetes
// DNS-Based Service Discovery specification (schema 1.1.0) for one cluster
// domain from Services (core/v1) and signet EndpointSlices
// (discovery.signet.dev/v1), and answers headless Services with topology
// keys with the endpoints kube-proxy would pick on the querying node.
//
// The pieces, each with one job:
//
//   - Store holds what the answers are made of, indexed by Service, by
//     namespace and by address (for PTR). It is built from objects by pure
//     functions (buildService) and updated one Service at a time.
//   - Sources keeps a Store in step with the Service, EndpointSlice and Node
//     informers, and reports when the first full state is in.
//   - Handler is a miekg/dns handler that turns a query into an answer from
//     the Store: names, NXDOMAIN versus NODATA, SRV, PTR, CNAME, EDNS0 and
//     truncation, and topology for queries tagged with a node name by
//     node-cache (EDNS0 option NodeNameOption).
//   - Server listens on UDP and TCP on every configured address and serves
//     health and readiness over HTTP.
//
// See README.md for the behaviour in detail and docs/cluster-dns.md for the
// command.
package clusterdns
