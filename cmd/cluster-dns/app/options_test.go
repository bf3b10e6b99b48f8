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

package app

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestDefaults(t *testing.T) {
	o := NewOptions()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if o.ClusterDomain != "cluster.local" || !slices.Equal(o.Listen, []string{":53"}) || o.HealthAddr != ":8080" ||
		o.MetricsAddr != ":9153" || o.TTL != 30*time.Second || !o.PodRecords || o.Kubeconfig != "" || o.Master != "" {
		t.Errorf("defaults %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestFlags(t *testing.T) {
	o := NewOptions()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.AddFlags(fs)
	err := fs.Parse([]string{
		"--kubeconfig=/k", "--master=https://x:6443", "--cluster-domain=corp.example",
		"--listen=10.96.0.10:53, [fd00:10:96::a]:53", "--health-addr=127.0.0.1:8081", "--metrics-addr=",
		"--ttl=5s", "--pod-records=false",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	if o.Kubeconfig != "/k" || o.Master != "https://x:6443" || o.ClusterDomain != "corp.example" ||
		o.HealthAddr != "127.0.0.1:8081" || o.MetricsAddr != "" || o.TTL != 5*time.Second || o.PodRecords {
		t.Errorf("options %+v", o)
	}
	if got := o.serverConfig().ListenAddrs; !slices.Equal(got, []string{"10.96.0.10:53", "[fd00:10:96::a]:53"}) {
		t.Errorf("listen addresses %q", got)
	}
	hc := o.handlerConfig()
	if hc.Zone != "corp.example" || hc.TTL != 5*time.Second || !hc.DisablePodRecords {
		t.Errorf("handler config %+v", hc)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // substrings of the error; none: valid
	}{
		{name: "wildcard and loopback listen", args: []string{"--listen=:5353,127.0.0.1:53,[::1]:53"}},
		{name: "every error at once", args: []string{
			"--cluster-domain=bad..domain", "--listen=localhost:53,10.0.0.1", "--ttl=1500ms", "--health-addr=8080", "--metrics-addr=:x:y",
		}, want: []string{"--cluster-domain", `--listen: listen address "localhost:53"`, `listen address "10.0.0.1"`, "--ttl must be whole seconds", "--health-addr", "--metrics-addr"}},
		{name: "empty domain", args: []string{"--cluster-domain="}, want: []string{"--cluster-domain must not be empty"}},
		{name: "reverse zone as domain", args: []string{"--cluster-domain=in-addr.arpa"}, want: []string{"must not be a reverse zone"}},
		{name: "parent of the reverse zones as domain", args: []string{"--cluster-domain=arpa"}, want: []string{"must not be a reverse zone"}},
		{name: "zero TTL", args: []string{"--ttl=0s"}, want: []string{"--ttl"}},
		{name: "TTL over a day", args: []string{"--ttl=25h"}, want: []string{"--ttl"}},
		{name: "no listen address", args: []string{"--listen="}, want: []string{"--listen must name at least one"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := NewOptions()
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			o.AddFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			err := o.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
