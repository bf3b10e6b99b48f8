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

package controller

import (
	"cmp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"

	networkingv1 "signet.dev/api/networking/v1"
)

// DefaultControllerName is the spec.controller of the IngressClasses
// signet-ingress implements unless told otherwise.
const DefaultControllerName = "signet.dev/ingress"

// ClassOf returns the name of the class an Ingress asks for:
// spec.ingressClassName, or, when that is unset or empty, the legacy
// kubernetes.io/ingress.class annotation. It returns "" for an Ingress
// without a class.
func ClassOf(ing *networkingv1.Ingress) string {
	if n := ing.Spec.IngressClassName; n != nil && *n != "" {
		return *n
	}
	return ing.Annotations[networkingv1.AnnotationIngressClass]
}

// ClassesOf returns the names of the IngressClasses whose spec.controller
// is controller.
func ClassesOf(classes []*networkingv1.IngressClass, controller string) sets.Set[string] {
	ours := sets.New[string]()
	for _, c := range classes {
		if c.Spec.Controller == controller {
			ours.Insert(c.Name)
		}
	}
	return ours
}

// Select returns the Ingresses whose class is in classes, oldest first
// (then by namespace and name), the order in which route conflicts and
// TLS hosts are decided.
func Select(ingresses []*networkingv1.Ingress, classes sets.Set[string]) []*networkingv1.Ingress {
	var ours []*networkingv1.Ingress
	for _, ing := range ingresses {
		if c := ClassOf(ing); c != "" && classes.Has(c) {
			ours = append(ours, ing)
		}
	}
	slices.SortFunc(ours, compareAge)
	return ours
}

// compareAge orders Ingresses oldest first, then by namespace and name, as
// routes.Build decides conflicts.
func compareAge(a, b *networkingv1.Ingress) int {
	if c := a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	return cmp.Or(
		strings.Compare(a.Namespace, b.Namespace),
		strings.Compare(a.Name, b.Name),
		strings.Compare(string(a.UID), string(b.UID)),
	)
}
