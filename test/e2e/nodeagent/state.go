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
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/types"
)

// The layout of --state-dir:
//
//	agent.json                   AgentRecord: what the agent set up on the node
//	pods/<ns>_<name>_<uid>.json  PodRecord: one per pod sandbox
//	logs/<ns>_<name>_<container>.log
//	                             the output of a container, every run appended
const (
	agentFile = "agent.json"
	podsDir   = "pods"
	logsDir   = "logs"
)

// PodRecord is what the agent keeps on disk about one pod's sandbox, written
// before the sandbox is created, so that a restarted agent neither hands
// out its addresses again nor forgets to remove it.
type PodRecord struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	UID       types.UID `json:"uid"`
	// Netns is the pod's network namespace; empty for hostNetwork pods.
	Netns string `json:"netns,omitempty"`
	// HostVeth is the node-side end of the pod's veth pair.
	HostVeth string `json:"hostVeth,omitempty"`
	// IPs are the pod's addresses, in the order of the node's pod CIDRs.
	IPs []netip.Addr `json:"ips,omitempty"`
}

// Key is the record's namespace/name.
func (r *PodRecord) Key() string { return r.Namespace + "/" + r.Name }

// AgentRecord is what the agent set up on the node itself.
type AgentRecord struct {
	// Node is the node name the state belongs to.
	Node string `json:"node"`
	// Bridge is the pods' bridge; BridgeCreated says the agent created it
	// (and --cleanup removes it).
	Bridge        string `json:"bridge"`
	BridgeCreated bool   `json:"bridgeCreated"`
	// LastHanded is, per pod CIDR, the address handed out last, so that a
	// restarted agent goes on round-robin from there.
	LastHanded map[string]netip.Addr `json:"lastHanded,omitempty"`
}

// store reads and writes the state directory. Every file is replaced
// atomically (write, sync, rename).
type store struct {
	dir string
}

func openStore(dir string) (*store, error) {
	if dir == "" {
		return nil, errors.New("no state directory")
	}
	for _, d := range []string{dir, filepath.Join(dir, podsDir), filepath.Join(dir, logsDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	return &store{dir: dir}, nil
}

func (s *store) podFile(r *PodRecord) string {
	return filepath.Join(s.dir, podsDir, r.Namespace+"_"+r.Name+"_"+string(r.UID)+".json")
}

// LogFile is where a container's output goes.
func (s *store) LogFile(namespace, pod, container string) string {
	return filepath.Join(s.dir, logsDir, namespace+"_"+pod+"_"+container+".log")
}

// SavePod writes a pod's record.
func (s *store) SavePod(r *PodRecord) error {
	return writeJSON(s.podFile(r), r)
}

// DeletePod removes a pod's record; a missing record is not an error.
func (s *store) DeletePod(r *PodRecord) error {
	if err := os.Remove(s.podFile(r)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// LoadPods returns every pod record, sorted by file name. A file that does
// not parse is reported in the error and skipped.
func (s *store) LoadPods() ([]*PodRecord, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, podsDir))
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var (
		out  []*PodRecord
		errs []error
	)
	for _, name := range names {
		r := &PodRecord{}
		if err := readJSON(filepath.Join(s.dir, podsDir, name), r); err != nil {
			errs = append(errs, err)
			continue
		}
		if r.UID == "" || r.Name == "" || r.Namespace == "" {
			errs = append(errs, fmt.Errorf("%s: incomplete pod record", name))
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// LoadAgent returns the agent record, or an empty one if there is none.
func (s *store) LoadAgent() (*AgentRecord, error) {
	r := &AgentRecord{}
	err := readJSON(filepath.Join(s.dir, agentFile), r)
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	return r, err
}

// SaveAgent writes the agent record.
func (s *store) SaveAgent(r *AgentRecord) error {
	return writeJSON(filepath.Join(s.dir, agentFile), r)
}

// RemoveAgent removes the agent record.
func (s *store) RemoveAgent() error {
	if err := os.Remove(filepath.Join(s.dir, agentFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(data, '\n'), 0o644)
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// writeFileAtomic replaces path with data: readers see the old or the new
// content, and a crash leaves one of them.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
