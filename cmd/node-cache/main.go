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

// Command node-cache is the per-node DNS cache: it answers the pods of one
// node on link-local addresses, outside conntrack, and sends cluster names to
// the cluster DNS over TCP. See docs/node-cache.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/component-base/cli"

	"signet.dev/signet/cmd/node-cache/app"
)

func main() {
	// The first SIGTERM or SIGINT starts an orderly exit (stop answering,
	// remove the rules, remove the link); a second one ends the process at
	// once.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-ctx.Done()
		stop()
	}()
	cmd := app.NewCommand()
	cmd.SetContext(ctx)
	os.Exit(cli.Run(cmd))
}
