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

package apiserver

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	networkingv1 "signet.dev/api/networking/v1"
	signetclientset "signet.dev/client-go/clientset/versioned"
)

// warningRecorder keeps the warnings the server sends with responses.
type warningRecorder struct {
	mu       sync.Mutex
	messages []string
}

func (w *warningRecorder) HandleWarningHeader(_ int, _ string, message string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.messages = append(w.messages, message)
}

func (w *warningRecorder) all() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.messages, "\n")
}

func defaultClass(name string) *networkingv1.IngressClass {
	return &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}},
		Spec:       networkingv1.IngressClassSpec{Controller: "example.com/" + name},
	}
}

// TestDefaultIngressClass runs its cases in order: they add default
// classes one by one, and the classes are cluster-wide.
func TestDefaultIngressClass(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t)
	warnings := &warningRecorder{}
	cfg := rest.CopyConfig(cluster.Config)
	cfg.WarningHandler = warnings
	client, err := signetclientset.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ingresses := client.NetworkingV1().Ingresses(ns)
	classes := cluster.Signet.NetworkingV1().IngressClasses()
	created := []string{}
	t.Cleanup(func() {
		for _, name := range created {
			_ = classes.Delete(context.Background(), name, metav1.DeleteOptions{})
		}
	})
	classless := func(name string) *networkingv1.Ingress {
		ing := validIngress(name)
		ing.Spec.IngressClassName = nil
		return ing
	}
	// createClass creates a default class and waits until the admission
	// plugin's informer has it: until a dry-run create is given the class
	// the test expects from then on.
	createClass := func(ic *networkingv1.IngressClass, expect string) {
		t.Helper()
		if _, err := classes.Create(ctx, ic, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		created = append(created, ic.Name)
		deadline := time.Now().Add(30 * time.Second)
		for {
			probe, err := cluster.Signet.NetworkingV1().Ingresses(ns).Create(ctx, classless("probe"), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if err == nil && ptr.Deref(probe.Spec.IngressClassName, "") == expect {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the admission plugin never saw IngressClass %s (last: %v, %v)", ic.Name, probe, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	t.Run("no default class leaves the Ingress alone", func(t *testing.T) {
		got, err := ingresses.Create(ctx, classless("none"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Spec.IngressClassName != nil {
			t.Errorf("ingressClassName = %q without any default class", *got.Spec.IngressClassName)
		}
	})

	first := "default-a-" + ns
	createClass(defaultClass(first), first)
	t.Run("the default class is filled in", func(t *testing.T) {
		got, err := ingresses.Create(ctx, classless("defaulted"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ptr.Deref(got.Spec.IngressClassName, "") != first {
			t.Errorf("ingressClassName = %v, want %s", got.Spec.IngressClassName, first)
		}
	})
	t.Run("an explicit class or the legacy annotation is kept", func(t *testing.T) {
		explicit := validIngress("explicit")
		got, err := ingresses.Create(ctx, explicit, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ptr.Deref(got.Spec.IngressClassName, "") != "test" {
			t.Errorf("explicit class replaced: %v", got.Spec.IngressClassName)
		}
		annotated := classless("annotated")
		annotated.Annotations = map[string]string{networkingv1.AnnotationIngressClass: "legacy"}
		got, err = ingresses.Create(ctx, annotated, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Spec.IngressClassName != nil {
			t.Errorf("an Ingress naming its class by annotation got ingressClassName %q", *got.Spec.IngressClassName)
		}
	})

	// Creation timestamps have one-second resolution: make the second
	// default class visibly newer.
	time.Sleep(1100 * time.Millisecond)
	second := "default-b-" + ns
	createClass(defaultClass(second), second)
	t.Run("with several defaults the newest wins, with a warning", func(t *testing.T) {
		got, err := ingresses.Create(ctx, classless("several"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ptr.Deref(got.Spec.IngressClassName, "") != second {
			t.Errorf("ingressClassName = %v, want the newest default %s", got.Spec.IngressClassName, second)
		}
		if w := warnings.all(); !strings.Contains(w, "2 IngressClasses are marked as default") || !strings.Contains(w, first) || !strings.Contains(w, second) {
			t.Errorf("warnings = %q, want one naming both defaults", w)
		}
	})
}
