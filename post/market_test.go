package post

import (
	"strings"
	"testing"
	"time"
)

// The market is one optional field of the enrichment: records written
// before it decode with none, and records with it stay wire version 1, so
// readers built before it read them (ignoring the field).
func TestMarketOnTheWire(t *testing.T) {
	old := `{"v":1,"post":{"platform":"x","id":"1","author":{"handle":"a"},"text":"t","created_at":"2026-01-01T00:00:00Z","ingested_at":"2026-01-01T00:00:00Z"},"enrichment":{"lang":"de","sentiment":0,"sentiment_label":"neutral","country":"DE","region":"EMEA"}}`
	it, err := Decode([]byte(old))
	if err != nil || it.Enrichment.Market != "" || it.Enrichment.Country != "DE" {
		t.Fatalf("old record: %+v, %v", it, err)
	}
	it.Enrichment.Market = "DACH"
	b, err := Encode(nil, it)
	if err != nil || !strings.HasPrefix(string(b), `{"v":1,`) || !strings.Contains(string(b), `"market":"DACH"`) {
		t.Fatalf("encoded %s, %v; want version 1 with the market", b, err)
	}
	back, err := Decode(b)
	if err != nil || back.Enrichment.Market != "DACH" {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	// no market, no field
	none := &Item{Post: &Post{Platform: "x", ID: "2", CreatedAt: time.Now()}, Enrichment: &Enrichment{Region: "EMEA"}}
	if b, _ := Encode(nil, none); strings.Contains(string(b), "market") {
		t.Errorf("encoded %s, want no market field", b)
	}
}
