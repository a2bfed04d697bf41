package enrich

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// borders.tsv.gz: Natural Earth's 1:50m country borders (public domain) as
// packaged by world-atlas, rounded to about a kilometre; built by
// lexicon/borders/gen.py.
//
//go:embed lexicon/borders.tsv.gz
var bordersGz []byte

// borders places a point in a country: a bounding-box filter, then an
// even-odd ray test over the country's rings (holes are rings too).
type borders struct {
	countries []countryShape
}

type countryShape struct {
	code                   string
	minLon, minLat, maxLon float64
	maxLat                 float64
	rings                  [][]float64 // lon, lat, lon, lat, …
}

func loadBorders(gz []byte) (*borders, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("borders: %w", err)
	}
	b := &borders{}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 4<<20)
	for line := 1; sc.Scan(); line++ {
		code, rings, ok := strings.Cut(sc.Text(), "\t")
		if !ok || len(code) != 2 {
			return nil, fmt.Errorf("borders: line %d: want CODE<tab>rings", line)
		}
		c := countryShape{code: code, minLon: 180, minLat: 90, maxLon: -180, maxLat: -90}
		for _, r := range strings.Split(rings, "|") {
			pts := strings.Split(r, ";")
			ring := make([]float64, 0, 2*len(pts))
			for _, p := range pts {
				x, y, _ := strings.Cut(p, ",")
				lon, err1 := strconv.ParseFloat(x, 64)
				lat, err2 := strconv.ParseFloat(y, 64)
				if err1 != nil || err2 != nil {
					return nil, fmt.Errorf("borders: line %d (%s): bad point %q", line, code, p)
				}
				ring = append(ring, lon, lat)
				c.minLon, c.maxLon = min(c.minLon, lon), max(c.maxLon, lon)
				c.minLat, c.maxLat = min(c.minLat, lat), max(c.maxLat, lat)
			}
			c.rings = append(c.rings, ring)
		}
		b.countries = append(b.countries, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("borders: %w", err)
	}
	return b, nil
}

// country returns the ISO 3166-1 alpha-2 code of the country containing
// the point (inside true), or of the nearest country within coastMargin
// (inside false), or "" (open sea, or invalid coordinates).
func (b *borders) country(lat, lon float64) (code string, inside bool) {
	if !(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) { // NaN too
		return "", false
	}
	for i := range b.countries {
		c := &b.countries[i]
		if lon < c.minLon || lon > c.maxLon || lat < c.minLat || lat > c.maxLat {
			continue
		}
		in := false
		for _, r := range c.rings {
			if inRing(r, lon, lat) {
				in = !in
			}
		}
		if in {
			return c.code, true
		}
	}
	// Coastal cities lose their shore to a kilometre's rounding: take the
	// nearest country within coastMargin degrees (~15 km), as a weaker
	// answer.
	best, bestD := "", coastMargin*coastMargin
	k := math.Cos(lat * math.Pi / 180) // a degree of longitude is shorter away from the equator
	for i := range b.countries {
		c := &b.countries[i]
		if lon < c.minLon-coastMargin/max(k, 0.1) || lon > c.maxLon+coastMargin/max(k, 0.1) || lat < c.minLat-coastMargin || lat > c.maxLat+coastMargin {
			continue
		}
		for _, r := range c.rings {
			if d := ringDist2(r, lon, lat, k); d < bestD {
				best, bestD = c.code, d
			}
		}
	}
	return best, false
}

// coastMargin is how far off a border, in degrees of latitude, a point is
// still taken for the nearest country.
const coastMargin = 0.15

// ringDist2 is the squared distance, in degrees of latitude, from (x, y)
// to the nearest edge of ring r; k scales longitude.
func ringDist2(r []float64, x, y, k float64) float64 {
	best := math.Inf(1)
	n := len(r) / 2
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		ax, ay, bx, by := r[2*j]*k, r[2*j+1], r[2*i]*k, r[2*i+1]
		px, py := x*k, y
		dx, dy := bx-ax, by-ay
		t := 0.0
		if l := dx*dx + dy*dy; l > 0 {
			t = max(0, min(1, ((px-ax)*dx+(py-ay)*dy)/l))
		}
		ex, ey := ax+t*dx-px, ay+t*dy-py
		best = min(best, ex*ex+ey*ey)
	}
	return best
}

// inRing is the even-odd ray test of point (x, y) against a closed ring.
func inRing(r []float64, x, y float64) bool {
	in := false
	n := len(r) / 2
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		xi, yi, xj, yj := r[2*i], r[2*i+1], r[2*j], r[2*j+1]
		if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}
