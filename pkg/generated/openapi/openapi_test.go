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

package openapi

import (
	"strings"
	"testing"

	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// minDescription is the shortest field description accepted: enough for a
// sentence saying what the field means, not just its name again.
const minDescription = 15

// TestEveryFieldIsDocumented fails when a type or field of a signet API
// version has no documentation. The descriptions checked here are the ones
// `kubectl explain` prints, so a missing doc comment is a user-visible gap.
func TestEveryFieldIsDocumented(t *testing.T) {
	defs := GetOpenAPIDefinitions(func(name string) spec.Ref { return spec.MustCreateRef("#/definitions/" + name) })
	checked := 0
	for name, def := range defs {
		if !strings.HasPrefix(name, "dev.signet.api.") {
			continue
		}
		checked++
		if len(strings.TrimSpace(def.Schema.Description)) < minDescription {
			t.Errorf("type %s has no usable description: %q", name, def.Schema.Description)
		}
		for field, prop := range def.Schema.Properties {
			if desc := propertyDescription(prop); len(strings.TrimSpace(desc)) < minDescription {
				t.Errorf("field %s.%s has no usable description: %q", name, field, desc)
			}
		}
	}
	// Ingress, IngressClass and EndpointSlice with their nested types, in
	// four versions: far more than this, but never none.
	if checked < 30 {
		t.Fatalf("checked only %d signet definitions; are the OpenAPI model names still dev.signet.api.*?", checked)
	}
}

// propertyDescription returns a property's description. openapi-gen puts
// the description of a field whose type is a reference beside an allOf
// that holds the reference, so both places are looked at.
func propertyDescription(prop spec.Schema) string {
	if prop.Description != "" {
		return prop.Description
	}
	for _, s := range prop.AllOf {
		if s.Description != "" {
			return s.Description
		}
	}
	return ""
}

var _ common.GetOpenAPIDefinitions = GetOpenAPIDefinitions
