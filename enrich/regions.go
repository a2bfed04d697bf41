package enrich

import "strings"

// defaultRegions lists, per region, the ISO 3166-1 alpha-2 codes of its
// countries. Teams draw their own lines through Config.Regions.
var defaultRegions = map[string]string{
	"EMEA":  "AD AE AL AM AO AT AZ BA BE BF BG BH BI BJ BW BY CD CF CG CH CI CM CV CY CZ DE DJ DK DZ EE EG ER ES ET FI FO FR GA GB GE GH GI GM GN GQ GR GW HR HU IE IL IQ IR IS IT JO KE KM KW KZ LB LI LR LS LT LU LV LY MA MC MD ME MG MK ML MR MT MU MW MZ NA NE NG NL NO OM PL PS PT QA RO RS RU RW SA SC SD SE SI SK SL SM SN SO SS ST SY SZ TD TG TJ TM TN TR TZ UA UG UZ VA XK YE ZA ZM ZW",
	"APAC":  "AF AS AU BD BN BT CC CK CN CX FJ FM GU HK ID IN JP KH KI KP KR LA LK MH MM MN MO MP MV MY NC NF NP NR NU NZ PF PG PH PK PN PW SB SG TH TK TL TO TV TW VN VU WF WS",
	"LATAM": "AG AI AR AW BB BL BO BQ BR BS BZ CL CO CR CU CW DM DO EC FK GD GF GP GT GY HN HT JM KN KY LC MF MQ MS MX NI PA PE PR PY SR SV SX TC TT UY VC VE VG VI",
	"NA":    "BM CA GL PM US",
}

// places maps profile locations, lower-cased, to countries. It is a seed,
// not a gazetteer: the enrichment issue replaces it with one.
var places = map[string]string{
	"london": "GB", "uk": "GB", "united kingdom": "GB", "dublin": "IE", "ireland": "IE",
	"new york": "US", "nyc": "US", "san francisco": "US", "usa": "US", "los angeles": "US", "chicago": "US",
	"toronto": "CA", "montréal": "CA", "montreal": "CA", "vancouver": "CA", "canada": "CA",
	"sydney": "AU", "melbourne": "AU", "australia": "AU", "mumbai": "IN", "delhi": "IN", "india": "IN",
	"singapore": "SG", "tokyo": "JP", "東京": "JP", "osaka": "JP", "japan": "JP", "seoul": "KR",
	"madrid": "ES", "barcelona": "ES", "españa": "ES", "spain": "ES",
	"méxico": "MX", "mexico": "MX", "cdmx": "MX", "buenos aires": "AR", "bogotá": "CO",
	"αθήνα": "GR", "athens": "GR", "θεσσαλονίκη": "GR", "greece": "GR", "ελλάδα": "GR", "λευκωσία": "CY",
	"berlin": "DE", "münchen": "DE", "munich": "DE", "deutschland": "DE", "germany": "DE", "wien": "AT", "zürich": "CH",
	"paris": "FR", "lyon": "FR", "france": "FR", "bruxelles": "BE", "dakar": "SN",
	"são paulo": "BR", "rio de janeiro": "BR", "brasil": "BR", "brazil": "BR", "lisboa": "PT", "porto": "PT", "portugal": "PT",
	"roma": "IT", "milano": "IT", "napoli": "IT", "italia": "IT", "italy": "IT",
}

// countryOf guesses a country from a free-text profile location, trying each
// comma-separated part from the most specific.
func countryOf(location string) string {
	for part := range strings.SplitSeq(location, ",") {
		if c, ok := places[strings.ToLower(strings.TrimSpace(part))]; ok {
			return c
		}
	}
	return ""
}
