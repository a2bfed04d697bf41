package api

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testNames = ScopeNames{Org: "org.yaml", Teams: []string{"care-emea", "care-na", "pr"}, Regions: []string{"APAC", "EMEA", "LATAM", "NA"}, Markets: []string{"DACH", "Nordics"}}

// --teams and --regions are checked like --markets: a typo (care-emae,
// EMAE) makes no token, since it would see nothing and look as if it
// worked; the refusal names the known ones, closest first. Another case
// takes the organisation's spelling, for the stores compare exactly.
func TestTokenCreateChecksTeamsAndRegions(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.StateDir, cfg.TokensFile = dir, filepath.Join(dir, "tokens.json")
	a := TokenAdmin{Config: cfg, By: "ops", Names: testNames}
	for _, c := range []struct {
		r    TokenRequest
		want string
	}{
		{TokenRequest{Teams: "care-emae"}, `unknown team "care-emae": the org file org.yaml and the watchlists name care-emea, care-na, pr`},
		{TokenRequest{Regions: "EMAE"}, `unknown region "EMAE": enrich.regions defines EMEA,`},
		{TokenRequest{Regions: "EMEA", Teams: "pr,legal"}, `unknown team "legal"`},
		{TokenRequest{Teams: "care\u200b-na"}, `unknown team`}, // a look-alike is not the team
		{TokenRequest{Teams: strings.Repeat("x", 1<<20)}, `…`},
	} {
		c.r.Name, c.r.Role, c.r.Expires = "x", "responder", "0"
		var out, errOut bytes.Buffer
		err := a.Create(c.r, &out, &errOut)
		if !errors.Is(err, ErrTokenRequest) || !strings.Contains(err.Error(), c.want) || out.Len() > 0 || len(err.Error()) > 1000 {
			t.Errorf("%+v: err %.300v, out %q: want a refused request with %q", c.r, err, out.String(), c.want)
		}
	}
	var out, errOut bytes.Buffer
	if err := a.Create(TokenRequest{Name: "ok", Role: "responder", Teams: "CARE-NA,care-na", Regions: "emea", Markets: "dach", Expires: "0"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	s, _ := a.open(false)
	ts, _ := s.List()
	if len(ts) != 1 || !slices.Equal(ts[0].Scope.Teams, []string{"care-na"}) || !slices.Equal(ts[0].Scope.Regions, []string{"EMEA"}) || !slices.Equal(ts[0].Scope.Markets, []string{"DACH"}) {
		t.Errorf("stored %+v, want the organisation's spelling, once", ts)
	}
}

// token list warns of active tokens whose scope names what the
// organisation does not (stored before the check, or the org file
// changed since), and leaves them as they are.
func TestTokenListWarnsOfUnknownScopeNames(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.StateDir, cfg.TokensFile = dir, filepath.Join(dir, "tokens.json")
	a := TokenAdmin{Config: cfg, By: "ops", Names: testNames}
	s, err := a.open(true)
	if err != nil {
		t.Fatal(err)
	}
	typo, _, _ := s.Create(NewToken{Name: "typo", Role: Responder, Scope: Scope{Teams: []string{"care-emae"}, Regions: []string{"emea"}}})
	fine, _, _ := s.Create(NewToken{Name: "fine", Role: Responder, Scope: Scope{Teams: []string{"pr"}, Regions: []string{"EMEA"}}})
	gone, _, _ := s.Create(NewToken{Name: "gone", Role: Responder, Scope: Scope{Markets: []string{"Atlantis"}}})
	if _, _, err := s.Revoke(gone.ID, "ops"); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := a.List(&out, &errOut); err != nil {
		t.Fatal(err)
	}
	w := errOut.String()
	if !strings.Contains(w, typo.ID) || !strings.Contains(w, "team care-emae") || !strings.Contains(w, "region emea (spelt EMEA)") ||
		strings.Contains(w, fine.ID) || strings.Contains(w, gone.ID) || !strings.Contains(out.String(), typo.ID) {
		t.Errorf("list: stdout %q\nstderr %q: want a warning of %s alone", out.String(), w, typo.ID)
	}
	ts, _ := s.List()
	if len(ts) != 3 || ts[0].Scope.Teams[0] != "care-emae" {
		t.Errorf("the list changed the tokens: %+v", ts)
	}
}

// An OIDC claim in another case than the organisation's ("dach" for
// DACH, "emea") takes its spelling: ClickHouse compares exactly, so it
// would see nothing. An unknown value is dropped and logged once; a claim
// left with none refuses the token rather than widen it.
func TestOIDCScopeClaimsTakeTheOrganisationsSpelling(t *testing.T) {
	idp := newIdP(t)
	jwksFile := filepath.Join(t.TempDir(), "jwks.json")
	os.WriteFile(jwksFile, idp.jwks, 0o600)
	cfg := DefaultConfig()
	cfg.OIDC.Issuer, cfg.OIDC.Audience, cfg.OIDC.JWKSFile = "https://id.example.org", "earshot", jwksFile
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	o, err := NewOIDC(context.Background(), cfg.OIDC, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	claims := func(extra jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "https://id.example.org", "aud": "earshot", "sub": "u-1", "exp": time.Now().Add(time.Hour).Unix(), "earshot_role": "viewer"}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	auth := func(extra jwt.MapClaims) (Identity, error) {
		return o.Authenticate(context.Background(), idp.sign(t, "r1", claims(extra)))
	}
	mixed := jwt.MapClaims{"earshot_markets": []string{"dach"}, "earshot_regions": "emea", "earshot_teams": []string{"Care-NA", "care-emae"}}
	// Without the organisation's names (no org file), the claims are as given.
	if id, err := auth(mixed); err != nil || !slices.Equal(id.Scope.Markets, []string{"dach"}) {
		t.Fatalf("no names: %+v %v", id.Scope, err)
	}
	o.SetScopeNames(func() (ScopeNames, error) { return testNames, nil })
	for range 2 {
		id, err := auth(mixed)
		if err != nil || !slices.Equal(id.Scope.Markets, []string{"DACH"}) || !slices.Equal(id.Scope.Regions, []string{"EMEA"}) || !slices.Equal(id.Scope.Teams, []string{"care-na"}) {
			t.Fatalf("mixed case: %+v %v, want DACH, EMEA, care-na", id.Scope, err)
		}
	}
	if n := strings.Count(logs.String(), "care-emae"); n != 1 {
		t.Errorf("the unknown team was logged %d times, want once:\n%s", n, logs.String())
	}
	for _, c := range []jwt.MapClaims{{"earshot_markets": []string{"Atlantis"}}, {"earshot_regions": []string{"EMAE", "mars"}}, {"earshot_teams": "care-emae"}} {
		if id, err := auth(c); err == nil {
			t.Errorf("%v: %+v, want refused: a scope of only unknown names must not widen to everything", c, id.Scope)
		}
	}
	if id, err := auth(nil); err != nil || !id.Scope.Unscoped() {
		t.Errorf("no scope claims: %+v %v, want an organisation-wide identity", id.Scope, err)
	}
	// A team an approved routing change adds is known once the names are
	// read again (namesMaxAge); until then, and on a failed read, the old.
	later := testNames
	later.Teams = append(slices.Clone(later.Teams), "greece")
	var fail error
	o.SetScopeNames(func() (ScopeNames, error) { return later, fail })
	if _, err := auth(jwt.MapClaims{"earshot_teams": "Greece"}); err != nil {
		t.Fatalf("greece once known: %v", err)
	}
	fail, later = errors.New("org file half written"), testNames
	clock := time.Now().Add(time.Minute)
	o.now = func() time.Time { return clock }
	if id, err := auth(jwt.MapClaims{"earshot_teams": "Greece", "exp": clock.Add(time.Hour).Unix()}); err != nil || id.Scope.Teams[0] != "greece" {
		t.Errorf("a failed read: %+v %v, want the old names kept", id.Scope, err)
	}
	fail, clock = nil, clock.Add(time.Minute)
	if _, err := auth(jwt.MapClaims{"earshot_teams": "Greece", "exp": clock.Add(time.Hour).Unix()}); err == nil {
		t.Error("greece after the org file dropped it: accepted")
	}
}
