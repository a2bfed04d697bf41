// Package tlsconf turns the tls: sections of earshot's configuration (the
// client side of Kafka and ClickHouse connections) into a *tls.Config.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// Config is a client's TLS settings. Off unless Enabled.
type Config struct {
	Enabled    bool   `yaml:"enabled"`
	CAFile     string `yaml:"ca_file"`     // PEM certificates of the CAs to trust; default the system's
	CertFile   string `yaml:"cert_file"`   // PEM client certificate (mTLS), with key_file
	KeyFile    string `yaml:"key_file"`    // PEM key of cert_file
	ServerName string `yaml:"server_name"` // name the server's certificate must carry; default the host dialled
	// InsecureSkipVerify accepts any server certificate: anyone on the path
	// can then read and change the traffic. Refused unless AllowInsecure is
	// set too, so it is never on by a slip.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	AllowInsecure      bool `yaml:"allow_insecure"`
}

// Validate checks the settings and reads the files, reporting every problem
// at once; key is the section's name in the configuration (sink.tls).
func (c Config) Validate(key string) error {
	_, err := c.Client(key)
	return err
}

// ValidateShape is Validate without reading the files: the settings go
// together, but the files need only be there in the processes that
// connect (which call Validate or Client at start).
func (c Config) ValidateShape(key string) error {
	if !c.Enabled {
		_, err := c.Client(key) // reads nothing when off
		return err
	}
	var errs []error
	if (c.CertFile == "") != (c.KeyFile == "") {
		errs = append(errs, fmt.Errorf("%s.cert_file, key_file: give both or neither", key))
	}
	if c.InsecureSkipVerify && !c.AllowInsecure {
		_, err := Config{Enabled: true, InsecureSkipVerify: true}.Client(key)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Client returns the TLS configuration for a client, or nil when TLS is off.
// key is the section's name, for the errors.
func (c Config) Client(key string) (*tls.Config, error) {
	if !c.Enabled {
		if c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" || c.ServerName != "" || c.InsecureSkipVerify {
			return nil, fmt.Errorf("%s: ca_file, cert_file, key_file, server_name and insecure_skip_verify need enabled: true (else the connection would not use TLS)", key)
		}
		return nil, nil
	}
	var errs []error
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if c.CAFile != "" {
		b, err := os.ReadFile(c.CAFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.ca_file: %w", key, err))
		} else {
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(b) {
				errs = append(errs, fmt.Errorf("%s.ca_file: no PEM certificate in %s", key, c.CAFile))
			}
		}
	}
	switch {
	case (c.CertFile == "") != (c.KeyFile == ""):
		errs = append(errs, fmt.Errorf("%s.cert_file, key_file: give both or neither", key))
	case c.CertFile != "":
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.cert_file, key_file: %w", key, err))
		} else {
			cfg.Certificates = []tls.Certificate{cert}
		}
	}
	if c.InsecureSkipVerify {
		if !c.AllowInsecure {
			errs = append(errs, fmt.Errorf("%s.insecure_skip_verify: refused: it accepts any certificate, so anyone on the path can read and change the traffic; trust the server's CA with ca_file, or set allow_insecure: true as well to accept the risk", key))
		}
		cfg.InsecureSkipVerify = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return cfg, nil
}
