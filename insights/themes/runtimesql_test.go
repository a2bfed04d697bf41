package themes

import (
	"strings"
	"testing"
	"time"
)

func TestRuntimeStatements(t *testing.T) {
	got, err := RuntimeStatements("earshot", time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Errorf("%d statements, want 5: %v", len(got), got)
	}
	if q := got["themes.sample_cut"]; !strings.Contains(q, "cityHash64(post_key) < ") || !strings.Contains(q, "watchlist IN ('acme')") {
		t.Errorf("sample_cut without the threshold or the scope: %s", q)
	}
	if q := got["themes.sample"]; strings.Contains(q, "cityHash64(post_key) < ") {
		t.Errorf("sample with the threshold: %s", q)
	}
	if q := got["themes.sample.cluster"]; !strings.Contains(q, "GLOBAL ANY INNER JOIN") {
		t.Errorf("sample.cluster without GLOBAL: %s", q)
	}
}
