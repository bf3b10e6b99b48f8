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
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	admissionmetrics "k8s.io/apiserver/pkg/admission/metrics"
	"k8s.io/apiserver/pkg/authentication/request/anonymous"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	unionauthn "k8s.io/apiserver/pkg/authentication/request/union"
	"k8s.io/apiserver/pkg/authentication/token/tokenfile"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/authorization/path"
	unionauthz "k8s.io/apiserver/pkg/authorization/union"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	informers "signet.dev/client-go/informers/externalversions"

	"signet.dev/signet/pkg/admission/defaultingressclass"
	"signet.dev/signet/pkg/admission/initializer"
)

// standaloneUser is the identity of the generated admin token; it is in
// system:masters, the only group a standalone server authorizes.
const standaloneUser = "signet-admin"

// publicPaths answer anyone, so that probes need no credentials.
var publicPaths = []string{"/healthz", "/healthz/*", "/livez", "/livez/*", "/readyz", "/readyz/*", "/version"}

// standaloneAccess is the authentication of a standalone server: one
// bearer token, kept in the data directory so that the kubeconfig written
// at the first start keeps working after restarts.
type standaloneAccess struct {
	token string
}

// prepareStandalone adjusts the options for running without
// kube-apiserver and loads (or creates) the admin token.
func prepareStandalone(o *Options) (*standaloneAccess, error) {
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating --data-dir: %w", err)
	}
	// Nothing to delegate to and no core API to read: no kube-apiserver.
	// The generic admission plugins (namespace lifecycle, webhooks,
	// admission policies) all read the core API, so the admission chain is
	// signet's own plugins only (see applyTo).
	o.Recommended.Authentication = nil
	o.Recommended.Authorization = nil
	o.Recommended.CoreAPI = nil
	o.Recommended.Admission = nil
	o.Recommended.Features.EnablePriorityAndFairness = false

	token, err := loadOrCreateToken(filepath.Join(o.DataDir, "admin-token"))
	if err != nil {
		return nil, err
	}
	return &standaloneAccess{token: token}, nil
}

// applyTo installs the token authenticator, an authorizer that lets
// system:masters do everything and anyone read the health endpoints, and
// the admission chain of signet's own plugins.
func (a *standaloneAccess) applyTo(cfg *genericapiserver.RecommendedConfig, signetInformers informers.SharedInformerFactory) error {
	tokens := tokenfile.New(map[string]*user.DefaultInfo{
		a.token: {Name: standaloneUser, Groups: []string{user.SystemPrivilegedGroup, user.AllAuthenticated}},
	})
	cfg.Authentication.Authenticator = unionauthn.New(bearertoken.New(tokens), anonymous.NewAuthenticator(nil))
	public, err := path.NewAuthorizer(publicPaths)
	if err != nil {
		panic(err) // the paths are constants
	}
	authz, err := unionauthz.New(
		unionauthz.NamedAuthorizer{AuthorizerName: "public-paths", Authorizer: public},
		unionauthz.NamedAuthorizer{AuthorizerName: "system-masters", Authorizer: authorizerfactory.NewPrivilegedGroups(user.SystemPrivilegedGroup)},
	)
	if err != nil {
		panic(err)
	}
	cfg.Authorization.Authorizer = authz

	plugin := defaultingressclass.New()
	initializer.New(signetInformers).Initialize(plugin)
	if err := plugin.ValidateInitialization(); err != nil {
		return err
	}
	cfg.AdmissionControl = admissionmetrics.WithControllerMetrics(plugin, defaultingressclass.PluginName)
	return nil
}

// writeKubeconfig writes <data-dir>/kubeconfig for the admin token and
// prints its path.
func (a *standaloneAccess) writeKubeconfig(o *Options) error {
	certFile := o.Recommended.SecureServing.ServerCert.CertKey.CertFile
	ca, err := os.ReadFile(certFile)
	if err != nil {
		return fmt.Errorf("reading the serving certificate for the kubeconfig: %w", err)
	}
	const name = "signet"
	kubeconfig := clientcmdapi.NewConfig()
	kubeconfig.Clusters[name] = &clientcmdapi.Cluster{Server: o.kubeconfigServer(), CertificateAuthorityData: ca}
	kubeconfig.AuthInfos[standaloneUser] = &clientcmdapi.AuthInfo{Token: a.token}
	kubeconfig.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: standaloneUser, Namespace: "default"}
	kubeconfig.CurrentContext = name
	path, err := filepath.Abs(filepath.Join(o.DataDir, "kubeconfig"))
	if err != nil {
		return err
	}
	if err := clientcmd.WriteToFile(*kubeconfig, path); err != nil {
		return fmt.Errorf("writing the kubeconfig: %w", err)
	}
	fmt.Printf("signet-apiserver is starting on %s\nkubeconfig: %s\n", o.kubeconfigServer(), path)
	return nil
}

func loadOrCreateToken(file string) (string, error) {
	data, err := os.ReadFile(file)
	if err == nil {
		if token := strings.TrimSpace(string(data)); token != "" {
			return token, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("reading the admin token: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generating the admin token: %w", err)
	}
	token := hex.EncodeToString(raw)
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing the admin token: %w", err)
	}
	return token, nil
}

func loopbackIPs() []net.IP {
	return []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
}
