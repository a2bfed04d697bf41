package enrich

// The walking skeleton's enricher, copied verbatim (renamed) as the baseline
// the benchmarks compare against. Not used by the stage.

import (
	"math"
	"strings"
	"unicode"

	"github.com/earshot-dev/earshot/post"
)

// baselineEnrich is the skeleton's Enrich.
func baselineEnrich(regions map[string]string, p *post.Post) *post.Enrichment {
	en := &post.Enrichment{Lang: p.Lang, Region: "unknown"}
	if en.Lang == "" {
		en.Lang = "und"
	}
	en.Sentiment = baselineSentiment(p.Text)
	en.SentimentLabel = baselineLabel(en.Sentiment)
	switch {
	case p.Geo != nil && p.Geo.Country != "":
		en.Country = p.Geo.Country
	case p.Country != "":
		en.Country = p.Country
	default:
		en.Country = baselineCountryOf(p.Author.Location)
	}
	en.Country = strings.ToUpper(en.Country)
	if r, ok := regions[en.Country]; ok {
		en.Region = r
	}
	return en
}

// A small multilingual valence baselineLexicon (VADER's scale, -4 to 4). The
// enrichment issue replaces it with VADER and licensed per-language lexicons.
var baselineLexicon = map[string]float64{
	// en
	"love": 3.2, "great": 3.1, "amazing": 2.8, "awesome": 3.1, "thank": 1.5, "thanks": 1.9, "excellent": 2.7,
	"good": 1.9, "happy": 2.7, "fixed": 1.0, "best": 3.2, "broken": -2.0, "worst": -3.1, "terrible": -2.5,
	"awful": -2.0, "hate": -2.7, "refund": -1.0, "bad": -2.5, "scam": -2.5, "useless": -1.8, "disappointed": -1.9,
	"angry": -2.3, "fail": -2.0,
	// es
	"encanta": 3.0, "excelente": 2.7, "genial": 2.8, "bueno": 1.9, "gracias": 1.9, "roto": -2.0, "pésimo": -3.0,
	"horrible": -2.5, "malo": -2.5, "odio": -2.7, "reembolso": -1.0,
	// el
	"λατρεύω": 3.0, "εξαιρετική": 2.7, "εξαιρετικό": 2.7, "τέλεια": 3.0, "καλό": 1.9, "ευχαριστώ": 1.9,
	"χάλασε": -2.0, "απαίσια": -3.0, "χάλια": -2.5, "απαράδεκτο": -2.7, "κακό": -2.5, "μισώ": -2.7,
	// de
	"liebe": 3.0, "super": 2.8, "toll": 2.8, "gut": 1.9, "danke": 1.9, "kaputt": -2.0, "schrecklich": -2.7,
	"furchtbar": -2.7, "schlecht": -2.5, "hasse": -2.7, "erstattung": -1.0,
	// fr
	"adore": 3.0, "génial": 2.8, "bien": 1.5, "merci": 1.9, "cassé": -2.0, "nul": -2.3, "déteste": -2.7,
	"remboursement": -1.0,
	// pt
	"adoro": 3.0, "ótimo": 2.8, "bom": 1.9, "obrigado": 1.9, "quebrou": -2.0, "péssimo": -3.0, "horrível": -2.5,
	"terrível": -2.5, "odeio": -2.7,
	// it
	"eccellente": 2.7, "fantastico": 2.8, "buono": 1.9, "grazie": 1.9, "rotto": -2.0, "pessimo": -3.0,
	"orribile": -2.5, "terribile": -2.5, "rimborso": -1.0,
}

// baselineUnspacedLexicon holds terms of scripts written without spaces; they are
// found as substrings.
var baselineUnspacedLexicon = map[string]float64{"最悪": -3.0, "ひどい": -2.5, "壊れた": -2.0, "最高": 3.0, "大好き": 3.0}

var baselineEmojiValence = map[rune]float64{'😀': 1.5, '😡': -2.5, '👍': 1.5, '💔': -2.0, '🙏': 1.0, '😂': 1.2, '🎉': 2.0}

// baselineNegators flip the valence of the next three words.
var baselineNegators = map[string]bool{
	"not": true, "no": true, "never": true, "dont": true, "isnt": true, "nunca": true, "δεν": true, "μην": true,
	"nicht": true, "kein": true, "keine": true, "pas": true, "não": true, "non": true,
}

// sentiment scores text in [-1, 1] with VADER's normalisation.
func baselineSentiment(text string) float64 {
	var sum float64
	negate := 0
	for w := range strings.FieldsFuncSeq(text, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' }) {
		w = strings.ToLower(strings.ReplaceAll(w, "'", ""))
		if baselineNegators[w] {
			negate = 3
			continue
		}
		v := baselineLexicon[w]
		if negate > 0 {
			v *= -0.74 // VADER's negation scalar
			negate--
		}
		sum += v
	}
	for term, v := range baselineUnspacedLexicon {
		if strings.Contains(text, term) {
			sum += v
		}
	}
	for _, r := range text {
		sum += baselineEmojiValence[r]
	}
	return sum / math.Sqrt(sum*sum+15)
}

func baselineLabel(score float64) string {
	switch {
	case score >= 0.05:
		return "positive"
	case score <= -0.05:
		return "negative"
	}
	return "neutral"
}

// baselinePlaces maps profile locations, lower-cased, to countries. It is a seed,
// not a gazetteer: the enrichment issue replaces it with one.
var baselinePlaces = map[string]string{
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
func baselineCountryOf(location string) string {
	for part := range strings.SplitSeq(location, ",") {
		if c, ok := baselinePlaces[strings.ToLower(strings.TrimSpace(part))]; ok {
			return c
		}
	}
	return ""
}
