package api

import (
	"bytes"
	"errors"
	"path/filepath"
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
