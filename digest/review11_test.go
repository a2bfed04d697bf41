package digest

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestPostPlatformCannotForgeALineOrSwellTheDigest: a pushed post's
// platform is the pusher's to choose. In the text part one with line
// breaks would write lines that read as the digest's own ("Alerts and
// SLA" with made-up figures), a bidi override would reorder the rest of
// its line, and one of 1 MiB would be 1 MiB per row of every part.
func TestPostPlatformCannotForgeALineOrSwellTheDigest(t *testing.T) {
	forged := "x\n\nAlerts and SLA\n  legal  0  0  0  0  0  0  100.0%\n\u202e" + strings.Repeat("p", 1<<20)
	run := seeded()
	run.tables["digest_posts"].Rows[0][1] = forged
	r, err := Build(context.Background(), run, nil, weekly, t1.Add(time.Hour), t1.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := weekly.Location()
	out, err := Render(r, loc)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(out.Text, "\n") {
		if strings.TrimSpace(l) == "Alerts and SLA" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the text part has %d lines \"Alerts and SLA\", want 1 (the real section):\n%.2000s", n, out.Text)
	}
	for name, s := range map[string]string{"text": out.Text, "html": out.HTML} {
		if len(s) > 256<<10 {
			t.Errorf("%s part of %d bytes for one 1 MiB platform", name, len(s))
		}
	}
	// (The HTML shows the excerpt, which the seeded post ends with an
	// override, in its own <div dir="auto">, where it is contained.)
	if strings.Contains(out.Text, "\u202e") {
		t.Errorf("the text part keeps a bidi override")
	}
}
