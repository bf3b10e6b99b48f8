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

// Command signet-ingress is signet's reference Ingress controller and
// proxy in one process: it routes the Ingresses of its IngressClasses
// straight to EndpointSlice endpoints and reports their status; see
// docs/ingress.md.
package main

import (
	"os"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/component-base/cli"

	"signet.dev/signet/cmd/signet-ingress/app"
)

func main() {
	cmd := app.NewCommand()
	// The first SIGTERM or SIGINT starts a graceful shutdown (listeners
	// close, requests in flight finish, the lease is released), a second
	// one exits at once.
	cmd.SetContext(genericapiserver.SetupSignalContext())
	os.Exit(cli.Run(cmd))
}
