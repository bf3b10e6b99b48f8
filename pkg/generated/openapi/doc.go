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

// Package openapi holds the generated OpenAPI definitions of signet's
// versioned types (and the core/v1 types they reference). signet-apiserver
// serves them as OpenAPI v2 and v3; `kubectl explain` prints their field
// documentation. Regenerate with `make update`.
package openapi
