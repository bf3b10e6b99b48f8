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
	"testing"
)

func TestNormalizePath(t *testing.T) {
	tests := []struct {
		name   string
		target string
		want   string
		err    error
	}{
		{name: "root", target: "/", want: "/"},
		{name: "empty is root", target: "", want: "/"},
		{name: "plain path kept", target: "/foo/bar", want: "/foo/bar"},
		{name: "trailing slash kept", target: "/foo/", want: "/foo/"},
		{name: "case kept", target: "/FOO", want: "/FOO"},
		{name: "query dropped", target: "/foo?x=1&y=/bar", want: "/foo"},
		{name: "empty query dropped", target: "/foo?", want: "/foo"},
		{name: "only query", target: "?x", want: "/"},
		{name: "encoded slash in query is fine", target: "/a?next=%2Fb", want: "/a"},
		{name: "escapes decoded", target: "/foo%20bar/%7Euser", want: "/foo bar/~user"},
		{name: "encoded question mark is part of the path", target: "/a%3Fb", want: "/a?b"},
		{name: "decoded once", target: "/a%252Fb", want: "/a%2Fb"},
		{name: "plus is not a space", target: "/a+b", want: "/a+b"},
		{name: "empty elements kept", target: "/a//b", want: "/a//b"},
		{name: "dot segment removed", target: "/a/./b", want: "/a/b"},
		{name: "dot-dot removes the previous segment", target: "/a/b/../c", want: "/a/c"},
		{name: "final dot-dot leaves a slash", target: "/a/b/..", want: "/a/"},
		{name: "final dot leaves a slash", target: "/a/.", want: "/a/"},
		{name: "dot-dot back to the root", target: "/a/..", want: "/"},
		{name: "root dot", target: "/.", want: "/"},
		{name: "dot-dot removes an empty segment", target: "/a//../b", want: "/a/b"},
		{name: "encoded dot segments removed", target: "/a/%2e/b/%2E%2e/c", want: "/a/c"},
		{name: "dots inside a name are not segments", target: "/..foo/.bar/...", want: "/..foo/.bar/..."},
		{name: "dot-dot above the root", target: "/../x", err: ErrEscapesRoot},
		{name: "encoded dot-dot above the root", target: "/%2e%2e/x", err: ErrEscapesRoot},
		{name: "climbs above the root later", target: "/a/../../x", err: ErrEscapesRoot},
		{name: "bare dot-dot", target: "/..", err: ErrEscapesRoot},
		{name: "encoded slash", target: "/a%2Fb", err: ErrEncodedSlash},
		{name: "encoded slash lower case", target: "/a%2fb", err: ErrEncodedSlash},
		{name: "encoded slash at the end", target: "/a%2F", err: ErrEncodedSlash},
		{name: "bad escape", target: "/a%zz", err: ErrBadEscape},
		{name: "truncated escape", target: "/a%4", err: ErrBadEscape},
		{name: "lone percent", target: "/100%", err: ErrBadEscape},
		{name: "asterisk form", target: "*", err: ErrNotAbsolute},
		{name: "relative", target: "foo/bar", err: ErrNotAbsolute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizePath(tc.target)
			if tc.err != nil {
				var pe *PathError
				if !errors.Is(err, tc.err) || !errors.As(err, &pe) {
					t.Fatalf("NormalizePath(%q) = %q, %v; want a *PathError wrapping %q", tc.target, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("NormalizePath(%q) = %q, %v; want %q", tc.target, got, err, tc.want)
			}
		})
	}
}

func TestNormalizePathDoesNotAllocate(t *testing.T) {
	for _, target := range []string{"/", "/foo/bar/baz", "/foo/bar?x=1&y=2", "/..foo/.bar"} {
		if n := testing.AllocsPerRun(100, func() { _, _ = NormalizePath(target) }); n != 0 {
			t.Errorf("NormalizePath(%q) allocates %v times, want 0", target, n)
		}
	}
}

func TestElementCount(t *testing.T) {
	tests := map[string]int{
		"":          0,
		"/":         0,
		"/foo":      1,
		"/foo/":     1,
		"/aaa/bbb":  2,
		"/aaa/bbb/": 2,
		"/a//b":     3,
	}
	for p, want := range tests {
		if got := elementCount(p); got != want {
			t.Errorf("elementCount(%q) = %d, want %d", p, got, want)
		}
	}
	patterns := map[string]int{
		"":                0,
		".*":              0,
		"/":               0,
		"/api/.*":         2,
		"/api/v[0-9]+/.*": 3,
		"(?i)/foo":        1,
		"/a/?":            2,
		"/a|/b":           2,
	}
	for p, want := range patterns {
		if got := patternElementCount(p); got != want {
			t.Errorf("patternElementCount(%q) = %d, want %d", p, got, want)
		}
	}
}
