package search

import (
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The whole answer to a query, as the API returns it: order, highlights,
// facets. Scores are rounded and the time left out.
func TestSearchGolden(t *testing.T) {
	x := loaded(t)
	for name, q := range map[string]Query{
		"refund_greek": {Text: `refund εξυπηρετηση -"thanks"`},
		"scoped_all":   {Text: "*", Size: 3, Scope: &Scope{Watchlists: []string{"acme"}, Regions: []string{"EMEA", "LATAM"}}},
	} {
		t.Run(name, func(t *testing.T) {
			r, err := x.Search(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			r.Took = 0
			for i := range r.Hits {
				r.Hits[i].Score = math.Round(r.Hits[i].Score*1000) / 1000
			}
			got, _ := json.MarshalIndent(r, "", "  ")
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				os.WriteFile(path, append(got, '\n'), 0o644)
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if string(want) != string(got)+"\n" {
				t.Errorf("%s differs:\n%s", path, got)
			}
		})
	}
}
