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
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var testFlags = Flags{
	"mode":                   "proxy-mode",
	"localIPs":               "localip",
	"stubDomains":            "stub-domains",
	"iptables.syncPeriod":    "iptables-sync-period",
	"clientConnection":       "client-connection",
	"iptables.masqueradeBit": "masquerade-bit",
}

func TestFlagsOf(t *testing.T) {
	tests := []struct {
		path     string
		wantFlag string // "" for none
	}{
		{"mode", "proxy-mode"},
		{"localIPs[1]", "localip"},
		{"stubDomains[corp.example][0]", "stub-domains"},
		{"iptables.syncPeriod", "iptables-sync-period"},
		{"iptables.masqueradeBit", "masquerade-bit"},
		{"clientConnection.kubeconfig", "client-connection"},
		{"clientConnection.qps[0].x", "client-connection"},
		{"iptables", ""},
		{"iptables.minSyncPeriod", ""},
		{"nodePortAddresses[0]", ""},
		{"modes", ""},
		{"", ""},
	}
	for _, tt := range tests {
		flag, ok := testFlags.Of(tt.path)
		if flag != tt.wantFlag || ok != (tt.wantFlag != "") {
			t.Errorf("Of(%q) = %q, %v; want %q", tt.path, flag, ok, tt.wantFlag)
		}
	}
	if flag, ok := Flags(nil).Of("mode"); ok {
		t.Errorf("nil Flags: Of(mode) = %q, want none", flag)
	}
}

func TestFlagsErrors(t *testing.T) {
	mode := field.NotSupported(field.NewPath("mode"), "ipvs", []string{"iptables"})
	ip := field.Invalid(field.NewPath("localIPs").Index(1), "1.2.3", "must be an IPv4 or IPv6 address")
	stub := field.Required(field.NewPath("stubs").Key("corp.example"), "at least one server")
	sync := field.Invalid(field.NewPath("iptables", "syncPeriod"), "0s", "must be greater than 0")
	tests := []struct {
		name   string
		errs   field.ErrorList
		layout Layout
		want   string // "" for no error
	}{
		{name: "no errors", errs: nil, want: ""},
		{name: "no errors, empty list", errs: field.ErrorList{}, layout: FieldFirst, want: ""},
		{name: "flag first", errs: field.ErrorList{mode}, layout: FlagFirst,
			want: `--proxy-mode (mode): Unsupported value: "ipvs": supported values: "iptables"`},
		{name: "field first", errs: field.ErrorList{mode}, layout: FieldFirst,
			want: `mode (--proxy-mode): Unsupported value: "ipvs": supported values: "iptables"`},
		{name: "element, flag first", errs: field.ErrorList{ip}, layout: FlagFirst,
			want: `--localip (localIPs[1]): Invalid value: "1.2.3": must be an IPv4 or IPv6 address`},
		{name: "element, field first", errs: field.ErrorList{ip}, layout: FieldFirst,
			want: `localIPs[1] (--localip): Invalid value: "1.2.3": must be an IPv4 or IPv6 address`},
		{name: "nested field", errs: field.ErrorList{sync}, layout: FlagFirst,
			want: `--iptables-sync-period (iptables.syncPeriod): Invalid value: "0s": must be greater than 0`},
		{name: "field without a flag is named alone", errs: field.ErrorList{stub}, layout: FieldFirst,
			want: "stubs[corp.example]: Required value: at least one server"},
		{name: "a line an error", errs: field.ErrorList{mode, stub, ip}, layout: FieldFirst,
			want: "\n  mode (--proxy-mode): Unsupported value: \"ipvs\": supported values: \"iptables\"" +
				"\n  stubs[corp.example]: Required value: at least one server" +
				"\n  localIPs[1] (--localip): Invalid value: \"1.2.3\": must be an IPv4 or IPv6 address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := testFlags.Errors(tt.errs, tt.layout)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Errors() = %v, want nil", err)
			case tt.want == "":
				return
			case err == nil:
				t.Fatalf("Errors() = nil, want %q", tt.want)
			case err.Error() != tt.want:
				t.Errorf("Errors():\n%s\nwant:\n%s", err, tt.want)
			}
			var fe *field.Error
			if !errors.As(err, &fe) || fe != tt.errs[0] {
				t.Errorf("errors.As found %v, want the first field error %v", fe, tt.errs[0])
			}
		})
	}
}

// testOptions is a configuration bound to flags, as a command binds it.
type testOptions struct {
	Name    string
	Port    int32
	Verbose bool
	Servers []string
	Period  time.Duration
}

func bindTest(fs *pflag.FlagSet, c *testOptions) {
	fs.StringVar(&c.Name, "name", c.Name, "")
	fs.Int32Var(&c.Port, "port", c.Port, "")
	fs.BoolVar(&c.Verbose, "verbose", c.Verbose, "")
	fs.StringSliceVar(&c.Servers, "servers", c.Servers, "")
	fs.DurationVar(&c.Period, "period", c.Period, "")
}

func testDefaults() *testOptions {
	return &testOptions{Name: "default", Port: 53, Period: time.Minute}
}

// commandLine parses args as a command would: its configuration flags,
// bound to the defaults, and a --config flag.
func commandLine(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.String("config", "", "")
	bindTest(fs, testDefaults())
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parsing %q: %v", args, err)
	}
	return fs
}

func TestApplyGivenFlags(t *testing.T) {
	fromFile := func() *testOptions {
		return &testOptions{Name: "file", Port: 5353, Verbose: true, Servers: []string{"10.0.0.1", "10.0.0.2"}, Period: 2 * time.Minute}
	}
	tests := []struct {
		name   string
		args   []string
		mutate func(*testOptions) // applied to fromFile
	}{
		{name: "no flags given: the file stands", args: nil, mutate: func(*testOptions) {}},
		{name: "other flags are left alone", args: []string{"--config=/etc/test.yaml"}, mutate: func(*testOptions) {}},
		{
			name: "flags given win",
			args: []string{"--name=flag", "--port=54", "--period=5s"},
			mutate: func(c *testOptions) {
				c.Name, c.Port, c.Period = "flag", 54, 5*time.Second
			},
		},
		{
			name:   "a flag given its default value still wins",
			args:   []string{"--port=53", "--verbose=false"},
			mutate: func(c *testOptions) { c.Port, c.Verbose = 53, false },
		},
		{
			name:   "a list replaces the file's",
			args:   []string{"--servers=10.0.0.9", "--servers=10.0.0.8"},
			mutate: func(c *testOptions) { c.Servers = []string{"10.0.0.9", "10.0.0.8"} },
		},
		{
			name:   "an empty list empties the file's",
			args:   []string{"--servers="},
			mutate: func(c *testOptions) { c.Servers = []string{} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmdline := commandLine(t, tt.args...)
			got := fromFile()
			if err := ApplyGivenFlags(cmdline, func(fs *pflag.FlagSet) { bindTest(fs, got) }); err != nil {
				t.Fatalf("ApplyGivenFlags() = %v", err)
			}
			want := fromFile()
			tt.mutate(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("configuration (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("no command line", func(t *testing.T) {
		got := fromFile()
		if err := ApplyGivenFlags(nil, func(fs *pflag.FlagSet) { bindTest(fs, got) }); err != nil {
			t.Fatalf("ApplyGivenFlags(nil) = %v", err)
		}
		if diff := cmp.Diff(fromFile(), got); diff != "" {
			t.Errorf("configuration changed (-want +got):\n%s", diff)
		}
	})
	t.Run("a value that does not set names its flag", func(t *testing.T) {
		cmdline := pflag.NewFlagSet("test", pflag.ContinueOnError)
		cmdline.String("port", "", "") // a string here, an integer in the configuration
		if err := cmdline.Parse([]string{"--port=dns"}); err != nil {
			t.Fatal(err)
		}
		err := ApplyGivenFlags(cmdline, func(fs *pflag.FlagSet) { bindTest(fs, fromFile()) })
		if err == nil || !strings.HasPrefix(err.Error(), "applying --port over the --config file: ") {
			t.Errorf("ApplyGivenFlags() = %v, want an error naming --port", err)
		}
	})
}

func TestGivenFlags(t *testing.T) {
	bind := func(fs *pflag.FlagSet) { bindTest(fs, testDefaults()) }
	tests := []struct {
		args []string
		want []string
	}{
		{args: nil, want: nil},
		{args: []string{"--config=/etc/test.yaml"}, want: nil},
		{args: []string{"--servers=10.0.0.1", "--config=/etc/test.yaml", "--name=x", "--port=53"}, want: []string{"--name", "--port", "--servers"}},
	}
	for _, tt := range tests {
		if got := GivenFlags(commandLine(t, tt.args...), bind); !cmp.Equal(got, tt.want) {
			t.Errorf("GivenFlags(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
	if got := GivenFlags(nil, bind); got != nil {
		t.Errorf("GivenFlags(nil) = %q, want none", got)
	}
}
