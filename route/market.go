package route

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/earshot-dev/earshot/region"
)

// Market is a local market of the organisation (org.yaml markets:): a
// country or group of countries under a region, with the teams that serve
// it and its own accounts. Markets sit under regions, regions under the
// whole organisation: local → regional → global. Enrichment tags a post
// with the market of its country (see docs/markets.md).
type Market struct {
	Name      string    `yaml:"name"`      // DACH, Nordics, GR-CY: letters, digits, - and _
	Region    string    `yaml:"region"`    // the region its countries are in (enrich.regions)
	Countries []string  `yaml:"countries"` // ISO 3166-1 alpha-2; each country in at most one market
	Teams     []string  `yaml:"teams"`     // teams of this file that serve the market; a team serves at most one
	Accounts  []Account `yaml:"accounts"`  // the market's own accounts; to:@owned takes them too
}

// MaxMarkets bounds the markets of an org file: every country is in at
// most one market, and there are fewer than 300 countries.
const MaxMarkets = 300

var marketName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,31}$`)

// initMarkets checks the markets against the teams of the file and the
// country → region map regions (nil is the defaults), and fills each
// market's accounts' region with the market's.
func (o *Org) initMarkets(regions map[string]string, bad func(string, ...any)) {
	if len(o.Markets) > MaxMarkets {
		bad("markets: %d markets, want at most %d (each country is in at most one market)", len(o.Markets), MaxMarkets)
		o.Markets = nil
		return
	}
	if regions == nil {
		regions = region.Map(nil)
	}
	names := region.Names(regions)
	o.Markets = dropNil(o.Markets, "markets", "a market (name, region, countries)", bad)
	seen := map[string]string{}      // lower-case name → name
	countryOf := map[string]string{} // country → market
	teamOf := map[string]string{}    // team → market
	for i, m := range o.Markets {
		at := fmt.Sprintf("markets[%d]", i)
		if m.Name != "" {
			at = "markets." + m.Name
		}
		if !marketName.MatchString(m.Name) {
			bad("%s: name %q: want letters, digits, - and _ (up to 32, starting with a letter), such as DACH or GR-CY", at, m.Name)
		} else if prev, ok := seen[strings.ToLower(m.Name)]; ok {
			bad("%s: defined twice (as %q and %q; names are compared without regard to case)", at, prev, m.Name)
		} else {
			seen[strings.ToLower(m.Name)] = m.Name
		}
		r, regionOK := region.Canonical(m.Region, names)
		if !regionOK {
			bad("%s.region: %q is not a region: want one of %v (enrich.regions)", at, m.Region, names)
		}
		m.Region = r
		if len(m.Countries) == 0 {
			bad("%s.countries: empty; a market is a country or a group of countries (ISO 3166-1 alpha-2)", at)
		}
		for j, c := range m.Countries {
			up := strings.ToUpper(strings.TrimSpace(c))
			if !region.Known(up) {
				bad("%s.countries: %q is not an ISO 3166-1 alpha-2 country code such as DE", at, c)
				continue
			}
			m.Countries[j] = up
			if prev, ok := countryOf[up]; ok {
				bad("%s.countries: %s is in market %s already; a country is in at most one market", at, up, prev)
				continue
			}
			countryOf[up] = m.Name
			if in := regions[up]; regionOK && in != m.Region {
				bad("%s.countries: %s is in region %s, not %s (enrich.regions)", at, up, in, m.Region)
			}
		}
		for _, t := range m.Teams {
			if o.teams[t] == nil {
				bad("%s.teams: %q is not among the teams", at, t)
				continue
			}
			if prev, ok := teamOf[t]; ok {
				bad("%s.teams: team %s serves market %s already; a team serves at most one market", at, t, prev)
				continue
			}
			teamOf[t] = m.Name
		}
		for j := range m.Accounts {
			a := &m.Accounts[j]
			if a.Region != "" && !strings.EqualFold(a.Region, m.Region) {
				bad("%s.accounts[%d]: region %q, but the market is in %s (leave it out)", at, j, a.Region, m.Region)
			}
			a.Region = m.Region
		}
	}
	o.teamMarket = teamOf
}

// MarketList is the markets as the region package describes them, for
// enrichment and the rule language.
func (o *Org) MarketList() []region.Market {
	if o == nil {
		return nil
	}
	out := make([]region.Market, 0, len(o.Markets))
	for _, m := range o.Markets {
		out = append(out, region.Market{Name: m.Name, Region: m.Region, Countries: slices.Clone(m.Countries)})
	}
	return out
}

// MarketOf is the market team serves, or "".
func (o *Org) MarketOf(team string) string { return o.teamMarket[team] }

// OwnedAccounts is every account of the organisation: those of accounts:
// and those of each market.
func (o *Org) OwnedAccounts() []Account {
	out := slices.Clone(o.Accounts)
	for _, m := range o.Markets {
		out = append(out, m.Accounts...)
	}
	return out
}
