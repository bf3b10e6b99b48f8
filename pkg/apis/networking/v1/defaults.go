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
	networkingv1 "signet.dev/api/networking/v1"

	"signet.dev/signet/pkg/apis/networking"
)

// SetDefaults_IngressServiceBackend defaults the health check of a Service
// backend; its port, when unset, is the port the backend serves on.
func SetDefaults_IngressServiceBackend(obj *networkingv1.IngressServiceBackend) {
	hc := obj.HealthCheck
	if hc == nil {
		return
	}
	if hc.Port == nil {
		port := obj.Port
		hc.Port = &port
	}
	SetDefaults_IngressHealthCheck(hc)
}

// SetDefaults_IngressHealthCheck fills the unset timings, thresholds and
// path of a health check.
func SetDefaults_IngressHealthCheck(obj *networkingv1.IngressHealthCheck) {
	if obj.Path == "" {
		obj.Path = networking.DefaultHealthCheckPath
	}
	setInt32(&obj.IntervalSeconds, networking.DefaultHealthCheckIntervalSeconds)
	setInt32(&obj.TimeoutSeconds, networking.DefaultHealthCheckTimeoutSeconds)
	setInt32(&obj.HealthyThreshold, networking.DefaultHealthCheckHealthyThreshold)
	setInt32(&obj.UnhealthyThreshold, networking.DefaultHealthCheckUnhealthyThreshold)
}

// SetDefaults_IngressClass makes parameters without a scope cluster-scoped,
// which is what they were before scope existed.
func SetDefaults_IngressClass(obj *networkingv1.IngressClass) {
	if p := obj.Spec.Parameters; p != nil && p.Scope == nil {
		scope := networkingv1.IngressClassParametersReferenceScopeCluster
		p.Scope = &scope
	}
}

func setInt32(field **int32, value int32) {
	if *field == nil {
		*field = &value
	}
}
