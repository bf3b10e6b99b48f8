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

package server

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"k8s.io/klog/v2"

	"signet.dev/signet/pkg/nodecache/forward"
)

// ErrNotReloadable means Reload was given changes to settings that only a new
// server can apply, such as the listen addresses.
var ErrNotReloadable = errors.New("settings cannot change without a restart")

// Reload applies the upstream and cache-TTL settings of cfg to the running
// server, without touching its sockets or the answers it has cached:
// ClusterDomain, ReverseZones, ClusterDNS, ResolvConf (read again, even when
// its name did not change), UpstreamServers, StubDomains, NodeName,
// NodeNameOption, Cache.SuccessTTL and Cache.DenialTTL. Queries being
// resolved finish on the old upstreams. Answers already cached keep the TTL
// they were stored with.
//
// Reload changes nothing and fails
//   - with ErrNotReloadable, naming the fields, when any other field of cfg
//     differs from the running configuration;
//   - with ErrForwardingLoop when a new upstream is a listen address, or, on a
//     serving server without DisableLoopProbe, when a probe sent to the new
//     upstreams comes back (as at Start);
//   - when cfg is invalid or ResolvConf cannot be read.
func (s *Server) Reload(ctx context.Context, cfg Config) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid node-cache configuration: %w", err)
	}
	if fields := fixedFieldsChanged(s.cfg, cfg); len(fields) > 0 {
		return fmt.Errorf("%w: %s", ErrNotReloadable, strings.Join(fields, ", "))
	}
	groups, err := upstreamGroups(cfg)
	if err != nil {
		return err
	}
	if err := checkStaticLoop(s.listen, groups); err != nil {
		return err
	}
	if err := s.fwd.SetGroups(groups); err != nil {
		return err
	}
	if s.serving.Load() && !s.cfg.DisableLoopProbe {
		s.loopedTo.Store(nil)
		if err := s.probeLoops(ctx); err != nil {
			if rerr := s.fwd.SetGroups(s.groups); rerr != nil {
				return errors.Join(err, fmt.Errorf("restoring the previous upstreams: %w", rerr))
			}
			return err
		}
	}
	if err := s.cache.SetTTLCaps(cfg.Cache.SuccessTTL, cfg.Cache.DenialTTL); err != nil {
		return err // validated above; kept for safety
	}
	s.groups = groups
	setReloadable(&s.cfg, cfg)
	klog.FromContext(ctx).Info("Reloaded upstreams", "clusterDNS", cfg.ClusterDNS, "stubDomains", len(cfg.StubDomains),
		"successTTL", cfg.Cache.SuccessTTL, "denialTTL", cfg.Cache.DenialTTL)
	return nil
}

// upstreamGroups reads the resolv.conf nameservers unless cfg names the
// upstreams, and returns cfg's upstream groups.
func upstreamGroups(cfg Config) ([]forward.GroupConfig, error) {
	nameservers := cfg.UpstreamServers
	if len(nameservers) == 0 {
		var err error
		if nameservers, err = forward.ReadResolvConf(cfg.ResolvConf); err != nil {
			return nil, err
		}
	}
	return cfg.groups(nameservers), nil
}

// setReloadable copies the fields Reload applies from src to dst.
func setReloadable(dst *Config, src Config) {
	dst.ClusterDomain = src.ClusterDomain
	dst.ReverseZones = src.ReverseZones
	dst.ClusterDNS = src.ClusterDNS
	dst.ResolvConf = src.ResolvConf
	dst.UpstreamServers = src.UpstreamServers
	dst.StubDomains = src.StubDomains
	dst.NodeName = src.NodeName
	dst.NodeNameOption = src.NodeNameOption
	dst.Cache.SuccessTTL = src.Cache.SuccessTTL
	dst.Cache.DenialTTL = src.Cache.DenialTTL
}

// fixedFieldsChanged returns the names of the fields Reload cannot apply
// that differ between old and new, such as "ListenAddrs" or
// "Cache.MaxEntries".
func fixedFieldsChanged(old, new Config) []string {
	var zero Config
	setReloadable(&old, zero)
	setReloadable(&new, zero)
	var changed []string
	diffFields(reflect.ValueOf(old), reflect.ValueOf(new), "", &changed)
	return changed
}

func diffFields(a, b reflect.Value, prefix string, changed *[]string) {
	for i := range a.NumField() {
		f := a.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		name := prefix + f.Name
		fa, fb := a.Field(i), b.Field(i)
		if fa.Kind() == reflect.Struct {
			diffFields(fa, fb, name+".", changed)
			continue
		}
		if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
			*changed = append(*changed, name)
		}
	}
}
