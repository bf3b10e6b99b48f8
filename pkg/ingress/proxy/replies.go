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

package proxy

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// serverName is the Server field of the proxy's own responses, and of
// proxied responses whose backend sent none.
const serverName = "signet-ingress"

// reply is a response the proxy makes itself (an error or a refusal),
// precomputed at start up to its Date field.
type reply struct {
	status int
	// head is the status line and the fields that never change, each line
	// ending in CRLF; the Date and Connection fields and the final CRLF
	// are added per response.
	head []byte
	body []byte
	// allow is the Allow field value of a 405.
	allow string
}

// replyStatuses are the statuses the proxy answers itself.
var replyStatuses = []int{400, 404, 405, 408, 413, 417, 431, 500, 501, 502, 503, 504, 505}

// replies holds the precomputed reply of every status in replyStatuses.
// It is filled once by init and only read afterwards.
var replies = func() map[int]*reply {
	m := map[int]*reply{}
	for _, s := range replyStatuses {
		body := []byte(strconv.Itoa(s) + " " + http.StatusText(s) + "\n")
		r := &reply{status: s, body: body}
		h := "HTTP/1.1 " + strconv.Itoa(s) + " " + http.StatusText(s) + "\r\n" +
			"Server: " + serverName + "\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\n" +
			"X-Content-Type-Options: nosniff\r\n" +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\n"
		if s == http.StatusMethodNotAllowed {
			r.allow = "GET, HEAD"
			h += "Allow: " + r.allow + "\r\n"
		}
		r.head = []byte(h)
		m[s] = r
	}
	return m
}()

// replyFor returns the precomputed reply of status (500 for a status the
// proxy does not answer itself).
func replyFor(status int) *reply {
	if r := replies[status]; r != nil {
		return r
	}
	return replies[http.StatusInternalServerError]
}

// dateCache formats the Date field once per second, not per response.
type dateCache struct {
	v atomic.Pointer[dateValue]
}

type dateValue struct {
	unix int64
	// line is "Date: <IMF-fixdate>\r\n".
	line []byte
}

// line returns the Date field line for now.
func (d *dateCache) line(now time.Time) []byte {
	sec := now.Unix()
	if v := d.v.Load(); v != nil && v.unix == sec {
		return v.line
	}
	v := &dateValue{unix: sec}
	v.line = now.UTC().AppendFormat([]byte("Date: "), http.TimeFormat)
	v.line = append(v.line, "\r\n"...)
	d.v.Store(v)
	return v.line
}
