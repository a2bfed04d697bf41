package enrich

import "testing"

// Profile locations written with a trailing dot, joined by a hyphen, or
// naming one of the smaller countries resolve.
func TestGazetteerMoreLocations(t *testing.T) {
	g, err := loadGazetteer()
	if err != nil {
		t.Fatal(err)
	}
	for loc, want := range map[string]string{
		"USA.": "US", "U.S.A.": "US", "London-UK": "GB", "Malawi": "MW", "Lilongwe, Malawi": "MW",
		"Guinea-Bissau": "GW", "Chad": "TD", "Monaco": "MC", "Curaçao": "CW", "Kosovo": "XK",
		"Saint Lucia": "LC", "Stratford-upon-Avon, UK": "GB",
	} {
		if m := g.lookup(loc); m.country != want {
			t.Errorf("lookup(%q) = %q, want %s", loc, m.country, want)
		}
	}
	for _, loc := range []string{"chad from ohio"} {
		if m := g.lookup(loc); m.country == "TD" {
			t.Errorf("lookup(%q) = Chad", loc)
		}
	}
}
