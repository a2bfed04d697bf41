package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/search"
)

// TestSearchPagesAsDeepAsMaxHits: the API pages as deep as search.max_hits
// says, no deeper and no shallower. It used to refuse from > 10000 whatever
// max_hits was (and to let the index refuse the rest, in other words).
func TestSearchPagesAsDeepAsMaxHits(t *testing.T) {
	for _, c := range []struct {
		maxHits, from, size, code int
		want                      string
	}{
		{50_000, 20_000, 20, 200, ""},
		{50_000, 49_980, 20, 200, ""},
		{50_000, 49_981, 20, 400, "50000"},
		{100, 81, 20, 400, "100"},
		{100, 80, 20, 200, ""},
		{10_000, -1, 20, 400, "from -1"},
		{10_000, 0, 201, 400, "size 201"},
	} {
		cfg := search.DefaultConfig()
		cfg.Enabled, cfg.Dir, cfg.MaxHits = true, t.TempDir(), c.maxHits
		x, err := search.Open(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, func(_ *Config, d *Deps) { d.Searcher = x })
		r := e.do("admin", "POST", "/v1/search", fmt.Sprintf(`{"q":"*","from":%d,"size":%d}`, c.from, c.size))
		if r.code != c.code || !strings.Contains(string(r.body), c.want) {
			t.Errorf("max_hits %d, from %d, size %d: %d %s; want %d naming %q", c.maxHits, c.from, c.size, r.code, r.body, c.code, c.want)
		}
		x.Close()
	}
}
