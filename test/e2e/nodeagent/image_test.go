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

package nodeagent

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestContainerArgv(t *testing.T) {
	const testd = "/opt/bin/signet-testd"
	for _, tc := range []struct {
		name          string
		image         string
		command, args []string
		want          []string
		wantErr       string
	}{
		{name: "testd image with args", image: "signet.dev/testd:latest", args: []string{"serve-hostname", "--port=8080"},
			want: []string{testd, "serve-hostname", "--port=8080"}},
		{name: "agnhost with args", image: "registry.k8s.io/e2e-test-images/agnhost:2.53", args: []string{"netexec", "--http-port=8080"},
			want: []string{testd, "netexec", "--http-port=8080"}},
		{name: "agnhost's own command", image: "registry.k8s.io/e2e-test-images/agnhost:2.53", command: []string{"/agnhost", "netexec"}, args: []string{"--http-port=8080"},
			want: []string{testd, "netexec", "--http-port=8080"}},
		{name: "testd by digest", image: "localhost:5000/signet-testd@sha256:abcd", args: []string{"pause"},
			want: []string{testd, "pause"}},
		{name: "a shell in a testd image runs from the node", image: "signet.dev/testd", command: []string{"sh", "-c", "echo hi"},
			want: []string{"sh", "-c", "echo hi"}},
		{name: "pause ignores its arguments", image: "registry.k8s.io/pause:3.10", args: []string{"whatever"},
			want: []string{testd, "pause"}},
		{name: "busybox runs its command on the node", image: "docker.io/library/busybox:1.36", command: []string{"sleep"}, args: []string{"3600"},
			want: []string{"sleep", "3600"}},
		{name: "signet.dev/host", image: "signet.dev/host", command: []string{"nc", "-l"}, want: []string{"nc", "-l"}},
		{name: "busybox without a command", image: "busybox", wantErr: "has none"},
		{name: "unknown image", image: "nginx:1.27", wantErr: `cannot run image "nginx:1.27"`},
		{name: "a registry port is not a tag", image: "localhost:5000/nginx", wantErr: "cannot run image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := containerArgv(tc.image, tc.command, tc.args, testd)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestExpandVars(t *testing.T) {
	vars := map[string]string{"PORT": "8080", "HOST": "web"}
	for in, want := range map[string]string{
		"--port=$(PORT)":          "--port=8080",
		"$(HOST):$(PORT)":         "web:8080",
		"$(MISSING)":              "$(MISSING)",
		"$$(PORT)":                "$(PORT)",
		"cost $$5":                "cost $5",
		"$PORT":                   "$PORT",
		"unterminated $(PORT":     "unterminated $(PORT",
		"trailing $":              "trailing $",
		"no variables":            "no variables",
		"$(HOST)$(HOST)/$(PORT)x": "webweb/8080x",
	} {
		if got := expandVars(in, lookupIn(vars)); got != want {
			t.Errorf("expandVars(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContainerEnv(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "shop", UID: "u-1", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{NodeName: "node-1", ServiceAccountName: "default"},
	}
	e := podEnv{
		pod:      pod,
		podIPs:   []netip.Addr{netip.MustParseAddr("10.244.1.5"), netip.MustParseAddr("fd00:244:1::5")},
		hostIPs:  []netip.Addr{netip.MustParseAddr("10.100.0.11"), netip.MustParseAddr("fd00:100::11")},
		hostname: "web-0",
		path:     "/usr/bin:/bin",
	}
	field := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	c := &corev1.Container{Name: "serve", Env: []corev1.EnvVar{
		{Name: "PORT", Value: "8080"},
		{Name: "URL", Value: "http://$(POD_IP):$(PORT)/"},
		field("MY_IPS", "status.podIPs"),
		field("MY_HOST_IP", "status.hostIP"),
		field("APP", "metadata.labels['app']"),
		field("NS", "metadata.namespace"),
		{Name: "POD_NAME", Value: "overridden"},
	}}
	env, values, err := containerEnv(e, c)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"PATH=/usr/bin:/bin", "HOSTNAME=web-0", "POD_NAME=overridden", "POD_NAMESPACE=shop", "NODE_NAME=node-1",
		"POD_IP=10.244.1.5", "POD_IPS=10.244.1.5,fd00:244:1::5", "PORT=8080", "URL=http://10.244.1.5:8080/",
		"MY_IPS=10.244.1.5,fd00:244:1::5", "MY_HOST_IP=10.100.0.11", "APP=web", "NS=shop",
	}
	if !slices.Equal(env, want) {
		t.Errorf("env\n%q\nwant\n%q", env, want)
	}
	if got := expandAll([]string{"--listen=$(POD_IP):$(PORT)"}, values); got[0] != "--listen=10.244.1.5:8080" {
		t.Errorf("args expand to %q", got)
	}

	for name, bad := range map[string]*corev1.Container{
		"secret ref": {Name: "c", Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "k"}}}}},
		"envFrom":    {Name: "c", EnvFrom: []corev1.EnvFromSource{{Prefix: "X"}}},
		"odd field":  {Name: "c", Env: []corev1.EnvVar{field("X", "spec.schedulerName")}},
	} {
		if _, _, err := containerEnv(e, bad); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
