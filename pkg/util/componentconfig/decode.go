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

package componentconfig

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Format is the format of a versioned configuration file: YAML or JSON
// that names its apiVersion and kind, with the fields of a Go struct named
// as its JSON tags name them.
type Format struct {
	// APIVersion is the apiVersion the file must name, such as
	// kubeproxy.signet.dev/v1alpha1.
	APIVersion string
	// Kind is the kind the file must name, such as KubeProxyConfiguration.
	Kind string
	// Descriptions say, by field path (such as iptables.syncPeriod), what a
	// field holds where its Go type says too little, for the message about
	// a value that does not decode: "a map from domain to a list of
	// servers" rather than "a map".
	// +optional
	Descriptions map[string]string
}

// Decode decodes data, YAML or JSON, over into: a pointer to a struct that
// embeds metav1.TypeMeta inline and holds the defaults. A field data
// leaves out keeps its default, in nested structs too.
//
// Decoding is strict. Bad YAML and duplicate keys are returned as the YAML
// decoder words them. An empty file is an error that says what it needs.
// Otherwise every problem is reported at once, one line each, named by its
// field path: a missing or different apiVersion or kind, a field the
// struct does not have at any depth (names are case-sensitive; a name that
// differs in case only gets a hint), and a value of the wrong type. After
// an error into may hold part of the file: start again from the defaults.
func (f Format) Decode(data []byte, into any) error {
	v := reflect.ValueOf(into)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("componentconfig: decoding needs a pointer to a struct, not %T", into)
	}
	var raw map[string]any
	if err := utilyaml.UnmarshalStrict(data, &raw); err != nil {
		return err
	}
	if len(raw) == 0 {
		return fmt.Errorf("the file is empty; it needs at least apiVersion: %s and kind: %s", f.APIVersion, f.Kind)
	}
	if errs := f.check(raw, v.Elem().Type()); len(errs) > 0 {
		return join(errs, (*field.Error).Error)
	}
	// Every field checked: this decodes.
	return utilyaml.UnmarshalStrict(data, into)
}

// check reports the problems of raw, the decoded file, for the struct type
// t, with their paths.
func (f Format) check(raw map[string]any, t reflect.Type) field.ErrorList {
	var errs field.ErrorList
	for _, want := range []struct{ key, value string }{{"apiVersion", f.APIVersion}, {"kind", f.Kind}} {
		switch got, ok := raw[want.key]; {
		case !ok:
			errs = append(errs, field.Required(field.NewPath(want.key), fmt.Sprintf("must be %q", want.value)))
		case got != want.value:
			errs = append(errs, field.NotSupported(field.NewPath(want.key), got, []string{want.value}))
		}
	}
	return append(errs, f.checkFields(nil, raw, t)...)
}

// checkFields reports the keys of raw, the object at path, that are not
// JSON fields of the struct type t, at every depth, and the values that do
// not decode into their field's type.
func (f Format) checkFields(path *field.Path, raw map[string]any, t reflect.Type) field.ErrorList {
	known := JSONFields(t)
	var errs field.ErrorList
	for _, k := range sortedKeys(raw) {
		if path == nil && (k == "apiVersion" || k == "kind") {
			continue // checked against the Format
		}
		p := path.Child(k)
		sf, ok := known[k]
		if !ok {
			errs = append(errs, field.Forbidden(p, unknownField(k, known)))
			continue
		}
		if st, isObject := objectType(sf.Type); isObject {
			switch sub := raw[k].(type) {
			case map[string]any:
				errs = append(errs, f.checkFields(p, sub, st)...)
			case nil:
				// null leaves the defaults.
			default:
				errs = append(errs, field.Invalid(p, raw[k], "must be an object with fields"))
			}
			continue
		}
		if err := decodeValue(raw[k], sf.Type); err != nil {
			detail := "must be " + f.describe(p, sf.Type)
			var typeErr *json.UnmarshalTypeError
			if !errors.As(err, &typeErr) {
				// Such as why a duration does not parse.
				detail += ": " + strings.TrimPrefix(err.Error(), "json: ")
			}
			errs = append(errs, field.Invalid(p, raw[k], detail))
		}
	}
	return errs
}

// unknownField is the detail for key, a field t does not have: with a hint
// when a field's name differs from it in case only.
func unknownField(key string, known map[string]reflect.StructField) string {
	for _, name := range sortedKeys(known) {
		if strings.EqualFold(name, key) {
			return fmt.Sprintf("unknown field; did you mean %q? (field names are case-sensitive)", name)
		}
	}
	return "unknown field"
}

// decodeValue decodes value, as it came from the file, into a new t.
func decodeValue(value any, t reflect.Type) error {
	b, err := json.Marshal(value)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(reflect.New(t).Interface())
}

var (
	durationType        = reflect.TypeFor[metav1.Duration]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// objectType returns the struct type a field of type t holds when the file
// gives it as an object with fields of its own, checked one by one: a
// struct or a pointer to one, unless it decodes itself (metav1.Duration).
func objectType(t reflect.Type) (reflect.Type, bool) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, false
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(jsonUnmarshalerType) || pt.Implements(textUnmarshalerType) {
		return nil, false
	}
	return t, true
}

// describe says what the field at p, of type t, holds.
func (f Format) describe(p *field.Path, t reflect.Type) string {
	if d, ok := f.Descriptions[p.String()]; ok {
		return d
	}
	return describeType(t)
}

// describeType says what a field of type t holds, as a user writes it.
func describeType(t reflect.Type) string {
	if t == durationType {
		return `a duration such as "30s" or "2m"`
	}
	switch t.Kind() {
	case reflect.Pointer:
		return describeType(t.Elem())
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		switch t.Elem().Kind() {
		case reflect.String:
			return "a list of strings"
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			return "a list of integers"
		}
		return "a list"
	case reflect.Map:
		return "a map"
	case reflect.Struct:
		return "an object with fields"
	}
	return "a " + t.String()
}

// JSONFields maps the JSON names of the fields of the struct type t to
// the fields, as encoding/json names them: an embedded struct without a
// name of its own (metav1.TypeMeta `json:",inline"`) is flattened, and a
// field of t wins over one of an embedded struct with the same name. The
// Index of each field is the index sequence for reflect.Value.FieldByIndex.
func JSONFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	var embedded []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if et := f.Type; f.Anonymous && name == "" {
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				embedded = append(embedded, f)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	for _, e := range embedded {
		et := e.Type
		if et.Kind() == reflect.Pointer {
			et = et.Elem()
		}
		for name, f := range JSONFields(et) {
			if _, shadowed := out[name]; !shadowed {
				f.Index = append(slices.Clone(e.Index), f.Index...)
				out[name] = f
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
