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

// Package topology tests deploy/topology-keys-policy.yaml, the
// ValidatingAdmissionPolicy that rejects invalid Service topology keys at
// kube-apiserver, against the rules kube-proxy applies
// (pkg/proxy/topology.ParseKeys): both must agree on every case.
package topology

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"signet.dev/signet/pkg/proxy/topology"
	"signet.dev/signet/test/integration/framework"
)

var cluster *framework.Cluster

func TestMain(m *testing.M) {
	os.Exit(framework.RunTests(m, &cluster))
}

const namespace = "topology-policy"

func service(name, keys string) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Port: 80}},
		},
	}
	if keys != "-" {
		svc.Annotations = map[string]string{topology.AnnotationKeys: keys}
	}
	return svc
}

func TestTopologyKeysPolicy(t *testing.T) {
	ctx := context.Background()
	policy := filepath.Join("..", "..", "..", "deploy", "topology-keys-policy.yaml")
	cmd := cluster.KubectlCmd(ctx, "apply", "--server-side", "-f", policy)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply -f %s: %v\n%s", policy, err, out)
	}
	if _, err := cluster.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// The policy takes effect once kube-apiserver's admission has seen it;
	// probe with an invalid value until it is refused.
	probe := 0
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		probe++
		_, err := cluster.Kube.CoreV1().Services(namespace).Create(ctx, service(fmt.Sprintf("probe-%d", probe), "*,kubernetes.io/hostname"), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err != nil, nil
	})
	if err != nil {
		t.Fatalf("the policy never rejected an invalid annotation: %v", err)
	}

	long := strings.Repeat("a", 63)
	var sixteen, seventeen []string
	for i := range 17 {
		k := fmt.Sprintf("example.com/key-%d", i)
		if i < 16 {
			sixteen = append(sixteen, k)
		}
		seventeen = append(seventeen, k)
	}
	for i, value := range []string{
		"-", // no annotation
		"",
		"  ",
		"*",
		"kubernetes.io/hostname",
		"kubernetes.io/hostname,topology.kubernetes.io/zone,*",
		"kubernetes.io/hostname, topology.kubernetes.io/zone , *",
		"example.com/rack,topology.kubernetes.io/zone",
		"rack",
		long,
		long + "a",
		"example.com/" + long,
		strings.Repeat("a", 254) + "/k",
		strings.Join(sixteen, ","),
		strings.Join(seventeen, ","),
		"*,kubernetes.io/hostname",
		"kubernetes.io/hostname,kubernetes.io/hostname",
		"*,*",
		"kubernetes.io/hostname,,*",
		",",
		"Example.com/rack",
		"example.com/Rack",
		"example.com/-rack",
		"a/b/c",
		"/rack",
		"example.com/",
		"not a key",
		"kubernetes.io/hostname;topology.kubernetes.io/zone",
	} {
		t.Run(fmt.Sprintf("%d", i), func(t *testing.T) {
			_, goErr := topology.ParseKeys(value)
			if value == "-" {
				goErr = nil
			}
			_, err := cluster.Kube.CoreV1().Services(namespace).Create(ctx, service(fmt.Sprintf("svc-%d", i), value), metav1.CreateOptions{})
			switch {
			case goErr == nil && err != nil:
				t.Errorf("%q: kube-proxy accepts it, the policy rejects it: %v", value, err)
			case goErr != nil && err == nil:
				t.Errorf("%q: kube-proxy rejects it (%v), the policy accepts it", value, goErr)
			case err != nil && !apierrors.IsInvalid(err):
				t.Errorf("%q: rejected with %v, want an Invalid error", value, err)
			case err != nil && !strings.Contains(err.Error(), "topology-keys"):
				t.Errorf("%q: the message %q does not name the annotation", value, err)
			}
		})
	}

	// An update to an invalid value is refused too and loses nothing.
	svc, err := cluster.Kube.CoreV1().Services(namespace).Get(ctx, "svc-4", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Annotations[topology.AnnotationKeys] = "*,kubernetes.io/hostname"
	if _, err := cluster.Kube.CoreV1().Services(namespace).Update(ctx, svc, metav1.UpdateOptions{}); err == nil {
		t.Error("an update to an invalid annotation was accepted")
	}
	svc, err = cluster.Kube.CoreV1().Services(namespace).Get(ctx, "svc-4", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := svc.Annotations[topology.AnnotationKeys]; got != "kubernetes.io/hostname" {
		t.Errorf("after a refused update the annotation is %q", got)
	}
}
