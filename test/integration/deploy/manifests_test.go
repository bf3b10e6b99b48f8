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

package deploy

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"signet.dev/signet/cmd/signet-apiserver/app"
	"signet.dev/signet/test/integration/framework"
)

const (
	namespace           = "signet-system"
	name                = "signet-apiserver"
	image               = "signet.dev/signet-apiserver:latest"
	securePort          = 8443
	servingSecret       = "signet-apiserver-tls"
	etcdClientSecret    = "signet-etcd-client"
	embeddedDataDir     = "/var/lib/signet-apiserver"
	caBundlePlaceholder = "CA_BUNDLE_PLACEHOLDER"
)

// TestManifestFileList keeps manifestFiles, which the dry-run tests walk,
// in step with the directory: a new manifest must be tested too.
func TestManifestFileList(t *testing.T) {
	matches, err := filepath.Glob(filepath.Join(deployDir(t), "*.y*ml"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range matches {
		if base := filepath.Base(m); base != "kustomization.yaml" {
			got = append(got, base)
		}
	}
	want := slices.Clone(manifestFiles)
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("manifests in deploy/: %v, the tests know %v", got, want)
	}
}

func TestAPIServices(t *testing.T) {
	objs := readObjects(t, "apiservices.yaml")
	if len(objs) != len(framework.APIServices) {
		t.Fatalf("apiservices.yaml holds %d objects, want %d (framework.APIServices)", len(objs), len(framework.APIServices))
	}
	byName := map[string]*apiService{}
	for _, o := range objs {
		if o.GVK.Group != "apiregistration.k8s.io" || o.GVK.Version != "v1" || o.GVK.Kind != "APIService" {
			t.Fatalf("%s: want an apiregistration.k8s.io/v1 APIService", o)
		}
		byName[o.Name] = decodeAPIService(t, o)
	}
	svcPort := serviceHTTPSPort(t)
	for _, want := range framework.APIServices {
		a, ok := byName[want.Version+"."+want.Group]
		if !ok {
			t.Errorf("no APIService %s.%s", want.Version, want.Group)
			continue
		}
		s := a.Spec
		if s.Group != want.Group || s.Version != want.Version {
			t.Errorf("APIService %s serves %s/%s", a.Name, s.Group, s.Version)
		}
		if s.GroupPriorityMinimum != want.GroupPriorityMinimum || s.VersionPriority != want.VersionPriority {
			t.Errorf("APIService %s: groupPriorityMinimum %d, versionPriority %d; want %d, %d as framework.APIServices",
				a.Name, s.GroupPriorityMinimum, s.VersionPriority, want.GroupPriorityMinimum, want.VersionPriority)
		}
		if s.Service == nil || s.Service.Namespace != namespace || s.Service.Name != name {
			t.Errorf("APIService %s does not name the Service %s/%s: %+v", a.Name, namespace, name, s.Service)
		} else if s.Service.Port == nil || *s.Service.Port != svcPort {
			t.Errorf("APIService %s names port %v, the Service's port is %d", a.Name, s.Service.Port, svcPort)
		}
		if s.InsecureSkipTLSVerify {
			t.Errorf("APIService %s skips TLS verification", a.Name)
		}
		// The README's sed command replaces exactly this placeholder.
		if string(s.CABundle) != caBundlePlaceholder {
			t.Errorf("APIService %s: caBundle decodes to %q, want the documented placeholder %q", a.Name, s.CABundle, caBundlePlaceholder)
		}
	}
}

// serviceHTTPSPort returns the port of the Service, checking it forwards
// to signet-apiserver's secure port.
func serviceHTTPSPort(t *testing.T) int32 {
	t.Helper()
	svc := theService(t)
	if len(svc.Spec.Ports) != 1 {
		t.Fatalf("Service %s has %d ports, want 1", name, len(svc.Spec.Ports))
	}
	return svc.Spec.Ports[0].Port
}

func theService(t *testing.T) *corev1.Service {
	t.Helper()
	objs := readObjects(t, "service.yaml")
	if len(objs) != 1 {
		t.Fatalf("service.yaml holds %d objects, want 1", len(objs))
	}
	svc, ok := decode(t, objs[0]).(*corev1.Service)
	if !ok {
		t.Fatalf("%s is not a Service", objs[0])
	}
	return svc
}

func TestService(t *testing.T) {
	svc := theService(t)
	if svc.Namespace != namespace || svc.Name != name {
		t.Errorf("Service is %s/%s, want %s/%s", svc.Namespace, svc.Name, namespace, name)
	}
	if svc.Spec.Type != "" && svc.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("Service type %s, want ClusterIP", svc.Spec.Type)
	}
	p := svc.Spec.Ports[0]
	if p.Port != 443 || p.TargetPort != intstr.FromInt32(securePort) {
		t.Errorf("Service port %d -> %s, want 443 -> %d", p.Port, p.TargetPort.String(), securePort)
	}
	if len(svc.Spec.Selector) == 0 {
		t.Fatal("Service has no selector")
	}
	for _, w := range workloads(t) {
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(w.template.Labels)) {
			t.Errorf("Service selector %v does not select the pods of %s (labels %v)", svc.Spec.Selector, w.file, w.template.Labels)
		}
	}
}

func TestRBAC(t *testing.T) {
	var (
		accounts     []*corev1.ServiceAccount
		clusterRoles []*rbacv1.ClusterRole
		crbs         []*rbacv1.ClusterRoleBinding
		rbs          []*rbacv1.RoleBinding
	)
	for _, o := range readObjects(t, "rbac.yaml") {
		switch obj := decode(t, o).(type) {
		case *corev1.ServiceAccount:
			accounts = append(accounts, obj)
		case *rbacv1.ClusterRole:
			clusterRoles = append(clusterRoles, obj)
		case *rbacv1.ClusterRoleBinding:
			crbs = append(crbs, obj)
		case *rbacv1.RoleBinding:
			rbs = append(rbs, obj)
		default:
			t.Errorf("rbac.yaml: unexpected %s", o)
		}
	}
	if len(accounts) != 1 || accounts[0].Namespace != namespace || accounts[0].Name != name {
		t.Fatalf("rbac.yaml must hold the one ServiceAccount %s/%s", namespace, name)
	}
	wantSubject := rbacv1.Subject{Kind: "ServiceAccount", Name: name, Namespace: namespace}
	checkSubjects := func(binding string, subjects []rbacv1.Subject) {
		if len(subjects) != 1 || subjects[0] != wantSubject {
			t.Errorf("%s binds %+v, want only %+v", binding, subjects, wantSubject)
		}
	}

	// Bindings: exactly the three, each to the service account only.
	boundClusterRoles := map[string]bool{}
	for _, b := range crbs {
		checkSubjects("ClusterRoleBinding "+b.Name, b.Subjects)
		if b.RoleRef.APIGroup != rbacv1.GroupName || b.RoleRef.Kind != "ClusterRole" {
			t.Errorf("ClusterRoleBinding %s refers to %+v", b.Name, b.RoleRef)
		}
		boundClusterRoles[b.RoleRef.Name] = true
	}
	if want := map[string]bool{"system:auth-delegator": true, name: true}; len(crbs) != 2 || !mapsEqual(boundClusterRoles, want) {
		t.Errorf("ClusterRoleBindings bind %v, want exactly system:auth-delegator and %s", boundClusterRoles, name)
	}
	if len(rbs) != 1 {
		t.Fatalf("rbac.yaml holds %d RoleBindings, want 1", len(rbs))
	}
	rb := rbs[0]
	if rb.Namespace != "kube-system" {
		t.Errorf("RoleBinding %s is in namespace %q, want kube-system", rb.Name, rb.Namespace)
	}
	if rb.RoleRef != (rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "extension-apiserver-authentication-reader"}) {
		t.Errorf("RoleBinding %s refers to %+v, want the Role extension-apiserver-authentication-reader", rb.Name, rb.RoleRef)
	}
	checkSubjects("RoleBinding "+rb.Name, rb.Subjects)

	// The ClusterRole: read-only, no wildcards, and exactly what the
	// aggregated server's informers need.
	if len(clusterRoles) != 1 || clusterRoles[0].Name != name {
		t.Fatalf("rbac.yaml must define the one ClusterRole %s", name)
	}
	cr := clusterRoles[0]
	if cr.AggregationRule != nil {
		t.Errorf("ClusterRole %s aggregates other roles", cr.Name)
	}
	readOnly := []string{"get", "list", "watch"}
	granted := map[string][]string{}
	for i, r := range cr.Rules {
		for _, field := range [][]string{r.Verbs, r.Resources, r.APIGroups, r.ResourceNames} {
			if slices.Contains(field, "*") {
				t.Errorf("ClusterRole rule %d uses a wildcard: %+v", i, r)
			}
		}
		if len(r.NonResourceURLs) > 0 {
			t.Errorf("ClusterRole rule %d grants non-resource URLs %v", i, r.NonResourceURLs)
		}
		for _, v := range r.Verbs {
			if !slices.Contains(readOnly, v) {
				t.Errorf("ClusterRole rule %d grants %q; only %v are needed", i, v, readOnly)
			}
		}
		verbs := slices.Sorted(slices.Values(r.Verbs))
		if !slices.Equal(verbs, slices.Sorted(slices.Values(readOnly))) {
			t.Errorf("ClusterRole rule %d grants %v, want %v (informers list and watch, admission gets)", i, r.Verbs, readOnly)
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				key := g + "/" + res
				if _, dup := granted[key]; dup {
					t.Errorf("ClusterRole grants %s twice", key)
				}
				granted[key] = r.Verbs
			}
		}
	}
	want := []string{
		"/namespaces",
		"admissionregistration.k8s.io/mutatingwebhookconfigurations",
		"admissionregistration.k8s.io/validatingwebhookconfigurations",
		"admissionregistration.k8s.io/mutatingadmissionpolicies",
		"admissionregistration.k8s.io/mutatingadmissionpolicybindings",
		"admissionregistration.k8s.io/validatingadmissionpolicies",
		"admissionregistration.k8s.io/validatingadmissionpolicybindings",
		"flowcontrol.apiserver.k8s.io/prioritylevelconfigurations",
		"flowcontrol.apiserver.k8s.io/flowschemas",
	}
	var got []string
	for k := range granted {
		got = append(got, k)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("ClusterRole %s grants on\n  %v\nwant exactly\n  %v", cr.Name, got, want)
	}
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// workload is the pod-running object of one variant.
type workload struct {
	file     string
	replicas int32
	selector map[string]string
	template corev1.PodTemplateSpec
	claims   []corev1.PersistentVolumeClaim
}

func workloads(t *testing.T) []workload {
	t.Helper()
	var out []workload
	for _, file := range []string{"apiserver-embedded-etcd.yaml", "apiserver-external-etcd.yaml"} {
		objs := readObjects(t, file)
		if len(objs) != 1 {
			t.Fatalf("%s holds %d objects, want 1", file, len(objs))
		}
		var w workload
		switch obj := decode(t, objs[0]).(type) {
		case *appsv1.StatefulSet:
			w = workload{file: file, selector: obj.Spec.Selector.MatchLabels, template: obj.Spec.Template, claims: obj.Spec.VolumeClaimTemplates}
			if obj.Spec.Replicas != nil {
				w.replicas = *obj.Spec.Replicas
			}
		case *appsv1.Deployment:
			w = workload{file: file, selector: obj.Spec.Selector.MatchLabels, template: obj.Spec.Template}
			if obj.Spec.Replicas != nil {
				w.replicas = *obj.Spec.Replicas
			}
		default:
			t.Fatalf("%s: unexpected %s", file, objs[0])
		}
		if objs[0].Namespace != namespace || objs[0].Name != name {
			t.Errorf("%s: %s, want %s/%s", file, objs[0], namespace, name)
		}
		out = append(out, w)
	}
	return out
}

// parseArgs parses args with signet-apiserver's own flag set, so that a
// misspelt or removed flag fails here, and validates the options.
func parseArgs(t *testing.T, file string, args []string) *app.Options {
	t.Helper()
	o := app.NewOptions()
	fs := pflag.NewFlagSet("signet-apiserver", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("%s: signet-apiserver rejects its args %v: %v", file, args, err)
	}
	if len(fs.Args()) != 0 {
		t.Fatalf("%s: positional arguments %v", file, fs.Args())
	}
	if err := o.Validate(); err != nil {
		t.Fatalf("%s: invalid signet-apiserver flags: %v", file, err)
	}
	return o
}

// mountOf returns the mount path of the volume fed by the Secret named
// secret, or fails.
func mountOf(t *testing.T, file string, pod corev1.PodSpec, c corev1.Container, secret string) string {
	t.Helper()
	for _, v := range pod.Volumes {
		if v.Secret == nil || v.Secret.SecretName != secret {
			continue
		}
		for _, m := range c.VolumeMounts {
			if m.Name == v.Name {
				if !m.ReadOnly {
					t.Errorf("%s: the Secret %s is mounted writable", file, secret)
				}
				return m.MountPath
			}
		}
	}
	t.Fatalf("%s: the Secret %s is not mounted", file, secret)
	return ""
}

func checkUnder(t *testing.T, file, flag, path, dir string) {
	t.Helper()
	if path == "" || filepath.Dir(path) != filepath.Clean(dir) {
		t.Errorf("%s: %s=%q is not a file in the mount %s", file, flag, path, dir)
	}
}

func checkProbe(t *testing.T, file, kind string, p *corev1.Probe, path string) {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Errorf("%s: no HTTP %s probe", file, kind)
		return
	}
	g := p.HTTPGet
	if g.Scheme != corev1.URISchemeHTTPS || g.Path != path || g.Port != intstr.FromInt32(securePort) {
		t.Errorf("%s: %s probe %s %s port %s, want HTTPS %s port %d", file, kind, g.Scheme, g.Path, g.Port.String(), path, securePort)
	}
}

func TestWorkloads(t *testing.T) {
	for _, w := range workloads(t) {
		t.Run(w.file, func(t *testing.T) {
			file, pod := w.file, w.template.Spec
			if !labels.SelectorFromSet(w.selector).Matches(labels.Set(w.template.Labels)) {
				t.Errorf("selector %v does not match the template's labels %v", w.selector, w.template.Labels)
			}
			if pod.ServiceAccountName != name {
				t.Errorf("serviceAccountName %q, want %q (the one rbac.yaml binds)", pod.ServiceAccountName, name)
			}
			if pod.AutomountServiceAccountToken != nil && !*pod.AutomountServiceAccountToken {
				t.Error("the service account token is not mounted; signet-apiserver needs it to reach kube-apiserver")
			}
			if len(pod.Containers) != 1 || len(pod.InitContainers) != 0 {
				t.Fatalf("want one container, have %d (+%d init)", len(pod.Containers), len(pod.InitContainers))
			}
			c := pod.Containers[0]
			if c.Image != image {
				t.Errorf("image %q, want the placeholder %q", c.Image, image)
			}
			if c.ImagePullPolicy != corev1.PullIfNotPresent {
				t.Errorf("imagePullPolicy %q, want IfNotPresent so that an image loaded into kind is used", c.ImagePullPolicy)
			}

			o := parseArgs(t, file, c.Args)
			if got := o.Recommended.SecureServing.BindPort; got != securePort {
				t.Errorf("--secure-port %d, want %d", got, securePort)
			}
			if len(c.Ports) != 1 || c.Ports[0].ContainerPort != securePort {
				t.Errorf("container ports %+v, want %d only", c.Ports, securePort)
			}
			tlsDir := mountOf(t, file, pod, c, servingSecret)
			checkUnder(t, file, "--tls-cert-file", o.Recommended.SecureServing.ServerCert.CertKey.CertFile, tlsDir)
			checkUnder(t, file, "--tls-private-key-file", o.Recommended.SecureServing.ServerCert.CertKey.KeyFile, tlsDir)

			checkProbe(t, file, "liveness", c.LivenessProbe, "/livez")
			checkProbe(t, file, "readiness", c.ReadinessProbe, "/readyz")
			if c.StartupProbe != nil {
				checkProbe(t, file, "startup", c.StartupProbe, "/livez")
			}

			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if q, ok := c.Resources.Requests[r]; !ok || q.Cmp(resource.Quantity{}) <= 0 {
					t.Errorf("no %s request", r)
				}
			}

			psc, sc := pod.SecurityContext, c.SecurityContext
			if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
				t.Error("the pod does not run as a non-root user")
			}
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Error("the root filesystem is writable")
			}
			if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Error("privilege escalation is allowed")
			}
			if sc == nil || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 {
				t.Error("capabilities are not all dropped")
			}
			if sc != nil && sc.Privileged != nil && *sc.Privileged {
				t.Error("the container is privileged")
			}

			servers := o.Recommended.Etcd.StorageConfig.Transport.ServerList
			switch file {
			case "apiserver-embedded-etcd.yaml":
				checkEmbedded(t, w, pod, c, o, servers)
			case "apiserver-external-etcd.yaml":
				checkExternal(t, w, pod, c, o, servers)
			}
		})
	}
}

func checkEmbedded(t *testing.T, w workload, pod corev1.PodSpec, c corev1.Container, o *app.Options, servers []string) {
	if len(servers) != 0 {
		t.Errorf("--etcd-servers=%v: the embedded variant must not name an external etcd", servers)
	}
	if w.replicas != 1 {
		t.Errorf("%d replicas; the embedded etcd is a single member, want 1", w.replicas)
	}
	if o.DataDir != embeddedDataDir {
		t.Errorf("--data-dir=%q, want %q", o.DataDir, embeddedDataDir)
	}
	var mount *corev1.VolumeMount
	for i, m := range c.VolumeMounts {
		if filepath.Clean(m.MountPath) == filepath.Clean(o.DataDir) {
			mount = &c.VolumeMounts[i]
		}
	}
	if mount == nil {
		t.Fatalf("no volume is mounted at --data-dir=%s; the etcd data would be lost with the container", o.DataDir)
	}
	if mount.ReadOnly || mount.SubPath != "" {
		t.Errorf("the data volume mount %+v is read-only or a subPath", *mount)
	}
	var claim *corev1.PersistentVolumeClaim
	for i, cl := range w.claims {
		if cl.Name == mount.Name {
			claim = &w.claims[i]
		}
	}
	if claim == nil {
		t.Fatalf("the volume %q at --data-dir is not a volumeClaimTemplate", mount.Name)
	}
	for _, v := range pod.Volumes {
		if v.Name == mount.Name {
			t.Errorf("the pod defines a volume %q that shadows the claim template", v.Name)
		}
	}
	if q, ok := claim.Spec.Resources.Requests[corev1.ResourceStorage]; !ok || q.Cmp(resource.Quantity{}) <= 0 {
		t.Errorf("the claim %q requests no storage", claim.Name)
	}
	if !slices.Contains(claim.Spec.AccessModes, corev1.ReadWriteOnce) {
		t.Errorf("the claim %q has access modes %v, want ReadWriteOnce", claim.Name, claim.Spec.AccessModes)
	}
	if psc := pod.SecurityContext; psc == nil || psc.FSGroup == nil {
		t.Error("no fsGroup: the non-root user may not be able to write the claimed volume")
	}
}

func checkExternal(t *testing.T, w workload, pod corev1.PodSpec, c corev1.Container, o *app.Options, servers []string) {
	if len(servers) == 0 {
		t.Fatal("no --etcd-servers")
	}
	for _, s := range servers {
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			t.Errorf("--etcd-servers entry %q is not an https URL (the client certificate needs TLS)", s)
		}
	}
	if w.replicas != 2 {
		t.Errorf("%d replicas, want 2", w.replicas)
	}
	if len(w.claims) != 0 {
		t.Error("the external-etcd variant claims volumes")
	}
	etcdDir := mountOf(t, w.file, pod, c, etcdClientSecret)
	tr := o.Recommended.Etcd.StorageConfig.Transport
	checkUnder(t, w.file, "--etcd-cafile", tr.TrustedCAFile, etcdDir)
	checkUnder(t, w.file, "--etcd-certfile", tr.CertFile, etcdDir)
	checkUnder(t, w.file, "--etcd-keyfile", tr.KeyFile, etcdDir)
	for _, v := range pod.Volumes {
		if v.HostPath != nil || v.PersistentVolumeClaim != nil {
			t.Errorf("volume %q keeps state on a node or claim; this variant is stateless", v.Name)
		}
	}
}

// TestKustomizationFile checks what kubectl apply -k deploy/ installs.
func TestKustomizationFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(deployDir(t), "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	jsonDoc, err := utilyaml.ToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	var k map[string]any
	if err := json.Unmarshal(jsonDoc, &k); err != nil {
		t.Fatal(err)
	}
	if k["kind"] != "Kustomization" {
		t.Errorf("kind %v, want Kustomization", k["kind"])
	}
	// A namespace transformer would move the RoleBinding out of
	// kube-system and the Role it names would not be found.
	if _, ok := k["namespace"]; ok {
		t.Error(`kustomization.yaml sets "namespace", which would move the kube-system RoleBinding`)
	}
	raw, _ := k["resources"].([]any)
	var resources []string
	for _, r := range raw {
		s, _ := r.(string)
		resources = append(resources, s)
	}
	var want []string
	for _, f := range manifestFiles {
		if !slices.Contains(notInKustomization, f) {
			want = append(want, f)
		}
	}
	sort.Strings(want)
	got := slices.Clone(resources)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("kustomization resources %v, want %v (embedded etcd by default)", resources, want)
	}
	if i, j := slices.Index(resources, "namespace.yaml"), slices.Index(resources, "rbac.yaml"); i < 0 || j < i {
		t.Errorf("namespace.yaml should come before the objects in it: %v", resources)
	}
	for _, r := range resources {
		if strings.Contains(r, "..") || filepath.IsAbs(r) {
			t.Errorf("resource %q is outside deploy/", r)
		}
	}
}
