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

// Package defaultingressclass is the DefaultIngressClass admission plugin:
// an Ingress created without a class gets the IngressClass marked as the
// cluster default.
//
// When several IngressClasses are marked default (which happens while an
// operator moves the default from one class to another), the most recently
// created one wins, and on equal creation times the one whose name sorts
// first; the response carries a warning naming every default so the
// operator can clean up. Upstream Kubernetes also picks the newest; signet
// adds the tie-break so the choice never depends on cache order.
package defaultingressclass

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/warning"

	networkingv1 "signet.dev/api/networking/v1"
	informers "signet.dev/client-go/informers/externalversions"
	listers "signet.dev/client-go/listers/networking/v1"

	"signet.dev/signet/pkg/admission/initializer"
	"signet.dev/signet/pkg/apis/networking"
)

// PluginName is the name under which the plugin is registered and enabled.
const PluginName = "DefaultIngressClass"

// Register adds the plugin to plugins.
func Register(plugins *admission.Plugins) {
	plugins.Register(PluginName, func(io.Reader) (admission.Interface, error) {
		return New(), nil
	})
}

// Plugin sets spec.ingressClassName of new Ingresses that name no class.
type Plugin struct {
	*admission.Handler
	lister listers.IngressClassLister
}

var (
	_ admission.MutationInterface            = &Plugin{}
	_ initializer.WantsSignetInformerFactory = &Plugin{}
)

// New returns the plugin; it acts on create only.
func New() *Plugin {
	return &Plugin{Handler: admission.NewHandler(admission.Create)}
}

// SetSignetInformerFactory gives the plugin its IngressClass cache.
func (p *Plugin) SetSignetInformerFactory(f informers.SharedInformerFactory) {
	classes := f.Networking().V1().IngressClasses()
	p.lister = classes.Lister()
	p.SetReadyFunc(classes.Informer().HasSynced)
}

// ValidateInitialization fails start-up when no informer was given.
func (p *Plugin) ValidateInitialization() error {
	if p.lister == nil {
		return fmt.Errorf("%s admission plugin has no IngressClass lister", PluginName)
	}
	return nil
}

// Admit fills in the default class of an Ingress created without
// spec.ingressClassName and without the legacy kubernetes.io/ingress.class
// annotation. Without a default class the Ingress is left as it is.
func (p *Plugin) Admit(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetResource().GroupResource() != networking.Resource("ingresses") || a.GetSubresource() != "" {
		return nil
	}
	ing, ok := a.GetObject().(*networking.Ingress)
	if !ok {
		return nil
	}
	if ing.Spec.IngressClassName != nil {
		return nil
	}
	if _, ok := ing.Annotations[networking.AnnotationIngressClass]; ok {
		return nil
	}
	if !p.WaitForReady() {
		return admission.NewForbidden(a, fmt.Errorf("the IngressClass cache has not synced yet; retry"))
	}
	classes, err := p.lister.List(labels.Everything())
	if err != nil {
		return admission.NewForbidden(a, fmt.Errorf("listing IngressClasses: %w", err))
	}
	chosen, all := chooseDefault(classes)
	if chosen == nil {
		return nil
	}
	if len(all) > 1 {
		warning.AddWarning(ctx, "", fmt.Sprintf("%d IngressClasses are marked as default (%s); using %q, the most recently created",
			len(all), strings.Join(all, ", "), chosen.Name))
	}
	name := chosen.Name
	ing.Spec.IngressClassName = &name
	return nil
}

// chooseDefault returns the class to use and the names of every class
// marked default, sorted.
func chooseDefault(classes []*networkingv1.IngressClass) (*networkingv1.IngressClass, []string) {
	var defaults []*networkingv1.IngressClass
	for _, c := range classes {
		if c.Annotations[networkingv1.AnnotationIsDefaultIngressClass] == "true" {
			defaults = append(defaults, c)
		}
	}
	if len(defaults) == 0 {
		return nil, nil
	}
	sort.Slice(defaults, func(i, j int) bool {
		ti, tj := defaults[i].CreationTimestamp, defaults[j].CreationTimestamp
		if !ti.Equal(&tj) {
			return tj.Before(&ti) // newest first
		}
		return defaults[i].Name < defaults[j].Name
	})
	names := make([]string, len(defaults))
	for i, c := range defaults {
		names[i] = c.Name
	}
	sort.Strings(names)
	return defaults[0], names
}
