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

// Package iptables is kube-proxy's iptables proxier: one per address
// family (iptables for IPv4, ip6tables for IPv6), programming Services
// from signet EndpointSlices.
//
// Every sync writes one ruleset with a single iptables-restore --noflush
// call. A full sync rewrites every chain kube-proxy owns and deletes the
// ones it no longer needs (found with iptables-save). A partial sync, when
// only some Services changed, rewrites the shared top-level chains (from
// fragments each Service rendered when it last changed) plus the chains
// of the changed Services, and deletes the chains those no longer use;
// every other Service's chains stay as they are in the kernel. A full sync
// runs at start, every sync period, and after any failure. A failed
// iptables-restore changes nothing in the kernel (the tool applies a
// table atomically), so the previous rules keep serving; the failure is
// logged and counted, and the next sync is a full one.
package iptables

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	discoveryv1 "signet.dev/api/discovery/v1"
	"signet.dev/signet/pkg/proxy"
	"signet.dev/signet/pkg/proxy/conntrack"
	"signet.dev/signet/pkg/proxy/topology"
	utiliptables "signet.dev/signet/pkg/util/iptables"
)

// DefaultMasqueradeBit is the bit of the packet mark that asks for
// masquerading, as upstream kube-proxy uses it.
const DefaultMasqueradeBit = 14

// HealthServer serves the health-check node ports of Services with an
// external traffic policy of Local.
type HealthServer interface {
	// SyncServices sets the Services and their health-check node ports.
	SyncServices(ports map[types.NamespacedName]int32) error
	// SyncEndpoints sets the count of local endpoints of each Service.
	SyncEndpoints(local map[types.NamespacedName]int) error
}

// Config configures a Proxier.
type Config struct {
	// IPTables is the runner of this family; its protocol sets the family.
	IPTables utiliptables.Interface
	// Conntrack deletes stale UDP entries; nil disables that.
	Conntrack conntrack.Interface
	// NodeName is this node's name, for Local traffic policies.
	NodeName string
	// ClusterCIDR is the pod network of this family; traffic to a cluster
	// IP from outside it is masqueraded. Invalid (zero) means unknown.
	ClusterCIDR netip.Prefix
	// MasqueradeAll masquerades all traffic to cluster IPs.
	MasqueradeAll bool
	// MasqueradeBit is the mark bit (0-31) for masquerading.
	MasqueradeBit int
	// NodePortAddresses limits node ports to local addresses in these
	// prefixes of the family; empty means every local address except
	// loopback.
	NodePortAddresses []netip.Prefix
	// FullSyncPeriod is how often a full sync runs even without failures.
	FullSyncPeriod time.Duration
	// Recorder records Events on Services (invalid topology keys,
	// conflicts); nil records none.
	Recorder record.EventRecorder
	// HealthServer, if set, is kept in step with this family's Services.
	HealthServer HealthServer
	// Metrics; nil means unregistered ones.
	Metrics *Metrics
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// serviceRules is what the proxier programmed for one Service.
type serviceRules struct {
	ports []*portRules
}

// Proxier programs the Services of one address family. Its On* methods
// take events from informers; Sync writes the rules.
type Proxier struct {
	cfg     Config
	family  corev1.IPFamily
	familyL string
	render  *renderContext
	// out is the restore input, its buffer reused from one sync to the
	// next.
	out      lineWriter
	masqMark string
	slices   *proxy.SliceCache

	mu             sync.Mutex
	services       map[types.NamespacedName]*corev1.Service
	nodeLabels     map[string]string
	dirty          sets.Set[types.NamespacedName]
	servicesSynced bool
	slicesSynced   bool
	nodeSynced     bool

	// Owned by Sync (syncMu).
	syncMu       sync.Mutex
	programmed   map[types.NamespacedName]*serviceRules
	sortedNames  []types.NamespacedName
	written      sets.Set[string]
	needFull     bool
	lastFull     time.Time
	lastSuccess  time.Time
	topologyNote map[types.NamespacedName]string
	// trigger asks the runner for a sync; nil before SyncLoop.
	trigger func()
}

// New returns a proxier; nothing is written before the first Sync.
func New(cfg Config) (*Proxier, error) {
	if cfg.IPTables == nil {
		return nil, fmt.Errorf("no iptables runner")
	}
	family := corev1.IPv4Protocol
	if cfg.IPTables.Protocol() == utiliptables.ProtocolIPv6 {
		family = corev1.IPv6Protocol
	}
	if cfg.MasqueradeBit == 0 {
		cfg.MasqueradeBit = DefaultMasqueradeBit
	}
	if cfg.MasqueradeBit < 0 || cfg.MasqueradeBit > 31 {
		return nil, fmt.Errorf("masquerade bit %d is not in [0, 31]", cfg.MasqueradeBit)
	}
	if cfg.ClusterCIDR.IsValid() && proxy.Family(cfg.ClusterCIDR.Addr()) != family {
		return nil, fmt.Errorf("cluster CIDR %s is not %s", cfg.ClusterCIDR, family)
	}
	for _, p := range cfg.NodePortAddresses {
		if proxy.Family(p.Addr()) != family {
			return nil, fmt.Errorf("node port address range %s is not %s", p, family)
		}
	}
	if cfg.FullSyncPeriod <= 0 {
		cfg.FullSyncPeriod = time.Hour
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Proxier{
		cfg:          cfg,
		family:       family,
		familyL:      string(family),
		render:       newRenderContext(cfg.ClusterCIDR, cfg.MasqueradeAll),
		masqMark:     fmt.Sprintf("0x%x", uint32(1)<<cfg.MasqueradeBit),
		slices:       proxy.NewSliceCache(),
		services:     map[types.NamespacedName]*corev1.Service{},
		dirty:        sets.New[types.NamespacedName](),
		programmed:   map[types.NamespacedName]*serviceRules{},
		written:      sets.New[string](),
		needFull:     true,
		topologyNote: map[types.NamespacedName]string{},
	}, nil
}

// Family is the address family this proxier programs.
func (p *Proxier) Family() corev1.IPFamily { return p.family }

func (p *Proxier) markDirty(name types.NamespacedName) {
	p.dirty.Insert(name)
	p.cfg.Metrics.PendingChanges.WithLabelValues(p.familyL).Set(float64(p.dirty.Len()))
	if p.trigger != nil {
		p.trigger()
	}
}

// OnServiceUpdate records a new or changed Service.
func (p *Proxier) OnServiceUpdate(svc *corev1.Service) {
	name := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.services[name] = svc
	p.markDirty(name)
}

// OnServiceDelete records a deleted Service.
func (p *Proxier) OnServiceDelete(svc *corev1.Service) {
	name := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.services, name)
	p.markDirty(name)
}

// OnServicesSynced says the Service informer has listed everything.
func (p *Proxier) OnServicesSynced() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.servicesSynced = true
	if p.trigger != nil {
		p.trigger()
	}
}

// OnEndpointSliceUpdate records a new or changed slice.
func (p *Proxier) OnEndpointSliceUpdate(slice *discoveryv1.EndpointSlice) {
	name, changed := p.slices.Update(slice)
	if !changed {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.markDirty(name)
}

// OnEndpointSliceDelete records a deleted slice.
func (p *Proxier) OnEndpointSliceDelete(slice *discoveryv1.EndpointSlice) {
	name, changed := p.slices.Delete(slice)
	if !changed {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.markDirty(name)
}

// OnEndpointSlicesSynced says the slice informer has listed everything.
func (p *Proxier) OnEndpointSlicesSynced() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.slicesSynced = true
	if p.trigger != nil {
		p.trigger()
	}
}

// OnNodeUpdate records this node's labels; Services with topology keys
// are re-evaluated when they change.
func (p *Proxier) OnNodeUpdate(node *corev1.Node) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nodeSynced = true
	if mapsEqual(p.nodeLabels, node.Labels) {
		return
	}
	p.nodeLabels = node.Labels
	for name, svc := range p.services {
		if svc.Annotations[topology.AnnotationKeys] != "" {
			p.markDirty(name)
		}
	}
	if p.trigger != nil {
		p.trigger()
	}
}

// OnNodeSynced says this node's object has been read (or does not exist
// yet, in which case topology keys see no labels).
func (p *Proxier) OnNodeSynced() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nodeSynced = true
	if p.trigger != nil {
		p.trigger()
	}
}

// SyncLoop runs syncs paced between minInterval and the full sync
// period until ctx is done.
func (p *Proxier) SyncLoop(ctx context.Context, minInterval time.Duration) {
	r := proxy.NewRunner(func() error { return p.Sync(ctx) }, minInterval, p.cfg.FullSyncPeriod)
	p.mu.Lock()
	p.trigger = r.Trigger
	p.mu.Unlock()
	r.Trigger()
	r.Run(ctx)
}

// LastSuccess is when the rules were last written successfully (zero
// before the first).
func (p *Proxier) LastSuccess() time.Time {
	p.syncMu.Lock()
	defer p.syncMu.Unlock()
	return p.lastSuccess
}

// Pending reports how many Services changed since the last successful
// sync.
func (p *Proxier) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dirty.Len()
}

// Sync brings the rules in line with the Services and slices seen so far.
func (p *Proxier) Sync(ctx context.Context) error {
	p.syncMu.Lock()
	defer p.syncMu.Unlock()
	logger := klog.FromContext(ctx).WithValues("ipFamily", p.family)

	// Take the changes under the event lock; compute without it.
	p.mu.Lock()
	if !p.servicesSynced || !p.slicesSynced || !p.nodeSynced {
		p.mu.Unlock()
		// Without every Service and slice the rules would cut Services
		// off; without this node's labels topology keys would choose
		// wrongly.
		logger.V(2).Info("Not syncing: waiting for the Service, EndpointSlice and Node informers")
		return nil
	}
	now := p.cfg.Now()
	full := p.needFull || now.Sub(p.lastFull) >= p.cfg.FullSyncPeriod
	var changed []types.NamespacedName
	if full {
		changed = make([]types.NamespacedName, 0, len(p.services)+len(p.programmed))
		for name := range p.services {
			changed = append(changed, name)
		}
		for name := range p.programmed {
			if _, ok := p.services[name]; !ok {
				changed = append(changed, name)
			}
		}
	} else {
		changed = p.dirty.UnsortedList()
	}
	taken := p.dirty
	p.dirty = sets.New[types.NamespacedName]()
	svcs := make(map[types.NamespacedName]*corev1.Service, len(changed))
	for _, name := range changed {
		if svc, ok := p.services[name]; ok {
			svcs[name] = svc
		}
	}
	nodeLabels := p.nodeLabels
	p.mu.Unlock()

	start := time.Now()
	err := p.sync(ctx, logger, full, changed, svcs, nodeLabels)
	kind := "partial"
	if full {
		kind = "full"
	}
	p.cfg.Metrics.SyncDuration.WithLabelValues(p.familyL, kind).Observe(time.Since(start).Seconds())
	if err != nil {
		// Put the changes back so that nothing is forgotten; the next sync
		// is full anyway.
		p.mu.Lock()
		p.dirty = p.dirty.Union(taken)
		p.cfg.Metrics.PendingChanges.WithLabelValues(p.familyL).Set(float64(p.dirty.Len()))
		p.mu.Unlock()
		p.needFull = true
		return err
	}
	p.mu.Lock()
	p.cfg.Metrics.PendingChanges.WithLabelValues(p.familyL).Set(float64(p.dirty.Len()))
	p.mu.Unlock()
	if full {
		p.needFull = false
		p.lastFull = now
	}
	p.lastSuccess = p.cfg.Now()
	p.cfg.Metrics.LastSync.WithLabelValues(p.familyL).Set(float64(p.lastSuccess.Unix()))
	logger.V(2).Info("Synced rules", "type", kind, "services", len(changed), "duration", time.Since(start))
	return nil
}

// sync renders the changed Services, writes the ruleset and, once it is
// in place, commits the new state and cleans up conntrack.
func (p *Proxier) sync(ctx context.Context, logger klog.Logger, full bool, changed []types.NamespacedName,
	svcs map[types.NamespacedName]*corev1.Service, nodeLabels map[string]string) error {
	// Render the changed Services.
	next := make(map[types.NamespacedName]*serviceRules, len(changed))
	for _, name := range changed {
		svc := svcs[name]
		ports := proxy.ServicePorts(svc, p.family)
		if len(ports) == 0 {
			next[name] = nil
			continue
		}
		eps := p.slices.Endpoints(name, p.family)
		sr := &serviceRules{ports: make([]*portRules, 0, len(ports))}
		for _, port := range ports {
			portEps := eps[port.Name]
			sel := proxy.Select(port, portEps, p.cfg.NodeName, nodeLabels)
			sr.ports = append(sr.ports, p.render.render(port, portEps, sel))
		}
		next[name] = sr
		p.noteTopology(logger, svc, ports[0])
	}

	// The Services in order, as they will be after this sync.
	names := p.sortedNames
	if full || p.namesChanged(next) {
		set := sets.New[types.NamespacedName]()
		for name, sr := range p.programmed {
			if _, ok := next[name]; !ok && sr != nil {
				set.Insert(name)
			}
		}
		for name, sr := range next {
			if sr != nil {
				set.Insert(name)
			}
		}
		names = set.UnsortedList()
		slices.SortFunc(names, func(a, b types.NamespacedName) int {
			if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
				return c
			}
			return strings.Compare(a.Name, b.Name)
		})
	}
	current := func(name types.NamespacedName) *serviceRules {
		if sr, ok := next[name]; ok {
			return sr
		}
		return p.programmed[name]
	}

	// Which per-Service chains to delete. A full sync compares every
	// chain it writes with what the kernel has; a partial one only the
	// changed Services' chains before and after, so that its cost follows
	// the size of the change, not of the cluster.
	var wanted, stale sets.Set[string]
	if full {
		n := 0
		for _, name := range names {
			for _, pr := range current(name).ports {
				n += len(pr.natChains)
			}
		}
		wanted = make(sets.Set[string], n)
		for _, name := range names {
			for _, pr := range current(name).ports {
				wanted.Insert(pr.natChains...)
			}
		}
		existing, err := p.existingChains(ctx)
		if err != nil {
			p.cfg.Metrics.RestoreFailures.WithLabelValues(p.familyL).Inc()
			return fmt.Errorf("reading the current nat chains: %w", err)
		}
		stale = sets.New[string]()
		for _, set := range []sets.Set[string]{p.written, existing} {
			for c := range set {
				if !wanted.Has(c) {
					stale.Insert(c)
				}
			}
		}
	} else {
		kept := sets.New[string]()
		for _, sr := range next {
			if sr != nil {
				for _, pr := range sr.ports {
					kept.Insert(pr.natChains...)
				}
			}
		}
		stale = sets.New[string]()
		for name := range next {
			if old := p.programmed[name]; old != nil {
				for _, pr := range old.ports {
					for _, c := range pr.natChains {
						if !kept.Has(c) && p.written.Has(c) {
							stale.Insert(c)
						}
					}
				}
			}
		}
	}

	if err := p.ensureJumps(ctx, full); err != nil {
		p.cfg.Metrics.RestoreFailures.WithLabelValues(p.familyL).Inc()
		return err
	}

	data, natCount, filterCount := p.ruleset(full, names, current, next, stale)
	if err := p.cfg.IPTables.Restore(ctx, data, true); err != nil {
		p.cfg.Metrics.RestoreFailures.WithLabelValues(p.familyL).Inc()
		logger.Error(err, "iptables-restore failed; the previous rules stay in place and the next sync is a full one", "bytes", len(data))
		return fmt.Errorf("iptables-restore: %w", err)
	}

	// Committed: the kernel has the new rules.
	prev := make(map[types.NamespacedName]*serviceRules, len(next))
	for name := range next {
		prev[name] = p.programmed[name]
	}
	for name, sr := range next {
		if sr == nil {
			delete(p.programmed, name)
		} else {
			p.programmed[name] = sr
		}
	}
	p.sortedNames = names
	if full {
		p.written = wanted
		p.render.forget(wanted.Has)
	} else {
		p.written.Delete(stale.UnsortedList()...)
		for _, sr := range next {
			if sr != nil {
				for _, pr := range sr.ports {
					p.written.Insert(pr.natChains...)
				}
			}
		}
	}
	p.cfg.Metrics.Rules.WithLabelValues(p.familyL, "nat").Set(float64(natCount))
	p.cfg.Metrics.Rules.WithLabelValues(p.familyL, "filter").Set(float64(filterCount))
	p.updateTopologyMetrics()
	p.syncHealth(logger)
	p.clearConntrack(ctx, logger, prev, next)
	return nil
}

// namesChanged reports whether the set of programmed Services changes.
func (p *Proxier) namesChanged(next map[types.NamespacedName]*serviceRules) bool {
	for name, sr := range next {
		_, had := p.programmed[name]
		if had != (sr != nil) {
			return true
		}
	}
	return false
}

// ruleset renders the iptables-restore input.
func (p *Proxier) ruleset(full bool, names []types.NamespacedName, current func(types.NamespacedName) *serviceRules,
	next map[types.NamespacedName]*serviceRules, stale sets.Set[string]) ([]byte, int, int) {
	w := &p.out
	w.reset()
	rewritten := func(name types.NamespacedName) bool {
		if full {
			return true
		}
		_, changed := next[name]
		return changed
	}
	// Size the buffer once: growing a 50 MB buffer by doubling copies it
	// several times over.
	size := 4096 + 64*stale.Len()
	for _, name := range names {
		for _, pr := range current(name).ports {
			size += len(pr.filterServices) + len(pr.filterExternal) + len(pr.filterNodePts) + len(pr.natServices) + len(pr.natNodePorts)
			if rewritten(name) {
				size += len(pr.natRules) + 40*len(pr.natChains)
			}
		}
	}
	w.buf.Grow(size)
	natCount, filterCount := 0, 0
	declare := func(chain string) {
		w.buf.WriteByte(':')
		w.buf.WriteString(chain)
		w.buf.WriteString(" - [0:0]\n")
	}

	// filter
	w.buf.WriteString("*filter\n")
	for _, c := range []string{chainServices, chainExternalServices, chainForward, chainNodePorts} {
		declare(c)
	}
	w.begin(chainForward).comment("forward rule for masqueraded traffic").
		args("-m", "mark", "--mark", p.masqMark+"/"+p.masqMark, "-j", "ACCEPT").end()
	w.begin(chainForward).comment("established and related connections").
		args("-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT").end()
	for _, name := range names {
		for _, pr := range current(name).ports {
			w.buf.Write(pr.filterServices)
			w.buf.Write(pr.filterExternal)
			w.buf.Write(pr.filterNodePts)
			filterCount += pr.filterCount
		}
	}
	w.buf.WriteString("COMMIT\n")
	filterCount += w.count
	w.count = 0

	// nat
	w.buf.WriteString("*nat\n")
	for _, c := range []string{chainServices, chainNodePorts, chainPostrouting, chainMarkMasq} {
		declare(c)
	}
	// Declare (and so flush) the chains being rewritten, and the stale
	// ones about to be deleted.
	for _, name := range names {
		if !rewritten(name) {
			continue
		}
		for _, pr := range current(name).ports {
			for _, c := range pr.natChains {
				declare(c)
			}
		}
	}
	staleList := stale.UnsortedList()
	slices.Sort(staleList)
	for _, c := range staleList {
		declare(c)
	}
	w.rule(chainMarkMasq, "-j", "MARK", "--or-mark", p.masqMark)
	w.rule(chainPostrouting, "-m", "mark", "!", "--mark", p.masqMark+"/"+p.masqMark, "-j", "RETURN")
	w.rule(chainPostrouting, "-j", "MARK", "--xor-mark", p.masqMark)
	w.begin(chainPostrouting).comment("kubernetes service traffic requiring SNAT").args("-j", "MASQUERADE", "--random-fully").end()
	for _, name := range names {
		for _, pr := range current(name).ports {
			w.buf.Write(pr.natServices)
			natCount += pr.natCount
		}
	}
	// Node ports last: they match on the local address type, after every
	// specific Service address.
	const lastRule = "kubernetes service nodeports; NOTE: this must be the last rule in this chain"
	if len(p.cfg.NodePortAddresses) == 0 {
		loopback := "127.0.0.0/8"
		if p.family == corev1.IPv6Protocol {
			loopback = "::1/128"
		}
		w.begin(chainServices).comment(lastRule).args("!", "-d", loopback, "-m", "addrtype", "--dst-type", "LOCAL", "-j", chainNodePorts).end()
	} else {
		for _, pfx := range p.cfg.NodePortAddresses {
			w.begin(chainServices).comment(lastRule).args("-d", pfx.String(), "-m", "addrtype", "--dst-type", "LOCAL", "-j", chainNodePorts).end()
		}
	}
	for _, name := range names {
		for _, pr := range current(name).ports {
			w.buf.Write(pr.natNodePorts)
		}
	}
	for _, name := range names {
		if !rewritten(name) {
			continue
		}
		for _, pr := range current(name).ports {
			w.buf.Write(pr.natRules)
		}
	}
	for _, c := range staleList {
		w.buf.WriteString("-X ")
		w.buf.WriteString(c)
		w.buf.WriteByte('\n')
	}
	natCount += w.count
	w.buf.WriteString("COMMIT\n")
	return w.buf.Bytes(), natCount, filterCount
}

// jumps are the rules in built-in chains that lead to kube-proxy's.
var jumps = []struct {
	table utiliptables.Table
	chain utiliptables.Chain
	to    string
	args  []string
}{
	{utiliptables.TableFilter, utiliptables.ChainInput, chainExternalServices, []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes externally-visible service portals"}},
	{utiliptables.TableFilter, utiliptables.ChainInput, chainNodePorts, []string{"-m", "comment", "--comment", "kubernetes health check service ports"}},
	{utiliptables.TableFilter, utiliptables.ChainForward, chainServices, []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes service portals"}},
	{utiliptables.TableFilter, utiliptables.ChainForward, chainExternalServices, []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes externally-visible service portals"}},
	{utiliptables.TableFilter, utiliptables.ChainForward, chainForward, []string{"-m", "comment", "--comment", "kubernetes forwarding rules"}},
	{utiliptables.TableFilter, utiliptables.ChainOutput, chainServices, []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes service portals"}},
	{utiliptables.TableNAT, utiliptables.ChainPrerouting, chainServices, []string{"-m", "comment", "--comment", "kubernetes service portals"}},
	{utiliptables.TableNAT, utiliptables.ChainOutput, chainServices, []string{"-m", "comment", "--comment", "kubernetes service portals"}},
	{utiliptables.TableNAT, utiliptables.ChainPostrouting, chainPostrouting, []string{"-m", "comment", "--comment", "kubernetes postrouting rules"}},
}

// ensureJumps creates kube-proxy's top-level chains and the jumps to them
// from the built-in chains, on full syncs (they are never removed while
// kube-proxy runs, and checking them costs a process per rule).
func (p *Proxier) ensureJumps(ctx context.Context, full bool) error {
	if !full {
		return nil
	}
	for _, j := range jumps {
		if _, err := p.cfg.IPTables.EnsureChain(ctx, j.table, utiliptables.Chain(j.to)); err != nil {
			return fmt.Errorf("creating chain %s in table %s: %w", j.to, j.table, err)
		}
		if _, err := p.cfg.IPTables.EnsureChain(ctx, j.table, j.chain); err != nil {
			return fmt.Errorf("creating chain %s in table %s: %w", j.chain, j.table, err)
		}
		args := append(slices.Clone(j.args), "-j", j.to)
		if _, err := p.cfg.IPTables.EnsureRule(ctx, utiliptables.Prepend, j.table, j.chain, args...); err != nil {
			return fmt.Errorf("adding the jump from %s to %s in table %s: %w", j.chain, j.to, j.table, err)
		}
	}
	return nil
}

// existingChains lists the per-Service chains in the nat table, so that a
// full sync also removes chains left by an earlier run.
func (p *Proxier) existingChains(ctx context.Context) (sets.Set[string], error) {
	data, err := p.cfg.IPTables.Save(ctx, utiliptables.TableNAT)
	if err != nil {
		return nil, err
	}
	out := sets.New[string]()
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, ":") {
			continue
		}
		name, _, _ := strings.Cut(line[1:], " ")
		for _, prefix := range []string{prefixService, prefixLocal, prefixExternal, prefixEndpoint} {
			if strings.HasPrefix(name, prefix) {
				out.Insert(name)
			}
		}
	}
	return out, nil
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
