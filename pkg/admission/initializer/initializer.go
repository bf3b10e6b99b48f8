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

// Package initializer hands signet's shared informers to the admission
// plugins that ask for them.
package initializer

import (
	"k8s.io/apiserver/pkg/admission"

	informers "signet.dev/client-go/informers/externalversions"
)

// WantsSignetInformerFactory is implemented by admission plugins that read
// signet objects (for example IngressClasses) from a shared informer.
type WantsSignetInformerFactory interface {
	SetSignetInformerFactory(informers.SharedInformerFactory)
	admission.InitializationValidator
}

type pluginInitializer struct {
	informers informers.SharedInformerFactory
}

// New returns an initializer that gives plugins the factory f.
func New(f informers.SharedInformerFactory) admission.PluginInitializer {
	return pluginInitializer{informers: f}
}

// Initialize hands the factory to a plugin that wants it.
func (i pluginInitializer) Initialize(plugin admission.Interface) {
	if wants, ok := plugin.(WantsSignetInformerFactory); ok {
		wants.SetSignetInformerFactory(i.informers)
	}
}
