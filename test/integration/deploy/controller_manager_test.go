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
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/spf13/pflag"
	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	discoveryv1 "signet.dev/api/discovery/v1"
	cmapp "signet.dev/signet/cmd/signet-controller-manager/app"
)

const (
	cmFile           = "controller-manager.yaml"
	cmName           = "signet-controller-manager"
	cmImage          = "signet.dev/signet-controller-manager:latest"
	cmServiceAccount = "system:serviceaccount:signet-system:signet-controller-manager"
)

// controllerManagerObjects are the typed objects of controller-manager.yaml.
type controllerManagerObjects struct {
	account      *corev1.ServiceAccount
	clusterRole  *rbacv1.ClusterRole
	crb          *rbacv1.ClusterRoleBinding
	role         *rbacv1.Role
	roleBinding  *rbacv1.RoleBinding
	deployment   *appsv1.Deployment
	unrecognized []string
}

func readControllerManager(t *testing.T) controllerManagerObjects {
	t.Helper()
	var objs controllerManagerObjects
	for _, o := range readObjects(t, cmFile) {
		switch obj := decode(t, o).(type) {
		case *corev1.ServiceAccount:
			objs.account = obj
		case *rbacv1.ClusterRole:
			objs.clusterRole = obj
		case *rbacv1.ClusterRoleBinding:
			objs.crb = obj
		case *rbacv1.Role:
			objs.role = obj
		case *rbacv1.RoleBinding:
			objs.roleBinding = obj
		case *appsv1.Deployment:
			objs.deployment = obj
		default:
			objs.unrecognized = append(objs.unrecognized, o.String())
		}
	}
	if len(objs.unrecognized) > 0 {
		t.Fatalf("%s holds unexpected objects %v", cmFile, objs.unrecognized)
	}
	if objs.account == nil || objs.clusterRole == nil || objs.crb == nil || objs.role == nil || objs.roleBinding == nil || objs.deployment == nil {
		t.Fatalf("%s must hold a ServiceAccount, ClusterRole, ClusterRoleBinding, Role, RoleBinding and Deployment", cmFile)
	}
	return objs
}

// parseControllerManagerArgs parses args with the binary's own flags and
// validation, so the manifest cannot name a flag the binary lacks.
func parseControllerManagerArgs(t *testing.T, args []string) *cmapp.Options {
	t.Helper()
	o := cmapp.NewOptions()
	fs := pflag.NewFlagSet(cmName, pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("%s: the Deployment's args do not parse: %v", cmFile, err)
	}
	if err := o.Validate(); err != nil {
		t.Fatalf("%s: the Deployment's args are invalid: %v", cmFile, err)
	}
	return o
}

// TestControllerManagerManifest checks the Deployment against the binary's
// flags and the RBAC objects beside it.
func TestControllerManagerManifest(t *testing.T) {
	objs := readControllerManager(t)
	d := objs.deployment
	if d.Namespace != namespace || objs.account.Namespace != namespace || objs.account.Name != cmName {
		t.Errorf("the Deployment and ServiceAccount must be %s/%s", namespace, cmName)
	}
	pod := d.Spec.Template.Spec
	if pod.ServiceAccountName != cmName {
		t.Errorf("serviceAccountName %q, want %q", pod.ServiceAccountName, cmName)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, have %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image != cmImage || c.ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("image %q pull policy %q, want %q IfNotPresent", c.Image, c.ImagePullPolicy, cmImage)
	}
	o := parseControllerManagerArgs(t, c.Args)
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Errorf("replicas %v: run at least two so that one takes over", d.Spec.Replicas)
	} else if !o.LeaderElect {
		t.Errorf("%d replicas without --leader-elect would run several controllers at once", *d.Spec.Replicas)
	}
	// The Lease the binary takes is the one the Role lets it update.
	if objs.role.Namespace != o.ResourceNamespace {
		t.Errorf("the leader-election Role is in %q, the Lease in --leader-elect-resource-namespace=%q", objs.role.Namespace, o.ResourceNamespace)
	}
	var named []string
	for _, r := range objs.role.Rules {
		named = append(named, r.ResourceNames...)
	}
	if !slices.Equal(named, []string{o.ResourceName}) {
		t.Errorf("the Role names leases %v, the binary uses --leader-elect-resource-name=%q", named, o.ResourceName)
	}
	for _, b := range []struct {
		kind     string
		subjects []rbacv1.Subject
		ref      rbacv1.RoleRef
		wantRef  rbacv1.RoleRef
	}{
		{"ClusterRoleBinding", objs.crb.Subjects, objs.crb.RoleRef, rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: objs.clusterRole.Name}},
		{"RoleBinding", objs.roleBinding.Subjects, objs.roleBinding.RoleRef, rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: objs.role.Name}},
	} {
		want := rbacv1.Subject{Kind: "ServiceAccount", Name: cmName, Namespace: namespace}
		if len(b.subjects) != 1 || b.subjects[0] != want {
			t.Errorf("%s binds %+v, want only %+v", b.kind, b.subjects, want)
		}
		if b.ref != b.wantRef {
			t.Errorf("%s refers to %+v, want %+v", b.kind, b.ref, b.wantRef)
		}
	}
	if objs.roleBinding.Namespace != objs.role.Namespace {
		t.Errorf("RoleBinding in %q, its Role in %q", objs.roleBinding.Namespace, objs.role.Namespace)
	}
	for i, r := range objs.clusterRole.Rules {
		for _, field := range [][]string{r.Verbs, r.Resources, r.APIGroups} {
			if slices.Contains(field, "*") {
				t.Errorf("ClusterRole rule %d uses a wildcard: %+v", i, r)
			}
		}
	}

	// Probes go to the port --bind-address serves.
	_, port, err := net.SplitHostPort(o.BindAddress)
	if err != nil {
		t.Fatalf("--bind-address=%q: %v", o.BindAddress, err)
	}
	portNum, _ := strconv.Atoi(port)
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != int32(portNum) {
		t.Fatalf("container ports %+v, want %d (--bind-address)", c.Ports, portNum)
	}
	for kind, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("no HTTP %s probe", kind)
			continue
		}
		if p.HTTPGet.Path != "/healthz" || (p.HTTPGet.Port != intstr.FromString(c.Ports[0].Name) && p.HTTPGet.Port != intstr.FromInt32(int32(portNum))) {
			t.Errorf("%s probe %s port %s, want /healthz on the --bind-address port", kind, p.HTTPGet.Path, p.HTTPGet.Port.String())
		}
	}
	psc, sc := pod.SecurityContext, c.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Error("the pod does not run as a non-root user")
	}
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Error("the container must have a read-only root, no privilege escalation and no capabilities")
	}
}

// TestControllerManagerRBAC installs the manifest's RBAC objects for real
// and runs signet-controller-manager in this process with the manifest's
// arguments, as its service account (impersonated): it must take the Lease
// and write the slices of a Service, so the grants are enough; and the
// service account must be refused what it does not need, so they are not
// too much.
func TestControllerManagerRBAC(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	objs := readControllerManager(t)
	kube := cluster.Kube

	// Install the RBAC objects; remove them afterwards so the other tests
	// see the cluster as the framework made it.
	create := []struct {
		name   string
		create func() error
		del    func() error
	}{
		{"ServiceAccount", func() error {
			_, err := kube.CoreV1().ServiceAccounts(namespace).Create(ctx, objs.account, metav1.CreateOptions{})
			return err
		}, func() error {
			return kube.CoreV1().ServiceAccounts(namespace).Delete(context.Background(), objs.account.Name, metav1.DeleteOptions{})
		}},
		{"ClusterRole", func() error {
			_, err := kube.RbacV1().ClusterRoles().Create(ctx, objs.clusterRole, metav1.CreateOptions{})
			return err
		}, func() error {
			return kube.RbacV1().ClusterRoles().Delete(context.Background(), objs.clusterRole.Name, metav1.DeleteOptions{})
		}},
		{"ClusterRoleBinding", func() error {
			_, err := kube.RbacV1().ClusterRoleBindings().Create(ctx, objs.crb, metav1.CreateOptions{})
			return err
		}, func() error {
			return kube.RbacV1().ClusterRoleBindings().Delete(context.Background(), objs.crb.Name, metav1.DeleteOptions{})
		}},
		{"Role", func() error {
			_, err := kube.RbacV1().Roles(objs.role.Namespace).Create(ctx, objs.role, metav1.CreateOptions{})
			return err
		}, func() error {
			return kube.RbacV1().Roles(objs.role.Namespace).Delete(context.Background(), objs.role.Name, metav1.DeleteOptions{})
		}},
		{"RoleBinding", func() error {
			_, err := kube.RbacV1().RoleBindings(objs.roleBinding.Namespace).Create(ctx, objs.roleBinding, metav1.CreateOptions{})
			return err
		}, func() error {
			return kube.RbacV1().RoleBindings(objs.roleBinding.Namespace).Delete(context.Background(), objs.roleBinding.Name, metav1.DeleteOptions{})
		}},
	}
	for _, c := range create {
		if err := c.create(); err != nil {
			t.Fatalf("creating the %s: %v", c.name, err)
		}
		t.Cleanup(func() {
			if err := c.del(); err != nil && !apierrors.IsNotFound(err) {
				t.Errorf("deleting the %s: %v", c.name, err)
			}
		})
	}

	// Least privilege: what the service account may and may not do, as
	// kube-apiserver's authorizer answers.
	for _, c := range []struct {
		attrs authorizationv1.ResourceAttributes
		want  bool
	}{
		{authorizationv1.ResourceAttributes{Verb: "watch", Resource: "pods"}, true},
		{authorizationv1.ResourceAttributes{Verb: "list", Resource: "nodes"}, true},
		{authorizationv1.ResourceAttributes{Verb: "update", Group: discoveryv1.GroupName, Resource: "endpointslices", Namespace: "default"}, true},
		{authorizationv1.ResourceAttributes{Verb: "update", Resource: "pods", Namespace: "default"}, false},
		{authorizationv1.ResourceAttributes{Verb: "update", Resource: "services", Namespace: "default"}, false},
		{authorizationv1.ResourceAttributes{Verb: "list", Resource: "secrets"}, false},
		{authorizationv1.ResourceAttributes{Verb: "deletecollection", Group: discoveryv1.GroupName, Resource: "endpointslices", Namespace: "default"}, false},
		{authorizationv1.ResourceAttributes{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Namespace: "kube-system", Name: "kube-controller-manager"}, false},
		{authorizationv1.ResourceAttributes{Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Namespace: "default", Name: cmName}, false},
	} {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:               cmServiceAccount,
			Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
			ResourceAttributes: &c.attrs,
		}}
		res, err := kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status.Allowed != c.want {
			t.Errorf("may the controller manager %s %s/%s %q in %q? %v, want %v", c.attrs.Verb, c.attrs.Group, c.attrs.Resource, c.attrs.Name, c.attrs.Namespace, res.Status.Allowed, c.want)
		}
	}

	// A kubeconfig that acts as the service account.
	cfg, err := clientcmd.LoadFromFile(cluster.KubeconfigFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, auth := range cfg.AuthInfos {
		auth.Impersonate = cmServiceAccount
		auth.ImpersonateGroups = []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace}
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, kubeconfig); err != nil {
		t.Fatal(err)
	}

	// The manifest's arguments, pointed at the test cluster; health on a
	// free port, since test packages run side by side.
	args := append(slices.Clone(objs.deployment.Spec.Template.Spec.Containers[0].Args),
		"--kubeconfig="+kubeconfig, "--bind-address=127.0.0.1:0")
	o := parseControllerManagerArgs(t, args)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- cmapp.Run(runCtx, o) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("signet-controller-manager: %v", err)
		}
	})

	// The Lease is taken in the namespace the Role allows.
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		lease, err := kube.CoordinationV1().Leases(o.ResourceNamespace).Get(ctx, o.ResourceName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != "", nil
	})
	if err != nil {
		t.Fatalf("the controller manager never held the Lease %s/%s: %v", o.ResourceNamespace, o.ResourceName, err)
	}

	// And it writes the slices of a Service.
	ns := "cm-rbac"
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	// No kube-controller-manager runs to create the namespace's default
	// service account, which pod admission requires.
	if _, err := kube.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "cm-rbac-node", Labels: map[string]string{
		"kubernetes.io/hostname": "cm-rbac-node", "topology.kubernetes.io/zone": "zone-a",
	}}}
	if _, err := kube.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kube.CoreV1().Nodes().Delete(context.Background(), node.Name, metav1.DeleteOptions{}) })
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}},
		},
	}
	if _, err := kube.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const pods = 3
	for i := range pods {
		if err := createReadyPod(ctx, kube, ns, fmt.Sprintf("web-%d", i), node.Name, fmt.Sprintf("10.244.7.%d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	var list *discoveryv1.EndpointSliceList
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err = cluster.Signet.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{
			LabelSelector: discoveryv1.LabelServiceName + "=web",
		})
		if err != nil {
			return false, err
		}
		n := 0
		for _, s := range list.Items {
			n += len(s.Endpoints)
		}
		return n == pods, nil
	})
	if err != nil {
		t.Fatalf("the controller manager, as its service account, did not write the slices of %s/web: %v (last seen: %+v)", ns, err, list)
	}
}

// createReadyPod creates a pod on node and marks it Running and Ready
// with ip, as a kubelet would; no kubelet runs in this test.
func createReadyPod(ctx context.Context, kube kubernetes.Interface, ns, name, node, ip string) error {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{
			NodeName:   node,
			Containers: []corev1.Container{{Name: "web", Image: "example.invalid/web"}},
		},
	}
	created, err := kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	created.Status = corev1.PodStatus{
		Phase:      corev1.PodRunning,
		PodIP:      ip,
		PodIPs:     []corev1.PodIP{{IP: ip}},
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
	}
	_, err = kube.CoreV1().Pods(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{})
	return err
}
