package match

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/strictyaml"
)

// FuzzImportRule: whatever rule text of either syntax it is given, the
// importer returns a rule of earshot's language that parses and compiles,
// or an error; it never panics, and never drops a filter silently (a field
// operator it cannot translate is an error naming it).
func FuzzImportRule(f *testing.F) {
	for _, s := range []string{
		`(nike OR adidas) "running shoes" -is:retweet lang:en has:links`,
		`#nike @nike place_country:GR (from:alice OR from:bob)`,
		`nike followers_count:1000..50000 has:images`,
		`"nike shoes"~5 url_contains:nike.com`,
		`nike bio:runner point_radius:[2.3 48.8 10km]`,
		`nike AND`, `((from:a)`, `-(lang:en)`, `"unclosed from:x`, `followers_count:99999999999999999999`,
		`x:)`, `a:b:c`, `(((lang:en)))`,
	} {
		f.Add("powertrack", s)
	}
	for _, s := range []string{
		`(nike OR adidas) AND (shoe* NEAR/3 running) NOT fake`,
		`nike author:alice language:el site:nike.com`,
		`colo?r nike`, `"colo?r" nike`, `title:nike`, `(author:a OR author:b)`,
	} {
		f.Add("brandwatch", s)
	}
	f.Fuzz(func(t *testing.T, syntax, rule string) {
		if syntax != "powertrack" && syntax != "brandwatch" {
			syntax = []string{"powertrack", "brandwatch"}[len(syntax)%2]
		}
		got, err := ImportRule(syntax, rule)
		if err != nil {
			return
		}
		if _, err := parseRule(got); err != nil {
			t.Fatalf("%s %q imported as %q, which does not parse: %v", syntax, rule, got, err)
		}
		if in, out := fieldFilters(rule), fieldFilters(got); out < in {
			t.Fatalf("%s %q has %d field filters, imported as %q with %d: a filter was dropped", syntax, rule, in, got, out)
		}
	})
}

// fieldFilters counts the name:value filters of a rule, outside quotes.
func fieldFilters(rule string) int {
	n := 0
	for _, tok := range splitKeepingQuotes(rule) {
		if !strings.HasPrefix(tok, `"`) && fieldToken.MatchString(tok) {
			n++
		}
	}
	return n
}

// FuzzParseWatchlist: whatever a watchlist file holds, reading it (as
// LoadDir does) and compiling it (as the pipeline does) yields a watchlist
// or an error, never a panic; every read error is a configuration error
// (exit 2), and a watchlist that reads and compiles validates.
func FuzzParseWatchlist(f *testing.F) {
	files, _ := filepath.Glob("../pipeline/testdata/config/watchlist/*.yaml")
	more, _ := filepath.Glob("../deploy/examples/watchlists/*.yaml")
	for _, file := range append(files, more...) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) > 8<<10 {
			continue // the deep-nesting files, checked by TestConfigCorpus: the fuzzer would spend its time minimising them
		}
		f.Add(data)
	}
	if len(files) == 0 {
		f.Fatal("no seeds: the corpus is ../pipeline/testdata/config/watchlist")
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !errors.Is(err, strictyaml.ErrInvalid) {
				t.Fatalf("not a configuration error: %v", err)
			}
			return
		}
		if _, err := Compile([]*Watchlist{w}); err != nil {
			return // a rule that does not parse, a region unknown, …: refused with a message
		}
		if err := w.Validate(); err != nil {
			t.Fatalf("compiled but does not validate: %v", err)
		}
	})
}
