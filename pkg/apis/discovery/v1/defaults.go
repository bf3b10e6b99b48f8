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

package v1

import (
	corev1 "k8s.io/api/core/v1"

	discoveryv1 "signet.dev/api/discovery/v1"
)

// SetDefaults_EndpointPort gives an unnamed port the empty name and a port
// without protocol TCP, as Service ports are defaulted.
func SetDefaults_EndpointPort(obj *discoveryv1.EndpointPort) {
	if obj.Name == nil {
		name := ""
		obj.Name = &name
	}
	if obj.Protocol == nil {
		protocol := corev1.ProtocolTCP
		obj.Protocol = &protocol
	}
}
