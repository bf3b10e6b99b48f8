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
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// testConfig has a field of every kind the decoder treats apart.
type testConfig struct {
	metav1.TypeMeta `json:",inline"`
	// Common is embedded without a name: its fields are testConfig's, but
	// its Name is shadowed by testConfig's own.
	Common

	Name       string            `json:"name"`
	ClusterDNS []string          `json:"clusterDNS,omitempty"`
	Port       int32             `json:"port"`
	Weight     uint16            `json:"weight"`
	Ratio      float64           `json:"ratio"`
	Enabled    bool              `json:"enabled"`
	Period     metav1.Duration   `json:"period"`
	Labels     map[string]string `json:"labels,omitempty"`
	Nested     nested            `json:"nested"`
	Optional   *nested           `json:"optional,omitempty"`
	Ignored    string            `json:"-"`
	unexported string
}

type Common struct {
	Name string `json:"name"`
	Zone string `json:"zone"`
}

type nested struct {
	Limit   int32           `json:"limit"`
	Timeout metav1.Duration `json:"timeout"`
	Deep    struct {
		Level string `json:"level"`
	} `json:"deep"`
}

const header = "apiVersion: test.signet.dev/v1\nkind: TestConfiguration\n"

var testFormat = Format{
	APIVersion:   "test.signet.dev/v1",
	Kind:         "TestConfiguration",
	Descriptions: map[string]string{"labels": "a map from label name to value"},
}

func defaults() *testConfig {
	c := &testConfig{
		TypeMeta: metav1.TypeMeta{APIVersion: "test.signet.dev/v1", Kind: "TestConfiguration"},
		Name:     "default",
		Port:     53,
		Enabled:  true,
		Period:   metav1.Duration{Duration: 30 * time.Second},
	}
	c.Nested.Limit = 10
	c.Nested.Timeout.Duration = time.Second
	c.Nested.Deep.Level = "info"
	return c
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name   string
		data   string
		mutate func(*testConfig) // applied to the defaults; nil: expect an error
		// wantErr is the whole error, one line a problem; wantErrHas, a
		// part of it where the YAML decoder words it.
		wantErr    string
		wantErrHas string
	}{
		{
			name: "every field",
			data: header + `
name: web
zone: a
clusterDNS: [10.96.0.10, "fd00::a"]
port: 5353
weight: 7
ratio: 0.5
enabled: false
period: 1m
labels: {tier: front}
nested:
  limit: 20
  timeout: 5s
  deep: {level: debug}
optional:
  limit: 3
`,
			mutate: func(c *testConfig) {
				c.Name, c.Zone = "web", "a"
				c.ClusterDNS = []string{"10.96.0.10", "fd00::a"}
				c.Port, c.Weight, c.Ratio, c.Enabled = 5353, 7, 0.5, false
				c.Period.Duration = time.Minute
				c.Labels = map[string]string{"tier": "front"}
				c.Nested.Limit, c.Nested.Timeout.Duration, c.Nested.Deep.Level = 20, 5*time.Second, "debug"
				c.Optional = &nested{Limit: 3}
			},
		},
		{
			name: "left out fields keep their defaults, nested ones too",
			data: header + "nested:\n  timeout: 2s\n",
			mutate: func(c *testConfig) {
				c.Nested.Timeout.Duration = 2 * time.Second
			},
		},
		{
			name:   "null object keeps its defaults",
			data:   header + "nested: null\n",
			mutate: func(*testConfig) {},
		},
		{
			name:   "JSON",
			data:   `{"apiVersion": "test.signet.dev/v1", "kind": "TestConfiguration", "port": 54, "nested": {"limit": 1}}`,
			mutate: func(c *testConfig) { c.Port, c.Nested.Limit = 54, 1 },
		},
		{
			name:    "unknown field",
			data:    header + "color: blue\n",
			wantErr: "color: Forbidden: unknown field",
		},
		{
			name:    "unknown nested field",
			data:    header + "nested:\n  limits: 3\n",
			wantErr: "nested.limits: Forbidden: unknown field",
		},
		{
			name:    "unknown field two levels down",
			data:    header + "nested:\n  deep:\n    levle: debug\n",
			wantErr: "nested.deep.levle: Forbidden: unknown field",
		},
		{
			name:    "unknown field behind a pointer",
			data:    header + "optional:\n  limitt: 3\n",
			wantErr: "optional.limitt: Forbidden: unknown field",
		},
		{
			name:    "field name in the wrong case",
			data:    header + "clusterDns: [10.96.0.10]\n",
			wantErr: `clusterDns: Forbidden: unknown field; did you mean "clusterDNS"? (field names are case-sensitive)`,
		},
		{
			name:    "nested field name in the wrong case",
			data:    header + "nested:\n  Limit: 3\n",
			wantErr: `nested.Limit: Forbidden: unknown field; did you mean "limit"? (field names are case-sensitive)`,
		},
		{
			name:    "field of an embedded struct in the wrong case",
			data:    header + "Zone: a\n",
			wantErr: `Zone: Forbidden: unknown field; did you mean "zone"? (field names are case-sensitive)`,
		},
		{
			name:    "field left out of the file format",
			data:    header + "ignored: x\nunexported: y\n",
			wantErr: "\n  ignored: Forbidden: unknown field\n  unexported: Forbidden: unknown field",
		},
		{
			name:    "not an integer",
			data:    header + "port: fifty\n",
			wantErr: `port: Invalid value: "fifty": must be an integer`,
		},
		{
			name: "wrong types",
			data: header + "name: 5\nenabled: maybe\nclusterDNS: 10.96.0.10\nweight: -1\nratio: half\n",
			wantErr: "\n  clusterDNS: Invalid value: \"10.96.0.10\": must be a list of strings" +
				"\n  enabled: Invalid value: \"maybe\": must be true or false" +
				"\n  name: Invalid value: 5: must be a string" +
				"\n  ratio: Invalid value: \"half\": must be a number" +
				"\n  weight: Invalid value: -1: must be an integer, 0 or more",
		},
		{
			name:    "wrong type in a nested struct",
			data:    header + "nested:\n  limit: high\n",
			wantErr: `nested.limit: Invalid value: "high": must be an integer`,
		},
		{
			name:    "a list where an object belongs",
			data:    header + "nested: [1]\n",
			wantErr: `nested: Invalid value: [1]: must be an object with fields`,
		},
		{
			name:    "the description of a field overrides its type's",
			data:    header + "labels: [a]\n",
			wantErr: `labels: Invalid value: ["a"]: must be a map from label name to value`,
		},
		{
			name:    "duration without a unit",
			data:    header + "period: 30\n",
			wantErr: `period: Invalid value: 30: must be a duration such as "30s" or "2m"`,
		},
		{
			name:    "duration that does not parse says why",
			data:    header + "nested:\n  timeout: soon\n",
			wantErr: `nested.timeout: Invalid value: "soon": must be a duration such as "30s" or "2m": time: invalid duration "soon"`,
		},
		{
			name:       "duplicate key",
			data:       header + "port: 53\nport: 54\n",
			wantErrHas: `key "port" already set`,
		},
		{
			name:       "duplicate nested key",
			data:       header + "nested:\n  limit: 1\n  limit: 2\n",
			wantErrHas: `key "limit" already set`,
		},
		{
			name:    "missing apiVersion and kind",
			data:    "port: 53\n",
			wantErr: "\n  apiVersion: Required value: must be \"test.signet.dev/v1\"\n  kind: Required value: must be \"TestConfiguration\"",
		},
		{
			name:    "other apiVersion",
			data:    "apiVersion: test.signet.dev/v2\nkind: TestConfiguration\n",
			wantErr: `apiVersion: Unsupported value: "test.signet.dev/v2": supported values: "test.signet.dev/v1"`,
		},
		{
			name:    "other kind",
			data:    "apiVersion: test.signet.dev/v1\nkind: OtherConfiguration\n",
			wantErr: `kind: Unsupported value: "OtherConfiguration": supported values: "TestConfiguration"`,
		},
		{
			name:    "apiVersion not a string",
			data:    "apiVersion: 1\nkind: TestConfiguration\n",
			wantErr: `apiVersion: Unsupported value: 1: supported values: "test.signet.dev/v1"`,
		},
		{
			name: "every problem at once, in path order",
			data: "kind: TestConfiguration\nport: x\nnested:\n  Limit: 1\ncolor: red\n",
			wantErr: "\n  apiVersion: Required value: must be \"test.signet.dev/v1\"" +
				"\n  color: Forbidden: unknown field" +
				"\n  nested.Limit: Forbidden: unknown field; did you mean \"limit\"? (field names are case-sensitive)" +
				"\n  port: Invalid value: \"x\": must be an integer",
		},
		{
			name:    "empty",
			data:    "",
			wantErr: "the file is empty; it needs at least apiVersion: test.signet.dev/v1 and kind: TestConfiguration",
		},
		{
			name:    "comments only",
			data:    "# nothing yet\n",
			wantErr: "the file is empty; it needs at least apiVersion: test.signet.dev/v1 and kind: TestConfiguration",
		},
		{
			name:       "not YAML",
			data:       "port: [53\n",
			wantErrHas: "yaml",
		},
		{
			name:       "not an object",
			data:       "- a\n- b\n",
			wantErrHas: "cannot unmarshal array",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := defaults()
			err := testFormat.Decode([]byte(tt.data), got)
			if tt.mutate == nil {
				switch {
				case err == nil:
					t.Fatalf("Decode() succeeded, want an error")
				case tt.wantErr != "" && err.Error() != tt.wantErr:
					t.Errorf("Decode() error:\n%s\nwant:\n%s", err, tt.wantErr)
				case tt.wantErrHas != "" && !strings.Contains(err.Error(), tt.wantErrHas):
					t.Errorf("Decode() error %q does not contain %q", err, tt.wantErrHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode() = %v", err)
			}
			want := defaults()
			tt.mutate(want)
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(testConfig{})); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeFieldErrors shows that the problems of a file are field errors
// that errors.As finds, with their type and path.
func TestDecodeFieldErrors(t *testing.T) {
	err := testFormat.Decode([]byte(header+"nested:\n  deep:\n    level: [x]\n"), defaults())
	var fe *field.Error
	if !errors.As(err, &fe) {
		t.Fatalf("Decode() = %v, want a *field.Error", err)
	}
	if fe.Type != field.ErrorTypeInvalid || fe.Field != "nested.deep.level" {
		t.Errorf("field error %s %s, want Invalid nested.deep.level", fe.Type, fe.Field)
	}
}

func TestDecodeNeedsAPointerToAStruct(t *testing.T) {
	var nilConfig *testConfig
	for _, into := range []any{testConfig{}, nilConfig, new(string), nil} {
		if err := testFormat.Decode([]byte(header), into); err == nil || !strings.Contains(err.Error(), "pointer to a struct") {
			t.Errorf("Decode(%T) = %v, want an error asking for a pointer to a struct", into, err)
		}
	}
}

func TestJSONFields(t *testing.T) {
	fields := JSONFields(reflect.TypeFor[testConfig]())
	var names []string
	for n := range fields {
		names = append(names, n)
	}
	want := []string{"apiVersion", "clusterDNS", "enabled", "kind", "labels", "name", "nested", "optional", "period", "port", "ratio", "weight", "zone"}
	if diff := cmp.Diff(want, sortedKeys(fields)); diff != "" {
		t.Errorf("JSON names (-want +got):\n%s", diff)
	}
	// The index leads to the field, through embedded structs too.
	c := defaults()
	c.Zone = "b"
	v := reflect.ValueOf(c).Elem()
	for name, want := range map[string]any{"kind": "TestConfiguration", "zone": "b", "name": "default", "port": int32(53)} {
		if got := v.FieldByIndex(fields[name].Index).Interface(); got != want {
			t.Errorf("field %q by its index = %v, want %v", name, got, want)
		}
	}
}

func TestDescribeType(t *testing.T) {
	tests := []struct {
		value any
		want  string
	}{
		{metav1.Duration{}, `a duration such as "30s" or "2m"`},
		{&metav1.Duration{}, `a duration such as "30s" or "2m"`},
		{true, "true or false"},
		{int64(0), "an integer"},
		{uint(0), "an integer, 0 or more"},
		{0.5, "a number"},
		{"", "a string"},
		{[]string{}, "a list of strings"},
		{[]int32{}, "a list of integers"},
		{[]bool{}, "a list"},
		{map[string][]string{}, "a map"},
		{nested{}, "an object with fields"},
		{make(chan int), "a chan int"},
	}
	for _, tt := range tests {
		if got := describeType(reflect.TypeOf(tt.value)); got != tt.want {
			t.Errorf("describeType(%T) = %q, want %q", tt.value, got, tt.want)
		}
	}
}
