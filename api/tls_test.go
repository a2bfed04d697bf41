package api

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 named cn to
// cert and key.
func selfSigned(t *testing.T, cn, cert, key string) *x509.Certificate {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(k)
	// Written as a renewal writes them: a new file renamed over the old.
	for path, b := range map[string][]byte{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
	} {
		if err := os.WriteFile(path+".tmp", b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestAPIServesTLSAndReloadsTheCertificate: with api.tls the API answers
// HTTPS only, and a renewed certificate is served without a restart; a
// renewal that does not load leaves the last good one in place.
func TestAPIServesTLSAndReloadsTheCertificate(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first := selfSigned(t, "first", cert, key)
	var logs lockedBuf
	e := newEnv(t, func(c *Config, d *Deps) {
		c.TLS = TLSConfig{CertFile: cert, KeyFile: key}
		d.Log = slog.New(slog.NewTextHandler(&logs, nil))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		<-done
	}()
	url := "https://" + ln.Addr().String() + "/healthz"
	served := func(trust *x509.Certificate) (string, error) {
		pool := x509.NewCertPool()
		pool.AddCert(trust)
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
		res, err := c.Get(url)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("healthz: %s", res.Status)
		}
		return res.TLS.PeerCertificates[0].Subject.CommonName, nil
	}
	if cn, err := served(first); err != nil || cn != "first" {
		t.Fatalf("served %q, %v; want first", cn, err)
	}
	if res, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		res.Body.Close() // Go's TLS server answers 400; an unclosed body keeps the connection's goroutines
		if res.StatusCode == 200 {
			t.Fatal("plain HTTP answered on a TLS listener")
		}
	}

	second := selfSigned(t, "second", cert, key)
	deadline := time.Now().Add(10 * time.Second)
	for {
		cn, err := served(second)
		if err == nil && cn == "second" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the renewed certificate was not served: %q, %v", cn, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "TLS certificate reloaded") {
		t.Errorf("no reload logged: %s", logs.String())
	}

	// Half a renewal: a key that is not the certificate's.
	if err := os.WriteFile(key, []byte("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(certCheckEvery + 100*time.Millisecond)
	for range 3 {
		if cn, err := served(second); err != nil || cn != "second" {
			t.Fatalf("after a broken renewal: %q, %v; want the last good certificate", cn, err)
		}
	}
	if n := strings.Count(logs.String(), "does not load"); n != 1 {
		t.Errorf("the broken renewal was logged %d times, want once: %s", n, logs.String())
	}
}

func TestAPITLSConfigRefused(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	selfSigned(t, "x", cert, key)
	for _, c := range []struct {
		tls  TLSConfig
		want string
	}{
		{TLSConfig{CertFile: cert}, "api.tls.cert_file, key_file: give both or neither"},
		{TLSConfig{CertFile: cert, KeyFile: filepath.Join(dir, "none")}, "api.tls.cert_file, key_file: open "},
		{TLSConfig{CertFile: key, KeyFile: key}, "api.tls.cert_file, key_file: tls: "},
	} {
		cfg := DefaultConfig()
		cfg.Addr, cfg.TLS = "127.0.0.1:0", c.tls
		// Validate checks the pair is named; ReadSecrets (the process
		// that serves) reads it.
		if err := errors.Join(cfg.Validate(), cfg.ReadSecrets()); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error containing %q", c.tls, err, c.want)
		}
	}
}
