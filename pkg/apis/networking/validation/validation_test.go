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

package validation

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"signet.dev/signet/pkg/apis/networking"
)

// wantErr describes one expected error: its type, its exact field path and,
// when set, a piece of text its detail must contain.
type wantErr struct {
	typ    field.ErrorType
	field  string
	detail string
}

func invalid(path string) wantErr   { return wantErr{typ: field.ErrorTypeInvalid, field: path} }
func required(path string) wantErr  { return wantErr{typ: field.ErrorTypeRequired, field: path} }
func forbidden(path string) wantErr { return wantErr{typ: field.ErrorTypeForbidden, field: path} }
func tooLong(path string) wantErr   { return wantErr{typ: field.ErrorTypeTooLong, field: path} }
func notSupported(path string) wantErr {
	return wantErr{typ: field.ErrorTypeNotSupported, field: path}
}
func duplicate(path string) wantErr { return wantErr{typ: field.ErrorTypeDuplicate, field: path} }

// saying returns w, also requiring its detail to contain text.
func (w wantErr) saying(text string) wantErr {
	w.detail = text
	return w
}

// checkErrors fails t unless got holds exactly the errors of want, in any
// order.
func checkErrors(t *testing.T, got field.ErrorList, want []wantErr) {
	t.Helper()
	used := make([]bool, len(got))
	for _, w := range want {
		found := false
		for i, e := range got {
			if used[i] || e.Type != w.typ || e.Field != w.field || !strings.Contains(e.Detail, w.detail) {
				continue
			}
			used[i], found = true, true
			break
		}
		if !found {
			t.Errorf("missing error %s at %s (detail containing %q)", w.typ, w.field, w.detail)
		}
	}
	for i, e := range got {
		if !used[i] {
			t.Errorf("unexpected error: %v", e)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

func portNumber(n int32) networking.ServiceBackendPort {
	return networking.ServiceBackendPort{Number: n}
}

func portName(name string) networking.ServiceBackendPort {
	return networking.ServiceBackendPort{Name: name}
}

// fullHealthCheck returns a health check with every field set.
func fullHealthCheck(port networking.ServiceBackendPort) *networking.IngressHealthCheck {
	return &networking.IngressHealthCheck{
		Path:               "/healthz",
		Port:               &port,
		IntervalSeconds:    ptrTo[int32](10),
		TimeoutSeconds:     ptrTo[int32](5),
		HealthyThreshold:   ptrTo[int32](2),
		UnhealthyThreshold: ptrTo[int32](3),
	}
}

func serviceBackend(name string, port networking.ServiceBackendPort, hc *networking.IngressHealthCheck) networking.IngressBackend {
	return networking.IngressBackend{Service: &networking.IngressServiceBackend{Name: name, Port: port, HealthCheck: hc}}
}

func httpPath(path string, pt networking.PathType, backend networking.IngressBackend) networking.HTTPIngressPath {
	return networking.HTTPIngressPath{Path: path, PathType: &pt, Backend: backend}
}

// Paths of the baseline Ingress's fields, for the expectations below.
const (
	rule0      = "spec.rules[0]"
	rule0Paths = "spec.rules[0].http.paths"
	webPath    = "spec.rules[0].http.paths[0]"
	apiPath    = "spec.rules[0].http.paths[1]"
	bucketPath = "spec.rules[0].http.paths[2]"
	wildPath   = "spec.rules[1].http.paths[0]"
	defaultHC  = "spec.defaultBackend.service.healthCheck"
	classAnno  = "metadata.annotations[kubernetes.io/ingress.class]"
)

// validIngress returns an Ingress that passes every check: a class set both
// ways, a default backend, TLS, two rules with paths of every type, service
// and resource backends, and full health checks (one shared by two paths).
func validIngress() *networking.Ingress {
	return &networking.Ingress{
		ObjectMeta: metav1.ObjectMeta{
			Name:            "shop",
			Namespace:       "default",
			ResourceVersion: "1",
			Annotations:     map[string]string{networking.AnnotationIngressClass: "signet"},
		},
		Spec: networking.IngressSpec{
			IngressClassName: ptrTo("signet"),
			DefaultBackend:   ptrTo(serviceBackend("fallback", portNumber(80), fullHealthCheck(portNumber(80)))),
			TLS: []networking.IngressTLS{{
				Hosts:      []string{"shop.example.com", "*.example.com"},
				SecretName: "shop-tls",
			}},
			Rules: []networking.IngressRule{
				{
					Host: "shop.example.com",
					IngressRuleValue: networking.IngressRuleValue{HTTP: &networking.HTTPIngressRuleValue{
						Paths: []networking.HTTPIngressPath{
							httpPath("/", networking.PathTypePrefix, serviceBackend("web", portName("http"), fullHealthCheck(portName("http")))),
							httpPath("/api/v1", networking.PathTypeExact, serviceBackend("api", portNumber(8080), fullHealthCheck(portNumber(8080)))),
							httpPath(`/static/.*\.css`, networking.PathTypeImplementationSpecific, networking.IngressBackend{
								Resource: &corev1.TypedLocalObjectReference{APIGroup: ptrTo("storage.example.com"), Kind: "Bucket", Name: "assets"},
							}),
						},
					}},
				},
				{
					Host: "*.example.com",
					IngressRuleValue: networking.IngressRuleValue{HTTP: &networking.HTTPIngressRuleValue{
						Paths: []networking.HTTPIngressPath{
							httpPath("/", networking.PathTypePrefix, serviceBackend("web", portName("http"), fullHealthCheck(portName("http")))),
						},
					}},
				},
			},
		},
		Status: networking.IngressStatus{
			LoadBalancer: networking.IngressLoadBalancerStatus{
				Ingress: []networking.IngressLoadBalancerIngress{
					{IP: "192.0.2.10", Ports: []networking.IngressPortStatus{{Port: 443, Protocol: corev1.ProtocolTCP}}},
					{Hostname: "lb.example.com"},
				},
			},
			Conditions: []metav1.Condition{{
				Type:               networking.IngressConditionAccepted,
				Status:             metav1.ConditionTrue,
				Reason:             "Accepted",
				Message:            "accepted by signet.dev/ingress-controller",
				LastTransitionTime: metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
			}},
		},
	}
}

// Accessors into the baseline, for the mutations below.
func paths(ing *networking.Ingress, rule int) []networking.HTTPIngressPath {
	return ing.Spec.Rules[rule].HTTP.Paths
}
func webService(ing *networking.Ingress) *networking.IngressServiceBackend {
	return paths(ing, 0)[0].Backend.Service
}
func apiService(ing *networking.Ingress) *networking.IngressServiceBackend {
	return paths(ing, 0)[1].Backend.Service
}
func wildService(ing *networking.Ingress) *networking.IngressServiceBackend {
	return paths(ing, 1)[0].Backend.Service
}
func defaultService(ing *networking.Ingress) *networking.IngressServiceBackend {
	return ing.Spec.DefaultBackend.Service
}
func bucket(ing *networking.Ingress) *corev1.TypedLocalObjectReference {
	return paths(ing, 0)[2].Backend.Resource
}

func TestValidateIngressAccepts(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*networking.Ingress)
	}{
		{"baseline", func(*networking.Ingress) {}},

		// Paths.
		{"prefix path with trailing slash", func(ing *networking.Ingress) { paths(ing, 0)[0].Path = "/foo/" }},
		{"exact path with trailing slash", func(ing *networking.Ingress) { paths(ing, 0)[1].Path = "/api/v1/" }},
		{"path starting with a dot segment name", func(ing *networking.Ingress) { paths(ing, 0)[1].Path = "/.well-known" }},
		{"path with a segment starting with two dots", func(ing *networking.Ingress) { paths(ing, 0)[0].Path = "/..foo" }},
		{"path ending in a dotted name", func(ing *networking.Ingress) { paths(ing, 0)[0].Path = "/files/v1.2" }},
		{"root path", func(ing *networking.Ingress) { paths(ing, 0)[1].Path = "/" }},
		{"percent-encoded character other than slash", func(ing *networking.Ingress) { paths(ing, 0)[1].Path = "/a%20b" }},
		{"implementation-specific empty path", func(ing *networking.Ingress) { paths(ing, 0)[2].Path = "" }},
		{"implementation-specific alternation", func(ing *networking.Ingress) { paths(ing, 0)[2].Path = "/(api|v[0-9]+)/.*" }},
		{"implementation-specific plain path", func(ing *networking.Ingress) { paths(ing, 0)[2].Path = "/static" }},

		// Hosts.
		{"rule without host", func(ing *networking.Ingress) { ing.Spec.Rules[0].Host = "" }},
		{"single-label host", func(ing *networking.Ingress) { ing.Spec.Rules[0].Host = "localhost" }},
		{"host with digits and hyphens", func(ing *networking.Ingress) { ing.Spec.Rules[0].Host = "123.my-shop.example.com" }},
		{"deeper wildcard host", func(ing *networking.Ingress) { ing.Spec.Rules[1].Host = "*.eu.example.com" }},
		{"wildcard over a single label", func(ing *networking.Ingress) { ing.Spec.Rules[1].Host = "*.local" }},
		{"rule with host and no http", func(ing *networking.Ingress) {
			ing.Spec.Rules = append(ing.Spec.Rules, networking.IngressRule{Host: "parked.example.com"})
		}},

		// Spec shape.
		{"default backend only", func(ing *networking.Ingress) { ing.Spec.Rules = nil }},
		{"rules only", func(ing *networking.Ingress) { ing.Spec.DefaultBackend = nil }},
		{"resource default backend", func(ing *networking.Ingress) {
			ing.Spec.DefaultBackend = &networking.IngressBackend{Resource: &corev1.TypedLocalObjectReference{Kind: "Bucket", Name: "fallback"}}
		}},
		{"resource backend in core group (nil)", func(ing *networking.Ingress) { bucket(ing).APIGroup = nil }},
		{"resource backend in core group (empty)", func(ing *networking.Ingress) { bucket(ing).APIGroup = ptrTo("") }},
		{"service port by number everywhere", func(ing *networking.Ingress) {
			webService(ing).Port = portNumber(1)
			webService(ing).HealthCheck.Port = ptrTo(portNumber(65535))
		}},

		// Class.
		{"class name without annotation", func(ing *networking.Ingress) { ing.Annotations = nil }},
		{"annotation without class name", func(ing *networking.Ingress) { ing.Spec.IngressClassName = nil }},
		{"annotation with another class when class name unset", func(ing *networking.Ingress) {
			ing.Spec.IngressClassName = nil
			ing.Annotations[networking.AnnotationIngressClass] = "legacy"
		}},
		{"no class at all", func(ing *networking.Ingress) {
			ing.Spec.IngressClassName = nil
			ing.Annotations = nil
		}},

		// TLS.
		{"TLS without secret", func(ing *networking.Ingress) { ing.Spec.TLS[0].SecretName = "" }},
		{"TLS without hosts", func(ing *networking.Ingress) { ing.Spec.TLS[0].Hosts = nil }},
		{"TLS for a host no rule serves", func(ing *networking.Ingress) { ing.Spec.TLS[0].Hosts = []string{"other.example.org"} }},

		// Health checks.
		{"no health checks", func(ing *networking.Ingress) {
			defaultService(ing).HealthCheck = nil
			webService(ing).HealthCheck = nil
			apiService(ing).HealthCheck = nil
			wildService(ing).HealthCheck = nil
		}},
		{"health check with every field unset", func(ing *networking.Ingress) {
			defaultService(ing).HealthCheck = &networking.IngressHealthCheck{}
		}},
		{"health check at the lower bounds", func(ing *networking.Ingress) {
			hc := defaultService(ing).HealthCheck
			hc.IntervalSeconds, hc.TimeoutSeconds = ptrTo[int32](1), ptrTo[int32](1)
			hc.HealthyThreshold, hc.UnhealthyThreshold = ptrTo[int32](1), ptrTo[int32](1)
		}},
		{"health check at the upper bounds", func(ing *networking.Ingress) {
			hc := defaultService(ing).HealthCheck
			hc.IntervalSeconds, hc.TimeoutSeconds = ptrTo[int32](300), ptrTo[int32](60)
			hc.HealthyThreshold, hc.UnhealthyThreshold = ptrTo[int32](10), ptrTo[int32](10)
		}},
		{"timeout equal to interval", func(ing *networking.Ingress) {
			hc := defaultService(ing).HealthCheck
			hc.IntervalSeconds, hc.TimeoutSeconds = ptrTo[int32](7), ptrTo[int32](7)
		}},
		{"timeout unset and default timeout within interval", func(ing *networking.Ingress) {
			hc := defaultService(ing).HealthCheck
			hc.IntervalSeconds, hc.TimeoutSeconds = ptrTo[int32](5), nil
		}},
		{"health check port by name on a numbered backend", func(ing *networking.Ingress) {
			defaultService(ing).HealthCheck.Port = ptrTo(portName("admin"))
		}},

		// Health-check agreement between backends.
		{"shared port, one backend without health check", func(ing *networking.Ingress) {
			wildService(ing).HealthCheck = nil
		}},
		{"shared port, the first backend without health check", func(ing *networking.Ingress) {
			webService(ing).HealthCheck = nil
			wildService(ing).HealthCheck.IntervalSeconds = ptrTo[int32](30)
		}},
		{"shared port, one check relying on defaults equal to the other written out", func(ing *networking.Ingress) {
			webService(ing).HealthCheck = &networking.IngressHealthCheck{}
			wildService(ing).HealthCheck = &networking.IngressHealthCheck{
				Path:               "/",
				Port:               ptrTo(portName("http")),
				IntervalSeconds:    ptrTo[int32](networking.DefaultHealthCheckIntervalSeconds),
				TimeoutSeconds:     ptrTo[int32](networking.DefaultHealthCheckTimeoutSeconds),
				HealthyThreshold:   ptrTo[int32](networking.DefaultHealthCheckHealthyThreshold),
				UnhealthyThreshold: ptrTo[int32](networking.DefaultHealthCheckUnhealthyThreshold),
			}
		}},
		{"same service, port by name and by number, different checks", func(ing *networking.Ingress) {
			wildService(ing).Port = portNumber(80)
			wildService(ing).HealthCheck = fullHealthCheck(portNumber(80))
			wildService(ing).HealthCheck.Path = "/ready"
		}},
		{"same service, different port numbers, different checks", func(ing *networking.Ingress) {
			webService(ing).Port = portNumber(80)
			webService(ing).HealthCheck = fullHealthCheck(portNumber(80))
			wildService(ing).Port = portNumber(81)
			wildService(ing).HealthCheck = fullHealthCheck(portNumber(81))
			wildService(ing).HealthCheck.Path = "/ready"
		}},
		{"different services, same port, different checks", func(ing *networking.Ingress) {
			wildService(ing).Name = "web-canary"
			wildService(ing).HealthCheck.Path = "/ready"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ing := validIngress()
			tc.mutate(ing)
			checkErrors(t, ValidateIngress(ing), nil)
		})
	}
}

func TestValidateIngressRejects(t *testing.T) {
	type testCase struct {
		name   string
		mutate func(*networking.Ingress)
		want   []wantErr
	}
	cases := []testCase{
		// Metadata.
		{"name not a DNS subdomain", func(ing *networking.Ingress) { ing.Name = "Shop" }, []wantErr{invalid("metadata.name")}},
		{"namespace missing", func(ing *networking.Ingress) { ing.Namespace = "" }, []wantErr{required("metadata.namespace")}},

		// Spec shape.
		{"neither rules nor default backend", func(ing *networking.Ingress) {
			ing.Spec.Rules, ing.Spec.DefaultBackend = nil, nil
		}, []wantErr{required("spec").saying("either a defaultBackend or at least one rule is required")}},
		{"http with no paths", func(ing *networking.Ingress) {
			ing.Spec.Rules[0].HTTP.Paths = nil
		}, []wantErr{required(rule0Paths)}},
		{"http with empty path list", func(ing *networking.Ingress) {
			ing.Spec.Rules[1].HTTP.Paths = []networking.HTTPIngressPath{}
		}, []wantErr{required("spec.rules[1].http.paths")}},
		{"rule with neither host nor http", func(ing *networking.Ingress) {
			ing.Spec.Rules = append(ing.Spec.Rules, networking.IngressRule{})
		}, []wantErr{required("spec.rules[2].http").saying("host, http or both")}},

		// Path types.
		{"path type missing", func(ing *networking.Ingress) {
			paths(ing, 0)[1].PathType = nil
		}, []wantErr{required(apiPath + ".pathType")}},
		{"path type unknown", func(ing *networking.Ingress) {
			paths(ing, 0)[1].PathType = ptrTo(networking.PathType("Regex"))
		}, []wantErr{notSupported(apiPath + ".pathType").saying(`"Exact", "Prefix", "ImplementationSpecific"`)}},
		{"path type in wrong case", func(ing *networking.Ingress) {
			paths(ing, 0)[1].PathType = ptrTo(networking.PathType("exact"))
		}, []wantErr{notSupported(apiPath + ".pathType")}},

		// Exact and Prefix paths.
		{"exact path relative", func(ing *networking.Ingress) {
			paths(ing, 0)[1].Path = "api/v1"
		}, []wantErr{invalid(apiPath + ".path").saying("must start with '/'")}},
		{"prefix path empty", func(ing *networking.Ingress) {
			paths(ing, 0)[0].Path = ""
		}, []wantErr{invalid(webPath + ".path").saying("must start with '/'")}},
		{"relative path with a double slash", func(ing *networking.Ingress) {
			paths(ing, 0)[0].Path = "a//b"
		}, []wantErr{
			invalid(webPath + ".path").saying("must start with '/'"),
			invalid(webPath + ".path").saying("must not contain '//'"),
		}},
		{"path ending in dot", func(ing *networking.Ingress) {
			paths(ing, 0)[1].Path = "/api/."
		}, []wantErr{invalid(apiPath + ".path").saying("must not end with '/.'")}},
		{"path ending in dot-dot", func(ing *networking.Ingress) {
			paths(ing, 0)[1].Path = "/api/.."
		}, []wantErr{invalid(apiPath + ".path").saying("must not end with '/..'")}},
		{"path that is a lone dot segment", func(ing *networking.Ingress) {
			paths(ing, 0)[0].Path = "/."
		}, []wantErr{invalid(webPath + ".path").saying("must not end with '/.'")}},
	}
	for _, bad := range []string{"//", "/./", "/../", "%2f", "%2F"} {
		for _, pt := range []networking.PathType{networking.PathTypeExact, networking.PathTypePrefix} {
			cases = append(cases, testCase{
				name: string(pt) + " path containing " + bad,
				mutate: func(ing *networking.Ingress) {
					paths(ing, 0)[0].PathType = ptrTo(pt)
					paths(ing, 0)[0].Path = "/a" + bad + "b"
				},
				want: []wantErr{invalid(webPath + ".path").saying("must not contain '" + bad + "'")},
			})
		}
	}

	cases = append(cases, []testCase{
		// ImplementationSpecific paths.
		{"implementation-specific path relative", func(ing *networking.Ingress) {
			paths(ing, 0)[2].Path = "static/.*"
		}, []wantErr{invalid(bucketPath + ".path").saying("must be empty or start with '/'")}},
		{"implementation-specific path not RE2", func(ing *networking.Ingress) {
			paths(ing, 0)[2].Path = "/static/(css"
		}, []wantErr{invalid(bucketPath + ".path").saying("missing closing )")}},
		{"implementation-specific path with a Perl-only construct", func(ing *networking.Ingress) {
			paths(ing, 0)[2].Path = "/(?!admin).*"
		}, []wantErr{invalid(bucketPath + ".path").saying("RE2")}},
		{"implementation-specific path with both problems", func(ing *networking.Ingress) {
			paths(ing, 0)[2].Path = "[a-"
		}, []wantErr{
			invalid(bucketPath + ".path").saying("must be empty or start with '/'"),
			invalid(bucketPath + ".path").saying("missing closing ]"),
		}},
	}...)

	// Hosts, both in rules and in TLS entries.
	badHosts := map[string]string{
		"*":                                     "wildcard",
		"*.*.example.com":                       "wildcard",
		"a.*.example.com":                       "wildcard",
		"*example.com":                          "wildcard",
		"ex*ample.com":                          "wildcard",
		"example.com:80":                        "port",
		"*.example.com:443":                     "port",
		"1.2.3.4":                               "not an IP address",
		"010.001.002.003":                       "not an IP address",
		"::1":                                   "not an IP address",
		"2001:db8::1":                           "not an IP address",
		"*.1.2.3.4":                             "not an IP address",
		"Example.com":                           "lower case",
		"-example.com":                          "lower case",
		"example_shop.com":                      "lower case",
		"example.com.":                          "lower case",
		"*.":                                    "lower case",
		strings.Repeat("a.", 126) + "aa":        "253",
		"*." + strings.Repeat("a.", 125) + "aa": "253",
	}
	for host, msg := range badHosts {
		cases = append(cases,
			testCase{
				name:   "rule host " + host,
				mutate: func(ing *networking.Ingress) { ing.Spec.Rules[0].Host = host },
				want:   []wantErr{invalid(rule0 + ".host").saying(msg)},
			},
			testCase{
				name:   "TLS host " + host,
				mutate: func(ing *networking.Ingress) { ing.Spec.TLS[0].Hosts[1] = host },
				want:   []wantErr{invalid("spec.tls[0].hosts[1]").saying(msg)},
			},
		)
	}

	cases = append(cases, []testCase{
		{"TLS host empty", func(ing *networking.Ingress) {
			ing.Spec.TLS[0].Hosts[0] = ""
		}, []wantErr{required("spec.tls[0].hosts[0]")}},
		{"TLS secret name not a DNS subdomain", func(ing *networking.Ingress) {
			ing.Spec.TLS[0].SecretName = "Shop_TLS"
		}, []wantErr{invalid("spec.tls[0].secretName")}},
		{"second TLS entry checked too", func(ing *networking.Ingress) {
			ing.Spec.TLS = append(ing.Spec.TLS, networking.IngressTLS{Hosts: []string{"ok.example.com", "1.2.3.4"}, SecretName: "-bad"})
		}, []wantErr{invalid("spec.tls[1].hosts[1]"), invalid("spec.tls[1].secretName")}},

		// Backends.
		{"default backend with neither service nor resource", func(ing *networking.Ingress) {
			ing.Spec.DefaultBackend = &networking.IngressBackend{}
		}, []wantErr{required("spec.defaultBackend").saying("exactly one of service or resource is required")}},
		{"path backend with neither service nor resource", func(ing *networking.Ingress) {
			paths(ing, 0)[2].Backend = networking.IngressBackend{}
		}, []wantErr{required(bucketPath + ".backend").saying("exactly one of service or resource is required")}},
		{"backend with both service and resource", func(ing *networking.Ingress) {
			paths(ing, 0)[2].Backend.Service = &networking.IngressServiceBackend{Name: "assets", Port: portNumber(80)}
		}, []wantErr{invalid(bucketPath + ".backend").saying("mutually exclusive")}},
		{"default backend with both service and resource", func(ing *networking.Ingress) {
			ing.Spec.DefaultBackend.Resource = &corev1.TypedLocalObjectReference{Kind: "Bucket", Name: "x"}
		}, []wantErr{invalid("spec.defaultBackend").saying("mutually exclusive")}},
		{"service name missing", func(ing *networking.Ingress) {
			apiService(ing).Name = ""
		}, []wantErr{required(apiPath + ".backend.service.name")}},
		{"service name upper case", func(ing *networking.Ingress) {
			apiService(ing).Name = "API"
		}, []wantErr{invalid(apiPath + ".backend.service.name")}},
		{"service name starting with a digit", func(ing *networking.Ingress) {
			apiService(ing).Name = "1api"
		}, []wantErr{invalid(apiPath + ".backend.service.name")}},
		{"service name with a dot", func(ing *networking.Ingress) {
			defaultService(ing).Name = "fallback.default"
		}, []wantErr{invalid("spec.defaultBackend.service.name")}},
		{"service port neither name nor number", func(ing *networking.Ingress) {
			apiService(ing).Port = networking.ServiceBackendPort{}
		}, []wantErr{required(apiPath + ".backend.service.port").saying("exactly one of name or number")}},
		{"service port both name and number", func(ing *networking.Ingress) {
			apiService(ing).Port = networking.ServiceBackendPort{Name: "http", Number: 8080}
		}, []wantErr{invalid(apiPath + ".backend.service.port").saying("mutually exclusive")}},
		{"service port number too large", func(ing *networking.Ingress) {
			apiService(ing).Port = portNumber(65536)
		}, []wantErr{invalid(apiPath + ".backend.service.port.number").saying("between 1 and 65535")}},
		{"service port number negative", func(ing *networking.Ingress) {
			apiService(ing).Port = portNumber(-1)
		}, []wantErr{invalid(apiPath + ".backend.service.port.number")}},
		{"service port name upper case", func(ing *networking.Ingress) {
			webService(ing).Port = portName("HTTP")
		}, []wantErr{
			invalid(webPath + ".backend.service.port.name").saying("(a-z, 0-9)"),
			invalid(webPath + ".backend.service.port.name").saying("at least one letter"),
		}},
		{"service port name too long", func(ing *networking.Ingress) {
			webService(ing).Port = portName("http-alternative-port")
		}, []wantErr{invalid(webPath + ".backend.service.port.name")}},
		{"resource kind missing", func(ing *networking.Ingress) {
			bucket(ing).Kind = ""
		}, []wantErr{required(bucketPath + ".backend.resource.kind")}},
		{"resource name missing", func(ing *networking.Ingress) {
			bucket(ing).Name = ""
		}, []wantErr{required(bucketPath + ".backend.resource.name")}},
		{"resource name with a slash", func(ing *networking.Ingress) {
			bucket(ing).Name = "a/b"
		}, []wantErr{invalid(bucketPath + ".backend.resource.name")}},
		{"resource apiGroup not a DNS subdomain", func(ing *networking.Ingress) {
			bucket(ing).APIGroup = ptrTo("Storage_Example")
		}, []wantErr{invalid(bucketPath + ".backend.resource.apiGroup")}},

		// Health-check fields.
		{"health check path relative", func(ing *networking.Ingress) {
			defaultService(ing).HealthCheck.Path = "healthz"
		}, []wantErr{invalid(defaultHC + ".path").saying("must start with '/'")}},
		{"health check port neither name nor number", func(ing *networking.Ingress) {
			defaultService(ing).HealthCheck.Port = &networking.ServiceBackendPort{}
		}, []wantErr{required(defaultHC + ".port")}},
		{"health check port both name and number", func(ing *networking.Ingress) {
			defaultService(ing).HealthCheck.Port = &networking.ServiceBackendPort{Name: "http", Number: 80}
		}, []wantErr{invalid(defaultHC + ".port").saying("mutually exclusive")}},
		{"health check port number out of range", func(ing *networking.Ingress) {
			defaultService(ing).HealthCheck.Port = ptrTo(portNumber(70000))
		}, []wantErr{invalid(defaultHC + ".port.number")}},
		{"health check port name invalid", func(ing *networking.Ingress) {
			defaultService(ing).HealthCheck.Port = ptrTo(portName("-admin"))
		}, []wantErr{invalid(defaultHC + ".port.name")}},
		{"interval zero", func(ing *networking.Ingress) {
			defaultService(ing).HealthCheck.IntervalSeconds = ptrTo[int32](0)
		}, []wantErr{invalid(defaultHC + ".intervalSeconds").saying("between 1 and 300")}},
		{"interval too long", func(ing *networking.Ingress) {
			defaultService(ing).HealthCheck.IntervalSeconds = ptrTo[int32](301)
		}, []wantErr{invalid(defaultHC + ".intervalSeconds").saying("between 1 and 300")}},
		{"timeout zero", func(ing *networking.Ingress) {
			defaultService(ing).HealthCheck.TimeoutSeconds = ptrTo[int32](0)
		}, []wantErr{invalid(defaultHC + ".timeoutSeconds").saying("between 1 and 60")}},
		{"timeout too long", func(ing *networking.Ingress) {
			hc := defaultService(ing).HealthCheck
			hc.IntervalSeconds, hc.TimeoutSeconds = ptrTo[int32](120), ptrTo[int32](61)
		}, []wantErr{invalid(defaultHC + ".timeoutSeconds").saying("between 1 and 60")}},
		{"timeout longer than interval", func(ing *networking.Ingress) {
			hc := defaultService(ing).HealthCheck
			hc.IntervalSeconds, hc.TimeoutSeconds = ptrTo[int32](10), ptrTo[int32](20)
		}, []wantErr{invalid(defaultHC + ".timeoutSeconds").saying("must not be greater than intervalSeconds (10)")}},
		{"timeout longer than the default interval", func(ing *networking.Ingress) {
			hc := defaultService(ing).HealthCheck
			hc.IntervalSeconds, hc.TimeoutSeconds = nil, ptrTo[int32](11)
		}, []wantErr{invalid(defaultHC + ".timeoutSeconds").saying("intervalSeconds (10)")}},
		{"default timeout longer than interval", func(ing *networking.Ingress) {
			hc := defaultService(ing).HealthCheck
			hc.IntervalSeconds, hc.TimeoutSeconds = ptrTo[int32](4), nil
		}, []wantErr{invalid(defaultHC + ".timeoutSeconds").saying("intervalSeconds (4)")}},
		{"interval and timeout both out of range", func(ing *networking.Ingress) {
			hc := defaultService(ing).HealthCheck
			hc.IntervalSeconds, hc.TimeoutSeconds = ptrTo[int32](-1), ptrTo[int32](61)
		}, []wantErr{invalid(defaultHC + ".intervalSeconds"), invalid(defaultHC + ".timeoutSeconds")}},
		{"healthy threshold zero", func(ing *networking.Ingress) {
			defaultService(ing).HealthCheck.HealthyThreshold = ptrTo[int32](0)
		}, []wantErr{invalid(defaultHC + ".healthyThreshold").saying("between 1 and 10")}},
		{"healthy threshold too high", func(ing *networking.Ingress) {
			defaultService(ing).HealthCheck.HealthyThreshold = ptrTo[int32](11)
		}, []wantErr{invalid(defaultHC + ".healthyThreshold")}},
		{"unhealthy threshold zero", func(ing *networking.Ingress) {
			defaultService(ing).HealthCheck.UnhealthyThreshold = ptrTo[int32](0)
		}, []wantErr{invalid(defaultHC + ".unhealthyThreshold").saying("between 1 and 10")}},
		{"unhealthy threshold too high", func(ing *networking.Ingress) {
			defaultService(ing).HealthCheck.UnhealthyThreshold = ptrTo[int32](11)
		}, []wantErr{invalid(defaultHC + ".unhealthyThreshold")}},
		{"health check on a path backend checked too", func(ing *networking.Ingress) {
			apiService(ing).HealthCheck.Path = "ready"
		}, []wantErr{invalid(apiPath + ".backend.service.healthCheck.path")}},

		// Health-check agreement between backends.
		{"two paths on one service port with different intervals", func(ing *networking.Ingress) {
			wildService(ing).HealthCheck.IntervalSeconds = ptrTo[int32](30)
		}, []wantErr{invalid(wildPath + ".backend.service.healthCheck").saying(webPath + ".backend.service.healthCheck")}},
		{"two paths on one service port checking different ports", func(ing *networking.Ingress) {
			wildService(ing).HealthCheck.Port = ptrTo(portName("admin"))
		}, []wantErr{invalid(wildPath + ".backend.service.healthCheck").saying(`Service "web"`)}},
		{"path conflicting with the default backend", func(ing *networking.Ingress) {
			hc := fullHealthCheck(portNumber(80))
			hc.Path = "/ready"
			ing.Spec.Rules[1].HTTP.Paths = append(ing.Spec.Rules[1].HTTP.Paths,
				httpPath("/fallback", networking.PathTypePrefix, serviceBackend("fallback", portNumber(80), hc)))
		}, []wantErr{invalid("spec.rules[1].http.paths[1].backend.service.healthCheck").saying(defaultHC)}},
		{"conflict reported against the first backend with an opinion", func(ing *networking.Ingress) {
			webService(ing).HealthCheck = nil
			hc := fullHealthCheck(portName("http"))
			hc.HealthyThreshold = ptrTo[int32](5)
			ing.Spec.Rules[1].HTTP.Paths = append(ing.Spec.Rules[1].HTTP.Paths,
				httpPath("/other", networking.PathTypePrefix, serviceBackend("web", portName("http"), hc)))
		}, []wantErr{invalid("spec.rules[1].http.paths[1].backend.service.healthCheck").saying(wildPath + ".backend.service.healthCheck")}},
		{"every later disagreeing backend reported", func(ing *networking.Ingress) {
			wildService(ing).HealthCheck.Path = "/a"
			hc := fullHealthCheck(portName("http"))
			hc.Path = "/b"
			ing.Spec.Rules[1].HTTP.Paths = append(ing.Spec.Rules[1].HTTP.Paths,
				httpPath("/other", networking.PathTypePrefix, serviceBackend("web", portName("http"), hc)))
		}, []wantErr{
			invalid(wildPath + ".backend.service.healthCheck").saying(webPath),
			invalid("spec.rules[1].http.paths[1].backend.service.healthCheck").saying(webPath),
		}},

		// Class.
		{"class name not a DNS subdomain", func(ing *networking.Ingress) {
			delete(ing.Annotations, networking.AnnotationIngressClass)
			ing.Spec.IngressClassName = ptrTo("Signet_Class")
		}, []wantErr{invalid("spec.ingressClassName")}},
		{"class name empty", func(ing *networking.Ingress) {
			delete(ing.Annotations, networking.AnnotationIngressClass)
			ing.Spec.IngressClassName = ptrTo("")
		}, []wantErr{required("spec.ingressClassName")}},
		{"class annotation disagrees with class name", func(ing *networking.Ingress) {
			ing.Annotations[networking.AnnotationIngressClass] = "legacy"
		}, []wantErr{invalid(classAnno).saying(`must match spec.ingressClassName ("signet")`)}},
		{"empty class annotation disagrees with class name", func(ing *networking.Ingress) {
			ing.Annotations[networking.AnnotationIngressClass] = ""
		}, []wantErr{invalid(classAnno)}},

		// Several problems at once are all reported.
		{"problems everywhere", func(ing *networking.Ingress) {
			ing.Spec.Rules[0].Host = "*"
			paths(ing, 0)[0].Path = "/a/../b"
			paths(ing, 0)[1].PathType = nil
			bucket(ing).Kind = ""
			ing.Spec.TLS[0].SecretName = "-"
		}, []wantErr{
			invalid(rule0 + ".host"),
			invalid(webPath + ".path"),
			required(apiPath + ".pathType"),
			required(bucketPath + ".backend.resource.kind"),
			invalid("spec.tls[0].secretName"),
		}},
	}...)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ing := validIngress()
			tc.mutate(ing)
			errs := ValidateIngress(ing)
			checkErrors(t, errs, tc.want)
			for _, e := range errs {
				if strings.HasPrefix(e.Field, "spec") && e.Detail == "" {
					t.Errorf("error without a detail for the user: %v", e)
				}
			}
		})
	}
}

func TestValidateIngressUpdate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*networking.Ingress)
		want   []wantErr
	}{
		{"unchanged", func(*networking.Ingress) {}, nil},
		{"spec change", func(ing *networking.Ingress) {
			paths(ing, 0)[1].Path = "/api/v2"
			ing.Spec.TLS = nil
		}, nil},
		{"class annotation disagreeing with class name is not rechecked", func(ing *networking.Ingress) {
			ing.Annotations[networking.AnnotationIngressClass] = "legacy"
		}, nil},
		{"name changed", func(ing *networking.Ingress) {
			ing.Name = "shop-2"
		}, []wantErr{invalid("metadata.name").saying(apivalidation.FieldImmutableErrorMsg)}},
		{"namespace changed", func(ing *networking.Ingress) {
			ing.Namespace = "other"
		}, []wantErr{invalid("metadata.namespace")}},
		{"resource version missing", func(ing *networking.Ingress) {
			ing.ResourceVersion = ""
		}, []wantErr{invalid("metadata.resourceVersion")}},
		{"spec rules still apply", func(ing *networking.Ingress) {
			paths(ing, 0)[0].Path = "/a//b"
			ing.Spec.Rules[1].Host = "1.2.3.4"
		}, []wantErr{invalid(webPath + ".path"), invalid("spec.rules[1].host")}},
		{"health-check agreement still applies", func(ing *networking.Ingress) {
			wildService(ing).HealthCheck.Path = "/other"
		}, []wantErr{invalid(wildPath + ".backend.service.healthCheck")}},
		{"rules and default backend both removed", func(ing *networking.Ingress) {
			ing.Spec.Rules, ing.Spec.DefaultBackend = nil, nil
		}, []wantErr{required("spec")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldIng := validIngress()
			newIng := validIngress()
			tc.mutate(newIng)
			checkErrors(t, ValidateIngressUpdate(newIng, oldIng), tc.want)
		})
	}

	t.Run("create rejects what update lets through", func(t *testing.T) {
		ing := validIngress()
		ing.Annotations[networking.AnnotationIngressClass] = "legacy"
		checkErrors(t, ValidateIngress(ing), []wantErr{invalid(classAnno)})
		checkErrors(t, ValidateIngressUpdate(ing, validIngress()), nil)
	})
}

func TestValidateIngressStatusUpdate(t *testing.T) {
	const (
		lb0   = "status.loadBalancer.ingress[0]"
		port0 = "status.loadBalancer.ingress[0].ports[0]"
	)
	lbIngress := func(ing *networking.Ingress) *networking.IngressLoadBalancerIngress {
		return &ing.Status.LoadBalancer.Ingress[0]
	}
	portStatus := func(ing *networking.Ingress) *networking.IngressPortStatus {
		return &ing.Status.LoadBalancer.Ingress[0].Ports[0]
	}
	cases := []struct {
		name   string
		mutate func(*networking.Ingress)
		want   []wantErr
	}{
		{"baseline", func(*networking.Ingress) {}, nil},
		{"empty status", func(ing *networking.Ingress) { ing.Status = networking.IngressStatus{} }, nil},
		{"IPv6 address", func(ing *networking.Ingress) { lbIngress(ing).IP = "2001:db8::10" }, nil},
		{"IP and hostname", func(ing *networking.Ingress) { lbIngress(ing).Hostname = "lb.example.com" }, nil},
		{"hostname only", func(ing *networking.Ingress) { lbIngress(ing).IP, lbIngress(ing).Hostname = "", "lb.example.com" }, nil},
		{"UDP and SCTP ports", func(ing *networking.Ingress) {
			lbIngress(ing).Ports = []networking.IngressPortStatus{
				{Port: 443, Protocol: corev1.ProtocolUDP},
				{Port: 65535, Protocol: corev1.ProtocolSCTP},
			}
		}, nil},
		{"port error reason only", func(ing *networking.Ingress) {
			portStatus(ing).Error = ptrTo("CertificateInvalid")
		}, nil},
		{"port error reason and message", func(ing *networking.Ingress) {
			portStatus(ing).Error = ptrTo("CertificateInvalid: certificate expired on 2026-01-01")
		}, nil},
		{"port error empty", func(ing *networking.Ingress) {
			portStatus(ing).Error = ptrTo("")
		}, nil},
		{"port error at the length limit", func(ing *networking.Ingress) {
			portStatus(ing).Error = ptrTo("Failed: " + strings.Repeat("x", maxPortStatusErrorLength-len("Failed: ")))
		}, nil},
		{"spec is not checked by a status update", func(ing *networking.Ingress) {
			ing.Spec = networking.IngressSpec{}
		}, nil},
		{"several conditions", func(ing *networking.Ingress) {
			c := ing.Status.Conditions[0]
			c.Type, c.Status, c.Reason = networking.IngressConditionProgrammed, metav1.ConditionFalse, "Pending"
			ing.Status.Conditions = append(ing.Status.Conditions, c)
		}, nil},

		{"neither IP nor hostname", func(ing *networking.Ingress) {
			lbIngress(ing).IP = ""
		}, []wantErr{required(lb0).saying("at least one of ip or hostname")}},
		{"IP malformed", func(ing *networking.Ingress) {
			lbIngress(ing).IP = "192.0.2.300"
		}, []wantErr{invalid(lb0 + ".ip")}},
		{"IP is a name", func(ing *networking.Ingress) {
			lbIngress(ing).IP = "lb.example.com"
		}, []wantErr{invalid(lb0 + ".ip")}},
		{"hostname is an IPv4 address", func(ing *networking.Ingress) {
			ing.Status.LoadBalancer.Ingress[1].Hostname = "192.0.2.11"
		}, []wantErr{invalid("status.loadBalancer.ingress[1].hostname").saying("not an IP address")}},
		{"hostname is an IPv6 address", func(ing *networking.Ingress) {
			ing.Status.LoadBalancer.Ingress[1].Hostname = "2001:db8::1"
		}, []wantErr{invalid("status.loadBalancer.ingress[1].hostname").saying("not an IP address")}},
		{"hostname upper case", func(ing *networking.Ingress) {
			ing.Status.LoadBalancer.Ingress[1].Hostname = "LB.example.com"
		}, []wantErr{invalid("status.loadBalancer.ingress[1].hostname")}},
		{"port zero", func(ing *networking.Ingress) {
			portStatus(ing).Port = 0
		}, []wantErr{invalid(port0 + ".port").saying("between 1 and 65535")}},
		{"port too large", func(ing *networking.Ingress) {
			portStatus(ing).Port = 65536
		}, []wantErr{invalid(port0 + ".port")}},
		{"protocol missing", func(ing *networking.Ingress) {
			portStatus(ing).Protocol = ""
		}, []wantErr{required(port0 + ".protocol")}},
		{"protocol unknown", func(ing *networking.Ingress) {
			portStatus(ing).Protocol = "HTTP"
		}, []wantErr{notSupported(port0 + ".protocol").saying(`"TCP", "UDP", "SCTP"`)}},
		{"port error not CamelCase", func(ing *networking.Ingress) {
			portStatus(ing).Error = ptrTo("certificate invalid")
		}, []wantErr{invalid(port0 + ".error").saying("CamelCase")}},
		{"port error reason with a space", func(ing *networking.Ingress) {
			portStatus(ing).Error = ptrTo("Certificate Invalid")
		}, []wantErr{invalid(port0 + ".error")}},
		{"port error colon without message", func(ing *networking.Ingress) {
			portStatus(ing).Error = ptrTo("CertificateInvalid:")
		}, []wantErr{invalid(port0 + ".error")}},
		{"port error message over two lines", func(ing *networking.Ingress) {
			portStatus(ing).Error = ptrTo("CertificateInvalid: expired\nrenew it")
		}, []wantErr{invalid(port0 + ".error")}},
		{"port error too long", func(ing *networking.Ingress) {
			portStatus(ing).Error = ptrTo("Failed: " + strings.Repeat("x", maxPortStatusErrorLength))
		}, []wantErr{tooLong(port0 + ".error")}},
		{"condition without reason", func(ing *networking.Ingress) {
			ing.Status.Conditions[0].Reason = ""
		}, []wantErr{required("status.conditions[0].reason")}},
		{"condition with unknown status", func(ing *networking.Ingress) {
			ing.Status.Conditions[0].Status = "Maybe"
		}, []wantErr{notSupported("status.conditions[0].status")}},
		{"duplicate condition type", func(ing *networking.Ingress) {
			ing.Status.Conditions = append(ing.Status.Conditions, ing.Status.Conditions[0])
		}, []wantErr{duplicate("status.conditions[1]")}},
		{"name changed", func(ing *networking.Ingress) {
			ing.Name = "other"
		}, []wantErr{invalid("metadata.name")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldIng := validIngress()
			newIng := validIngress()
			tc.mutate(newIng)
			checkErrors(t, ValidateIngressStatusUpdate(newIng, oldIng), tc.want)
		})
	}
}

// validIngressClass returns an IngressClass that passes every check.
func validIngressClass() *networking.IngressClass {
	return &networking.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: "signet", ResourceVersion: "1"},
		Spec: networking.IngressClassSpec{
			Controller: "signet.dev/ingress-controller",
			Parameters: &networking.IngressClassParametersReference{
				APIGroup: ptrTo("config.signet.dev"),
				Kind:     "IngressParameters",
				Name:     "default",
				Scope:    ptrTo(networking.IngressClassParametersReferenceScopeCluster),
			},
		},
	}
}

func TestValidateIngressClass(t *testing.T) {
	const params = "spec.parameters"
	cases := []struct {
		name   string
		mutate func(*networking.IngressClass)
		want   []wantErr
	}{
		{"baseline", func(*networking.IngressClass) {}, nil},
		{"no parameters", func(ic *networking.IngressClass) { ic.Spec.Parameters = nil }, nil},
		{"parameters in the core group", func(ic *networking.IngressClass) { ic.Spec.Parameters.APIGroup = nil }, nil},
		{"namespaced parameters", func(ic *networking.IngressClass) {
			ic.Spec.Parameters.Scope = ptrTo(networking.IngressClassParametersReferenceScopeNamespace)
			ic.Spec.Parameters.Namespace = ptrTo("ingress-system")
		}, nil},
		{"controller at the length limit", func(ic *networking.IngressClass) {
			ic.Spec.Controller = "example.com/" + strings.Repeat("a", maxControllerLength-len("example.com/"))
		}, nil},

		{"name not a DNS subdomain", func(ic *networking.IngressClass) {
			ic.Name = "Signet"
		}, []wantErr{invalid("metadata.name")}},
		{"namespace set on a cluster-scoped object", func(ic *networking.IngressClass) {
			ic.Namespace = "default"
		}, []wantErr{forbidden("metadata.namespace")}},
		{"controller missing", func(ic *networking.IngressClass) {
			ic.Spec.Controller = ""
		}, []wantErr{required("spec.controller")}},
		{"controller without a domain", func(ic *networking.IngressClass) {
			ic.Spec.Controller = "ingress-controller"
		}, []wantErr{invalid("spec.controller").saying("domain-prefixed path")}},
		{"controller with an upper-case domain", func(ic *networking.IngressClass) {
			ic.Spec.Controller = "Signet.dev/ingress"
		}, []wantErr{invalid("spec.controller")}},
		{"controller too long", func(ic *networking.IngressClass) {
			ic.Spec.Controller = "example.com/" + strings.Repeat("a", maxControllerLength+1-len("example.com/"))
		}, []wantErr{tooLong("spec.controller")}},
		{"parameters kind missing", func(ic *networking.IngressClass) {
			ic.Spec.Parameters.Kind = ""
		}, []wantErr{required(params + ".kind")}},
		{"parameters name missing", func(ic *networking.IngressClass) {
			ic.Spec.Parameters.Name = ""
		}, []wantErr{required(params + ".name")}},
		{"parameters apiGroup not a DNS subdomain", func(ic *networking.IngressClass) {
			ic.Spec.Parameters.APIGroup = ptrTo("Config_Signet")
		}, []wantErr{invalid(params + ".apiGroup")}},
		{"parameters scope missing", func(ic *networking.IngressClass) {
			ic.Spec.Parameters.Scope = nil
		}, []wantErr{required(params + ".scope")}},
		{"parameters scope unknown", func(ic *networking.IngressClass) {
			ic.Spec.Parameters.Scope = ptrTo("Global")
		}, []wantErr{notSupported(params + ".scope").saying(`"Cluster", "Namespace"`)}},
		{"namespace scope without namespace", func(ic *networking.IngressClass) {
			ic.Spec.Parameters.Scope = ptrTo(networking.IngressClassParametersReferenceScopeNamespace)
		}, []wantErr{required(params + ".namespace").saying("scope is Namespace")}},
		{"namespace scope with empty namespace", func(ic *networking.IngressClass) {
			ic.Spec.Parameters.Scope = ptrTo(networking.IngressClassParametersReferenceScopeNamespace)
			ic.Spec.Parameters.Namespace = ptrTo("")
		}, []wantErr{required(params + ".namespace")}},
		{"namespace not a DNS label", func(ic *networking.IngressClass) {
			ic.Spec.Parameters.Scope = ptrTo(networking.IngressClassParametersReferenceScopeNamespace)
			ic.Spec.Parameters.Namespace = ptrTo("ingress.system")
		}, []wantErr{invalid(params + ".namespace")}},
		{"cluster scope with namespace", func(ic *networking.IngressClass) {
			ic.Spec.Parameters.Namespace = ptrTo("ingress-system")
		}, []wantErr{forbidden(params + ".namespace").saying("scope is Cluster")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ic := validIngressClass()
			tc.mutate(ic)
			checkErrors(t, ValidateIngressClass(ic), tc.want)
		})
	}
}

func TestValidateIngressClassUpdate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*networking.IngressClass)
		want   []wantErr
	}{
		{"unchanged", func(*networking.IngressClass) {}, nil},
		{"parameters changed", func(ic *networking.IngressClass) {
			ic.Spec.Parameters.Name = "tuned"
		}, nil},
		{"parameters removed", func(ic *networking.IngressClass) {
			ic.Spec.Parameters = nil
		}, nil},
		{"controller changed", func(ic *networking.IngressClass) {
			ic.Spec.Controller = "example.com/other-controller"
		}, []wantErr{invalid("spec.controller").saying(apivalidation.FieldImmutableErrorMsg)}},
		{"spec rules still apply", func(ic *networking.IngressClass) {
			ic.Spec.Parameters.Scope = ptrTo("Global")
		}, []wantErr{notSupported("spec.parameters.scope")}},
		{"name changed", func(ic *networking.IngressClass) {
			ic.Name = "signet-2"
		}, []wantErr{invalid("metadata.name")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			oldIC := validIngressClass()
			newIC := validIngressClass()
			tc.mutate(newIC)
			checkErrors(t, ValidateIngressClassUpdate(newIC, oldIC), tc.want)
		})
	}
}

// TestValidateDoesNotModify makes sure validation reads its input only: the
// health-check comparison works on defaulted copies.
func TestValidateDoesNotModify(t *testing.T) {
	ing := validIngress()
	webService(ing).HealthCheck = &networking.IngressHealthCheck{}
	wildService(ing).HealthCheck = &networking.IngressHealthCheck{}
	_ = ValidateIngress(ing)
	if hc := *webService(ing).HealthCheck; hc != (networking.IngressHealthCheck{}) {
		t.Errorf("ValidateIngress filled in the health check: %+v", hc)
	}
}
