package pipeline

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/earshot-dev/earshot/enrich"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
)

// AlertItems reads a file of wire items for route simulate, or of
// canonical posts that it matches and enriches with the watchlists of the
// given directory first, as the match and enrich stages would; lines
// that are neither are reported on warn and skipped.
func AlertItems(path, watchlists string, warn io.Writer) ([]*post.Item, error) {
	return alertItems(path, watchlists, nil, warn)
}

// alertItems is AlertItems with the org file's markets (country →
// market), for market: in rules and the market tag.
func alertItems(path, watchlists string, markets map[string]string, warn io.Writer) ([]*post.Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var m *match.Matcher
	e := enrich.New(enrich.Config{Markets: markets})
	if watchlists != "" {
		lists, err := match.LoadDir(watchlists)
		if err != nil {
			return nil, err
		}
		if m, err = match.NewWith(lists, match.Options{Markets: markets}); err != nil {
			return nil, err
		}
	}
	var items []*post.Item
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		it, err := post.Decode(b)
		if err != nil {
			var p post.Post
			if jerr := json.Unmarshal(b, &p); jerr != nil || p.Validate() != nil {
				fmt.Fprintf(warn, "%s:%d: neither a wire item nor a post: %v\n", path, line, err)
				continue
			}
			it = &post.Item{Post: &p}
		}
		if len(it.Matches) == 0 {
			if m == nil {
				return nil, ConfigError(fmt.Errorf("%s:%d: a post without matches: give --watchlists to match it", path, line))
			}
			if it.Matches = m.Match(it.Post); len(it.Matches) == 0 {
				continue
			}
		}
		if it.Enrichment == nil {
			it.Enrichment = e.Enrich(it.Post)
			// As the enrich stage does: watchlists scoped to other regions
			// do not match.
			if it.Matches = enrich.InScope(it.Matches, it.Enrichment.Region); len(it.Matches) == 0 {
				continue
			}
		}
		items = append(items, it)
	}
	return items, sc.Err()
}
