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

package deploy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
)

// manifestFiles are the files of deploy/ that hold Kubernetes objects;
// kustomization.yaml is kustomize's, not the API server's.
var manifestFiles = []string{
	"namespace.yaml",
	"rbac.yaml",
	"service.yaml",
	"apiserver-embedded-etcd.yaml",
	"apiserver-external-etcd.yaml",
	"apiservices.yaml",
	"controller-manager.yaml",
	"topology-keys-policy.yaml",
	"kube-proxy.yaml",
	"node-cache.yaml",
	"cluster-dns.yaml",
	"ingress.yaml",
	"ingressclass.yaml",
}

// notInKustomization are the manifest files kustomization.yaml leaves
// out: the external-etcd variant (an alternative to the embedded one) and
// the IngressClass, a networking.signet.dev object that can only be
// applied once signet-apiserver serves that group.
var notInKustomization = []string{"apiserver-external-etcd.yaml", "ingressclass.yaml"}

// deployDir returns the repository's deploy/ directory.
func deployDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "deploy"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "..", "go.mod")); err != nil {
		t.Fatalf("%s is not the deploy/ directory of the repository: %v", dir, err)
	}
	return dir
}

// object is one document of a manifest file.
type object struct {
	File      string
	GVK       schema.GroupVersionKind
	Name      string
	Namespace string
	// JSON is the document converted to JSON.
	JSON []byte
}

func (o object) String() string {
	return o.GVK.Kind + " " + o.Namespace + "/" + o.Name + " (" + o.File + ")"
}

// readObjects returns the objects of a manifest file in order, skipping
// documents that are empty or only comments.
func readObjects(t testing.TB, file string) []object {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(deployDir(t), file))
	if err != nil {
		t.Fatal(err)
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []object
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		jsonDoc, err := utilyaml.ToJSON(doc)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if trimmed := bytes.TrimSpace(jsonDoc); len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
			continue
		}
		var meta struct {
			metav1.TypeMeta `json:",inline"`
			Metadata        metav1.ObjectMeta `json:"metadata"`
		}
		if err := json.Unmarshal(jsonDoc, &meta); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if meta.Kind == "" || meta.APIVersion == "" || meta.Metadata.Name == "" {
			t.Fatalf("%s: a document lacks apiVersion, kind or metadata.name:\n%s", file, doc)
		}
		objs = append(objs, object{
			File:      file,
			GVK:       meta.GroupVersionKind(),
			Name:      meta.Metadata.Name,
			Namespace: meta.Metadata.Namespace,
			JSON:      jsonDoc,
		})
	}
	if len(objs) == 0 {
		t.Fatalf("%s holds no objects", file)
	}
	return objs
}

// strictDecoder decodes the built-in kinds and fails on unknown or
// duplicate fields, as kube-apiserver's strict field validation does.
var strictDecoder = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// decode decodes o into a typed object of a kind client-go knows.
func decode(t testing.TB, o object) runtime.Object {
	t.Helper()
	obj, _, err := strictDecoder.Decode(o.JSON, nil, nil)
	if err != nil {
		t.Fatalf("%s: %v", o, err)
	}
	return obj
}

// apiService mirrors apiregistration.k8s.io/v1 APIService, whose Go types
// (k8s.io/kube-aggregator) signet does not depend on. Decoded with unknown
// fields disallowed, so a misspelt field fails here too.
type apiService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Service *struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
			Port      *int32 `json:"port"`
		} `json:"service"`
		Group                 string `json:"group"`
		Version               string `json:"version"`
		InsecureSkipTLSVerify bool   `json:"insecureSkipTLSVerify"`
		CABundle              []byte `json:"caBundle"`
		GroupPriorityMinimum  int64  `json:"groupPriorityMinimum"`
		VersionPriority       int64  `json:"versionPriority"`
	} `json:"spec"`
}

func decodeAPIService(t testing.TB, o object) *apiService {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(o.JSON))
	dec.DisallowUnknownFields()
	var a apiService
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("%s: %v", o, err)
	}
	return &a
}

// kubectlName is how kubectl names an object in apply's output:
// <kind>.<group>/<name>, or <kind>/<name> for the core group.
func kubectlName(gvk schema.GroupVersionKind, name string) string {
	kind := strings.ToLower(gvk.Kind)
	if gvk.Group != "" {
		kind += "." + gvk.Group
	}
	return kind + "/" + name
}
