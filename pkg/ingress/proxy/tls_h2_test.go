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
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	networkingv1 "signet.dev/api/networking/v1"
)

// testCert makes a certificate for names whose subject says which it is.
func testCert(t *testing.T, label string, names ...string) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: label},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// tlsSetup runs the routing setup with certificates.
func tlsSetup(t *testing.T) *testProxy {
	t.Helper()
	tp, _ := routingSetup(t, Options{})
	cfg := tp.live.Load().cfg
	next := *cfg
	next.TLS = TLSConfig{
		Certificates: map[string]*tls.Certificate{
			"foo.example.com":   testCert(t, "exact", "foo.example.com"),
			"*.example.com":     testCert(t, "wildcard", "*.example.com"),
			"Upper.Example.ORG": testCert(t, "upper", "upper.example.org"),
		},
		SelfSigned: []string{"broken.example.com"},
	}
	tp.Update(&next)
	return tp
}

func TestTLSCertificateSelection(t *testing.T) {
	tp := tlsSetup(t)
	for _, tc := range []struct {
		name, sni string
		subject   string // "" for self-signed
		dnsNames  []string
	}{
		{"exact", "foo.example.com", "exact", []string{"foo.example.com"}},
		{"exact any case", "FOO.example.COM", "exact", []string{"foo.example.com"}},
		{"config key case", "upper.example.org", "upper", []string{"upper.example.org"}},
		{"wildcard", "bar.example.com", "wildcard", []string{"*.example.com"}},
		{"wildcard one label only", "a.bar.example.com", "", []string{"a.bar.example.com"}},
		{"wildcard not the apex", "example.com", "", []string{"example.com"}},
		{"missing secret", "broken.example.com", "", []string{"broken.example.com"}},
		{"unknown", "other.org", "", []string{"other.org"}},
		{"no SNI", "", "", []string{"signet-ingress.invalid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", tp.httpsAddr, insecureTLS(tc.sni))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			leaf := conn.ConnectionState().PeerCertificates[0]
			if tc.subject != "" && leaf.Subject.CommonName != tc.subject {
				t.Errorf("served %q, want %q", leaf.Subject.CommonName, tc.subject)
			}
			if tc.subject == "" && !strings.Contains(strings.Join(leaf.Subject.Organization, ""), "self-signed") {
				t.Errorf("served %v, want a self-signed certificate", leaf.Subject)
			}
			if !slices.Equal(leaf.DNSNames, tc.dnsNames) {
				t.Errorf("DNS names %q, want %q", leaf.DNSNames, tc.dnsNames)
			}
		})
	}
}

func TestHTTPSAndHTTP2(t *testing.T) {
	tp := tlsSetup(t)
	for _, tc := range []struct {
		name      string
		h2        bool
		wantProto string
	}{
		{"HTTP/1.1 over TLS", false, "HTTP/1.1"},
		{"HTTP/2 over TLS", true, "HTTP/2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &http.Transport{
				TLSClientConfig:   insecureTLS(""),
				ForceAttemptHTTP2: tc.h2,
				DialTLSContext:    nil,
				DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
					var d net.Dialer
					return d.DialContext(ctx, "tcp", tp.httpsAddr)
				},
			}
			if !tc.h2 {
				tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
			}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			resp, body := get(t, c, "https://bar.example.com/wild/x?q=1")
			if resp.Proto != tc.wantProto {
				t.Errorf("proto %s, want %s", resp.Proto, tc.wantProto)
			}
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			e := decodeEcho(t, body)
			if e.Backend != "b" || e.RequestURI != "/wild/x?q=1" || e.Host != "bar.example.com" {
				t.Errorf("echo %+v", e)
			}
			if got := e.Header.Get("X-Forwarded-Proto"); got != "https" {
				t.Errorf("X-Forwarded-Proto %q", got)
			}
			if got := e.Header.Get("X-Forwarded-For"); got != "127.0.0.1" {
				t.Errorf("X-Forwarded-For %q", got)
			}
			if resp.Header.Get("Server") != "signet-ingress" {
				t.Errorf("Server %q", resp.Header.Get("Server"))
			}

			// A body, a 404 and a refusal.
			req, _ := http.NewRequest("POST", "https://x/any", strings.NewReader("payload"))
			resp2, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b2, _ := io.ReadAll(resp2.Body)
			resp2.Body.Close()
			if e := decodeEcho(t, string(b2)); e.Body != "payload" || e.Method != "POST" {
				t.Errorf("POST echo %+v", e)
			}
			resp3, body3 := get(t, c, "https://other.org/nothing")
			if resp3.StatusCode != 404 {
				t.Errorf("status %d, want 404", resp3.StatusCode)
			}
			checkProxyReply(t, resp3, body3)
			resp4, _ := get(t, c, "https://other.org/a%2Fb")
			if resp4.StatusCode != 400 {
				t.Errorf("status %d, want 400 for an encoded slash", resp4.StatusCode)
			}
			// A chunked backend response decoded for HTTP/2.
			if resp5, body5 := get(t, c, "https://foo.example.com/chunked"); body5 != "part1-part2" {
				t.Errorf("chunked: status %d body %q", resp5.StatusCode, body5)
			}
		})
	}
}

func TestH2C(t *testing.T) {
	tp, _ := routingSetup(t, Options{})
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	tr := &http.Transport{
		Protocols: &protos,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", tp.httpAddr)
		},
	}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	for range 3 {
		resp, body := get(t, c, "http://foo.example.com/api")
		if resp.Proto != "HTTP/2.0" || resp.StatusCode != 200 {
			t.Fatalf("proto %s status %d", resp.Proto, resp.StatusCode)
		}
		e := decodeEcho(t, body)
		if e.Backend != "b" || e.Header.Get("X-Forwarded-Proto") != "http" || e.Host != "foo.example.com" {
			t.Errorf("echo %+v", e)
		}
	}
	req, _ := http.NewRequest("PUT", "http://x/any/up", io.NopCloser(strings.NewReader("streamed body")))
	req.ContentLength = -1 // unknown length: chunked to the backend
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if e := decodeEcho(t, string(b)); e.Body != "streamed body" || !slices.Equal(e.TE, []string{"chunked"}) {
		t.Errorf("echo %+v", e)
	}
}

func TestWebSocketOverTLS(t *testing.T) {
	tp := tlsSetup(t)
	conn, err := tls.Dial("tcp", tp.httpsAddr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	io.WriteString(conn, "GET /any/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 101 ") {
		t.Fatalf("response %q, err %v", buf[:n], err)
	}
	io.WriteString(conn, "ping")
	if _, err := io.ReadFull(conn, buf[:4]); err != nil || string(buf[:4]) != "PING" {
		t.Errorf("echo %q, err %v", buf[:4], err)
	}
}

func TestStaticBackend(t *testing.T) {
	tp := startProxy(t, Options{})
	static := &Backend{Ingress: "default/site", Name: "default/ConfigMap/site", Static: &StaticBackend{Files: map[string][]byte{
		"index.html": []byte("<h1>home</h1>"),
		"style.css":  []byte("body{}"),
		"data.json":  []byte(`{"a":1}`),
		"blob":       []byte{0, 1, 2},
	}}}
	cfg := buildConfig(t, []*networkingv1.Ingress{testIngress("site", 0, testRule("", prefixPath("/", "site")))},
		map[string]*Backend{"site": static})
	tp.Update(cfg)
	c := tp.client()
	for _, tc := range []struct {
		path, ctype, body string
		status            int
	}{
		{"/", "text/html; charset=utf-8", "<h1>home</h1>", 200},
		{"/docs/", "text/html; charset=utf-8", "<h1>home</h1>", 200},
		{"/index.html", "text/html; charset=utf-8", "<h1>home</h1>", 200},
		{"/a/b/style.css?v=2", "text/css; charset=utf-8", "body{}", 200},
		{"/data.json", "application/json", `{"a":1}`, 200},
		{"/blob", "application/octet-stream", "\x00\x01\x02", 200},
		{"/%73tyle.css", "text/css; charset=utf-8", "body{}", 200},
		{"/missing.txt", "text/plain; charset=utf-8", "404 Not Found\n", 404},
	} {
		resp, body := get(t, c, "http://site.test"+tc.path)
		if resp.StatusCode != tc.status || body != tc.body || resp.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("%s: status %d type %q body %q, want %d %q %q", tc.path, resp.StatusCode,
				resp.Header.Get("Content-Type"), body, tc.status, tc.ctype, tc.body)
		}
		if resp.Header.Get("Server") != "signet-ingress" || resp.Header.Get("Date") == "" {
			t.Errorf("%s: Server %q Date %q", tc.path, resp.Header.Get("Server"), resp.Header.Get("Date"))
		}
	}
	rc := dialRaw(t, tp.httpAddr)
	rc.send("HEAD /style.css HTTP/1.1\r\nHost: x\r\n\r\n")
	if head := rc.head(); !strings.Contains(head, "Content-Length: 6\r\n") || !strings.HasPrefix(head, "HTTP/1.1 200") {
		t.Errorf("HEAD: %q", head)
	}
	rc.send("POST /style.css HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx")
	resp, body := rc.response("POST")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: status %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	checkProxyReply(t, resp, body)
	// The same over HTTP/2.
	tr := &http.Transport{TLSClientConfig: insecureTLS("site.test"), ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", tp.httpsAddr)
		}}
	defer tr.CloseIdleConnections()
	resp, body = get(t, &http.Client{Transport: tr}, "https://site.test/x/style.css")
	if resp.Proto != "HTTP/2.0" || body != "body{}" || resp.Header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("HTTP/2: %s %q %q", resp.Proto, body, resp.Header.Get("Content-Type"))
	}
}
