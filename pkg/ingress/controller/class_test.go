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
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/ptr"

	networkingv1 "signet.dev/api/networking/v1"
)

func class(name, controller string) *networkingv1.IngressClass {
	return &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       networkingv1.IngressClassSpec{Controller: controller},
	}
}

func TestClassOf(t *testing.T) {
	tests := []struct {
		name       string
		field      *string
		annotation string
		want       string
	}{
		{"field", ptr.To("a"), "", "a"},
		{"legacy annotation", nil, "b", "b"},
		{"field wins over annotation", ptr.To("a"), "b", "a"},
		{"empty field falls back to the annotation", ptr.To(""), "b", "b"},
		{"none", nil, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ing := ingress("x", 0)
			ing.Spec.IngressClassName = tc.field
			if tc.annotation != "" {
				ing.Annotations = map[string]string{networkingv1.AnnotationIngressClass: tc.annotation}
			}
			if got := ClassOf(ing); got != tc.want {
				t.Errorf("ClassOf = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	classes := ClassesOf([]*networkingv1.IngressClass{
		class("ours", DefaultControllerName),
		class("also-ours", DefaultControllerName),
		class("theirs", "example.com/other"),
	}, DefaultControllerName)
	if want := []string{"also-ours", "ours"}; !slices.Equal(sets.List(classes), want) {
		t.Fatalf("classes %v, want %v", sets.List(classes), want)
	}

	byField := ingress("ns/by-field", 3)
	byAnnotation := ingress("ns/by-annotation", 2)
	byAnnotation.Spec.IngressClassName = nil
	byAnnotation.Annotations = map[string]string{networkingv1.AnnotationIngressClass: "also-ours"}
	other := ingress("ns/other", 0)
	other.Spec.IngressClassName = ptr.To("theirs")
	otherByAnnotation := ingress("ns/other-annotation", 0)
	otherByAnnotation.Spec.IngressClassName = nil
	otherByAnnotation.Annotations = map[string]string{networkingv1.AnnotationIngressClass: "theirs"}
	unknown := ingress("ns/unknown", 0)
	unknown.Spec.IngressClassName = ptr.To("nobody")
	classless := ingress("ns/classless", 0)
	classless.Spec.IngressClassName = nil
	older := ingress("a/older", 1)

	got := Select([]*networkingv1.Ingress{byField, other, unknown, byAnnotation, classless, otherByAnnotation, older}, classes)
	var names []string
	for _, ing := range got {
		names = append(names, ing.Namespace+"/"+ing.Name)
	}
	if want := []string{"a/older", "ns/by-annotation", "ns/by-field"}; !slices.Equal(names, want) {
		t.Errorf("Select = %v, want %v (ours, oldest first)", names, want)
	}
}
