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

// +k8s:conversion-gen=signet.dev/signet/pkg/apis/discovery
// +k8s:conversion-gen-external-types=signet.dev/api/discovery/v1
// +k8s:defaulter-gen=TypeMeta
// +k8s:defaulter-gen-input=signet.dev/api/discovery/v1
// +groupName=discovery.signet.dev

// Package v1 holds what the server needs for discovery.signet.dev/v1 beyond
// the types in signet.dev/api/discovery/v1: defaults and conversions to and from
// the internal version.
package v1 // import "signet.dev/signet/pkg/apis/discovery/v1"
