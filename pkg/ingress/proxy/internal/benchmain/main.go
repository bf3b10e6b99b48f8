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

// Command benchmain runs the proxy alone for load tests with wrk, routing
// two hosts (Prefix and Exact paths) and every other host to one backend
// address. It is a measuring tool, not a product: the signet-ingress
// binary is cmd/signet-ingress.
//
//	GOMAXPROCS=1 taskset -c 0 go run ./pkg/ingress/proxy/internal/benchmain \
//	    -listen 127.0.0.1:18080 -backend 127.0.0.1:18081
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	_ "net/http/pprof" // -pprof serves /debug/pprof
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	networkingv1 "signet.dev/api/networking/v1"

	"signet.dev/signet/pkg/ingress/proxy"
	"signet.dev/signet/pkg/ingress/routes"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18080", "HTTP listen address")
	backend := flag.String("backend", "127.0.0.1:18081", "backend endpoint (ip:port)")
	pprofAddr := flag.String("pprof", "", "serve /debug/pprof on this address (empty: off)")
	flag.Parse()
	if err := run(*listen, *backend, *pprofAddr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(listen, backend, pprofAddr string) error {
	ep, err := netip.ParseAddrPort(backend)
	if err != nil {
		return err
	}
	if pprofAddr != "" {
		go func() { klog.ErrorS(http.ListenAndServe(pprofAddr, nil), "pprof server") }()
	}
	p, err := proxy.New(proxy.Options{HTTPAddrs: []string{listen}})
	if err != nil {
		return err
	}
	p.Update(config(ep))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return p.Run(ctx)
}

// config routes app.example.com (Prefix / and /api, Exact /healthz),
// static.example.com (Prefix /), and any other host (Prefix /) to ep.
func config(ep netip.AddrPort) *proxy.Config {
	prefix, exact := networkingv1.PathTypePrefix, networkingv1.PathTypeExact
	be := networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
		Name: "bench", Port: networkingv1.ServiceBackendPort{Number: 80}}}
	path := func(p string, t *networkingv1.PathType) networkingv1.HTTPIngressPath {
		return networkingv1.HTTPIngressPath{Path: p, PathType: t, Backend: be}
	}
	rule := func(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
		return networkingv1.IngressRule{Host: host, IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}}}
	}
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bench", CreationTimestamp: metav1.NewTime(time.Unix(0, 0))},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{
			rule("app.example.com", path("/", &prefix), path("/api", &prefix), path("/healthz", &exact)),
			rule("static.example.com", path("/", &prefix)),
			rule("", path("/", &prefix)),
		}},
	}
	table, _ := routes.Build([]*networkingv1.Ingress{ing})
	b := &proxy.Backend{Ingress: "default/bench", Name: "default/bench:80",
		Service: &proxy.ServiceBackend{Endpoints: []netip.AddrPort{ep}}}
	cfg := &proxy.Config{Routes: table, Backends: map[*routes.Route]*proxy.Backend{}, Generation: 1}
	for _, r := range table.Routes() {
		cfg.Backends[r] = b
	}
	return cfg
}
