package post

import (
	"strings"
	"testing"
)

func TestSameSource(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"push:acme", "push:acme", true},
		{"push:acme", "push:rival", false},
		{"", "", true},
		{"", "push:acme", false},
		{"jetstream:wss://jetstream1.us-east.bsky.network/subscribe", "jetstream:wss://jetstream2.us-west.bsky.network/subscribe", true},
		{"jetstream:wss://a/subscribe", "push:jetstream", false},
		{"jetstream:wss://a/subscribe", "jetstream", false}, // the file decoder's "jetstream" is a file, not the live connector
		{"mastodon:a.example", "mastodon:b.example", false},
	} {
		if got := SameSource(c.a, c.b); got != c.want {
			t.Errorf("SameSource(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := SameSource(c.b, c.a); got != c.want {
			t.Errorf("SameSource(%q, %q) = %v, want %v", c.b, c.a, got, c.want)
		}
	}
}

// TestTenantID: push tenants' name spaces never overlap, whatever their
// names hold, and a tenant's own prefixed id is kept.
func TestTenantID(t *testing.T) {
	if a, b := TenantID("a:b", "c"), TenantID("a", "b:c"); a == b {
		t.Errorf("tenants a:b and a share the id %q", a)
	}
	if a, b := TenantID("a", "1"), TenantID("a%3A", "1"); a == b {
		t.Errorf("tenants a and a%%3A share the id %q", a)
	}
	own := TenantID("acme", "1")
	if own != "push:acme:1" || TenantID("acme", own) != own {
		t.Errorf("acme's id 1: %q, then %q; want push:acme:1 both times", own, TenantID("acme", own))
	}
	if got := TenantID("globex", own); !strings.HasPrefix(got, "push:globex:") {
		t.Errorf("globex's id %q: %q, want it in globex's name space", own, got)
	}
	if got := TenantID("ac me\u202e", "1"); strings.ContainsAny(got, " \u202e") {
		t.Errorf("a tenant named with a space and a bidi mark: id %q holds them", got)
	}
}
