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

// Package dnswire reads, builds and patches DNS messages in wire format
// without allocating. It is the hot path of node-cache: a query's header and
// question are parsed by hand, and cached answers are finished in place
// (message ID, question case, TTLs, OPT record, truncation).
//
// Anything unusual (truncating an oversized answer, turning a question into a
// presentation-format name) falls back to github.com/miekg/dns.
package dnswire

import (
	"encoding/binary"
	"errors"

	"github.com/miekg/dns"
)

// HeaderLen is the length of a DNS message header.
const HeaderLen = 12

// MaxNameLen is the longest domain name in wire format, root label included.
const MaxNameLen = 255

// MinUDPSize is the UDP payload size every DNS client accepts (RFC 1035, RFC 6891).
const MinUDPSize = 512

// MaxMsgSize is the largest DNS message, bounded by the TCP length prefix.
const MaxMsgSize = 65535

// maxAdditional bounds the additional records a query may carry: an OPT record
// and, at most, a TSIG or SIG(0) record we ignore.
const maxAdditional = 2

// Header flag bits, as they sit in bytes 2 and 3 of a message.
const (
	flagQR = 0x80 // byte 2
	flagAA = 0x04 // byte 2
	flagTC = 0x02 // byte 2
	flagRD = 0x01 // byte 2
	flagRA = 0x80 // byte 3
	flagAD = 0x20 // byte 3
	flagCD = 0x10 // byte 3

	opcodeMask = 0x78 // byte 2
	rcodeMask  = 0x0f // byte 3
)

// Errors returned by ParseQuery. A caller drops a message on ErrShort and
// ErrNotQuery, answers NOTIMP on ErrNotImplemented and FORMERR on ErrFormat.
var (
	ErrShort          = errors.New("dnswire: message shorter than a DNS header")
	ErrNotQuery       = errors.New("dnswire: message is a response")
	ErrNotImplemented = errors.New("dnswire: opcode not implemented")
	ErrFormat         = errors.New("dnswire: malformed query")
)

// Query describes a parsed query. Offsets refer to the message it was parsed
// from; Query holds no reference to it, so it can live on the stack.
type Query struct {
	// ID is the message ID.
	ID uint16
	// Opcode is the header opcode.
	Opcode uint8
	// RD, CD and AD are the query's header flags.
	RD, CD, AD bool

	// HasQuestion is true when the question section parsed; the fields below
	// are valid only then.
	HasQuestion bool
	// NameEnd is the offset just past the QNAME.
	NameEnd int
	// QuestionEnd is the offset just past QTYPE and QCLASS.
	QuestionEnd int
	// Qtype and Qclass are the question's type and class.
	Qtype, Qclass uint16

	// EDNS is true when the query carries an OPT record; UDPSize, DO and
	// Version are valid only then.
	EDNS bool
	// UDPSize is the requestor's UDP payload size from the OPT record.
	UDPSize uint16
	// DO is the DNSSEC OK bit.
	DO bool
	// Version is the EDNS version.
	Version uint8
}

// ParseQuery parses the header, the single question and any OPT record of a
// query into q. It never allocates and never panics, whatever msg holds.
//
// The header fields of q are set whenever the error is not ErrShort, so a
// caller can always answer ErrFormat and ErrNotImplemented with a header that
// matches the query; HasQuestion says whether the question can be echoed too.
func ParseQuery(msg []byte, q *Query) error {
	*q = Query{}
	if len(msg) < HeaderLen {
		return ErrShort
	}
	q.ID = binary.BigEndian.Uint16(msg)
	q.Opcode = (msg[2] & opcodeMask) >> 3
	q.RD = msg[2]&flagRD != 0
	q.AD = msg[3]&flagAD != 0
	q.CD = msg[3]&flagCD != 0
	if msg[2]&flagQR != 0 {
		return ErrNotQuery
	}
	if q.Opcode != dns.OpcodeQuery {
		return ErrNotImplemented
	}
	qd := binary.BigEndian.Uint16(msg[4:])
	an := binary.BigEndian.Uint16(msg[6:])
	ns := binary.BigEndian.Uint16(msg[8:])
	ar := binary.BigEndian.Uint16(msg[10:])
	if qd != 1 {
		return ErrFormat
	}

	off, ok := skipQueryName(msg, HeaderLen)
	if !ok || off+4 > len(msg) {
		return ErrFormat
	}
	q.NameEnd = off
	q.Qtype = binary.BigEndian.Uint16(msg[off:])
	q.Qclass = binary.BigEndian.Uint16(msg[off+2:])
	q.QuestionEnd = off + 4
	if q.Qtype == dns.TypeOPT {
		return ErrFormat
	}
	q.HasQuestion = true

	// A query carries nothing in the answer and authority sections.
	if an != 0 || ns != 0 || ar > maxAdditional {
		return ErrFormat
	}
	off = q.QuestionEnd
	for i := 0; i < int(ar); i++ {
		var err error
		if off, err = parseAdditional(msg, off, q); err != nil {
			return err
		}
	}
	// Trailing bytes after the last record are tolerated, as most servers do.
	return nil
}

// parseAdditional parses one additional record at off, recording an OPT
// record in q, and returns the offset after it.
func parseAdditional(msg []byte, off int, q *Query) (int, error) {
	nameStart := off
	off, ok := skipName(msg, off)
	if !ok || off+10 > len(msg) {
		return 0, ErrFormat
	}
	rrtype := binary.BigEndian.Uint16(msg[off:])
	class := binary.BigEndian.Uint16(msg[off+2:])
	ttl := msg[off+4 : off+8]
	rdlen := int(binary.BigEndian.Uint16(msg[off+8:]))
	end := off + 10 + rdlen
	if end > len(msg) {
		return 0, ErrFormat
	}
	if rrtype != dns.TypeOPT {
		return end, nil
	}
	// RFC 6891 section 6.1.1: one OPT record, owned by the root.
	if q.EDNS || off-nameStart != 1 || msg[nameStart] != 0 {
		return 0, ErrFormat
	}
	// Options must tile RDATA exactly.
	for o := off + 10; o < end; {
		if o+4 > end {
			return 0, ErrFormat
		}
		o += 4 + int(binary.BigEndian.Uint16(msg[o+2:]))
		if o > end {
			return 0, ErrFormat
		}
	}
	q.EDNS = true
	q.UDPSize = class
	q.Version = ttl[1]
	q.DO = ttl[2]&0x80 != 0
	return end, nil
}

// skipQueryName returns the offset after an uncompressed name starting at off.
// A question can hold no compression pointer: the only earlier bytes are the
// header.
func skipQueryName(msg []byte, off int) (int, bool) {
	start := off
	for {
		if off >= len(msg) {
			return 0, false
		}
		l := int(msg[off])
		off++
		if l == 0 {
			return off, off-start <= MaxNameLen
		}
		if l&0xc0 != 0 {
			return 0, false
		}
		off += l
		if off-start > MaxNameLen {
			return 0, false
		}
	}
}

// skipName returns the offset after a possibly compressed name starting at
// off. Pointers are not followed: they end the name in place.
func skipName(msg []byte, off int) (int, bool) {
	start := off
	for {
		if off >= len(msg) {
			return 0, false
		}
		l := int(msg[off])
		switch l & 0xc0 {
		case 0x00:
			off++
			if l == 0 {
				return off, true
			}
			off += l
			if off-start > MaxNameLen {
				return 0, false
			}
		case 0xc0:
			if off+2 > len(msg) {
				return 0, false
			}
			return off + 2, true
		default: // extended label types (RFC 6891 deprecated them)
			return 0, false
		}
	}
}

// AppendKey appends the cache key of q to dst: the question name in lower case,
// QTYPE, QCLASS and one byte holding the DO and CD bits. Equal keys mean
// questions that share one answer, whatever their letter case.
func AppendKey(dst, msg []byte, q *Query) []byte {
	for _, c := range msg[HeaderLen:q.NameEnd] {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	var bits byte
	if q.DO {
		bits |= 1
	}
	if q.CD {
		bits |= 2
	}
	return append(dst, byte(q.Qtype>>8), byte(q.Qtype), byte(q.Qclass>>8), byte(q.Qclass), bits)
}

// Question is a query's question in presentation form with the bits that
// change the answer. It is what a cache asks of an upstream.
type Question struct {
	// Name is the fully qualified name, in the letter case of the query.
	Name string
	// Type and Class are QTYPE and QCLASS.
	Type, Class uint16
	// DO asks for DNSSEC records; CD disables upstream validation.
	DO, CD bool
}

// Question converts the question of a parsed query to presentation form.
// It allocates, so it belongs on the cache-miss path.
func (q *Query) Question(msg []byte) (Question, error) {
	if !q.HasQuestion || q.NameEnd > len(msg) {
		return Question{}, ErrFormat
	}
	name, _, err := dns.UnpackDomainName(msg[:q.NameEnd], HeaderLen)
	if err != nil {
		return Question{}, errors.Join(ErrFormat, err)
	}
	return Question{Name: name, Type: q.Qtype, Class: q.Qclass, DO: q.DO, CD: q.CD}, nil
}
