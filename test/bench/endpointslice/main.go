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

// Command endpointslice is the benchmark behind `make bench-endpointslice`
// (issue 4, section 3). It is a program, not a timed test: it counts the
// API writes and bytes that a Deployment rollout costs when the same pod
// events are replayed into
//
//   - signet: signet's EndpointSlice reconciler
//     (signet.dev/signet/pkg/controller/endpointslice);
//   - upstream: the reconciler of k8s.io/endpointslice v0.37.2, with the
//     same maximum of endpoints per slice, writing through a fake
//     clientset;
//   - endpoints: one monolithic core/v1 Endpoints object holding every
//     address, rewritten on each change.
//
// # Scenarios
//
// A Service with one TCP port (http, 80 -> 8080), single-stack IPv4,
// selects --pods ready pods (default 1000) of one ReplicaSet, one per node,
// on as many nodes spread over three zones (zone-a, zone-b, zone-c by node
// index modulo 3, all in one region). The rollout replaces them with as
// many ready pods of a new ReplicaSet (another pod-template-hash); new pod
// i runs on node i. Old pods are deleted in an order shuffled with --seed.
//
//   - steps: 4 steps, each adding a quarter of the new pods and then
//     deleting a quarter of the old ones;
//   - one-at-a-time: add one new pod, delete one old pod, until done.
//
// Every pod addition or deletion is one event, and each event is followed
// by exactly one reconcile of each implementation; the two scenarios thus
// replay the same number of events and differ only in their order. The
// fake clock does not move between events. After the last event it moves
// past signet's settle delay (twice the delay) and one more reconcile
// runs; its writes count too, and final_slices is taken after it.
//
// Before the rollout, each implementation reconciles the initial pods
// (creating its slices, or the Endpoints object), the clock passes the
// settle delay and each reconciles once more. None of that is counted:
// counting begins with the rollout's first event.
//
// # What is counted
//
// creates, updates and deletes are the API writes by kind. bytes_written is
// the size of the JSON encoding of each written object, as stored: the
// object the client sent, with its apiVersion and kind and the name and
// resourceVersion that the store assigns (server-set fields such as uid or
// managedFields are left out, for every implementation alike). A delete
// counts the object's last state, as its watch event carries it.
// bytes_to_watchers is bytes_written times --watchers (default 1000):
// every watcher of the kind receives every written object whole.
// final_slices is the number of slices left at the end; for endpoints it
// is 1, the one object, which existed before the rollout, so its creates
// are 0 and each event costs it one update.
//
// The lower-bound row is what publishing each endpoint change alone would
// cost: the number of endpoint changes (additions plus removals, one per
// event) times the JSON size of one endpoint entry as signet writes it
// (the average entry of signet's final slices, which hold the same pods in
// both scenarios) gives bytes_written, times the watchers gives
// bytes_to_watchers. Its updates are the number of events
// (each must become visible through at least one write, since a reconcile
// follows each), its creates and deletes 0, and its final_slices the
// fewest slices that hold the final endpoints.
//
// signet's counts are deterministic. upstream's vary from run to run: it
// fills slices from an unordered set. A run of both scenarios with the
// defaults takes a few minutes of CPU, most of it in upstream's endpoint
// hashing.
//
// The program prints a table, then one JSON object per row and line with
// the keys scenario, impl, creates, updates, deletes, bytes_written,
// bytes_to_watchers and final_slices. After each scenario it checks that
// every implementation publishes exactly the endpoints of the final pods,
// each once, and exits non-zero if not.
package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/spf13/pflag"
)

// config is what the flags set.
type config struct {
	scenarios   []string
	pods        int
	watchers    int64
	seed        int64
	maxPerSlice int
	format      string
	// settleDelay is signet's settle delay; the clock moves past twice
	// this after the last event.
	settleDelay time.Duration
}

const (
	scenarioSteps      = "steps"
	scenarioOneAtATime = "one-at-a-time"

	formatBoth  = "table+json"
	formatTable = "table"
	formatJSON  = "json"

	// maxPods keeps pod IPs within the /16 each ReplicaSet gets.
	maxPods = 1 << 16
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench-endpointslice:", err)
		os.Exit(1)
	}
}

// run parses the arguments, runs the chosen scenarios and prints the
// results to out.
func run(args []string, out, errOut io.Writer) error {
	cfg, err := parseFlags(args, errOut)
	if err != nil {
		return err
	}
	var rows []row
	for _, sc := range cfg.scenarios {
		r, err := runScenario(cfg, sc)
		if err != nil {
			return fmt.Errorf("scenario %s: %w", sc, err)
		}
		rows = append(rows, r...)
	}
	if cfg.format != formatJSON {
		if err := writeTable(out, rows); err != nil {
			return err
		}
	}
	if cfg.format == formatBoth {
		if _, err := fmt.Fprintln(out); err != nil {
			return err
		}
	}
	if cfg.format != formatTable {
		return writeJSONLines(out, rows)
	}
	return nil
}

func parseFlags(args []string, errOut io.Writer) (config, error) {
	fs := pflag.NewFlagSet("bench-endpointslice", pflag.ContinueOnError)
	fs.SetOutput(errOut)
	scenario := fs.String("scenario", "all", "scenario to run: all, "+scenarioSteps+" or "+scenarioOneAtATime)
	pods := fs.Int("pods", 1000, "number of pods of the Service, and of nodes (one pod per node)")
	watchers := fs.Int64("watchers", 1000, "number of watchers that receive every written object")
	seed := fs.Int64("seed", 1, "seed of the order in which old pods are deleted")
	maxPerSlice := fs.Int("max-endpoints-per-slice", 100, "most endpoints per slice, for signet and upstream alike")
	format := fs.String("format", formatBoth, "output: "+formatBoth+", "+formatTable+" or "+formatJSON)
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	cfg := config{
		pods:        *pods,
		watchers:    *watchers,
		seed:        *seed,
		maxPerSlice: *maxPerSlice,
		format:      *format,
		settleDelay: time.Minute,
	}
	switch *scenario {
	case "all":
		cfg.scenarios = []string{scenarioSteps, scenarioOneAtATime}
	case scenarioSteps, scenarioOneAtATime:
		cfg.scenarios = []string{*scenario}
	default:
		return config{}, fmt.Errorf("--scenario must be all, %s or %s, got %q", scenarioSteps, scenarioOneAtATime, *scenario)
	}
	if cfg.pods < 1 || cfg.pods > maxPods {
		return config{}, fmt.Errorf("--pods must be between 1 and %d, got %d", maxPods, cfg.pods)
	}
	if cfg.watchers < 0 {
		return config{}, fmt.Errorf("--watchers must not be negative, got %d", cfg.watchers)
	}
	if cfg.maxPerSlice < 1 || cfg.maxPerSlice > 1000 {
		return config{}, fmt.Errorf("--max-endpoints-per-slice must be between 1 and 1000, got %d", cfg.maxPerSlice)
	}
	if !slices.Contains([]string{formatBoth, formatTable, formatJSON}, cfg.format) {
		return config{}, fmt.Errorf("--format must be %s, %s or %s, got %q", formatBoth, formatTable, formatJSON, cfg.format)
	}
	return cfg, nil
}
