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

// Package embeddedetcd runs etcd inside signet-apiserver, so that one
// command runs the whole server with its data in one directory. Clusters
// that outgrow one machine use --etcd-servers instead.
package embeddedetcd

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap/zapcore"
	"k8s.io/klog/v2"
)

// startTimeout bounds how long etcd may take to become ready (replaying a
// large WAL after an unclean stop can take a while).
const startTimeout = 2 * time.Minute

// Server is a running embedded etcd.
type Server struct {
	etcd      *embed.Etcd
	clientURL string
}

// Start runs etcd with its data under dataDir, listening for clients and
// peers on free loopback ports only, and waits until it serves.
func Start(ctx context.Context, dataDir string) (*Server, error) {
	logger := klog.FromContext(ctx).WithName("embedded-etcd")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating etcd data directory: %w", err)
	}
	ports, err := freeLoopbackPorts(2)
	if err != nil {
		return nil, err
	}
	clientURL := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))}
	peerURL := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))}

	cfg := embed.NewConfig()
	cfg.Name = "signet"
	cfg.Dir = filepath.Clean(dataDir)
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	// The ports are picked afresh at every start. On a restart etcd keeps
	// the membership it stored and ignores the initial cluster; a single
	// member never dials its own peer URL, so a new peer port is harmless
	// (the restart integration test covers this).
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = zapcore.WarnLevel.String()
	// Keep the history the apiserver compacts anyway bounded on disk.
	cfg.AutoCompactionMode = "periodic"
	cfg.AutoCompactionRetention = "1h"

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting embedded etcd in %s: %w", dataDir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd failed: %w", err)
	case <-time.After(startTimeout):
		e.Close()
		return nil, fmt.Errorf("embedded etcd did not become ready within %v", startTimeout)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	logger.Info("Embedded etcd is serving", "dataDir", dataDir, "client", clientURL.String())
	return &Server{etcd: e, clientURL: clientURL.String()}, nil
}

// ClientURL is the address the apiserver's storage connects to.
func (s *Server) ClientURL() string { return s.clientURL }

// Errors reports etcd failing after start.
func (s *Server) Errors() <-chan error { return s.etcd.Err() }

// Stop shuts etcd down cleanly, flushing its data.
func (s *Server) Stop() { s.etcd.Close() }

func freeLoopbackPorts(n int) ([]int, error) {
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free loopback port for etcd: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
