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
// +k8s:openapi-model-package=dev.signet.api.networking.v1
// +groupName=networking.signet.dev

// Package v1 is the stable version of the networking.signet.dev API group:
// Ingress with typed path matching, IngressClass, health checks, non-Service
// backends and a status with conditions. It is the storage version.
package v1 // import "signet.dev/api/networking/v1"
