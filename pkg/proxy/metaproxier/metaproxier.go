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

// Package metaproxier composes one proxier per IP family into the
// proxier a dual-stack node runs. Services go to every family's proxier
// (each programs the cluster IPs, external IPs and load balancer IPs of its
// own family and ignores the rest); an EndpointSlice goes to the proxier
// of its address type; this node's Node goes to all. A single-stack node
// runs a MetaProxier with one proxier.
package metaproxier

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	discoveryv1 "signet.dev/api/discovery/v1"

	"signet.dev/signet/pkg/proxy/iptables"
)

// Proxier is what the MetaProxier needs of one family's proxier;
// *iptables.Proxier implements it.
type Proxier interface {
	// Family is the address family the proxier programs.
	Family() corev1.IPFamily

	OnServiceUpdate(svc *corev1.Service)
	OnServiceDelete(svc *corev1.Service)
	OnServicesSynced()
	OnEndpointSliceUpdate(slice *discoveryv1.EndpointSlice)
	OnEndpointSliceDelete(slice *discoveryv1.EndpointSlice)
	OnEndpointSlicesSynced()
	OnNodeUpdate(node *corev1.Node)
	OnNodeSynced()

	// SyncLoop syncs, paced, until ctx is done; Sync syncs once.
	SyncLoop(ctx context.Context, minInterval time.Duration)
	Sync(ctx context.Context) error

	// LastSuccess and Pending report the proxier's progress, for health.
	LastSuccess() time.Time
	Pending() int
}

var _ Proxier = &iptables.Proxier{}

// MetaProxier fans events out to the proxier of each family.
type MetaProxier struct {
	// proxiers in the order given; the first is the primary family's.
	proxiers []Proxier
	byFamily map[corev1.IPFamily]Proxier
	logger   klog.Logger
}

// New returns a MetaProxier over proxiers, one per family, primary family
// first. logger reports events that no proxier takes.
func New(logger klog.Logger, proxiers ...Proxier) (*MetaProxier, error) {
	if len(proxiers) == 0 {
		return nil, errors.New("no proxier: at least one IP family is needed")
	}
	m := &MetaProxier{byFamily: map[corev1.IPFamily]Proxier{}, logger: logger}
	for _, p := range proxiers {
		f := p.Family()
		if f != corev1.IPv4Protocol && f != corev1.IPv6Protocol {
			return nil, fmt.Errorf("proxier of unknown IP family %q", f)
		}
		if _, dup := m.byFamily[f]; dup {
			return nil, fmt.Errorf("two proxiers for %s", f)
		}
		m.byFamily[f] = p
		m.proxiers = append(m.proxiers, p)
	}
	return m, nil
}

// Proxiers returns the proxiers, primary family first.
func (m *MetaProxier) Proxiers() []Proxier {
	return append([]Proxier(nil), m.proxiers...)
}

// Families returns the families served, primary first.
func (m *MetaProxier) Families() []corev1.IPFamily {
	out := make([]corev1.IPFamily, len(m.proxiers))
	for i, p := range m.proxiers {
		out[i] = p.Family()
	}
	return out
}

// OnServiceUpdate gives a new or changed Service to every proxier.
func (m *MetaProxier) OnServiceUpdate(svc *corev1.Service) {
	for _, p := range m.proxiers {
		p.OnServiceUpdate(svc)
	}
}

// OnServiceDelete gives a deleted Service to every proxier.
func (m *MetaProxier) OnServiceDelete(svc *corev1.Service) {
	for _, p := range m.proxiers {
		p.OnServiceDelete(svc)
	}
}

// OnServicesSynced tells every proxier that the Services are listed.
func (m *MetaProxier) OnServicesSynced() {
	for _, p := range m.proxiers {
		p.OnServicesSynced()
	}
}

// sliceProxier is the proxier of the slice's address type, or nil for an
// FQDN slice or a family this node does not serve.
func (m *MetaProxier) sliceProxier(slice *discoveryv1.EndpointSlice) Proxier {
	var family corev1.IPFamily
	switch slice.AddressType {
	case discoveryv1.AddressTypeIPv4:
		family = corev1.IPv4Protocol
	case discoveryv1.AddressTypeIPv6:
		family = corev1.IPv6Protocol
	default:
		m.logger.V(5).Info("Ignoring EndpointSlice of an address type kube-proxy does not program",
			"endpointSlice", klog.KObj(slice), "addressType", slice.AddressType)
		return nil
	}
	p := m.byFamily[family]
	if p == nil {
		m.logger.V(5).Info("Ignoring EndpointSlice of an IP family this node does not serve",
			"endpointSlice", klog.KObj(slice), "addressType", slice.AddressType)
	}
	return p
}

// OnEndpointSliceUpdate gives a new or changed slice to the proxier of
// its address type.
func (m *MetaProxier) OnEndpointSliceUpdate(slice *discoveryv1.EndpointSlice) {
	if p := m.sliceProxier(slice); p != nil {
		p.OnEndpointSliceUpdate(slice)
	}
}

// OnEndpointSliceDelete gives a deleted slice to the proxier of its
// address type.
func (m *MetaProxier) OnEndpointSliceDelete(slice *discoveryv1.EndpointSlice) {
	if p := m.sliceProxier(slice); p != nil {
		p.OnEndpointSliceDelete(slice)
	}
}

// OnEndpointSlicesSynced tells every proxier that the slices are listed.
func (m *MetaProxier) OnEndpointSlicesSynced() {
	for _, p := range m.proxiers {
		p.OnEndpointSlicesSynced()
	}
}

// OnNodeUpdate gives this node's Node to every proxier.
func (m *MetaProxier) OnNodeUpdate(node *corev1.Node) {
	for _, p := range m.proxiers {
		p.OnNodeUpdate(node)
	}
}

// OnNodeSynced tells every proxier that this node's Node has been read.
func (m *MetaProxier) OnNodeSynced() {
	for _, p := range m.proxiers {
		p.OnNodeSynced()
	}
}

// SyncLoop runs every proxier's sync loop and returns when all have
// stopped, which they do when ctx is done.
func (m *MetaProxier) SyncLoop(ctx context.Context, minInterval time.Duration) {
	var wg sync.WaitGroup
	for _, p := range m.proxiers {
		wg.Go(func() { p.SyncLoop(ctx, minInterval) })
	}
	wg.Wait()
}

// Sync syncs every proxier once, in order, and returns their errors
// joined; one family failing does not keep the other from syncing.
func (m *MetaProxier) Sync(ctx context.Context) error {
	var errs []error
	for _, p := range m.proxiers {
		if err := p.Sync(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.Family(), err))
		}
	}
	return errors.Join(errs...)
}
