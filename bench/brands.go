package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"unicode"

	"github.com/earshot-dev/earshot/match"
)

// Brand watchlist sets: what brand and care teams actually write. Each
// watchlist follows one brand: its name (and hashtag and support mention),
// its products ("<brand> x5 pro"), phrases people use about it ("<brand>
// customer service", "<brand> refund"), campaign hashtags
// ("#<brand>summer26"), with exclusions for job posts; every tenth is a rule
// with a wildcard and NEAR. Brand names are invented, in Latin, Greek,
// Cyrillic, katakana and Han scripts, with phrases in the brand's language.
//
// A real firehose mentions any one brand rarely: real brand watchlists match
// well under 5% of it. The synthetic firehose mentions its three brands
// (Acme, Globex, Initech) in about a quarter of the joined benchmark posts,
// so a set that followed them by name would match that quarter. The set
// follows them the way care teams do, narrowed to complaints and launches,
// which the benchmark measures at a few percent of posts (see BENCHMARKS.md);
// the other brands do not occur in the stream: an invented name that is a
// word of the posts' languages ("novo", "love") is skipped, as a brand named
// with a common word narrows its rule in ways the set does not model.

type script struct {
	syll     []string
	join     string // between a brand and the next word of a phrase
	products []string
	phrases  []string // "{b}" is the brand
	tags     []string // campaign hashtags, "{b}" is the brand without spaces
}

var scripts = []script{
	{
		syll:     []string{"ka", "lo", "mi", "ra", "ten", "vo", "zu", "pe", "dor", "an", "bri", "que", "sha", "lux", "ri", "no", "ve", "ta", "zen", "tro", "vix", "el", "gar", "qua", "syn", "or", "ix", "nel"},
		join:     " ",
		products: []string{"x5", "x7 pro", "air", "air pro", "max", "ultra", "mini", "s24", "s24 ultra", "one", "go", "plus", "home", "watch", "buds", "tab", "book", "cloud", "pay", "drive"},
		phrases:  []string{"{b} customer service", "{b} support", "{b} refund", "{b} outage", "{b} app down", "{b} not working", "{b} recall", "{b} scam", "{b} data breach", "love my {b}", "{b} delivery", "{b} store", "{b} reembolso", "servicio {b}", "{b} kundenservice", "{b} remboursement", "{b} rimborso", "{b} reembolso pedido"},
		tags:     []string{"{b}", "{b}summer26", "{b}2026", "love{b}", "{b}fail", "{b}launch", "team{b}", "{b}deals"},
	},
	{
		syll:     []string{"κα", "λο", "μι", "ρα", "τεν", "βο", "ζου", "πε", "δορ", "αν", "βρι", "σα", "λυ", "νο", "ξε", "θα", "φω"},
		join:     " ",
		products: []string{"x5", "πλας", "μάξ", "μίνι", "one", "home", "pay"},
		phrases:  []string{"{b} εξυπηρέτηση", "{b} επιστροφή χρημάτων", "{b} βλάβη", "{b} κατάστημα", "{b} παράδοση", "απάτη {b}"},
		tags:     []string{"{b}", "{b}καλοκαίρι", "{b}2026", "{b}προσφορές"},
	},
	{
		syll:     []string{"ка", "ло", "ми", "ра", "тен", "во", "зу", "пе", "дор", "ско", "брі", "лин", "мир"},
		join:     " ",
		products: []string{"x5", "про", "макс", "мини", "home", "pay"},
		phrases:  []string{"{b} поддержка", "{b} возврат", "{b} доставка", "{b} не работает", "{b} магазин"},
		tags:     []string{"{b}", "{b}2026", "{b}скидки"},
	},
	{
		syll:     []string{"カ", "ロ", "ミ", "ラ", "テン", "ボ", "ズ", "ペ", "ド", "ア", "リ", "ノ", "サ"},
		join:     "",
		products: []string{"プロ", "マックス", "ミニ", "エアー"},
		phrases:  []string{"{b}サポート", "{b}返金", "{b}故障", "{b}配送"},
		tags:     []string{"{b}", "{b}2026"},
	},
	{
		syll:     []string{"華", "美", "光", "天", "星", "龍", "信", "達", "海", "金", "泰", "康", "盛", "和"},
		join:     "",
		products: []string{"手機", "平板", "耳機", "手錶"},
		phrases:  []string{"{b}客服", "{b}退款", "{b}故障", "{b}門市"},
		tags:     []string{"{b}", "{b}2026"},
	},
}

// the stream's own brands, followed as care and launch teams do
var streamLists = []*match.Watchlist{
	{ID: "care-initech", Rule: `(initech OR #initech OR @initech_support) (refund* OR broken OR twice OR terrible OR awful OR worst)`},
	{ID: "care-globex-es", Rule: `globex (reembolso OR roto OR pésimo OR horrible)`},
	{ID: "launch-acme", Rule: `(acme NEAR/3 announced) OR (acme NEAR/3 anunció) OR (acme NEAR/3 angekündigt)`},
}

// BrandKeywordSet returns brand watchlists holding about n distinct keywords
// in all (whole watchlists: it may exceed n by less than one watchlist).
func BrandKeywordSet(n int, seed uint64) []*match.Watchlist {
	rng := rand.New(rand.NewPCG(seed, 7))
	var lists []*match.Watchlist
	count := 0
	for _, w := range streamLists {
		c := *w
		c.Team, c.Brand, c.Version, c.Status = "care", strings.SplitN(w.ID, "-", 3)[1], 1, "live"
		lists = append(lists, &c)
		count += strings.Count(w.Rule, " OR ") + 2
	}
	seen := map[string]bool{}
	for count < n {
		sc := &scripts[weighted(rng)]
		var name string
		for name == "" || seen[name] || streamWords()[name] {
			var b strings.Builder
			for range 2 + rng.IntN(3) {
				b.WriteString(sc.syll[rng.IntN(len(sc.syll))])
			}
			name = b.String()
			if rng.IntN(4) == 0 && sc.join == " " { // two-word brands: "zentro vix"
				var c strings.Builder
				for range 2 + rng.IntN(2) {
					c.WriteString(sc.syll[rng.IntN(len(sc.syll))])
				}
				name += " " + c.String()
			}
		}
		seen[name] = true
		solid := strings.ReplaceAll(name, " ", "")
		kws := map[string]bool{}
		var terms []string
		add := func(t string) {
			if !kws[t] {
				kws[t] = true
				terms = append(terms, t)
			}
		}
		add(quote(name))
		add("@" + solid)
		for _, p := range pickN(rng, sc.products, 4+rng.IntN(8)) {
			add(quote(name + sc.join + p))
		}
		for _, p := range pickN(rng, sc.phrases, 3+rng.IntN(6)) {
			add(quote(strings.ReplaceAll(p, "{b}", name)))
		}
		for _, t := range pickN(rng, sc.tags, 1+rng.IntN(4)) {
			add("#" + strings.ReplaceAll(t, "{b}", solid))
		}
		rule := "(" + strings.Join(terms, " OR ") + ") -hiring -job -jobs"
		if len(lists)%10 == 9 {
			// A rule with a stem and proximity, as care teams write them.
			q := quote(name)
			rule = fmt.Sprintf("(%s OR (%s NEAR/5 refund*) OR (%s NEAR/5 cancel*)) -hiring", strings.Join(terms, " OR "), q, q)
			count += 3
		}
		lists = append(lists, &match.Watchlist{ID: fmt.Sprintf("b%06d", len(lists)), Team: fmt.Sprintf("t%d", len(lists)%50), Brand: name, Version: 1, Status: "live", Rule: rule})
		count += len(terms)
	}
	return lists
}

// streamWords are the words of the benchmark's posts, lower-cased.
var streamWords = sync.OnceValue(func() map[string]bool {
	words := map[string]bool{}
	for _, p := range Posts(20_000, 99) {
		for _, w := range strings.FieldsFunc(strings.ToLower(p.Text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			words[w] = true
		}
	}
	return words
})

func quote(s string) string {
	if strings.ContainsAny(s, " ") {
		return `"` + s + `"`
	}
	return s
}

// weighted picks a script: most brands are written in Latin letters.
func weighted(rng *rand.Rand) int {
	switch x := rng.IntN(100); {
	case x < 70:
		return 0
	case x < 80:
		return 1
	case x < 88:
		return 2
	case x < 95:
		return 3
	}
	return 4
}

func pickN(rng *rand.Rand, from []string, n int) []string {
	n = min(n, len(from))
	idx := rng.Perm(len(from))[:n]
	out := make([]string, n)
	for i, j := range idx {
		out[i] = from[j]
	}
	return out
}
