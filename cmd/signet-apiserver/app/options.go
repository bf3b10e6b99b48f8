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
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/util/compatibility"

	"signet.dev/signet/pkg/admission/defaultingressclass"
	"signet.dev/signet/pkg/apiserver"
)

const (
	// etcdPathPrefix is where signet's objects live in etcd, apart from
	// kube-apiserver's /registry when the two share an etcd cluster.
	etcdPathPrefix = "/registry/signet.dev"
	// defaultSecurePort keeps a standalone signet-apiserver clear of a
	// kube-apiserver on the same machine (6443).
	defaultSecurePort = 8443
	// defaultShutdownWatchGrace: see Options.ShutdownWatchGrace.
	defaultShutdownWatchGrace = 5 * time.Second
)

// Options are the flags of signet-apiserver.
type Options struct {
	Recommended *genericoptions.RecommendedOptions

	// Standalone runs without kube-apiserver: own certificate, token
	// authentication, an admin kubeconfig, embedded etcd.
	Standalone bool
	// DataDir holds the embedded etcd's data and, standalone, the
	// certificate, token and kubeconfig.
	DataDir string

	// ShutdownDelay keeps serving after SIGTERM, with /readyz failing, so
	// that load balancers stop sending requests first.
	ShutdownDelay time.Duration
	// ShutdownWatchGrace is how long active watches get to end after
	// SIGTERM. Unlike upstream's default of 0 (the watches are left open
	// until the HTTP server's shutdown timeout, 60s), signet ends them at
	// once: kube-apiserver's aggregator, kube-proxy and the controllers
	// hold watches through it at all times, and every one of them would
	// otherwise hold up each restart for a minute.
	ShutdownWatchGrace time.Duration
}

// NewOptions returns the defaults: aggregated mode, embedded etcd.
func NewOptions() *Options {
	o := &Options{
		Recommended: genericoptions.NewRecommendedOptions(etcdPathPrefix,
			apiserver.Codecs.LegacyCodec(apiserver.StorageVersions...)),
		DataDir:            filepath.Join("_output", "signet-apiserver"),
		ShutdownWatchGrace: defaultShutdownWatchGrace,
	}
	o.Recommended.Etcd.StorageConfig.EncodeVersioner = apiserver.StorageVersions
	o.Recommended.SecureServing.BindPort = defaultSecurePort
	defaultingressclass.Register(o.Recommended.Admission.Plugins)
	o.Recommended.Admission.RecommendedPluginOrder = append(o.Recommended.Admission.RecommendedPluginOrder, defaultingressclass.PluginName)
	return o
}

// AddFlags registers every flag on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	o.Recommended.AddFlags(fs)
	compatibility.DefaultComponentGlobalsRegistry.AddFlags(fs)
	fs.BoolVar(&o.Standalone, "standalone", o.Standalone,
		"Run without kube-apiserver: generate a self-signed serving certificate and an admin bearer token, "+
			"authorize only that token, and write an admin kubeconfig to <data-dir>/kubeconfig. "+
			"Admission plugins that need kube-apiserver (namespace lifecycle, webhooks, admission policies) are off.")
	fs.StringVar(&o.DataDir, "data-dir", o.DataDir,
		"Directory for the embedded etcd's data (used when --etcd-servers is empty) and, with --standalone, "+
			"the serving certificate, admin token and kubeconfig. Kept across restarts.")
	fs.DurationVar(&o.ShutdownDelay, "shutdown-delay-duration", o.ShutdownDelay,
		"Time to keep serving after SIGTERM while /readyz fails, so that load balancers and the aggregator stop sending requests first.")
	fs.DurationVar(&o.ShutdownWatchGrace, "shutdown-watch-termination-grace-period", o.ShutdownWatchGrace,
		"After SIGTERM, end active watches at once and give them this long to drain, so clients re-establish them "+
			"(on another replica or after the restart). 0 leaves them open until the HTTP server's shutdown timeout.")
}

// Validate reports every flag error at once. The etcd server list is
// checked after Complete, which fills it for the embedded etcd.
func (o *Options) Validate() error {
	var errs []error
	for _, err := range o.Recommended.Validate() {
		if o.usesEmbeddedEtcd() && isMissingEtcdServers(err) {
			continue
		}
		errs = append(errs, err)
	}
	errs = append(errs, compatibility.DefaultComponentGlobalsRegistry.Validate()...)
	if o.DataDir == "" {
		errs = append(errs, errors.New("--data-dir must not be empty"))
	}
	if o.ShutdownDelay < 0 {
		errs = append(errs, fmt.Errorf("--shutdown-delay-duration must not be negative, got %s", o.ShutdownDelay))
	}
	if o.ShutdownWatchGrace < 0 {
		errs = append(errs, fmt.Errorf("--shutdown-watch-termination-grace-period must not be negative, got %s", o.ShutdownWatchGrace))
	}
	return utilerrors.NewAggregate(errs)
}

func (o *Options) usesEmbeddedEtcd() bool {
	return len(o.Recommended.Etcd.StorageConfig.Transport.ServerList) == 0
}

// isMissingEtcdServers recognises the generic etcd option's complaint about
// an empty --etcd-servers, which the embedded etcd answers.
func isMissingEtcdServers(err error) bool {
	return err != nil && err.Error() == "--etcd-servers must be specified"
}

// defaultCertDirectory is the generic serving options' default, relative
// to the working directory; signet keeps generated certificates under
// --data-dir instead.
const defaultCertDirectory = "apiserver.local.config/certificates"

// complete fills in defaults that depend on other flags.
func (o *Options) complete() {
	if cert := &o.Recommended.SecureServing.ServerCert; cert.CertKey.CertFile == "" && cert.CertDirectory == defaultCertDirectory {
		cert.CertDirectory = filepath.Join(o.DataDir, "certs")
	}
}

// kubeconfigServer is the URL the standalone kubeconfig points at.
func (o *Options) kubeconfigServer() string {
	host := "127.0.0.1"
	if ip := o.Recommended.SecureServing.BindAddress; ip != nil && !ip.IsUnspecified() {
		host = ip.String()
	}
	return fmt.Sprintf("https://%s", net.JoinHostPort(host, fmt.Sprint(o.Recommended.SecureServing.BindPort)))
}
