package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pki writes a CA, a server certificate for 127.0.0.1 and a client
// certificate signed by it, and returns their files.
type pki struct{ dir, ca, serverCert, serverKey, clientCert, clientKey string }

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	p := pki{dir: dir, ca: write("ca.pem", "CERTIFICATE", caDER)}
	leaf := func(name string, serial int64, usage x509.ExtKeyUsage) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour),
			NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, _ := x509.MarshalPKCS8PrivateKey(key)
		return write(name+".pem", "CERTIFICATE", der), write(name+".key", "PRIVATE KEY", kder)
	}
	p.serverCert, p.serverKey = leaf("server", 2, x509.ExtKeyUsageServerAuth)
	p.clientCert, p.clientKey = leaf("client", 3, x509.ExtKeyUsageClientAuth)
	return p
}

func TestClientRefusesWhatItShould(t *testing.T) {
	p := newPKI(t)
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"settings without enabled", Config{CAFile: p.ca}, "x.tls: ca_file, cert_file, key_file, server_name and insecure_skip_verify need enabled: true"},
		{"insecure without the allow", Config{Enabled: true, InsecureSkipVerify: true}, "x.tls.insecure_skip_verify: refused"},
		{"unreadable CA", Config{Enabled: true, CAFile: filepath.Join(p.dir, "nope.pem")}, "x.tls.ca_file: open "},
		{"a CA file without a certificate", Config{Enabled: true, CAFile: p.serverKey}, "x.tls.ca_file: no PEM certificate in"},
		{"cert without key", Config{Enabled: true, CertFile: p.clientCert}, "x.tls.cert_file, key_file: give both or neither"},
		{"key of another cert", Config{Enabled: true, CertFile: p.clientCert, KeyFile: p.serverKey}, "x.tls.cert_file, key_file: tls: private key does not match public key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.cfg.Validate("x.tls"); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate = %v, want an error containing %q", err, c.want)
			}
		})
	}
	if cfg, err := (Config{}).Client("x"); cfg != nil || err != nil {
		t.Errorf("off: %v, %v; want nil, nil", cfg, err)
	}
	cfg, err := Config{Enabled: true, InsecureSkipVerify: true, AllowInsecure: true}.Client("x")
	if err != nil || !cfg.InsecureSkipVerify {
		t.Errorf("insecure with the allow: %v, %v", cfg, err)
	}
}

// TestClientTrustsTheCAAndShowsItsCertificate: a server that requires a
// client certificate accepts the configured one, over a CA the system does
// not trust; without the CA or the certificate the handshake fails.
func TestClientTrustsTheCAAndShowsItsCertificate(t *testing.T) {
	p := newPKI(t)
	serverCert, err := tls.LoadX509KeyPair(p.serverCert, p.serverKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	b, _ := os.ReadFile(p.ca)
	pool.AppendCertsFromPEM(b)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.(*tls.Conn).Handshake()
				c.Write([]byte("ok"))
			}()
		}
	}()
	dial := func(c Config) error {
		cfg, err := c.Client("x")
		if err != nil {
			return err
		}
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), cfg)
		if err != nil {
			return err
		}
		defer conn.Close()
		buf := make([]byte, 2)
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = conn.Read(buf) // a refused client certificate shows here, in TLS 1.3
		return err
	}
	mtls := Config{Enabled: true, CAFile: p.ca, CertFile: p.clientCert, KeyFile: p.clientKey}
	if err := dial(mtls); err != nil {
		t.Fatalf("mTLS with the CA and a client certificate: %v", err)
	}
	if err := dial(Config{Enabled: true, CertFile: p.clientCert, KeyFile: p.clientKey}); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Errorf("without the CA: %v, want an unknown authority", err)
	}
	if err := dial(Config{Enabled: true, CAFile: p.ca}); err == nil {
		t.Error("without a client certificate: no error")
	}
	named := mtls
	named.ServerName = "kafka.example.com"
	if err := dial(named); err == nil || !strings.Contains(err.Error(), "kafka.example.com") {
		t.Errorf("server_name another name: %v", err)
	}
}
