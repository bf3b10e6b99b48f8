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
	"context"
	"sync"
	"time"
)

// Runner runs a sync function when triggered, at most once per
// minInterval, and at least once per maxInterval; a failed run is retried
// after minInterval (or a second, if that is shorter). It is how upstream
// kube-proxy paces its syncs: bursts of changes coalesce into one sync.
type Runner struct {
	fn          func() error
	minInterval time.Duration
	maxInterval time.Duration

	mu      sync.Mutex
	pending bool
	wake    chan struct{}
}

// NewRunner returns a runner of fn.
func NewRunner(fn func() error, minInterval, maxInterval time.Duration) *Runner {
	return &Runner{fn: fn, minInterval: minInterval, maxInterval: maxInterval, wake: make(chan struct{}, 1)}
}

// Trigger asks for a run; several triggers before the run make one run.
func (r *Runner) Trigger() {
	r.mu.Lock()
	r.pending = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run runs until ctx is done.
func (r *Runner) Run(ctx context.Context) {
	retry := r.minInterval
	if retry < time.Second {
		retry = time.Second
	}
	var last time.Time
	periodic := time.NewTimer(r.maxInterval)
	defer periodic.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-periodic.C:
			r.mu.Lock()
			r.pending = true
			r.mu.Unlock()
		}
		r.mu.Lock()
		run := r.pending
		r.mu.Unlock()
		if !run {
			continue
		}
		if wait := r.minInterval - time.Since(last); !last.IsZero() && wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		r.mu.Lock()
		r.pending = false
		r.mu.Unlock()
		last = time.Now()
		err := r.fn()
		if !periodic.Stop() {
			select {
			case <-periodic.C:
			default:
			}
		}
		periodic.Reset(r.maxInterval)
		if err != nil {
			time.AfterFunc(retry, r.Trigger)
		}
	}
}
