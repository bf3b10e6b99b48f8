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

package ingress

import (
	"context"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"signet.dev/signet/pkg/apis/networking"
	"signet.dev/signet/pkg/registry/table"
)

// REST is the storage of the ingresses resource.
type REST struct {
	*genericregistry.Store
}

// StatusREST is the storage of the ingresses/status subresource. It shares
// the main store and differs only in its update strategy.
type StatusREST struct {
	store *genericregistry.Store
}

// NewREST returns the storage of ingresses and ingresses/status.
func NewREST(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (*REST, *StatusREST, error) {
	s := NewStrategy(scheme)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &networking.Ingress{} },
		NewListFunc:               func() runtime.Object { return &networking.IngressList{} },
		DefaultQualifiedResource:  networking.Resource("ingresses"),
		SingularQualifiedResource: networking.Resource("ingress"),

		CreateStrategy:      s,
		UpdateStrategy:      s,
		DeleteStrategy:      s.(rest.RESTDeleteStrategy),
		ResetFieldsStrategy: s.(rest.ResetFieldsStrategy),

		TableConvertor: tableConvertor,
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter}); err != nil {
		return nil, nil, fmt.Errorf("completing the ingresses store: %w", err)
	}
	statusStore := *store
	status := NewStatusStrategy(scheme)
	statusStore.UpdateStrategy = status
	statusStore.ResetFieldsStrategy = status.(rest.ResetFieldsStrategy)
	return &REST{store}, &StatusREST{store: &statusStore}, nil
}

// ShortNames lets `kubectl get ing` work.
func (*REST) ShortNames() []string { return []string{"ing"} }

// Categories puts Ingresses in `kubectl get all`.
func (*REST) Categories() []string { return []string{"all"} }

var _ rest.Patcher = &StatusREST{}

// New returns an empty Ingress.
func (r *StatusREST) New() runtime.Object { return &networking.Ingress{} }

// Destroy is a no-op: the main resource owns the store.
func (r *StatusREST) Destroy() {}

// Get retrieves an Ingress, so that patches of status can read it.
func (r *StatusREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	return r.store.Get(ctx, name, options)
}

// Update writes only the status of an Ingress.
func (r *StatusREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	// The status subresource never creates an Ingress.
	return r.store.Update(ctx, name, objInfo, createValidation, updateValidation, false, options)
}

// GetResetFields implements rest.ResetFieldsStrategy for server-side apply.
func (r *StatusREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return r.store.GetResetFields()
}

// ConvertToTable prints the Ingress as its main resource does.
func (r *StatusREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return r.store.ConvertToTable(ctx, object, tableOptions)
}

var tableConvertor = table.NewConvertor([]table.Column{
	{Name: "Class", Type: "string", Description: "The IngressClass of the Ingress (spec.ingressClassName, or the legacy annotation)."},
	{Name: "Hosts", Type: "string", Description: "The hosts the Ingress routes; * when a rule has no host."},
	{Name: "Address", Type: "string", Description: "The addresses the load balancer reports in status."},
	{Name: "Ports", Type: "string", Description: "The ports served: 80, and 443 when TLS is configured."},
}, func(obj runtime.Object) ([]interface{}, error) {
	ing, ok := obj.(*networking.Ingress)
	if !ok {
		return nil, fmt.Errorf("unexpected object %T", obj)
	}
	return []interface{}{className(ing), hosts(ing), addresses(ing), ports(ing)}, nil
})

func className(ing *networking.Ingress) string {
	if ing.Spec.IngressClassName != nil {
		return *ing.Spec.IngressClassName
	}
	if c, ok := ing.Annotations[networking.AnnotationIngressClass]; ok {
		return c
	}
	return "<none>"
}

func hosts(ing *networking.Ingress) string {
	var list []string
	for _, r := range ing.Spec.Rules {
		if r.Host == "" {
			list = append(list, "*")
			continue
		}
		list = append(list, r.Host)
	}
	return joinOrNone(list, 3)
}

func addresses(ing *networking.Ingress) string {
	var list []string
	for _, lb := range ing.Status.LoadBalancer.Ingress {
		if lb.IP != "" {
			list = append(list, lb.IP)
		}
		if lb.Hostname != "" {
			list = append(list, lb.Hostname)
		}
	}
	return strings.Join(list, ",")
}

func ports(ing *networking.Ingress) string {
	if len(ing.Spec.TLS) > 0 {
		return "80, 443"
	}
	return "80"
}

// joinOrNone joins at most max items, saying how many more there are, as
// kubectl does for long lists.
func joinOrNone(items []string, max int) string {
	if len(items) == 0 {
		return "<none>"
	}
	seen := map[string]bool{}
	var unique []string
	for _, s := range items {
		if !seen[s] {
			seen[s] = true
			unique = append(unique, s)
		}
	}
	sort.Strings(unique)
	if len(unique) <= max {
		return strings.Join(unique, ",")
	}
	return fmt.Sprintf("%s + %d more...", strings.Join(unique[:max], ","), len(unique)-max)
}
