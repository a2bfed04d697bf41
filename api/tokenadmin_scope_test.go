package api

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A scope flag that is given but names nothing (a shell variable that came
// out empty: --markets " " or --teams ",") must not make a token of the
// whole organisation: an empty scope narrows nothing.
func TestTokenCreateRefusesAScopeFlagThatNamesNothing(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.StateDir, cfg.TokensFile = dir, filepath.Join(dir, "tokens.json")
	a := TokenAdmin{Config: cfg, By: "ops"}
	for _, r := range []TokenRequest{
		{Name: "dach", Role: "responder", Markets: " ", Expires: "0"},
		{Name: "dach2", Role: "responder", Markets: ",", Expires: "0"},
		{Name: "care", Role: "responder", Teams: " , ", Expires: "0"},
		{Name: "acme", Role: "viewer", Brands: ",", Expires: "0"},
		{Name: "emea", Role: "viewer", Regions: "\t", Expires: "0"},
	} {
		var out, errOut bytes.Buffer
		err := a.Create(r, &out, &errOut)
		if !errors.Is(err, ErrTokenRequest) {
			t.Errorf("%+v: err %v, want a refused request", r, err)
		}
		if out.Len() > 0 {
			t.Errorf("%+v: a token was created: %s", r, errOut.String())
		}
	}
	// A scope that names something is still taken, blanks around it aside.
	var out, errOut bytes.Buffer
	if err := a.Create(TokenRequest{Name: "dach", Role: "responder", Markets: " DACH, ", Expires: "0"}, &out, &errOut); err != nil {
		t.Fatalf("a market-scoped token: %v", err)
	}
	s, err := a.open(false)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 || len(ts[0].Scope.Markets) != 1 || ts[0].Scope.Markets[0] != "DACH" {
		t.Fatalf("tokens %+v, want the one DACH token", ts)
	}
}

// --markets names markets of the org file when it is known: a market it
// does not define (a typo, "Atlantis") makes no token, since a token for
// it would see nothing and look as if it worked. A market in another case
// takes the org file's spelling. Without a known org file the markets are
// taken as given, and stderr says they were not checked.
func TestTokenCreateChecksMarketsAgainstTheOrgFile(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.StateDir, cfg.TokensFile = dir, filepath.Join(dir, "tokens.json")
	a := TokenAdmin{Config: cfg, By: "ops", Names: ScopeNames{Org: "org.yaml", Markets: []string{"DACH", "Nordics"}}}
	for _, m := range []string{"Atlantis", "DACH,Atlantis", "DAC", "DACH\u200b"} {
		var out, errOut bytes.Buffer
		err := a.Create(TokenRequest{Name: "x", Role: "responder", Markets: m, Expires: "0"}, &out, &errOut)
		if !errors.Is(err, ErrTokenRequest) || !strings.Contains(err.Error(), "org.yaml") || out.Len() > 0 {
			t.Errorf("--markets %q: err %v, out %q: want a refused request naming the org file", m, err, out.String())
		}
	}
	var out, errOut bytes.Buffer
	if err := a.Create(TokenRequest{Name: "dach", Role: "responder", Markets: "dach,Nordics", Expires: "0"}, &out, &errOut); err != nil {
		t.Fatalf("known markets: %v", err)
	}
	noOrg := TokenAdmin{Config: cfg, By: "ops"}
	out.Reset()
	errOut.Reset()
	if err := noOrg.Create(TokenRequest{Name: "atl", Role: "responder", Markets: "Atlantis", Expires: "0"}, &out, &errOut); err != nil {
		t.Fatalf("no org file: %v", err)
	}
	if !strings.Contains(errOut.String(), "not checked") {
		t.Errorf("no org file: stderr %q, want a warning that the markets were not checked", errOut.String())
	}
	ts, err := noOrg.open(false)
	if err != nil {
		t.Fatal(err)
	}
	list, err := ts.List()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range list {
		got = append(got, x.Name+":"+strings.Join(x.Scope.Markets, "+"))
	}
	slices.Sort(got)
	if want := []string{"atl:Atlantis", "dach:DACH+Nordics"}; !slices.Equal(got, want) {
		t.Errorf("tokens %v, want %v", got, want)
	}
}

// A value given twice is stored once: `--markets dach,DACH` (one market in
// two spellings, the org file's taken) or `--regions EMEA,EMEA`, with and
// without a known org file, and at the store for any other caller.
func TestTokenCreateStoresEachScopeValueOnce(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.StateDir, cfg.TokensFile = dir, filepath.Join(dir, "tokens.json")
	withOrg := TokenAdmin{Config: cfg, By: "ops", Names: ScopeNames{Org: "org.yaml", Markets: []string{"DACH", "Nordics"}}}
	noOrg := TokenAdmin{Config: cfg, By: "ops"}
	var out, errOut bytes.Buffer
	for _, c := range []struct {
		a TokenAdmin
		r TokenRequest
	}{
		{withOrg, TokenRequest{Name: "org", Role: "responder", Markets: "dach,DACH,Nordics,dach", Expires: "0"}},
		{noOrg, TokenRequest{Name: "noorg", Role: "responder", Markets: "dach,DACH, Dach", Regions: "EMEA,EMEA", Teams: "greece,greece,apac", Brands: "acme,acme", Expires: "0"}},
	} {
		if err := c.a.Create(c.r, &out, &errOut); err != nil {
			t.Fatalf("%s: %v", c.r.Name, err)
		}
	}
	ts, err := noOrg.open(false)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ts.Create(NewToken{Name: "store", Role: Responder, Scope: Scope{Markets: []string{"Nordics", "nordics"}, Regions: []string{"APAC", "APAC"}}}); err != nil {
		t.Fatal(err)
	}
	list, err := ts.List()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range list {
		s := x.Scope
		got = append(got, fmt.Sprintf("%s:%v%v%v%v", x.Name, s.Teams, s.Brands, s.Regions, s.Markets))
	}
	slices.Sort(got)
	if want := []string{"noorg:[greece apac][acme][EMEA][dach]", "org:[][][][DACH Nordics]", "store:[][][APAC][Nordics]"}; !slices.Equal(got, want) {
		t.Errorf("tokens %q, want %q", got, want)
	}
}
