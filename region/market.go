package region

import "strings"

// Known reports whether code is an ISO 3166-1 alpha-2 country code the
// default map places (every code a post's country can be tagged with).
// Only upper-case ASCII codes are: a look-alike (Cyrillic А, Greek Ε) is not.
func Known(code string) bool {
	_, ok := known[code]
	return ok
}

var known = Map(nil)

// Market is a country or group of countries the organisation serves as one
// (DACH, Nordics, GR-CY), under a region. Markets are named in org.yaml.
type Market struct {
	Name      string
	Region    string
	Countries []string
}

// MarketMap returns country code → market name for markets. A country in
// two markets (the org file refuses that) goes to the first.
func MarketMap(markets []Market) map[string]string {
	m := map[string]string{}
	for _, mk := range markets {
		for _, c := range mk.Countries {
			c = strings.ToUpper(c)
			if _, ok := m[c]; !ok {
				m[c] = mk.Name
			}
		}
	}
	return m
}

// MarketNames lists the market names of m (country code → market), sorted.
func MarketNames(m map[string]string) []string { return Names(m) }
