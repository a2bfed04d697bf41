package api

import "testing"

// A scope in a message reads as the token shows it, not as Go struct text.
func TestScopeString(t *testing.T) {
	if got := (Scope{Teams: []string{"legal"}}).String(); got != "teams=legal" {
		t.Errorf("String() = %q", got)
	}
	if got := (Scope{Teams: []string{"a", "b"}, Regions: []string{"EMEA"}}).String(); got != "teams=a,b regions=EMEA" {
		t.Errorf("String() = %q", got)
	}
	if got := (Scope{}).String(); got != "everything" {
		t.Errorf("String() = %q", got)
	}
}
