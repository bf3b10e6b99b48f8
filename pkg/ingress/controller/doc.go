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

// Package controller is the control plane of signet-ingress: it watches
// IngressClasses, the Ingresses of the classes whose spec.controller is its
// controller name, and the Services, signet EndpointSlices, TLS Secrets and
// ConfigMaps those Ingresses use; it turns them into one immutable
// proxy.Config and hands it to the data plane; and it reports on each of
// its Ingresses' status whether the Ingress was accepted and whether its
// routes are live.
//
// The work is split in three:
//
//   - Selection (class.go): which Ingresses are ours. An Ingress belongs to
//     the class named by spec.ingressClassName or, when that is unset, by
//     the legacy kubernetes.io/ingress.class annotation; it is ours when an
//     IngressClass of that name names our controller. Every other Ingress
//     is left alone: no routes and no status. When an Ingress leaves our
//     classes its routes go with the next rebuild and its status is left as
//     it was (it is no longer ours to write; the controller of its new
//     class owns it).
//   - Translation (translate.go): a pure function from our Ingresses and
//     the objects they reference to a proxy.Config and, per Ingress, the
//     problems found (the reasons of the Accepted condition). It is tested
//     without a client.
//   - Plumbing (controller.go): informers; a debounced rebuild loop that
//     runs the translation over the informers' caches after any relevant
//     change and publishes the result with one Update; and a status work
//     queue, run only by the leader, that writes status when it differs
//     from what the API holds.
//
// Endpoints and health-check ports are read from the EndpointSlices, per
// slice: a Service port whose named target port differs between pods is
// resolved for each endpoint from the slice it comes from. That holds for
// the serving port (proxy.ServiceBackend.Endpoints) and for a health
// check on another Service port (proxy.ServiceBackend.HealthCheckPorts,
// parallel to the endpoints; an endpoint whose slice lacks that port is
// checked on the Service's numeric targetPort, or on its serving port
// when the target port is a name). A check of the serving port leaves
// the port to the proxy: each endpoint is checked on the port it serves
// on.
//
// Every rebuild produces new proxy.Backend objects; the proxy keeps what
// must outlast them (connection pools, health state, round-robin
// positions) by endpoint address and by the backend's Ingress and Name,
// so rebuilding often, as changing slices make it, costs no balance and
// no health state.
package controller
