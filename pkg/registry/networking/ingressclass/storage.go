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

// Package ingressclass holds the registry of networking.signet.dev
// IngressClasses, a cluster-scoped resource.
package ingressclass

import (
	"context"
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/storage/names"

	"signet.dev/signet/pkg/apis/networking"
	"signet.dev/signet/pkg/apis/networking/validation"
	"signet.dev/signet/pkg/registry/table"
)

type strategy struct {
	runtime.ObjectTyper
	names.NameGenerator
}

func (strategy) NamespaceScoped() bool { return false }

func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	obj.(*networking.IngressClass).Generation = 1
}

// PrepareForUpdate bumps the generation when the spec changes.
func (strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newIC, oldIC := obj.(*networking.IngressClass), old.(*networking.IngressClass)
	if !apiequality.Semantic.DeepEqual(newIC.Spec, oldIC.Spec) {
		newIC.Generation = oldIC.Generation + 1
	}
}

func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidateIngressClass(obj.(*networking.IngressClass))
}

func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateIngressClassUpdate(obj.(*networking.IngressClass), old.(*networking.IngressClass))
}

func (strategy) WarningsOnCreate(context.Context, runtime.Object) []string { return nil }
func (strategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}
func (strategy) Canonicalize(runtime.Object)                   {}
func (strategy) AllowCreateOnUpdate(context.Context) bool      { return false }
func (strategy) AllowUnconditionalUpdate(context.Context) bool { return true }

// REST is the storage of the ingressclasses resource.
type REST struct {
	*genericregistry.Store
}

// NewREST returns the storage of ingressclasses.
func NewREST(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (*REST, error) {
	s := strategy{scheme, names.SimpleNameGenerator}
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &networking.IngressClass{} },
		NewListFunc:               func() runtime.Object { return &networking.IngressClassList{} },
		DefaultQualifiedResource:  networking.Resource("ingressclasses"),
		SingularQualifiedResource: networking.Resource("ingressclass"),
		CreateStrategy:            s,
		UpdateStrategy:            s,
		DeleteStrategy:            s,
		TableConvertor:            tableConvertor,
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter}); err != nil {
		return nil, fmt.Errorf("completing the ingressclasses store: %w", err)
	}
	return &REST{store}, nil
}

var tableConvertor = table.NewConvertor([]table.Column{
	{Name: "Controller", Type: "string", Description: "The controller that implements Ingresses of this class."},
	{Name: "Parameters", Type: "string", Description: "The object holding the controller's parameters, as Kind/name (apiGroup and namespace when set)."},
}, func(obj runtime.Object) ([]interface{}, error) {
	ic, ok := obj.(*networking.IngressClass)
	if !ok {
		return nil, fmt.Errorf("unexpected object %T", obj)
	}
	return []interface{}{ic.Spec.Controller, parameters(ic.Spec.Parameters)}, nil
})

func parameters(p *networking.IngressClassParametersReference) string {
	if p == nil {
		return "<none>"
	}
	kind := p.Kind
	if p.APIGroup != nil && *p.APIGroup != "" {
		kind += "." + *p.APIGroup
	}
	ref := kind + "/" + p.Name
	if p.Namespace != nil && *p.Namespace != "" {
		ref = *p.Namespace + "/" + ref
	}
	return ref
}
