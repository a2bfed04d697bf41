package digest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestMetaScope: meta.json (and so GET /v1/digests) names the scope's
// filters in snake_case, as the config and the rest of the API do, and a
// meta.json written before, with Go's field names ("Watchlists"), still
// reads with its scope, which GET /v1/digests filters callers on.
func TestMetaScope(t *testing.T) {
	want := Scope{Watchlists: []string{"acme"}, Teams: []string{"legal", "care-emea"}, Regions: []string{"EMEA"}, Markets: []string{"DACH"}, Intents: []string{"complaint"}}
	b, err := json.Marshal(Meta{Slug: "legal-weekly", Scope: want, Since: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Scope map[string]any `json:"scope"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for k := range raw.Scope {
		if k != strings.ToLower(k) {
			t.Errorf("meta.json scope key %q, want snake_case: %s", k, b)
		}
	}
	for _, k := range []string{"watchlists", "teams", "regions", "markets", "intents"} {
		if _, ok := raw.Scope[k]; !ok {
			t.Errorf("meta.json scope lacks %q: %s", k, b)
		}
	}
	old, err := Archive{Dir: "testdata/archive-v1"}.Meta("legal-weekly", "20261207T0000Z")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(old.Scope, want) {
		t.Errorf("old meta.json scope %+v, want %+v", old.Scope, want)
	}
}
