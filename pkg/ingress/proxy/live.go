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
	"mime"
	"path"
	"strconv"
	"strings"
	"sync/atomic"

	"signet.dev/signet/pkg/ingress/routes"
)

// liveConfig is a Config prepared for serving: every route resolved to its
// runtime backend, whose endpoints point straight at their connection pool
// and health state. It is built once per Update and, like the Config, never
// changes afterwards (only the round-robin counters and health flags it
// points to do; those live in the Proxy and carry over to the next
// liveConfig).
type liveConfig struct {
	cfg    *Config
	routes *routes.Table
	// backends holds the runtime backend of every route of the table.
	backends map[*routes.Route]*backendRT
	// services lists the Service backends, for health metrics.
	services []*backendRT
	// noRoute counts the requests no route matches.
	noRoute *backendRT
	// certs and selfSigned serve GetCertificate.
	certs      *certSelector
	generation int64
}

// backendKind says how a route's requests are answered.
type backendKind uint8

const (
	kindUnavailable backendKind = iota
	kindService
	kindStatic
)

// backendRT is a Backend prepared for serving.
type backendRT struct {
	kind backendKind
	// name and ingress are the metric labels (and log keys).
	name, ingress string
	// reason is why an unavailable backend is unavailable.
	reason string

	endpoints []*endpointRT
	// rr is the round-robin position over endpoints, shared with the
	// backends of the same name in earlier and later Configs (rrSet).
	rr *rrCounter

	files map[string]*staticFile

	m *backendMetrics
}

// endpointRT is one endpoint of a Service backend.
type endpointRT struct {
	hostport string
	pool     *pool
	// health is the shared state of the endpoint's health check, nil when
	// the backend has none.
	health *healthState
}

// rrCounter is the round-robin position of a Service backend, alone on
// its cache line: every request of the backend increments it.
type rrCounter struct {
	atomic.Uint32
	_ [60]byte
}

// rrKey identifies a Service backend across Configs: the controller builds
// new Backend objects on every change, but the Ingress and Name of one
// backend stay the same. (Backends of different Ingresses get positions of
// their own, so that requests alternating between them cannot skew
// either.)
type rrKey struct{ ingress, name string }

// rrSet holds the round-robin positions of the Service backends of the
// live Config, so that a Config swap does not restart every backend at its
// first endpoint. Only Update uses it, under Proxy.updateMu; requests only
// touch the counters.
type rrSet struct {
	m map[rrKey]*rrCounter
}

// get returns the counter of k, creating it.
func (s *rrSet) get(k rrKey) *rrCounter {
	if s.m == nil {
		s.m = map[rrKey]*rrCounter{}
	}
	c := s.m[k]
	if c == nil {
		c = &rrCounter{}
		s.m[k] = c
	}
	return c
}

// retain forgets the counters of the backends services does not list.
// Requests still running on an older Config keep theirs.
func (s *rrSet) retain(services []*backendRT) {
	keep := make(map[rrKey]bool, len(services))
	for _, b := range services {
		keep[rrKey{b.ingress, b.name}] = true
	}
	for k := range s.m {
		if !keep[k] {
			delete(s.m, k)
		}
	}
}

// usable reports whether the endpoint takes traffic.
func (e *endpointRT) usable() bool { return e.health == nil || e.health.healthy.Load() }

// staticFile is one entry of a static backend with its response head
// precomputed up to the Date field.
type staticFile struct {
	body []byte
	// head is "HTTP/1.1 200 OK" and the fields that do not change.
	head        []byte
	contentType string
}

// backendFor returns the runtime backend of a matched route.
func (lc *liveConfig) backendFor(r *routes.Route) *backendRT {
	if b := lc.backends[r]; b != nil {
		return b
	}
	// Routes come from lc.routes, so this only happens for a route the
	// table does not list; answer 503 as for a route without Backend.
	return lc.noRoute
}

// buildLive prepares cfg; want collects the health checks it needs.
func (p *Proxy) buildLive(cfg *Config, want map[healthKey]bool) *liveConfig {
	keep := map[[2]string]bool{}
	lc := &liveConfig{
		cfg:        cfg,
		routes:     cfg.Routes,
		backends:   map[*routes.Route]*backendRT{},
		generation: cfg.Generation,
		certs:      newCertSelector(&cfg.TLS),
	}
	lc.noRoute = &backendRT{kind: kindUnavailable, reason: "no route", m: p.metrics.forBackend("", "", keep)}
	byBackend := map[*Backend]*backendRT{}
	for _, r := range cfg.Routes.Routes() {
		b := cfg.Backends[r]
		if b == nil {
			ing := r.Ingress.String()
			lc.backends[r] = &backendRT{
				kind:    kindUnavailable,
				ingress: ing,
				reason:  "the route has no backend",
				m:       p.metrics.forBackend(ing, "", keep),
			}
			continue
		}
		rt := byBackend[b]
		if rt == nil {
			rt = p.buildBackend(b, keep, want)
			byBackend[b] = rt
			if rt.kind == kindService {
				lc.services = append(lc.services, rt)
			}
		}
		lc.backends[r] = rt
	}
	p.metrics.prune(keep)
	return lc
}

func (p *Proxy) buildBackend(b *Backend, keep map[[2]string]bool, want map[healthKey]bool) *backendRT {
	rt := &backendRT{name: b.Name, ingress: b.Ingress, m: p.metrics.forBackend(b.Ingress, b.Name, keep)}
	switch {
	case b.Unavailable != "":
		rt.kind, rt.reason = kindUnavailable, b.Unavailable
	case b.Static != nil:
		rt.kind = kindStatic
		rt.files = make(map[string]*staticFile, len(b.Static.Files))
		for k, v := range b.Static.Files {
			rt.files[k] = newStaticFile(k, v)
		}
	case b.Service != nil:
		rt.kind = kindService
		hcPorts := b.Service.HealthCheckPorts
		for i, ap := range b.Service.Endpoints {
			ep := &endpointRT{hostport: ap.String(), pool: p.pools.get(ap.String())}
			if hc := b.Service.HealthCheck; hc != nil {
				var port uint16
				if i < len(hcPorts) {
					port = hcPorts[i]
				}
				k := newHealthKey(ap, hc, port)
				want[k] = true
				ep.health = p.health.state(k)
			}
			rt.endpoints = append(rt.endpoints, ep)
		}
		if len(rt.endpoints) == 0 {
			rt.kind, rt.reason = kindUnavailable, "the Service has no ready endpoints"
			break
		}
		rt.rr = p.rr.get(rrKey{rt.ingress, rt.name})
	default:
		rt.kind, rt.reason = kindUnavailable, "the backend is empty"
	}
	return rt
}

// newStaticFile precomputes the response of one ConfigMap key: the content
// type comes from the key's extension.
func newStaticFile(key string, body []byte) *staticFile {
	ct := mime.TypeByExtension(path.Ext(key))
	if ct == "" {
		ct = "application/octet-stream"
	}
	var h strings.Builder
	h.WriteString("HTTP/1.1 200 OK\r\nServer: signet-ingress\r\nContent-Type: ")
	h.WriteString(ct)
	h.WriteString("\r\nContent-Length: ")
	h.WriteString(strconv.Itoa(len(body)))
	h.WriteString("\r\n")
	return &staticFile{body: body, head: []byte(h.String()), contentType: ct}
}
