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

package v1beta1

import (
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/util/intstr"

	networkingv1beta1 "signet.dev/api/networking/v1beta1"

	"signet.dev/signet/pkg/apis/networking"
)

// The legacy shape differs from the hub in three places, converted here:
// spec.backend is spec.defaultBackend, a Service backend is the flat pair
// serviceName/servicePort instead of service{name, port{name|number}}, and
// ports (also a health check's) are int-or-string instead of name|number.

// Convert_v1beta1_IngressSpec_To_networking_IngressSpec renames
// spec.backend to spec.defaultBackend.
func Convert_v1beta1_IngressSpec_To_networking_IngressSpec(in *networkingv1beta1.IngressSpec, out *networking.IngressSpec, s conversion.Scope) error {
	if err := autoConvert_v1beta1_IngressSpec_To_networking_IngressSpec(in, out, s); err != nil {
		return err
	}
	if in.Backend != nil {
		out.DefaultBackend = &networking.IngressBackend{}
		if err := Convert_v1beta1_IngressBackend_To_networking_IngressBackend(in.Backend, out.DefaultBackend, s); err != nil {
			return err
		}
	}
	return nil
}

// Convert_networking_IngressSpec_To_v1beta1_IngressSpec renames
// spec.defaultBackend to spec.backend.
func Convert_networking_IngressSpec_To_v1beta1_IngressSpec(in *networking.IngressSpec, out *networkingv1beta1.IngressSpec, s conversion.Scope) error {
	if err := autoConvert_networking_IngressSpec_To_v1beta1_IngressSpec(in, out, s); err != nil {
		return err
	}
	if in.DefaultBackend != nil {
		out.Backend = &networkingv1beta1.IngressBackend{}
		if err := Convert_networking_IngressBackend_To_v1beta1_IngressBackend(in.DefaultBackend, out.Backend, s); err != nil {
			return err
		}
	}
	return nil
}

// Convert_v1beta1_IngressBackend_To_networking_IngressBackend turns the
// flat serviceName/servicePort pair into a Service backend. A backend that
// sets any Service field (or a health check, which only a Service backend
// has) becomes a Service backend, so that validation can name what is
// missing instead of the fields silently disappearing.
func Convert_v1beta1_IngressBackend_To_networking_IngressBackend(in *networkingv1beta1.IngressBackend, out *networking.IngressBackend, s conversion.Scope) error {
	if err := autoConvert_v1beta1_IngressBackend_To_networking_IngressBackend(in, out, s); err != nil {
		return err
	}
	if in.ServiceName == "" && isZeroIntOrString(in.ServicePort) && in.HealthCheck == nil {
		return nil
	}
	out.Service = &networking.IngressServiceBackend{
		Name: in.ServiceName,
		Port: serviceBackendPortFromIntOrString(in.ServicePort),
	}
	if in.HealthCheck != nil {
		out.Service.HealthCheck = &networking.IngressHealthCheck{}
		if err := Convert_v1beta1_IngressHealthCheck_To_networking_IngressHealthCheck(in.HealthCheck, out.Service.HealthCheck, s); err != nil {
			return err
		}
	}
	return nil
}

// Convert_networking_IngressBackend_To_v1beta1_IngressBackend flattens a
// Service backend into serviceName/servicePort.
func Convert_networking_IngressBackend_To_v1beta1_IngressBackend(in *networking.IngressBackend, out *networkingv1beta1.IngressBackend, s conversion.Scope) error {
	if err := autoConvert_networking_IngressBackend_To_v1beta1_IngressBackend(in, out, s); err != nil {
		return err
	}
	if in.Service == nil {
		return nil
	}
	out.ServiceName = in.Service.Name
	out.ServicePort = intOrStringFromServiceBackendPort(in.Service.Port)
	if in.Service.HealthCheck != nil {
		out.HealthCheck = &networkingv1beta1.IngressHealthCheck{}
		if err := Convert_networking_IngressHealthCheck_To_v1beta1_IngressHealthCheck(in.Service.HealthCheck, out.HealthCheck, s); err != nil {
			return err
		}
	}
	return nil
}

// Convert_intstr_IntOrString_To_networking_ServiceBackendPort maps a
// string to a port name and an integer to a port number. The generated
// conversions use it for a health check's port.
func Convert_intstr_IntOrString_To_networking_ServiceBackendPort(in *intstr.IntOrString, out *networking.ServiceBackendPort, _ conversion.Scope) error {
	*out = serviceBackendPortFromIntOrString(*in)
	return nil
}

// Convert_networking_ServiceBackendPort_To_intstr_IntOrString is the
// inverse of Convert_intstr_IntOrString_To_networking_ServiceBackendPort.
func Convert_networking_ServiceBackendPort_To_intstr_IntOrString(in *networking.ServiceBackendPort, out *intstr.IntOrString, _ conversion.Scope) error {
	*out = intOrStringFromServiceBackendPort(*in)
	return nil
}

// serviceBackendPortFromIntOrString maps a string to a port name and an
// integer to a port number.
func serviceBackendPortFromIntOrString(port intstr.IntOrString) networking.ServiceBackendPort {
	if port.Type == intstr.String {
		return networking.ServiceBackendPort{Name: port.StrVal}
	}
	return networking.ServiceBackendPort{Number: port.IntVal}
}

// intOrStringFromServiceBackendPort is the inverse of
// serviceBackendPortFromIntOrString. A port with both a name and a number
// (which validation rejects) keeps its name.
func intOrStringFromServiceBackendPort(port networking.ServiceBackendPort) intstr.IntOrString {
	if port.Name != "" {
		return intstr.FromString(port.Name)
	}
	return intstr.FromInt32(port.Number)
}

func isZeroIntOrString(port intstr.IntOrString) bool {
	return port.Type == intstr.Int && port.IntVal == 0
}
