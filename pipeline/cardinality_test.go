package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// hostilePosts writes n posts whose every field an author or a platform
// controls is distinct: platform, id, author, language, country, kind,
// text (with newlines, ANSI escapes and invisible characters), and every
// fifth line is not a post at all, with its own content, so that every dead
// letter has a reason of its own.
func hostilePosts(t *testing.T, n int) string {
	path := filepath.Join(t.TempDir(), "posts.ndjson")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	at := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	for i := range n {
		switch i % 5 {
		case 0:
			fmt.Fprintf(w, "{not json %d\n", i)
		case 1:
			fmt.Fprintf(w, `{"platform":"p%d","id":"%d","kind":"k%d","author":{"handle":"a%d"},"text":"acme %d","created_at":"%s"}`+"\n", i, i, i, i, i, at)
		default:
			fmt.Fprintf(w, `{"platform":"p%d","id":"%d","author":{"handle":"a%d","location":"Town %d"},"lang":"x%d","text":"acme refund broken worst \u001b[31m%d\n\u200bsource=forged level=ERROR msg=\"x%d\"","created_at":"%s"}`+"\n", i, i, i, i, i, i, i, at)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

// seriesAfter runs the whole embedded pipeline over the file and counts the
// series of every earshot_ metric it exports.
func seriesAfter(t *testing.T, posts string) (series int, byFamily map[string]int) {
	cfg := Default()
	cfg.Ingest.Source, cfg.Ingest.File.Path = "file", posts
	cfg.Match.Watchlists = "../deploy/examples/watchlists"
	cfg.Route.Policy, cfg.Route.Org = "../deploy/examples/routing.yaml", "../deploy/examples/org.yaml"
	cfg.Enrich.Clustering = "off"
	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p, err := New(ctx, cfg, AllStages, Taps{}, reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.DeadLetters == 0 || st.Stages[Route].Out == 0 {
		t.Fatalf("dead letters %d, alerts routed %d: want both (the hostile lines refused, the posts routed)", st.DeadLetters, st.Stages[Route].Out)
	}
	t.Logf("%d lines: %d dead letters, %d alerts routed", lines(posts), st.DeadLetters, st.Stages[Route].Out)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byFamily = map[string]int{}
	deadBy := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() == "earshot_stream_dead_letters_total" {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "class" {
						if post.Class(l.GetValue()).Known() != post.Class(l.GetValue()) {
							t.Errorf("dead letters labelled class %q, not one of post.Classes", l.GetValue())
						}
						deadBy[l.GetValue()] += m.GetCounter().GetValue()
					}
				}
			}
		}
		if strings.HasPrefix(mf.GetName(), "earshot_") {
			byFamily[mf.GetName()] = len(mf.GetMetric())
			series += len(mf.GetMetric())
		}
	}
	// the lines that are not JSON are decode, the posts of a made-up kind invalid_field
	if deadBy[string(post.ClassDecode)] == 0 || deadBy[string(post.ClassInvalidField)] == 0 {
		t.Errorf("dead letters by class %v: want decode and invalid_field", deadBy)
	}
	return series, byFamily
}

// TestLabelCardinalityIsBoundedWhateverThePosts: no label value comes from
// a post. The series exported after 100 hostile posts and after many
// thousands of them, every field distinct, are the same.
func TestLabelCardinalityIsBoundedWhateverThePosts(t *testing.T) {
	n := 20_000
	if testing.Short() {
		n = 2_000
	}
	if v := os.Getenv("EARSHOT_CARDINALITY_POSTS"); v != "" { // 1000000 for the review's run (BENCHMARKS.md)
		fmt.Sscan(v, &n)
	}
	small, smallBy := seriesAfter(t, hostilePosts(t, 100))
	big, bigBy := seriesAfter(t, hostilePosts(t, n))
	for name, c := range bigBy {
		if c != smallBy[name] {
			t.Errorf("%s: %d series after 100 posts, %d after %d", name, smallBy[name], c, n)
		}
	}
	if big != small {
		t.Errorf("%d series after 100 hostile posts, %d after %d", small, big, n)
	}
}

func lines(path string) int {
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), "\n")
}
