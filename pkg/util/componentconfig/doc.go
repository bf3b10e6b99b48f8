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

// Package componentconfig holds what the daemons share to read a versioned
// configuration file (--config) and to combine it with their flags: a
// strict decoder that names each bad field by its path, error messages that
// name the flag of each field, and the rule that a flag given on the
// command line overrides the file.
//
// The shape of a command using it:
//
//	cfg := NewDefaultConfiguration()
//	if err := format.Decode(data, cfg); err != nil { ... }
//	if err := componentconfig.ApplyGivenFlags(fs, func(s *pflag.FlagSet) { bindConfigFlags(s, cfg) }); err != nil { ... }
//	if err := flags.Errors(cfg.Validate(), componentconfig.FlagFirst); err != nil { ... }
package componentconfig
