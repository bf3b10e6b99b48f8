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

package apis_test

import (
	"flag"
	"math/rand"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	"k8s.io/apimachinery/pkg/api/apitesting/roundtrip"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/runtime/serializer/cbor"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"sigs.k8s.io/randfill"

	"signet.dev/signet/pkg/apis/discovery"
	discoveryfuzzer "signet.dev/signet/pkg/apis/discovery/fuzzer"
	discoveryinstall "signet.dev/signet/pkg/apis/discovery/install"
	"signet.dev/signet/pkg/apis/networking"
	networkingfuzzer "signet.dev/signet/pkg/apis/networking/fuzzer"
	networkinginstall "signet.dev/signet/pkg/apis/networking/install"
)

// objectsPerKind is how many fuzzed objects of each kind go through each
// round trip. `make test` runs the default; raise it for a longer soak:
// go test ./pkg/apis/ -args -objects-per-kind=20000
var objectsPerKind = flag.Int("objects-per-kind", 1000, "fuzzed objects per kind and round trip")

// kinds are every internal kind of signet's groups with the versions that
// serve it. The test fails if the scheme serves a kind or version missing
// here, so a new kind cannot skip the round trip.
var kinds = map[schema.GroupKind][]string{
	networking.Kind("Ingress"):          {"v1beta1", "v1"},
	networking.Kind("IngressList"):      {"v1beta1", "v1"},
	networking.Kind("IngressClass"):     {"v1beta1", "v1"},
	networking.Kind("IngressClassList"): {"v1beta1", "v1"},
	discovery.Kind("EndpointSlice"):     {"v1alpha1", "v1"},
	discovery.Kind("EndpointSliceList"): {"v1alpha1", "v1"},
}

func newScheme(t *testing.T) (*runtime.Scheme, serializer.CodecFactory) {
	t.Helper()
	scheme := runtime.NewScheme()
	networkinginstall.Install(scheme)
	discoveryinstall.Install(scheme)
	return scheme, serializer.NewCodecFactory(scheme)
}

func newFiller(codecs serializer.CodecFactory, seed int64) *randfill.Filler {
	funcs := fuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, networkingfuzzer.Funcs, discoveryfuzzer.Funcs)
	return fuzzer.FuzzerFor(funcs, rand.NewSource(seed), codecs)
}

// TestKindsCoverScheme keeps the kinds table honest: every kind and version
// the scheme serves is in it, and nothing else.
func TestKindsCoverScheme(t *testing.T) {
	scheme, _ := newScheme(t)
	served := map[schema.GroupKind][]string{}
	for gvk, goType := range scheme.AllKnownTypes() {
		// The scheme also holds apimachinery's meta kinds (Status,
		// CreateOptions, ...) under each version; they are not ours.
		if gvk.Version == runtime.APIVersionInternal || !strings.HasPrefix(goType.PkgPath(), "signet.dev/") {
			continue
		}
		served[gvk.GroupKind()] = append(served[gvk.GroupKind()], gvk.Version)
	}
	for gk, versions := range served {
		want, ok := kinds[gk]
		if !ok {
			t.Errorf("%v is served in %v but has no round-trip test", gk, versions)
			continue
		}
		if !sameSet(versions, want) {
			t.Errorf("%v is served in %v, but the round trip covers %v", gk, versions, want)
		}
	}
	for gk := range kinds {
		if _, ok := served[gk]; !ok {
			t.Errorf("%v is in the round-trip table but not served", gk)
		}
	}
}

// TestRoundTripJSON runs apimachinery's harness on every internal kind:
// fuzz an internal object, convert it to each served version, encode it as
// JSON, decode and convert back, and require it to be unchanged (plus the
// harness's checks of deep-copy and of stable encoding).
func TestRoundTripJSON(t *testing.T) {
	scheme, codecs := newScheme(t)
	*roundtrip.FuzzIters = *objectsPerKind
	for gk := range kinds {
		t.Run(gk.String(), func(t *testing.T) {
			gvk := gk.WithVersion(runtime.APIVersionInternal)
			roundtrip.RoundTripSpecificKindWithoutProtobuf(t, gvk, scheme, codecs, newFiller(codecs, rand.Int63()), nil)
		})
	}
}

// TestRoundTripExternalJSON fuzzes each served version's own type and
// requires it to survive JSON unchanged, which catches json tags that drop
// or rename fields.
func TestRoundTripExternalJSON(t *testing.T) {
	scheme, codecs := newScheme(t)
	*roundtrip.FuzzIters = *objectsPerKind
	for gk, versions := range kinds {
		for _, version := range versions {
			gvk := gk.WithVersion(version)
			t.Run(gvk.String(), func(t *testing.T) {
				roundtrip.RoundTripSpecificKindWithoutProtobuf(t, gvk, scheme, codecs, newFiller(codecs, rand.Int63()), nil)
			})
		}
	}
}

// TestRoundTripYAMLAndCBOR does the internal -> version -> wire -> internal
// round trip through YAML (what users write) and CBOR (what clients may
// negotiate), with defaulting on decode as the server does.
func TestRoundTripYAMLAndCBOR(t *testing.T) {
	scheme, codecs := newScheme(t)
	formats := map[string]runtime.Serializer{
		"yaml": json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{Yaml: true}),
		"cbor": cbor.NewSerializer(scheme, scheme),
	}
	for name, format := range formats {
		for gk, versions := range kinds {
			for _, version := range versions {
				gv := schema.GroupVersion{Group: gk.Group, Version: version}
				codec := codecs.CodecForVersions(format, format, gv, nil)
				filler := newFiller(codecs, rand.Int63())
				t.Run(name+"/"+gk.WithVersion(version).String(), func(t *testing.T) {
					for i := 0; i < *objectsPerKind; i++ {
						original, err := scheme.New(gk.WithVersion(runtime.APIVersionInternal))
						if err != nil {
							t.Fatal(err)
						}
						filler.Fill(original)
						data, err := runtime.Encode(codec, original.DeepCopyObject())
						if err != nil {
							t.Fatalf("encoding: %v", err)
						}
						decoded, err := runtime.Decode(codec, data)
						if err != nil {
							t.Fatalf("decoding: %v\n%s", err, data)
						}
						if !apiequality.Semantic.DeepEqual(original, decoded) {
							t.Fatalf("object %d changed in the round trip (-original +decoded):\n%s", i, cmp.Diff(original, decoded))
						}
					}
				})
			}
		}
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
