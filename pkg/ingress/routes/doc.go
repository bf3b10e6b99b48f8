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

// Package routes turns the Ingresses of signet-ingress's classes into an
// immutable route table and answers, for one request, which Ingress path
// (or default backend) serves it.
//
// The matching contract is written for users in docs/ingress.md; this
// package is its implementation. In short:
//
//   - Hosts: the Host header is compared case-insensitively, without its
//     port (also for bracketed IPv6 literals) and without one trailing dot.
//     Rules are consulted in three tiers: rules whose host equals the
//     request host, then rules whose wildcard host (*.foo.com) matches it
//     with exactly one extra label, then rules without host. The first tier
//     with a matching path decides; a request no rule matches goes to the
//     default backend, if any.
//   - Paths, within a tier: Exact compares the normalised request path
//     literally; Prefix compares path elements split on "/", a trailing
//     slash ignored on both sides; ImplementationSpecific is an RE2
//     expression anchored at the start of the path. The path with the most
//     elements wins; on a tie Exact beats Prefix beats
//     ImplementationSpecific; among expressions the longer pattern wins,
//     then the older Ingress.
//   - Requests are matched on the percent-decoded path with dot-segments
//     removed (see NormalizePath), never on the query. The proxy forwards
//     the path exactly as the client sent it.
//   - Ingresses merge. Two definitions of one host, path and path type, or
//     two default backends, are a Conflict: the older Ingress wins (ties
//     broken by namespace, then name).
//
// Build is deterministic: the same Ingresses give the same table and the
// same conflicts in any input order. A Table is never modified after Build,
// so a proxy can publish a new one with an atomic.Pointer and keep serving
// lookups from the old one until the swap. Lookup does not allocate.
package routes
