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

package endpointslice

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	signetclientset "signet.dev/client-go/clientset/versioned"
	signetinformers "signet.dev/client-go/informers/externalversions"

	"signet.dev/signet/pkg/controller/endpointslice"
)

// Metric names of the EndpointSlice controller (see its metrics.go).
const (
	metricChanges         = "signet_endpointslice_controller_changes_total"
	metricSyncCount       = "signet_endpointslice_controller_sync_duration_seconds_count"
	metricDesiredEPs      = "signet_endpointslice_controller_desired_endpoints"
	metricActualEndpoints = "signet_endpointslice_controller_endpoints"
)

// metricValues are the samples of one scrape, keyed by name and labels
// (name{k="v",...}); a histogram contributes its _count.
type metricValues map[string]float64

// sum adds up every series of a metric, whatever its labels.
func (m metricValues) sum(name string) float64 {
	var total float64
	for key, v := range m {
		if key == name || strings.HasPrefix(key, name+"{") {
			total += v
		}
	}
	return total
}

// series returns the series of a metric, for messages.
func (m metricValues) series(name string) string {
	var out []string
	for key, v := range m {
		if key == name || strings.HasPrefix(key, name+"{") {
			out = append(out, fmt.Sprintf("%s %v", key, v))
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return name + " (no series)"
	}
	return strings.Join(out, ", ")
}

// gather reads a registry the way /metrics would.
func gather(g prometheus.Gatherer) (metricValues, error) {
	families, err := g.Gather()
	if err != nil {
		return nil, err
	}
	out := metricValues{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			var pairs []string
			for _, lp := range m.GetLabel() {
				pairs = append(pairs, fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue()))
			}
			suffix := ""
			if len(pairs) > 0 {
				suffix = "{" + strings.Join(pairs, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[mf.GetName()+suffix] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[mf.GetName()+suffix] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[mf.GetName()+"_count"+suffix] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out, nil
}

// parseMetrics reads the Prometheus text format a /metrics endpoint
// serves; it keeps each sample line's name{labels} and value.
func parseMetrics(r io.Reader) (metricValues, error) {
	out := metricValues{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, rest := line, ""
		if i := strings.LastIndex(line, "}"); i >= 0 && strings.Contains(line[:i], "{") {
			key, rest = line[:i+1], line[i+1:]
		} else if i := strings.IndexByte(line, ' '); i >= 0 {
			key, rest = line[:i], line[i:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return nil, fmt.Errorf("metrics line without a value: %q", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		out[key] = v
	}
	return out, sc.Err()
}

// waitForWrites waits until scrape reports at least one slice write. The
// controller counts a write after the apiserver answers it, so a test
// that has just seen the write's result polls rather than reads once.
func waitForWrites(t *testing.T, who string, scrape func(context.Context) (metricValues, error)) {
	t.Helper()
	waitFor(t, convergeTimeout, who+" to count its slice writes", func(ctx context.Context) error {
		m, err := scrape(ctx)
		if err != nil {
			return err
		}
		if m.sum(metricChanges) == 0 {
			return fmt.Errorf("no writes: %s", m.series(metricChanges))
		}
		return nil
	})
}

// inProcessController is the EndpointSlice controller run in the test
// process on its own informers, with its own metrics registry.
type inProcessController struct {
	registry *prometheus.Registry
	cancel   context.CancelFunc
	done     chan struct{}
}

// startController starts a controller with the tests' settle delay and
// waits for its informers to sync. It is stopped at the end of the test,
// if not before.
func startController(t *testing.T) *inProcessController {
	t.Helper()
	cfg := rest.CopyConfig(cluster.Config)
	cfg = rest.AddUserAgent(cfg, "endpointslice-integration-test")
	kubeClient, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	signetClient, err := signetclientset.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kubeFactory := kubeinformers.NewSharedInformerFactory(kubeClient, 0)
	signetFactory := signetinformers.NewSharedInformerFactory(signetClient, 0)
	registry := prometheus.NewRegistry()

	ctx, cancel := context.WithCancel(context.Background())
	c, err := endpointslice.NewController(ctx,
		kubeFactory.Core().V1().Pods(),
		kubeFactory.Core().V1().Services(),
		kubeFactory.Core().V1().Nodes(),
		signetFactory.Discovery().V1().EndpointSlices(),
		kubeClient, signetClient,
		endpointslice.ControllerOptions{
			Options:    endpointslice.Options{SettleDelay: settleDelay},
			Registerer: registry,
		})
	if err != nil {
		cancel()
		t.Fatalf("creating the controller: %v", err)
	}
	kubeFactory.Start(ctx.Done())
	signetFactory.Start(ctx.Done())
	ic := &inProcessController{registry: registry, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(ic.done)
		c.Run(ctx, 2)
		kubeFactory.Shutdown()
		signetFactory.Shutdown()
	}()
	t.Cleanup(ic.stop)

	syncCtx, syncCancel := context.WithTimeout(ctx, convergeTimeout)
	defer syncCancel()
	for typ, ok := range kubeFactory.WaitForCacheSync(syncCtx.Done()) {
		if !ok {
			t.Fatalf("the controller's %v informer did not sync", typ)
		}
	}
	for typ, ok := range signetFactory.WaitForCacheSync(syncCtx.Done()) {
		if !ok {
			t.Fatalf("the controller's %v informer did not sync", typ)
		}
	}
	return ic
}

// stop stops the controller and waits for its workers and informers.
func (c *inProcessController) stop() {
	c.cancel()
	select {
	case <-c.done:
	case <-time.After(time.Minute):
	}
}

func (c *inProcessController) scrape(context.Context) (metricValues, error) {
	return gather(c.registry)
}

func (c *inProcessController) metrics(t *testing.T) metricValues {
	t.Helper()
	m, err := gather(c.registry)
	if err != nil {
		t.Fatalf("gathering the controller's metrics: %v", err)
	}
	return m
}
