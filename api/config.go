// Package api serves earshot's HTTP API: who may do what (roles, scopes,
// API tokens and OIDC bearer tokens), watchlists, alerts per queue with a
// live feed, search and insights, health and metrics, and an audit log of
// every change.
package api

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"
)

// Config configures the API server.
type Config struct {
	Addr           string        `yaml:"addr"`             // host:port; empty: no API
	StateDir       string        `yaml:"state_dir"`        // tokens.json, audit.jsonl and its shipping checkpoint
	TokensFile     string        `yaml:"tokens_file"`      // default <state_dir>/tokens.json
	MaxBodyBytes   int64         `yaml:"max_body_bytes"`   // request bodies over this are 413
	Rate           float64       `yaml:"rate"`             // requests per second per token (and per address while unauthenticated)
	Burst          int           `yaml:"burst"`            // requests a token may make at once
	AlertsPerQueue int           `yaml:"alerts_per_queue"` // alerts kept per queue without ClickHouse (embedded)
	AuditShip      time.Duration `yaml:"audit_ship"`       // how often the audit log is shipped to ClickHouse
	OIDC           OIDCConfig    `yaml:"oidc"`
	TLS            TLSConfig     `yaml:"tls"` // serve HTTPS; off: HTTP (behind a TLS-terminating proxy, see docs/security.md)
}

// OIDCConfig accepts bearer JWTs of an identity provider. Enabled when
// Issuer is set.
type OIDCConfig struct {
	Issuer       string        `yaml:"issuer"`        // the tokens' iss, exactly
	Audience     string        `yaml:"audience"`      // must be among the tokens' aud
	JWKSFile     string        `yaml:"jwks_file"`     // the provider's key set, as a file
	JWKSURL      string        `yaml:"jwks_url"`      // or fetched from here (https, or http on loopback)
	JWKSRefresh  time.Duration `yaml:"jwks_refresh"`  // how often the URL is fetched again
	RoleClaim    string        `yaml:"role_claim"`    // claim holding the earshot role
	TeamsClaim   string        `yaml:"teams_claim"`   // claim holding the teams scope (array of strings)
	BrandsClaim  string        `yaml:"brands_claim"`  // … brands
	RegionsClaim string        `yaml:"regions_claim"` // … regions
	MarketsClaim string        `yaml:"markets_claim"` // … markets
	NameClaim    string        `yaml:"name_claim"`    // who the caller is in the audit log; default sub
	Leeway       time.Duration `yaml:"leeway"`        // clock skew allowed on exp/nbf/iat
}

// Enabled reports whether OIDC tokens are accepted.
func (c OIDCConfig) Enabled() bool { return c.Issuer != "" }

// DefaultConfig returns an API that is off (no addr) with safe limits.
func DefaultConfig() Config {
	return Config{
		StateDir:       "state/api",
		MaxBodyBytes:   1 << 20,
		Rate:           20,
		Burst:          40,
		AlertsPerQueue: 1000,
		AuditShip:      5 * time.Second,
		OIDC: OIDCConfig{
			JWKSRefresh:  10 * time.Minute,
			RoleClaim:    "earshot_role",
			TeamsClaim:   "earshot_teams",
			BrandsClaim:  "earshot_brands",
			RegionsClaim: "earshot_regions",
			MarketsClaim: "earshot_markets",
			NameClaim:    "sub",
			Leeway:       30 * time.Second,
		},
	}
}

// Tokens returns the tokens file.
func (c Config) Tokens() string {
	if c.TokensFile != "" {
		return c.TokensFile
	}
	return filepath.Join(c.StateDir, "tokens.json")
}

// Validate reports every problem at once. An API without addr is not
// checked further: it is off.
func (c Config) Validate() error {
	if c.Addr == "" {
		return nil
	}
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("api.addr: %q: %w", c.Addr, err))
	}
	if c.StateDir == "" {
		errs = append(errs, errors.New("api.state_dir: required"))
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 64<<20 {
		errs = append(errs, fmt.Errorf("api.max_body_bytes: %d, want 1024 to 67108864", c.MaxBodyBytes))
	}
	if c.Rate <= 0 || c.Burst < 1 || c.Rate > 1e6 || c.Burst > 1_000_000 {
		errs = append(errs, fmt.Errorf("api.rate, api.burst: %v, %d: both must be positive, at most 1000000", c.Rate, c.Burst))
	}
	if c.AlertsPerQueue < 1 || c.AlertsPerQueue > 1_000_000 {
		errs = append(errs, fmt.Errorf("api.alerts_per_queue: %d, want 1 to 1000000", c.AlertsPerQueue))
	}
	if c.AuditShip <= 0 || c.AuditShip > time.Hour {
		errs = append(errs, fmt.Errorf("api.audit_ship: %v, want more than 0, at most 1h", c.AuditShip))
	}
	errs = append(errs, c.OIDC.validate(), c.TLS.validate())
	return errors.Join(errs...)
}

func (c OIDCConfig) validate() error {
	if !c.Enabled() {
		if c.JWKSFile != "" || c.JWKSURL != "" || c.Audience != "" {
			return errors.New("api.oidc: jwks_file, jwks_url and audience need an issuer")
		}
		return nil
	}
	var errs []error
	if c.Audience == "" {
		errs = append(errs, errors.New("api.oidc.audience: required with an issuer"))
	}
	if (c.JWKSFile == "") == (c.JWKSURL == "") {
		errs = append(errs, errors.New("api.oidc: exactly one of jwks_file and jwks_url is required"))
	}
	if c.JWKSURL != "" {
		if err := checkJWKSURL(c.JWKSURL); err != nil {
			errs = append(errs, fmt.Errorf("api.oidc.jwks_url: %w", err))
		}
		if c.JWKSRefresh < time.Minute || c.JWKSRefresh > 24*time.Hour {
			errs = append(errs, fmt.Errorf("api.oidc.jwks_refresh: %v, want 1m to 24h", c.JWKSRefresh))
		}
	}
	if c.RoleClaim == "" || c.NameClaim == "" {
		errs = append(errs, errors.New("api.oidc.role_claim, name_claim: required"))
	}
	if c.Leeway < 0 || c.Leeway > 5*time.Minute {
		errs = append(errs, fmt.Errorf("api.oidc.leeway: %v, want 0 to 5m", c.Leeway))
	}
	return errors.Join(errs...)
}
