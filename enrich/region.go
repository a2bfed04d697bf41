package enrich

import (
	"strings"

	"github.com/earshot-dev/earshot/post"
)

// Region sources, strongest first.
const (
	sourceGeo      = "geo"
	sourcePlace    = "place"
	sourceProfile  = "profile"
	sourceLanguage = "language"
)

// langCountry maps languages spoken mostly in one country to it, with the
// confidence that a post in the language comes from there.
var langCountry = map[string]struct {
	country string
	conf    float64
}{
	"el": {"GR", 0.55}, "ja": {"JP", 0.7}, "ko": {"KR", 0.65}, "th": {"TH", 0.65}, "vi": {"VN", 0.6},
	"he": {"IL", 0.6}, "hu": {"HU", 0.6}, "cs": {"CZ", 0.6}, "pl": {"PL", 0.6}, "da": {"DK", 0.55},
	"fi": {"FI", 0.6}, "sv": {"SE", 0.55}, "nb": {"NO", 0.6}, "nn": {"NO", 0.6}, "is": {"IS", 0.6},
	"tr": {"TR", 0.55}, "uk": {"UA", 0.55}, "id": {"ID", 0.55}, "ka": {"GE", 0.6}, "hy": {"AM", 0.45},
	"lt": {"LT", 0.6}, "lv": {"LV", 0.6}, "et": {"EE", 0.6}, "ro": {"RO", 0.5}, "bg": {"BG", 0.6},
	"sk": {"SK", 0.6}, "sl": {"SI", 0.6}, "hr": {"HR", 0.5}, "mk": {"MK", 0.6}, "nl": {"NL", 0.45},
	"fa": {"IR", 0.5}, "bn": {"BD", 0.35}, "km": {"KH", 0.6}, "ms": {"MY", 0.45}, "tl": {"PH", 0.6},
	"ur": {"PK", 0.45}, "sq": {"AL", 0.45}, "sr": {"RS", 0.5}, "az": {"AZ", 0.55}, "kk": {"KZ", 0.55},
	"uz": {"UZ", 0.55}, "mn": {"MN", 0.6}, "ta": {"IN", 0.4}, "te": {"IN", 0.6}, "ml": {"IN", 0.6},
	"mr": {"IN", 0.6}, "hi": {"IN", 0.6}, "am": {"ET", 0.6},
}

// langRegion maps languages spoken across many countries of one region to
// a country standing for the region (so that a config override applies)
// without claiming that country.
var langRegion = map[string]struct {
	country string
	conf    float64
}{
	"de": {"DE", 0.5}, "fr": {"FR", 0.35}, "it": {"IT", 0.55}, "ru": {"RU", 0.45}, "ar": {"SA", 0.4},
	"zh": {"CN", 0.5}, "yue": {"HK", 0.5}, "pt": {"BR", 0.35}, "es": {"MX", 0.3},
}

// region sets the country and region from the strongest evidence at hand:
// the post's coordinates or place, then the author's profile location,
// then the language.
func (e *Enricher) region(p *post.Post, en *post.Enrichment) {
	set := func(country, source string, conf float64) {
		en.Country, en.RegionSource, en.RegionConfidence = country, source, conf
		en.Market = e.cfg.Markets[country]
		if r, ok := e.regions[country]; ok {
			en.Region = r
		}
	}
	switch {
	case p.Geo != nil && p.Geo.Country != "":
		set(strings.ToUpper(p.Geo.Country), sourceGeo, 0.95)
		return
	case p.Country != "":
		set(strings.ToUpper(p.Country), sourcePlace, 0.9)
		return
	case p.Geo != nil && (p.Geo.Lat != 0 || p.Geo.Lon != 0):
		// Bare coordinates: the country whose borders hold them (at about
		// a kilometre, so a point on a border may land next door).
		if c, inside := e.borders.country(p.Geo.Lat, p.Geo.Lon); c != "" {
			conf := 0.75 // the nearest shore
			if inside {
				conf = 0.9
			}
			set(c, sourceGeo, conf)
			return
		}
		if p.Geo.Place != "" {
			if m := e.gaz.lookup(p.Geo.Place); m.country != "" {
				set(m.country, sourcePlace, min(0.9, m.confidence+0.1))
				return
			}
		}
	case p.Geo != nil && p.Geo.Place != "":
		if m := e.gaz.lookup(p.Geo.Place); m.country != "" {
			set(m.country, sourcePlace, min(0.9, m.confidence+0.1))
			return
		}
	}
	if p.Author.Location != "" {
		m := e.gaz.lookup(p.Author.Location)
		switch {
		case m.country != "":
			set(m.country, sourceProfile, m.confidence)
			return
		case m.region != "":
			en.Region, en.RegionSource, en.RegionConfidence = m.region, sourceProfile, m.confidence
			return
		}
	}
	if lc, ok := langCountry[en.Lang]; ok && en.LangConfidence >= 0.5 {
		set(lc.country, sourceLanguage, lc.conf*en.LangConfidence)
		return
	}
	if lr, ok := langRegion[en.Lang]; ok && en.LangConfidence >= 0.5 {
		if r, ok := e.regions[lr.country]; ok {
			en.Region, en.RegionSource, en.RegionConfidence = r, sourceLanguage, lr.conf*en.LangConfidence
		}
	}
}
