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
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/klog/v2"
)

// healthKey identifies one health check of one endpoint. Two backends with
// the same endpoint and the same check share it, and its state survives
// Config swaps as long as both stay the same: the endpoint, the check's
// settings and the port it connects to.
type healthKey struct {
	// addr is the serving address of the endpoint.
	addr netip.AddrPort
	// port is the port the check connects to, resolved: never 0.
	port uint16
	// check is the check's settings; its Port is always 0 (see port), so
	// that checks that resolve to the same port share their state however
	// the port was given.
	check HealthCheck
}

// newHealthKey returns the key of check hc of the endpoint addr. port is
// the endpoint's entry of ServiceBackend.HealthCheckPorts (0 when it has
// none); the check connects to it, else to hc.Port, else to addr's port.
func newHealthKey(addr netip.AddrPort, hc *HealthCheck, port uint16) healthKey {
	k := healthKey{addr: addr, port: port, check: *hc}
	if k.port == 0 {
		k.port = hc.Port
	}
	if k.port == 0 {
		k.port = addr.Port()
	}
	k.check.Port = 0
	return k
}

// target is the address the check connects to: the endpoint's IP with the
// check's port.
func (k healthKey) target() string {
	return netip.AddrPortFrom(k.addr.Addr(), k.port).String()
}

// healthState is whether one endpoint takes traffic under one check.
// Endpoints start healthy; unhealthy consecutive failures (active checks,
// or refused connections while proxying) take the endpoint out of the
// rotation, healthy consecutive successes bring it back.
type healthState struct {
	key     healthKey
	healthy atomic.Bool

	mu sync.Mutex
	// fails and oks count consecutive failures and successes.
	fails, oks int
	// stop ends the active checker, nil when none runs.
	stop context.CancelFunc
}

// record counts one result and changes the state when a threshold is met.
func (s *healthState) record(ok bool, source string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hc := &s.key.check
	if ok {
		s.fails = 0
		s.oks++
		if !s.healthy.Load() && s.oks >= max(hc.HealthyThreshold, 1) {
			s.healthy.Store(true)
			klog.InfoS("Endpoint is healthy again", "endpoint", s.key.addr, "check", s.key.target()+hc.Path, "successes", s.oks)
		}
		return
	}
	s.oks = 0
	s.fails++
	if s.healthy.Load() && s.fails >= max(hc.UnhealthyThreshold, 1) {
		s.healthy.Store(false)
		klog.InfoS("Endpoint is unhealthy, taking it out of rotation", "endpoint", s.key.addr,
			"check", s.key.target()+hc.Path, "failures", s.fails, "source", source, "err", err)
	}
}

// healthManager runs one active checker per healthState of the live
// Config while the Proxy runs.
type healthManager struct {
	mu     sync.Mutex
	states map[healthKey]*healthState
	// ctx is the Proxy's run context; nil while not running.
	ctx context.Context
	wg  sync.WaitGroup
}

// state returns the state of k, creating it (healthy) when new.
func (m *healthManager) state(k healthKey) *healthState {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.states == nil {
		m.states = map[healthKey]*healthState{}
	}
	s := m.states[k]
	if s == nil {
		s = &healthState{key: k}
		s.healthy.Store(true)
		m.states[k] = s
	}
	return s
}

// sync keeps the states in want, stopping the checkers of the others, and
// starts the missing checkers when running.
func (m *healthManager) sync(want map[healthKey]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, s := range m.states {
		if !want[k] {
			if s.stop != nil {
				s.stop()
			}
			delete(m.states, k)
		}
	}
	m.startLocked()
}

// start runs the checkers until stop.
func (m *healthManager) start(ctx context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ctx = ctx
	m.startLocked()
}

func (m *healthManager) startLocked() {
	if m.ctx == nil {
		return
	}
	for _, s := range m.states {
		if s.stop != nil {
			continue
		}
		ctx, cancel := context.WithCancel(m.ctx)
		s.stop = cancel
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			runChecker(ctx, s)
		}()
	}
}

// stop ends all checkers and waits for them.
func (m *healthManager) stop() {
	m.mu.Lock()
	m.ctx = nil
	for _, s := range m.states {
		if s.stop != nil {
			s.stop()
			s.stop = nil
		}
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// runChecker checks s's endpoint every interval until ctx is done; the
// first check runs at once.
func runChecker(ctx context.Context, s *healthState) {
	hc := s.key.check
	interval := hc.Interval
	if interval <= 0 {
		interval = 10 * time.Second
	}
	klog.V(2).InfoS("Starting health checks", "endpoint", s.key.addr, "check", s.key.target()+hc.Path, "interval", interval)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		err := checkOnce(ctx, s.key)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			klog.V(4).InfoS("Health check failed", "endpoint", s.key.addr, "err", err)
		}
		s.record(err == nil, "health check", err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// checkOnce sends one GET and succeeds on a 2xx or 3xx status. It speaks
// just enough HTTP/1.1 for that, on a connection of its own that it
// closes, so checks never disturb the proxying pools.
func checkOnce(ctx context.Context, k healthKey) error {
	timeout := k.check.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	target := k.target()
	c, err := d.DialContext(ctx, "tcp", target)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	c.SetDeadline(deadline)
	path := k.check.Path
	if path == "" {
		path = "/"
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + target +
		"\r\nUser-Agent: " + serverName + "-health-check\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		return err
	}
	line, err := bufio.NewReaderSize(c, 512).ReadSlice('\n')
	if err != nil {
		return fmt.Errorf("reading the status line: %w", err)
	}
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' {
		return fmt.Errorf("malformed status line %q", line)
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return fmt.Errorf("malformed status line %q", line)
	}
	if code < 200 || code >= 400 {
		return fmt.Errorf("status %d", code)
	}
	return nil
}
