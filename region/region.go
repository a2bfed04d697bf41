// Package region maps countries to the organisation's regions. The default
// is EMEA / APAC / LATAM / NA; hub-and-spoke teams draw their own lines.
// Enrichment tags posts with it and the rule language's region: filter
// reads it, so both agree.
package region

import (
	"slices"
	"strings"
)

// defaults lists, per region, the ISO 3166-1 alpha-2 codes of its countries.
var defaults = map[string]string{
	"EMEA":  "AD AE AL AM AO AT AZ BA BE BF BG BH BI BJ BW BY CD CF CG CH CI CM CV CY CZ DE DJ DK DZ EE EG ER ES ET FI FO FR GA GB GE GH GI GM GN GQ GR GW HR HU IE IL IQ IR IS IT JO KE KM KW KZ LB LI LR LS LT LU LV LY MA MC MD ME MG MK ML MR MT MU MW MZ NA NE NG NL NO OM PL PS PT QA RO RS RU RW SA SC SD SE SI SK SL SM SN SO SS ST SY SZ TD TG TJ TM TN TR TZ UA UG UZ VA XK YE ZA ZM ZW",
	"APAC":  "AF AS AU BD BN BT CC CK CN CX FJ FM GU HK ID IN JP KH KI KP KR LA LK MH MM MN MO MP MV MY NC NF NP NR NU NZ PF PG PH PK PN PW SB SG TH TK TL TO TV TW VN VU WF WS",
	"LATAM": "AG AI AR AW BB BL BO BQ BR BS BZ CL CO CR CU CW DM DO EC FK GD GF GP GT GY HN HT JM KN KY LC MF MQ MS MX NI PA PE PR PY SR SV SX TC TT UY VC VE VG VI",
	"NA":    "BM CA GL PM US",
}

// Map returns country code → region: the defaults, with the countries listed
// in overrides (region → codes) moved to the regions named there.
func Map(overrides map[string][]string) map[string]string {
	m := map[string]string{}
	for r, codes := range defaults {
		for _, c := range strings.Fields(codes) {
			m[c] = r
		}
	}
	for r, codes := range overrides {
		for _, c := range codes {
			m[strings.ToUpper(c)] = r
		}
	}
	return m
}

// Names lists the region names of m (country code → region), sorted.
func Names(m map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range m {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// Canonical returns the spelling of name among names, compared without
// regard to case, and whether it is one.
func Canonical(name string, names []string) (string, bool) {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return n, true
		}
	}
	return name, false
}
