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
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/types"

	networkingv1 "signet.dev/api/networking/v1"
)

// Kind says what a Route or a Conflict is about.
type Kind string

const (
	// KindPath is one path of one rule (spec.rules[i].http.paths[j]).
	KindPath Kind = "Path"
	// KindDefaultBackend is an Ingress's spec.defaultBackend.
	KindDefaultBackend Kind = "DefaultBackend"
)

// Route is what a request is routed by: one path of one Ingress rule, or
// one Ingress's default backend. Routes belong to their Table and must not
// be modified.
type Route struct {
	// Ingress is the namespace and name of the Ingress the route comes from.
	Ingress types.NamespacedName
	// Kind is KindPath or KindDefaultBackend.
	Kind Kind
	// Field is where the route is in the Ingress, for messages:
	// "spec.rules[0].http.paths[1]" or "spec.defaultBackend".
	Field string
	// Host is the rule's host in lower case: a name, a wildcard such as
	// "*.foo.com", or "" for a rule without host and for a default backend.
	Host string
	// Path is the rule's path as written (empty for a default backend).
	Path string
	// PathType is the path's type (empty for a default backend).
	PathType networkingv1.PathType
	// Backend is a copy of the backend the route sends requests to: a
	// Service port (with its health check, if any) or a resource. Resolving
	// it to endpoints is the proxy's job.
	Backend networkingv1.IngressBackend
}

// Conflict is a route that lost to another one. Two paths conflict when
// they have the same host (compared in lower case), the same path type and
// the same path (Exact: the same normalised path; Prefix: the same elements,
// so "/foo" and "/foo/" are one path; ImplementationSpecific: the same
// pattern text); two default backends always conflict. The oldest Ingress
// wins (creationTimestamp, then namespace, then name); within one Ingress
// the first in spec order wins. The controller reports each Conflict on the
// loser's status.
type Conflict struct {
	// Kind is KindPath or KindDefaultBackend.
	Kind Kind
	// Host, Path and PathType are the loser's, as in Route.
	Host     string
	Path     string
	PathType networkingv1.PathType
	// Loser is the Ingress whose route is not used, LoserField the route's
	// place in it.
	Loser      types.NamespacedName
	LoserField string
	// Winner is the Ingress whose route is used instead (it may be Loser
	// itself, when one Ingress defines a path twice), WinnerField the
	// route's place in it.
	Winner      types.NamespacedName
	WinnerField string
}

// Message describes the conflict to the owner of the losing Ingress.
func (c Conflict) Message() string {
	var what string
	if c.Kind == KindDefaultBackend {
		what = "the default backend"
	} else {
		host := c.Host
		if host == "" {
			host = "any host"
		}
		what = fmt.Sprintf("%s path %q for %s", c.PathType, c.Path, host)
	}
	if c.Winner == c.Loser {
		return fmt.Sprintf("%s at %s is ignored: %s of this Ingress defines it first",
			what, c.LoserField, c.WinnerField)
	}
	return fmt.Sprintf("%s at %s is ignored: Ingress %s defines it too (%s) and takes precedence as the older Ingress (then by namespace and name)",
		what, c.LoserField, c.Winner, c.WinnerField)
}

// Skipped is a path that Build left out because it cannot be matched. The
// API server's validation refuses all of these, so they only appear for
// objects that bypassed it.
type Skipped struct {
	Ingress types.NamespacedName
	Field   string
	Reason  string
}

// Table is an immutable route table. Build makes one; nothing changes it
// afterwards, so it may be shared by any number of goroutines and replaced
// as a whole (atomic.Pointer[Table]). The zero value and a nil *Table route
// nothing.
type Table struct {
	// exact holds the rules of each exact host, by lower-case host.
	exact map[string]*pathSet
	// wildcard holds the rules of each wildcard host, by the lower-case
	// host without its "*." ("*.foo.com" is under "foo.com").
	wildcard map[string]*pathSet
	// anyHost holds the rules without host; nil when there are none.
	anyHost *pathSet
	// defaultBackend is the winning default backend, or nil.
	defaultBackend *Route

	routes  []*Route
	skipped []Skipped
}

// pathSet holds the paths of one host (or of all rules without host).
type pathSet struct {
	// exact is keyed by the normalised path.
	exact map[string]*entry
	// prefix is keyed by prefixKey of the normalised path.
	prefix map[string]*entry
	// regex is in match order: most elements first, then the longest
	// pattern, then build order (older Ingress, then spec order).
	regex []*entry
	// regexByPattern finds conflicting patterns during Build.
	regexByPattern map[string]*entry
}

// entry is a Route with what matching needs.
type entry struct {
	route *Route
	// elements is the length of the path in elements (see elementCount).
	elements int
	// re is the compiled, anchored pattern of an ImplementationSpecific path.
	re *regexp.Regexp
	// seq is the build order, for ties.
	seq int
}

// Build makes the route table of a set of Ingresses, which the caller has
// already filtered to the classes it implements, and returns the conflicts
// it resolved. The result depends only on the Ingresses, not on their order
// in the slice; nil elements are ignored. Build does not keep or modify the
// Ingresses.
func Build(ingresses []*networkingv1.Ingress) (*Table, []Conflict) {
	sorted := make([]*networkingv1.Ingress, 0, len(ingresses))
	for _, ing := range ingresses {
		if ing != nil {
			sorted = append(sorted, ing)
		}
	}
	slices.SortFunc(sorted, compareAge)

	b := builder{t: &Table{
		exact:    map[string]*pathSet{},
		wildcard: map[string]*pathSet{},
	}}
	for _, ing := range sorted {
		b.addIngress(ing)
	}
	for _, set := range b.allSets() {
		slices.SortFunc(set.regex, compareRegex)
		set.regexByPattern = nil
	}
	return b.t, b.conflicts
}

// compareAge orders Ingresses oldest first, then by namespace and name, and
// finally by UID so that the order is total even for duplicates.
func compareAge(a, b *networkingv1.Ingress) int {
	if c := a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	return cmp.Or(
		strings.Compare(a.Namespace, b.Namespace),
		strings.Compare(a.Name, b.Name),
		strings.Compare(string(a.UID), string(b.UID)),
	)
}

// compareRegex orders ImplementationSpecific paths in match order.
func compareRegex(a, b *entry) int {
	return cmp.Or(
		cmp.Compare(b.elements, a.elements),
		cmp.Compare(len(b.route.Path), len(a.route.Path)),
		cmp.Compare(a.seq, b.seq),
	)
}

type builder struct {
	t         *Table
	conflicts []Conflict
	seq       int
}

func (b *builder) addIngress(ing *networkingv1.Ingress) {
	name := types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
	if db := ing.Spec.DefaultBackend; db != nil {
		r := &Route{
			Ingress: name,
			Kind:    KindDefaultBackend,
			Field:   "spec.defaultBackend",
			Backend: *db.DeepCopy(),
		}
		if w := b.t.defaultBackend; w != nil {
			b.conflicts = append(b.conflicts, Conflict{
				Kind:  KindDefaultBackend,
				Loser: name, LoserField: r.Field,
				Winner: w.Ingress, WinnerField: w.Field,
			})
		} else {
			b.t.defaultBackend = r
			b.t.routes = append(b.t.routes, r)
		}
	}
	for i := range ing.Spec.Rules {
		rule := &ing.Spec.Rules[i]
		if rule.HTTP == nil {
			continue
		}
		for j := range rule.HTTP.Paths {
			b.addPath(name, i, rule.Host, j, &rule.HTTP.Paths[j])
		}
	}
}

func (b *builder) addPath(name types.NamespacedName, i int, host string, j int, p *networkingv1.HTTPIngressPath) {
	field := fmt.Sprintf("spec.rules[%d].http.paths[%d]", i, j)
	skip := func(format string, args ...any) {
		b.t.skipped = append(b.t.skipped, Skipped{Ingress: name, Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	host = lowerHost(host)
	if rest, wild := strings.CutPrefix(host, "*."); strings.Contains(rest, "*") || (wild && rest == "") {
		skip("host %q: a wildcard is allowed only as the whole first label", host)
		return
	}
	if p.PathType == nil {
		skip("pathType is not set")
		return
	}
	e := &entry{
		route: &Route{
			Ingress:  name,
			Kind:     KindPath,
			Field:    field,
			Host:     host,
			Path:     p.Path,
			PathType: *p.PathType,
			Backend:  *p.Backend.DeepCopy(),
		},
		seq: b.seq,
	}
	var key string
	switch *p.PathType {
	case networkingv1.PathTypeExact, networkingv1.PathTypePrefix:
		path := p.Path
		if path == "" {
			path = "/"
		}
		norm, err := normalize(path)
		if err != nil {
			skip("path %q: %v", p.Path, err)
			return
		}
		e.elements = elementCount(norm)
		key = norm
		if *p.PathType == networkingv1.PathTypePrefix {
			key = prefixKey(norm)
		}
	case networkingv1.PathTypeImplementationSpecific:
		// The pattern must compile on its own before it is wrapped, or
		// "a)|(b" would compile as "^(?:a)|(b)", unanchored on the right.
		if _, err := regexp.Compile(p.Path); err != nil {
			skip("path %q is not an RE2 regular expression: %v", p.Path, err)
			return
		}
		re, err := regexp.Compile("^(?:" + p.Path + ")")
		if err != nil {
			skip("path %q cannot be anchored: %v", p.Path, err)
			return
		}
		e.re = re
		e.elements = patternElementCount(p.Path)
		key = p.Path
	default:
		skip("pathType %q is not one of Exact, Prefix or ImplementationSpecific", *p.PathType)
		return
	}
	set := b.set(host)
	index := set.regexByPattern
	switch *p.PathType {
	case networkingv1.PathTypeExact:
		index = set.exact
	case networkingv1.PathTypePrefix:
		index = set.prefix
	}
	if w := index[key]; w != nil {
		b.conflicts = append(b.conflicts, Conflict{
			Kind: KindPath, Host: host, Path: p.Path, PathType: *p.PathType,
			Loser: name, LoserField: field,
			Winner: w.route.Ingress, WinnerField: w.route.Field,
		})
		return
	}
	index[key] = e
	if e.re != nil {
		set.regex = append(set.regex, e)
	}
	b.seq++
	b.t.routes = append(b.t.routes, e.route)
}

// lowerHost lower-cases the ASCII letters of a rule host, the way Lookup
// lower-cases request hosts.
func lowerHost(host string) string {
	if !hasUpper(host) {
		return host
	}
	b := []byte(host)
	for i := range b {
		b[i] = lowerASCII(b[i])
	}
	return string(b)
}

// set returns the path set of a lower-case rule host, creating it.
func (b *builder) set(host string) *pathSet {
	newSet := func() *pathSet {
		return &pathSet{exact: map[string]*entry{}, prefix: map[string]*entry{}, regexByPattern: map[string]*entry{}}
	}
	var m map[string]*pathSet
	switch {
	case host == "":
		if b.t.anyHost == nil {
			b.t.anyHost = newSet()
		}
		return b.t.anyHost
	case strings.HasPrefix(host, "*."):
		m, host = b.t.wildcard, host[2:]
	default:
		m = b.t.exact
	}
	s := m[host]
	if s == nil {
		s = newSet()
		m[host] = s
	}
	return s
}

func (b *builder) allSets() []*pathSet {
	var sets []*pathSet
	for _, s := range b.t.exact {
		sets = append(sets, s)
	}
	for _, s := range b.t.wildcard {
		sets = append(sets, s)
	}
	if b.t.anyHost != nil {
		sets = append(sets, b.t.anyHost)
	}
	return sets
}

// Routes returns every route in use: the default backend, if any, and every
// path that was neither skipped nor lost a conflict, in a deterministic
// order (oldest Ingress first, then spec order).
func (t *Table) Routes() []*Route {
	if t == nil {
		return nil
	}
	return slices.Clone(t.routes)
}

// Skipped returns the paths Build left out as unusable.
func (t *Table) Skipped() []Skipped {
	if t == nil {
		return nil
	}
	return slices.Clone(t.skipped)
}
