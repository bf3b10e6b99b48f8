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

package componentconfig

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Flags maps the field paths of a configuration file (iptables.syncPeriod)
// to the command-line flags that set them (iptables-sync-period, without
// the dashes), so that a message about a field names its flag too.
type Flags map[string]string

// Of returns the flag of the field at path: the field's own or, for an
// element (nodePortAddresses[1]) or a field within a field
// (iptables.syncPeriod), that of the nearest enclosing field that has one.
func (f Flags) Of(path string) (string, bool) {
	if i := strings.IndexByte(path, '['); i >= 0 {
		path = path[:i]
	}
	for {
		if flag, ok := f[path]; ok {
			return flag, true
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			return "", false
		}
		path = path[:i]
	}
}

// Layout says how a line of Flags.Errors names a field and its flag.
type Layout int

const (
	// FlagFirst names the flag first, then the field:
	// "--masquerade-bit (iptables.masqueradeBit): Invalid value: 0: ...".
	FlagFirst Layout = iota
	// FieldFirst names the field first, then the flag:
	// "localIPs[1] (--localip): Invalid value: "1.2.3": ...".
	FieldFirst
)

// Errors returns errs as one error, or nil when there are none: a line an
// error, each naming the field's flag as layout says. A field without a
// flag (one only the file sets) is named alone, as field.Error does:
// "stubDomains[corp.example]: Required value: ...". One error reads as
// its line; more are each on an indented line of their own, after a line
// break. errors.As finds each *field.Error.
func (f Flags) Errors(errs field.ErrorList, layout Layout) error {
	return join(errs, func(e *field.Error) string {
		flag, ok := f.Of(e.Field)
		switch {
		case !ok:
			return e.Error()
		case layout == FieldFirst:
			return fmt.Sprintf("%s (--%s): %s", e.Field, flag, e.ErrorBody())
		default:
			return fmt.Sprintf("--%s (%s): %s", flag, e.Field, e.ErrorBody())
		}
	})
}

// fieldErrors is field errors as one error, a line each.
type fieldErrors struct {
	errs  field.ErrorList
	lines []string
}

// join returns errs as one error with a line each, or nil.
func join(errs field.ErrorList, line func(*field.Error) string) error {
	if len(errs) == 0 {
		return nil
	}
	lines := make([]string, 0, len(errs))
	for _, e := range errs {
		lines = append(lines, line(e))
	}
	return &fieldErrors{errs: errs, lines: lines}
}

func (e *fieldErrors) Error() string {
	if len(e.lines) == 1 {
		return e.lines[0]
	}
	return "\n  " + strings.Join(e.lines, "\n  ")
}

func (e *fieldErrors) Unwrap() []error {
	out := make([]error, 0, len(e.errs))
	for _, fe := range e.errs {
		out = append(out, fe)
	}
	return out
}

// ApplyGivenFlags gives the flags given on the command line precedence
// over a configuration file, even a flag given its default value. bind
// registers the configuration flags on a flag set, bound to the
// configuration the file was decoded into, as they were registered on
// cmdline; every one of them that was given on cmdline is set there to the
// value given. The other flags of cmdline (--config, -v) are left alone,
// and a nil cmdline sets nothing.
func ApplyGivenFlags(cmdline *pflag.FlagSet, bind func(*pflag.FlagSet)) error {
	if cmdline == nil {
		return nil
	}
	overlay := pflag.NewFlagSet("overlay", pflag.ContinueOnError)
	bind(overlay)
	var err error
	cmdline.Visit(func(given *pflag.Flag) {
		target := overlay.Lookup(given.Name)
		if target == nil || err != nil {
			return
		}
		var setErr error
		list, isList := given.Value.(pflag.SliceValue)
		targetList, targetIsList := target.Value.(pflag.SliceValue)
		if isList && targetIsList {
			// String() quotes and brackets a list; copy the items.
			setErr = targetList.Replace(list.GetSlice())
		} else {
			setErr = target.Value.Set(given.Value.String())
		}
		if setErr != nil {
			err = fmt.Errorf("applying --%s over the --config file: %w", given.Name, setErr)
		}
	})
	return err
}

// GivenFlags returns the configuration flags, those bind registers, that
// were given on cmdline, as written there (--cluster-dns) and sorted.
func GivenFlags(cmdline *pflag.FlagSet, bind func(*pflag.FlagSet)) []string {
	if cmdline == nil {
		return nil
	}
	overlay := pflag.NewFlagSet("overlay", pflag.ContinueOnError)
	bind(overlay)
	var names []string
	cmdline.Visit(func(f *pflag.Flag) {
		if overlay.Lookup(f.Name) != nil {
			names = append(names, "--"+f.Name)
		}
	})
	return names
}
