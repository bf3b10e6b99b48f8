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
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

func TestNetnsAndVethNames(t *testing.T) {
	long := strings.Repeat("x", 200)
	for _, tc := range []struct {
		name                  string
		node, namespace, pod  string
		uid                   types.UID
		wantPrefix, wantNetns string
	}{
		{name: "ordinary pod", node: "node-1", namespace: "default", pod: "web-7d4b9-x2x4q", uid: "uid-1",
			wantPrefix: "node-1_", wantNetns: "node-1_default_web-7d4b9-x2x4q_"},
		{name: "long names are cut", node: "node-1", namespace: "ns", pod: long, uid: "uid-2",
			wantPrefix: "node-1_", wantNetns: "node-1_ns_" + strings.Repeat("x", maxNamePart) + "_"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := NetnsName(tc.node, tc.namespace, tc.pod, tc.uid)
			if !strings.HasPrefix(got, tc.wantNetns) || len(got) != len(tc.wantNetns)+uidHashLen {
				t.Errorf("NetnsName = %q, want %q and %d hex digits", got, tc.wantNetns, uidHashLen)
			}
			if !strings.HasPrefix(got, NetnsPrefix(tc.node)) || NetnsPrefix(tc.node) != tc.wantPrefix {
				t.Errorf("NetnsPrefix = %q, want %q", NetnsPrefix(tc.node), tc.wantPrefix)
			}
			if strings.ContainsAny(got, "/ ") {
				t.Errorf("NetnsName %q is not a usable file name", got)
			}
		})
	}
	// Another node's prefix never matches: node-1 is not node-10.
	if strings.HasPrefix(NetnsName("node-10", "default", "web", "u"), NetnsPrefix("node-1")) {
		t.Error("node-10's namespaces start with node-1's prefix")
	}
	// A pod recreated under its name gets a namespace and a veth of its own.
	a, b := NetnsName("n", "default", "web", "uid-a"), NetnsName("n", "default", "web", "uid-b")
	if a == b || HostVethName("uid-a") == HostVethName("uid-b") {
		t.Errorf("two UIDs share names: %s %s %s %s", a, b, HostVethName("uid-a"), HostVethName("uid-b"))
	}
	veth := HostVethName("3ef364cd-60cc-4955-8d7d-45eb0ebb4222")
	if len(veth) != maxLinkName || !strings.HasPrefix(veth, "veth") || !isAgentVeth(veth) {
		t.Errorf("HostVethName = %q, want veth and 11 hex digits", veth)
	}
	for _, name := range []string{"veth0", "eth0", "vethABCDEF01234", "uplink", "veth12345678901z"} {
		if isAgentVeth(name) {
			t.Errorf("isAgentVeth(%q) = true", name)
		}
	}
}

func TestBridgeMAC(t *testing.T) {
	mac := bridgeMAC("node-1")
	if mac[0]&0x02 == 0 || mac[0]&0x01 != 0 {
		t.Errorf("bridge MAC %s is not a locally administered unicast address", mac)
	}
	if mac.String() != bridgeMAC("node-1").String() || mac.String() == bridgeMAC("node-2").String() {
		t.Error("bridge MACs are not stable per node and distinct across nodes")
	}
}

func TestPodHostname(t *testing.T) {
	if got := podHostname("", "web-0"); got != "web-0" {
		t.Errorf("got %q", got)
	}
	if got := podHostname("custom", "web-0"); got != "custom" {
		t.Errorf("got %q", got)
	}
	long := strings.Repeat("a", 62) + "-b"
	if got := podHostname("", long); got != strings.Repeat("a", 62) {
		t.Errorf("got %q, want 62 a's without the trailing dash", got)
	}
}
