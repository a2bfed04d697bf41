package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// testIdP is a local identity provider: an RSA and an EC key, and the key
// set that publishes them.
type testIdP struct {
	rsa  *rsa.PrivateKey
	ec   *ecdsa.PrivateKey
	jwks []byte
}

func newIdP(t testing.TB) *testIdP {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pad := func(n *big.Int) []byte { b := make([]byte, 32); n.FillBytes(b); return b }
	set := map[string]any{"keys": []map[string]string{
		{"kty": "RSA", "kid": "r1", "use": "sig", "alg": "RS256", "n": b64(rk.N.Bytes()), "e": b64(big.NewInt(int64(rk.E)).Bytes())},
		{"kty": "EC", "kid": "e1", "crv": "P-256", "x": b64(pad(ek.X)), "y": b64(pad(ek.Y))},
		{"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
	}}
	data, _ := json.Marshal(set)
	return &testIdP{rsa: rk, ec: ek, jwks: data}
}

func (p *testIdP) sign(t testing.TB, kid string, claims jwt.MapClaims) string {
	t.Helper()
	var tok *jwt.Token
	var key any
	if kid == "e1" {
		tok, key = jwt.NewWithClaims(jwt.SigningMethodES256, claims), p.ec
	} else {
		tok, key = jwt.NewWithClaims(jwt.SigningMethodRS256, claims), p.rsa
	}
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOIDC(t *testing.T) {
	idp := newIdP(t)
	jwksFile := filepath.Join(t.TempDir(), "jwks.json")
	os.WriteFile(jwksFile, idp.jwks, 0o600)
	var e *env
	e = newEnv(t, func(c *Config, d *Deps) {
		c.OIDC.Issuer, c.OIDC.Audience, c.OIDC.JWKSFile = "https://id.example.org", "earshot", jwksFile
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		o, err := NewOIDC(context.Background(), c.OIDC, nil)
		if err != nil {
			t.Fatal(err)
		}
		d.OIDC = o
	})
	now := time.Now()
	good := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": "https://id.example.org", "aud": []string{"earshot", "other"}, "sub": "u-42", "exp": now.Add(time.Hour).Unix(),
			"earshot_role": "gatherer", "earshot_teams": []string{"greece"}}
	}
	with := func(k string, v any) jwt.MapClaims { c := good(); c[k] = v; return c }
	without := func(k string) jwt.MapClaims { c := good(); delete(c, k); return c }

	r := e.do(idp.sign(t, "r1", good()), "GET", "/v1/whoami", "")
	var id Identity
	json.Unmarshal(r.body, &id)
	if r.code != 200 || id.Role != Gatherer || id.Name != "oidc:id.example.org/u-42" || id.Via != "oidc" || len(id.Scope.Teams) != 1 {
		t.Fatalf("good RS256 token: %d %s", r.code, r.body)
	}
	if r := e.do(idp.sign(t, "e1", good()), "GET", "/v1/watchlists/apac-list", ""); r.code != 404 {
		t.Errorf("ES256 token, other team's list: %d %s", r.code, r.body)
	}
	if r := e.do(idp.sign(t, "e1", good()), "GET", "/v1/watchlists/acme-gr", ""); r.code != 200 {
		t.Errorf("ES256 token, own list: %d %s", r.code, r.body)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	forged := jwt.NewWithClaims(jwt.SigningMethodRS256, good())
	forged.Header["kid"] = "r1"
	forgedS, _ := forged.SignedString(other)
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, good())
	hs.Header["kid"] = "r1"
	hsS, _ := hs.SignedString(idp.jwks) // the alg confusion attack: an HMAC keyed with public data
	none := jwt.NewWithClaims(jwt.SigningMethodNone, good())
	noneS, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	bad := map[string]string{
		"wrong issuer":       idp.sign(t, "r1", with("iss", "https://evil.example")),
		"wrong audience":     idp.sign(t, "r1", with("aud", "someone-else")),
		"expired":            idp.sign(t, "r1", with("exp", now.Add(-time.Hour).Unix())),
		"no expiry":          idp.sign(t, "r1", without("exp")),
		"not yet valid":      idp.sign(t, "r1", with("nbf", now.Add(time.Hour).Unix())),
		"unknown role":       idp.sign(t, "r1", with("earshot_role", "root")),
		"no role":            idp.sign(t, "r1", without("earshot_role")),
		"bad scope":          idp.sign(t, "r1", with("earshot_teams", []any{"../x"})),
		"unknown kid":        idp.sign(t, "r9", good()),
		"encryption key":     idp.sign(t, "enc", good()),
		"forged signature":   forgedS,
		"HS256 with the set": hsS,
		"alg none":           noneS,
		"garbage":            "a.b.c",
	}
	for name, tok := range bad {
		r := e.do(tok, "GET", "/v1/whoami", "")
		if r.code != 401 {
			t.Errorf("%s: %d %s", name, r.code, r.body)
		}
		if name == "expired" && !strings.Contains(string(r.body), "expired") {
			t.Errorf("expired: %s", r.body)
		}
	}
}

func TestOIDCKeySetURL(t *testing.T) {
	idp := newIdP(t)
	fetches := 0
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fetches++; w.Write(idp.jwks) }))
	defer keys.Close()
	cfg := DefaultConfig().OIDC
	cfg.Issuer, cfg.Audience, cfg.JWKSURL = "iss", "aud", keys.URL
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	o, err := NewOIDC(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := idp.sign(t, "r1", jwt.MapClaims{"iss": "iss", "aud": "aud", "sub": "s", "exp": time.Now().Add(time.Minute).Unix(), "earshot_role": "viewer"})
	if id, err := o.Authenticate(context.Background(), tok); err != nil || id.Role != Viewer {
		t.Fatal(id, err)
	}
	if fetches != 1 {
		t.Errorf("%d fetches", fetches)
	}
	keys.Close()
	cfg.JWKSURL = "http://127.0.0.1:1/keys"
	if _, err := NewOIDC(context.Background(), cfg, nil); err == nil {
		t.Error("an unreachable key set at start is not an error")
	}
}

func TestParseJWKSRejects(t *testing.T) {
	for name, set := range map[string]string{
		"not JSON":    `{`,
		"empty":       `{"keys":[]}`,
		"short RSA":   `{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}`,
		"bad curve":   `{"keys":[{"kty":"EC","kid":"a","crv":"P-192","x":"AA","y":"AA"}]}`,
		"off curve":   `{"keys":[{"kty":"EC","kid":"a","crv":"P-256","x":"AQ","y":"AQ"}]}`,
		"symmetric":   `{"keys":[{"kty":"oct","kid":"a","k":"c2VjcmV0"}]}`,
		"bad ed25519": `{"keys":[{"kty":"OKP","kid":"a","crv":"Ed25519","x":"AQ"}]}`,
		"private key": `{"keys":[{"kty":"OKP","kid":"a","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}`,
		"unknown kty": `{"keys":[{"kty":"XYZ","kid":"a"}]}`,
		"no kty":      `{"keys":[{"kid":"a"}]}`,
		"not a key":   `{"keys":[1]}`,
	} {
		if _, err := ParseJWKS([]byte(set)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// RFC 8037's Ed25519 example, public part: accepted.
	keys, err := ParseJWKS([]byte(`{"keys":[{"kty":"OKP","kid":"ed","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	if err != nil || len(keys) != 1 || keys["ed"] == nil {
		t.Errorf("an Ed25519 key: %v, %v", keys, err)
	}
}

// A token signed with a key the set did not have at start (the provider
// rotated its keys) is accepted after one fetch of the URL, at most once a
// minute; a kid the fresh set does not have either is refused.
func TestOIDCKeyRotation(t *testing.T) {
	old, rotated := newIdP(t), newIdP(t)
	var mu sync.Mutex
	served, fetches := old.jwks, 0
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fetches++
		w.Write(served)
	}))
	defer keys.Close()
	cfg := DefaultConfig().OIDC
	cfg.Issuer, cfg.Audience, cfg.JWKSURL = "iss", "aud", keys.URL
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	o, err := NewOIDC(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	o.now = func() time.Time { return now }
	claims := jwt.MapClaims{"iss": "iss", "aud": "aud", "sub": "s", "exp": now.Add(time.Hour).Unix(), "earshot_role": "viewer"}
	// The new key set names its RSA key r2.
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	json.Unmarshal(rotated.jwks, &set)
	set.Keys[0]["kid"] = "r2"
	mu.Lock()
	served, _ = json.Marshal(set)
	mu.Unlock()
	tok := rotated.sign(t, "r2", claims)
	if _, err := o.Authenticate(context.Background(), tok); err == nil {
		t.Fatal("a new kid was accepted within a minute of the last fetch")
	}
	now = now.Add(2 * time.Minute)
	if id, err := o.Authenticate(context.Background(), tok); err != nil || id.Role != Viewer {
		t.Fatalf("after the rotation: %v, %v", id, err)
	}
	if _, err := o.Authenticate(context.Background(), old.sign(t, "r1", claims)); err == nil {
		t.Error("a token of the retired key r1 is still accepted")
	}
	mu.Lock()
	defer mu.Unlock()
	if fetches != 2 {
		t.Errorf("%d fetches, want 2 (start, rotation)", fetches)
	}
}
