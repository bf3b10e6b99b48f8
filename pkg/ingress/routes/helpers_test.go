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

package routes

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	networkingv1 "signet.dev/api/networking/v1"
)

// epoch is the creation time of an Ingress of age 0 in these tests; an
// Ingress of age n was created n seconds later.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// ingress returns an Ingress named "namespace/name" (or "name" in
// namespace "default"), created age seconds after epoch, with rules.
func ingress(nsName string, age int, rules ...networkingv1.IngressRule) *networkingv1.Ingress {
	ns, name, ok := strings.Cut(nsName, "/")
	if !ok {
		ns, name = "default", nsName
	}
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:         ns,
			Name:              name,
			CreationTimestamp: metav1.NewTime(epoch.Add(time.Duration(age) * time.Second)),
		},
		Spec: networkingv1.IngressSpec{Rules: rules},
	}
}

// withDefault gives ing a default backend to Service svc.
func withDefault(ing *networkingv1.Ingress, svc string) *networkingv1.Ingress {
	ing.Spec.DefaultBackend = backend(svc)
	return ing
}

func backend(svc string) *networkingv1.IngressBackend {
	return &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: svc,
		Port: networkingv1.ServiceBackendPort{Number: 80},
	}}
}

func rule(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
	return networkingv1.IngressRule{
		Host:             host,
		IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}},
	}
}

func path(typ networkingv1.PathType, p, svc string) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: p, PathType: &typ, Backend: *backend(svc)}
}

func exact(p, svc string) networkingv1.HTTPIngressPath {
	return path(networkingv1.PathTypeExact, p, svc)
}

func prefix(p, svc string) networkingv1.HTTPIngressPath {
	return path(networkingv1.PathTypePrefix, p, svc)
}

func regex(p, svc string) networkingv1.HTTPIngressPath {
	return path(networkingv1.PathTypeImplementationSpecific, p, svc)
}

// What served returns when no route matches, and when the path is refused.
const (
	none    = "<404>"
	refused = "<400>"
)

// served returns the name of the Service the table routes a request to,
// none when nothing matches, or refused when the path cannot be matched.
func served(t *testing.T, table *Table, host, target string) string {
	t.Helper()
	r, ok, err := table.Match(host, target)
	switch {
	case err != nil:
		return refused
	case !ok:
		return none
	case r.Backend.Service == nil:
		t.Fatalf("route %+v has no Service backend", r)
	}
	return r.Backend.Service.Name
}

// build builds a table and fails the test if Build reports conflicts or
// skipped paths, which the callers do not expect.
func build(t *testing.T, ings ...*networkingv1.Ingress) *Table {
	t.Helper()
	table, conflicts := Build(ings)
	if len(conflicts) > 0 {
		t.Fatalf("unexpected conflicts: %+v", conflicts)
	}
	if s := table.Skipped(); len(s) > 0 {
		t.Fatalf("unexpected skipped paths: %+v", s)
	}
	return table
}
