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

// Package proxy is signet-ingress's data plane: the listeners, the live
// Config (swapped atomically by Update), backend connection pools, health
// checks, TLS certificate selection and the request path that joins them.
//
// # Request path
//
// HTTP/1.x, the common case, has a purpose-built path (http1.go,
// forward.go): one goroutine per client connection reads request heads
// into its own buffer and parses them in place (parse.go), chooses the
// route with routes.Table.Match (400 for a refused path, 404 without a
// route), picks an endpoint round-robin among those that take traffic
// (one atomic increment of the backend's position), and writes the request head and, when it came with the head, the body
// to a pooled keep-alive backend connection in one write. The response
// head is parsed in the backend connection's buffer and written to the
// client, with the body when it is already there, again in one write;
// longer bodies are streamed keeping the backend's framing (body.go).
// Per-connection state is recycled, so a request allocates nothing.
//
// HTTP/2 (TLS with ALPN, or cleartext with prior knowledge) goes to a
// net/http server whose handler (h2.go) routes the same way and forwards
// over HTTP/1.1 through the same pools and health state. Upgrade requests
// (WebSocket) get a connection of their own, spliced both ways after the
// backend's 101 (upgrade.go).
//
// # What survives a Config swap
//
// A Config is replaced as a whole, and the controller builds new Backend
// objects every time, but what must outlast a swap lives in the Proxy,
// keyed by what identifies it across Configs, and goes when an Update no
// longer uses it:
//
//   - connection pools, by endpoint address (pool.go);
//   - health state and its active checker, by endpoint, check settings
//     and the port checked: HealthCheck.Port, or per endpoint
//     ServiceBackend.HealthCheckPorts, for a health-check port whose
//     target port differs between pods (health.go); a change of any of
//     them starts the endpoint healthy under the new check;
//   - round-robin positions, by the backend's Ingress and Name (live.go),
//     so that frequent Updates (slices change often) neither restart every
//     backend at its first endpoint nor give the first endpoints more than
//     their share. When the endpoints change, the position carries on
//     over the new list.
//
// # What the proxy answers itself
//
// 400 (refused path, malformed request), 404 (no route), 405 (static
// backends: GET and HEAD only), 408 (request head too slow), 417, 431
// (head too large), 501 (unsupported Transfer-Encoding), 502 (no endpoint
// could be reached, or a broken response), 503 (no Config yet, an
// unavailable backend, a route without backend, or no healthy endpoint),
// 504 (no response head within ResponseTimeout) and 505. All carry
// Content-Length, Content-Type, Date and Server (replies.go).
//
// # Failures and retries
//
// An endpoint that refuses the connection (or does not accept it within
// DialTimeout) is skipped for the next one, up to every endpoint once;
// with a health check it also counts as a failure toward
// UnhealthyThreshold (health.go). A pooled connection that turns out to
// be dead before any response byte is replaced by a fresh one once,
// when the request can be sent again (no body, or a body that came with
// the head). Nothing else is retried: the request may have had effects.
package proxy
