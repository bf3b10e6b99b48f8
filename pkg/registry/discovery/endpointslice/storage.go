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

// Package endpointslice holds the registry of discovery.signet.dev
// EndpointSlices.
package endpointslice

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/storage/names"

	"signet.dev/signet/pkg/apis/discovery"
	"signet.dev/signet/pkg/apis/discovery/validation"
	"signet.dev/signet/pkg/registry/table"
)

type strategy struct {
	runtime.ObjectTyper
	names.NameGenerator
}

func (strategy) NamespaceScoped() bool { return true }

func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	obj.(*discovery.EndpointSlice).Generation = 1
}

// PrepareForUpdate bumps the generation when anything but metadata
// changes; the EndpointSlice controller compares generations to know
// whether its cache has caught up with its own writes.
func (strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	newSlice, oldSlice := obj.(*discovery.EndpointSlice), old.(*discovery.EndpointSlice)
	if newSlice.AddressType != oldSlice.AddressType ||
		!apiequality.Semantic.DeepEqual(newSlice.Endpoints, oldSlice.Endpoints) ||
		!apiequality.Semantic.DeepEqual(newSlice.Ports, oldSlice.Ports) {
		newSlice.Generation = oldSlice.Generation + 1
	}
}

func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidateEndpointSlice(obj.(*discovery.EndpointSlice))
}

func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateEndpointSliceUpdate(obj.(*discovery.EndpointSlice), old.(*discovery.EndpointSlice))
}

func (strategy) WarningsOnCreate(context.Context, runtime.Object) []string { return nil }
func (strategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}
func (strategy) Canonicalize(runtime.Object)                   {}
func (strategy) AllowCreateOnUpdate(context.Context) bool      { return false }
func (strategy) AllowUnconditionalUpdate(context.Context) bool { return true }

// REST is the storage of the endpointslices resource.
type REST struct {
	*genericregistry.Store
}

// NewREST returns the storage of endpointslices.
func NewREST(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (*REST, error) {
	s := strategy{scheme, names.SimpleNameGenerator}
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &discovery.EndpointSlice{} },
		NewListFunc:               func() runtime.Object { return &discovery.EndpointSliceList{} },
		DefaultQualifiedResource:  discovery.Resource("endpointslices"),
		SingularQualifiedResource: discovery.Resource("endpointslice"),
		CreateStrategy:            s,
		UpdateStrategy:            s,
		DeleteStrategy:            s,
		TableConvertor:            tableConvertor,
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter}); err != nil {
		return nil, fmt.Errorf("completing the endpointslices store: %w", err)
	}
	return &REST{store}, nil
}

// maxAddressesShown bounds the ENDPOINTS column, as kubectl does.
const maxAddressesShown = 3

var tableConvertor = table.NewConvertor([]table.Column{
	{Name: "AddressType", Type: "string", Description: "The address family of every endpoint of the slice."},
	{Name: "Ports", Type: "string", Description: "The ports of the slice; <unset> for a port without number."},
	{Name: "Endpoints", Type: "string", Description: "The first addresses of the slice's endpoints."},
}, func(obj runtime.Object) ([]interface{}, error) {
	slice, ok := obj.(*discovery.EndpointSlice)
	if !ok {
		return nil, fmt.Errorf("unexpected object %T", obj)
	}
	return []interface{}{string(slice.AddressType), ports(slice.Ports), endpoints(slice.Endpoints)}, nil
})

func ports(ports []discovery.EndpointPort) string {
	if len(ports) == 0 {
		return "<unset>"
	}
	list := make([]string, 0, len(ports))
	for _, p := range ports {
		if p.Port == nil {
			list = append(list, "<unset>")
			continue
		}
		list = append(list, strconv.Itoa(int(*p.Port)))
	}
	return strings.Join(list, ",")
}

func endpoints(eps []discovery.Endpoint) string {
	var addrs []string
	total := 0
	for _, ep := range eps {
		for _, a := range ep.Addresses {
			total++
			if len(addrs) < maxAddressesShown {
				addrs = append(addrs, a)
			}
		}
	}
	if total == 0 {
		return "<unset>"
	}
	if total > len(addrs) {
		return fmt.Sprintf("%s + %d more...", strings.Join(addrs, ","), total-len(addrs))
	}
	return strings.Join(addrs, ",")
}
