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
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// imageKind is what the agent runs for an image.
type imageKind int

const (
	// imageUnknown cannot run here.
	imageUnknown imageKind = iota
	// imageTestd runs signet-testd with the container's arguments.
	imageTestd
	// imagePause runs "signet-testd pause".
	imagePause
	// imageHost runs the container's command as a program of the node.
	imageHost
)

var (
	// testdImages are the repository names (the last path element) that
	// run signet-testd: signet's own and upstream's agnhost, whose
	// subcommands signet-testd answers to.
	testdImages = sets.New("testd", "signet-testd", "agnhost")
	// testdCommands are the command names that mean signet-testd itself,
	// as in command: ["/agnhost", "netexec"].
	testdCommands = testdImages
	// hostImages run their command as a program of the node (sh, sleep,
	// nc...), found on the agent's PATH.
	hostImages = sets.New("busybox", "host")
)

// SupportedImages describes the images the agent runs, for messages.
const SupportedImages = "signet.dev/testd (or any image named testd, signet-testd or agnhost, e.g. " +
	"registry.k8s.io/e2e-test-images/agnhost:2.53), pause, and busybox or signet.dev/host " +
	"(whose command runs as a program of the node)"

// classifyImage says what an image reference runs: its repository's last
// path element decides, whatever the registry, tag or digest.
func classifyImage(image string) imageKind {
	ref := image
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	base := path.Base(ref)
	if i := strings.LastIndex(base, ":"); i >= 0 {
		base = base[:i]
	}
	base = strings.ToLower(base)
	switch {
	case testdImages.Has(base):
		return imageTestd
	case base == "pause":
		return imagePause
	case hostImages.Has(base):
		return imageHost
	}
	return imageUnknown
}

// containerArgv is the command line of a container: the image decides the
// program (see classifyImage), the container's command and args (already
// expanded) its arguments. testd is the path of signet-testd.
func containerArgv(image string, command, args []string, testd string) ([]string, error) {
	switch classifyImage(image) {
	case imageTestd:
		if len(command) == 0 {
			return append([]string{testd}, args...), nil
		}
		if testdCommands.Has(path.Base(command[0])) {
			return slices.Concat([]string{testd}, command[1:], args), nil
		}
		// A command of its own, such as a shell: run it from the node.
		return slices.Concat(command, args), nil
	case imagePause:
		return []string{testd, "pause"}, nil
	case imageHost:
		argv := slices.Concat(command, args)
		if len(argv) == 0 {
			return nil, fmt.Errorf("image %q runs the container's command on the node, and the container has none", image)
		}
		return argv, nil
	}
	return nil, fmt.Errorf("the node agent cannot run image %q; it runs %s", image, SupportedImages)
}

// imageID is what the agent reports as a container's image ID.
func imageID(image string) string {
	switch classifyImage(image) {
	case imageTestd:
		return "signet.dev/testd@builtin"
	case imagePause:
		return "signet.dev/testd@builtin:pause"
	case imageHost:
		return "signet.dev/host@builtin"
	}
	return ""
}

// podEnv is what a container's environment is built from.
type podEnv struct {
	pod      *corev1.Pod
	podIPs   []netip.Addr
	hostIPs  []netip.Addr
	hostname string
	// path is the PATH given to containers.
	path string
}

// containerEnv returns the environment of a container, as "NAME=value"
// strings: PATH, HOSTNAME and, for convenience, POD_NAME, POD_NAMESPACE,
// POD_IP, POD_IPS and NODE_NAME, then the container's env in order, where
// a value may refer to earlier variables as $(NAME) and valueFrom may
// take a fieldRef (of the fields kubelet's downward API offers). Secret,
// ConfigMap and resource references and envFrom are not supported and
// make the container fail to start.
func containerEnv(e podEnv, c *corev1.Container) ([]string, map[string]string, error) {
	if len(c.EnvFrom) > 0 {
		return nil, nil, fmt.Errorf("container %q: envFrom is not supported by the node agent", c.Name)
	}
	var names []string
	values := map[string]string{}
	set := func(name, value string) {
		if _, ok := values[name]; !ok {
			names = append(names, name)
		}
		values[name] = value
	}
	set("PATH", e.path)
	set("HOSTNAME", e.hostname)
	set("POD_NAME", e.pod.Name)
	set("POD_NAMESPACE", e.pod.Namespace)
	set("NODE_NAME", e.pod.Spec.NodeName)
	if len(e.podIPs) > 0 {
		set("POD_IP", e.podIPs[0].String())
		set("POD_IPS", joinAddrs(e.podIPs))
	}
	for _, v := range c.Env {
		switch {
		case v.ValueFrom == nil:
			set(v.Name, expandVars(v.Value, lookupIn(values)))
		case v.ValueFrom.FieldRef != nil:
			value, err := fieldRefValue(e, v.ValueFrom.FieldRef.FieldPath)
			if err != nil {
				return nil, nil, fmt.Errorf("container %q: env %s: %w", c.Name, v.Name, err)
			}
			set(v.Name, value)
		default:
			return nil, nil, fmt.Errorf("container %q: env %s: only value and valueFrom.fieldRef are supported by the node agent", c.Name, v.Name)
		}
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, n+"="+values[n])
	}
	return out, values, nil
}

func lookupIn(values map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := values[name]
		return v, ok
	}
}

func joinAddrs(ips []netip.Addr) string {
	s := make([]string, len(ips))
	for i, ip := range ips {
		s[i] = ip.String()
	}
	return strings.Join(s, ",")
}

// fieldRefValue is the value of a downward API field path.
func fieldRefValue(e podEnv, fieldPath string) (string, error) {
	p := e.pod
	if key, ok := subscript(fieldPath, "metadata.labels"); ok {
		return p.Labels[key], nil
	}
	if key, ok := subscript(fieldPath, "metadata.annotations"); ok {
		return p.Annotations[key], nil
	}
	switch fieldPath {
	case "metadata.name":
		return p.Name, nil
	case "metadata.namespace":
		return p.Namespace, nil
	case "metadata.uid":
		return string(p.UID), nil
	case "spec.nodeName":
		return p.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return p.Spec.ServiceAccountName, nil
	case "status.podIP":
		if len(e.podIPs) > 0 {
			return e.podIPs[0].String(), nil
		}
		return "", nil
	case "status.podIPs":
		return joinAddrs(e.podIPs), nil
	case "status.hostIP":
		if len(e.hostIPs) > 0 {
			return e.hostIPs[0].String(), nil
		}
		return "", nil
	case "status.hostIPs":
		return joinAddrs(e.hostIPs), nil
	}
	return "", fmt.Errorf("fieldRef %q is not supported by the node agent", fieldPath)
}

// subscript parses field['key'].
func subscript(fieldPath, field string) (string, bool) {
	rest, ok := strings.CutPrefix(fieldPath, field+"['")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, "']")
}

// expandVars replaces $(NAME) with NAME's value when lookup knows it and
// leaves it as written otherwise; $$ is a literal $, so $$(NAME) stays
// $(NAME). These are the rules of a container's command, args and env.
func expandVars(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// expandAll expands every element of args.
func expandAll(args []string, values map[string]string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = expandVars(a, lookupIn(values))
	}
	return out
}
