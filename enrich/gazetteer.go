package enrich

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	//go:embed lexicon/gazetteer_countries.tsv
	gazCountries []byte
	//go:embed lexicon/gazetteer_subdivisions.tsv
	gazSubdivisions []byte
	//go:embed lexicon/gazetteer_cities.tsv
	gazCities []byte
)

// Kinds of gazetteer entries, by strength as evidence of the country.
const (
	placeCity = iota + 1
	placeSubdivision
	placeCountry
)

type place struct {
	country string
	kind    int
}

// gazetteer finds countries in free-text profile locations. Immutable
// after load.
type gazetteer struct {
	names     map[string][]place // lower-cased name (and its accent-folded form)
	abbrevs   map[string][]place // "NYC", "CA": only as a whole part, in capitals
	exactOnly map[string][]place // names that are also common words ("Nice")
	maxWords  int
}

// jokeLocations are profile locations that name no place on the map.
var jokeLocations = map[string]bool{
	"the moon": true, "moon": true, "on the moon": true, "mars": true, "earth": true, "planet earth": true,
	"everywhere": true, "anywhere": true, "nowhere": true, "somewhere": true, "worldwide": true, "world": true,
	"the world": true, "global": true, "internet": true, "the internet": true, "online": true, "cyberspace": true,
	"here": true, "there": true, "home": true, "hell": true, "heaven": true, "the universe": true,
	"universe": true, "narnia": true, "hogwarts": true, "middle earth": true, "the void": true, "metaverse": true,
	"wherever": true, "in your heart": true, "in your mind": true, "your mom's house": true, "ur mom's house": true,
	"outer space": true, "space": true, "the cloud": true, "dreamland": true, "la la land": true, "mordor": true,
	"wakanda": true, "atlantis": true, "gotham": true, "gotham city": true, "springfield usa": true,
}

func loadGazetteer() (*gazetteer, error) {
	g := &gazetteer{names: map[string][]place{}, abbrevs: map[string][]place{}, exactOnly: map[string][]place{}}
	for _, f := range []struct {
		data []byte
		kind int
		name string
	}{{gazCountries, placeCountry, "countries"}, {gazSubdivisions, placeSubdivision, "subdivisions"}, {gazCities, placeCity, "cities"}} {
		sc := bufio.NewScanner(bytes.NewReader(f.data))
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		for line := 1; sc.Scan(); line++ {
			text := sc.Text()
			if text == "" || strings.HasPrefix(text, "#") {
				continue
			}
			cc, rest, ok := strings.Cut(text, "\t")
			if !ok || !countryCode.MatchString(cc) {
				return nil, fmt.Errorf("gazetteer %s line %d: want CC TAB names", f.name, line)
			}
			// Countries: one place per line; others: ';'-separated places.
			places := []string{rest}
			if f.kind != placeCountry {
				places = strings.Split(rest, ";")
			}
			for _, pl := range places {
				for name := range strings.SplitSeq(pl, "|") {
					g.add(strings.TrimSpace(name), place{cc, f.kind})
				}
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("gazetteer %s: %w", f.name, err)
		}
	}
	return g, nil
}

func addPlace(m map[string][]place, k string, p place) {
	for _, q := range m[k] {
		if q == p {
			return
		}
	}
	m[k] = append(m[k], p)
}

func (g *gazetteer) add(name string, p place) {
	if name == "" {
		return
	}
	if strings.HasPrefix(name, "!") {
		k := strings.ToLower(name[1:])
		addPlace(g.exactOnly, k, p)
		addPlace(g.exactOnly, foldAccents(k), p)
		return
	}
	// Short Latin names and dotted ones are abbreviations: "LA", "NYC", "U.S.".
	if isAbbrev(name) {
		addPlace(g.abbrevs, strings.ToUpper(name), p)
		return
	}
	k := strings.ToLower(name)
	addPlace(g.names, k, p)
	addPlace(g.names, foldAccents(k), p)
	g.maxWords = max(g.maxWords, len(strings.Fields(k)))
}

func isAbbrev(name string) bool {
	n := utf8.RuneCountInString(name)
	if n > 4 || !isASCII(name) {
		return false
	}
	return n <= 3 || strings.Contains(name, ".")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// locMatch is the result of a lookup.
type locMatch struct {
	country    string
	region     string // set instead of a country for "Europe", "LATAM"…
	confidence float64
	joke       bool
}

// regionNames are continents and regions people give as their location;
// they map to the default regions (a config override still applies to
// countries only).
var regionNames = map[string]string{
	"europe": "EMEA", "europa": "EMEA", "africa": "EMEA", "áfrica": "EMEA", "afrique": "EMEA", "middle east": "EMEA", "emea": "EMEA",
	"asia": "APAC", "asia pacific": "APAC", "apac": "APAC", "oceania": "APAC", "southeast asia": "APAC",
	"latin america": "LATAM", "latinoamérica": "LATAM", "latinoamerica": "LATAM", "américa latina": "LATAM", "america latina": "LATAM",
	"south america": "LATAM", "sudamérica": "LATAM", "latam": "LATAM", "caribbean": "LATAM", "central america": "LATAM",
	"north america": "NA",
}

// splitLocation cuts a location into parts: "Brooklyn, NY · USA".
func splitLocation(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return strings.ContainsRune(",;/|·•–—()[]\n\t", r)
	})
}

// lookup finds the country a profile location names. Every part (comma-
// separated) votes for the countries it could mean: a country or a
// subdivision counts 3, a city 1, so "Paris, Texas" is in the US and
// "Tbilisi, Georgia" in Georgia. Within a part the longest known name wins.
func (g *gazetteer) lookup(loc string) locMatch {
	loc = strings.TrimSpace(loc)
	if loc == "" || len(loc) > 200 {
		return locMatch{}
	}
	if jokeLocations[strings.ToLower(strings.Trim(loc, " .!🌍🌎🌏✨"))] {
		return locMatch{joke: true}
	}
	votes := map[string]int{}
	var order []string
	vote := func(ps []place, weightCity int) {
		// one vote per country per part, its strongest; in the
		// gazetteer's order, so that ties resolve the same way every time
		var arr [8]place
		best := arr[:0]
	next:
		for _, p := range ps {
			w := weightCity
			if p.kind != placeCity {
				w = 3
			}
			for i := range best {
				if best[i].country == p.country {
					best[i].kind = max(best[i].kind, w)
					continue next
				}
			}
			best = append(best, place{p.country, w})
		}
		for _, b := range best {
			if _, ok := votes[b.country]; !ok {
				order = append(order, b.country)
			}
			votes[b.country] += b.kind
		}
	}
	region := ""
	if cc := flagCountry(loc); cc != "" {
		vote([]place{{cc, placeCountry}}, 0)
	}
	for _, part := range splitLocation(loc) {
		before := len(votes)
		g.lookupPart(part, vote, &region)
		if len(votes) == before && strings.Contains(part, "-") {
			// Nothing known as written: "London-UK" is two places joined
			// (but "Guinea-Bissau" and "Stratford-upon-Avon" are found
			// whole first).
			for sub := range strings.SplitSeq(part, "-") {
				g.lookupPart(sub, vote, &region)
			}
		}
	}
	if len(votes) == 0 {
		if region != "" {
			return locMatch{region: region, confidence: 0.5}
		}
		return locMatch{}
	}
	best, tie := "", false
	for _, c := range order {
		switch {
		case best == "" || votes[c] > votes[best]:
			best, tie = c, false
		case votes[c] == votes[best]:
			tie = true
		}
	}
	conf := 0.7
	switch {
	case tie:
		conf = 0.4
	case votes[best] >= 4: // a city confirmed by its country or state
		conf = 0.9
	case votes[best] >= 3:
		conf = 0.8
	}
	return locMatch{country: best, confidence: conf}
}

// scanPart finds known names in one part, longest first, word by word.
// lookupPart votes for the places one part of a location names.
func (g *gazetteer) lookupPart(part string, vote func([]place, int), region *string) {
	part = strings.TrimSpace(part)
	if part == "" {
		return
	}
	// "USA." is USA: a trailing dot that is not an abbreviation's own.
	for _, p := range []string{part, strings.TrimRight(part, ".")} {
		if ps, ok := g.abbrevs[strings.ToUpper(p)]; ok && isUpper(p) {
			vote(ps, 1)
			return
		}
	}
	if ps, ok := g.names[strings.ToLower(part)]; ok && strings.HasSuffix(part, ".") {
		vote(ps, 1) // a dotted name: "U.S.A."
		return
	}
	low := strings.ToLower(strings.Trim(part, " .!?\"'"))
	if ps, ok := g.exactOnly[low]; ok {
		vote(ps, 1)
		return
	}
	if r, ok := regionNames[low]; ok {
		*region = r
		return
	}
	g.scanPart(low, vote, region)
}

func (g *gazetteer) scanPart(low string, vote func([]place, int), region *string) {
	// word boundaries as byte offsets, so that n-grams are substrings
	var bounds [24][2]int
	words := bounds[:0]
	for i := 0; i < len(low) && len(words) < len(bounds); {
		r, size := utf8.DecodeRuneInString(low[i:])
		if unicode.IsSpace(r) {
			i += size
			continue
		}
		j := i
		for j < len(low) {
			r, size := utf8.DecodeRuneInString(low[j:])
			if unicode.IsSpace(r) {
				break
			}
			j += size
		}
		words = append(words, [2]int{i, j})
		i = j
	}
	for i := 0; i < len(words); {
		n := min(g.maxWords, len(words)-i)
		matched := false
		for ; n >= 1; n-- {
			k := strings.Trim(low[words[i][0]:words[i+n-1][1]], ".!?\"'#@")
			if ps, ok := g.names[k]; ok {
				vote(ps, 1)
				matched = true
				break
			}
			if ps, ok := g.names[foldAccents(k)]; ok {
				vote(ps, 1)
				matched = true
				break
			}
			if r, ok := regionNames[k]; ok {
				*region = r
				matched = true
				break
			}
		}
		if matched {
			i += n
		} else {
			i++
		}
	}
}

// flagCountry reads a flag emoji (two regional indicator letters) as an
// ISO code: "🇬🇷" is GR.
func flagCountry(s string) string {
	var prev rune
	for _, r := range s {
		if r >= 0x1F1E6 && r <= 0x1F1FF {
			if prev != 0 {
				return string([]rune{'A' + prev - 0x1F1E6, 'A' + r - 0x1F1E6})
			}
			prev = r
			continue
		}
		prev = 0
	}
	return ""
}
