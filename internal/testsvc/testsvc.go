// Package testsvc starts the real servers that some tests talk to and that
// are not part of the local stack (deploy/local): a Mailpit SMTP server and a
// Prometheus Alertmanager, one private instance per test on free ports.
//
// The binaries are installed by deploy/local/tools.sh (run by `make unit`
// and `make integration`) into .local/bin of the repository. A test finds a
// binary as $EARSHOT_<NAME>, then .local/bin/<name>, then <name> on the PATH.
// Without it the test is skipped on a developer machine and fails under CI
// (CI set), so that a machine without the server never passes silently.
package testsvc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Binary returns the path of the named server binary (see the package doc).
func Binary(t testing.TB, name string) string {
	t.Helper()
	env := "EARSHOT_" + strings.ToUpper(name)
	if bin := os.Getenv(env); bin != "" {
		return bin
	}
	if root, ok := repoRoot(); ok {
		bin := filepath.Join(root, ".local", "bin", name)
		if _, err := os.Stat(bin); err == nil {
			return bin
		}
	}
	if bin, err := exec.LookPath(name); err == nil {
		return bin
	}
	msg := "no " + name + " binary: run deploy/local/tools.sh (make unit does), or set " + env
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// repoRoot is the nearest directory above the working directory (a test's
// package directory) that holds go.mod with the earshot module.
func repoRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/earshot-dev/earshot\n") {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Mail is a running Mailpit: SMTP on 127.0.0.1:SMTPPort requiring STARTTLS
// with a certificate for localhost and 127.0.0.1 (CAFile is its PEM) and
// authentication as User/Password; API is the base URL of its HTTP API
// (GET API+"/api/v1/messages" lists what was delivered).
type Mail struct {
	SMTPPort       int
	API            string
	CAFile         string
	User, Password string
}

// Mailpit starts a private Mailpit for the test and stops it at cleanup.
func Mailpit(t testing.TB) Mail {
	t.Helper()
	bin := Binary(t, "mailpit")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	m := Mail{User: "earshot", Password: "s3cret-pw", CAFile: certFile}
	authFile := filepath.Join(dir, "auth")
	for f, b := range map[string][]byte{
		certFile: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyFile:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}),
		authFile: []byte(m.User + ":" + m.Password + "\n"),
	} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	m.SMTPPort = FreePort(t)
	httpPort := FreePort(t)
	cmd := exec.Command(bin, "--smtp", "127.0.0.1:"+strconv.Itoa(m.SMTPPort), "--listen", "127.0.0.1:"+strconv.Itoa(httpPort),
		"--database", filepath.Join(dir, "mail.db"), "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile,
		"--smtp-require-starttls", "--smtp-auth-file", authFile, "--quiet")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	m.API = "http://127.0.0.1:" + strconv.Itoa(httpPort)
	waitFor(t, "mailpit", 20*time.Second, func() bool {
		if !httpOK(m.API + "/api/v1/messages") {
			return false
		}
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(m.SMTPPort))
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	return m
}

// Alertmanager starts a private Prometheus Alertmanager that accepts alerts
// and routes them nowhere, and returns its base URL.
func Alertmanager(t testing.TB) string {
	t.Helper()
	bin := Binary(t, "alertmanager")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "am.yml")
	if err := os.WriteFile(cfg, []byte("route: {receiver: none}\nreceivers: [{name: none}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.path="+dir, "--web.listen-address=127.0.0.1:"+strconv.Itoa(port), "--cluster.listen-address=", "--log.level=warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	waitFor(t, "alertmanager", 20*time.Second, func() bool { return httpOK(base + "/-/ready") })
	return base
}

func httpOK(url string) bool {
	res, err := http.Get(url)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

func waitFor(t testing.TB, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start within %s", what, limit)
		}
	}
}
