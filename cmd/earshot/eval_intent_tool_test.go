package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// earshot eval intent: per-intent figures with baselines, as text and as
// JSON, on one part of the datasplit.
func TestEvalIntent(t *testing.T) {
	set := filepath.Join("..", "..", "enrich", "testdata", "intent_posts.tsv")
	var out bytes.Buffer
	if err := run([]string{"eval", "intent", "--part", "test", "--json", set}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Rows               int     `json:"rows"`
		Part               string  `json:"part"`
		ExactMatch         float64 `json:"exact_match"`
		MajorityExactMatch float64 `json:"majority_exact_match"`
		PostsPerSec        float64 `json:"posts_per_sec"`
		Classes            []struct {
			Intent            string
			Support           int
			Precision, Recall float64
		} `json:"classes"`
		Confusion map[string]map[string]int `json:"confusion"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if rep.Part != "test" || rep.Rows < 100 || rep.PostsPerSec <= 0 || len(rep.Classes) != 8 || rep.Confusion["complaint"]["complaint"] == 0 {
		t.Fatalf("report %+v", rep)
	}
	if rep.ExactMatch <= rep.MajorityExactMatch {
		t.Errorf("exact match %.3f not above the majority baseline %.3f", rep.ExactMatch, rep.MajorityExactMatch)
	}
	for _, c := range rep.Classes {
		if c.Support == 0 || c.Recall < 0 || c.Recall > 1 || c.Precision > 1 {
			t.Errorf("class %+v", c)
		}
	}

	// A complaint|not file: only complaint is measured.
	bin := filepath.Join(t.TempDir(), "complaints.tsv")
	os.WriteFile(bin, []byte("en\tcomplaint\t@ShopCo charged me twice, still no refund\nen\tnot\tlovely sunset tonight\n"), 0o644)
	out.Reset()
	if err := run([]string{"eval", "intent", bin}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"labelled intents: complaint\n", "majority baseline", "complaint  1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}

	// Bad input is an error, not a report.
	os.WriteFile(bin, []byte("en\tangry\tgrr\n"), 0o644)
	if err := run([]string{"eval", "intent", bin}, &out, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `unknown intent "angry"`) {
		t.Errorf("unknown intent: %v", err)
	}
	if err := run([]string{"eval", "intent", "--part", "holdout", set}, &out, &bytes.Buffer{}); err == nil {
		t.Error("unknown part: no error")
	}
}
