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

// Package fake records conntrack deletions for tests.
package fake

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"signet.dev/signet/pkg/proxy/conntrack"
)

// Deletion is one recorded call.
type Deletion struct {
	Family corev1.IPFamily
	Filter conntrack.Filter
}

// Conntrack records every Delete and deletes nothing.
type Conntrack struct {
	mu        sync.Mutex
	deletions []Deletion
	// Err, when set, is returned by Delete.
	Err error
}

var _ conntrack.Interface = &Conntrack{}

// Delete implements conntrack.Interface.
func (c *Conntrack) Delete(_ context.Context, family corev1.IPFamily, f conntrack.Filter) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deletions = append(c.deletions, Deletion{Family: family, Filter: f})
	return 0, c.Err
}

// Deletions returns the recorded calls and forgets them.
func (c *Conntrack) Deletions() []Deletion {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.deletions
	c.deletions = nil
	return d
}
