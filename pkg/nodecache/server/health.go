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

package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/miekg/dns"
	"k8s.io/klog/v2"

	"signet.dev/signet/pkg/nodecache/dnswire"
)

// Handler serves health and readiness over HTTP:
//
//	/health, /healthz  200 while the server is serving DNS, else 503
//	/ready, /readyz    200 while serving and an upstream answered within
//	                   ReadyWindow, else 503
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	health := func(w http.ResponseWriter, _ *http.Request) {
		if !s.serving.Load() {
			http.Error(w, "not serving", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	}
	ready := func(w http.ResponseWriter, _ *http.Request) {
		if !s.serving.Load() {
			http.Error(w, "not serving", http.StatusServiceUnavailable)
			return
		}
		if !s.Ready() {
			http.Error(w, fmt.Sprintf("no upstream answered in the last %v", s.cfg.ReadyWindow), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	}
	mux.HandleFunc("/health", health)
	mux.HandleFunc("/healthz", health)
	mux.HandleFunc("/ready", ready)
	mux.HandleFunc("/readyz", ready)
	return mux
}

// Serving reports whether the server is serving DNS.
func (s *Server) Serving() bool { return s.serving.Load() }

// Ready reports whether the server is serving and an upstream answered within
// ReadyWindow.
func (s *Server) Ready() bool {
	last := s.fwd.LastSuccess()
	return s.serving.Load() && !last.IsZero() && s.clock.Since(last) <= s.cfg.ReadyWindow
}

// keepReady probes the upstream groups whenever none answered for a third of
// ReadyWindow, so an idle node stays ready while its upstreams are up.
func (s *Server) keepReady() {
	defer s.wg.Done()
	period := s.cfg.ReadyWindow / 3
	t := s.clock.NewTicker(period)
	defer t.Stop()
	for first := true; ; first = false {
		if last := s.fwd.LastSuccess(); first && last.IsZero() || !first && s.clock.Since(last) >= period {
			s.probeUpstreams()
		}
		select {
		case <-s.readyCtx.Done():
			return
		case <-t.C():
		}
	}
}

// probeUpstreams asks every group for the SOA of its first zone (NS of the
// root for the default group).
func (s *Server) probeUpstreams() {
	logger := klog.FromContext(s.ctx)
	for _, g := range s.fwd.Groups() {
		zone := g.Zones()[0]
		qtype := dns.TypeSOA
		if zone == "." {
			qtype = dns.TypeNS
		}
		ctx, cancel := context.WithTimeout(s.readyCtx, 2*s.cfg.Forward.Timeout)
		_, err := g.Resolve(ctx, dnswire.Question{Name: zone, Type: qtype, Class: dns.ClassINET})
		cancel()
		if err != nil {
			logger.V(2).Info("Upstream health probe failed", "group", g.Name(), "err", err)
		}
	}
}
