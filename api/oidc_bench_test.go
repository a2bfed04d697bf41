package api

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The parsers compared: the key set read by go-jose (ParseJWKS) against the
// hand-built reader it replaced (handBuiltJWKS, below), in the same run.
var jwksParsers = []struct {
	name  string
	parse func([]byte) (map[string]crypto.PublicKey, error)
}{{"handbuilt", handBuiltJWKS}, {"gojose", ParseJWKS}}

// BenchmarkOIDCAuthenticate is the cost of checking one bearer token
// (signature, claims, identity) with the key set loaded by each parser.
func BenchmarkOIDCAuthenticate(b *testing.B) {
	idp := newIdP(b)
	for _, kid := range []string{"r1", "e1"} {
		tok := idp.sign(b, kid, jwt.MapClaims{"iss": "iss", "aud": "aud", "sub": "s", "exp": time.Now().Add(time.Hour).Unix(), "earshot_role": "viewer"})
		for _, p := range jwksParsers {
			keys, err := p.parse(idp.jwks)
			if err != nil {
				b.Fatal(err)
			}
			o := &OIDC{cfg: OIDCConfig{Issuer: "iss", Audience: "aud", RoleClaim: "earshot_role", NameClaim: "sub"}, now: time.Now}
			o.keys, o.fetched = keys, time.Now()
			b.Run(map[string]string{"r1": "RS256", "e1": "ES256"}[kid]+"/"+p.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(tok)))
				for b.Loop() {
					if _, err := o.Authenticate(context.Background(), tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkParseJWKS is the cost of reading a key set (at start and at
// each refresh; not per token).
func BenchmarkParseJWKS(b *testing.B) {
	idp := newIdP(b)
	for _, p := range jwksParsers {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(idp.jwks)))
			for b.Loop() {
				if _, err := p.parse(idp.jwks); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// jwk is one key of a JSON Web Key Set (RFC 7517).
type handJWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// handBuiltJWKS is ParseJWKS as it was before go-jose (kept as the benchmark baseline): it reads a key set's public keys by kid. Keys not for signing
// (use other than sig) are left out; a key that does not parse is an error.
func handBuiltJWKS(data []byte) (map[string]crypto.PublicKey, error) {
	var set struct {
		Keys []handJWK `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("key set: %w", err)
	}
	keys := map[string]crypto.PublicKey{}
	b64 := base64.RawURLEncoding.DecodeString
	for i, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		var key crypto.PublicKey
		switch k.Kty {
		case "RSA":
			n, err1 := b64(k.N)
			e, err2 := b64(k.E)
			if err := errors.Join(err1, err2); err != nil || len(n) < 256 || len(e) == 0 || len(e) > 4 {
				return nil, fmt.Errorf("key set: keys[%d] (%s): bad RSA key (at least 2048 bits)", i, k.Kid)
			}
			key = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		case "EC":
			var curve elliptic.Curve
			switch k.Crv {
			case "P-256":
				curve = elliptic.P256()
			case "P-384":
				curve = elliptic.P384()
			case "P-521":
				curve = elliptic.P521()
			default:
				return nil, fmt.Errorf("key set: keys[%d] (%s): curve %q", i, k.Kid, k.Crv)
			}
			x, err1 := b64(k.X)
			y, err2 := b64(k.Y)
			if err := errors.Join(err1, err2); err != nil {
				return nil, fmt.Errorf("key set: keys[%d] (%s): %w", i, k.Kid, err)
			}
			pk := &ecdsa.PublicKey{Curve: curve, X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
			if !curve.IsOnCurve(pk.X, pk.Y) { //nolint:staticcheck // the point check is what we want here
				return nil, fmt.Errorf("key set: keys[%d] (%s): point not on %s", i, k.Kid, k.Crv)
			}
			key = pk
		case "OKP":
			x, err := b64(k.X)
			if k.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
				return nil, fmt.Errorf("key set: keys[%d] (%s): want an Ed25519 key", i, k.Kid)
			}
			key = ed25519.PublicKey(x)
		default:
			return nil, fmt.Errorf("key set: keys[%d] (%s): key type %q", i, k.Kid, k.Kty)
		}
		keys[k.Kid] = key
	}
	if len(keys) == 0 {
		return nil, errors.New("key set: no signing keys")
	}
	return keys, nil
}
