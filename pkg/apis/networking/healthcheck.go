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

package networking

// Health-check defaults and limits. Every served version defaults to these
// values and validation enforces these ranges, so they live with the hub.
const (
	DefaultHealthCheckPath               = "/"
	DefaultHealthCheckIntervalSeconds    = 10
	DefaultHealthCheckTimeoutSeconds     = 5
	DefaultHealthCheckHealthyThreshold   = 2
	DefaultHealthCheckUnhealthyThreshold = 3

	MinHealthCheckIntervalSeconds = 1
	MaxHealthCheckIntervalSeconds = 300
	MinHealthCheckTimeoutSeconds  = 1
	MaxHealthCheckTimeoutSeconds  = 60
	MinHealthCheckThreshold       = 1
	MaxHealthCheckThreshold       = 10
)
