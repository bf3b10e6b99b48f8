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

package apiserver

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
)

// TestServedMediaTypesWithoutProtobuf: signet's types cannot be encoded as
// protobuf, so the groups must not offer it (clients preferring it, such as
// the namespace controller's metadata client, then get JSON).
func TestServedMediaTypesWithoutProtobuf(t *testing.T) {
	if !offers(Codecs, runtime.ContentTypeProtobuf) {
		t.Fatal("the plain codec factory no longer offers protobuf; the wrapper may be unnecessary")
	}
	served := withoutProtobuf{Codecs}
	if offers(served, runtime.ContentTypeProtobuf) {
		t.Error("protobuf is still offered")
	}
	for _, mt := range []string{runtime.ContentTypeJSON, runtime.ContentTypeYAML} {
		if !offers(served, mt) {
			t.Errorf("%s is no longer offered", mt)
		}
	}
}

func offers(s runtime.NegotiatedSerializer, mediaType string) bool {
	for _, info := range s.SupportedMediaTypes() {
		if info.MediaType == mediaType {
			return true
		}
	}
	return false
}
