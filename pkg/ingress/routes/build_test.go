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

package routes

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	networkingv1 "signet.dev/api/networking/v1"
)

func nn(nsName string) types.NamespacedName {
	ns, name, _ := strings.Cut(nsName, "/")
	return types.NamespacedName{Namespace: ns, Name: name}
}

func TestConflicts(t *testing.T) {
	tests := []struct {
		name      string
		ingresses []*networkingv1.Ingress
		// want maps "host target" to the expected Service.
		want      map[string]string
		conflicts []Conflict
	}{{
		name: "the older Ingress wins the same host, path and type",
		ingresses: []*networkingv1.Ingress{
			ingress("team-b/new", 20, rule("foo.com", prefix("/api", "new-api"), prefix("/web", "new-web"))),
			ingress("team-a/old", 10, rule("foo.com", prefix("/api", "old-api"))),
		},
		want: map[string]string{"foo.com /api/x": "old-api", "foo.com /web": "new-web"},
		conflicts: []Conflict{{
			Kind: KindPath, Host: "foo.com", Path: "/api", PathType: networkingv1.PathTypePrefix,
			Loser: nn("team-b/new"), LoserField: "spec.rules[0].http.paths[0]",
			Winner: nn("team-a/old"), WinnerField: "spec.rules[0].http.paths[0]",
		}},
	}, {
		name: "at the same creation time the namespace decides, then the name",
		ingresses: []*networkingv1.Ingress{
			ingress("b/a", 5, rule("foo.com", exact("/x", "b-a"))),
			ingress("a/z", 5, rule("foo.com", exact("/x", "a-z"))),
			ingress("a/y", 5, rule("foo.com", exact("/x", "a-y"))),
		},
		want: map[string]string{"foo.com /x": "a-y"},
		conflicts: []Conflict{{
			Kind: KindPath, Host: "foo.com", Path: "/x", PathType: networkingv1.PathTypeExact,
			Loser: nn("a/z"), LoserField: "spec.rules[0].http.paths[0]",
			Winner: nn("a/y"), WinnerField: "spec.rules[0].http.paths[0]",
		}, {
			Kind: KindPath, Host: "foo.com", Path: "/x", PathType: networkingv1.PathTypeExact,
			Loser: nn("b/a"), LoserField: "spec.rules[0].http.paths[0]",
			Winner: nn("a/y"), WinnerField: "spec.rules[0].http.paths[0]",
		}},
	}, {
		name: "different path types do not conflict",
		ingresses: []*networkingv1.Ingress{
			ingress("one", 1, rule("foo.com", prefix("/x", "prefix"))),
			ingress("two", 2, rule("foo.com", exact("/x", "exact"), regex("/x", "regex"))),
		},
		want: map[string]string{"foo.com /x": "exact", "foo.com /x/y": "prefix", "foo.com /xy": "regex"},
	}, {
		name: "different hosts do not conflict, nor do a wildcard and a name",
		ingresses: []*networkingv1.Ingress{
			ingress("one", 1, rule("a.foo.com", prefix("/", "a")), rule("", prefix("/", "any"))),
			ingress("two", 2, rule("*.foo.com", prefix("/", "wildcard")), rule("b.foo.com", prefix("/", "b"))),
		},
		want: map[string]string{"a.foo.com /": "a", "b.foo.com /": "b", "c.foo.com /": "wildcard", "foo.com /": "any"},
	}, {
		name: "Prefix paths with and without a trailing slash are the same path",
		ingresses: []*networkingv1.Ingress{
			ingress("new", 2, rule("foo.com", prefix("/app/", "new"))),
			ingress("old", 1, rule("foo.com", prefix("/app", "old"))),
		},
		want: map[string]string{"foo.com /app/": "old", "foo.com /app": "old"},
		conflicts: []Conflict{{
			Kind: KindPath, Host: "foo.com", Path: "/app/", PathType: networkingv1.PathTypePrefix,
			Loser: nn("default/new"), LoserField: "spec.rules[0].http.paths[0]",
			Winner: nn("default/old"), WinnerField: "spec.rules[0].http.paths[0]",
		}},
	}, {
		name: "Exact paths with and without a trailing slash are different paths",
		ingresses: []*networkingv1.Ingress{
			ingress("new", 2, rule("foo.com", exact("/app/", "new"))),
			ingress("old", 1, rule("foo.com", exact("/app", "old"))),
		},
		want: map[string]string{"foo.com /app/": "new", "foo.com /app": "old"},
	}, {
		name: "Exact paths are compared decoded",
		ingresses: []*networkingv1.Ingress{
			ingress("new", 2, rule("foo.com", exact("/a%20b", "new"))),
			ingress("old", 1, rule("foo.com", exact("/a b", "old"))),
		},
		want: map[string]string{"foo.com /a%20b": "old"},
		conflicts: []Conflict{{
			Kind: KindPath, Host: "foo.com", Path: "/a%20b", PathType: networkingv1.PathTypeExact,
			Loser: nn("default/new"), LoserField: "spec.rules[0].http.paths[0]",
			Winner: nn("default/old"), WinnerField: "spec.rules[0].http.paths[0]",
		}},
	}, {
		name: "patterns conflict only when written alike",
		ingresses: []*networkingv1.Ingress{
			ingress("new", 2, rule("", regex("/a+", "new-a+"), regex("/aa*", "new-aa*"))),
			ingress("old", 1, rule("", regex("/a+", "old-a+"))),
		},
		// "/aa*" is longer than "/a+", so it wins every path both match.
		want: map[string]string{"x /aaa": "new-aa*"},
		conflicts: []Conflict{{
			Kind: KindPath, Host: "", Path: "/a+", PathType: networkingv1.PathTypeImplementationSpecific,
			Loser: nn("default/new"), LoserField: "spec.rules[0].http.paths[0]",
			Winner: nn("default/old"), WinnerField: "spec.rules[0].http.paths[0]",
		}},
	}, {
		name: "host case does not matter",
		ingresses: []*networkingv1.Ingress{
			ingress("new", 2, rule("FOO.com", prefix("/", "new"))),
			ingress("old", 1, rule("foo.COM", prefix("/", "old"))),
		},
		want: map[string]string{"foo.com /": "old"},
		conflicts: []Conflict{{
			Kind: KindPath, Host: "foo.com", Path: "/", PathType: networkingv1.PathTypePrefix,
			Loser: nn("default/new"), LoserField: "spec.rules[0].http.paths[0]",
			Winner: nn("default/old"), WinnerField: "spec.rules[0].http.paths[0]",
		}},
	}, {
		name: "one Ingress defining a path twice keeps the first",
		ingresses: []*networkingv1.Ingress{
			ingress("twice", 1, rule("foo.com", exact("/x", "first")), rule("foo.com", exact("/y", "y"), exact("/x", "second"))),
		},
		want: map[string]string{"foo.com /x": "first", "foo.com /y": "y"},
		conflicts: []Conflict{{
			Kind: KindPath, Host: "foo.com", Path: "/x", PathType: networkingv1.PathTypeExact,
			Loser: nn("default/twice"), LoserField: "spec.rules[1].http.paths[1]",
			Winner: nn("default/twice"), WinnerField: "spec.rules[0].http.paths[0]",
		}},
	}, {
		name: "the oldest default backend wins",
		ingresses: []*networkingv1.Ingress{
			withDefault(ingress("ns/c", 3), "c"),
			withDefault(ingress("ns/a", 1, rule("foo.com", prefix("/", "a-foo"))), "a"),
			withDefault(ingress("ns/b", 2), "b"),
		},
		want: map[string]string{"bar.com /": "a", "foo.com /": "a-foo"},
		conflicts: []Conflict{{
			Kind:  KindDefaultBackend,
			Loser: nn("ns/b"), LoserField: "spec.defaultBackend",
			Winner: nn("ns/a"), WinnerField: "spec.defaultBackend",
		}, {
			Kind:  KindDefaultBackend,
			Loser: nn("ns/c"), LoserField: "spec.defaultBackend",
			Winner: nn("ns/a"), WinnerField: "spec.defaultBackend",
		}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table, conflicts := Build(tc.ingresses)
			if diff := cmp.Diff(tc.conflicts, conflicts); diff != "" {
				t.Errorf("conflicts (-want +got):\n%s", diff)
			}
			for req, want := range tc.want {
				host, target, _ := strings.Cut(req, " ")
				if got := served(t, table, host, target); got != want {
					t.Errorf("GET http://%s%s: served by %s, want %s", host, target, got, want)
				}
			}
		})
	}
}

func TestConflictMessage(t *testing.T) {
	tests := []struct {
		c    Conflict
		want string
	}{{
		c: Conflict{
			Kind: KindPath, Host: "foo.com", Path: "/api", PathType: networkingv1.PathTypePrefix,
			Loser: nn("b/new"), LoserField: "spec.rules[0].http.paths[1]",
			Winner: nn("a/old"), WinnerField: "spec.rules[2].http.paths[0]",
		},
		want: `Prefix path "/api" for foo.com at spec.rules[0].http.paths[1] is ignored: Ingress a/old defines it too (spec.rules[2].http.paths[0]) and takes precedence as the older Ingress (then by namespace and name)`,
	}, {
		c: Conflict{
			Kind: KindPath, Path: "/x", PathType: networkingv1.PathTypeExact,
			Loser: nn("a/one"), LoserField: "spec.rules[1].http.paths[0]",
			Winner: nn("a/one"), WinnerField: "spec.rules[0].http.paths[0]",
		},
		want: `Exact path "/x" for any host at spec.rules[1].http.paths[0] is ignored: spec.rules[0].http.paths[0] of this Ingress defines it first`,
	}, {
		c: Conflict{
			Kind:  KindDefaultBackend,
			Loser: nn("b/new"), LoserField: "spec.defaultBackend",
			Winner: nn("a/old"), WinnerField: "spec.defaultBackend",
		},
		want: `the default backend at spec.defaultBackend is ignored: Ingress a/old defines it too (spec.defaultBackend) and takes precedence as the older Ingress (then by namespace and name)`,
	}}
	for _, tc := range tests {
		if got := tc.c.Message(); got != tc.want {
			t.Errorf("Message() =\n  %s\nwant\n  %s", got, tc.want)
		}
	}
}

func TestSkipped(t *testing.T) {
	noType := prefix("/no-type", "x")
	noType.PathType = nil
	unknown := path("Glob", "/*", "x")
	ing := ingress("bad", 0,
		rule("foo.com",
			noType,
			unknown,
			exact("relative", "x"),
			prefix("/a%2Fb", "x"),
			exact("/%zz", "x"),
			prefix("/%2e%2e/x", "x"),
			regex("/(", "x"),
			regex("/a)|(/b", "x"),
			exact("/ok", "ok"),
		),
		rule("a.*.com", prefix("/", "x")),
		rule("*.", prefix("/", "x")),
	)
	table, conflicts := Build([]*networkingv1.Ingress{ing})
	if len(conflicts) > 0 {
		t.Errorf("unexpected conflicts %+v", conflicts)
	}
	var fields []string
	for _, s := range table.Skipped() {
		if s.Ingress != nn("default/bad") || s.Reason == "" {
			t.Errorf("skipped path %+v: want Ingress default/bad and a reason", s)
		}
		fields = append(fields, s.Field)
	}
	want := []string{
		"spec.rules[0].http.paths[0]", "spec.rules[0].http.paths[1]", "spec.rules[0].http.paths[2]",
		"spec.rules[0].http.paths[3]", "spec.rules[0].http.paths[4]", "spec.rules[0].http.paths[5]",
		"spec.rules[0].http.paths[6]", "spec.rules[0].http.paths[7]",
		"spec.rules[1].http.paths[0]", "spec.rules[2].http.paths[0]",
	}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("skipped fields (-want +got):\n%s", diff)
	}
	// The broken alternation must not be half-anchored and match "/x/b".
	for target, want := range map[string]string{"/ok": "ok", "/x/b": none, "/a": none, "/no-type": none} {
		if got := served(t, table, "foo.com", target); got != want {
			t.Errorf("GET %s: served by %s, want %s", target, got, want)
		}
	}
	if got := len(table.Routes()); got != 1 {
		t.Errorf("%d routes, want only /ok", got)
	}
}

// TestBuildDeterministic builds the same Ingresses in many orders and
// checks that routes, conflicts, skipped paths and lookups never change.
func TestBuildDeterministic(t *testing.T) {
	ings := []*networkingv1.Ingress{
		withDefault(ingress("a/one", 1, rule("foo.com", prefix("/", "a1-root"), exact("/x", "a1-x"), regex("/r.*", "a1-r"))), "a1-default"),
		withDefault(ingress("b/one", 1, rule("foo.com", prefix("/", "b1-root"), regex("/r[a-z]b", "b1-r"))), "b1-default"),
		ingress("a/two", 1, rule("*.foo.com", prefix("/", "a2-wild")), rule("foo.com", exact("/x", "a2-x"), regex("/r.+", "a2-r"))),
		withDefault(ingress("c/zero", 0, rule("", prefix("/any", "c0-any"))), "c0-default"),
		ingress("c/three", 3, rule("", prefix("/any/", "c3-any"), prefix("/more", "c3-more")), rule("FOO.com", regex("/r.*", "c3-r"))),
	}
	requests := []string{"foo.com /", "foo.com /x", "foo.com /rab", "foo.com /r", "bar.foo.com /x", "other /any/x", "other /more", "other /"}

	type result struct {
		Routes    []Route
		Conflicts []Conflict
		Skipped   []Skipped
		Served    []string
	}
	run := func(order []*networkingv1.Ingress) result {
		table, conflicts := Build(order)
		res := result{Conflicts: conflicts, Skipped: table.Skipped()}
		for _, r := range table.Routes() {
			res.Routes = append(res.Routes, *r)
		}
		for _, req := range requests {
			host, target, _ := strings.Cut(req, " ")
			res.Served = append(res.Served, served(t, table, host, target))
		}
		return res
	}
	want := run(ings)
	if got := fmt.Sprint(want.Served); got != "[a1-root a1-x b1-r a1-r a2-wild c0-any c3-more c0-default]" {
		t.Errorf("served %s", got)
	}
	if len(want.Conflicts) != 6 {
		t.Errorf("%d conflicts, want 6: %+v", len(want.Conflicts), want.Conflicts)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		order := append([]*networkingv1.Ingress(nil), ings...)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		if diff := cmp.Diff(want, run(order)); diff != "" {
			t.Fatalf("permutation %d gives a different table (-first +this):\n%s", i, diff)
		}
	}
}

// TestTableIsACopy checks that changing an Ingress after Build does not
// change the table built from it.
func TestTableIsACopy(t *testing.T) {
	ing := withDefault(ingress("copy", 0, rule("foo.com", exact("/x", "x"))), "default")
	table := build(t, ing)
	ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = "changed"
	ing.Spec.Rules[0].HTTP.Paths[0].PathType = ptr.To(networkingv1.PathTypePrefix)
	ing.Spec.Rules[0].Host = "bar.com"
	ing.Spec.DefaultBackend.Service.Name = "changed"
	if got := served(t, table, "foo.com", "/x"); got != "x" {
		t.Errorf("/x served by %s after the Ingress changed, want x", got)
	}
	if got := served(t, table, "foo.com", "/y"); got != "default" {
		t.Errorf("/y served by %s after the Ingress changed, want default", got)
	}
}

// TestConcurrentSwap looks tables up from many goroutines while another
// publishes new ones, the way the proxy uses them; run with -race.
func TestConcurrentSwap(t *testing.T) {
	var current atomic.Pointer[Table]
	current.Store(build(t, ingress("v", 0, rule("foo.com", prefix("/", "v0")))))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, ok := current.Load().Lookup("FOO.com:80", "/a/b")
				if !ok || !strings.HasPrefix(r.Backend.Service.Name, "v") {
					t.Errorf("Lookup = %v, %v", r, ok)
					return
				}
			}
		})
	}
	for i := range 200 {
		table, _ := Build([]*networkingv1.Ingress{ingress("v", 0, rule("foo.com", prefix("/", fmt.Sprintf("v%d", i)), regex("/a/.*", "va")))})
		current.Store(table)
	}
	close(stop)
	wg.Wait()
}
