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

package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	discoveryv1alpha1 "signet.dev/api/discovery/v1alpha1"
)

// GroupName is the API group of this version.
const GroupName = "discovery.signet.dev"

// SchemeGroupVersion is the group and version converted and defaulted here.
var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1alpha1"}

var (
	// localSchemeBuilder extends the versioned types' SchemeBuilder with
	// this package's defaults and conversions, so that installing the group
	// registers all three together.
	localSchemeBuilder = &discoveryv1alpha1.SchemeBuilder
	// AddToScheme adds the v1alpha1 types, their defaults and their conversions to
	// a scheme.
	AddToScheme = localSchemeBuilder.AddToScheme
)

func init() {
	// The generated conversions register themselves in
	// zz_generated.conversion.go; defaults are registered here.
	localSchemeBuilder.Register(addDefaultingFuncs)
}

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}
