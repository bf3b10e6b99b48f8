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

package proxy

import (
	"crypto/tls"
	"net/netip"
	"time"

	"signet.dev/signet/pkg/ingress/routes"
)

// Config is one immutable snapshot of everything the proxy serves: the
// route table and, for every route in it, where its requests go. The
// controller builds a new Config on every change and hands it to
// Proxy.Update, which publishes it with one atomic swap; requests already
// in flight finish with the Config they started with. Nothing in a Config
// is modified after Update.
type Config struct {
	// Routes chooses the route of a request (host + normalised path).
	Routes *routes.Table
	// Backends holds the backend of every route of Routes, by the route's
	// pointer (routes are stable within their Table). A route without an
	// entry answers 503.
	Backends map[*routes.Route]*Backend
	// TLS holds the serving certificates for the HTTPS listeners.
	TLS TLSConfig
	// Generation identifies the Config for logs and metrics; the
	// controller increments it with every Update.
	Generation int64
	// Changed is when the oldest change folded into this Config was seen
	// by the controller (zero when unknown). The proxy observes the time
	// from Changed to the swap in the change-to-live histogram.
	Changed time.Time
}

// Backend is where the requests of one route go: a Service's endpoints, a
// static resource, or nothing (Unavailable).
type Backend struct {
	// Ingress is "namespace/name" of the Ingress the route comes from, the
	// "ingress" label of request metrics.
	Ingress string
	// Name names the backend in logs and metrics: "namespace/service:port"
	// for a Service port, "namespace/ConfigMap/name" for a resource. With
	// Ingress it also identifies a Service backend across Configs: the
	// round-robin position carries over to the backend of the same
	// Ingress and Name in the next Config.
	Name string

	// Exactly one of Service, Static and Unavailable is set.

	// Service is a Service port resolved to its ready endpoints.
	Service *ServiceBackend
	// Static is a resource backend served from memory (a ConfigMap).
	Static *StaticBackend
	// Unavailable, when not empty, makes every request of the route answer
	// 503; the text says why (for the log, not for the client).
	Unavailable string
}

// ServiceBackend is a Service port resolved to endpoints. The proxy sends
// requests round-robin over the endpoints that are not known to be
// unhealthy; when none is left it answers 503. The round-robin position
// belongs to the Backend's Ingress and Name, not to this object: it
// carries over to the next Config that has a backend of the same Ingress
// and Name, so frequent Updates do not favour the first endpoints.
type ServiceBackend struct {
	// Endpoints are the ready endpoints of the Service, both families, each
	// with the target port of the Ingress's Service port. Sorted, without
	// duplicates.
	Endpoints []netip.AddrPort
	// HealthCheck, when not nil, turns on active HTTP checks of every
	// endpoint (and passive failure counting) as the Ingress's
	// service.healthCheck describes.
	HealthCheck *HealthCheck
	// HealthCheckPorts, when not nil, is parallel to Endpoints: entry i is
	// the port the active check of Endpoints[i] connects to, for checks
	// on a Service port whose target port differs between endpoints. An
	// entry of 0 (or a missing one) means HealthCheck.Port, and when that
	// is 0 too, the endpoint's own port. Ignored without HealthCheck.
	HealthCheckPorts []uint16
}

// HealthCheck is an active HTTP health check, resolved and defaulted.
type HealthCheck struct {
	// Path is the request path (a 2xx or 3xx answer is healthy).
	Path string
	// Port is the endpoint port to check: the target port of the health
	// check's Service port, or 0 for each endpoint's serving port (when
	// the check names none). ServiceBackend.HealthCheckPorts overrides it
	// per endpoint.
	Port uint16
	// Interval between two checks of one endpoint; Timeout of one check.
	Interval time.Duration
	Timeout  time.Duration
	// HealthyThreshold consecutive successes bring a failing endpoint back;
	// UnhealthyThreshold consecutive failures (active, or passive:
	// connection refused while proxying) take it out of the rotation.
	HealthyThreshold   int
	UnhealthyThreshold int
}

// StaticBackend serves the entries of a ConfigMap as files: the request
// path's last element names the key ("index.html" for a path ending in
// "/"), the content type comes from the key's extension. Unknown keys are
// 404.
type StaticBackend struct {
	// Files holds the ConfigMap's data and binaryData by key.
	Files map[string][]byte
}

// TLSConfig is the certificates of the HTTPS listeners, chosen by SNI.
type TLSConfig struct {
	// Certificates by lower-case host name: an exact name ("foo.com") or a
	// wildcard ("*.foo.com", which matches exactly one more label). An
	// exact name wins over a wildcard.
	Certificates map[string]*tls.Certificate
	// SelfSigned lists the hosts named in spec.tls whose Secret is missing
	// or unusable: the proxy serves them a self-signed certificate that
	// carries the host as a DNS name.
	SelfSigned []string
}
