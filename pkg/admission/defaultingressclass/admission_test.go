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

package defaultingressclass

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	networkingv1 "signet.dev/api/networking/v1"
)

func TestChooseDefault(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	class := func(name string, age time.Duration, isDefault string) *networkingv1.IngressClass {
		ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(base.Add(-age))}}
		if isDefault != "" {
			ic.Annotations = map[string]string{networkingv1.AnnotationIsDefaultIngressClass: isDefault}
		}
		return ic
	}
	cases := []struct {
		name    string
		classes []*networkingv1.IngressClass
		want    string
		all     []string
	}{
		{"none", []*networkingv1.IngressClass{class("a", 0, "")}, "", nil},
		{"only \"true\" counts", []*networkingv1.IngressClass{class("a", 0, "yes"), class("b", 0, "True")}, "", nil},
		{"one default", []*networkingv1.IngressClass{class("a", time.Hour, ""), class("b", 0, "true")}, "b", []string{"b"}},
		{"newest of several", []*networkingv1.IngressClass{class("new", time.Minute, "true"), class("old", time.Hour, "true")}, "new", []string{"new", "old"}},
		{"tie goes to the first name", []*networkingv1.IngressClass{class("zeta", 0, "true"), class("alpha", 0, "true")}, "alpha", []string{"alpha", "zeta"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, all := chooseDefault(tc.classes)
			name := ""
			if got != nil {
				name = got.Name
			}
			if name != tc.want {
				t.Errorf("chose %q, want %q", name, tc.want)
			}
			if len(all) != len(tc.all) {
				t.Fatalf("all defaults = %v, want %v", all, tc.all)
			}
			for i := range all {
				if all[i] != tc.all[i] {
					t.Errorf("all defaults = %v, want %v", all, tc.all)
				}
			}
		})
	}
}
