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
	"fmt"
	"testing"
	"time"
)

// TestRolloutCost replays the rollouts of issue 4 (1000 pods, one at a
// time and in 4 steps) and checks what they cost against the lower bound
// (each endpoint change reaching each watcher once). The numbers are
// deterministic; run with -v to see them.
func TestRolloutCost(t *testing.T) {
	if testing.Short() {
		t.Skip("replays 2000 reconciles of a 1000-pod Service")
	}
	for _, tc := range []struct {
		name string
		step int
		tick time.Duration
	}{
		{"one-at-a-time", 1, 0},
		{"steps", 250, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := replayRollout(t, 1000, tc.step, tc.tick, Options{})
			writes := res.creates + res.updates + res.deletes
			ratio := float64(res.bytesToWatchers) / float64(res.lowerBound)
			t.Logf("%s: creates=%d updates=%d deletes=%d writes=%d bytes_written=%d bytes_to_watchers=%d lower_bound=%d ratio=%.2f final_slices=%d",
				tc.name, res.creates, res.updates, res.deletes, writes, res.bytesWritten, res.bytesToWatchers, res.lowerBound, ratio, res.finalSlices)
			// 2000 pod events: one write each is the floor; the layout may
			// spend 20% more on splitting and compaction.
			if writes > 2400 {
				t.Errorf("writes = %d, want at most 2400", writes)
			}
			if ratio > 10 {
				t.Errorf("bytes to watchers are %.2f times the lower bound, want at most 10", ratio)
			}
			if res.finalSlices != 10 {
				t.Errorf("final slices = %d, want 10", res.finalSlices)
			}
		})
	}
}

// TestRestartMidRollout loses the reconciler's memory and applies half of
// a plan in the middle of a rollout, as a controller killed between writes
// would, and checks that the next reconciles reach the slices the pods
// imply, without duplicates.
func TestRestartMidRollout(t *testing.T) {
	e := newEnv(t, testService("svc"))
	e.addPods("a", 0, 200, false)
	e.sync()
	e.addPods("b", 200, 20, false)
	e.sync()
	for i := 0; i < 5; i++ {
		delete(e.c.pods, fmt.Sprintf("svc-a-%04d", i*7))
	}
	p := e.r.Reconcile(e.c.svc, e.c.podList(), e.c.sliceList(), e.c.nodeLookup)
	if len(p.Create) == 0 || len(p.Update) == 0 {
		t.Fatalf("plan %s; want creates and updates to cut in half", counts(p))
	}
	// Killed after the creates: the split-off endpoints are now in two
	// slices.
	e.c.apply(t, &Plan{Create: p.Create})
	e.r = newTestReconciler(t, e.clk)
	e.sync()
	e.clk.Step(time.Hour)
	e.sync()
	if got := len(e.managed()); got != 3 {
		t.Fatalf("after settling, %d slices, want 3 for 215 endpoints", got)
	}
}
