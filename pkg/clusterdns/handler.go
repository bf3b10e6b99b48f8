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

package clusterdns

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
	"k8s.io/klog/v2"
)

// Defaults of HandlerConfig.
const (
	DefaultClusterDomain = "cluster.local"
	DefaultTTL           = 30 * time.Second
	// DefaultMaxUDPSize is the largest UDP answer and the payload size
	// advertised: the DNS flag day 2020 value, which avoids fragmentation.
	DefaultMaxUDPSize = 1232
)

// HandlerConfig configures a Handler. The zero value of a field means its
// default.
type HandlerConfig struct {
	// Zone is the cluster domain. Default "cluster.local".
	Zone string
	// TTL is the time to live of every record, and the negative-caching
	// time of the SOA. Whole seconds from 1s to 24h; default 30s.
	TTL time.Duration
	// DisablePodRecords turns off the pod records
	// <a>-<b>-<c>-<d>.<ns>.pod.<zone>, which schema 1.1.0 no longer
	// requires.
	DisablePodRecords bool
	// MaxUDPSize bounds UDP answers, whatever the client advertises.
	// Default 1232; at least 512.
	MaxUDPSize uint16
}

// WithDefaults returns c with zero fields set to their defaults.
func (c HandlerConfig) WithDefaults() HandlerConfig {
	if c.Zone == "" {
		c.Zone = DefaultClusterDomain
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.MaxUDPSize == 0 {
		c.MaxUDPSize = DefaultMaxUDPSize
	}
	return c
}

// Validate reports what is wrong with c, after defaulting.
func (c HandlerConfig) Validate() error {
	var errs []error
	if _, ok := dns.IsDomainName(c.Zone); !ok || dns.Fqdn(c.Zone) == "." {
		errs = append(errs, fmt.Errorf("cluster domain %q is not a domain name below the root", c.Zone))
	}
	z := strings.ToLower(dns.Fqdn(c.Zone))
	for _, rz := range []string{reverseZone4, reverseZone6} {
		if dns.IsSubDomain(rz, z) || dns.IsSubDomain(z, rz) {
			errs = append(errs, fmt.Errorf("cluster domain %q must not be a reverse zone, in one or hold one", c.Zone))
			break
		}
	}
	if c.TTL < time.Second || c.TTL%time.Second != 0 || c.TTL > 24*time.Hour {
		errs = append(errs, fmt.Errorf("TTL must be whole seconds from 1s to 24h, got %v", c.TTL))
	}
	if c.MaxUDPSize < dns.MinMsgSize {
		errs = append(errs, fmt.Errorf("max UDP size must be at least %d, got %d", dns.MinMsgSize, c.MaxUDPSize))
	}
	return errors.Join(errs...)
}

// Handler answers DNS queries from a Store. It is a dns.Handler, safe for
// concurrent use. See README.md for what it answers.
type Handler struct {
	zone       string // lower-case FQDN
	ttl        uint32
	podRecords bool
	maxUDP     uint16
	store      *Store
	nodeLabels NodeLabelsFunc
	synced     func() bool
	metrics    *Metrics
	logger     klog.Logger
}

// NewHandler returns a handler for the cluster domain of cfg answering from
// store. nodeLabels finds the labels of the node a query comes from (nil:
// no Node is known); synced reports whether the store holds the full state
// (nil: always). metrics may be nil.
func NewHandler(cfg HandlerConfig, store *Store, nodeLabels NodeLabelsFunc, synced func() bool, metrics *Metrics, logger klog.Logger) (*Handler, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if nodeLabels == nil {
		nodeLabels = func(string) (map[string]string, bool) { return nil, false }
	}
	if synced == nil {
		synced = func() bool { return true }
	}
	if metrics == nil {
		metrics = NewMetrics(nil, nil)
	}
	return &Handler{
		zone:       strings.ToLower(dns.Fqdn(cfg.Zone)),
		ttl:        uint32(cfg.TTL / time.Second),
		podRecords: !cfg.DisablePodRecords,
		maxUDP:     cfg.MaxUDPSize,
		store:      store,
		nodeLabels: nodeLabels,
		synced:     synced,
		metrics:    metrics,
		logger:     logger,
	}, nil
}

// ServeDNS implements dns.Handler.
func (h *Handler) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	start := time.Now()
	_, tcp := w.RemoteAddr().(*net.TCPAddr)
	proto := protoUDP
	if tcp {
		proto = protoTCP
	}
	var qtype uint16
	if len(r.Question) > 0 {
		qtype = r.Question[0].Qtype
	}
	h.metrics.request(proto, qtype)
	m := h.Respond(r, tcp)
	if m == nil {
		h.metrics.dropped(dropResponse)
		return
	}
	wire, err := m.Pack()
	if err != nil {
		// Cannot happen for what Respond builds; answer rather than hang.
		h.logger.Error(err, "Packing the answer failed", "question", r.Question)
		m = reply(r, dns.RcodeServerFailure)
		if wire, err = m.Pack(); err != nil {
			return
		}
	}
	h.metrics.response(m.Rcode)
	h.metrics.duration(proto, time.Since(start))
	if _, err := w.Write(wire); err != nil {
		h.logger.V(4).Info("Writing the answer failed", "client", w.RemoteAddr(), "err", err)
	}
}

// reply returns an answer to r with rcode and r's question when it has
// exactly one.
func reply(r *dns.Msg, rcode int) *dns.Msg {
	m := &dns.Msg{MsgHdr: dns.MsgHdr{
		Id:               r.Id,
		Response:         true,
		Opcode:           r.Opcode,
		RecursionDesired: r.RecursionDesired,
		CheckingDisabled: r.CheckingDisabled,
		Rcode:            rcode,
	}}
	if len(r.Question) == 1 {
		m.Question = []dns.Question{r.Question[0]}
	}
	return m
}

// Respond returns the answer to r, received over TCP or UDP, or nil when r
// must not be answered (it is a response). It never panics, whatever r.
func (h *Handler) Respond(r *dns.Msg, tcp bool) *dns.Msg {
	if r.Response {
		return nil
	}
	if r.Opcode != dns.OpcodeQuery {
		return reply(r, dns.RcodeNotImplemented)
	}
	if len(r.Question) != 1 {
		return reply(r, dns.RcodeFormatError)
	}
	var reqOPT *dns.OPT
	for _, rr := range r.Extra {
		if o, ok := rr.(*dns.OPT); ok {
			if reqOPT != nil {
				return reply(r, dns.RcodeFormatError) // RFC 6891 section 6.1.1
			}
			reqOPT = o
		}
	}
	m := h.answer(r, reqOPT)
	if reqOPT != nil {
		opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		opt.SetUDPSize(h.maxUDP)
		opt.SetDo(reqOPT.Do())
		m.Extra = append(m.Extra, opt)
	}
	limit := dns.MaxMsgSize
	if !tcp {
		limit = dns.MinMsgSize
		if reqOPT != nil {
			limit = max(dns.MinMsgSize, min(int(reqOPT.UDPSize()), int(h.maxUDP)))
		}
	}
	m.Compress = true
	m.Truncate(limit)
	return m
}

// answer builds the answer to a query with one question, before EDNS0 and
// truncation.
func (h *Handler) answer(r *dns.Msg, reqOPT *dns.OPT) *dns.Msg {
	q := r.Question[0]
	if reqOPT != nil && reqOPT.Version() != 0 {
		return reply(r, dns.RcodeBadVers)
	}
	switch q.Qtype {
	case dns.TypeOPT, dns.TypeTSIG, dns.TypeTKEY, dns.TypeNone:
		return reply(r, dns.RcodeFormatError)
	}
	name := strings.ToLower(q.Name)
	if _, ok := dns.IsDomainName(name); !ok || !dns.IsFqdn(name) {
		// Only a caller in this process can get here (a name off the wire
		// is always valid); the question cannot be echoed.
		m := reply(r, dns.RcodeFormatError)
		m.Question = nil
		return m
	}
	apex := h.apexOf(name)
	switch {
	case apex == "":
		// Not ours: node-cache sends these elsewhere.
		return reply(r, dns.RcodeRefused)
	case q.Qclass != dns.ClassINET:
		return reply(r, dns.RcodeRefused)
	case q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR:
		return reply(r, dns.RcodeRefused)
	case !h.synced():
		return reply(r, dns.RcodeServerFailure)
	}

	c := &client{}
	if node, present, valid := nodeFromQuery(r); present {
		if valid {
			c.node, c.hasNode = node, true
		} else {
			h.metrics.nodeOption(nodeOptionInvalid)
		}
	}

	m := reply(r, dns.RcodeSuccess)
	m.Authoritative = true
	owner := q.Name // answers keep the letter case of the question
	for depth := 0; ; depth++ {
		var n node
		if apex == h.zone {
			n = h.lookupCluster(owner, name, q.Qtype, c)
		} else {
			n = h.lookupReverse(owner, name, apex, q.Qtype)
		}
		if !n.exists {
			m.Rcode = dns.RcodeNameError
			m.Ns = []dns.RR{h.soa(apex)}
			return m
		}
		m.Answer = append(m.Answer, n.answer...)
		m.Extra = append(m.Extra, n.extra...)
		if n.cname == "" || q.Qtype == dns.TypeCNAME {
			if len(n.answer) == 0 {
				m.Ns = []dns.RR{h.soa(apex)} // NODATA
			}
			return m
		}
		// An alias: follow it while it stays in the cluster domain; a
		// resolver follows it elsewhere.
		target := strings.ToLower(n.cname)
		if !dns.IsSubDomain(h.zone, target) || depth+1 >= maxChase {
			return m
		}
		owner, name, apex = n.cname, target, h.zone
	}
}

// apexOf returns the zone a lower-case name belongs to: the cluster
// domain, a reverse zone, or "" for other names.
func (h *Handler) apexOf(name string) string {
	switch {
	case dns.IsSubDomain(h.zone, name):
		return h.zone
	case dns.IsSubDomain(reverseZone4, name):
		return reverseZone4
	case dns.IsSubDomain(reverseZone6, name):
		return reverseZone6
	}
	return ""
}
