// Command p5 writes the inputs of the P5 job ("keep the posts of a file that
// match any of 1k keywords"): a directory of brand watchlists holding about
// -keywords distinct keywords (bench.BrandKeywordSet, the set `earshot bench
// match` measures), the same terms as a keywords file, and -posts synthetic
// posts as canonical NDJSON. Then compare, on the same file:
//
//	earshot filter --watchlists DIR/watchlists DIR/posts.ndjson > /dev/null
//	earshot match --watchlists DIR/watchlists --posts DIR/posts.ndjson > /dev/null
//
// It also writes DIR/benthos.yaml, the same job as a Redpanda Connect
// pipeline would run it (a file input, a Bloblang mapping that keeps a post
// whose text matches one case-insensitive regular expression of every
// keyword between non-word characters, a file output), for the yardstick
// built by bench/p5/benthos:
//
//	earshot filter --keywords DIR/keywords.txt DIR/posts.ndjson > /dev/null
//	benthos -c DIR/benthos.yaml > /dev/null
//
// Usage: go run ./bench/p5 -out DIR [-posts 1000000] [-keywords 1000]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	gojson "github.com/goccy/go-json"
	"go.yaml.in/yaml/v3"

	"github.com/earshot-dev/earshot/bench"
	"github.com/earshot-dev/earshot/ingest"
)

func main() {
	out := flag.String("out", "", "directory to write into")
	n := flag.Int("posts", 1_000_000, "posts to write")
	k := flag.Int("keywords", 1000, "distinct keywords in the watchlists")
	flag.Parse()
	if *out == "" {
		log.Fatal("p5: -out DIR is needed")
	}
	wdir := filepath.Join(*out, "watchlists")
	if err := os.MkdirAll(wdir, 0o755); err != nil {
		log.Fatal(err)
	}
	lists := bench.BrandKeywordSet(*k, 1)
	kw, err := os.Create(filepath.Join(*out, "keywords.txt"))
	if err != nil {
		log.Fatal(err)
	}
	quoted := regexp.MustCompile(`"[^"]+"|[@#]?[\pL\pN_]+\*?`)
	seen := map[string]bool{}
	var terms []string
	for _, w := range lists {
		b, err := yaml.Marshal(w)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(wdir, w.ID+".yaml"), b, 0o644); err != nil {
			log.Fatal(err)
		}
		for _, t := range quoted.FindAllString(w.Rule, -1) {
			switch t {
			case "OR", "NEAR", "hiring", "job", "jobs":
				continue
			}
			if t[len(t)-1] == '*' || seen[t] {
				continue
			}
			seen[t] = true
			if t[0] == '"' {
				t = t[1 : len(t)-1]
			}
			fmt.Fprintln(kw, t)
			terms = append(terms, t)
		}
	}
	if err := kw.Close(); err != nil {
		log.Fatal(err)
	}
	posts := filepath.Join(*out, "posts.ndjson")
	if err := os.WriteFile(filepath.Join(*out, "benthos.yaml"), benthosConfig(posts, terms), 0o644); err != nil {
		log.Fatal(err)
	}
	f, err := os.Create(posts)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriter(f)
	s := ingest.NewSynthetic(ingest.SyntheticConfig{Seed: 7, BrandRate: 0.1, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	enc := gojson.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for range *n {
		if err := enc.Encode(s.Post()); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d watchlists, %d keywords, %d posts in %s\n", len(lists), len(seen), *n, *out)
}

// benthosConfig is the P5 job as a Redpanda Connect (Benthos) pipeline: the
// keywords as one regular expression, longest first, each between non-word
// characters or the ends of the text, case-insensitive; two processing
// threads, as the machine has two cores.
func benthosConfig(posts string, terms []string) []byte {
	sorted := slices.Clone(terms)
	slices.SortStableFunc(sorted, func(a, b string) int { return len(b) - len(a) })
	for i, t := range sorted {
		sorted[i] = regexp.QuoteMeta(t)
	}
	re := `(?i)(?:^|[^\pL\pN_])(?:` + strings.Join(sorted, "|") + `)(?:$|[^\pL\pN_])`
	abs, err := filepath.Abs(posts)
	if err != nil {
		log.Fatal(err)
	}
	return fmt.Appendf(nil, `input:
  file:
    paths: [ %q ]
    scanner:
      lines:
        max_buffer_size: 1000000
pipeline:
  threads: 2
  processors:
    - mapping: |
        root = if !this.text.re_match("""%s""") { deleted() }
output:
  file:
    path: /dev/stdout
    codec: lines
logger:
  level: WARN
`, abs, re)
}
