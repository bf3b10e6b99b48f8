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
// +k8s:openapi-model-package=dev.signet.api.discovery.v1
// +groupName=discovery.signet.dev

// Package v1 is the stable version of the discovery.signet.dev API group:
// EndpointSlice, the network endpoints of a Service split into slices of at
// most 1000 (100 by default), one address family each, with the topology of
// each endpoint's node. It is the storage version.
package v1 // import "signet.dev/api/discovery/v1"
