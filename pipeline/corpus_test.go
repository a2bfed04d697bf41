package pipeline

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/route"
	"github.com/earshot-dev/earshot/strictyaml"
	"go.yaml.in/yaml/v3"
)

// The configuration corpus, as Prometheus keeps config/testdata: for each
// kind of file earshot reads (the configuration, the routing policy, the
// organisation, a watchlist) a directory testdata/config/<kind> of
// NAME.good.yaml files, which must load, and NAME.bad.yaml files, which must
// be refused as a configuration error (exit 2) with the message their first
// line names:
//
//	# want: TEXT
//
// TEXT beginning with a line number ("12: transport.queue_size") must
// follow the file's path ("FILE:12: transport.queue_size"): the message
// says where to look. Other TEXT need only occur in the message.
//
// testdata/bounds holds configurations with one size, count or duration far
// over what a process can hold (1e12 queue slots crashed the runtime); they
// are bad pipeline files too.

// loaders reads one file of each kind as earshot does.
var loaders = map[string]func(path string) error{
	"pipeline": func(path string) error { _, err := Load(path); return err },
	"policy":   func(path string) error { _, err := route.LoadPolicy(path); return err },
	"org":      func(path string) error { _, err := route.LoadOrg(path); return err },
	"watchlist": func(path string) error {
		// as match.LoadDir reads each file of the directory
		data, err := strictyaml.ReadFile(path)
		if err != nil {
			return err
		}
		w, err := match.Parse(path, data)
		if err != nil {
			return err
		}
		// as the pipeline compiles the loaded set: rules are parsed here
		if _, err := match.Compile([]*match.Watchlist{w}); err != nil {
			return errors.Join(strictyaml.ErrInvalid, err)
		}
		return nil
	},
}

func TestConfigCorpus(t *testing.T) {
	dirs := map[string]string{"testdata/bounds": "pipeline"}
	for kind := range loaders {
		dirs["testdata/config/"+kind] = kind
	}
	for dir, kind := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no corpus: %v", dir, err)
		}
		for _, f := range files {
			t.Run(kind+"/"+filepath.Base(f), func(t *testing.T) {
				good := strings.HasSuffix(f, ".good.yaml")
				if !good && !strings.HasSuffix(f, ".bad.yaml") && dir != "testdata/bounds" {
					t.Fatalf("%s: name it NAME.good.yaml or NAME.bad.yaml", f)
				}
				if good {
					if err := loadInTime(t, loaders[kind], f); err != nil {
						t.Fatalf("a good file is refused: %v", err)
					}
					return
				}
				checkBad(t, loaders[kind], f, wantOf(t, f))
			})
		}
	}
}

// TestConfigCorpusGenerated covers the hostile files too big to keep in
// testdata, and files that are not there, for every kind.
func TestConfigCorpusGenerated(t *testing.T) {
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.yaml")
	// a valid comment, just too long: the size alone refuses it
	if err := os.WriteFile(huge, append([]byte("# "), bytes.Repeat([]byte("x"), strictyaml.MaxFileBytes)...), 0o644); err != nil {
		t.Fatal(err)
	}
	for kind, load := range loaders {
		t.Run(kind+"/huge", func(t *testing.T) { checkBad(t, load, huge, "file too large") })
		if kind == "watchlist" {
			continue // read from a directory listing: see match's TestLoadDirUnreadable
		}
		t.Run(kind+"/missing", func(t *testing.T) {
			checkBad(t, load, filepath.Join(dir, "missing.yaml"), "no such file or directory")
		})
		t.Run(kind+"/directory", func(t *testing.T) { checkBad(t, load, dir, "is a directory") })
	}
	many := filepath.Join(dir, "many.yaml")
	var b strings.Builder
	b.WriteString("id: many\nkeywords:\n")
	for i := range match.MaxKeywords + 1 {
		b.WriteString("  - word" + strings.Repeat("x", i%7) + "\n")
	}
	if err := os.WriteFile(many, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("watchlist/too-many-keywords", func(t *testing.T) {
		checkBad(t, loaders["watchlist"], many, "10001 keywords and exclusions; the limit is 10000 per watchlist")
	})
}

// checkBad loads path and wants a configuration error holding want.
func checkBad(t *testing.T, load func(string) error, path, want string) {
	t.Helper()
	err := loadInTime(t, load, path)
	if err == nil {
		t.Fatalf("a bad file is accepted; want an error holding %q", want)
	}
	if !errors.Is(Classify(err), ErrConfig) {
		t.Errorf("%v\nis not a configuration error (ErrConfig, exit 2)", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("the error\n%v\ndoes not hold %q", err, want)
	}
}

// loadInTime loads path, failing the test when that takes more than a few
// seconds: a hostile file is refused, it does not hold the process up.
func loadInTime(t *testing.T, load func(string) error, path string) error {
	t.Helper()
	start := time.Now()
	err := load(path)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("loading took %v", d)
	}
	return err
}

var lineFirst = regexp.MustCompile(`^\d+: `)

// wantOf is the expected message of a bad file, from its first line.
func wantOf(t *testing.T, path string) string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Scan()
	want, ok := strings.CutPrefix(strings.TrimPrefix(sc.Text(), "\uFEFF"), "# want: ")
	if !ok || want == "" {
		t.Fatalf("%s: the first line of a bad file should be # want: [LINE: ]TEXT", path)
	}
	if lineFirst.MatchString(want) {
		return path + ":" + want
	}
	return want
}

// exampleKinds says which loader reads each file deploy/examples ships
// (by its path there); a new example must be named here, so it is loaded
// by TestConfigCorpusExamples.
var exampleKinds = map[string]string{
	"embedded.yaml":    "pipeline",
	"distributed.yaml": "pipeline",
	"routing.yaml":     "policy",
	"org.yaml":         "org",
	"watchlists/*":     "watchlist",
}

// TestConfigCorpusExamples: every example of deploy/examples loads as it
// is, read where it is. The corpus once held copies of them, which drifted
// from the examples (a team the example org gained, a watchlist's team)
// while the test went on passing on the copy; so no file of the corpus may
// be one.
func TestConfigCorpusExamples(t *testing.T) {
	const dir = "../deploy/examples"
	var files []string
	for _, pattern := range []string{"*.yaml", "watchlists/*.yaml"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < len(exampleKinds) {
		t.Fatalf("%d examples in %s, want at least %d", len(files), dir, len(exampleKinds))
	}
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		kind, ok := exampleKinds[rel]
		if !ok {
			kind, ok = exampleKinds[filepath.Dir(rel)+"/*"]
		}
		if !ok {
			t.Errorf("%s: which kind of file is it? name it in exampleKinds", f)
			continue
		}
		t.Run(kind+"/"+rel, func(t *testing.T) {
			if err := loadInTime(t, loaders[kind], f); err != nil {
				t.Fatalf("an example is refused: %v", err)
			}
		})
	}
	copies, _ := filepath.Glob("testdata/config/*/example-*")
	for _, c := range copies {
		t.Errorf("%s: a copy of an example drifts from it; the examples are read in place", c)
	}
}

// docSnippetExcerpts are the YAML blocks of the docs that are parts of a
// file, not files or configuration sections of their own (the first line
// of the block, per doc), and so are not loaded by TestDocSnippets.
var docSnippetExcerpts = map[string][]string{
	"README.md":       {"transport:  {kind: memory|kafka"}, // a one-line sketch of every section
	"docs/routing.md": {"rules:", "  - name: crisis", "spikes:"},
	"docs/rules.md":   {"keywords: [acme"},
	"docs/markets.md": {"# org.yaml (excerpt", "queues:\n  - name: care-dach"},
	"docs/digests.md": {"digests:"}, // names channels of its own; the corpus has digest-*.good.yaml
}

var yamlBlock = regexp.MustCompile("(?ms)^( *)```ya?ml\n(.*?)^ *```")

// TestDocSnippets loads every YAML block of README.md and docs/ as earshot
// would, so that a snippet a reader copies is not refused: a watchlist
// (`id:`), a routing policy (`queues:` and `rules:`), an organisation
// (`regions:` or `teams:` first), or configuration sections, laid over
// deploy/examples/embedded.yaml. The paths and environment variables a
// configuration snippet names for a real deployment (/etc/earshot/…,
// KAFKA_PASSWORD) are not there and are let through; every other problem
// fails.
func TestDocSnippets(t *testing.T) {
	docs, _ := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	docs = append(docs, filepath.Join("..", "README.md"))
	base := map[string]any{}
	if err := yaml.Unmarshal(mustRead(t, examples(t, "embedded.yaml")), &base); err != nil {
		t.Fatal(err)
	}
	base["match"] = map[string]any{"watchlists": examples(t, "watchlists")}
	base["route"] = map[string]any{"policy": examples(t, "routing.yaml"), "org": examples(t, "org.yaml")}
	n := 0
	for _, doc := range docs {
		name := strings.TrimPrefix(filepath.ToSlash(doc), "../")
		text := string(mustRead(t, doc))
	blocks:
		for _, m := range yamlBlock.FindAllStringSubmatchIndex(text, -1) {
			indent := text[m[2]:m[3]]
			body := strings.ReplaceAll("\n"+text[m[4]:m[5]], "\n"+indent, "\n")[1:]
			for _, prefix := range docSnippetExcerpts[name] {
				if strings.HasPrefix(body, prefix) {
					continue blocks
				}
			}
			line := strings.Count(text[:m[0]], "\n") + 1
			n++
			t.Run(fmt.Sprintf("%s:%d", name, line), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "snippet.yaml")
				kind := snippetKind(body)
				data := []byte(body)
				if kind == "pipeline" {
					over := map[string]any{}
					if err := yaml.Unmarshal(data, &over); err != nil {
						t.Fatalf("not YAML: %v\n%s", err, body)
					}
					var err error
					if data, err = yaml.Marshal(mergeYAML(base, over)); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := loaders[kind](path); err != nil {
					var bad []string
					for _, l := range strings.Split(err.Error(), "\n") {
						if strings.HasSuffix(l, "invalid configuration") || kind == "pipeline" &&
							(strings.HasSuffix(l, ": no such file or directory") || strings.HasSuffix(l, "is not set or is empty")) {
							continue // a header, or a deployment's file or variable
						}
						bad = append(bad, l)
					}
					if len(bad) > 0 {
						t.Errorf("the %s snippet is refused:\n%s\n\n%s", kind, strings.Join(bad, "\n"), body)
					}
				}
			})
		}
	}
	if n < 10 {
		t.Errorf("%d YAML snippets found in the docs: is yamlBlock still right?", n)
	}
}

// snippetKind tells which loader a doc's YAML block is for.
func snippetKind(body string) string {
	switch {
	case strings.HasPrefix(body, "id:"):
		return "watchlist"
	case strings.HasPrefix(body, "queues:") && strings.Contains(body, "\nrules:"):
		return "policy"
	case strings.HasPrefix(body, "regions:"), strings.HasPrefix(body, "teams:"):
		return "org"
	}
	return "pipeline"
}

// mergeYAML lays over onto base, map by map.
func mergeYAML(base, over map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if bm, ok := out[k].(map[string]any); ok {
			if om, ok := v.(map[string]any); ok {
				out[k] = mergeYAML(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
