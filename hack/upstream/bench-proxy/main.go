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

// Command bench-proxy is upstream's half of the benchmark behind `make
// bench-proxy` (issue 5, section 8): it drives the iptables proxier of
// k8s.io/kubernetes (the version hack/upstream/go.mod pins,
// pkg/proxy/iptables) as test/bench/proxy in the root module drives
// signet's, with the same inputs, steps and output; hack/bench-proxy.sh
// runs both and prints them side by side.
//
// For each size in --services it builds that many ClusterIP Services
// (svc-<i> in namespace bench, one TCP port http 80 -> 8080, cluster IP
// 10.96.0.0 + 1 + i) with one EndpointSlice each of --endpoints ready
// endpoints (10.244.0.0 + 1 + i*endpoints + j, spread over 100 nodes).
// Then, --runs times, with a new proxier each time:
//
//  1. it feeds every Service and slice to the proxier and calls
//     OnServiceSynced (not timed in the results; see "events s");
//  2. it times OnEndpointSlicesSynced, which runs the proxier's first
//     sync, a full one, before it returns (full_sync_seconds), and keeps
//     the size of its iptables-restore input (restore_bytes);
//  3. it replaces the address of svc-0's first endpoint, passes the
//     changed slice on and times a second OnEndpointSlicesSynced: the
//     proxier's sync function is unexported, and this is the exported
//     call that runs it at once (OnEndpointSliceUpdate itself only asks
//     the sync loop, which does not run here, for a sync). That sync is a
//     partial one: upstream forces full syncs only after a failure, a
//     topology change, or an hour without one (never in its "large
//     cluster mode", above 1000 endpoints), so its restore input rewrites
//     only svc-0's chains (one_service_sync_seconds).
//
// Each reported time is the median of the runs. The proxier writes
// through upstream's fake iptables with its restore calls replaced by a
// recorder of the input (see recorder; --parse-restore keeps the fake's
// parsing), so the times are the proxier's own work. The sync period is a
// day, so the one-Service sync does not list the nat table to find stale
// chains. A forced garbage collection precedes each timed step.
//
// The program prints a table, then one JSON object per size and line with
// the keys impl, services, endpoints_per_service, full_sync_seconds,
// one_service_sync_seconds and restore_bytes; with --json only the JSON
// lines. It fails if a sync does not write exactly one restore input, or
// if the one-Service sync does not program the new address or writes as
// much as the full sync (that is, was not a partial sync).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"runtime"
	"runtime/pprof"
	"slices"
	"syscall"
	"text/tabwriter"
	"time"
	"unsafe"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	sysctltest "k8s.io/component-helpers/node/util/sysctl/testing"
	kubeproxyconfig "k8s.io/kubernetes/pkg/proxy/apis/config"
	"k8s.io/kubernetes/pkg/proxy/iptables"
	proxyutil "k8s.io/kubernetes/pkg/proxy/util"
	"k8s.io/utils/ptr"
)

// implName is this program's value of the impl key.
const implName = "upstream"

// nodeIP is the node's address; upstream uses it only for load balancer
// source ranges, which these Services do not have.
const nodeIP = "192.168.0.10"

// config is what the flags set.
type config struct {
	services   []int
	endpoints  int
	runs       int
	json       bool
	digestOnly bool
	cpuProfile string
	// parseRestore hands restore inputs to upstream's fake iptables.
	parseRestore bool
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench-proxy:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	cfg, err := parseFlags(args, errOut)
	if err != nil {
		return err
	}
	if cfg.digestOnly {
		for _, n := range cfg.services {
			fmt.Fprintf(out, "services=%d endpoints_per_service=%d %s\n", n, cfg.endpoints, newInputs(n, cfg.endpoints).digest())
		}
		return nil
	}
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var rows []result
	for _, n := range cfg.services {
		r, err := measureSize(ctx, cfg, n, errOut)
		if err != nil {
			return fmt.Errorf("%d services: %w", n, err)
		}
		rows = append(rows, r)
	}
	if !cfg.json {
		if err := writeTable(out, rows); err != nil {
			return err
		}
		fmt.Fprintln(out)
	}
	return writeJSONLines(out, rows)
}

func parseFlags(args []string, errOut io.Writer) (config, error) {
	fs := pflag.NewFlagSet("bench-proxy", pflag.ContinueOnError)
	fs.SetOutput(errOut)
	services := fs.IntSlice("services", []int{1000, 5000, 10000}, "comma-separated numbers of Services to measure")
	endpoints := fs.Int("endpoints", 10, "ready endpoints per Service")
	runs := fs.Int("runs", 3, "measurements per size; each time reported is their median")
	asJSON := fs.Bool("json", false, "print only the JSON lines, without the table")
	digest := fs.Bool("inputs-digest", false, "print a hash of the inputs of each size and exit")
	parseRestore := fs.Bool("parse-restore", false, "let upstream's fake iptables parse every restore input (slow; off keeps only its size)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file; syncs carry the pprof label phase=full-sync or phase=one-service-sync")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	cfg := config{services: *services, endpoints: *endpoints, runs: *runs, json: *asJSON, digestOnly: *digest, cpuProfile: *cpuProfile, parseRestore: *parseRestore}
	if len(cfg.services) == 0 {
		return config{}, fmt.Errorf("--services must name at least one size")
	}
	if cfg.endpoints < 1 || cfg.endpoints > 1000 {
		return config{}, fmt.Errorf("--endpoints must be between 1 and 1000 (one slice per Service), got %d", cfg.endpoints)
	}
	for _, n := range cfg.services {
		if n < 1 || n > 1<<20-2 || n*cfg.endpoints > maxEndpointsTotal {
			return config{}, fmt.Errorf("--services %d: need 1 to %d Services and at most %d endpoints in all", n, 1<<20-2, maxEndpointsTotal)
		}
	}
	if cfg.runs < 1 {
		return config{}, fmt.Errorf("--runs must be at least 1, got %d", cfg.runs)
	}
	return cfg, nil
}

// result is one size's line of output. The JSON keys are a contract with
// whatever reads the output (issue 5, section 8): keep them as they are.
type result struct {
	Impl                  string  `json:"impl"`
	Services              int     `json:"services"`
	EndpointsPerService   int     `json:"endpoints_per_service"`
	FullSyncSeconds       float64 `json:"full_sync_seconds"`
	OneServiceSyncSeconds float64 `json:"one_service_sync_seconds"`
	RestoreBytes          int     `json:"restore_bytes"`

	// For the table only: medians too.
	oneServiceRestoreBytes int
	eventsSeconds          float64
	fullCPUSeconds         float64
	oneServiceCPUSeconds   float64
	fullAllocBytes         uint64
}

// sample is one measurement of one size.
type sample struct {
	events              time.Duration
	full, one           timing
	fullBytes, oneBytes int
}

// timing is what one timed step cost.
type timing struct {
	// wall is the elapsed time, the figure reported.
	wall time.Duration
	// cpu is the CPU time of the whole process (user and system), which
	// includes the garbage collector's background work and depends less
	// on other load on the machine.
	cpu time.Duration
	// alloc is how many bytes of heap the step allocated.
	alloc uint64
}

// measureSize measures one size cfg.runs times and keeps the medians.
func measureSize(ctx context.Context, cfg config, n int, errOut io.Writer) (result, error) {
	in := newInputs(n, cfg.endpoints)
	var events, full, one, fullCPU, oneCPU []time.Duration
	var fullAlloc []uint64
	var fullBytes, oneBytes int
	for i := range cfg.runs {
		s, err := measure(ctx, cfg, in)
		if err != nil {
			return result{}, fmt.Errorf("run %d: %w", i+1, err)
		}
		if i > 0 && (s.fullBytes != fullBytes || s.oneBytes != oneBytes) {
			return result{}, fmt.Errorf("run %d: restore inputs of %d and %d bytes, earlier runs %d and %d", i+1, s.fullBytes, s.oneBytes, fullBytes, oneBytes)
		}
		fullBytes, oneBytes = s.fullBytes, s.oneBytes
		events, full, one = append(events, s.events), append(full, s.full.wall), append(one, s.one.wall)
		fullCPU, oneCPU, fullAlloc = append(fullCPU, s.full.cpu), append(oneCPU, s.one.cpu), append(fullAlloc, s.full.alloc)
		fmt.Fprintf(errOut, "%s: %d services, run %d/%d: full sync %.4fs (cpu %.4fs), one-service sync %.4fs (cpu %.4fs)\n",
			implName, n, i+1, cfg.runs, s.full.wall.Seconds(), s.full.cpu.Seconds(), s.one.wall.Seconds(), s.one.cpu.Seconds())
	}
	return result{
		Impl:                   implName,
		Services:               n,
		EndpointsPerService:    cfg.endpoints,
		FullSyncSeconds:        median(full).Seconds(),
		OneServiceSyncSeconds:  median(one).Seconds(),
		RestoreBytes:           fullBytes,
		oneServiceRestoreBytes: oneBytes,
		eventsSeconds:          median(events).Seconds(),
		fullCPUSeconds:         median(fullCPU).Seconds(),
		oneServiceCPUSeconds:   median(oneCPU).Seconds(),
		fullAllocBytes:         median(fullAlloc),
	}, nil
}

// measure runs one new proxier through the full sync and the one-Service
// sync.
func measure(ctx context.Context, cfg config, in *inputs) (sample, error) {
	var s sample
	rec := newRecorder(cfg.parseRestore)
	p, err := iptables.NewProxier(ctx,
		&kubeproxyconfig.KubeProxyConfiguration{
			IPTables: kubeproxyconfig.KubeProxyIPTablesConfiguration{
				MasqueradeBit:      ptr.To[int32](14),
				LocalhostNodePorts: ptr.To(false),
			},
			SyncPeriod:    metav1.Duration{Duration: 24 * time.Hour},
			MinSyncPeriod: metav1.Duration{Duration: time.Second},
		},
		corev1.IPv4Protocol, rec, sysctltest.NewFake(),
		proxyutil.NewDetectLocalByCIDR(clusterCIDR.String()),
		nodeName, net.ParseIP(nodeIP),
		&events.FakeRecorder{}, // discards events
		nil,                    // no proxier health server
		false,
	)
	if err != nil {
		return s, err
	}
	if err := dropNFAcct(p); err != nil {
		return s, err
	}

	runtime.GC()
	start := time.Now()
	for _, svc := range in.services {
		p.OnServiceAdd(svc)
	}
	for _, slice := range in.slices {
		p.OnEndpointSliceAdd(slice)
	}
	p.OnServiceSynced()
	s.events = time.Since(start)
	if rec.restores != 0 {
		return s, fmt.Errorf("the proxier synced before its EndpointSlices were synced")
	}

	// OnEndpointSlicesSynced runs the sync before it returns.
	s.full, err = timeSync(ctx, "full-sync", func(context.Context) error { p.OnEndpointSlicesSynced(); return nil })
	if err != nil {
		return s, fmt.Errorf("full sync: %w", err)
	}
	if rec.restores != 1 {
		return s, fmt.Errorf("full sync: %d restore inputs written, want 1", rec.restores)
	}
	s.fullBytes = len(rec.last)

	p.OnEndpointSliceUpdate(in.slices[0], in.changed)
	s.one, err = timeSync(ctx, "one-service-sync", func(context.Context) error { p.OnEndpointSlicesSynced(); return nil })
	if err != nil {
		return s, fmt.Errorf("one-service sync: %w", err)
	}
	if rec.restores != 2 {
		return s, fmt.Errorf("one-service sync: %d restore inputs written in all, want 2", rec.restores)
	}
	s.oneBytes = len(rec.last)
	if err := checkOneService(rec.last, s.fullBytes); err != nil {
		return s, err
	}
	return s, nil
}

// dropNFAcct removes the proxier's nfacct runner, which NewProxier makes
// for real and which, run as root, would create two counters in the
// kernel on every full sync (and, not as root, fails, so that the restore
// input would depend on who runs the benchmark). The field is unexported;
// upstream's own test proxier leaves it nil, as this does.
func dropNFAcct(p *iptables.Proxier) error {
	f := reflect.ValueOf(p).Elem().FieldByName("nfacct")
	if !f.IsValid() || f.Kind() != reflect.Interface {
		return fmt.Errorf("upstream's iptables.Proxier has no nfacct interface field any more: update dropNFAcct")
	}
	reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Set(reflect.Zero(f.Type()))
	return nil
}

// timeSync runs sync after a garbage collection, under a pprof label, and
// returns what it cost.
func timeSync(ctx context.Context, phase string, sync func(context.Context) error) (timing, error) {
	runtime.GC()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	var t timing
	var err error
	pprof.Do(ctx, pprof.Labels("phase", phase), func(ctx context.Context) {
		cpu0 := processCPU()
		start := time.Now()
		err = sync(ctx)
		t.wall = time.Since(start)
		t.cpu = processCPU() - cpu0
	})
	runtime.ReadMemStats(&ms1)
	t.alloc = ms1.TotalAlloc - ms0.TotalAlloc
	return t, err
}

// processCPU returns the user and system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// checkOneService checks that the one-Service restore input programs the
// replacement endpoint and is smaller than the full one, that is, that the
// sync was a partial one.
func checkOneService(data []byte, fullBytes int) error {
	dest := fmt.Sprintf("--to-destination %s:%d", replacement, target)
	if !bytes.Contains(data, []byte(dest)) {
		return fmt.Errorf("one-service sync: the restore input has no %q", dest)
	}
	if len(data) >= fullBytes {
		return fmt.Errorf("one-service sync: restore input of %d bytes, not smaller than the full sync's %d: not a partial sync", len(data), fullBytes)
	}
	return nil
}

func median[T time.Duration | uint64](ds []T) T {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// writeTable prints the results for people; MB are 10^6 bytes. Besides
// what the JSON lines hold, it shows the one-Service sync's restore input,
// the CPU time and heap allocation of the syncs, and how long feeding the
// events to the proxier took.
func writeTable(out io.Writer, rows []result) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "impl\tservices\tendpoints/svc\tfull sync s\tone-service sync s\trestore MB\t"+
		"one-service restore MB\tfull sync cpu s\tone-service cpu s\tfull sync alloc MB\tevents s\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.4f\t%.4f\t%.2f\t%.2f\t%.4f\t%.4f\t%.1f\t%.4f\t\n", r.Impl, r.Services, r.EndpointsPerService,
			r.FullSyncSeconds, r.OneServiceSyncSeconds, float64(r.RestoreBytes)/1e6,
			float64(r.oneServiceRestoreBytes)/1e6, r.fullCPUSeconds, r.oneServiceCPUSeconds,
			float64(r.fullAllocBytes)/1e6, r.eventsSeconds)
	}
	return tw.Flush()
}

// writeJSONLines prints one JSON object per result and line.
func writeJSONLines(out io.Writer, rows []result) error {
	enc := json.NewEncoder(out)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}
