package api

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// checkJWKSURL accepts https, and http only to a loopback address.
func checkJWKSURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if ip := net.ParseIP(u.Hostname()); (ip != nil && ip.IsLoopback()) || u.Hostname() == "localhost" {
			return nil
		}
	}
	return fmt.Errorf("%q: want https (or http on a loopback address)", s)
}

// ParseJWKS reads a key set's public keys by kid (RFC 7517, each key read by
// go-jose). Keys not for signing (use other than sig) are left out; a
// signing key that does not parse, is symmetric or private, or is an RSA
// key under 2048 bits is an error.
func ParseJWKS(data []byte) (map[string]crypto.PublicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("key set: %w", err)
	}
	keys := map[string]crypto.PublicKey{}
	for i, raw := range set.Keys {
		var head struct {
			Kid string `json:"kid"`
			Use string `json:"use"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return nil, fmt.Errorf("key set: keys[%d]: %w", i, err)
		}
		if head.Use != "" && head.Use != "sig" {
			continue
		}
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("key set: keys[%d] (%s): %w", i, head.Kid, err)
		}
		if !k.IsPublic() {
			return nil, fmt.Errorf("key set: keys[%d] (%s): a symmetric or private key has no place in a public key set", i, head.Kid)
		}
		switch key := k.Key.(type) {
		case *rsa.PublicKey:
			if key.N.BitLen() < 2048 {
				return nil, fmt.Errorf("key set: keys[%d] (%s): RSA key of %d bits, want at least 2048", i, head.Kid, key.N.BitLen())
			}
		case *ecdsa.PublicKey, ed25519.PublicKey:
		default:
			return nil, fmt.Errorf("key set: keys[%d] (%s): key type %T", i, head.Kid, k.Key)
		}
		keys[k.KeyID] = k.Key
	}
	if len(keys) == 0 {
		return nil, errors.New("key set: no signing keys")
	}
	return keys, nil
}

// OIDC validates bearer JWTs against an issuer, an audience and a key set.
type OIDC struct {
	cfg       OIDCConfig
	namespace string // the issuer without its scheme and final slash: OIDC names are "oidc:<namespace>/<name>"
	client    *http.Client
	log       *slog.Logger
	now       func() time.Time

	mu        sync.Mutex
	keys      map[string]crypto.PublicKey
	fetched   time.Time                  // of the URL
	loading   chan struct{}              // closed when the fetch in flight ends; nil when none is
	names     ScopeNames                 // the organisation's spellings of the scope claims (SetScopeNames)
	namesFrom func() (ScopeNames, error) // reads them again: an approved routing change may add a team
	namesAt   time.Time
	logged    map[string]bool // unknown claim values already logged, up to maxLoggedUnknown
}

// maxLoggedUnknown bounds the unknown claim values remembered as logged:
// past it each is logged again rather than remembered without end.
const maxLoggedUnknown = 1024

// SetScopeNames makes the teams, regions and markets claims take the
// organisation's spelling (compared without regard to case): the stores
// compare them exactly, so "dach" for DACH would see nothing. A value it
// does not know is dropped and logged once; a claim left with none
// refuses the token, for it must not widen to the whole organisation.
// from reads the names (now, and again every namesMaxAge); until a read
// succeeds the claims are taken as given, as without names.
func (o *OIDC) SetScopeNames(from func() (ScopeNames, error)) {
	o.mu.Lock()
	o.names, o.namesFrom, o.namesAt = ScopeNames{}, from, time.Time{}
	o.mu.Unlock()
	o.scopeNames()
}

// scopeNames are the names of SetScopeNames, read again when older than
// namesMaxAge (on an error the old ones are kept, and it is logged). One
// caller reads them, outside the lock; the others use the old ones
// meanwhile rather than wait on a file read.
func (o *OIDC) scopeNames() ScopeNames {
	o.mu.Lock()
	names, from := o.names, o.namesFrom
	stale := from != nil && o.now().Sub(o.namesAt) > namesMaxAge
	if stale {
		o.namesAt = o.now()
	}
	o.mu.Unlock()
	if !stale {
		return names
	}
	n, err := from()
	if err != nil {
		o.log.Warn("reading the organisation's teams and markets for the OIDC scope claims; keeping the old ones", "err", err)
		return names
	}
	o.mu.Lock()
	o.names = n
	o.mu.Unlock()
	return n
}

// namesMaxAge is how long the organisation's names are used before they
// are read again.
const namesMaxAge = 10 * time.Second

// NewOIDC loads the key set (file, or a first fetch of the URL).
func NewOIDC(ctx context.Context, cfg OIDCConfig, log *slog.Logger) (*OIDC, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ns := strings.TrimSuffix(cfg.Issuer, "/")
	if _, rest, ok := strings.Cut(ns, "://"); ok {
		ns = rest
	}
	o := &OIDC{cfg: cfg, namespace: ns, client: &http.Client{Timeout: 10 * time.Second}, log: log, now: time.Now}
	if err := o.load(ctx); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *OIDC) load(ctx context.Context) error {
	var data []byte
	var err error
	if o.cfg.JWKSFile != "" {
		data, err = os.ReadFile(o.cfg.JWKSFile)
	} else {
		data, err = o.fetch(ctx)
	}
	if err != nil {
		return fmt.Errorf("oidc: %w", err)
	}
	keys, err := ParseJWKS(data)
	if err != nil {
		return fmt.Errorf("oidc: %w", err)
	}
	o.mu.Lock()
	o.keys, o.fetched = keys, o.now()
	o.mu.Unlock()
	return nil
}

func (o *OIDC) fetch(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.cfg.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching the key set: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching the key set: %s", resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// key finds a key by kid, fetching the URL again when the set is old or
// the kid is new (a rotation), at most once a minute. The fetch is one for
// all callers and none's own: a JWT naming a made-up kid needs no valid
// signature to get here, so a thousand of them at once must not make a
// thousand fetches, and one whose caller hangs up must not cut the fetch
// short (which would put off a real rotation by a minute, again and again).
// Only a caller whose kid is missing waits for it, up to its own deadline.
func (o *OIDC) key(ctx context.Context, kid string) (crypto.PublicKey, error) {
	o.mu.Lock()
	k, ok := o.keys[kid]
	stale := o.cfg.JWKSURL != "" && (o.now().Sub(o.fetched) > o.cfg.JWKSRefresh || !ok && o.now().Sub(o.fetched) > time.Minute)
	var loading chan struct{}
	if stale || o.loading != nil && !ok {
		if o.loading == nil {
			o.loading = make(chan struct{})
			go o.refresh(o.loading)
		}
		loading = o.loading
	}
	o.mu.Unlock()
	if loading != nil && !ok {
		select {
		case <-loading:
		case <-ctx.Done():
			return nil, fmt.Errorf("no key %q in the key set while it is fetched again: %w", kid, ctx.Err())
		}
		o.mu.Lock()
		k, ok = o.keys[kid]
		o.mu.Unlock()
	}
	if !ok {
		return nil, fmt.Errorf("no key %q in the key set", kid)
	}
	return k, nil
}

// refresh fetches the key set again (bounded by the client's timeout) and
// closes done.
func (o *OIDC) refresh(done chan struct{}) {
	err := o.load(context.Background())
	o.mu.Lock()
	if err != nil {
		o.fetched = o.now() // do not hammer a provider that is down
	}
	o.loading = nil
	o.mu.Unlock()
	close(done)
	if err != nil {
		o.log.Warn("refreshing the OIDC key set; keeping the old one", "err", err)
	}
}

var jwtMethods = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Authenticate validates a JWT and returns its identity: issuer, audience,
// expiry (required), signature by a key of the set, and a known role in
// the role claim.
func (o *OIDC) Authenticate(ctx context.Context, raw string) (Identity, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return o.key(ctx, kid)
	}, jwt.WithValidMethods(jwtMethods), jwt.WithIssuer(o.cfg.Issuer), jwt.WithAudience(o.cfg.Audience),
		jwt.WithExpirationRequired(), jwt.WithLeeway(o.cfg.Leeway), jwt.WithTimeFunc(o.now))
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Identity{}, ErrTokenExpired
		}
		return Identity{}, fmt.Errorf("oidc token: %w", err)
	}
	str := func(name string) string { s, _ := claims[name].(string); return s }
	list := func(name string) ([]string, error) {
		if _, there := claims[name]; name == "" || !there {
			return nil, nil
		}
		// An empty scope narrows nothing, so a claim that is there but
		// empty (a user in no team) is refused rather than read as the
		// whole organisation: an organisation-wide identity has no claim.
		var vs []any
		switch v := claims[name].(type) {
		case string:
			vs = []any{v}
		case []any:
			vs = v
		case nil:
		default:
			return nil, fmt.Errorf("oidc token: claim %s: want a string or an array of strings", name)
		}
		if len(vs) == 0 {
			return nil, fmt.Errorf("oidc token: claim %s: empty (leave it out for an organisation-wide identity)", name)
		}
		out := make([]string, 0, len(vs))
		for _, e := range vs {
			s, ok := e.(string)
			if !ok || !scopeName.MatchString(s) {
				return nil, fmt.Errorf("oidc token: claim %s: %v is not a scope name", name, e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	role, err := ParseRole(str(o.cfg.RoleClaim))
	if err != nil {
		return Identity{}, fmt.Errorf("oidc token: claim %s: %w", o.cfg.RoleClaim, err)
	}
	name := str(o.cfg.NameClaim)
	if err := printableName(name, maxNameBytes); err != nil {
		return Identity{}, fmt.Errorf("oidc token: claim %s: %w", o.cfg.NameClaim, err)
	}
	var scope Scope
	var errs []error
	var e error
	scope.Teams, e = list(o.cfg.TeamsClaim)
	errs = append(errs, e)
	scope.Brands, e = list(o.cfg.BrandsClaim)
	errs = append(errs, e)
	scope.Regions, e = list(o.cfg.RegionsClaim)
	errs = append(errs, e)
	scope.Markets, e = list(o.cfg.MarketsClaim)
	errs = append(errs, e)
	if err := errors.Join(errs...); err != nil {
		return Identity{}, err
	}
	scope, dropped, err := o.scopeNames().Narrow(scope)
	o.logUnknown(dropped)
	if err != nil {
		return Identity{}, fmt.Errorf("oidc token: %w", err)
	}
	subject := str("sub")
	if subject == "" {
		subject = name
	} else if err := printableName(subject, maxSubBytes); err != nil {
		return Identity{}, fmt.Errorf("oidc token: claim sub: %w", err)
	}
	// The name is namespaced by the issuer: it is who the caller is in the
	// audit log and to the four-eyes rule, and must never equal a token's
	// name (token names have neither ':' nor '/').
	id := Identity{ID: "oidc:" + subject, Name: "oidc:" + o.namespace + "/" + name, Role: role, Scope: scope, Via: "oidc"}
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		id.ExpiresAt = exp.Time
	}
	return id, nil
}

// logUnknown logs each claim value the organisation does not know, once.
func (o *OIDC) logUnknown(values []string) {
	for _, v := range values {
		o.mu.Lock()
		seen := o.logged[v]
		if !seen && len(o.logged) < maxLoggedUnknown {
			if o.logged == nil {
				o.logged = map[string]bool{}
			}
			o.logged[v] = true
		}
		o.mu.Unlock()
		if !seen {
			o.log.Warn("an OIDC scope claim names what the organisation does not; it is dropped from the scope", "value", v)
		}
	}
}

// CheckActor refuses a name that must not stand for a person in the audit
// log (the CLI's --by): empty, over 128 bytes, or with control or format
// characters or surrounding space (see printableName).
func CheckActor(s string) error { return printableName(s, maxNameBytes) }

// Bounds of the identity claims.
const (
	maxNameBytes = 128
	maxSubBytes  = 255
)

// printableName refuses what must not be an actor's name in an audit log,
// a terminal or a four-eyes comparison: nothing, more than max bytes,
// control characters (a newline forges a log line, ESC starts a terminal
// escape sequence), format characters (bidi overrides, zero-width joiners:
// two names that look alike), and leading or trailing space.
func printableName(s string, max int) error {
	switch {
	case s == "":
		return errors.New("empty")
	case len(s) > max:
		return fmt.Errorf("%d bytes, at most %d", len(s), max)
	case !utf8.ValidString(s):
		return errors.New("not UTF-8")
	case strings.TrimSpace(s) != s:
		return errors.New("leading or trailing space")
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%U is not a printable character (control, format or odd space)", r)
		}
	}
	return nil
}
