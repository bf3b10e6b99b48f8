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

// Package ingress holds the registry of networking.signet.dev Ingresses:
// how they are prepared, validated and stored, with a status subresource
// that only the implementing controller writes.
package ingress

import (
	"context"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"signet.dev/signet/pkg/apis/networking"
	"signet.dev/signet/pkg/apis/networking/validation"
)

// servedVersions are the versions whose managed fields the strategies
// reset; server-side apply needs the list per version.
var servedVersions = []fieldpath.APIVersion{"networking.signet.dev/v1", "networking.signet.dev/v1beta1"}

// strategy is how the main resource treats an Ingress: users own the spec
// and metadata, and never the status.
type strategy struct {
	runtime.ObjectTyper
	names.NameGenerator
}

// NewStrategy returns the strategy of the ingresses resource.
func NewStrategy(typer runtime.ObjectTyper) rest.RESTCreateUpdateStrategy {
	return strategy{typer, names.SimpleNameGenerator}
}

var _ rest.ResetFieldsStrategy = strategy{}

func (strategy) NamespaceScoped() bool { return true }

// GetResetFields says that writes to the main resource never change status.
func (strategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	fields := map[fieldpath.APIVersion]*fieldpath.Set{}
	for _, v := range servedVersions {
		fields[v] = fieldpath.NewSet(fieldpath.MakePathOrDie("status"))
	}
	return fields
}

// PrepareForCreate drops any status a client sent: status is the
// controller's to write, through the status subresource.
func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	ing := obj.(*networking.Ingress)
	ing.Status = networking.IngressStatus{}
	ing.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation when
// the spec changes, so controllers can tell which spec they have seen.
func (strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newIng, oldIng := obj.(*networking.Ingress), old.(*networking.Ingress)
	newIng.Status = oldIng.Status
	if !apiequality.Semantic.DeepEqual(newIng.Spec, oldIng.Spec) {
		newIng.Generation = oldIng.Generation + 1
	}
}

func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidateIngress(obj.(*networking.Ingress))
}

func (strategy) WarningsOnCreate(context.Context, runtime.Object) []string { return nil }

func (strategy) Canonicalize(runtime.Object) {}

func (strategy) AllowCreateOnUpdate(context.Context) bool { return false }

func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateIngressUpdate(obj.(*networking.Ingress), old.(*networking.Ingress))
}

func (strategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

func (strategy) AllowUnconditionalUpdate(context.Context) bool { return true }

// statusStrategy is how the status subresource treats an Ingress: only the
// status changes, whatever else the request carries.
type statusStrategy struct {
	strategy
}

// NewStatusStrategy returns the strategy of the ingresses/status
// subresource.
func NewStatusStrategy(typer runtime.ObjectTyper) rest.RESTUpdateStrategy {
	return statusStrategy{strategy{typer, names.SimpleNameGenerator}}
}

// GetResetFields says that writes to status never change spec or metadata
// (labels and annotations are not the controller's to change there).
func (statusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	fields := map[fieldpath.APIVersion]*fieldpath.Set{}
	for _, v := range servedVersions {
		fields[v] = fieldpath.NewSet(fieldpath.MakePathOrDie("spec"), fieldpath.MakePathOrDie("metadata", "labels"), fieldpath.MakePathOrDie("metadata", "annotations"))
	}
	return fields
}

// PrepareForUpdate keeps the stored spec, labels and annotations.
func (statusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newIng, oldIng := obj.(*networking.Ingress), old.(*networking.Ingress)
	newIng.Spec = oldIng.Spec
	newIng.Labels = oldIng.Labels
	newIng.Annotations = oldIng.Annotations
}

func (statusStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateIngressStatusUpdate(obj.(*networking.Ingress), old.(*networking.Ingress))
}

func (statusStrategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}
