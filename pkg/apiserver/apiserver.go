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

// Package apiserver assembles signet-apiserver: the scheme of both signet
// API groups, their REST storage, and the generic API server that serves
// them (as an aggregated API server behind kube-apiserver, or standalone).
package apiserver

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"

	discoveryv1 "signet.dev/api/discovery/v1"
	discoveryv1alpha1 "signet.dev/api/discovery/v1alpha1"
	networkingv1 "signet.dev/api/networking/v1"
	networkingv1beta1 "signet.dev/api/networking/v1beta1"

	"signet.dev/signet/pkg/apis/discovery"
	discoveryinstall "signet.dev/signet/pkg/apis/discovery/install"
	"signet.dev/signet/pkg/apis/networking"
	networkinginstall "signet.dev/signet/pkg/apis/networking/install"
	endpointslicestore "signet.dev/signet/pkg/registry/discovery/endpointslice"
	ingressstore "signet.dev/signet/pkg/registry/networking/ingress"
	ingressclassstore "signet.dev/signet/pkg/registry/networking/ingressclass"
)

var (
	// Scheme holds signet's internal and versioned types.
	Scheme = runtime.NewScheme()
	// Codecs encodes and decodes signet's types in every served version.
	Codecs = serializer.NewCodecFactory(Scheme)
)

// StorageVersions are the versions objects are written to etcd in.
var StorageVersions = schema.GroupVersions{networkingv1.SchemeGroupVersion, discoveryv1.SchemeGroupVersion}

func init() {
	networkinginstall.Install(Scheme)
	discoveryinstall.Install(Scheme)
	// The generic server decodes options (ListOptions, ...) and writes
	// Status and discovery documents with these unversioned types.
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	Scheme.AddUnversionedTypes(schema.GroupVersion{Group: "", Version: "v1"},
		&metav1.Status{},
		&metav1.APIVersions{},
		&metav1.APIGroupList{},
		&metav1.APIGroup{},
		&metav1.APIResourceList{},
	)
}

// Config is the configuration of signet-apiserver.
type Config struct {
	GenericConfig *genericapiserver.RecommendedConfig
}

// CompletedConfig is a Config whose defaults have been filled in.
type CompletedConfig struct {
	genericConfig genericapiserver.CompletedConfig
}

// Complete fills in the defaults of the generic server.
func (c *Config) Complete() CompletedConfig {
	return CompletedConfig{genericConfig: c.GenericConfig.Complete()}
}

// Server is a configured signet-apiserver, ready to run.
type Server struct {
	GenericAPIServer *genericapiserver.GenericAPIServer
}

// New builds the server and installs both API groups.
func (c CompletedConfig) New() (*Server, error) {
	generic, err := c.genericConfig.New("signet-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}
	s := &Server{GenericAPIServer: generic}
	optsGetter := c.genericConfig.RESTOptionsGetter

	networkingGroup, err := networkingAPIGroup(optsGetter)
	if err != nil {
		return nil, err
	}
	discoveryGroup, err := discoveryAPIGroup(optsGetter)
	if err != nil {
		return nil, err
	}
	if err := generic.InstallAPIGroups(networkingGroup, discoveryGroup); err != nil {
		return nil, fmt.Errorf("installing the signet API groups: %w", err)
	}
	return s, nil
}

// networkingAPIGroup serves Ingresses and IngressClasses in v1 and v1beta1
// from one storage each (stored as v1).
func networkingAPIGroup(optsGetter generic.RESTOptionsGetter) (*genericapiserver.APIGroupInfo, error) {
	ingresses, ingressStatus, err := ingressstore.NewREST(Scheme, optsGetter)
	if err != nil {
		return nil, err
	}
	classes, err := ingressclassstore.NewREST(Scheme, optsGetter)
	if err != nil {
		return nil, err
	}
	resources := map[string]rest.Storage{
		"ingresses":        ingresses,
		"ingresses/status": ingressStatus,
		"ingressclasses":   classes,
	}
	info := genericapiserver.NewDefaultAPIGroupInfo(networking.GroupName, Scheme, metav1.ParameterCodec, Codecs)
	info.NegotiatedSerializer = withoutProtobuf{info.NegotiatedSerializer}
	info.VersionedResourcesStorageMap[networkingv1.SchemeGroupVersion.Version] = resources
	info.VersionedResourcesStorageMap[networkingv1beta1.SchemeGroupVersion.Version] = resources
	return &info, nil
}

// discoveryAPIGroup serves EndpointSlices in v1 and v1alpha1 (stored as v1).
func discoveryAPIGroup(optsGetter generic.RESTOptionsGetter) (*genericapiserver.APIGroupInfo, error) {
	slices, err := endpointslicestore.NewREST(Scheme, optsGetter)
	if err != nil {
		return nil, err
	}
	resources := map[string]rest.Storage{"endpointslices": slices}
	info := genericapiserver.NewDefaultAPIGroupInfo(discovery.GroupName, Scheme, metav1.ParameterCodec, Codecs)
	info.NegotiatedSerializer = withoutProtobuf{info.NegotiatedSerializer}
	info.VersionedResourcesStorageMap[discoveryv1.SchemeGroupVersion.Version] = resources
	info.VersionedResourcesStorageMap[discoveryv1alpha1.SchemeGroupVersion.Version] = resources
	return &info, nil
}

// withoutProtobuf offers every media type of a negotiated serializer but
// protobuf. signet's types have no protobuf encoding, yet the generic
// server offers it, so a client that prefers protobuf was answered with an
// error once the server had to encode one of them: kube-controller-manager's
// namespace controller (the metadata client asks for protobuf, then JSON)
// failed every DeleteCollection with "object *v1.EndpointSliceList does
// not implement the protobuf marshalling interface", and namespaces holding
// signet objects stayed Terminating. Without protobuf on offer, such
// clients get JSON, as they do from CustomResources.
type withoutProtobuf struct {
	runtime.NegotiatedSerializer
}

// SupportedMediaTypes is the wrapped serializer's list without protobuf.
func (s withoutProtobuf) SupportedMediaTypes() []runtime.SerializerInfo {
	var out []runtime.SerializerInfo
	for _, info := range s.NegotiatedSerializer.SupportedMediaTypes() {
		if info.MediaType != runtime.ContentTypeProtobuf {
			out = append(out, info)
		}
	}
	return out
}
