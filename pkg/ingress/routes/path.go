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
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Reasons a request path is refused. NormalizePath wraps them in a
// *PathError; test with errors.Is. The proxy answers all of them with 400.
var (
	// ErrNotAbsolute: the path does not start with "/" (for example the
	// asterisk form "*" of OPTIONS).
	ErrNotAbsolute = errors.New("the path must start with '/'")
	// ErrEncodedSlash: the path contains %2F or %2f. Decoding it would
	// create a path separator the client did not write, and backends
	// disagree on whether it is one.
	ErrEncodedSlash = errors.New("the path contains an encoded slash (%2F)")
	// ErrBadEscape: a '%' is not followed by two hexadecimal digits.
	ErrBadEscape = errors.New("the path contains an invalid percent-encoding")
	// ErrEscapesRoot: a ".." segment (possibly written %2e%2e) climbs above
	// the root, as in "/../etc".
	ErrEscapesRoot = errors.New("the path climbs above the root with '..'")
)

// PathError is a request path that cannot be matched, and why.
type PathError struct {
	// Path is the path as given to NormalizePath.
	Path string
	// Err is one of ErrNotAbsolute, ErrEncodedSlash, ErrBadEscape and
	// ErrEscapesRoot.
	Err error
}

func (e *PathError) Error() string {
	return fmt.Sprintf("invalid request path %q: %v", e.Path, e.Err)
}

func (e *PathError) Unwrap() error { return e.Err }

// NormalizePath returns the form of a request path that Lookup matches: the
// query (everything from the first '?') dropped, percent-escapes decoded
// once, and "." and ".." segments removed as RFC 3986 section 5.2.4 does.
// An empty path is "/". Slashes are not merged: "/a//b" keeps its empty
// element.
//
// target is the path as the client sent it, escaped, as in the
// request-target of an origin-form request (http.Request.RequestURI), or
// http.Request.URL.EscapedPath(). A path that does not start with "/",
// contains an encoded slash, contains a bad escape or climbs above the root
// is refused with a *PathError.
//
// The normalised path is only for matching: the proxy forwards the path
// exactly as the client sent it. NormalizePath does not allocate when the
// path has neither escapes nor dot-segments.
func NormalizePath(target string) (string, error) {
	if i := strings.IndexByte(target, '?'); i >= 0 {
		target = target[:i]
	}
	if target == "" {
		return "/", nil
	}
	p, err := normalize(target)
	if err != nil {
		return "", &PathError{Path: target, Err: err}
	}
	return p, nil
}

// normalize decodes p and removes its dot-segments. Unlike NormalizePath it
// does not treat '?' specially, so it also serves for Exact and Prefix
// paths of rules, which are compared in the same decoded form.
func normalize(p string) (string, error) {
	if !strings.HasPrefix(p, "/") {
		return "", ErrNotAbsolute
	}
	if strings.IndexByte(p, '%') >= 0 {
		if hasEncodedSlash(p) {
			return "", ErrEncodedSlash
		}
		d, err := url.PathUnescape(p)
		if err != nil {
			return "", ErrBadEscape
		}
		p = d
	}
	if !hasDotSegment(p) {
		return p, nil
	}
	return removeDotSegments(p)
}

// hasEncodedSlash reports whether p contains %2F in either case.
func hasEncodedSlash(p string) bool {
	for i := 0; i+2 < len(p); i++ {
		if p[i] == '%' && p[i+1] == '2' && (p[i+2] == 'f' || p[i+2] == 'F') {
			return true
		}
	}
	return false
}

// hasDotSegment reports whether the absolute path p has a segment that is
// exactly "." or "..".
func hasDotSegment(p string) bool {
	for i := 0; i < len(p); {
		end := segmentEnd(p, i)
		if seg := p[i+1 : end]; seg == "." || seg == ".." {
			return true
		}
		i = end
	}
	return false
}

// segmentEnd returns the index of the '/' that ends the segment starting
// after the '/' at p[i], or len(p).
func segmentEnd(p string, i int) int {
	if j := strings.IndexByte(p[i+1:], '/'); j >= 0 {
		return i + 1 + j
	}
	return len(p)
}

// removeDotSegments removes "." and ".." segments from the absolute path p.
// A final "." or ".." leaves a trailing slash ("/a/b/.." is "/a/"), as in
// RFC 3986; a ".." with nothing left to remove is an error rather than
// being dropped, so that "/../x" never quietly becomes "/x".
func removeDotSegments(p string) (string, error) {
	out := make([]byte, 0, len(p))
	for i := 0; i < len(p); {
		end := segmentEnd(p, i)
		last := end == len(p)
		switch seg := p[i+1 : end]; seg {
		case ".":
			if last {
				out = append(out, '/')
			}
		case "..":
			k := bytes.LastIndexByte(out, '/')
			if k < 0 {
				return "", ErrEscapesRoot
			}
			out = out[:k]
			if last {
				out = append(out, '/')
			}
		default:
			out = append(out, '/')
			out = append(out, seg...)
		}
		i = end
	}
	if len(out) == 0 {
		return "/", nil
	}
	return string(out), nil
}

// elementCount returns the number of path elements of p: what lies between
// its slashes, a leading slash and one trailing slash not counting. "/" and
// "" have none, "/foo" and "/foo/" one, "/aaa/bbb" two.
func elementCount(p string) int {
	s := strings.TrimPrefix(p, "/")
	s = strings.TrimSuffix(s, "/")
	if s == "" {
		return 0
	}
	return strings.Count(s, "/") + 1
}

// patternElementCount is the length of an ImplementationSpecific path: the
// elementCount of the pattern text from its first '/'. "/api/v[0-9]+/.*"
// has three elements, "(?i)/foo" one, "" and ".*" none.
func patternElementCount(pattern string) int {
	i := strings.IndexByte(pattern, '/')
	if i < 0 {
		return 0
	}
	return elementCount(pattern[i:])
}

// prefixKey is the key of a normalised Prefix path: without its trailing
// slash, except for "/" itself. Two Prefix paths with the same key match
// the same requests.
func prefixKey(p string) string {
	if len(p) > 1 && p[len(p)-1] == '/' {
		return p[:len(p)-1]
	}
	return p
}
