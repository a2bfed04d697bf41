package api

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// ScopeNames are the names a scope may use, as the organisation spells
// them: the teams and markets of the org file (route.org; the teams with
// those the watchlists name) and the regions of enrichment
// (enrich.regions). Alerts, posts and themes carry these
// spellings and ClickHouse compares them exactly, so a scope naming
// "dach" or a team that does not exist sees nothing and looks as if it
// worked. A nil list is not known (no org file): its names are not checked.
// Brands are not listed anywhere and are taken as given.
type ScopeNames struct {
	Org     string // where the teams and markets come from, for messages
	Teams   []string
	Regions []string
	Markets []string
}

// dimensions pairs the lists of s with the known names of each.
func (n ScopeNames) dimensions(s *Scope) []scopeDimension {
	return []scopeDimension{{"teams", "team", &s.Teams, n.Teams}, {"regions", "region", &s.Regions, n.Regions}, {"markets", "market", &s.Markets, n.Markets}}
}

type scopeDimension struct {
	plural, singular string
	values           *[]string
	known            []string
}

// canonical is v as spelt among known: the same name, else the one name
// equal to it without regard to case (two such, "Care" and "care", are
// ambiguous: not one).
func canonical(v string, known []string) (string, bool) {
	if slices.Contains(known, v) {
		return v, true
	}
	found, n := "", 0
	for _, k := range known {
		if strings.EqualFold(k, v) {
			found, n = k, n+1
		}
	}
	return found, n == 1
}

// Canonical returns s with each team, region and market in the
// organisation's spelling, or an error naming every value it does not
// know and the known ones, closest first. What is not known (nil list)
// is kept as given; notChecked says which of those s uses.
func (n ScopeNames) Canonical(s Scope) (out Scope, notChecked []string, err error) {
	out = s
	var errs []error
	for _, d := range n.dimensions(&out) {
		if len(*d.values) == 0 {
			continue
		}
		if d.known == nil {
			notChecked = append(notChecked, d.plural)
			continue
		}
		vs := slices.Clone(*d.values)
		for i, v := range vs {
			c, ok := canonical(v, d.known)
			if !ok {
				errs = append(errs, n.unknown(d, v))
				continue
			}
			vs[i] = c
		}
		*d.values = vs
	}
	if err := errors.Join(errs...); err != nil {
		return s, nil, err
	}
	return out.unique(), notChecked, nil
}

func (n ScopeNames) unknown(d scopeDimension, v string) error {
	where := "the org file " + n.Org + " defines"
	switch d.plural {
	case "regions":
		where = "enrich.regions defines"
	case "teams":
		where = "the org file " + n.Org + " and the watchlists name" // add a new team to the org file first
	}
	if len(d.known) == 0 {
		return fmt.Errorf("--%s: %q, but %s no %s", d.plural, clip(v), where, d.plural)
	}
	return fmt.Errorf("--%s: unknown %s %q: %s %s", d.plural, d.singular, clip(v), where, strings.Join(closestFirst(v, d.known), ", "))
}

// Narrow is Canonical for a scope the caller cannot be asked to correct
// (an OIDC token's claims): unknown values are dropped and returned, and
// a list left with none is an error, for a scope must never widen to the
// whole organisation because its every name was unknown.
func (n ScopeNames) Narrow(s Scope) (out Scope, dropped []string, err error) {
	out = s
	for _, d := range n.dimensions(&out) {
		if len(*d.values) == 0 || d.known == nil {
			continue
		}
		var keep []string
		for _, v := range *d.values {
			if c, ok := canonical(v, d.known); ok {
				keep = append(keep, c)
			} else {
				dropped = append(dropped, d.singular+" "+v)
			}
		}
		if len(keep) == 0 {
			return s, dropped, fmt.Errorf("%s %s: none known (want some of %s)", d.plural, strings.Join(*d.values, ","), strings.Join(d.known, ", "))
		}
		*d.values = keep
	}
	return out.unique(), dropped, nil
}

// Unknown lists the values of s that are not the organisation's names
// exactly (a stored token made before they were checked, or the org file
// changed since): "team care-emae", "region emea (EMEA)".
func (n ScopeNames) Unknown(s Scope) []string {
	var out []string
	for _, d := range n.dimensions(&s) {
		if d.known == nil {
			continue
		}
		for _, v := range *d.values {
			if slices.Contains(d.known, v) {
				continue
			}
			if c, ok := canonical(v, d.known); ok {
				out = append(out, fmt.Sprintf("%s %s (spelt %s)", d.singular, v, c))
			} else {
				out = append(out, d.singular+" "+v)
			}
		}
	}
	return out
}

// closestFirst is known sorted by edit distance to v (ties in their order).
func closestFirst(v string, known []string) []string {
	out := slices.Clone(known)
	lv := strings.ToLower(clip(v))
	dist := map[string]int{}
	for _, k := range out {
		dist[k] = editDistance(lv, strings.ToLower(k))
	}
	slices.SortStableFunc(out, func(a, b string) int { return dist[a] - dist[b] })
	return out
}

// editDistance is the Levenshtein distance of a and b in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// clip bounds a value quoted in a message (and compared for closeness):
// a huge --teams must not make a huge error or a slow one.
func clip(v string) string {
	const max = 64
	if len(v) <= max {
		return v
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "…"
}
