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

// Package topology implements Service topology keys: the annotation
// service.signet.dev/topology-keys holds an ordered list of node label keys,
// and a client (kube-proxy on a node, cluster-dns answering for a node)
// keeps the endpoints closest to that node by the first key that matches
// any of them.
//
// The rule, for the node's labels N and the ready endpoints E:
//
//	for each key k in order:
//	    if k == "*": return E
//	    if N has no label k: skip k
//	    M := endpoints e in E with e.topology[k] == N[k]
//	    if M is not empty: return M
//	return nothing
//
// Endpoints carry their node's label values in endpoint.topology (the
// EndpointSlice controller copies them), so a client never needs to watch
// every Node: only its own.
package topology

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/validate/content"
)

// AnnotationKeys is the Service annotation holding the ordered topology
// keys, comma-separated, for example
// "kubernetes.io/hostname,topology.kubernetes.io/zone,*".
const AnnotationKeys = "service.signet.dev/topology-keys"

// Any is the key that matches every endpoint; it may only come last.
const Any = "*"

// MaxKeys is the most keys the annotation may hold.
const MaxKeys = 16

// ParseKeys parses and validates the annotation value. An empty value (or
// only whitespace) means no topology: nil keys, no error. Every problem is
// reported, not only the first.
func ParseKeys(value string) ([]string, error) {
	if strings.TrimSpace(value) == "" {
		return nil, nil
	}
	parts := strings.Split(value, ",")
	var problems []string
	if len(parts) > MaxKeys {
		problems = append(problems, fmt.Sprintf("%d keys, at most %d are allowed", len(parts), MaxKeys))
	}
	seen := make(map[string]bool, len(parts))
	keys := make([]string, 0, len(parts))
	for i, raw := range parts {
		k := strings.TrimSpace(raw)
		switch {
		case k == "":
			problems = append(problems, fmt.Sprintf("key %d is empty", i))
			continue
		case seen[k]:
			problems = append(problems, fmt.Sprintf("key %d: %q is duplicated", i, k))
		case k == Any:
			if i != len(parts)-1 {
				problems = append(problems, fmt.Sprintf("key %d: %q may only be the last key", i, Any))
			}
		default:
			for _, msg := range content.IsLabelKey(k) {
				problems = append(problems, fmt.Sprintf("key %d: %q is not a valid label key: %s", i, k, msg))
			}
		}
		seen[k] = true
		keys = append(keys, k)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("invalid %s %q: %s", AnnotationKeys, value, strings.Join(problems, "; "))
	}
	return keys, nil
}

// Endpoint is what the rule needs of an endpoint.
type Endpoint interface {
	// TopologyValue returns the endpoint's value for a node label key.
	TopologyValue(key string) (string, bool)
}

// Filter returns the endpoints of eps that the topology keys select for a
// node with nodeLabels, and the key that selected them ("" when none did).
// With no keys, every endpoint is selected. The result shares eps' backing
// array only when every endpoint is selected.
func Filter[E Endpoint](keys []string, nodeLabels map[string]string, eps []E) ([]E, string) {
	if len(keys) == 0 {
		return eps, ""
	}
	for _, k := range keys {
		if k == Any {
			return eps, Any
		}
		want, ok := nodeLabels[k]
		if !ok {
			continue
		}
		var matched []E
		for _, e := range eps {
			if v, ok := e.TopologyValue(k); ok && v == want {
				matched = append(matched, e)
			}
		}
		if len(matched) > 0 {
			return matched, k
		}
	}
	return nil, ""
}
