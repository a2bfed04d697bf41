package enrich

import (
	"math"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

func TestBorders(t *testing.T) {
	b, err := loadBorders(bordersGz)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.countries) < 230 {
		t.Fatalf("%d countries loaded", len(b.countries))
	}
	for _, c := range []struct {
		name     string
		lat, lon float64
		want     string
	}{
		{"Athens", 37.98, 23.73, "GR"},
		{"Thessaloniki", 40.64, 22.94, "GR"},
		{"Heraklion, Crete", 35.34, 25.13, "GR"},
		{"Nicosia", 35.17, 33.36, "CY"},
		{"Luxembourg", 49.61, 6.13, "LU"},
		{"Singapore", 1.35, 103.82, "SG"},
		{"New York", 40.71, -74.01, "US"},
		{"Honolulu", 21.31, -157.86, "US"},
		{"São Paulo", -23.55, -46.63, "BR"},
		{"Tokyo", 35.68, 139.69, "JP"},
		{"Lagos", 6.52, 3.38, "NG"},
		{"Vancouver", 49.28, -123.12, "CA"},
		{"Rome", 41.90, 12.50, "IT"},
		{"Maseru, Lesotho (a hole in South Africa)", -29.31, 27.48, "LS"},
		{"Johannesburg", -26.20, 28.05, "ZA"},
		{"Piraeus harbour (on the shore)", 37.94, 23.64, "GR"},
		{"Aegean Sea", 38.5, 25.0, ""},
		{"mid-Atlantic", 30, -40, ""},
		{"null island", 0, 0, ""},
		{"out of range", 91, 0, ""},
		{"NaN", math.NaN(), 0, ""},
	} {
		if got, _ := b.country(c.lat, c.lon); got != c.want {
			t.Errorf("%s (%v, %v): %q, want %q", c.name, c.lat, c.lon, got, c.want)
		}
	}
}

func TestRegionFromCoordinates(t *testing.T) {
	e := New(Config{})
	p := &post.Post{Platform: "x", ID: "1", Text: "hello there", CreatedAt: time.Now(), Geo: &post.Geo{Lat: 37.98, Lon: 23.73}, Author: post.Author{Location: "New York"}}
	en := e.Enrich(p)
	if en.Country != "GR" || en.Region != "EMEA" || en.RegionSource != "geo" {
		t.Errorf("coordinates in Athens, profile in New York: %+v", en)
	}
	p.Geo = &post.Geo{Lat: 30, Lon: -40} // the sea: the profile decides
	if en := e.Enrich(p); en.Country != "US" || en.RegionSource != "profile" {
		t.Errorf("coordinates at sea: %+v", en)
	}
}

func BenchmarkBorders(b *testing.B) {
	br, _ := loadBorders(bordersGz)
	pts := [][2]float64{{37.98, 23.73}, {40.71, -74.01}, {-23.55, -46.63}, {55.75, 37.62}, {30, -40}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := pts[i%len(pts)]
		br.country(p[0], p[1])
	}
}
