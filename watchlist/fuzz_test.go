package watchlist

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpenHistory: whatever history.jsonl holds, Open returns a store or
// an error, never panics; a store it opens takes a change and reopens.
func FuzzOpenHistory(f *testing.F) {
	f.Add([]byte(`{"seq":1,"id":"a","version":1,"action":"apply","actor":"x","at":"2026-01-01T00:00:00Z","after":{"id":"a","team":"t","rule":"x","status":"draft","version":1}}` + "\n"))
	f.Add([]byte(`{"seq":1,"id":"a","action":"delete"}` + "\n" + `{"seq":2`))
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"seq":1,"id":"../../x","after":{"id":"../../x","live":{"id":"q"},"live_version":-3}}` + "\n"))
	f.Add([]byte(`[]` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, historyFile), data, 0o644)
		s, err := Open(dir, Options{LiveDir: DefaultLiveDir(dir)})
		if err != nil {
			return
		}
		defer s.Close()
		for _, r := range s.List(Filter{}) {
			if _, err := s.History(r.ID); err != nil && !errors.As(err, new(*InvalidError)) {
				t.Fatalf("History(%q) of a listed record: %v", r.ID, err)
			}
		}
		if _, err := s.Apply(ctx, "fuzz", Spec{ID: "fz", Team: "t", Rule: "x"}, -1); err != nil {
			return // a corrupt stored live set may refuse changes; it must say so
		}
		s.Close()
		s2, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("reopening after a change: %v", err)
		}
		if r, err := s2.Get("fz"); err != nil || r.Rule != "x" {
			t.Fatalf("the change did not survive: %+v %v", r, err)
		}
		s2.Close()
	})
}

// FuzzValidate: a spec that validates alone goes live alone.
func FuzzValidate(f *testing.F) {
	f.Add("acme", "acme OR \"acme phone\"", "x")
	f.Add("a/b", "x", "")
	f.Add("ok", "(a AND", "")
	f.Add("ok", "", "kw")
	f.Add("ok", "NEAR/3(a b) -from:x lang:en", "")
	f.Fuzz(func(t *testing.T, id, rule, kw string) {
		sp := Spec{ID: id, Team: "t", Rule: rule}
		if kw != "" {
			sp.Keywords = []string{kw}
		}
		dir := t.TempDir()
		s, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		verr := s.Validate(sp)
		if verr != nil {
			if !errors.As(verr, new(*InvalidError)) {
				t.Fatalf("not an *InvalidError: %v", verr)
			}
			return
		}
		if _, err := s.Apply(ctx, "a", sp, 0); err != nil {
			t.Fatalf("valid but not applied: %v", err)
		}
		s.Submit(ctx, "a", sp.ID, "")
		if _, err := s.Approve(ctx, "b", sp.ID, ""); err != nil {
			t.Fatalf("valid alone but refused live alone: %v", err)
		}
	})
}
