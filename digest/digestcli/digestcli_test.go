package digestcli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/pipeline"
)

func config(t *testing.T) string {
	dir := t.TempDir()
	f := filepath.Join(dir, "earshot.yaml")
	os.WriteFile(f, []byte(`transport: {kind: memory}
match: {watchlists: watchlists}
route: {policy: routing.yaml}
sink: {enabled: true}
api: {state_dir: state}
notify:
  channels:
    mail: {kind: email, from: e@example.com, to: [a@example.com], queues: [care], smtp: {host: localhost}}
digests:
  - name: legal weekly
    audience: {emails: [legal@example.com], timezone: Europe/Athens}
    schedule: "0 8 * * MON"
`), 0o600)
	return f
}

func TestList(t *testing.T) {
	cfg, err := pipeline.Load(config(t))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := List(cfg, time.Date(2026, 12, 9, 0, 0, 0, 0, time.UTC), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"legal weekly", "legal-weekly", "0 8 * * MON", "Europe/Athens", "2026-12-14T08:00:00+02:00", "no digests archived yet"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("list lacks %q:\n%s", want, out.String())
		}
	}
}

// The user's mistakes are configuration errors (exit 2), found before
// connecting to anything.
func TestRenderMistakes(t *testing.T) {
	f := config(t)
	for _, args := range [][]string{
		{"render", "legal monthly", "--config", f},
		{"render", "--config", f},
		{"list", "extra", "--config", f},
		{"render", "legal weekly", "--config", f, "--at", "yesterday"},
		// Periods whose comparison period starts before ClickHouse's
		// DateTime does (1970): a bad --at, not a failed query.
		{"render", "legal weekly", "--config", f, "--at", "1970-01-01T00:00:00Z", "--no-pdf"},
		{"render", "legal weekly", "--config", f, "--at", "1970-01-12T09:00:00Z", "--no-pdf"},
		{"render", "legal weekly", "--config", filepath.Join(t.TempDir(), "missing.yaml")},
	} {
		c := Command(&bytes.Buffer{}, &bytes.Buffer{})
		c.SetArgs(args)
		c.SetOut(&bytes.Buffer{})
		c.SetErr(&bytes.Buffer{})
		err := c.ExecuteContext(context.Background())
		if !errors.Is(err, pipeline.ErrConfig) {
			t.Errorf("%q: %v, want a configuration error", args, err)
		}
	}
}
