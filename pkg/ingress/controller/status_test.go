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
	"slices"
	"strings"
	"testing"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	networkingv1 "signet.dev/api/networking/v1"
)

func TestParsePublishAddresses(t *testing.T) {
	got, err := ParsePublishAddresses([]string{"192.0.2.10", " 2001:DB8::1 ", "::ffff:192.0.2.11", "LB.Example.com.", "", "192.0.2.10"})
	if err != nil {
		t.Fatal(err)
	}
	want := []networkingv1.IngressLoadBalancerIngress{
		{IP: "192.0.2.10"}, {IP: "2001:db8::1"}, {IP: "192.0.2.11"}, {Hostname: "lb.example.com"},
	}
	if !slices.EqualFunc(got, want, func(a, b networkingv1.IngressLoadBalancerIngress) bool {
		return a.IP == b.IP && a.Hostname == b.Hostname
	}) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, bad := range []string{"fe80::1%eth0", "[::1]", "under_score.com", "10.0.0.1:80", "-x.com"} {
		if _, err := ParsePublishAddresses([]string{bad}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestDesiredStatus(t *testing.T) {
	addrs := []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.10"}, {IP: "2001:db8::1"}}
	ing := ingress("ns/web", 0)
	ing.Generation = 4
	past := metav1.NewTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	other := metav1.Condition{Type: "example.com/Other", Status: metav1.ConditionTrue, Reason: "Fine", LastTransitionTime: past}
	ing.Status.Conditions = []metav1.Condition{other}
	ok := &IngressResult{UID: ing.UID, Generation: 4, Routes: 3}

	st := DesiredStatus(ing, StatusInput{Result: ok, Live: true, Addresses: addrs, ControllerName: DefaultControllerName})
	if !apiequality.Semantic.DeepEqual(st.LoadBalancer.Ingress, addrs) {
		t.Errorf("addresses %+v", st.LoadBalancer.Ingress)
	}
	if c := meta.FindStatusCondition(st.Conditions, "example.com/Other"); c == nil || *c != other {
		t.Errorf("another controller's condition changed: %+v", c)
	}
	acc := meta.FindStatusCondition(st.Conditions, networkingv1.IngressConditionAccepted)
	if acc == nil || acc.Status != metav1.ConditionTrue || acc.Reason != ReasonAccepted || acc.ObservedGeneration != 4 ||
		acc.Message != "The Ingress is implemented by signet.dev/ingress." || acc.LastTransitionTime.IsZero() {
		t.Errorf("Accepted %+v", acc)
	}
	prog := meta.FindStatusCondition(st.Conditions, networkingv1.IngressConditionProgrammed)
	if prog == nil || prog.Status != metav1.ConditionTrue || prog.Reason != ReasonProgrammed || prog.ObservedGeneration != 4 ||
		prog.Message != "3 routes of generation 4 are live in the proxy." {
		t.Errorf("Programmed %+v", prog)
	}

	// Written and read back: nothing to write again, even though
	// the transition times differ from now.
	ing.Status = st
	for i := range ing.Status.Conditions {
		if ing.Status.Conditions[i].Type != other.Type {
			ing.Status.Conditions[i].LastTransitionTime = past
		}
	}
	again := DesiredStatus(ing, StatusInput{Result: ok, Live: true, Addresses: addrs, ControllerName: DefaultControllerName})
	if !StatusEqual(ing.Status, again) {
		t.Errorf("unchanged status differs:\n%+v\n%+v", ing.Status, again)
	}
	// Other addresses: a change.
	if StatusEqual(ing.Status, DesiredStatus(ing, StatusInput{Result: ok, Live: true, Addresses: addrs[:1], ControllerName: DefaultControllerName})) {
		t.Error("a changed address list compares equal")
	}

	// Problems: False, the most important reason, every message, a new
	// transition time; Programmed keeps its time.
	bad := &IngressResult{UID: ing.UID, Generation: 4, Routes: 1, Problems: []Problem{
		{ReasonSecretNotFound, "spec.tls[0].secretName: gone"},
		{ReasonConflict, "Prefix path \"/a\" ... is ignored"},
		{ReasonBackendNotFound, "spec.defaultBackend.service.name: missing"},
	}}
	st = DesiredStatus(ing, StatusInput{Result: bad, Live: true, Addresses: addrs, ControllerName: DefaultControllerName})
	acc = meta.FindStatusCondition(st.Conditions, networkingv1.IngressConditionAccepted)
	wantMsg := `3 problems: (1) SecretNotFound: spec.tls[0].secretName: gone; (2) Conflict: Prefix path "/a" ... is ignored; (3) BackendNotFound: spec.defaultBackend.service.name: missing`
	if acc.Status != metav1.ConditionFalse || acc.Reason != ReasonBackendNotFound || acc.Message != wantMsg || acc.LastTransitionTime == past {
		t.Errorf("Accepted %+v", acc)
	}
	prog = meta.FindStatusCondition(st.Conditions, networkingv1.IngressConditionProgrammed)
	if prog.Status != metav1.ConditionTrue || prog.LastTransitionTime != past || prog.Message != "1 route of generation 4 is live in the proxy." {
		t.Errorf("Programmed %+v", prog)
	}

	// A newer generation than the one translated: Accepted still speaks of
	// the old one, Programmed is Pending for the new one.
	ing.Generation = 5
	st = DesiredStatus(ing, StatusInput{Result: ok, Live: true, ControllerName: DefaultControllerName})
	acc = meta.FindStatusCondition(st.Conditions, networkingv1.IngressConditionAccepted)
	prog = meta.FindStatusCondition(st.Conditions, networkingv1.IngressConditionProgrammed)
	if acc.ObservedGeneration != 4 || prog.Status != metav1.ConditionFalse || prog.Reason != ReasonPending || prog.ObservedGeneration != 5 {
		t.Errorf("Accepted %+v Programmed %+v", acc, prog)
	}
	if st.LoadBalancer.Ingress != nil {
		t.Errorf("no publish addresses, got %+v", st.LoadBalancer.Ingress)
	}
	// Not live: Pending.
	ing.Generation = 4
	st = DesiredStatus(ing, StatusInput{Result: ok, Live: false, ControllerName: DefaultControllerName})
	if prog := meta.FindStatusCondition(st.Conditions, networkingv1.IngressConditionProgrammed); prog.Reason != ReasonPending {
		t.Errorf("Programmed %+v while not live", prog)
	}
}

func TestProblemsMessageIsBounded(t *testing.T) {
	var problems []Problem
	for range 2000 {
		problems = append(problems, Problem{ReasonConflict, strings.Repeat("x", 100)})
	}
	msg := problemsMessage(problems)
	if len(msg) > maxMessageLength || !strings.HasSuffix(msg, " more") || !strings.HasPrefix(msg, "2000 problems: ") {
		t.Errorf("message of %d bytes ending %q", len(msg), msg[len(msg)-20:])
	}
}
