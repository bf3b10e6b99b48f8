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

package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"

	"github.com/miekg/dns"

	"signet.dev/signet/pkg/nodecache/dnswire"
)

// FuzzServeQuery feeds arbitrary bytes to the query path, UDP and TCP, of a
// server with live test upstreams. Whatever the input, the server must not
// panic; it either drops the message (no header, or a response) or answers
// with a well-formed message carrying the query's ID that fits the client's
// limit. The seed corpus is in testdata/fuzz/FuzzServeQuery.
func FuzzServeQuery(f *testing.F) {
	e := newEnv(f, nil)
	ctx := context.Background()
	prefix := []byte{0xaa, 0xbb}
	f.Fuzz(func(t *testing.T, msg []byte) {
		for _, proto := range []protocol{protoUDP, protoTCP} {
			resp, ok := e.srv.serve(ctx, proto, msg, append([]byte(nil), prefix...))
			if !bytes.Equal(resp[:2], prefix) {
				t.Fatalf("%v: bytes before the answer were overwritten", proto)
			}
			if !ok {
				if len(msg) >= dnswire.HeaderLen && msg[2]&0x80 == 0 {
					t.Fatalf("%v: dropped a message with a query header", proto)
				}
				continue
			}
			resp = resp[2:]
			r := new(dns.Msg)
			if err := r.Unpack(resp); err != nil {
				t.Fatalf("%v: answer %x does not unpack: %v", proto, resp, err)
			}
			if !r.Response || r.Id != binary.BigEndian.Uint16(msg) {
				t.Fatalf("%v: answer header %+v does not answer query ID %d", proto, r.MsgHdr, binary.BigEndian.Uint16(msg))
			}
			var q dnswire.Query
			_ = dnswire.ParseQuery(msg, &q)
			if lim := dnswire.LimitsFor(&q, proto == protoTCP, e.srv.cfg.MaxUDPSize); len(resp) > lim.Size {
				t.Fatalf("%v: answer of %d bytes exceeds the client's limit %d", proto, len(resp), lim.Size)
			}
		}
	})
}
