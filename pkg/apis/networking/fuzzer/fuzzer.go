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

// Package fuzzer holds the randfill functions that produce internal
// networking.signet.dev objects for round-trip tests: random, but already
// defaulted and shaped so that every served version can represent them.
package fuzzer

import (
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/randfill"

	"signet.dev/signet/pkg/apis/networking"
)

// Funcs returns the fuzzer functions of the networking.signet.dev group.
// Each one fills its type at random and then repairs the few things a
// served version cannot carry or that defaulting would change on decode.
var Funcs = func(_ runtimeserializer.CodecFactory) []interface{} {
	return []interface{}{
		func(path *networking.HTTPIngressPath, c randfill.Continue) {
			c.FillNoCustom(path)
			// v1beta1 defaults a missing pathType, so a decoded object
			// always has one.
			pathTypes := []networking.PathType{
				networking.PathTypeExact,
				networking.PathTypePrefix,
				networking.PathTypeImplementationSpecific,
			}
			pathType := pathTypes[c.Intn(len(pathTypes))]
			path.PathType = &pathType
		},
		func(port *networking.ServiceBackendPort, c randfill.Continue) {
			c.FillNoCustom(port)
			// v1beta1 spells a port as int-or-string: one of the two.
			if c.Bool() {
				port.Name = ""
				if port.Number == 0 {
					port.Number = 1 + int32(c.Intn(65535))
				}
			} else {
				port.Number = 0
				if port.Name == "" {
					port.Name = "http"
				}
			}
		},
		func(backend *networking.IngressServiceBackend, c randfill.Continue) {
			c.FillNoCustom(backend)
			// v1beta1 has no Service backend object, only serviceName and
			// servicePort: an empty one would read back as no backend.
			if backend.Name == "" {
				backend.Name = "svc"
			}
			if hc := backend.HealthCheck; hc != nil && hc.Port == nil {
				port := backend.Port
				hc.Port = &port
			}
		},
		func(hc *networking.IngressHealthCheck, c randfill.Continue) {
			c.FillNoCustom(hc)
			// Every version defaults these on decode.
			if hc.Path == "" {
				hc.Path = networking.DefaultHealthCheckPath
			}
			fillInt32(&hc.IntervalSeconds, c)
			fillInt32(&hc.TimeoutSeconds, c)
			fillInt32(&hc.HealthyThreshold, c)
			fillInt32(&hc.UnhealthyThreshold, c)
		},
		func(params *networking.IngressClassParametersReference, c randfill.Continue) {
			c.FillNoCustom(params)
			// scope is defaulted to Cluster on decode.
			if params.Scope == nil {
				scope := networking.IngressClassParametersReferenceScopeCluster
				if c.Bool() {
					scope = networking.IngressClassParametersReferenceScopeNamespace
				}
				params.Scope = &scope
			}
		},
	}
}

func fillInt32(field **int32, c randfill.Continue) {
	if *field == nil {
		v := c.Int31()
		*field = &v
	}
}
