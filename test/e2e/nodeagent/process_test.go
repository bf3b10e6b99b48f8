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
	"slices"
	"strings"
	"testing"
)

func TestLaunchCommand(t *testing.T) {
	l := launch{netns: "node-1_shop_web_abc123", hostname: "web", argv: []string{"/bin/signet-testd", "pause"}, self: "/bin/nodeagent"}
	want := []string{"ip", "netns", "exec", "node-1_shop_web_abc123", "/bin/nodeagent", "container-init", "--hostname=web", "--", "/bin/signet-testd", "pause"}
	if got := l.command(); !slices.Equal(got, want) {
		t.Errorf("pod namespace:\n%q\nwant\n%q", got, want)
	}
	host := launch{hostname: "ignored", argv: []string{"sh", "-c", "--hostname=x"}, self: "/bin/nodeagent"}
	want = []string{"/bin/nodeagent", "container-init", "--", "sh", "-c", "--hostname=x"}
	if got := host.command(); !slices.Equal(got, want) {
		t.Errorf("host network:\n%q\nwant\n%q", got, want)
	}
}

func TestMountNamespaceProblem(t *testing.T) {
	const (
		host = `27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
42 27 254:0 /run/netns /run/netns rw,relatime shared:5 - ext4 /dev/vda rw
43 42 0:4 net:[4026532177] /run/netns/node-1 rw shared:6 - nsfs nsfs rw
`
		ipNetnsExec = `53 52 254:0 / / rw,relatime master:1 - ext4 /dev/vda rw
81 53 254:0 /run/netns /run/netns rw,relatime shared:9 master:5 - ext4 /dev/vda rw
`
		freshHost     = "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
		freshInside   = "53 52 254:0 / / rw,relatime master:1 - ext4 /dev/vda rw\n"
		privateMounts = "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
	)
	for name, tc := range map[string]struct {
		mountinfo string
		wantErr   bool
	}{
		"the machine's mount namespace (nsenter --net)": {host, false},
		"ip netns exec":                  {ipNetnsExec, true},
		"no /run/netns yet, on the host": {freshHost, false},
		"no /run/netns yet, inside":      {freshInside, true},
		"private mounts":                 {privateMounts, false},
	} {
		err := mountNamespaceProblem([]byte(tc.mountinfo))
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: error %v, want error: %v", name, err, tc.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "nsenter --net=") {
			t.Errorf("%s: the error does not say how to start the agent: %v", name, err)
		}
	}
}
