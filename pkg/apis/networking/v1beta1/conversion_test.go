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

package v1beta1_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"

	networkingv1 "signet.dev/api/networking/v1"
	networkingv1beta1 "signet.dev/api/networking/v1beta1"

	discoveryinstall "signet.dev/signet/pkg/apis/discovery/install"
	"signet.dev/signet/pkg/apis/networking"
	networkinginstall "signet.dev/signet/pkg/apis/networking/install"
)

func ptr[T any](v T) *T { return &v }

func newScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	networkinginstall.Install(scheme)
	discoveryinstall.Install(scheme)
	return scheme
}

func convert(t *testing.T, scheme *runtime.Scheme, in, out interface{}) {
	t.Helper()
	if err := scheme.Convert(in, out, nil); err != nil {
		t.Fatalf("converting %T to %T: %v", in, out, err)
	}
}

func requireEqual(t *testing.T, what string, want, got interface{}) {
	t.Helper()
	if !apiequality.Semantic.DeepEqual(want, got) {
		t.Errorf("%s differs (-want +got):\n%s", what, cmp.Diff(want, got))
	}
}

// decode reads JSON through the universal decoder, which defaults the object
// in its own version and converts it to the internal version.
func decode(t *testing.T, scheme *runtime.Scheme, data string) runtime.Object {
	t.Helper()
	obj, _, err := serializer.NewCodecFactory(scheme).UniversalDecoder().Decode([]byte(data), nil, nil)
	if err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	return obj
}

func v1PathType(p networkingv1.PathType) *networkingv1.PathType { return &p }

func v1beta1PathType(p networkingv1beta1.PathType) *networkingv1beta1.PathType { return &p }

func internalPathType(p networking.PathType) *networking.PathType { return &p }

func TestIngressV1RoundTripThroughV1beta1(t *testing.T) {
	scheme := newScheme(t)
	accepted := metav1.NewTime(time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC).Truncate(time.Second))
	programmed := metav1.NewTime(time.Date(2026, 3, 14, 15, 9, 31, 0, time.UTC).Truncate(time.Second))

	original := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{
			Name:        "shop",
			Namespace:   "store",
			Generation:  3,
			Labels:      map[string]string{"app": "shop", "tier": "frontend"},
			Annotations: map[string]string{"example.com/owner": "team-a"},
		},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr("signet"),
			DefaultBackend: &networkingv1.IngressBackend{
				Service: &networkingv1.IngressServiceBackend{
					Name: "fallback",
					Port: networkingv1.ServiceBackendPort{Number: 8080},
					HealthCheck: &networkingv1.IngressHealthCheck{
						Path:               "/healthz",
						Port:               &networkingv1.ServiceBackendPort{Name: "admin"},
						IntervalSeconds:    ptr[int32](15),
						TimeoutSeconds:     ptr[int32](4),
						HealthyThreshold:   ptr[int32](5),
						UnhealthyThreshold: ptr[int32](7),
					},
				},
			},
			TLS: []networkingv1.IngressTLS{{
				Hosts:      []string{"*.example.com", "shop.example.com"},
				SecretName: "example-tls",
			}},
			Rules: []networkingv1.IngressRule{
				{
					Host: "*.example.com",
					IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
						Paths: []networkingv1.HTTPIngressPath{{
							Path:     "/",
							PathType: v1PathType(networkingv1.PathTypePrefix),
							Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
								Name: "web",
								Port: networkingv1.ServiceBackendPort{Name: "http"},
							}},
						}},
					}},
				},
				{
					Host: "shop.example.com",
					IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
						Paths: []networkingv1.HTTPIngressPath{
							{
								Path:     "/cart",
								PathType: v1PathType(networkingv1.PathTypeExact),
								Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
									Name: "cart",
									Port: networkingv1.ServiceBackendPort{Number: 80},
								}},
							},
							{
								Path:     "/static/.*",
								PathType: v1PathType(networkingv1.PathTypeImplementationSpecific),
								Backend: networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{
									APIGroup: ptr("storage.example.com"),
									Kind:     "Bucket",
									Name:     "static-assets",
								}},
							},
						},
					}},
				},
			},
		},
		Status: networkingv1.IngressStatus{
			LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{
				{
					IP:       "203.0.113.10",
					Hostname: "lb-1.example.net",
					Ports: []networkingv1.IngressPortStatus{
						{Port: 80, Protocol: corev1.ProtocolTCP},
						{Port: 443, Protocol: corev1.ProtocolTCP, Error: ptr("CertificateInvalid: certificate has expired")},
					},
				},
				{Hostname: "lb-2.example.net"},
			}},
			Conditions: []metav1.Condition{
				{
					Type:               networkingv1.IngressConditionAccepted,
					Status:             metav1.ConditionTrue,
					ObservedGeneration: 3,
					LastTransitionTime: accepted,
					Reason:             "Accepted",
					Message:            "accepted by signet.dev/ingress",
				},
				{
					Type:               networkingv1.IngressConditionProgrammed,
					Status:             metav1.ConditionFalse,
					ObservedGeneration: 3,
					LastTransitionTime: programmed,
					Reason:             "Pending",
					Message:            "waiting for the load balancer",
				},
			},
		},
	}
	// The generated conversions share memory between input and output, so
	// compare against a copy taken before anything is converted.
	want := original.DeepCopy()

	var hub1 networking.Ingress
	convert(t, scheme, original, &hub1)
	var legacy networkingv1beta1.Ingress
	convert(t, scheme, &hub1, &legacy)

	t.Run("v1beta1 shape", func(t *testing.T) {
		wantLegacy := networkingv1beta1.Ingress{
			ObjectMeta: *want.ObjectMeta.DeepCopy(),
			Spec: networkingv1beta1.IngressSpec{
				IngressClassName: ptr("signet"),
				Backend: &networkingv1beta1.IngressBackend{
					ServiceName: "fallback",
					ServicePort: intstr.FromInt32(8080),
					HealthCheck: &networkingv1beta1.IngressHealthCheck{
						Path:               "/healthz",
						Port:               ptr(intstr.FromString("admin")),
						IntervalSeconds:    ptr[int32](15),
						TimeoutSeconds:     ptr[int32](4),
						HealthyThreshold:   ptr[int32](5),
						UnhealthyThreshold: ptr[int32](7),
					},
				},
				TLS: []networkingv1beta1.IngressTLS{{
					Hosts:      []string{"*.example.com", "shop.example.com"},
					SecretName: "example-tls",
				}},
				Rules: []networkingv1beta1.IngressRule{
					{
						Host: "*.example.com",
						IngressRuleValue: networkingv1beta1.IngressRuleValue{HTTP: &networkingv1beta1.HTTPIngressRuleValue{
							Paths: []networkingv1beta1.HTTPIngressPath{{
								Path:     "/",
								PathType: v1beta1PathType(networkingv1beta1.PathTypePrefix),
								Backend: networkingv1beta1.IngressBackend{
									ServiceName: "web",
									ServicePort: intstr.FromString("http"),
								},
							}},
						}},
					},
					{
						Host: "shop.example.com",
						IngressRuleValue: networkingv1beta1.IngressRuleValue{HTTP: &networkingv1beta1.HTTPIngressRuleValue{
							Paths: []networkingv1beta1.HTTPIngressPath{
								{
									Path:     "/cart",
									PathType: v1beta1PathType(networkingv1beta1.PathTypeExact),
									Backend: networkingv1beta1.IngressBackend{
										ServiceName: "cart",
										ServicePort: intstr.FromInt32(80),
									},
								},
								{
									Path:     "/static/.*",
									PathType: v1beta1PathType(networkingv1beta1.PathTypeImplementationSpecific),
									Backend: networkingv1beta1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{
										APIGroup: ptr("storage.example.com"),
										Kind:     "Bucket",
										Name:     "static-assets",
									}},
								},
							},
						}},
					},
				},
			},
			Status: networkingv1beta1.IngressStatus{
				LoadBalancer: networkingv1beta1.IngressLoadBalancerStatus{Ingress: []networkingv1beta1.IngressLoadBalancerIngress{
					{
						IP:       "203.0.113.10",
						Hostname: "lb-1.example.net",
						Ports: []networkingv1beta1.IngressPortStatus{
							{Port: 80, Protocol: corev1.ProtocolTCP},
							{Port: 443, Protocol: corev1.ProtocolTCP, Error: ptr("CertificateInvalid: certificate has expired")},
						},
					},
					{Hostname: "lb-2.example.net"},
				}},
				Conditions: []metav1.Condition{
					{
						Type:               "Accepted",
						Status:             metav1.ConditionTrue,
						ObservedGeneration: 3,
						LastTransitionTime: accepted,
						Reason:             "Accepted",
						Message:            "accepted by signet.dev/ingress",
					},
					{
						Type:               "Programmed",
						Status:             metav1.ConditionFalse,
						ObservedGeneration: 3,
						LastTransitionTime: programmed,
						Reason:             "Pending",
						Message:            "waiting for the load balancer",
					},
				},
			},
		}
		requireEqual(t, "v1beta1 Ingress", &wantLegacy, &legacy)

		// The same facts, spelled out, so a failure names the field.
		backend := legacy.Spec.Backend
		if backend == nil {
			t.Fatalf("spec.backend is nil, want the default backend")
		}
		if backend.ServiceName != "fallback" || backend.ServicePort.Type != intstr.Int || backend.ServicePort.IntVal != 8080 {
			t.Errorf("spec.backend = %q/%#v, want fallback/int 8080", backend.ServiceName, backend.ServicePort)
		}
		if hc := backend.HealthCheck; hc == nil || hc.Port == nil || hc.Port.Type != intstr.String || hc.Port.StrVal != "admin" {
			t.Errorf("spec.backend.healthCheck = %#v, want port string \"admin\"", hc)
		}
		web := legacy.Spec.Rules[0].HTTP.Paths[0].Backend
		if web.ServicePort.Type != intstr.String || web.ServicePort.StrVal != "http" {
			t.Errorf("name-port backend servicePort = %#v, want string \"http\"", web.ServicePort)
		}
	})

	var hub2 networking.Ingress
	convert(t, scheme, &legacy, &hub2)
	requireEqual(t, "internal Ingress after v1beta1", &hub1, &hub2)

	var got networkingv1.Ingress
	convert(t, scheme, &hub2, &got)
	requireEqual(t, "v1 Ingress after v1 -> internal -> v1beta1 -> internal -> v1", want, &got)
}

func TestV1beta1ToInternal(t *testing.T) {
	scheme := newScheme(t)
	bucket := &corev1.TypedLocalObjectReference{APIGroup: ptr("storage.example.com"), Kind: "Bucket", Name: "assets"}
	// pathRule wraps one v1beta1 path backend in a rule.
	pathRule := func(b networkingv1beta1.IngressBackend) []networkingv1beta1.IngressRule {
		return []networkingv1beta1.IngressRule{{
			Host: "shop.example.com",
			IngressRuleValue: networkingv1beta1.IngressRuleValue{HTTP: &networkingv1beta1.HTTPIngressRuleValue{
				Paths: []networkingv1beta1.HTTPIngressPath{{
					Path:     "/app",
					PathType: v1beta1PathType(networkingv1beta1.PathTypePrefix),
					Backend:  b,
				}},
			}},
		}}
	}
	internalRule := func(b networking.IngressBackend) []networking.IngressRule {
		return []networking.IngressRule{{
			Host: "shop.example.com",
			IngressRuleValue: networking.IngressRuleValue{HTTP: &networking.HTTPIngressRuleValue{
				Paths: []networking.HTTPIngressPath{{
					Path:     "/app",
					PathType: internalPathType(networking.PathTypePrefix),
					Backend:  b,
				}},
			}},
		}}
	}

	tests := []struct {
		name string
		in   networkingv1beta1.IngressSpec
		want networking.IngressSpec
	}{
		{
			name: "backend is renamed to defaultBackend",
			in: networkingv1beta1.IngressSpec{Backend: &networkingv1beta1.IngressBackend{
				ServiceName: "fallback", ServicePort: intstr.FromInt32(8080),
			}},
			want: networking.IngressSpec{DefaultBackend: &networking.IngressBackend{Service: &networking.IngressServiceBackend{
				Name: "fallback", Port: networking.ServiceBackendPort{Number: 8080},
			}}},
		},
		{
			name: "no backend leaves defaultBackend nil",
			in: networkingv1beta1.IngressSpec{Rules: pathRule(networkingv1beta1.IngressBackend{
				ServiceName: "web", ServicePort: intstr.FromInt32(80),
			})},
			want: networking.IngressSpec{Rules: internalRule(networking.IngressBackend{Service: &networking.IngressServiceBackend{
				Name: "web", Port: networking.ServiceBackendPort{Number: 80},
			}})},
		},
		{
			name: "string servicePort becomes port.name",
			in: networkingv1beta1.IngressSpec{Rules: pathRule(networkingv1beta1.IngressBackend{
				ServiceName: "web", ServicePort: intstr.FromString("http"),
			})},
			want: networking.IngressSpec{Rules: internalRule(networking.IngressBackend{Service: &networking.IngressServiceBackend{
				Name: "web", Port: networking.ServiceBackendPort{Name: "http"},
			}})},
		},
		{
			name: "int servicePort becomes port.number",
			in: networkingv1beta1.IngressSpec{Rules: pathRule(networkingv1beta1.IngressBackend{
				ServiceName: "web", ServicePort: intstr.FromInt32(8443),
			})},
			want: networking.IngressSpec{Rules: internalRule(networking.IngressBackend{Service: &networking.IngressServiceBackend{
				Name: "web", Port: networking.ServiceBackendPort{Number: 8443},
			}})},
		},
		{
			name: "resource backend stays resource and service stays nil",
			in: networkingv1beta1.IngressSpec{
				Backend: &networkingv1beta1.IngressBackend{Resource: bucket.DeepCopy()},
				Rules:   pathRule(networkingv1beta1.IngressBackend{Resource: bucket.DeepCopy()}),
			},
			want: networking.IngressSpec{
				DefaultBackend: &networking.IngressBackend{Resource: bucket.DeepCopy()},
				Rules:          internalRule(networking.IngressBackend{Resource: bucket.DeepCopy()}),
			},
		},
		{
			name: "healthCheck moves onto the service backend",
			in: networkingv1beta1.IngressSpec{
				Backend: &networkingv1beta1.IngressBackend{
					ServiceName: "fallback",
					ServicePort: intstr.FromString("http"),
					HealthCheck: &networkingv1beta1.IngressHealthCheck{
						Path:               "/ready",
						Port:               ptr(intstr.FromInt32(9090)),
						IntervalSeconds:    ptr[int32](20),
						TimeoutSeconds:     ptr[int32](2),
						HealthyThreshold:   ptr[int32](1),
						UnhealthyThreshold: ptr[int32](9),
					},
				},
				Rules: pathRule(networkingv1beta1.IngressBackend{
					ServiceName: "web",
					ServicePort: intstr.FromInt32(80),
					HealthCheck: &networkingv1beta1.IngressHealthCheck{Path: "/live", Port: ptr(intstr.FromString("admin"))},
				}),
			},
			want: networking.IngressSpec{
				DefaultBackend: &networking.IngressBackend{Service: &networking.IngressServiceBackend{
					Name: "fallback",
					Port: networking.ServiceBackendPort{Name: "http"},
					HealthCheck: &networking.IngressHealthCheck{
						Path:               "/ready",
						Port:               &networking.ServiceBackendPort{Number: 9090},
						IntervalSeconds:    ptr[int32](20),
						TimeoutSeconds:     ptr[int32](2),
						HealthyThreshold:   ptr[int32](1),
						UnhealthyThreshold: ptr[int32](9),
					},
				}},
				Rules: internalRule(networking.IngressBackend{Service: &networking.IngressServiceBackend{
					Name:        "web",
					Port:        networking.ServiceBackendPort{Number: 80},
					HealthCheck: &networking.IngressHealthCheck{Path: "/live", Port: &networking.ServiceBackendPort{Name: "admin"}},
				}}),
			},
		},
		{
			name: "healthCheck without serviceName still makes a service backend with an empty name",
			in: networkingv1beta1.IngressSpec{Backend: &networkingv1beta1.IngressBackend{
				HealthCheck: &networkingv1beta1.IngressHealthCheck{Path: "/ready"},
			}},
			want: networking.IngressSpec{DefaultBackend: &networking.IngressBackend{Service: &networking.IngressServiceBackend{
				Name:        "",
				Port:        networking.ServiceBackendPort{},
				HealthCheck: &networking.IngressHealthCheck{Path: "/ready"},
			}}},
		},
		{
			name: "servicePort without serviceName makes a service backend with an empty name",
			in: networkingv1beta1.IngressSpec{Backend: &networkingv1beta1.IngressBackend{
				ServicePort: intstr.FromString("http"),
			}},
			want: networking.IngressSpec{DefaultBackend: &networking.IngressBackend{Service: &networking.IngressServiceBackend{
				Port: networking.ServiceBackendPort{Name: "http"},
			}}},
		},
		{
			name: "resource backend with a healthCheck gets both resource and an unnamed service",
			in: networkingv1beta1.IngressSpec{Backend: &networkingv1beta1.IngressBackend{
				Resource:    bucket.DeepCopy(),
				HealthCheck: &networkingv1beta1.IngressHealthCheck{Path: "/ready"},
			}},
			want: networking.IngressSpec{DefaultBackend: &networking.IngressBackend{
				Service:  &networking.IngressServiceBackend{HealthCheck: &networking.IngressHealthCheck{Path: "/ready"}},
				Resource: bucket.DeepCopy(),
			}},
		},
		{
			name: "empty backend has neither service nor resource",
			in:   networkingv1beta1.IngressSpec{Backend: &networkingv1beta1.IngressBackend{}},
			want: networking.IngressSpec{DefaultBackend: &networking.IngressBackend{}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &networkingv1beta1.Ingress{
				ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "store"},
				Spec:       tc.in,
			}
			var out networking.Ingress
			convert(t, scheme, in, &out)
			want := &networking.Ingress{
				ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "store"},
				Spec:       tc.want,
			}
			requireEqual(t, "internal Ingress", want, &out)
		})
	}
}

func TestInternalToV1beta1(t *testing.T) {
	scheme := newScheme(t)
	bucket := &corev1.TypedLocalObjectReference{APIGroup: ptr("storage.example.com"), Kind: "Bucket", Name: "assets"}
	pathRule := func(b networkingv1beta1.IngressBackend) []networkingv1beta1.IngressRule {
		return []networkingv1beta1.IngressRule{{
			Host: "shop.example.com",
			IngressRuleValue: networkingv1beta1.IngressRuleValue{HTTP: &networkingv1beta1.HTTPIngressRuleValue{
				Paths: []networkingv1beta1.HTTPIngressPath{{
					Path:     "/app",
					PathType: v1beta1PathType(networkingv1beta1.PathTypeExact),
					Backend:  b,
				}},
			}},
		}}
	}
	internalRule := func(b networking.IngressBackend) []networking.IngressRule {
		return []networking.IngressRule{{
			Host: "shop.example.com",
			IngressRuleValue: networking.IngressRuleValue{HTTP: &networking.HTTPIngressRuleValue{
				Paths: []networking.HTTPIngressPath{{
					Path:     "/app",
					PathType: internalPathType(networking.PathTypeExact),
					Backend:  b,
				}},
			}},
		}}
	}

	tests := []struct {
		name string
		in   networking.IngressSpec
		want networkingv1beta1.IngressSpec
	}{
		{
			name: "defaultBackend is renamed to backend",
			in: networking.IngressSpec{DefaultBackend: &networking.IngressBackend{Service: &networking.IngressServiceBackend{
				Name: "fallback", Port: networking.ServiceBackendPort{Number: 8080},
			}}},
			want: networkingv1beta1.IngressSpec{Backend: &networkingv1beta1.IngressBackend{
				ServiceName: "fallback", ServicePort: intstr.FromInt32(8080),
			}},
		},
		{
			name: "no defaultBackend leaves backend nil",
			in: networking.IngressSpec{Rules: internalRule(networking.IngressBackend{Service: &networking.IngressServiceBackend{
				Name: "web", Port: networking.ServiceBackendPort{Number: 80},
			}})},
			want: networkingv1beta1.IngressSpec{Rules: pathRule(networkingv1beta1.IngressBackend{
				ServiceName: "web", ServicePort: intstr.FromInt32(80),
			})},
		},
		{
			name: "port.name becomes a string servicePort",
			in: networking.IngressSpec{Rules: internalRule(networking.IngressBackend{Service: &networking.IngressServiceBackend{
				Name: "web", Port: networking.ServiceBackendPort{Name: "http"},
			}})},
			want: networkingv1beta1.IngressSpec{Rules: pathRule(networkingv1beta1.IngressBackend{
				ServiceName: "web", ServicePort: intstr.FromString("http"),
			})},
		},
		{
			name: "port.number becomes an int servicePort",
			in: networking.IngressSpec{Rules: internalRule(networking.IngressBackend{Service: &networking.IngressServiceBackend{
				Name: "web", Port: networking.ServiceBackendPort{Number: 8443},
			}})},
			want: networkingv1beta1.IngressSpec{Rules: pathRule(networkingv1beta1.IngressBackend{
				ServiceName: "web", ServicePort: intstr.FromInt32(8443),
			})},
		},
		{
			name: "port with both name and number keeps the name",
			in: networking.IngressSpec{Rules: internalRule(networking.IngressBackend{Service: &networking.IngressServiceBackend{
				Name: "web", Port: networking.ServiceBackendPort{Name: "http", Number: 80},
			}})},
			want: networkingv1beta1.IngressSpec{Rules: pathRule(networkingv1beta1.IngressBackend{
				ServiceName: "web", ServicePort: intstr.FromString("http"),
			})},
		},
		{
			name: "resource backend stays resource with no service fields",
			in: networking.IngressSpec{
				DefaultBackend: &networking.IngressBackend{Resource: bucket.DeepCopy()},
				Rules:          internalRule(networking.IngressBackend{Resource: bucket.DeepCopy()}),
			},
			want: networkingv1beta1.IngressSpec{
				Backend: &networkingv1beta1.IngressBackend{Resource: bucket.DeepCopy()},
				Rules:   pathRule(networkingv1beta1.IngressBackend{Resource: bucket.DeepCopy()}),
			},
		},
		{
			name: "service healthCheck moves onto the backend",
			in: networking.IngressSpec{
				DefaultBackend: &networking.IngressBackend{Service: &networking.IngressServiceBackend{
					Name: "fallback",
					Port: networking.ServiceBackendPort{Name: "http"},
					HealthCheck: &networking.IngressHealthCheck{
						Path:               "/ready",
						Port:               &networking.ServiceBackendPort{Number: 9090},
						IntervalSeconds:    ptr[int32](20),
						TimeoutSeconds:     ptr[int32](2),
						HealthyThreshold:   ptr[int32](1),
						UnhealthyThreshold: ptr[int32](9),
					},
				}},
				Rules: internalRule(networking.IngressBackend{Service: &networking.IngressServiceBackend{
					Name:        "web",
					Port:        networking.ServiceBackendPort{Number: 80},
					HealthCheck: &networking.IngressHealthCheck{Path: "/live", Port: &networking.ServiceBackendPort{Name: "admin"}},
				}}),
			},
			want: networkingv1beta1.IngressSpec{
				Backend: &networkingv1beta1.IngressBackend{
					ServiceName: "fallback",
					ServicePort: intstr.FromString("http"),
					HealthCheck: &networkingv1beta1.IngressHealthCheck{
						Path:               "/ready",
						Port:               ptr(intstr.FromInt32(9090)),
						IntervalSeconds:    ptr[int32](20),
						TimeoutSeconds:     ptr[int32](2),
						HealthyThreshold:   ptr[int32](1),
						UnhealthyThreshold: ptr[int32](9),
					},
				},
				Rules: pathRule(networkingv1beta1.IngressBackend{
					ServiceName: "web",
					ServicePort: intstr.FromInt32(80),
					HealthCheck: &networkingv1beta1.IngressHealthCheck{Path: "/live", Port: ptr(intstr.FromString("admin"))},
				}),
			},
		},
		{
			name: "healthCheck without port keeps port nil",
			in: networking.IngressSpec{DefaultBackend: &networking.IngressBackend{Service: &networking.IngressServiceBackend{
				Name:        "fallback",
				Port:        networking.ServiceBackendPort{Number: 8080},
				HealthCheck: &networking.IngressHealthCheck{Path: "/ready"},
			}}},
			want: networkingv1beta1.IngressSpec{Backend: &networkingv1beta1.IngressBackend{
				ServiceName: "fallback",
				ServicePort: intstr.FromInt32(8080),
				HealthCheck: &networkingv1beta1.IngressHealthCheck{Path: "/ready"},
			}},
		},
		{
			name: "unnamed service with only a healthCheck keeps the healthCheck",
			in: networking.IngressSpec{DefaultBackend: &networking.IngressBackend{Service: &networking.IngressServiceBackend{
				HealthCheck: &networking.IngressHealthCheck{Path: "/ready"},
			}}},
			want: networkingv1beta1.IngressSpec{Backend: &networkingv1beta1.IngressBackend{
				ServicePort: intstr.FromInt32(0),
				HealthCheck: &networkingv1beta1.IngressHealthCheck{Path: "/ready"},
			}},
		},
		{
			name: "empty backend stays empty",
			in:   networking.IngressSpec{DefaultBackend: &networking.IngressBackend{}},
			want: networkingv1beta1.IngressSpec{Backend: &networkingv1beta1.IngressBackend{}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &networking.Ingress{
				ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "store"},
				Spec:       tc.in,
			}
			var out networkingv1beta1.Ingress
			convert(t, scheme, in, &out)
			want := &networkingv1beta1.Ingress{
				ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "store"},
				Spec:       tc.want,
			}
			requireEqual(t, "v1beta1 Ingress", want, &out)
		})
	}
}

// defaultedHealthCheck is a health check with every default filled in and
// the given port.
func defaultedHealthCheck(port networking.ServiceBackendPort) *networking.IngressHealthCheck {
	return &networking.IngressHealthCheck{
		Path:               "/",
		Port:               &port,
		IntervalSeconds:    ptr[int32](10),
		TimeoutSeconds:     ptr[int32](5),
		HealthyThreshold:   ptr[int32](2),
		UnhealthyThreshold: ptr[int32](3),
	}
}

func TestV1beta1Defaults(t *testing.T) {
	scheme := newScheme(t)
	meta := metav1.ObjectMeta{Name: "shop", Namespace: "store"}
	oneRule := func(paths ...networking.HTTPIngressPath) []networking.IngressRule {
		return []networking.IngressRule{{
			Host:             "shop.example.com",
			IngressRuleValue: networking.IngressRuleValue{HTTP: &networking.HTTPIngressRuleValue{Paths: paths}},
		}}
	}
	web80 := networking.IngressBackend{Service: &networking.IngressServiceBackend{
		Name: "web", Port: networking.ServiceBackendPort{Number: 80},
	}}

	tests := []struct {
		name string
		json string
		want runtime.Object
	}{
		{
			name: "path without pathType becomes ImplementationSpecific",
			json: `{"apiVersion":"networking.signet.dev/v1beta1","kind":"Ingress",
				"metadata":{"name":"shop","namespace":"store"},
				"spec":{"rules":[{"host":"shop.example.com","http":{"paths":[
					{"path":"/app/.*","backend":{"serviceName":"web","servicePort":80}}]}}]}}`,
			want: &networking.Ingress{ObjectMeta: meta, Spec: networking.IngressSpec{Rules: oneRule(
				networking.HTTPIngressPath{Path: "/app/.*", PathType: internalPathType(networking.PathTypeImplementationSpecific), Backend: web80},
			)}},
		},
		{
			name: "explicit Exact and Prefix pathTypes are kept",
			json: `{"apiVersion":"networking.signet.dev/v1beta1","kind":"Ingress",
				"metadata":{"name":"shop","namespace":"store"},
				"spec":{"rules":[{"host":"shop.example.com","http":{"paths":[
					{"path":"/cart","pathType":"Exact","backend":{"serviceName":"web","servicePort":80}},
					{"path":"/app","pathType":"Prefix","backend":{"serviceName":"web","servicePort":80}}]}}]}}`,
			want: &networking.Ingress{ObjectMeta: meta, Spec: networking.IngressSpec{Rules: oneRule(
				networking.HTTPIngressPath{Path: "/cart", PathType: internalPathType(networking.PathTypeExact), Backend: web80},
				networking.HTTPIngressPath{Path: "/app", PathType: internalPathType(networking.PathTypePrefix), Backend: web80},
			)}},
		},
		{
			name: "healthCheck without port gets the string servicePort and the timing defaults",
			json: `{"apiVersion":"networking.signet.dev/v1beta1","kind":"Ingress",
				"metadata":{"name":"shop","namespace":"store"},
				"spec":{"rules":[{"host":"shop.example.com","http":{"paths":[
					{"path":"/app","pathType":"Prefix","backend":{"serviceName":"web","servicePort":"http","healthCheck":{}}}]}}]}}`,
			want: &networking.Ingress{ObjectMeta: meta, Spec: networking.IngressSpec{Rules: oneRule(
				networking.HTTPIngressPath{Path: "/app", PathType: internalPathType(networking.PathTypePrefix), Backend: networking.IngressBackend{
					Service: &networking.IngressServiceBackend{
						Name:        "web",
						Port:        networking.ServiceBackendPort{Name: "http"},
						HealthCheck: defaultedHealthCheck(networking.ServiceBackendPort{Name: "http"}),
					},
				}},
			)}},
		},
		{
			name: "default backend healthCheck without port gets the int servicePort and the timing defaults",
			json: `{"apiVersion":"networking.signet.dev/v1beta1","kind":"Ingress",
				"metadata":{"name":"shop","namespace":"store"},
				"spec":{"backend":{"serviceName":"fallback","servicePort":8080,"healthCheck":{"path":"/ready"}}}}`,
			want: &networking.Ingress{ObjectMeta: meta, Spec: networking.IngressSpec{
				DefaultBackend: &networking.IngressBackend{Service: &networking.IngressServiceBackend{
					Name: "fallback",
					Port: networking.ServiceBackendPort{Number: 8080},
					HealthCheck: &networking.IngressHealthCheck{
						Path:               "/ready",
						Port:               &networking.ServiceBackendPort{Number: 8080},
						IntervalSeconds:    ptr[int32](10),
						TimeoutSeconds:     ptr[int32](5),
						HealthyThreshold:   ptr[int32](2),
						UnhealthyThreshold: ptr[int32](3),
					},
				}},
			}},
		},
		{
			name: "explicit healthCheck port and timings are kept",
			json: `{"apiVersion":"networking.signet.dev/v1beta1","kind":"Ingress",
				"metadata":{"name":"shop","namespace":"store"},
				"spec":{"backend":{"serviceName":"fallback","servicePort":8080,"healthCheck":{
					"port":"admin","intervalSeconds":30,"unhealthyThreshold":1}}}}`,
			want: &networking.Ingress{ObjectMeta: meta, Spec: networking.IngressSpec{
				DefaultBackend: &networking.IngressBackend{Service: &networking.IngressServiceBackend{
					Name: "fallback",
					Port: networking.ServiceBackendPort{Number: 8080},
					HealthCheck: &networking.IngressHealthCheck{
						Path:               "/",
						Port:               &networking.ServiceBackendPort{Name: "admin"},
						IntervalSeconds:    ptr[int32](30),
						TimeoutSeconds:     ptr[int32](5),
						HealthyThreshold:   ptr[int32](2),
						UnhealthyThreshold: ptr[int32](1),
					},
				}},
			}},
		},
		{
			name: "IngressClass parameters without scope get scope Cluster",
			json: `{"apiVersion":"networking.signet.dev/v1beta1","kind":"IngressClass",
				"metadata":{"name":"signet"},
				"spec":{"controller":"signet.dev/ingress","parameters":{"apiGroup":"config.signet.dev","kind":"IngressParameters","name":"default"}}}`,
			want: &networking.IngressClass{
				ObjectMeta: metav1.ObjectMeta{Name: "signet"},
				Spec: networking.IngressClassSpec{
					Controller: "signet.dev/ingress",
					Parameters: &networking.IngressClassParametersReference{
						APIGroup: ptr("config.signet.dev"),
						Kind:     "IngressParameters",
						Name:     "default",
						Scope:    ptr(networking.IngressClassParametersReferenceScopeCluster),
					},
				},
			},
		},
		{
			name: "IngressClass parameters with scope Namespace are kept",
			json: `{"apiVersion":"networking.signet.dev/v1beta1","kind":"IngressClass",
				"metadata":{"name":"signet"},
				"spec":{"controller":"signet.dev/ingress","parameters":{"kind":"ConfigMap","name":"ingress","scope":"Namespace","namespace":"signet-system"}}}`,
			want: &networking.IngressClass{
				ObjectMeta: metav1.ObjectMeta{Name: "signet"},
				Spec: networking.IngressClassSpec{
					Controller: "signet.dev/ingress",
					Parameters: &networking.IngressClassParametersReference{
						Kind:      "ConfigMap",
						Name:      "ingress",
						Scope:     ptr(networking.IngressClassParametersReferenceScopeNamespace),
						Namespace: ptr("signet-system"),
					},
				},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := decode(t, scheme, tc.json)
			requireEqual(t, "decoded internal object", tc.want, got)
		})
	}
}

func TestV1Defaults(t *testing.T) {
	scheme := newScheme(t)
	meta := metav1.ObjectMeta{Name: "shop", Namespace: "store"}

	tests := []struct {
		name string
		json string
		want runtime.Object
	}{
		{
			name: "path healthCheck without port gets a copy of the service port name",
			json: `{"apiVersion":"networking.signet.dev/v1","kind":"Ingress",
				"metadata":{"name":"shop","namespace":"store"},
				"spec":{"rules":[{"host":"shop.example.com","http":{"paths":[
					{"path":"/app","pathType":"Prefix","backend":{"service":{"name":"web","port":{"name":"http"},"healthCheck":{}}}}]}}]}}`,
			want: &networking.Ingress{ObjectMeta: meta, Spec: networking.IngressSpec{Rules: []networking.IngressRule{{
				Host: "shop.example.com",
				IngressRuleValue: networking.IngressRuleValue{HTTP: &networking.HTTPIngressRuleValue{Paths: []networking.HTTPIngressPath{{
					Path:     "/app",
					PathType: internalPathType(networking.PathTypePrefix),
					Backend: networking.IngressBackend{Service: &networking.IngressServiceBackend{
						Name:        "web",
						Port:        networking.ServiceBackendPort{Name: "http"},
						HealthCheck: defaultedHealthCheck(networking.ServiceBackendPort{Name: "http"}),
					}},
				}}}},
			}}}},
		},
		{
			name: "default backend healthCheck without port gets a copy of the service port number",
			json: `{"apiVersion":"networking.signet.dev/v1","kind":"Ingress",
				"metadata":{"name":"shop","namespace":"store"},
				"spec":{"defaultBackend":{"service":{"name":"fallback","port":{"number":8080},"healthCheck":{"timeoutSeconds":9}}}}}`,
			want: &networking.Ingress{ObjectMeta: meta, Spec: networking.IngressSpec{
				DefaultBackend: &networking.IngressBackend{Service: &networking.IngressServiceBackend{
					Name: "fallback",
					Port: networking.ServiceBackendPort{Number: 8080},
					HealthCheck: &networking.IngressHealthCheck{
						Path:               "/",
						Port:               &networking.ServiceBackendPort{Number: 8080},
						IntervalSeconds:    ptr[int32](10),
						TimeoutSeconds:     ptr[int32](9),
						HealthyThreshold:   ptr[int32](2),
						UnhealthyThreshold: ptr[int32](3),
					},
				}},
			}},
		},
		{
			name: "pathType is not defaulted in v1",
			json: `{"apiVersion":"networking.signet.dev/v1","kind":"Ingress",
				"metadata":{"name":"shop","namespace":"store"},
				"spec":{"rules":[{"host":"shop.example.com","http":{"paths":[
					{"path":"/app","backend":{"service":{"name":"web","port":{"number":80}}}}]}}]}}`,
			want: &networking.Ingress{ObjectMeta: meta, Spec: networking.IngressSpec{Rules: []networking.IngressRule{{
				Host: "shop.example.com",
				IngressRuleValue: networking.IngressRuleValue{HTTP: &networking.HTTPIngressRuleValue{Paths: []networking.HTTPIngressPath{{
					Path:     "/app",
					PathType: nil,
					Backend: networking.IngressBackend{Service: &networking.IngressServiceBackend{
						Name: "web", Port: networking.ServiceBackendPort{Number: 80},
					}},
				}}}},
			}}}},
		},
		{
			name: "IngressClass parameters without scope get scope Cluster",
			json: `{"apiVersion":"networking.signet.dev/v1","kind":"IngressClass",
				"metadata":{"name":"signet"},
				"spec":{"controller":"signet.dev/ingress","parameters":{"kind":"IngressParameters","name":"default"}}}`,
			want: &networking.IngressClass{
				ObjectMeta: metav1.ObjectMeta{Name: "signet"},
				Spec: networking.IngressClassSpec{
					Controller: "signet.dev/ingress",
					Parameters: &networking.IngressClassParametersReference{
						Kind:  "IngressParameters",
						Name:  "default",
						Scope: ptr(networking.IngressClassParametersReferenceScopeCluster),
					},
				},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := decode(t, scheme, tc.json)
			requireEqual(t, "decoded internal object", tc.want, got)
		})
	}

	t.Run("defaulted healthCheck port does not alias the service port", func(t *testing.T) {
		got := decode(t, scheme, `{"apiVersion":"networking.signet.dev/v1","kind":"Ingress",
			"metadata":{"name":"shop","namespace":"store"},
			"spec":{"defaultBackend":{"service":{"name":"fallback","port":{"name":"http"},"healthCheck":{}}}}}`)
		ing, ok := got.(*networking.Ingress)
		if !ok {
			t.Fatalf("decoded %T, want *networking.Ingress", got)
		}
		svc := ing.Spec.DefaultBackend.Service
		if svc.HealthCheck == nil || svc.HealthCheck.Port == nil {
			t.Fatalf("healthCheck port was not defaulted: %#v", svc.HealthCheck)
		}
		svc.Port.Name = "changed"
		if svc.HealthCheck.Port.Name != "http" {
			t.Errorf("healthCheck.port.name = %q after changing the service port, want it to stay %q", svc.HealthCheck.Port.Name, "http")
		}
	})
}
