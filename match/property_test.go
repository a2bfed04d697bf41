package match

import (
	"github.com/earshot-dev/earshot/textnorm"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/earshot-dev/earshot/post"
)

// reference evaluates a compiled rule the slow, obvious way: for every term
// it scans the post's words from every position.
type reference struct {
	f  *textnorm.Folder
	tk textnorm.Tokens
	p  *post.Post
}

// positions returns the word positions where term n starts and ends.
func (r *reference) positions(n *node) [][2]int {
	var tt textnorm.Tokens
	r.f.Tokenize(&tt, n.term.text)
	var out [][2]int
	for i := range r.tk.Toks {
		if n.term.kind != textnorm.KindWord && r.tk.Toks[i].Kind != n.term.kind {
			continue
		}
		if n.term.wildcard {
			w, stem := string(r.tk.Word(i)), string(tt.Word(0))
			if strings.HasPrefix(w, stem) {
				out = append(out, [2]int{i, i})
			}
			continue
		}
		ok := i+len(tt.Toks) <= len(r.tk.Toks)
		for j := 0; ok && j < len(tt.Toks); j++ {
			ok = string(r.tk.Word(i+j)) == string(tt.Word(j))
		}
		if ok {
			out = append(out, [2]int{i, i + len(tt.Toks) - 1})
		}
	}
	return out
}

func (r *reference) eval(n *node) bool {
	switch n.op {
	case opTerm:
		return len(r.positions(n)) > 0
	case opAnd:
		for _, k := range n.kids {
			if !r.eval(k) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range n.kids {
			if r.eval(k) {
				return true
			}
		}
		return false
	case opNot:
		return !r.eval(n.kids[0])
	case opField:
		return fieldHolds(n.field, n.value, r.p)
	case opNear:
		var all [][][2]int
		for _, k := range n.kids {
			all = append(all, r.positions(k))
		}
		// Try every combination of one hit per operand.
		var try func(i int, chosen [][2]int) bool
		try = func(i int, chosen [][2]int) bool {
			if i == len(all) {
				lo, hi := chosen[0][0], chosen[0][0]
				for _, c := range chosen {
					lo, hi = min(lo, c[0]), max(hi, c[0])
				}
				if n.ordered {
					return chosen[1][0] > chosen[0][1] && chosen[1][0]-chosen[0][0] <= n.n
				}
				return hi-lo <= n.n
			}
			for _, h := range all[i] {
				if try(i+1, append(chosen, h)) {
					return true
				}
			}
			return false
		}
		return try(0, nil)
	}
	panic("unknown op")
}

var (
	propWords = []string{"nike", "shoes", "acme", "ομάδα", "最悪", "refund", "fake", "αθήνα"}
	propNoise = []string{"the", "refunds", "nikes", "Shoes", "#nike", "@acme", "ΟΜΆΔΑ", "REFUND", "ac\u200bme", "NIKE!", "最悪だ", "x"}
)

func randomRule(rng *rand.Rand, depth int) string {
	word := func() string {
		w := propWords[rng.IntN(len(propWords))]
		switch rng.IntN(10) {
		case 0:
			if utf8.RuneCountInString(w) >= MinStemRunes+1 {
				return string([]rune(w)[:MinStemRunes]) + "*"
			}
		case 1:
			return "#" + w
		}
		return w
	}
	if depth == 0 || rng.IntN(3) == 0 {
		switch rng.IntN(6) {
		case 0:
			return `"` + propWords[rng.IntN(len(propWords))] + " " + propWords[rng.IntN(len(propWords))] + `"`
		case 1:
			return `"` + propWords[rng.IntN(len(propWords))] + " " + propWords[rng.IntN(len(propWords))] + `"~` + string(rune('1'+rng.IntN(4)))
		case 2:
			f := []string{" NEAR/", " NEAR/"}[rng.IntN(2)]
			o := []string{"", "f"}[rng.IntN(2)]
			operand := func() string {
				if rng.IntN(4) == 0 { // a phrase: its hits end after they start
					return `"` + propWords[rng.IntN(len(propWords))] + " " + propWords[rng.IntN(len(propWords))] + `"`
				}
				return word()
			}
			return operand() + f + string(rune('1'+rng.IntN(4))) + o + " " + operand()
		}
		return word()
	}
	a, b := randomRule(rng, depth-1), randomRule(rng, depth-1)
	switch rng.IntN(4) {
	case 0:
		return "(" + a + " OR " + b + ")"
	case 1:
		return a + " -" + word()
	case 2:
		return a + " lang:el"
	}
	return a + " " + b
}

func randomText(rng *rand.Rand) string {
	var parts []string
	for range 3 + rng.IntN(10) {
		if rng.IntN(2) == 0 {
			parts = append(parts, propWords[rng.IntN(len(propWords))])
		} else {
			parts = append(parts, propNoise[rng.IntN(len(propNoise))])
		}
	}
	seps := []string{" ", ", ", " - ", "  "}
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteString(seps[rng.IntN(len(seps))])
		}
		b.WriteString(p)
	}
	return b.String()
}

// TestAgreesWithReference checks the engine against the reference on random
// rules and posts, with every rule in one engine so that terms are shared.
func TestAgreesWithReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var lists []*Watchlist
	for i := 0; len(lists) < 300; i++ {
		w := &Watchlist{ID: "w" + itoa(i), Version: 1, Status: "live", Rule: randomRule(rng, 3)}
		if _, err := Compile([]*Watchlist{w}); err != nil {
			continue // contradictory or unbounded: the validator's job, tested elsewhere
		}
		lists = append(lists, w)
	}
	e, err := Compile(lists)
	if err != nil {
		t.Fatal(err)
	}
	ref := &reference{f: e.f}
	matches, checked := 0, 0
	for range 3000 {
		p := &post.Post{Text: randomText(rng), Lang: []string{"el", "en"}[rng.IntN(2)]}
		var got []string
		for _, m := range e.Match(p) {
			got = append(got, m.Watchlist)
		}
		ref.p = p
		e.f.Tokenize(&ref.tk, p.Text)
		var want []string
		for i, w := range lists {
			if ref.eval(e.rules[i]) {
				want = append(want, w.ID)
			}
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("post %q:\n engine: %v\n    ref: %v", p.Text, got, want)
		}
		matches += len(want)
		checked++
	}
	if matches < checked/2 {
		t.Fatalf("only %d matches over %d posts: the generator is too weak to test anything", matches, checked)
	}
	t.Logf("%d posts × %d rules agree, %d matches", checked, len(lists), matches)
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{`nike`, `^сок ^"a b"~2 ^acm*`, `^`, `^=x`, `(a OR b) -c`, `"a b"~3 NEAR/2f x`, `#a @b re* from:x followers:>=10`, `((((`, `"`, "a\nOR\n(b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rule string) {
		n, err := parseRule(rule)
		if err != nil {
			var re *RuleError
			if !errorAs(err, &re) || re.Line < 1 || re.Col < 1 {
				t.Fatalf("error without a place: %v", err)
			}
			return
		}
		if n == nil {
			t.Fatal("no tree and no error")
		}
		_, _ = Compile([]*Watchlist{{ID: "w", Version: 1, Status: "live", Rule: rule}})
	})
}

func FuzzMatch(f *testing.F) {
	e, err := Compile([]*Watchlist{
		{ID: "a", Version: 1, Status: "live", Rule: `(nike OR "acme phone" OR refund*) -fake`},
		{ID: "b", Version: 1, Status: "live", Rule: `ομάδα NEAR/3 αθήνα OR 最悪 OR #acme`},
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"nike", "ACME phone!!", "refunds", "Η ΟΜΆΔΑ της Αθήνας", "最悪", "#acme", "\xff\xfe", "a\u200bb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, m := range e.Match(&post.Post{Text: text}) {
			for _, s := range m.Spans {
				if s.Start < 0 || s.End > len(text) || s.Start >= s.End {
					t.Fatalf("span %+v outside the text of %d bytes", s, len(text))
				}
			}
		}
	})
}
