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
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	recs := []*PodRecord{
		{Namespace: "default", Name: "web", UID: "u1", Netns: "n_default_web_1", HostVeth: "veth1",
			IPs: []netip.Addr{netip.MustParseAddr("10.244.1.2"), netip.MustParseAddr("fd00:244:1::2")}},
		{Namespace: "kube-system", Name: "host", UID: "u2"},
	}
	for _, r := range recs {
		if err := s.SavePod(r); err != nil {
			t.Fatal(err)
		}
	}
	// A broken file is reported and skipped.
	if err := os.WriteFile(filepath.Join(dir, podsDir, "x_y_z.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := s.LoadPods()
	if err == nil {
		t.Error("a broken record was not reported")
	}
	if len(got) != 2 || got[0].UID != "u1" || got[0].IPs[1].String() != "fd00:244:1::2" || got[1].Netns != "" {
		t.Errorf("loaded %+v", got)
	}
	// hack/pod-exec.sh finds a record by file name and reads its netns line.
	data, err := os.ReadFile(filepath.Join(dir, podsDir, "default_web_u1.json"))
	if err != nil || !strings.Contains(string(data), "\n  \"netns\": \"n_default_web_1\",\n") {
		t.Errorf("the record file is not where or how pod-exec.sh expects it: %q, %v", data, err)
	}
	if err := s.DeletePod(recs[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePod(recs[0]); err != nil {
		t.Errorf("deleting a missing record: %v", err)
	}
	ar, err := s.LoadAgent()
	if err != nil || ar.Node != "" {
		t.Fatalf("empty agent record: %+v, %v", ar, err)
	}
	ar.Node, ar.BridgeCreated = "node-1", true
	ar.LastHanded = map[string]netip.Addr{"10.244.1.0/24": netip.MustParseAddr("10.244.1.7")}
	if err := s.SaveAgent(ar); err != nil {
		t.Fatal(err)
	}
	back, err := s.LoadAgent()
	if err != nil || back.Node != "node-1" || !back.BridgeCreated || back.LastHanded["10.244.1.0/24"].String() != "10.244.1.7" {
		t.Errorf("agent record round trip: %+v, %v", back, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}
