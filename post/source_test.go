package post

import "testing"

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
