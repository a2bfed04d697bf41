package route

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/region"
)

const marketsBase = `
regions:
  EMEA: {timezone: Europe/Athens, hours: {mon-fri: "09:00-17:00"}}
teams:
  - {name: emea, region: EMEA, always_on: true}
  - {name: dach, region: EMEA, always_on: true}
  - {name: nordics, region: EMEA, always_on: true}
queues:
  - {name: care, team: emea}
`

const marketsOrg = marketsBase + `markets:
  - name: DACH
    region: EMEA
    countries: [DE, at, CH]
    teams: [dach]
    accounts: [{platform: x, handle: "@acme_de", brand: acme}]
  - {name: Nordics, region: EMEA, countries: [SE, NO, DK, FI, IS], teams: [nordics]}
  - {name: GR-CY, region: emea, countries: [GR, CY]}
`

func TestMarkets(t *testing.T) {
	o, err := loadOrg(t, marketsOrg)
	if err != nil {
		t.Fatal(err)
	}
	m := region.MarketMap(o.MarketList())
	for c, want := range map[string]string{"DE": "DACH", "AT": "DACH", "SE": "Nordics", "CY": "GR-CY", "FR": ""} {
		if m[c] != want {
			t.Errorf("market of %s = %q, want %q", c, m[c], want)
		}
	}
	if o.MarketOf("dach") != "DACH" || o.MarketOf("emea") != "" {
		t.Errorf("MarketOf(dach) = %q, MarketOf(emea) = %q", o.MarketOf("dach"), o.MarketOf("emea"))
	}
	if got := o.Markets[2].Region; got != "EMEA" {
		t.Errorf("region of GR-CY = %q, want the canonical EMEA", got)
	}
	owned := o.OwnedAccounts()
	if len(owned) != 1 || owned[0].Handle != "acme_de" || owned[0].Region != "EMEA" {
		t.Errorf("owned accounts = %+v, want the market's acme_de in EMEA", owned)
	}
}

func marketOrg(markets string) string { return marketsBase + "markets:\n" + markets }

func TestMarketErrors(t *testing.T) {
	f := func(markets, want string) {
		t.Helper()
		_, err := loadOrg(t, marketOrg(markets))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("markets %q: error %v, want one saying %q", markets, err, want)
		}
	}
	f("  - {name: DACH, region: EMEA, countries: [DE, AT]}\n  - {name: Germany, region: EMEA, countries: [DE]}\n",
		"markets.Germany.countries: DE is in market DACH already")
	f("  - {name: Americas, region: EMEA, countries: [DE, US]}\n", "markets.Americas.countries: US is in region NA, not EMEA")
	f("  - {name: X, region: EMEA, countries: [XX]}\n", `"XX" is not an ISO 3166-1 alpha-2 country code`)
	f("  - {name: X, region: EMEA, countries: [\"DЕ\"]}\n", `"DЕ" is not an ISO 3166-1 alpha-2`) // Cyrillic Е
	f("  - {name: X, region: EMEA, countries: [\"D E\"]}\n", `"D E" is not an ISO 3166-1 alpha-2`)
	f("  - {name: X, region: EMEA, countries: [DEU]}\n", `"DEU" is not an ISO 3166-1 alpha-2`)
	f("  - {name: X, region: Europe, countries: [DE]}\n", `markets.X.region: "Europe" is not a region`)
	f("  - {name: X, region: EMEA, countries: []}\n", "markets.X.countries: empty")
	f("  - {name: X, region: EMEA}\n", "markets.X.countries: empty")
	f("  -\n", "markets[0]: an empty item")
	f("  - {name: \"DАCH\", region: EMEA, countries: [DE]}\n", `name "DАCH": want letters, digits`) // Cyrillic А
	f("  - {name: \"\", region: EMEA, countries: [DE]}\n", `markets[0]: name ""`)
	f("  - {name: DACH, region: EMEA, countries: [DE]}\n  - {name: dach, region: EMEA, countries: [AT]}\n", "markets.dach: defined twice")
	f("  - {name: DACH, region: EMEA, countries: [DE], teams: [nobody]}\n", `markets.DACH.teams: "nobody" is not among the teams`)
	f("  - {name: DACH, region: EMEA, countries: [DE], teams: [dach]}\n  - {name: AT, region: EMEA, countries: [AT], teams: [dach]}\n",
		"team dach serves market DACH already")
	f("  - {name: DACH, region: EMEA, countries: [DE], accounts: [{platform: x, handle: acme, region: NA}]}\n", `markets.DACH.accounts[0]: region "NA"`)
	f("  - {name: DACH, region: EMEA, countries: [DE], accounts: [{platform: myspace, handle: acme}]}\n", `markets[0].accounts[0]: platform "myspace"`)
}

// Every error is reported at once.
func TestMarketErrorsAllAtOnce(t *testing.T) {
	_, err := loadOrg(t, marketOrg("  - {name: A, region: EMEA, countries: [XX]}\n  - {name: B, region: Mars, countries: [DE]}\n"))
	if err == nil || !strings.Contains(err.Error(), `"XX"`) || !strings.Contains(err.Error(), `"Mars"`) {
		t.Fatalf("error %v, want both problems", err)
	}
}

// A country moved to another region in enrich.regions moves with its market.
func TestMarketRegionsOverride(t *testing.T) {
	org := marketOrg("  - {name: GR-CY, region: SEE, countries: [GR, CY]}\n")
	path := writeFile(t, "org.yaml", org)
	if _, err := loadOrgAt(path, time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)); err == nil {
		t.Fatal("GR-CY in region SEE loaded without SEE in the regions")
	}
	regions := region.Map(map[string][]string{"SEE": {"GR", "CY"}})
	if _, err := loadOrgAt(path, time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC), regions); err != nil {
		t.Fatalf("with SEE in enrich.regions: %v", err)
	}
}

// 1e5 markets are refused with one message, not 1e5 messages, and without
// the per-market checks (about 0.8 s of CPU, nearly all of it decoding the
// YAML, measured with -cpuprofile).
func TestMarketsHostileCount(t *testing.T) {
	var b strings.Builder
	for i := range 100_000 {
		fmt.Fprintf(&b, "  - {name: M%d}\n", i)
	}
	_, err := loadOrg(t, marketOrg(b.String()))
	if err == nil || !strings.Contains(err.Error(), "100000 markets, want at most 300") {
		t.Fatalf("error %.300v, want the count refused", err)
	}
	if n := strings.Count(err.Error(), "\n"); n > 5 {
		t.Errorf("%d lines of error, want one", n)
	}
}

const marketPolicy = `
queues: [care, care-dach]
rules:
  - name: dach
    when: {markets: [DACH]}
    queue: care-dach
    priority: P2
  - name: rest
    when: {sentiment: [negative]}
    queue: care
    priority: P3
`

// A routing rule's markets: condition takes the posts of its markets (the
// enrichment's market tag); its names must be the org file's markets.
func TestMarketsCondition(t *testing.T) {
	dir := t.TempDir()
	org := marketsBase + "  - {name: care-dach, team: dach}\nmarkets:\n  - {name: DACH, region: EMEA, countries: [DE, AT, CH], teams: [dach]}\n"
	write := func(name, body string) string {
		t.Helper()
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := Config{Policy: write("routing.yaml", marketPolicy), Org: write("org.yaml", org)}
	p, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := func(market, want string) {
		t.Helper()
		it := item("w", nil, "negative", "EMEA", 0)
		it.Enrichment.Market = market
		got := ""
		if r := p.Decide(it); r != nil {
			got = r.Name
		}
		if got != want {
			t.Errorf("a post of market %q goes to rule %q, want %q", market, got, want)
		}
	}
	f("DACH", "dach")
	f("Nordics", "rest")
	f("", "rest")
	// a market the org file does not have
	bad := Config{Policy: write("bad.yaml", strings.Replace(marketPolicy, "[DACH]", "[Benelux]", 1)), Org: cfg.Org}
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), `market "Benelux" is not among the markets`) {
		t.Errorf("markets: [Benelux]: %v, want it refused", err)
	}
	// markets without an org file
	if _, err := Load(Config{Policy: cfg.Policy}); err == nil || !strings.Contains(err.Error(), "there is none (route.org)") {
		t.Errorf("markets: without route.org: %v, want it refused", err)
	}
	if _, err := load(t, strings.Replace(marketPolicy, "[DACH]", `["DА CH"]`, 1)); err == nil || !strings.Contains(err.Error(), `market "DА CH"`) {
		t.Errorf("a malformed market name: %v, want it refused", err)
	}
}
