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

package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"reflect"

	"k8s.io/klog/v2"
)

// restartFields are the settings a running node-cache cannot change: they
// shape its sockets, the link, the rules or the cache. A reload keeps their
// values in force and reports the file's as needing a restart.
var restartFields = []string{
	"localIPs", "interfaceName", "setupInterface", "setupIPTables",
	"port", "healthAddr", "metricsAddr", "cacheSize",
}

// readConfigFile returns the content of the --config file, or nil without
// one.
func readConfigFile(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading --config file: %w", err)
	}
	return data, nil
}

// fingerprint identifies the content of the watched files: the --config file
// (its content or the error reading it) and the resolv.conf file.
func fingerprint(configData []byte, configErr error, resolvConf string) string {
	h := sha256.New()
	if configErr != nil {
		fmt.Fprintf(h, "error %v", configErr)
	} else {
		fmt.Fprintf(h, "config %d\n", len(configData))
		h.Write(configData)
	}
	if data, err := os.ReadFile(resolvConf); err != nil {
		fmt.Fprintf(h, "\nresolv error %v", err)
	} else {
		fmt.Fprintf(h, "\nresolv %d\n", len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkFiles reloads the configuration when the --config file or the
// resolv.conf file changed since the last check. A file that keeps failing
// to load is reported once per change, not every check.
func (d *daemon) checkFiles(ctx context.Context) {
	data, err := readConfigFile(d.o.ConfigFile)
	fp := fingerprint(data, err, d.cfg.UpstreamResolvConf)
	if fp == d.watched {
		return
	}
	d.watched = fp
	if err == nil {
		err = d.reload(ctx, data)
	}
	if err != nil {
		d.metrics.reloads.WithLabelValues("failure").Inc()
		d.metrics.lastReloadOK.Set(0)
		klog.FromContext(ctx).Error(err, "Configuration not reloaded; the one in force stays", "configFile", d.o.ConfigFile)
		return
	}
	d.metrics.reloads.WithLabelValues("success").Inc()
	d.metrics.lastReloadOK.Set(1)
	// The resolv.conf file may have another name now.
	d.watched = fingerprint(data, nil, d.cfg.UpstreamResolvConf)
}

// reload loads the configuration from data (the --config file's content) and
// the flags, and applies what can change while running: upstreams, stub
// domains, TTLs, the node name, the sync interval and skipTeardown. Other
// changes are logged and flagged as needing a restart. On error nothing
// changes.
func (d *daemon) reload(ctx context.Context, data []byte) error {
	logger := klog.FromContext(ctx)
	next, err := d.o.loadFrom(data)
	if err != nil {
		return err
	}
	pending := keepRestartFields(next, d.cfg)
	if err := d.srv.Reload(ctx, next.serverConfig()); err != nil {
		return fmt.Errorf("applying the new configuration: %w", err)
	}
	if next.SyncInterval != d.cfg.SyncInterval {
		d.syncTicker.Reset(next.SyncInterval.Duration)
	}
	d.cfg = next
	if len(pending) > 0 {
		d.metrics.restartRequired.Set(1)
		logger.Info("Configuration changes wait for a restart; the values in force stay", "fields", pending)
	} else {
		d.metrics.restartRequired.Set(0)
	}
	logger.Info("Reloaded configuration", "clusterDNS", next.ClusterDNS, "stubDomains", len(next.StubDomains),
		"successTTL", next.SuccessTTL.Duration, "denialTTL", next.DenialTTL.Duration, "syncInterval", next.SyncInterval.Duration,
		"skipTeardown", next.SkipTeardown)
	return nil
}

// keepRestartFields sets the restartFields of next to their values in cur
// and returns the names of those that differed.
func keepRestartFields(next, cur *NodeCacheConfiguration) []string {
	fields := jsonFields(reflect.TypeOf(*next))
	nv, cv := reflect.ValueOf(next).Elem(), reflect.ValueOf(cur).Elem()
	var changed []string
	for _, name := range restartFields {
		n, c := nv.FieldByIndex(fields[name].Index), cv.FieldByIndex(fields[name].Index)
		if !reflect.DeepEqual(n.Interface(), c.Interface()) {
			changed = append(changed, name)
			n.Set(c)
		}
	}
	return changed
}
