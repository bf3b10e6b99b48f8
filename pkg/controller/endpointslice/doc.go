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

// Package endpointslice keeps the discovery.signet.dev/v1 EndpointSlices
// of Services with a selector in step with their pods, writing as few
// objects and bytes as it can.
//
// This file set holds the pure reconcile logic: Reconciler.Reconcile takes
// a Service, its pods, a node lookup and the Service's existing slices and
// returns a Plan (slices to create, update and delete); it calls no API.
// The controller plumbing (informers, work queue, stale-cache tracking)
// applies plans.
//
// # Desired endpoints
//
// Each pod that matches the selector, is not Succeeded or Failed and has an
// IP of a family gives one endpoint in that family, for every family of
// spec.ipFamilies. Conditions follow upstream: serving is the pod's Ready
// condition, terminating is a set deletionTimestamp, ready is serving and
// not terminating, or always true with publishNotReadyAddresses. nodeName,
// zone and the topology map (the node's values for the configured label
// keys) come from the pod's Node; a pod whose Node is unknown is left out
// (unless the Service publishes not-ready addresses) and reported in
// Plan.MissingNodes. hostname is set for headless Services when the pod's
// subdomain is the Service's name. Ports are resolved per pod; endpoints
// are grouped by (family, resolved ports), and each slice holds one group.
//
// # Layout
//
// Each watcher of slices receives every written object whole, so the cost
// of a change is the size of the slice it rewrites. The layout therefore
// uses two slice sizes: full slices of at most MaxEndpointsPerSlice (M,
// default 100) for endpoints at rest, and churn slices of at most
// ChurnSliceSize (c, default ceil(M/16) = 7) for endpoints that change.
// Within a group, per reconcile:
//
//  1. Keep. Existing slices are read fullest first; each keeps the
//     endpoints still desired in its group (updated in place when they
//     changed) and drops the others. An endpoint found in two slices stays
//     in the first.
//  2. Split. A group is rolling when its endpoints carry more than one
//     pod-template-hash (a Deployment rollout). While rolling, a slice
//     that must be rewritten anyway and holds more than c endpoints is
//     rewritten as churn slices of at most c endpoints of one ReplicaSet
//     each: the one write that a change of an outgoing ReplicaSet's slice
//     costs anyway also makes every later change in it cheap. Slices
//     untouched by the rollout (a canary that never changes) stay whole.
//     Any slice above M (after M was lowered) is split into slices of M.
//  3. Place. New endpoints, ordered by ReplicaSet and pod name, go to the
//     fullest slice with room among, in order: slices written anyway in
//     this reconcile, churn slices, and (when not rolling) full slices with
//     room; otherwise to a new churn slice. While rolling only slices of
//     the same ReplicaSet qualify. A group seen for the first time (a new
//     Service) is packed into full slices directly.
//  4. Compact. When a reconcile plans no other write and the Service has
//     had no planned write for SettleDelay (default one minute, measured
//     with the injected clock), a group spread over more slices than
//     ceil(n/M) is packed into that many: the fullest slices are kept,
//     the others' endpoints move into them (most room first) and the
//     emptied slices are deleted. Until then Plan.RequeueAfter says when to
//     look again. A Service that never settles (a pod flapping) is
//     compacted anyway, with its other writes, once compaction has waited
//     10 settle delays (60 for a rolling group).
//
// Writes: an emptied slice is deleted, unless a slice of the same family is
// to be created, which then reuses it (one update instead of a create and
// a delete; a port change thus rewrites slices in place). Slices are named
// <service>-<8 hex digits> from the Service's UID and a counter, the
// lowest free name first, so that the same input gives the same plan and a
// create repeated on a stale cache fails instead of duplicating a slice.
// Managed slices not owned by the Service, or of a family it no longer
// asks for, are deleted; slices managed by others are never touched.
//
// The time of the last planned write and since when compaction has been
// due, per Service, are the only state the Reconciler keeps; losing them
// (a restart) only postpones compaction.
// docs/endpointslice.md has the measurements.
package endpointslice
