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

package healthcheck

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
)

// ReasonFailedToStartHealthCheck is the reason of the Warning event
// recorded on a Service whose health-check node port cannot be opened.
const ReasonFailedToStartHealthCheck = "FailedToStartServiceHealthcheck"

// ServiceHealthConfig configures a ServiceHealthServer.
type ServiceHealthConfig struct {
	// NodeName is this node's name, for events.
	NodeName string
	// Network is "tcp4" for an IPv4 proxier's server, "tcp6" for an IPv6
	// one, or "tcp" for both; "" means "tcp".
	Network string
	// Addresses are the local IPs to listen on; empty means every address
	// of Network (0.0.0.0, ::).
	Addresses []netip.Addr
	// Listen opens a listener; nil means net.Listen. Tests give one that
	// listens on 127.0.0.1:0 whatever the address asked for.
	Listen func(network, address string) (net.Listener, error)
	// Healthy, when set, is asked on every request: while it reports false
	// (kube-proxy's rules are stale) every Service answers 503, so that
	// load balancers move traffic away from this node.
	Healthy func() bool
	// Recorder records a Warning event on a Service whose health-check
	// node port cannot be opened; nil records none.
	Recorder record.EventRecorder
	// Logger logs openings, closings and failures; the zero value means
	// klog's global logger.
	Logger klog.Logger
}

// ServiceHealthServer serves the health-check node ports of Services with
// externalTrafficPolicy Local, for the load balancers in front of them: a
// GET on any path answers 200 while the Service has endpoints on this
// node and 503 when it has none, with the JSON body
//
//	{"service": {"namespace": "ns", "name": "svc"}, "localEndpoints": 2}
//
// It implements the proxier's iptables.HealthServer: SyncServices opens a
// listener per health-check node port (on every address given, or on all
// of them) and closes those of Services that went away or changed port;
// SyncEndpoints sets the counts. A port that cannot be opened is retried
// on the next SyncServices.
type ServiceHealthServer struct {
	cfg ServiceHealthConfig

	mu       sync.RWMutex
	services map[types.NamespacedName]*serviceListener
	counts   map[types.NamespacedName]int
}

// serviceListener is the servers of one Service's health-check node port.
type serviceListener struct {
	port    int32
	servers []*http.Server
}

// NewServiceHealthServer returns a server with no Services.
func NewServiceHealthServer(cfg ServiceHealthConfig) *ServiceHealthServer {
	if cfg.Network == "" {
		cfg.Network = "tcp"
	}
	if cfg.Listen == nil {
		cfg.Listen = net.Listen
	}
	if cfg.Logger.GetSink() == nil {
		cfg.Logger = klog.Background()
	}
	return &ServiceHealthServer{
		cfg:      cfg,
		services: map[types.NamespacedName]*serviceListener{},
		counts:   map[types.NamespacedName]int{},
	}
}

// listenAddresses are the host:port strings to listen on for port.
func (s *ServiceHealthServer) listenAddresses(port int32) []string {
	p := strconv.Itoa(int(port))
	if len(s.cfg.Addresses) == 0 {
		host := ""
		switch s.cfg.Network {
		case "tcp4":
			host = "0.0.0.0"
		case "tcp6":
			host = "::"
		}
		return []string{net.JoinHostPort(host, p)}
	}
	out := make([]string, 0, len(s.cfg.Addresses))
	for _, a := range s.cfg.Addresses {
		out = append(out, net.JoinHostPort(a.String(), p))
	}
	return out
}

// SyncServices makes ports the set of Services served: it opens the
// health-check node ports that are new, and closes those of Services not
// in ports or whose port changed. It returns the ports it could not open.
func (s *ServiceHealthServer) SyncServices(ports map[types.NamespacedName]int32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, l := range s.services {
		if port, ok := ports[name]; ok && port == l.port {
			continue
		}
		s.cfg.Logger.V(2).Info("Closing health-check node port", "service", name, "port", l.port)
		l.close()
		delete(s.services, name)
	}
	var errs []error
	for _, name := range sortedNames(ports) {
		if _, ok := s.services[name]; ok {
			continue
		}
		port := ports[name]
		l, err := s.open(name, port)
		if err != nil {
			msg := fmt.Sprintf("node %s failed to open the health-check node port %d: %v", s.cfg.NodeName, port, err)
			if s.cfg.Recorder != nil {
				s.cfg.Recorder.Event(&corev1.ObjectReference{
					APIVersion: "v1", Kind: "Service", Namespace: name.Namespace, Name: name.Name,
				}, corev1.EventTypeWarning, ReasonFailedToStartHealthCheck, msg)
			}
			errs = append(errs, fmt.Errorf("service %s: health-check node port %d: %w", name, port, err))
			continue
		}
		s.cfg.Logger.V(2).Info("Opened health-check node port", "service", name, "port", port)
		s.services[name] = l
	}
	return errors.Join(errs...)
}

// open listens on port on every address and serves name's health; on
// failure nothing stays open.
func (s *ServiceHealthServer) open(name types.NamespacedName, port int32) (*serviceListener, error) {
	l := &serviceListener{port: port}
	handler := serviceHandler{name: name, s: s}
	for _, addr := range s.listenAddresses(port) {
		ln, err := s.cfg.Listen(s.cfg.Network, addr)
		if err != nil {
			l.close()
			return nil, err
		}
		srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
		l.servers = append(l.servers, srv)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.cfg.Logger.Error(err, "Health-check node port stopped serving", "service", name, "address", ln.Addr().String())
			}
		}()
	}
	return l, nil
}

func (l *serviceListener) close() {
	for _, srv := range l.servers {
		_ = srv.Close()
	}
}

// SyncEndpoints sets the count of local endpoints of every Service; a
// Service not in counts has none.
func (s *ServiceHealthServer) SyncEndpoints(counts map[types.NamespacedName]int) error {
	next := make(map[types.NamespacedName]int, len(counts))
	for name, n := range counts {
		next[name] = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = next
	return nil
}

// Close closes every health-check node port; the server is then empty and
// may be synced again.
func (s *ServiceHealthServer) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, l := range s.services {
		l.close()
		delete(s.services, name)
	}
}

// localEndpoints returns a Service's count and whether it is served.
func (s *ServiceHealthServer) localEndpoints(name types.NamespacedName) (int, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, served := s.services[name]
	return s.counts[name], served
}

// serviceHandler answers one Service's health checks.
type serviceHandler struct {
	name types.NamespacedName
	s    *ServiceHealthServer
}

// serviceHealth is the body of a health-check node port's answer.
type serviceHealth struct {
	Service struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"service"`
	LocalEndpoints int `json:"localEndpoints"`
}

func (h serviceHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	count, served := h.s.localEndpoints(h.name)
	if !served {
		// A request that raced with the port's closing.
		count = 0
	}
	var body serviceHealth
	body.Service.Namespace, body.Service.Name = h.name.Namespace, h.name.Name
	body.LocalEndpoints = count
	code := http.StatusOK
	if count == 0 || (h.s.cfg.Healthy != nil && !h.s.cfg.Healthy()) {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, body)
}

func sortedNames(m map[types.NamespacedName]int32) []types.NamespacedName {
	out := make([]types.NamespacedName, 0, len(m))
	for name := range m {
		out = append(out, name)
	}
	slices.SortFunc(out, func(a, b types.NamespacedName) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	return out
}
