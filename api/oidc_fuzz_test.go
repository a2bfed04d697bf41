package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzJWKS feeds key sets to ParseJWKS: it must never panic, and what it
// accepts must be a usable public signing key of the kinds the verifier
// allows.
func FuzzJWKS(f *testing.F) {
	f.Add(newIdP(f).jwks)
	for _, s := range []string{
		`{`, `{"keys":[]}`, `{"keys":null}`, `{"keys":[null]}`, `{"keys":[1]}`, `[]`,
		`{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}`,
		`{"keys":[{"kty":"RSA","kid":"a","n":"","e":""}]}`,
		`{"keys":[{"kty":"EC","kid":"a","crv":"P-192","x":"AA","y":"AA"}]}`,
		`{"keys":[{"kty":"EC","kid":"a","crv":"P-256","x":"AQ","y":"AQ"}]}`,
		`{"keys":[{"kty":"oct","kid":"a","k":"c2VjcmV0"}]}`,
		`{"keys":[{"kty":"OKP","kid":"a","crv":"Ed25519","x":"AQ"}]}`,
		`{"keys":[{"kty":"OKP","kid":"a","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`,
		`{"keys":[{"kty":"OKP","kid":"a","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}`,
		`{"keys":[{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"},{"kty":"XYZ"}]}`,
		`{"keys":[{"kty":"EC","crv":"P-256","x5c":["AAAA"]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseJWKS(data)
		if err != nil {
			if keys != nil {
				t.Fatal("keys with an error")
			}
			return
		}
		if len(keys) == 0 {
			t.Fatal("an empty set accepted")
		}
		for kid, k := range keys {
			switch k := k.(type) {
			case *rsa.PublicKey:
				if k.N.BitLen() < 2048 || k.E < 2 {
					t.Errorf("kid %q: weak RSA key accepted: %d bits, e=%d", kid, k.N.BitLen(), k.E)
				}
			case *ecdsa.PublicKey:
				if !k.Curve.IsOnCurve(k.X, k.Y) { //nolint:staticcheck // the point check is what we test
					t.Errorf("kid %q: EC point off its curve", kid)
				}
			case ed25519.PublicKey:
				if len(k) != ed25519.PublicKeySize {
					t.Errorf("kid %q: Ed25519 key of %d bytes", kid, len(k))
				}
			default:
				t.Errorf("kid %q: key of type %T accepted", kid, k)
			}
		}
	})
}

// FuzzOIDCToken feeds bearer tokens to Authenticate: it must never panic,
// and a token it accepts must carry a known role and a namespaced name.
// The fuzzer cannot sign, so what it reaches is the parsing of the
// header, the claims and the signature encoding before the check fails.
func FuzzOIDCToken(f *testing.F) {
	idp := newIdP(f)
	keys, err := ParseJWKS(idp.jwks)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_900_000_000, 0)
	claims := jwt.MapClaims{"iss": "iss", "aud": "aud", "sub": "u", "exp": now.Add(time.Hour).Unix(), "earshot_role": "viewer", "earshot_teams": []string{"t"}}
	f.Add(idp.sign(f, "r1", claims))
	f.Add(idp.sign(f, "e1", claims))
	f.Add(idp.sign(f, "r9", claims))
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("eyJhbGciOiJSUzI1NiIsImtpZCI6InIxIn0.e30.AAAA")
	f.Add(strings.Repeat("A", 10000) + "." + strings.Repeat("B", 10000) + ".C")
	cfg := DefaultConfig().OIDC
	cfg.Issuer, cfg.Audience = "iss", "aud"
	o := &OIDC{cfg: cfg, namespace: "iss", now: func() time.Time { return now }}
	o.keys, o.fetched = keys, now
	f.Fuzz(func(t *testing.T, raw string) {
		id, err := o.Authenticate(context.Background(), raw)
		if err != nil {
			return
		}
		if !id.Role.Valid() || !strings.HasPrefix(id.Name, "oidc:iss/") || id.Via != "oidc" {
			t.Errorf("accepted %q as %+v", raw, id)
		}
	})
}
