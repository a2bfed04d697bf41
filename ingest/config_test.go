package ingest

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/ingest/mastodon"
)

func TestConfigValidateLive(t *testing.T) {
	f := func(mod func(*Config), want ...string) {
		t.Helper()
		c := DefaultConfig()
		mod(&c)
		err := c.Validate()
		for _, w := range want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("Validate() = %v, want %q", err, w)
			}
		}
		if len(want) == 0 && err != nil {
			t.Errorf("Validate() = %v", err)
		}
	}
	f(func(c *Config) { c.Source = "bluesky" })
	f(func(c *Config) { c.Source = "x" })
	f(func(c *Config) {
		c.Source, c.Bluesky.Endpoints, c.Bluesky.Compress, c.Live.MaxFailures = "bluesky", []string{"http://x"}, true, 0
	}, "ingest.bluesky.endpoints", "ingest.bluesky.zstd_dictionary", "ingest.live.max_failures")
	f(func(c *Config) { c.Source = "mastodon" }, "ingest.mastodon.servers")
	f(func(c *Config) {
		c.Source = "mastodon"
		c.Mastodon.Servers = []mastodon.Server{{URL: "ftp://a", Stream: "hashtag"}}
	}, "servers[0].url", "servers[0].tag")
	f(func(c *Config) { c.Source, c.X.BackfillMinutes, c.X.URL = "x", 9, "" }, "ingest.x.backfill_minutes", "ingest.x.url")
	f(func(c *Config) { c.Source, c.File.Format = "file", "csv" }, "ingest.file.path", `ingest.file.format: "csv"`)
}

func TestOpenLiveNeedsToken(t *testing.T) {
	c := DefaultConfig()
	c.Source, c.X.BearerTokenEnv = "x", "EARSHOT_TEST_NO_SUCH_TOKEN"
	if _, _, err := Open(c); err == nil || !strings.Contains(err.Error(), "EARSHOT_TEST_NO_SUCH_TOKEN") {
		t.Errorf("Open without a token: %v", err)
	}
}

// A file source reports the same metrics as the live connectors.
func TestFileSourceMetrics(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "posts.ndjson")
	lines := `{"platform":"x","id":"1","text":"hello","created_at":"2026-11-20T10:00:00Z","author":{"id":"a"}}
{"platform":"x","id":"2","kind":"delete"}
{"platform":"x","id":
`
	if err := os.WriteFile(path, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.Source, c.File.Path, c.File.Format = "file", path, FormatAuto
	reg := prometheus.NewRegistry()
	src, closer, err := OpenWith(c, Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	for {
		_, err := src.Next(context.Background(), 10)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	want := `
# HELP earshot_ingest_dead_letters_total Records refused, each sent on as a dead letter with its reason.
# TYPE earshot_ingest_dead_letters_total counter
earshot_ingest_dead_letters_total{source="file"} 1
# HELP earshot_ingest_events_total Records received from a live source, whatever they were.
# TYPE earshot_ingest_events_total counter
earshot_ingest_events_total{source="file"} 3
# HELP earshot_ingest_posts_total Canonical posts produced, by kind (post, edit, delete).
# TYPE earshot_ingest_posts_total counter
earshot_ingest_posts_total{kind="delete",source="file"} 1
earshot_ingest_posts_total{kind="post",source="file"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "earshot_ingest_events_total", "earshot_ingest_posts_total", "earshot_ingest_dead_letters_total"); err != nil {
		t.Error(err)
	}
}
