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

package nodeagent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Probe defaults, as the API server fills them in.
const (
	defaultProbePeriod      = 10 * time.Second
	defaultProbeTimeout     = 1 * time.Second
	defaultFailureThreshold = 3
	defaultSuccessThreshold = 1
)

// thresholds turns a stream of probe outcomes into a result the way
// kubelet does: the result changes only after successThreshold successes
// in a row (to success) or failureThreshold failures in a row (to
// failure). A readiness probe starts failed; a liveness probe starts
// succeeded.
type thresholds struct {
	success, failure int32
	result           bool
	// run counts the latest outcomes in a row that were all last.
	run  int32
	last *bool
}

func newThresholds(p *corev1.Probe, initial bool) *thresholds {
	t := &thresholds{success: p.SuccessThreshold, failure: p.FailureThreshold, result: initial}
	if t.success < 1 {
		t.success = defaultSuccessThreshold
	}
	if t.failure < 1 {
		t.failure = defaultFailureThreshold
	}
	return t
}

// observe records one probe outcome and reports whether the result changed.
func (t *thresholds) observe(ok bool) bool {
	if t.last != nil && *t.last == ok {
		t.run++
	} else {
		t.run = 1
		t.last = &ok
	}
	switch {
	case ok && !t.result && t.run >= t.success:
		t.result = true
		return true
	case !ok && t.result && t.run >= t.failure:
		t.result = false
		return true
	}
	return false
}

// prober runs one probe of a container against the pod's addresses.
type prober struct {
	probe     *corev1.Probe
	container *corev1.Container
	// targets are the pod's addresses: a probe without a host succeeds only
	// if it succeeds on every one of them, both families.
	targets []netip.Addr
	// exec runs an exec probe's command in the pod; nil fails exec probes.
	exec func(ctx context.Context, command []string) error
	// dial opens TCP connections; nil means a net.Dialer.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// run probes once: nil is success.
func (p *prober) run(ctx context.Context) error {
	timeout := time.Duration(p.probe.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = defaultProbeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	h := p.probe.ProbeHandler
	switch {
	case h.HTTPGet != nil:
		port, err := resolvePort(h.HTTPGet.Port, p.container)
		if err != nil {
			return err
		}
		return p.eachHost(h.HTTPGet.Host, func(host string) error { return p.httpGet(ctx, h.HTTPGet, host, port) })
	case h.TCPSocket != nil:
		port, err := resolvePort(h.TCPSocket.Port, p.container)
		if err != nil {
			return err
		}
		return p.eachHost(h.TCPSocket.Host, func(host string) error {
			c, err := p.dialer()(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
			if err != nil {
				return err
			}
			return c.Close()
		})
	case h.Exec != nil:
		if p.exec == nil {
			return errors.New("exec probes are not supported here")
		}
		return p.exec(ctx, h.Exec.Command)
	case h.GRPC != nil:
		return errors.New("gRPC probes are not supported by the node agent")
	}
	return errors.New("the probe has no handler")
}

func (p *prober) dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	if p.dial != nil {
		return p.dial
	}
	return (&net.Dialer{}).DialContext
}

// eachHost runs f on host, or on every target when host is empty, and
// returns the failures.
func (p *prober) eachHost(host string, f func(host string) error) error {
	if host != "" {
		return f(host)
	}
	if len(p.targets) == 0 {
		return errors.New("the pod has no address to probe")
	}
	var errs []error
	for _, ip := range p.targets {
		if err := f(ip.String()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (p *prober) httpGet(ctx context.Context, g *corev1.HTTPGetAction, host string, port int) error {
	scheme := strings.ToLower(string(g.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	u := &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: g.Path}
	if i := strings.Index(g.Path, "?"); i >= 0 {
		u.Path, u.RawQuery = g.Path[:i], g.Path[i+1:]
	}
	if !strings.HasPrefix(u.Path, "/") {
		u.Path = "/" + u.Path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "signet-nodeagent/probe")
	for _, h := range g.HTTPHeaders {
		if strings.EqualFold(h.Name, "Host") {
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	client := &http.Client{
		Transport: &http.Transport{
			DialContext:       p.dialer(),
			DisableKeepAlives: true,
			Proxy:             nil,
			// Probes check that something answers, not who: kubelet does
			// not verify certificates either.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec
		},
		// A redirect is an answer: kubelet counts 3xx as success.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 10<<10))
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return nil
}

// resolvePort turns a probe's port (number or container port name) into
// a number.
func resolvePort(port intstr.IntOrString, c *corev1.Container) (int, error) {
	if port.Type == intstr.Int {
		if port.IntVal < 1 || port.IntVal > 65535 {
			return 0, fmt.Errorf("port %d is out of range", port.IntVal)
		}
		return int(port.IntVal), nil
	}
	if n, err := strconv.Atoi(port.StrVal); err == nil {
		return resolvePort(intstr.FromInt32(int32(n)), c)
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return int(p.ContainerPort), nil
		}
	}
	return 0, fmt.Errorf("container %q has no port named %q", c.Name, port.StrVal)
}

// eagerPeriod is how often a readiness probe runs until it first
// succeeds, when its period is longer.
const eagerPeriod = time.Second

// probeWorker probes one container periodically until its context ends,
// reporting each change of result.
type probeWorker struct {
	kind     string // "readiness" or "liveness", for messages
	probe    *corev1.Probe
	run      func(ctx context.Context) error
	result   *thresholds
	onChange func(ok bool, lastErr error)
	// eager probes every eagerPeriod (or periodSeconds, if shorter) until
	// the first success: a server usually listens a moment after its
	// container starts, and a pod should not wait a whole period for a
	// first probe that came too early. Failures count as always.
	eager bool
}

func (w *probeWorker) loop(ctx context.Context) {
	period := time.Duration(w.probe.PeriodSeconds) * time.Second
	if period <= 0 {
		period = defaultProbePeriod
	}
	delay := time.Duration(w.probe.InitialDelaySeconds) * time.Second
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		err := w.run(ctx)
		if ctx.Err() != nil {
			return
		}
		if w.result.observe(err == nil) {
			w.onChange(w.result.result, err)
		}
		if err == nil {
			w.eager = false
		}
		next := period
		if w.eager && eagerPeriod < next {
			next = eagerPeriod
		}
		timer.Reset(next)
	}
}
