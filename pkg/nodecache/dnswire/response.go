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

package dnswire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/miekg/dns"
)

// optLen is the length of an OPT record without options.
const optLen = 11

// Limits says how large a response may be and what it advertises.
type Limits struct {
	// Size is the largest response the client accepts, in bytes.
	Size int
	// UDPSize is the payload size advertised in the OPT record of a response
	// to an EDNS query.
	UDPSize uint16
}

// LimitsFor returns the limits of a response to q: 65535 bytes over TCP; over
// UDP the requestor's advertised payload size (at least 512, at most maxUDP),
// or 512 without EDNS.
func LimitsFor(q *Query, tcp bool, maxUDP uint16) Limits {
	if maxUDP < MinUDPSize {
		maxUDP = MinUDPSize
	}
	l := Limits{Size: MinUDPSize, UDPSize: maxUDP}
	switch {
	case tcp:
		l.Size = MaxMsgSize
	case q.EDNS:
		l.Size = int(min(max(q.UDPSize, MinUDPSize), maxUDP))
	}
	return l
}

// AppendOPT appends an OPT record without options to dst. extRcode is the upper
// eight bits of a 12-bit response code.
func AppendOPT(dst []byte, udpSize uint16, do bool, extRcode uint8) []byte {
	var flags byte
	if do {
		flags = 0x80
	}
	return append(dst,
		0,                                       // root owner
		byte(dns.TypeOPT>>8), byte(dns.TypeOPT), // TYPE
		byte(udpSize>>8), byte(udpSize), // CLASS: payload size
		extRcode, 0, flags, 0, // TTL: extended RCODE, version 0, DO, Z
		0, 0, // RDLENGTH
	)
}

// AppendError appends to dst a response with the given (possibly extended)
// response code to the query msg parsed into q. The question is echoed when it
// parsed, and an OPT record is added when the query had one (RFC 6891).
func AppendError(dst, msg []byte, q *Query, rcode int, udpSize uint16) []byte {
	start := len(dst)
	var b2, b3 byte
	if len(msg) > 3 {
		b2 = msg[2] & (opcodeMask | flagRD)
		b3 = msg[3] & flagCD
	}
	dst = append(dst,
		byte(q.ID>>8), byte(q.ID),
		flagQR|b2, flagRA|b3|byte(rcode&rcodeMask),
		0, 0, 0, 0, 0, 0, 0, 0)
	if q.HasQuestion && q.QuestionEnd <= len(msg) {
		dst[start+5] = 1
		dst = append(dst, msg[HeaderLen:q.QuestionEnd]...)
	}
	if q.EDNS {
		dst[start+11] = 1
		dst = AppendOPT(dst, udpSize, q.DO, uint8(rcode>>4))
	}
	return dst
}

// Rcode returns the response code in the header of msg, ignoring any
// extension in an OPT record, or -1 when msg has no header.
func Rcode(msg []byte) int {
	if len(msg) < HeaderLen {
		return -1
	}
	return int(msg[3] & rcodeMask)
}

// Template is a packed response to one question that can be finished for any
// query with an equal cache key: the message ID, header flags, question letter
// case, TTLs and OPT record are filled in per query. A Template is immutable
// and safe for concurrent use.
type Template struct {
	wire   []byte   // ID 0, AA clear, no OPT record
	ttls   []uint16 // offsets of the TTL fields of every record
	qEnd   int      // offset just past the question
	rcode  int
	minTTL uint32 // smallest TTL of any record; 0 if there are none
}

// ErrTemplate reports a response that cannot become a Template.
var ErrTemplate = errors.New("dnswire: response cannot be templated")

// NewTemplate packs a response to one question into a Template. Its OPT
// record is dropped (each query gets its own), and owner names equal to the
// question name, ignoring case, take the question's spelling so they compress
// to pointers at the question and follow each query's letter case. m is
// modified.
func NewTemplate(m *dns.Msg) (*Template, error) {
	if len(m.Question) != 1 {
		return nil, fmt.Errorf("%w: %d questions", ErrTemplate, len(m.Question))
	}
	rcode := m.Rcode
	extra := m.Extra[:0]
	for _, rr := range m.Extra {
		if opt, ok := rr.(*dns.OPT); ok {
			rcode |= int(opt.ExtendedRcode()) &^ rcodeMask
			continue
		}
		extra = append(extra, rr)
	}
	m.Extra = extra
	if rcode > rcodeMask {
		return nil, fmt.Errorf("%w: extended response code %d", ErrTemplate, rcode)
	}
	name := m.Question[0].Name
	var minTTL uint32
	first := true
	for _, section := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range section {
			h := rr.Header()
			if len(h.Name) == len(name) && h.Name != name && equalFold(h.Name, name) {
				h.Name = name
			}
			if first || h.Ttl < minTTL {
				minTTL, first = h.Ttl, false
			}
		}
	}
	m.Id = 0
	m.Response = true
	m.Authoritative = false
	m.Compress = true
	wire, err := m.Pack()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	t := &Template{wire: wire, rcode: rcode, minTTL: minTTL}
	if t.qEnd, t.ttls, err = ttlOffsets(wire); err != nil {
		return nil, err
	}
	return t, nil
}

// Rcode is the template's response code.
func (t *Template) Rcode() int { return t.rcode }

// MinTTL is the smallest TTL of the template's records, 0 when it has none.
func (t *Template) MinTTL() uint32 { return t.minTTL }

// Len is the length of the packed template.
func (t *Template) Len() int { return len(t.wire) }

// Records is the number of resource records in the template.
func (t *Template) Records() int { return len(t.ttls) }

// Matches reports whether the template's question section lines up with the
// one of the query q.
func (t *Template) Matches(q *Query) bool { return q.HasQuestion && q.QuestionEnd == t.qEnd }

// Append appends the response to the query msg parsed into q. When setTTL is
// true every record's TTL becomes ttl; otherwise the packed TTLs stay. A
// response longer than lim.Size is truncated (see Truncate). Append does not
// allocate unless it truncates.
func (t *Template) Append(dst, msg []byte, q *Query, ttl uint32, setTTL bool, lim Limits) []byte {
	if !t.Matches(q) || q.QuestionEnd > len(msg) {
		return AppendError(dst, msg, q, dns.RcodeServerFailure, lim.UDPSize)
	}
	start := len(dst)
	dst = append(dst, t.wire...)
	r := dst[start:]
	r[0], r[1] = msg[0], msg[1]
	r[2] = r[2]&^flagRD | msg[2]&flagRD
	r[3] = r[3]&^flagCD | msg[3]&flagCD | flagRA
	copy(r[HeaderLen:t.qEnd], msg[HeaderLen:t.qEnd])
	if setTTL {
		for _, off := range t.ttls {
			binary.BigEndian.PutUint32(r[off:], ttl)
		}
	}
	if q.EDNS {
		binary.BigEndian.PutUint16(r[10:], binary.BigEndian.Uint16(r[10:])+1)
		dst = AppendOPT(dst, lim.UDPSize, q.DO, 0)
	}
	if len(dst)-start > lim.Size {
		dst = Truncate(dst, start, lim.Size)
	}
	return dst
}

// Truncate shortens the response at dst[start:] to at most size bytes,
// dropping whole records and setting TC as miekg/dns's Msg.Truncate does,
// and keeping the OPT record. If the response cannot be unpacked it keeps
// just the header, question and OPT record, with TC set.
func Truncate(dst []byte, start, size int) []byte {
	m := new(dns.Msg)
	if err := m.Unpack(dst[start:]); err == nil {
		m.Truncate(size)
		if out, err := m.Pack(); err == nil && len(out) <= size {
			return append(dst[:start], out...)
		}
	}
	return minimal(dst, start)
}

// minimal cuts the response at dst[start:] to its header, question and OPT
// record, and sets TC.
func minimal(dst []byte, start int) []byte {
	r := dst[start:]
	qEnd := HeaderLen
	var opt []byte
	if len(r) >= HeaderLen && binary.BigEndian.Uint16(r[4:]) == 1 {
		if end, ok := skipName(r, HeaderLen); ok && end+4 <= len(r) {
			qEnd = end + 4
		}
	}
	if len(r) >= qEnd+optLen && binary.BigEndian.Uint16(r[10:]) > 0 {
		// The OPT record we add is always the last one and has no options.
		if tail := r[len(r)-optLen:]; tail[0] == 0 && binary.BigEndian.Uint16(tail[1:]) == dns.TypeOPT {
			opt = tail
		}
	}
	var hdr [HeaderLen]byte
	copy(hdr[:], r)
	hdr[2] |= flagTC
	if qEnd > HeaderLen {
		binary.BigEndian.PutUint16(hdr[4:], 1)
	} else {
		binary.BigEndian.PutUint16(hdr[4:], 0)
	}
	binary.BigEndian.PutUint16(hdr[6:], 0)
	binary.BigEndian.PutUint16(hdr[8:], 0)
	binary.BigEndian.PutUint16(hdr[10:], 0)
	var tail [optLen]byte
	if opt != nil {
		copy(tail[:], opt)
		binary.BigEndian.PutUint16(hdr[10:], 1)
	}
	copy(r, hdr[:])
	// The question already sits at r[HeaderLen:qEnd].
	dst = dst[:start+qEnd]
	if opt != nil {
		dst = append(dst, tail[:]...)
	}
	return dst
}

// ttlOffsets walks a packed message and returns the end of its question and
// the offsets of the TTL fields of its records, OPT excluded.
func ttlOffsets(msg []byte) (int, []uint16, error) {
	if len(msg) < HeaderLen || len(msg) > MaxMsgSize {
		return 0, nil, fmt.Errorf("%w: bad length %d", ErrTemplate, len(msg))
	}
	if binary.BigEndian.Uint16(msg[4:]) != 1 {
		return 0, nil, fmt.Errorf("%w: question count is not 1", ErrTemplate)
	}
	off, ok := skipName(msg, HeaderLen)
	if !ok || off+4 > len(msg) {
		return 0, nil, fmt.Errorf("%w: bad question", ErrTemplate)
	}
	qEnd := off + 4
	off = qEnd
	n := int(binary.BigEndian.Uint16(msg[6:])) + int(binary.BigEndian.Uint16(msg[8:])) + int(binary.BigEndian.Uint16(msg[10:]))
	ttls := make([]uint16, 0, n)
	for i := 0; i < n; i++ {
		if off, ok = skipName(msg, off); !ok || off+10 > len(msg) {
			return 0, nil, fmt.Errorf("%w: bad record %d", ErrTemplate, i)
		}
		if binary.BigEndian.Uint16(msg[off:]) != dns.TypeOPT {
			ttls = append(ttls, uint16(off+4))
		}
		off += 10 + int(binary.BigEndian.Uint16(msg[off+8:]))
		if off > len(msg) {
			return 0, nil, fmt.Errorf("%w: record %d overruns the message", ErrTemplate, i)
		}
	}
	return qEnd, ttls, nil
}

// equalFold compares two names of equal length ignoring ASCII case.
func equalFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}
