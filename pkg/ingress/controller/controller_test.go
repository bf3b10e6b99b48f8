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

package controller

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	kubeinformers "k8s.io/client-go/informers"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"

	discoveryv1 "signet.dev/api/discovery/v1"
	networkingv1 "signet.dev/api/networking/v1"
	signetfake "signet.dev/client-go/clientset/versioned/fake"
	signetinformers "signet.dev/client-go/informers/externalversions"

	"signet.dev/signet/pkg/ingress/proxy"
)

// fakeDataplane records the configurations it is given.
type fakeDataplane struct {
	mu    sync.Mutex
	cfgs  []*proxy.Config
	ready atomic.Bool
}

func (f *fakeDataplane) Update(cfg *proxy.Config) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfgs = append(f.cfgs, cfg)
}

func (f *fakeDataplane) Ready() bool { return f.ready.Load() }

func (f *fakeDataplane) last() *proxy.Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.cfgs) == 0 {
		return nil
	}
	return f.cfgs[len(f.cfgs)-1]
}

// env is a Controller over fake clientsets.
type env struct {
	t      *testing.T
	ctx    context.Context
	kube   *kubefake.Clientset
	signet *signetfake.Clientset
	dp     *fakeDataplane
	c      *Controller
	// statusErrors are returned, one per call, by status updates before
	// they reach the tracker.
	statusErrors chan error
}

var publish = []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.1"}, {IP: "2001:db8::1"}, {Hostname: "lb.example.com"}}

func newEnv(t *testing.T, objs ...runtime.Object) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var kubeObjs, signetObjs []runtime.Object
	for _, o := range objs {
		switch o.(type) {
		case *networkingv1.Ingress, *networkingv1.IngressClass, *discoveryv1.EndpointSlice:
			signetObjs = append(signetObjs, o)
		default:
			kubeObjs = append(kubeObjs, o)
		}
	}
	e := &env{
		t: t, ctx: ctx,
		kube:         kubefake.NewClientset(kubeObjs...),
		signet:       signetfake.NewClientset(signetObjs...),
		dp:           &fakeDataplane{},
		statusErrors: make(chan error, 10),
	}
	e.dp.ready.Store(true)
	// Give Ingresses resource versions and enforce them on update, as the
	// API server does: the fake tracker does neither.
	var rv atomic.Int64
	rv.Store(100)
	gvr := schema.GroupVersionResource{Group: "networking.signet.dev", Version: "v1", Resource: "ingresses"}
	e.signet.PrependReactor("*", "ingresses", func(a clienttesting.Action) (bool, runtime.Object, error) {
		switch a.GetVerb() {
		case "create":
			a.(clienttesting.CreateAction).GetObject().(*networkingv1.Ingress).ResourceVersion = strconv.FormatInt(rv.Add(1), 10)
		case "update":
			if a.GetSubresource() == "status" {
				select {
				case err := <-e.statusErrors:
					return true, nil, err
				default:
				}
			}
			ing := a.(clienttesting.UpdateAction).GetObject().(*networkingv1.Ingress)
			cur, err := e.signet.Tracker().Get(gvr, ing.Namespace, ing.Name)
			if err != nil {
				return true, nil, err
			}
			if cur.(*networkingv1.Ingress).ResourceVersion != ing.ResourceVersion {
				return true, nil, apierrors.NewConflict(gvr.GroupResource(), ing.Name, errors.New("the object has been modified"))
			}
			ing.ResourceVersion = strconv.FormatInt(rv.Add(1), 10)
		}
		return false, nil, nil
	})
	kf := kubeinformers.NewSharedInformerFactory(e.kube, 0)
	sf := signetinformers.NewSharedInformerFactory(e.signet, 0)
	c, err := New(ctx, e.signet, NewInformers(kf, sf, ""), e.dp, Options{
		PublishAddresses: publish,
		Debounce:         5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
	kf.Start(ctx.Done())
	sf.Start(ctx.Done())
	t.Cleanup(func() {
		cancel()
		kf.Shutdown()
		sf.Shutdown()
	})
	e.waitFor("informers to sync", func() error {
		if !c.HasSynced() {
			return errors.New("not synced")
		}
		return nil
	})
	return e
}

// run runs the rebuild loop and the status workers.
func (e *env) run() {
	go func() {
		if err := e.c.Run(e.ctx); err != nil {
			e.t.Error(err)
		}
	}()
	go e.c.RunStatus(e.ctx, 2)
}

func (e *env) waitFor(what string, cond func() error) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("waiting for %s: %v", what, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// routed returns "namespace/name host path" of every route of the last
// configuration, with its backend's endpoints.
func (e *env) routed() map[string][]netip.AddrPort {
	cfg := e.dp.last()
	if cfg == nil {
		return nil
	}
	out := map[string][]netip.AddrPort{}
	for _, r := range cfg.Routes.Routes() {
		var eps []netip.AddrPort
		if b := cfg.Backends[r]; b != nil && b.Service != nil {
			eps = b.Service.Endpoints
		}
		out[r.Ingress.String()+" "+r.Host+r.Path] = eps
	}
	return out
}

func (e *env) routedKeys() []string {
	var keys []string
	for k := range e.routed() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (e *env) get(ns, name string) *networkingv1.Ingress {
	e.t.Helper()
	ing, err := e.signet.NetworkingV1().Ingresses(ns).Get(e.ctx, name, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return ing
}

// statusWrites counts the successful and failed status updates of one
// Ingress so far.
func (e *env) statusWrites(ns, name string) int {
	n := 0
	for _, a := range e.signet.Actions() {
		if u, ok := a.(clienttesting.UpdateAction); ok && a.GetSubresource() == "status" && a.GetNamespace() == ns &&
			u.GetObject().(*networkingv1.Ingress).Name == name {
			n++
		}
	}
	return n
}

func condition(ing *networkingv1.Ingress, typ string) *metav1.Condition {
	return meta.FindStatusCondition(ing.Status.Conditions, typ)
}

// wantConditions waits until the Ingress has Accepted with reason
// accepted and Programmed True, both for its current generation.
func (e *env) wantConditions(ns, name, accepted string) *networkingv1.Ingress {
	e.t.Helper()
	var ing *networkingv1.Ingress
	e.waitFor(fmt.Sprintf("status of %s/%s", ns, name), func() error {
		ing = e.get(ns, name)
		a, p := condition(ing, networkingv1.IngressConditionAccepted), condition(ing, networkingv1.IngressConditionProgrammed)
		switch {
		case a == nil || p == nil:
			return fmt.Errorf("conditions %+v", ing.Status.Conditions)
		case a.Reason != accepted || a.ObservedGeneration != ing.Generation:
			return fmt.Errorf("accepted %+v, want reason %s for generation %d", a, accepted, ing.Generation)
		case p.Status != metav1.ConditionTrue || p.ObservedGeneration != ing.Generation:
			return fmt.Errorf("programmed %+v", p)
		}
		return nil
	})
	return ing
}

func TestClassFiltering(t *testing.T) {
	byField := ingress("ns/by-field", 0, rule("field.com", prefix("/", svcBackend("app", num(80)))))
	byAnnotation := ingress("ns/by-annotation", 1, rule("annotation.com", prefix("/", svcBackend("app", num(80)))))
	byAnnotation.Spec.IngressClassName = nil
	byAnnotation.Annotations = map[string]string{networkingv1.AnnotationIngressClass: "ours"}
	theirs := ingress("ns/theirs", 2, rule("theirs.com", prefix("/", svcBackend("app", num(80)))))
	theirs.Spec.IngressClassName = ptr.To("theirs")
	unknown := ingress("ns/unknown", 3, rule("unknown.com", prefix("/", svcBackend("app", num(80)))))
	unknown.Spec.IngressClassName = ptr.To("later")
	classless := ingress("ns/classless", 4, rule("classless.com", prefix("/", svcBackend("app", num(80)))))
	classless.Spec.IngressClassName = nil

	e := newEnv(t,
		class("ours", DefaultControllerName), class("theirs", "example.com/theirs"),
		byField, byAnnotation, theirs, unknown, classless,
		service("ns/app", "http:80:8080"),
		slice("ns/app-1", "app", v4, []string{"http:8080"}, readyEP("10.0.0.1")),
		slice("ns/app-2", "app", v6, []string{"http:8080"}, readyEP("fd00::1")),
	)
	e.run()

	want := []string{"ns/by-annotation annotation.com/", "ns/by-field field.com/"}
	e.waitFor("our two Ingresses routed", func() error {
		if got := e.routedKeys(); !slices.Equal(got, want) {
			return fmt.Errorf("routes %q, want %q", got, want)
		}
		return nil
	})
	if eps := e.routed()["ns/by-field field.com/"]; !slices.Equal(eps, addrPorts("10.0.0.1:8080", "[fd00::1]:8080")) {
		t.Errorf("endpoints %v", eps)
	}
	for _, name := range []string{"by-field", "by-annotation"} {
		ing := e.wantConditions("ns", name, ReasonAccepted)
		if !slices.EqualFunc(ing.Status.LoadBalancer.Ingress, publish, func(a, b networkingv1.IngressLoadBalancerIngress) bool {
			return a.IP == b.IP && a.Hostname == b.Hostname
		}) {
			t.Errorf("%s: addresses %+v, want %+v", name, ing.Status.LoadBalancer.Ingress, publish)
		}
	}

	// A class appears for the unknown Ingress: it becomes ours.
	if _, err := e.signet.NetworkingV1().IngressClasses().Create(e.ctx, class("later", DefaultControllerName), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	want = []string{"ns/by-annotation annotation.com/", "ns/by-field field.com/", "ns/unknown unknown.com/"}
	e.waitFor("the newly classed Ingress routed", func() error {
		if got := e.routedKeys(); !slices.Equal(got, want) {
			return fmt.Errorf("routes %q, want %q", got, want)
		}
		return nil
	})
	e.wantConditions("ns", "unknown", ReasonAccepted)

	// The legacy annotation moves to another class; the class of the
	// field-selected Ingress is deleted and comes back with another
	// controller (spec.controller is immutable).
	moved := e.get("ns", "by-annotation")
	moved.Annotations[networkingv1.AnnotationIngressClass] = "theirs"
	if _, err := e.signet.NetworkingV1().Ingresses("ns").Update(e.ctx, moved, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.signet.NetworkingV1().IngressClasses().Delete(e.ctx, "ours", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.signet.NetworkingV1().IngressClasses().Create(e.ctx, class("ours", "example.com/theirs"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	want = []string{"ns/unknown unknown.com/"}
	e.waitFor("Ingresses that left our classes unrouted", func() error {
		if got := e.routedKeys(); !slices.Equal(got, want) {
			return fmt.Errorf("routes %q, want %q", got, want)
		}
		return nil
	})

	// Other classes were never written to; those that left keep the
	// status we wrote while they were ours.
	for _, name := range []string{"theirs", "classless"} {
		if n := e.statusWrites("ns", name); n != 0 {
			t.Errorf("%d status writes to %s", n, name)
		}
		if st := e.get("ns", name).Status; len(st.Conditions) != 0 || len(st.LoadBalancer.Ingress) != 0 {
			t.Errorf("%s has status %+v", name, st)
		}
	}
	for _, name := range []string{"by-field", "by-annotation"} {
		if c := condition(e.get("ns", name), networkingv1.IngressConditionAccepted); c == nil || c.Status != metav1.ConditionTrue {
			t.Errorf("%s: Accepted %+v, want left as it was", name, c)
		}
	}
}

func TestEndpointsAndReferencesFollowChanges(t *testing.T) {
	ing := ingress("ns/web", 0, rule("foo.com",
		prefix("/", svcBackend("app", named("http"))),
		prefix("/static", networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{Kind: "ConfigMap", Name: "site"}})))
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"foo.com"}, SecretName: "cert"}}
	e := newEnv(t, class("ours", DefaultControllerName), ing)
	e.run()

	e.waitFor("problems reported", func() error {
		a := condition(e.get("ns", "web"), networkingv1.IngressConditionAccepted)
		if a == nil || a.Reason != ReasonBackendNotFound {
			return fmt.Errorf("accepted %+v", a)
		}
		return nil
	})
	if cfg := e.dp.last(); !slices.Equal(cfg.TLS.SelfSigned, []string{"foo.com"}) {
		t.Errorf("self-signed %v", cfg.TLS.SelfSigned)
	}
	a := condition(e.get("ns", "web"), networkingv1.IngressConditionAccepted)
	for _, want := range []string{`Service "app" not found`, `ConfigMap "site" not found`, `Secret "cert" of type kubernetes.io/tls not found`} {
		if !strings.Contains(a.Message, want) {
			t.Errorf("Accepted message %q lacks %q", a.Message, want)
		}
	}

	// The referenced objects appear.
	crt, key := newCert(t, "foo.com")
	objs := []runtime.Object{service("ns/app", "http:80:web"), tlsSecret("ns/cert", crt, key),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "site"}, Data: map[string]string{"a.txt": "A"}}}
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *corev1.Service:
			_, err = e.kube.CoreV1().Services("ns").Create(e.ctx, o, metav1.CreateOptions{})
		case *corev1.Secret:
			_, err = e.kube.CoreV1().Secrets("ns").Create(e.ctx, o, metav1.CreateOptions{})
		case *corev1.ConfigMap:
			_, err = e.kube.CoreV1().ConfigMaps("ns").Create(e.ctx, o, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.signet.DiscoveryV1().EndpointSlices("ns").Create(e.ctx,
		slice("ns/app-1", "app", v6, []string{"http:3000"}, readyEP("fd00::1"), notReadyEP("fd00::2")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("accepted", func() error {
		if a := condition(e.get("ns", "web"), networkingv1.IngressConditionAccepted); a == nil || a.Status != metav1.ConditionTrue {
			return fmt.Errorf("accepted %+v", a)
		}
		return nil
	})
	e.waitFor("endpoints, files and the certificate", func() error {
		cfg := e.dp.last()
		if eps := e.routed()["ns/web foo.com/"]; !slices.Equal(eps, addrPorts("[fd00::1]:3000")) {
			return fmt.Errorf("endpoints %v", eps)
		}
		for r, b := range cfg.Backends {
			if r.Path == "/static" && (b.Static == nil || string(b.Static.Files["a.txt"]) != "A") {
				return fmt.Errorf("static backend %+v", b)
			}
		}
		if cfg.TLS.Certificates["foo.com"] == nil || len(cfg.TLS.SelfSigned) != 0 {
			return fmt.Errorf("TLS %+v", cfg.TLS)
		}
		return nil
	})

	// The endpoint becomes ready: the configuration follows, and so does
	// the time of the change.
	s := slice("ns/app-1", "app", v6, []string{"http:3000"}, readyEP("fd00::1"), readyEP("fd00::2"))
	before := time.Now()
	if _, err := e.signet.DiscoveryV1().EndpointSlices("ns").Update(e.ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the second endpoint", func() error {
		if eps := e.routed()["ns/web foo.com/"]; !slices.Equal(eps, addrPorts("[fd00::1]:3000", "[fd00::2]:3000")) {
			return fmt.Errorf("endpoints %v", eps)
		}
		return nil
	})
	if cfg := e.dp.last(); cfg.Changed.Before(before) || cfg.Generation < 2 {
		t.Errorf("Changed %v (change made after %v), generation %d", cfg.Changed, before, cfg.Generation)
	}
}

// TestStatusWrittenOnlyOnChange drives rebuilds and status syncs by hand.
func TestStatusWrittenOnlyOnChange(t *testing.T) {
	e := newEnv(t, class("ours", DefaultControllerName),
		ingress("ns/web", 0, rule("foo.com", prefix("/", svcBackend("app", num(80))))),
		service("ns/app", "http:80:8080"),
		slice("ns/app-1", "app", v4, []string{"http:8080"}, readyEP("10.0.0.1")))
	key := types.NamespacedName{Namespace: "ns", Name: "web"}
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[types.NamespacedName]())
	t.Cleanup(q.ShutDown)
	sync := func() {
		t.Helper()
		if err := e.c.syncStatus(e.ctx, key, q); err != nil {
			t.Fatal(err)
		}
	}
	waitCached := func(rv string) {
		t.Helper()
		e.waitFor("the cache to hold resourceVersion "+rv, func() error {
			ing, err := e.c.ingresses.Ingresses("ns").Get("web")
			if err != nil || ing.ResourceVersion != rv {
				return fmt.Errorf("cached %v %v", ing.ResourceVersion, err)
			}
			return nil
		})
	}

	// Not serving yet: nothing is written.
	e.dp.ready.Store(false)
	e.c.rebuild()
	sync()
	if n := e.statusWrites("ns", "web"); n != 0 {
		t.Fatalf("%d writes while the proxy is not serving", n)
	}
	e.dp.ready.Store(true)
	sync()
	if n := e.statusWrites("ns", "web"); n != 1 {
		t.Fatalf("%d writes, want 1", n)
	}
	e.wantConditions("ns", "web", ReasonAccepted)
	// The cache has not seen the write (or has): no second write either way.
	sync()
	waitCached(e.get("ns", "web").ResourceVersion)
	sync()
	// A rebuild for an endpoint change changes nothing on status.
	if _, err := e.signet.DiscoveryV1().EndpointSlices("ns").Update(e.ctx,
		slice("ns/app-1", "app", v4, []string{"http:8080"}, readyEP("10.0.0.1"), readyEP("10.0.0.2")), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the new endpoint in the cache", func() error {
		if eps := e.c.state.EndpointSlices("ns", "app"); len(eps) != 1 || len(eps[0].Endpoints) != 2 {
			return errors.New("not yet")
		}
		return nil
	})
	e.c.rebuild()
	sync()
	if n := e.statusWrites("ns", "web"); n != 1 {
		t.Fatalf("%d writes after a rebuild that changes no status, want 1", n)
	}
	if eps := e.routed()["ns/web foo.com/"]; len(eps) != 2 {
		t.Errorf("endpoints %v", eps)
	}

	// A spec change: Accepted and Programmed follow the new generation.
	ing := e.get("ns", "web")
	ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port.Number = 81
	ing.Generation = 2 // the fake does not bump it
	ing, err := e.signet.NetworkingV1().Ingresses("ns").Update(e.ctx, ing, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitCached(ing.ResourceVersion)
	sync() // before the rebuild: Programmed is Pending for generation 2
	if n := e.statusWrites("ns", "web"); n != 2 {
		t.Fatalf("%d writes, want 2", n)
	}
	got := e.get("ns", "web")
	if p := condition(got, networkingv1.IngressConditionProgrammed); p.Reason != ReasonPending || p.ObservedGeneration != 2 {
		t.Errorf("Programmed %+v before the rebuild", p)
	}
	waitCached(got.ResourceVersion)
	e.c.rebuild()
	sync()
	got = e.wantConditions("ns", "web", ReasonBackendNotFound)
	if a := condition(got, networkingv1.IngressConditionAccepted); a.Message != "spec.rules[0].http.paths[0].backend.service.port.number: Service ns/app has no port 81 (its ports: 80/http)" {
		t.Errorf("Accepted message %q", a.Message)
	}

	// Someone else clears the status: it is written again.
	waitCached(got.ResourceVersion)
	got.Status = networkingv1.IngressStatus{}
	got, err = e.signet.NetworkingV1().Ingresses("ns").UpdateStatus(e.ctx, got, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitCached(got.ResourceVersion)
	before := e.statusWrites("ns", "web")
	sync()
	if n := e.statusWrites("ns", "web"); n != before+1 {
		t.Errorf("%d writes after the status was cleared, want %d", n, before+1)
	}
	e.wantConditions("ns", "web", ReasonBackendNotFound)
}

func TestStatusConflictIsRetried(t *testing.T) {
	e := newEnv(t, class("ours", DefaultControllerName),
		ingress("ns/web", 0, rule("foo.com", prefix("/", svcBackend("app", num(80))))),
		service("ns/app", "http:80:8080"))
	gr := schema.GroupResource{Group: "networking.signet.dev", Resource: "ingresses"}
	e.statusErrors <- apierrors.NewConflict(gr, "web", errors.New("the object has been modified"))
	e.statusErrors <- apierrors.NewConflict(gr, "web", errors.New("the object has been modified"))
	e.run()
	e.wantConditions("ns", "web", ReasonAccepted)
	if n := e.statusWrites("ns", "web"); n != 3 {
		t.Errorf("%d status updates, want 3 (two conflicts, then success)", n)
	}
}

func TestEventsTriggerOnlyForReferencedObjects(t *testing.T) {
	e := newEnv(t, class("ours", DefaultControllerName),
		ingress("ns/web", 0, rule("foo.com", prefix("/", svcBackend("app", num(80))))))
	e.c.rebuild()
	<-e.c.trigger // the informers' initial events
	drained := func() bool {
		select {
		case <-e.c.trigger:
			return false
		default:
			return true
		}
	}
	svc := func(name string) *corev1.Service { return service("ns/"+name, "http:80:80") }
	h := e.c.refHandler(func(r *References) sets.Set[types.NamespacedName] { return r.Services })
	h.OnAdd(svc("unrelated"), false)
	if !drained() {
		t.Error("an unreferenced Service triggered a rebuild")
	}
	h.OnAdd(svc("app"), false)
	if drained() {
		t.Error("the referenced Service did not trigger a rebuild")
	}
	e.c.sliceChanged(slice("ns/x-1", "unrelated", v4, nil))
	if !drained() {
		t.Error("a slice of an unreferenced Service triggered a rebuild")
	}
	e.c.sliceChanged(slice("ns/app-1", "app", v4, nil))
	if drained() {
		t.Error("a slice of the referenced Service did not trigger a rebuild")
	}
	theirs := ingress("ns/theirs", 0)
	theirs.Spec.IngressClassName = ptr.To("theirs")
	e.c.ingressAddedOrDeleted(theirs)
	if !drained() {
		t.Error("another class's Ingress triggered a rebuild")
	}
	e.c.ingressAddedOrDeleted(ingress("ns/new", 0))
	if drained() {
		t.Error("a new Ingress of ours did not trigger a rebuild")
	}
	// A status-only update of ours is not a rebuild.
	old := e.get("ns", "web")
	upd := old.DeepCopy()
	upd.Status.Conditions = []metav1.Condition{{Type: "X"}}
	e.c.ingressUpdated(old, upd)
	if !drained() {
		t.Error("a status change triggered a rebuild")
	}
	upd.Spec.Rules[0].Host = "bar.com"
	e.c.ingressUpdated(old, upd)
	if drained() {
		t.Error("a spec change did not trigger a rebuild")
	}
}
