package watchlist

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// A watchlist stored with regions in another case gets the regions'
// spelling (EMEA), which is what scoped tokens and enrichment compare
// with; a region that does not exist is refused.
func TestRegionsNormalised(t *testing.T) {
	s := open(t, t.TempDir(), nil)
	ctx := context.Background()
	sp := spec("emea", "acme")
	sp.Regions = []string{"emea", "Apac"}
	r := must(t)(s.Apply(ctx, "ann", sp, 0))
	if !slices.Equal(r.Regions, []string{"EMEA", "APAC"}) {
		t.Errorf("stored regions %v, want [EMEA APAC]", r.Regions)
	}
	if got := s.List(Filter{Regions: []string{"EMEA"}}); len(got) != 1 {
		t.Errorf("an EMEA-scoped listing sees %d watchlists, want 1", len(got))
	}
	sp = spec("mars", "acme")
	sp.Regions = []string{"MARS"}
	if _, err := s.Apply(ctx, "ann", sp, 0); err == nil || !strings.Contains(err.Error(), "MARS") {
		t.Errorf("regions [MARS]: %v, want it refused", err)
	}
}
