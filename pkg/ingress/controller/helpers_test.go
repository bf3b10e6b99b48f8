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

package controller

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	discoveryv1 "signet.dev/api/discovery/v1"
	networkingv1 "signet.dev/api/networking/v1"
)

// epoch is the creation time of an Ingress of age 0; an Ingress of age n
// was created n seconds later.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// ingress returns an Ingress "namespace/name" (or "name" in "default") of
// class "ours", created age seconds after epoch.
func ingress(nsName string, age int, rules ...networkingv1.IngressRule) *networkingv1.Ingress {
	ns, name, ok := strings.Cut(nsName, "/")
	if !ok {
		ns, name = "default", nsName
	}
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:         ns,
			Name:              name,
			UID:               types.UID("uid-" + ns + "-" + name),
			Generation:        1,
			CreationTimestamp: metav1.NewTime(epoch.Add(time.Duration(age) * time.Second)),
		},
		Spec: networkingv1.IngressSpec{IngressClassName: ptr.To("ours"), Rules: rules},
	}
}

func svcBackend(name string, port networkingv1.ServiceBackendPort) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: port}}
}

func num(n int32) networkingv1.ServiceBackendPort    { return networkingv1.ServiceBackendPort{Number: n} }
func named(n string) networkingv1.ServiceBackendPort { return networkingv1.ServiceBackendPort{Name: n} }

func rule(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
	return networkingv1.IngressRule{
		Host:             host,
		IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}},
	}
}

func path(typ networkingv1.PathType, p string, b networkingv1.IngressBackend) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{Path: p, PathType: &typ, Backend: b}
}

func prefix(p string, b networkingv1.IngressBackend) networkingv1.HTTPIngressPath {
	return path(networkingv1.PathTypePrefix, p, b)
}

// service returns a Service "namespace/name" with ports given as
// "name:port:targetPort" (name may be empty; targetPort a number or name).
func service(nsName string, ports ...string) *corev1.Service {
	ns, name, _ := strings.Cut(nsName, "/")
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	for _, p := range ports {
		parts := strings.Split(p, ":")
		port := int32(atoi(parts[1]))
		sp := corev1.ServicePort{Name: parts[0], Port: port, Protocol: corev1.ProtocolTCP, TargetPort: intstr.Parse(parts[2])}
		svc.Spec.Ports = append(svc.Spec.Ports, sp)
	}
	return svc
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// ep is an endpoint with addresses and a ready condition (nil: unset).
type ep struct {
	addrs []string
	ready *bool
}

func readyEP(addrs ...string) ep    { return ep{addrs: addrs, ready: ptr.To(true)} }
func notReadyEP(addrs ...string) ep { return ep{addrs: addrs, ready: ptr.To(false)} }
func unknownEP(addrs ...string) ep  { return ep{addrs: addrs} }

// slice returns a slice "namespace/name" of Service svc with ports
// "name:port" and endpoints.
func slice(nsName, svc string, family discoveryv1.AddressType, ports []string, eps ...ep) *discoveryv1.EndpointSlice {
	ns, name, _ := strings.Cut(nsName, "/")
	s := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: family,
	}
	for _, p := range ports {
		pn, pp, _ := strings.Cut(p, ":")
		s.Ports = append(s.Ports, discoveryv1.EndpointPort{Name: ptr.To(pn), Port: ptr.To(int32(atoi(pp))), Protocol: ptr.To(corev1.ProtocolTCP)})
	}
	for _, e := range eps {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: e.addrs, Conditions: discoveryv1.EndpointConditions{Ready: e.ready}})
	}
	return s
}

// fakeState is a State over maps keyed by "namespace/name".
type fakeState struct {
	services   map[string]*corev1.Service
	slices     map[string][]*discoveryv1.EndpointSlice // by namespace/service
	secrets    map[string]*corev1.Secret
	configMaps map[string]*corev1.ConfigMap
}

func newFakeState() *fakeState {
	return &fakeState{
		services:   map[string]*corev1.Service{},
		slices:     map[string][]*discoveryv1.EndpointSlice{},
		secrets:    map[string]*corev1.Secret{},
		configMaps: map[string]*corev1.ConfigMap{},
	}
}

func (s *fakeState) add(objs ...any) *fakeState {
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Service:
			s.services[o.Namespace+"/"+o.Name] = o
		case *discoveryv1.EndpointSlice:
			k := o.Namespace + "/" + o.Labels[discoveryv1.LabelServiceName]
			s.slices[k] = append(s.slices[k], o)
		case *corev1.Secret:
			s.secrets[o.Namespace+"/"+o.Name] = o
		case *corev1.ConfigMap:
			s.configMaps[o.Namespace+"/"+o.Name] = o
		default:
			panic("unexpected object")
		}
	}
	return s
}

func (s *fakeState) Service(ns, name string) *corev1.Service { return s.services[ns+"/"+name] }
func (s *fakeState) EndpointSlices(ns, svc string) []*discoveryv1.EndpointSlice {
	return s.slices[ns+"/"+svc]
}
func (s *fakeState) Secret(ns, name string) *corev1.Secret       { return s.secrets[ns+"/"+name] }
func (s *fakeState) ConfigMap(ns, name string) *corev1.ConfigMap { return s.configMaps[ns+"/"+name] }

// newCert returns a PEM certificate and key for dnsNames.
func newCert(t *testing.T, dnsNames ...string) (crt, key []byte) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: dnsNames[0]},
		DNSNames:     dnsNames,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

func tlsSecret(nsName string, crt, key []byte) *corev1.Secret {
	ns, name, _ := strings.Cut(nsName, "/")
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key},
	}
}
