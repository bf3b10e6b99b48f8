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

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTinyRollout replays both scenarios with 20 pods and checks that the
// counts hang together.
func TestTinyRollout(t *testing.T) {
	const pods = 20
	for _, tc := range []struct {
		name        string
		maxPerSlice int
		// finalSlices is what signet (and the lower bound) should end
		// with once settled: ceil(pods/maxPerSlice).
		finalSlices int
	}{
		{name: "one slice", maxPerSlice: 100, finalSlices: 1},
		{name: "several slices", maxPerSlice: 6, finalSlices: 4},
	} {
		for _, scenario := range []string{scenarioSteps, scenarioOneAtATime} {
			t.Run(tc.name+"/"+scenario, func(t *testing.T) {
				cfg := config{pods: pods, watchers: 3, seed: 1, maxPerSlice: tc.maxPerSlice, settleDelay: time.Minute}
				rows, err := runScenario(cfg, scenario)
				if err != nil {
					t.Fatal(err)
				}
				byImpl := map[string]row{}
				for _, r := range rows {
					if r.Scenario != scenario {
						t.Errorf("row %+v has the wrong scenario", r)
					}
					byImpl[r.Impl] = r
				}
				if len(byImpl) != 4 || len(rows) != 4 {
					t.Fatalf("rows %+v, want one per impl", rows)
				}
				lb, sig, up, ep := byImpl["lower-bound"], byImpl["signet"], byImpl["upstream"], byImpl["endpoints"]

				events := int64(2 * pods)
				if lb.Updates != events || lb.Creates != 0 || lb.Deletes != 0 {
					t.Errorf("lower bound writes %+v, want %d updates", lb, events)
				}
				if ep.Updates != events || ep.Creates != 0 || ep.Deletes != 0 || ep.FinalSlices != 1 {
					t.Errorf("endpoints %+v, want %d updates and 1 object", ep, events)
				}
				for _, r := range []row{sig, up, ep} {
					if r.writes() < events {
						t.Errorf("%s wrote %d times for %d events, each of which must be published", r.Impl, r.writes(), events)
					}
					if r.BytesToWatchers < lb.BytesToWatchers {
						t.Errorf("%s sent %d bytes to watchers, below the lower bound %d", r.Impl, r.BytesToWatchers, lb.BytesToWatchers)
					}
					if r.BytesToWatchers != 3*r.BytesWritten {
						t.Errorf("%s: bytes to watchers %d, want 3 watchers x %d", r.Impl, r.BytesToWatchers, r.BytesWritten)
					}
				}
				if sig.FinalSlices != tc.finalSlices || lb.FinalSlices != tc.finalSlices {
					t.Errorf("final slices: signet %d, lower bound %d, want %d", sig.FinalSlices, lb.FinalSlices, tc.finalSlices)
				}
				if up.FinalSlices < tc.finalSlices {
					t.Errorf("upstream ends with %d slices, fewer than the %d that hold %d endpoints", up.FinalSlices, tc.finalSlices, pods)
				}
				// A create puts a slice into the store and a delete takes
				// one out: what is left is the initial slices plus the
				// difference.
				if sig.Creates-sig.Deletes != int64(sig.FinalSlices-tc.finalSlices) {
					t.Errorf("signet: %d creates and %d deletes do not end at %d slices from %d", sig.Creates, sig.Deletes, sig.FinalSlices, tc.finalSlices)
				}
			})
		}
	}
}

func TestRolloutEvents(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		step int
		// head is the start of the event sequence, adds as "+i" and
		// deletes as "-".
		head string
	}{
		{name: "one at a time", n: 5, step: 1, head: "+0 - +1 - +2 -"},
		{name: "steps", n: 8, step: 2, head: "+0 +1 - - +2 +3 - -"},
		{name: "uneven steps", n: 5, step: 2, head: "+0 +1 - - +2 +3 - - +4 -"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events := rolloutEvents(tc.n, tc.step, 1)
			if len(events) != 2*tc.n {
				t.Fatalf("%d events, want %d", len(events), 2*tc.n)
			}
			var got []string
			var deleted []int
			for _, ev := range events {
				if ev.add >= 0 {
					got = append(got, "+"+string(rune('0'+ev.add)))
				} else {
					got = append(got, "-")
					deleted = append(deleted, ev.del)
				}
			}
			if head := strings.Join(got, " "); !strings.HasPrefix(head, tc.head) {
				t.Errorf("events %q, want them to start with %q", head, tc.head)
			}
			slices.Sort(deleted)
			for i, d := range deleted {
				if d != i {
					t.Fatalf("deleted old pods %v, want each of 0..%d once", deleted, tc.n-1)
				}
			}
		})
	}
}

// TestOutput checks the printed form: a table, then one JSON object per
// row with exactly the agreed keys.
func TestOutput(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"--pods=12", "--scenario=steps"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	table, jsonLines, ok := strings.Cut(text, "\n\n")
	if !ok {
		t.Fatalf("no blank line between table and JSON in:\n%s", text)
	}
	if !strings.Contains(table, "bytes to watchers") || strings.Contains(table, "{") {
		t.Errorf("table looks wrong:\n%s", table)
	}
	wantKeys := []string{"bytes_to_watchers", "bytes_written", "creates", "deletes", "final_slices", "impl", "scenario", "updates"}
	var impls []string
	sc := bufio.NewScanner(strings.NewReader(jsonLines))
	for sc.Scan() {
		var obj map[string]any
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		var keys []string
		for k, v := range obj {
			keys = append(keys, k)
			if n, ok := v.(float64); ok && n != float64(int64(n)) {
				t.Errorf("line %q: %s is not an integer", sc.Text(), k)
			}
		}
		slices.Sort(keys)
		if !slices.Equal(keys, wantKeys) {
			t.Errorf("line %q has keys %v, want %v", sc.Text(), keys, wantKeys)
		}
		if obj["scenario"] != scenarioSteps {
			t.Errorf("line %q: scenario %v", sc.Text(), obj["scenario"])
		}
		impls = append(impls, obj["impl"].(string))
	}
	if want := []string{"signet", "upstream", "endpoints", "lower-bound"}; !slices.Equal(impls, want) {
		t.Errorf("impls %v, want %v", impls, want)
	}
}

func TestParseFlagsRejects(t *testing.T) {
	for _, args := range [][]string{
		{"--scenario=rolling"},
		{"--format=yaml"},
		{"--pods=0"},
		{"--max-endpoints-per-slice=1001"},
		{"--watchers=-1"},
		{"extra"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if _, err := parseFlags(args, io.Discard); err == nil {
				t.Errorf("parseFlags(%q) succeeded, want an error", args)
			}
		})
	}
}
