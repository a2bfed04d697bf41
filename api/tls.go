package api

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// TLSConfig makes the API serve HTTPS. Off unless both files are set.
type TLSConfig struct {
	CertFile string `yaml:"cert_file"` // PEM certificate (chain), reloaded when it changes
	KeyFile  string `yaml:"key_file"`  // PEM key of cert_file
}

// Enabled reports whether the API serves HTTPS.
func (c TLSConfig) Enabled() bool { return c.CertFile != "" || c.KeyFile != "" }

func (c TLSConfig) validate() error {
	if !c.Enabled() {
		return nil
	}
	if c.CertFile == "" || c.KeyFile == "" {
		return errors.New("api.tls.cert_file, key_file: give both or neither")
	}
	return nil // the files: ReadSecrets, in the processes that serve the API
}

// ReadSecrets loads the API's key pair, which Validate only checks is
// named: a process that serves the API calls it at start.
func (c Config) ReadSecrets() error {
	if c.Addr == "" || !c.TLS.Enabled() {
		return nil
	}
	if _, err := tls.LoadX509KeyPair(c.TLS.CertFile, c.TLS.KeyFile); err != nil {
		return fmt.Errorf("api.tls.cert_file, key_file: %w", err)
	}
	return nil
}

// certCheckEvery is how often, at most, a handshake looks at the files.
const certCheckEvery = time.Second

// certReloader serves the certificate in its files and loads them again
// when they change (a renewal by cert-manager, certbot or a Secret mount),
// so the API never needs a restart for a new certificate. A handshake
// checks the files' size, modification time and inode at most once a
// second; a pair that does not load (one file renewed, the other not yet)
// leaves the current certificate in place and is tried again.
type certReloader struct {
	cfg TLSConfig
	log *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string // of the files the current certificate came from
	failed  string // of the files that last failed to load, logged once
	checked time.Time
}

func newCertReloader(cfg TLSConfig, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{cfg: cfg, log: log}
	stamp, err := r.stampOf()
	if err != nil {
		return nil, fmt.Errorf("api.tls: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("api.tls.cert_file, key_file: %w", err)
	}
	r.cert, r.stamp, r.checked = &cert, stamp, time.Now()
	return r, nil
}

// stampOf identifies the files' current contents without reading them.
func (r *certReloader) stampOf() (string, error) {
	var s string
	for _, f := range []string{r.cfg.CertFile, r.cfg.KeyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		s += fmt.Sprintf("%s:%d:%d:%v;", f, fi.Size(), fi.ModTime().UnixNano(), inode(fi))
	}
	return s, nil
}

// GetCertificate is the server's tls.Config.GetCertificate.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checked) >= certCheckEvery {
		r.checked = now
		r.reload()
	}
	return r.cert, nil
}

// reload loads the files again if they changed. r.mu is held.
func (r *certReloader) reload() {
	stamp, err := r.stampOf()
	if err != nil || stamp == r.stamp {
		if err != nil && r.failed != err.Error() {
			r.failed = err.Error()
			r.log.Warn("api: the TLS certificate's files cannot be read; serving the one loaded before", "err", err)
		}
		return
	}
	cert, err := tls.LoadX509KeyPair(r.cfg.CertFile, r.cfg.KeyFile)
	if err != nil {
		if r.failed != stamp {
			r.failed = stamp
			r.log.Warn("api: the TLS certificate changed but does not load; serving the one loaded before", "cert_file", r.cfg.CertFile, "err", err)
		}
		return
	}
	r.cert, r.stamp, r.failed = &cert, stamp, ""
	r.log.Info("api: TLS certificate reloaded", "cert_file", r.cfg.CertFile)
}
