package api

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestTokenNamesAreUnique: the audit log and the four-eyes rule know people
// by name, so two live tokens may not share one (a second "ann" could
// approve the first's edit as "ann", or pass for her in the log). A name
// comes free again once its token is revoked: a rotation keeps the person.
func TestTokenNamesAreUnique(t *testing.T) {
	s, err := OpenTokens(filepath.Join(t.TempDir(), "tokens.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	first, _, err := s.Create(NewToken{Name: "ann", Role: Gatherer, CreatedBy: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ann", "ANN", "Ann"} {
		if _, _, err := s.Create(NewToken{Name: name, Role: Coach, CreatedBy: "ops"}); !errors.Is(err, ErrTokenName) {
			t.Errorf("a second live token named %q: %v, want ErrTokenName", name, err)
		}
	}
	if _, _, err := s.Revoke(first.ID, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Create(NewToken{Name: "ann", Role: Gatherer, CreatedBy: "ops"}); err != nil {
		t.Errorf("ann's new token after the old one was revoked: %v", err)
	}
	// an expired token's name is free too
	now := time.Now()
	s.now = func() time.Time { return now }
	if _, _, err := s.Create(NewToken{Name: "bob", Role: Coach, TTL: time.Hour, CreatedBy: "ops"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	if _, _, err := s.Create(NewToken{Name: "bob", Role: Coach, CreatedBy: "ops"}); err != nil {
		t.Errorf("bob's new token after the old one expired: %v", err)
	}
}

// TestOIDCNamesPrintableAndNamespaced: an OIDC name (and sub) with a
// newline, an escape sequence, a bidi override or a thousand bytes is
// refused (401); a good one is namespaced by the issuer, so that it never
// equals a token's name (a token may not be called "u-42" and pass for
// the OIDC user u-42 in the log or the four-eyes rule).
func TestOIDCNamesPrintableAndNamespaced(t *testing.T) {
	idp := newIdP(t)
	jwksFile := filepath.Join(t.TempDir(), "jwks.json")
	os.WriteFile(jwksFile, idp.jwks, 0o600)
	e := newEnv(t, func(c *Config, d *Deps) {
		c.OIDC.Issuer, c.OIDC.Audience, c.OIDC.JWKSFile = "https://id.example.org/", "earshot", jwksFile
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		o, err := NewOIDC(context.Background(), c.OIDC, nil)
		if err != nil {
			t.Fatal(err)
		}
		d.OIDC = o
	})
	claims := func(sub string) jwt.MapClaims {
		return jwt.MapClaims{"iss": "https://id.example.org/", "aud": "earshot", "sub": sub, "exp": time.Now().Add(time.Hour).Unix(), "earshot_role": "coach"}
	}
	for name, sub := range map[string]string{
		"newline and escape": "u-42\n\x1b[31mroot",
		"escape sequence":    "\x1b]0;pwned\x07ann",
		"bidi override":      "ann\u202egnp",
		"zero-width joiner":  "an\u200dn",
		"NUL":                "ann\x00",
		"leading space":      " ann",
		"too long":           strings.Repeat("a", 300),
	} {
		if r := e.do(idp.sign(t, "r1", claims(sub)), "GET", "/v1/whoami", ""); r.code != 401 {
			t.Errorf("sub %s: %d %s, want 401", name, r.code, r.body)
		}
	}
	r := e.do(idp.sign(t, "r1", claims("u-42")), "GET", "/v1/whoami", "")
	var id Identity
	json.Unmarshal(r.body, &id)
	if r.code != 200 || id.Name != "oidc:id.example.org/u-42" {
		t.Fatalf("good token: %d %s, want the name oidc:id.example.org/u-42", r.code, r.body)
	}
	if tokenName.MatchString(id.Name) {
		t.Errorf("a token could be named %q, the OIDC user's name", id.Name)
	}
}

// TestCheckActor: the CLI's --by names a person in the audit log, under
// the same rule as an OIDC name.
func TestCheckActor(t *testing.T) {
	for _, bad := range []string{"", "ops\n", "ops\x1b[2J", "op\u202es", " ops", strings.Repeat("o", 200)} {
		if CheckActor(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for _, good := range []string{"ops", "Ann Smith", "ann@example.org", "Σοφία"} {
		if err := CheckActor(good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
}
