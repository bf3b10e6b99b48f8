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

import "strings"

// maxHostLen bounds the host names Lookup lower-cases on the stack: the
// longest DNS name.
const maxHostLen = 253

// Lookup returns the route of a request for host (the Host header, or the
// :authority of HTTP/2, as sent) and path (normalised by NormalizePath).
//
// The host's port, one trailing dot and the case of ASCII letters are
// ignored; a bracketed IPv6 literal ("[::1]:8080") loses its brackets and
// port, and then matches only rules without host. Rules are consulted in
// tiers: those whose host is the request host, then those whose wildcard
// host matches it (exactly one label more), then those without host. In
// the first tier with a matching path, the path with the most elements
// wins; on a tie Exact beats Prefix beats ImplementationSpecific, and among
// ImplementationSpecific paths the longer pattern wins, then the older
// Ingress (then namespace and name, then spec order). When no tier has a
// matching path, the default backend is the route; without one, ok is
// false and the proxy answers 404.
//
// Lookup is safe for concurrent use and does not allocate (the regexp
// package reuses its matching state for ImplementationSpecific paths).
func (t *Table) Lookup(host, path string) (r *Route, ok bool) {
	if t == nil {
		return nil, false
	}
	name := hostName(host)
	var exact, wild *pathSet
	upper := hasUpper(name)
	if upper && len(name) <= maxHostLen {
		// Lower-case on the stack: a map index with string(b) does not
		// allocate.
		var buf [maxHostLen]byte
		b := buf[:len(name)]
		for i := 0; i < len(name); i++ {
			b[i] = lowerASCII(name[i])
		}
		exact = t.exact[string(b)]
		if i := strings.IndexByte(name, '.'); i > 0 {
			wild = t.wildcard[string(b[i+1:])]
		}
	} else {
		if upper {
			// Longer than any DNS name: rare enough to allocate.
			name = lowerHost(name)
		}
		exact = t.exact[name]
		if i := strings.IndexByte(name, '.'); i > 0 {
			wild = t.wildcard[name[i+1:]]
		}
	}
	for _, set := range [...]*pathSet{exact, wild, t.anyHost} {
		if e := set.match(path); e != nil {
			return e.route, true
		}
	}
	if t.defaultBackend != nil {
		return t.defaultBackend, true
	}
	return nil, false
}

// Match normalises target with NormalizePath and looks the request up. An
// error means the request must be refused with 400; otherwise the result is
// that of Lookup.
func (t *Table) Match(host, target string) (r *Route, ok bool, err error) {
	path, err := NormalizePath(target)
	if err != nil {
		return nil, false, err
	}
	r, ok = t.Lookup(host, path)
	return r, ok, nil
}

// hostName strips the port and one trailing dot from a Host header value:
// "foo.com:8080" is "foo.com", "[::1]:8080" and "[::1]" are "::1". A value
// with more than one colon outside brackets (an unbracketed IPv6 literal,
// which is not a valid Host) is kept whole.
func hostName(host string) string {
	if strings.HasPrefix(host, "[") {
		if end := strings.IndexByte(host, ']'); end > 0 {
			return host[1:end]
		}
	}
	if i := strings.IndexByte(host, ':'); i >= 0 && strings.IndexByte(host[i+1:], ':') < 0 {
		host = host[:i]
	}
	return strings.TrimSuffix(host, ".")
}

// lowerASCII lower-cases an ASCII letter. Host names compare
// case-insensitively in ASCII only (RFC 4343); other bytes are kept.
func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// match returns the best path of the set for a normalised request path, or
// nil. A nil set matches nothing.
func (s *pathSet) match(path string) *entry {
	if s == nil {
		return nil
	}
	best := s.exact[path]
	if e := s.longestPrefix(path); e != nil && (best == nil || e.elements > best.elements) {
		best = e
	}
	// Patterns are sorted by elements, most first; one can only win with
	// more elements than the best Exact or Prefix match, because on a tie
	// those beat ImplementationSpecific.
	floor := -1
	if best != nil {
		floor = best.elements
	}
	for _, e := range s.regex {
		if e.elements <= floor {
			break
		}
		if e.re.MatchString(path) {
			return e
		}
	}
	return best
}

// longestPrefix returns the Prefix path with the most elements that
// matches path, or nil. It tries path itself (without a trailing slash),
// then each shorter run of whole elements, then "/".
func (s *pathSet) longestPrefix(path string) *entry {
	if len(s.prefix) == 0 {
		return nil
	}
	for q := prefixKey(path); ; {
		if e := s.prefix[q]; e != nil {
			return e
		}
		i := strings.LastIndexByte(q, '/')
		if i <= 0 {
			break
		}
		q = q[:i]
	}
	return s.prefix["/"]
}
