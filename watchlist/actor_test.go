package watchlist

import (
	"context"
	"strings"
	"testing"
)

// TestActorsArePrintable: the actor of a change is who the history and
// the four-eyes rule name; one with a newline, an escape sequence or a
// bidi override (a forged history line, a look-alike of another name) is
// refused.
func TestActorsArePrintable(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	spec := Spec{ID: "w", Team: "care", Keywords: []string{"acme"}}
	for _, actor := range []string{"ann\nbob", "ann\x1b[31m", "an\u202en", "ann ", strings.Repeat("a", 600)} {
		if _, err := s.Apply(context.Background(), actor, spec, 0); err == nil || !strings.Contains(err.Error(), "actor") {
			t.Errorf("actor %q: %v, want it refused", actor, err)
		}
	}
	if _, err := s.Apply(context.Background(), "oidc:login.example.org/Ann Smith", spec, 0); err != nil {
		t.Errorf("a namespaced OIDC name: %v", err)
	}
}
