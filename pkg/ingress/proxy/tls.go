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
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/netip"
	"strings"
	"sync"
	"time"

	"k8s.io/klog/v2"
)

// noSNIName is the DNS name of the self-signed certificate served to
// clients that send no server name.
const noSNIName = "signet-ingress.invalid"

// maxSelfSigned bounds the cache of self-signed certificates: the server
// name is chosen by the client, so the cache must not grow with it.
const maxSelfSigned = 1024

// certSelector chooses a certificate by server name from one Config.
type certSelector struct {
	certs      map[string]*tls.Certificate
	selfSigned map[string]bool
}

func newCertSelector(t *TLSConfig) *certSelector {
	s := &certSelector{
		certs:      make(map[string]*tls.Certificate, len(t.Certificates)),
		selfSigned: make(map[string]bool, len(t.SelfSigned)),
	}
	for name, c := range t.Certificates {
		if c != nil {
			s.certs[strings.ToLower(name)] = c
		}
	}
	for _, name := range t.SelfSigned {
		s.selfSigned[strings.ToLower(name)] = true
	}
	return s
}

// pick returns the certificate for a lower-case server name: the exact
// name's, then, unless the name is to be served self-signed, the wildcard
// one label up ("*.foo.com" for "bar.foo.com", never for "foo.com" or
// "a.bar.foo.com"). nil means: serve a self-signed certificate.
func (s *certSelector) pick(name string) *tls.Certificate {
	if c := s.certs[name]; c != nil {
		return c
	}
	i := strings.IndexByte(name, '.')
	if i <= 0 {
		return nil
	}
	wild := "*" + name[i:]
	if s.selfSigned[name] || s.selfSigned[wild] {
		return nil
	}
	return s.certs[wild]
}

// selfSigner makes self-signed certificates, all with one ECDSA P-256 key
// generated at start, and caches them by name.
type selfSigner struct {
	key *ecdsa.PrivateKey

	mu    sync.Mutex
	cache map[string]*tls.Certificate
}

func newSelfSigner() (*selfSigner, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the self-signed certificate key: %w", err)
	}
	return &selfSigner{key: key, cache: map[string]*tls.Certificate{}}, nil
}

// get returns a certificate carrying name as its DNS name (or IP address).
func (s *selfSigner) get(name string) (*tls.Certificate, error) {
	if !plausibleName(name) {
		name = noSNIName
	}
	s.mu.Lock()
	c := s.cache[name]
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	c, err := s.make(name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.cache) >= maxSelfSigned {
		for k := range s.cache { // drop an arbitrary entry
			delete(s.cache, k)
			break
		}
	}
	s.cache[name] = c
	s.mu.Unlock()
	return c, nil
}

func (s *selfSigner) make(name string) (*tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"signet-ingress self-signed"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	if ip, err := netip.ParseAddr(name); err == nil {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip.AsSlice())
	} else {
		tmpl.DNSNames = []string{name}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &s.key.PublicKey, s.key)
	if err != nil {
		return nil, fmt.Errorf("creating a self-signed certificate for %q: %w", name, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	klog.V(2).InfoS("Made a self-signed certificate", "name", name)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: s.key, Leaf: leaf}, nil
}

// plausibleName reports whether name can go into a certificate: a DNS
// name (letters, digits, '-', '_', '.', a leading "*.") or an IP address.
func plausibleName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return true
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' ||
			(c == '*' && i == 0 && len(name) > 2 && name[1] == '.')
		if !ok {
			return false
		}
	}
	return true
}

// getCertificate is tls.Config.GetCertificate: by SNI from the live
// Config, or self-signed for names it has no certificate for (and for
// clients without SNI).
func (p *Proxy) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.TrimSuffix(strings.ToLower(hello.ServerName), ".")
	if lc := p.live.Load(); lc != nil && name != "" {
		if c := lc.certs.pick(name); c != nil {
			return c, nil
		}
	}
	if name == "" {
		name = noSNIName
	}
	return p.selfSigned.get(name)
}

// tlsConfig is the server configuration of the HTTPS listeners: HTTP/2
// and HTTP/1.1 offered by ALPN.
func (p *Proxy) tlsConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: p.getCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
		MinVersion:     tls.VersionTLS12,
	}
}
