package ingest

import (
	"strings"
	"testing"

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
