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

// +k8s:deepcopy-gen=package
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=dev.signet.api.discovery.v1alpha1
// +groupName=discovery.signet.dev

// Package v1alpha1 is the 2019 shape of the EndpointSlice API: each
// endpoint's location is a topology map keyed by node label
// (kubernetes.io/hostname, topology.kubernetes.io/zone,
// topology.kubernetes.io/region). It also carries the optional fields of v1
// it could not otherwise express, so that v1 objects round-trip through it
// losslessly.
package v1alpha1 // import "signet.dev/api/discovery/v1alpha1"
