package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/backtest"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/search"
)

// The index stage of an embedded run feeds earshot search and earshot
// watchlist backtest.
func TestSearchAndBacktestAfterARun(t *testing.T) {
	dir := t.TempDir()
	base, _ := os.ReadFile(filepath.Join(examples(t), "embedded.yaml"))
	body := strings.NewReplacer("watchlists: watchlists", "watchlists: "+filepath.Join(examples(t), "watchlists"),
		"policy: routing.yaml", "policy: "+filepath.Join(examples(t), "routing.yaml"),
		"org: org.yaml", "org: "+filepath.Join(examples(t), "org.yaml")).Replace(string(base))
	body += "\nsearch:\n  enabled: true\n  dir: index\n  retention: 72h\n"
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte(body), 0o644)
	var out, errb bytes.Buffer
	if err := run([]string{"run", "--config", cfg, "--rate", "0", "--limit", "5000", "--quiet", "--progress", "0", "--metrics-addr", "127.0.0.1:0"}, &out, &errb); err != nil {
		t.Fatalf("run: %v\n%s", err, errb.String())
	}
	var sum pipeline.Summary
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	json.Unmarshal([]byte(lines[len(lines)-1]), &sum)
	st := sum.Stages[pipeline.Index]
	if st.In == 0 || st.In != sum.Stages[pipeline.Enrich].Out || st.Dead != 0 {
		t.Fatalf("index stage %+v (matched %d)", st, sum.Matched)
	}

	searchJSON := func(args ...string) search.Result {
		t.Helper()
		var o, e bytes.Buffer
		if err := run(append([]string{"search", "--config", cfg, "--json"}, args...), &o, &e); err != nil {
			t.Fatalf("search %v: %v %s", args, err, e.String())
		}
		var r search.Result
		if err := json.Unmarshal(o.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	all := searchJSON("*")
	if all.Total != uint64(st.In) {
		t.Errorf("%d posts searchable, the index stage took %d", all.Total, st.In)
	}
	r := searchJSON("acme", "--lang", "el", "--size", "5")
	if r.Total == 0 || len(r.Hits) != 5 {
		t.Fatalf("acme in Greek: total %d, %d hits", r.Total, len(r.Hits))
	}
	for _, h := range r.Hits {
		if h.Lang != "el" || !strings.Contains(strings.ToLower(h.Highlights["text"][0]), "<mark>acme</mark>") {
			t.Errorf("hit %+v", h)
		}
	}
	if f := r.Facets["lang"]; len(f) != 1 || f[0].Term != "el" || uint64(f[0].Count) != r.Total {
		t.Errorf("lang facet %+v", f)
	}
	// Flags before or after the query; the text output.
	var o, e bytes.Buffer
	if err := run([]string{"search", "--config", cfg, "refund", "--sentiment", "negative", "--since", "3d"}, &o, &e); err != nil {
		t.Fatal(err, e.String())
	}
	if !strings.Contains(o.String(), "[refund]") || !strings.Contains(o.String(), "sentiment: negative") {
		t.Errorf("text output:\n%s", o.String())
	}

	// Bad input is a usage error that says what is wrong.
	for _, args := range [][]string{{"acme OR globex"}, {`"acme`}, {"*", "--sentiment", "happy"}, {"*", "--since", "soon"}, {}} {
		var o, e bytes.Buffer
		err := run(append([]string{"search", "--config", cfg}, args...), &o, &e)
		var ee exitError
		if !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("search %q: %v, want a usage error", args, err)
		}
	}

	// Backtest a draft over the window.
	draft := filepath.Join(dir, "draft.yaml")
	os.WriteFile(draft, []byte("id: refunds\nname: Refunds\nteam: care\nstatus: draft\nkeywords: [refund, reembolso, remboursement]\n"), 0o644)
	o.Reset()
	if err := run([]string{"watchlist", "backtest", draft, "--config", cfg, "--since", "2d", "--json"}, &o, &e); err != nil {
		t.Fatal(err, e.String())
	}
	var rep backtest.Report
	if err := json.Unmarshal(o.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Matched == 0 || rep.Scanned != int(all.Total) || len(rep.Sample) == 0 {
		t.Errorf("backtest: matched %d of %d, %d samples", rep.Matched, rep.Scanned, len(rep.Sample))
	}
	var acme int
	for _, ov := range rep.Overlap {
		if ov.Watchlist == "acme" {
			acme = ov.Both
		}
	}
	if acme == 0 || acme > rep.Matched {
		t.Errorf("overlap with acme %d of %d: %+v", acme, rep.Matched, rep.Overlap)
	}
	o.Reset()
	if err := run([]string{"watchlist", "backtest", draft, "--config", cfg, "--since", "365d"}, &o, &e); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(o.String(), "note: asked for 365d, but the index keeps 3d") {
		t.Errorf("a year is not clamped clearly:\n%s", o.String())
	}

	// While a process holds the index, the tools say what to do.
	c, err := pipeline.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	x, err := search.Open(c.Search, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	err = run([]string{"search", "--config", cfg, "acme"}, &o, &e)
	if err == nil || !strings.Contains(err.Error(), "held open by a running earshot") || !strings.Contains(err.Error(), "/v1/search") {
		t.Errorf("search of a held index: %v", err)
	}
}
