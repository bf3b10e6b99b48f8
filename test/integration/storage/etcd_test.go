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

// Package storage checks, against a real embedded etcd, that signet's
// objects are stored in their storage version (v1) whatever version they
// were written in, and read back unchanged through every served version.
// It uses the same storage backend (k8s.io/apiserver's etcd3 store) that
// signet-apiserver is built on.
package storage

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	etcdkubernetes "go.etcd.io/etcd/client/v3/kubernetes"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/etcd3/testserver"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/storagebackend/factory"

	"signet.dev/signet/pkg/apis/discovery"
	discoveryinstall "signet.dev/signet/pkg/apis/discovery/install"
	"signet.dev/signet/pkg/apis/networking"
	networkinginstall "signet.dev/signet/pkg/apis/networking/install"
)

const keyPrefix = "/signet-test"

type fixture struct {
	scheme *runtime.Scheme
	codecs serializer.CodecFactory
	etcd   *etcdkubernetes.Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	scheme := runtime.NewScheme()
	networkinginstall.Install(scheme)
	discoveryinstall.Install(scheme)
	return &fixture{scheme: scheme, codecs: serializer.NewCodecFactory(scheme), etcd: testserver.RunEtcd(t, nil)}
}

// store opens the etcd3 store of one resource, encoding in storageVersion
// as signet-apiserver does.
func (f *fixture) store(t *testing.T, gr schema.GroupResource, storageVersion schema.GroupVersion, newFunc, newListFunc func() runtime.Object) storage.Interface {
	t.Helper()
	info, ok := runtime.SerializerInfoForMediaType(f.codecs.SupportedMediaTypes(), runtime.ContentTypeJSON)
	if !ok {
		t.Fatal("no JSON serializer")
	}
	internal := schema.GroupVersion{Group: gr.Group, Version: runtime.APIVersionInternal}
	codec := f.codecs.CodecForVersions(info.Serializer, f.codecs.UniversalDeserializer(), storageVersion, internal)
	config := storagebackend.NewDefaultConfig(keyPrefix, codec)
	config.Transport.ServerList = f.etcd.Endpoints()
	resourcePrefix := "/" + gr.Group + "/" + gr.Resource
	s, destroy, err := factory.Create(*config.ForResource(gr), newFunc, newListFunc, resourcePrefix)
	if err != nil {
		t.Fatalf("creating the etcd3 store: %v", err)
	}
	t.Cleanup(destroy)
	return s
}

// decode reads a manifest the way the apiserver reads a request body:
// defaulted and converted to the internal version.
func (f *fixture) decode(t *testing.T, manifest string) runtime.Object {
	t.Helper()
	obj, _, err := f.codecs.UniversalDecoder().Decode([]byte(manifest), nil, nil)
	if err != nil {
		t.Fatalf("decoding manifest: %v", err)
	}
	return obj
}

// rawValue returns what etcd holds under a key, bypassing the store.
func (f *fixture) rawValue(t *testing.T, key string) string {
	t.Helper()
	resp, err := f.etcd.KV.Get(context.Background(), keyPrefix+key)
	if err != nil {
		t.Fatalf("reading %s from etcd: %v", key, err)
	}
	if len(resp.Kvs) != 1 {
		t.Fatalf("etcd holds %d values under %s, want 1", len(resp.Kvs), key)
	}
	return string(resp.Kvs[0].Value)
}

func TestLegacyIngressIsStoredAsV1(t *testing.T) {
	f := newFixture(t)
	gr := networking.Resource("ingresses")
	s := f.store(t, gr, schema.GroupVersion{Group: networking.GroupName, Version: "v1"},
		func() runtime.Object { return &networking.Ingress{} },
		func() runtime.Object { return &networking.IngressList{} })

	in := f.decode(t, `
apiVersion: networking.signet.dev/v1beta1
kind: Ingress
metadata:
  name: legacy
  namespace: default
spec:
  backend:
    serviceName: fallback
    servicePort: 8080
  rules:
  - host: "*.example.com"
    http:
      paths:
      - path: /api
        backend:
          serviceName: api
          servicePort: http
          healthCheck:
            path: /healthz
`).(*networking.Ingress)

	key := "/" + gr.Group + "/" + gr.Resource + "/default/legacy"
	created := &networking.Ingress{}
	if err := s.Create(context.Background(), key, in, created, 0); err != nil {
		t.Fatalf("storing the Ingress: %v", err)
	}

	raw := f.rawValue(t, key)
	for _, want := range []string{
		`"apiVersion":"networking.signet.dev/v1"`,
		`"defaultBackend":{"service":{"name":"fallback","port":{"number":8080}}}`,
		`"pathType":"ImplementationSpecific"`,
		`"healthCheck":{"path":"/healthz","port":{"name":"http"},"intervalSeconds":10,"timeoutSeconds":5,"healthyThreshold":2,"unhealthyThreshold":3}`,
	} {
		if !strings.Contains(raw, want) {
			t.Errorf("etcd value lacks %s:\n%s", want, raw)
		}
	}
	if strings.Contains(raw, "serviceName") {
		t.Errorf("etcd value still has the v1beta1 shape:\n%s", raw)
	}

	got := &networking.Ingress{}
	if err := s.Get(context.Background(), key, storage.GetOptions{}, got); err != nil {
		t.Fatalf("reading the Ingress back: %v", err)
	}
	if !apiequality.Semantic.DeepEqual(created, got) {
		t.Errorf("stored Ingress changed on read (-created +read):\n%s", cmp.Diff(created, got))
	}
	in.ResourceVersion = got.ResourceVersion
	if !apiequality.Semantic.DeepEqual(in, got) {
		t.Errorf("stored Ingress differs from what was written (-written +read):\n%s", cmp.Diff(in, got))
	}
}

func TestV1alpha1EndpointSliceIsStoredAsV1(t *testing.T) {
	f := newFixture(t)
	gr := discovery.Resource("endpointslices")
	s := f.store(t, gr, schema.GroupVersion{Group: discovery.GroupName, Version: "v1"},
		func() runtime.Object { return &discovery.EndpointSlice{} },
		func() runtime.Object { return &discovery.EndpointSliceList{} })

	in := f.decode(t, `
apiVersion: discovery.signet.dev/v1alpha1
kind: EndpointSlice
metadata:
  name: web-abc
  namespace: default
  labels:
    kubernetes.io/service-name: web
addressType: IPv4
endpoints:
- addresses: ["10.1.2.3"]
  conditions: {ready: true}
  topology:
    kubernetes.io/hostname: node-1
    topology.kubernetes.io/zone: zone-a
    topology.kubernetes.io/region: region-1
ports:
- port: 80
`).(*discovery.EndpointSlice)

	key := "/" + gr.Group + "/" + gr.Resource + "/default/web-abc"
	created := &discovery.EndpointSlice{}
	if err := s.Create(context.Background(), key, in, created, 0); err != nil {
		t.Fatalf("storing the EndpointSlice: %v", err)
	}
	raw := f.rawValue(t, key)
	for _, want := range []string{
		`"apiVersion":"discovery.signet.dev/v1"`,
		`"nodeName":"node-1"`,
		`"zone":"zone-a"`,
		`"topology.kubernetes.io/region":"region-1"`,
		`"name":"","protocol":"TCP","port":80`,
	} {
		if !strings.Contains(raw, want) {
			t.Errorf("etcd value lacks %s:\n%s", want, raw)
		}
	}

	got := &discovery.EndpointSlice{}
	if err := s.Get(context.Background(), key, storage.GetOptions{}, got); err != nil {
		t.Fatalf("reading the EndpointSlice back: %v", err)
	}
	in.ResourceVersion = got.ResourceVersion
	if !apiequality.Semantic.DeepEqual(in, got) {
		t.Errorf("stored EndpointSlice differs from what was written (-written +read):\n%s", cmp.Diff(in, got))
	}
}
