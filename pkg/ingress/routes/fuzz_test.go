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
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	networkingv1 "signet.dev/api/networking/v1"
)

// FuzzLookup compares Build and Match with a reference model written
// plainly below: it scans every path of every Ingress for each request and
// shares no code with the package. The fuzzer's bytes describe a handful
// of Ingresses drawn from small pools of hosts, paths and patterns chosen
// so that they collide, overlap and conflict; host and target are a free
// request, checked with a few requests drawn from the pools. It also checks
// that Build gives the same result in another input order. The seed corpus
// is in testdata/fuzz/FuzzLookup.
func FuzzLookup(f *testing.F) {
	f.Fuzz(func(t *testing.T, spec []byte, host, target string) {
		r := &byteReader{data: spec}
		ings := genIngresses(r)
		ref := newReference(ings)

		table, conflicts := Build(ings)
		if diff := cmp.Diff(ref.conflicts, conflictStrings(conflicts)); diff != "" {
			t.Fatalf("conflicts differ from the reference (-ref +got):\n%s\ningresses:\n%s", diff, dump(ings))
		}

		requests := [][2]string{{host, target}}
		for range 6 {
			requests = append(requests, [2]string{pick(r, reqHosts), pick(r, reqTargets)})
		}
		reversed := slices.Clone(ings)
		slices.Reverse(reversed)
		other, otherConflicts := Build(reversed)
		if diff := cmp.Diff(conflicts, otherConflicts); diff != "" {
			t.Fatalf("conflicts depend on the input order (-given +reversed):\n%s", diff)
		}
		for _, req := range requests {
			want, wantErr := ref.lookup(req[0], req[1])
			got, gotErr := routeString(table.Match(req[0], req[1]))
			if (wantErr != nil) != (gotErr != nil) || want != got {
				t.Fatalf("Host %q, target %q: got %q, err %v; reference %q, err %v\ningresses:\n%s",
					req[0], req[1], got, gotErr, want, wantErr, dump(ings))
			}
			if wantErr != nil && !errors.Is(gotErr, wantErr) {
				t.Fatalf("Host %q, target %q: error %v, reference %v", req[0], req[1], gotErr, wantErr)
			}
			if again, _ := routeString(other.Match(req[0], req[1])); again != got {
				t.Fatalf("Host %q, target %q: %q from the reversed input, %q from the given", req[0], req[1], again, got)
			}
		}
	})
}

// Pools the generated Ingresses and requests draw from.
var (
	ruleHosts  = []string{"", "foo.com", "*.foo.com", "bar.foo.com", "*.bar.foo.com", "Foo.COM", "x", "a.*.com"}
	rulePaths  = []string{"", "/", "/a", "/a/", "/a/b", "/a/b/", "/ab", "/A", "/a b", "/a%20b", "/a/./b", "/a//b", "/a%2Fb", "/%zz", "a", "/a?"}
	patterns   = []string{"", "/", "/a", "/a.*", "/a/?", "/[ab]+", "/a|/b", "/a$", "(?i)/A", "/(", "/a/b", ".*", "/a)|(/b", "/a b", "/a/.+/c"}
	reqHosts   = []string{"foo.com", "FOO.com:80", "bar.foo.com", "x.bar.foo.com", "a.b.foo.com", "baz.foo.com.", "[::1]:80", "", "x", "X:1", "foo.com.", "a.x.com"}
	reqTargets = []string{"/", "", "/a", "/a/", "/a/b", "/a/b/c", "/ab", "/A", "/a%20b", "/a b", "/a/../b", "/../a", "/a%2fb", "/a?x=/b", "/b", "/a//b", "/%61", "/a/x/c", "/a%3F", "/a/b/..", "*"}
	pathTypes  = []networkingv1.PathType{networkingv1.PathTypeExact, networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific}
)

type byteReader struct {
	data []byte
	i    int
}

// next returns the next byte, or 0 once the data is used up.
func (r *byteReader) next() int {
	if r.i >= len(r.data) {
		return 0
	}
	r.i++
	return int(r.data[r.i-1])
}

func pick[T any](r *byteReader, pool []T) T { return pool[r.next()%len(pool)] }

// genIngresses decodes up to four Ingresses with up to three rules of up to
// three paths each. Every path and default backend has its own Service,
// named after its place, so the Service shows which one served.
func genIngresses(r *byteReader) []*networkingv1.Ingress {
	var ings []*networkingv1.Ingress
	for i := range r.next()%4 + 1 {
		ing := ingress(fmt.Sprintf("%s/i%d", pick(r, []string{"a", "b"}), i), r.next()%3)
		if r.next()%3 == 1 {
			withDefault(ing, "default")
		}
		for range r.next() % 4 {
			var paths []networkingv1.HTTPIngressPath
			host := pick(r, ruleHosts)
			for range r.next()%3 + 1 {
				switch n := r.next(); {
				case n%16 == 15:
					p := prefix(pick(r, rulePaths), "")
					p.PathType = nil
					paths = append(paths, p)
				case n%3 == 2:
					paths = append(paths, regex(pick(r, patterns), ""))
				default:
					paths = append(paths, path(pathTypes[n%3], pick(r, rulePaths), ""))
				}
			}
			ing.Spec.Rules = append(ing.Spec.Rules, rule(host, paths...))
		}
		ings = append(ings, ing)
	}
	return ings
}

// reference is the plain model of the matching contract.
type reference struct {
	// live are the paths in use, oldest Ingress first, then spec order.
	live []refPath
	// defaultRoute is the winning default backend, as routeString gives it.
	defaultRoute string
	// conflicts are the losers and their winners, as conflictStrings.
	conflicts []string
}

type refPath struct {
	id       string // "namespace/name field"
	host     string // lower case
	typ      networkingv1.PathType
	path     string // normalised, for Exact and Prefix
	pattern  *regexp.Regexp
	raw      string
	elements int
}

func newReference(given []*networkingv1.Ingress) *reference {
	ings := slices.Clone(given)
	sort.SliceStable(ings, func(i, j int) bool {
		a, b := ings[i], ings[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	ref := &reference{}
	seen := map[string]string{} // conflict key -> id of the winner
	for _, ing := range ings {
		name := ing.Namespace + "/" + ing.Name
		if ing.Spec.DefaultBackend != nil {
			id := name + " spec.defaultBackend"
			if ref.defaultRoute == "" {
				ref.defaultRoute = id
			} else {
				ref.conflicts = append(ref.conflicts, id+" lost to "+ref.defaultRoute)
			}
		}
		for i, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				continue
			}
			host := refLower(rule.Host)
			if strings.Contains(strings.TrimPrefix(host, "*."), "*") || host == "*." {
				continue
			}
			for j, p := range rule.HTTP.Paths {
				if p.PathType == nil {
					continue
				}
				rp := refPath{
					id:   fmt.Sprintf("%s spec.rules[%d].http.paths[%d]", name, i, j),
					host: host, typ: *p.PathType, raw: p.Path,
				}
				var key string
				switch rp.typ {
				case networkingv1.PathTypeImplementationSpecific:
					if _, err := regexp.Compile(p.Path); err != nil {
						continue
					}
					rp.pattern = regexp.MustCompile("^(?:" + p.Path + ")")
					if i := strings.Index(p.Path, "/"); i >= 0 {
						rp.elements = len(refElements(p.Path[i:]))
					}
					key = p.Path
				default:
					raw := p.Path
					if raw == "" {
						raw = "/"
					}
					norm, err := refNormalize(raw)
					if err != nil {
						continue
					}
					rp.path = norm
					rp.elements = len(refElements(norm))
					key = norm
					if rp.typ == networkingv1.PathTypePrefix {
						key = strings.Join(refElements(norm), "/")
					}
				}
				key = fmt.Sprintf("%s %s %q", host, rp.typ, key)
				if winner, ok := seen[key]; ok {
					ref.conflicts = append(ref.conflicts, rp.id+" lost to "+winner)
					continue
				}
				seen[key] = rp.id
				ref.live = append(ref.live, rp)
			}
		}
	}
	return ref
}

// lookup returns the id of the route that serves a request, "" for none.
func (ref *reference) lookup(hostHeader, target string) (string, error) {
	p, err := refNormalize(strings.SplitN(target, "?", 2)[0])
	if err != nil {
		return "", err
	}
	host := refLower(refStripPort(hostHeader))
	var best *refPath
	for i := range ref.live {
		c := &ref.live[i]
		if refHostTier(host, c.host) < 0 || !refPathMatches(c, p) {
			continue
		}
		if best == nil || refBetter(host, c, best) {
			best = c
		}
	}
	if best != nil {
		return best.id, nil
	}
	return ref.defaultRoute, nil
}

// refBetter reports whether a beats b (which comes earlier in ref.live).
func refBetter(host string, a, b *refPath) bool {
	if ta, tb := refHostTier(host, a.host), refHostTier(host, b.host); ta != tb {
		return ta < tb
	}
	if a.elements != b.elements {
		return a.elements > b.elements
	}
	rank := map[networkingv1.PathType]int{"Exact": 0, "Prefix": 1, "ImplementationSpecific": 2}
	if rank[a.typ] != rank[b.typ] {
		return rank[a.typ] < rank[b.typ]
	}
	return len(a.raw) > len(b.raw)
}

// refHostTier is 0 when the rule host is the request host, 1 when it is a
// wildcard matching one more label, 2 when the rule has no host, and -1
// when the rule does not apply.
func refHostTier(reqHost, ruleHost string) int {
	switch {
	case ruleHost == "":
		return 2
	case ruleHost == reqHost:
		return 0
	case strings.HasPrefix(ruleHost, "*."):
		label, ok := strings.CutSuffix(reqHost, ruleHost[1:])
		if ok && label != "" && !strings.Contains(label, ".") {
			return 1
		}
	}
	return -1
}

func refPathMatches(c *refPath, p string) bool {
	switch c.typ {
	case networkingv1.PathTypeExact:
		return p == c.path
	case networkingv1.PathTypePrefix:
		rule, req := refElements(c.path), refElements(p)
		if len(rule) > len(req) {
			return false
		}
		for i := range rule {
			if rule[i] != req[i] {
				return false
			}
		}
		return true
	default:
		return c.pattern.MatchString(p)
	}
}

// refElements splits a path into elements, ignoring one leading and one
// trailing slash.
func refElements(p string) []string {
	p = strings.TrimSuffix(strings.TrimPrefix(p, "/"), "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// refNormalize decodes a path and removes its dot-segments, refusing what
// NormalizePath refuses (with the same errors).
func refNormalize(p string) (string, error) {
	if p == "" {
		return "/", nil
	}
	if p[0] != '/' {
		return "", ErrNotAbsolute
	}
	if strings.Contains(strings.ToLower(p), "%2f") {
		return "", ErrEncodedSlash
	}
	decoded, err := url.PathUnescape(p)
	if err != nil {
		return "", ErrBadEscape
	}
	segs := strings.Split(decoded[1:], "/")
	var out []string
	for i, seg := range segs {
		last := i == len(segs)-1
		switch seg {
		case ".":
		case "..":
			if len(out) == 0 {
				return "", ErrEscapesRoot
			}
			out = out[:len(out)-1]
		default:
			out = append(out, seg)
			continue
		}
		if last {
			out = append(out, "")
		}
	}
	return "/" + strings.Join(out, "/"), nil
}

func refStripPort(h string) string {
	if strings.HasPrefix(h, "[") && strings.Contains(h, "]") {
		return h[1:strings.Index(h, "]")]
	}
	if strings.Count(h, ":") == 1 {
		h = h[:strings.Index(h, ":")]
	}
	return strings.TrimSuffix(h, ".")
}

func refLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

func routeString(r *Route, ok bool, err error) (string, error) {
	if err != nil || !ok {
		return "", err
	}
	return r.Ingress.String() + " " + r.Field, nil
}

func conflictStrings(cs []Conflict) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s %s lost to %s %s", c.Loser, c.LoserField, c.Winner, c.WinnerField))
	}
	return out
}

func dump(ings []*networkingv1.Ingress) string {
	var b strings.Builder
	for _, ing := range ings {
		fmt.Fprintf(&b, "  %s/%s created %s", ing.Namespace, ing.Name, ing.CreationTimestamp.UTC().Format("15:04:05"))
		if ing.Spec.DefaultBackend != nil {
			b.WriteString(" with default backend")
		}
		b.WriteString("\n")
		for i, rule := range ing.Spec.Rules {
			fmt.Fprintf(&b, "    rules[%d] host %q:", i, rule.Host)
			for _, p := range rule.HTTP.Paths {
				typ := "<nil>"
				if p.PathType != nil {
					typ = string(*p.PathType)
				}
				fmt.Fprintf(&b, " %s %q;", typ, p.Path)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}
