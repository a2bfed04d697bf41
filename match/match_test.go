package match

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"github.com/earshot-dev/earshot/textnorm"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

func TestTokenize(t *testing.T) {
	f := textnorm.Shared()
	g := func(in string, want ...string) {
		t.Helper()
		var tk textnorm.Tokens
		f.Tokenize(&tk, in)
		var got []string
		for i, tok := range tk.Toks {
			w := string(tk.Word(i))
			switch tok.Kind {
			case textnorm.KindHashtag:
				w = "#" + w
			case textnorm.KindMention:
				w = "@" + w
			}
			got = append(got, w)
		}
		if !slices.Equal(got, want) {
			t.Errorf("tokenize(%q) = %q, want %q", in, got, want)
		}
	}
	g("Hello, World!", "hello", "world")
	g("  #Acme's @acme_support ", "#acme", "s", "@acme", "support")
	g("Η ΟΜΆΔΑ κέρδισε", "h", "omaδa", "kepδiσe") // Greek look-alikes of Latin letters read as them (package textnorm)
	g("Café CAFÉ cafe\u0301", "cafe", "cafe", "cafe")
	g("ac\u200bme a\u00adc\u200dme", "acme", "acme")     // zero-width and soft hyphen evasion
	g("ＡＣＭＥ ﬁne", "acme", "fine")                        // fullwidth, ligature
	g("Straße ΣΟΦΟΣ σοφός", "strasse", "σoφoσ", "σoφoσ") // ß, final sigma
	g("Acmeのスマホ", "acme", "の", "ス", "マ", "ホ")
	g("fire🔥🔥 👍🏽", "fire", "🔥", "🔥", "👍")
	g("", []string{}...)
	g("שלום עולם مرحبا", "שלום", "עולם", "مرحبا")
}

// loadCases reads testdata/rules.txt: blocks of "rule:", "post:" (text, or
// a JSON post when it starts with {), "want:" (no, or the spans of the
// match as term@start-end separated by spaces), separated by blank lines.
type ruleCase struct {
	line       int
	rule, post string
	want       string
}

func loadCases(t *testing.T) []ruleCase {
	f, err := os.Open("testdata/rules.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []ruleCase
	var c ruleCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "rule: "):
			c = ruleCase{line: n, rule: line[6:]}
		case strings.HasPrefix(line, "post: "):
			c.post = line[6:]
		case strings.HasPrefix(line, "want: "):
			c.want = line[6:]
			cases = append(cases, c)
		case strings.TrimSpace(line) == "":
		default:
			t.Fatalf("testdata/rules.txt:%d: cannot read %q", n, line)
		}
	}
	return cases
}

func TestRulesGolden(t *testing.T) {
	for _, c := range loadCases(t) {
		p := &post.Post{Platform: "t", ID: "1"}
		if strings.HasPrefix(c.post, "{") {
			if err := json.Unmarshal([]byte(c.post), p); err != nil {
				t.Fatalf("rules.txt:%d: %v", c.line, err)
			}
		} else {
			p.Text = strings.NewReplacer(`\u200b`, "\u200b", `\u00ad`, "\u00ad").Replace(c.post)
		}
		e, err := Compile([]*Watchlist{{ID: "w", Version: 1, Status: "live", Rule: c.rule}})
		if err != nil {
			t.Errorf("rules.txt:%d: %v", c.line, err)
			continue
		}
		ms := e.Match(p)
		got := "no"
		if len(ms) == 1 {
			var spans []string
			for _, s := range ms[0].Spans {
				spans = append(spans, s.Term+"@"+itoa(s.Start)+"-"+itoa(s.End))
			}
			got = strings.Join(spans, " ")
		}
		if got != c.want {
			t.Errorf("rules.txt:%d: rule %q on %q\n got: %s\nwant: %s", c.line, c.rule, c.post, got, c.want)
		}
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestRuleErrors(t *testing.T) {
	f := func(rule, want string) {
		t.Helper()
		_, err := Compile([]*Watchlist{{ID: "w", Version: 1, Status: "live", Rule: rule, file: "w.yaml"}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("rule %q: error %v, want it to contain %q", rule, err, want)
		}
	}
	f("nike AND", "line 1, column 6: AND needs a keyword on both sides")
	f("(nike OR adidas", "line 1, column 1: this ( is never closed")
	f("nike)", "line 1, column 5: this ) has no ( before it")
	f(`"nike shoes`, "line 1, column 1: this quote is never closed")
	f("nike\nOR\n  re*", "line 3, column 3")
	f("re*", "too short a stem")
	f("ni*ke", "may only end a word")
	f("=refund*", "an exact term (=) cannot be a wildcard")
	f("nike NEAR/0 shoes", "NEAR/n with n a distance")
	f("(nike OR adidas) NEAR/3 shoes", "NEAR joins two keywords")
	f("colour:red nike", `unknown filter "colour:"`)
	f("nike has:smell", "has:smell is not known")
	f("nike followers:lots", "followers:lots is not a comparison")
	f("nike OR lang:el", "could match posts that contain none of its keywords")
	f("-nike", "could match posts that contain none of its keywords")
	f("nike -nike", "can never match")
	f("!!!", "has no letters or digits")
	f("", "")
	f(strings.Repeat("nike ", 3000), "the limit is 10000")
	f(strings.Repeat("a OR ", 1001)+"b", "more than 1000 keywords")
	f(`"a b c d e f g h i j k l m n o p q"`, "phrase of 17 words")
}

func lists() []*Watchlist {
	return []*Watchlist{
		{ID: "acme", Version: 2, Status: "live", Brand: "acme", Keywords: []string{"acme", "acme phone"}, Exclude: []string{"hiring"}},
		{ID: "ford", Version: 1, Status: "live", Keywords: []string{"Ford"}},
		{ID: "greek", Version: 1, Status: "live", Keywords: []string{"Ομάδα"}},
		{ID: "jp", Version: 1, Status: "live", Keywords: []string{"最悪"}},
		{ID: "paused", Version: 1, Status: "paused", Keywords: []string{"acme"}},
	}
}

func TestMatcher(t *testing.T) {
	m, err := New(lists())
	if err != nil {
		t.Fatal(err)
	}
	f := func(text string, want ...string) {
		t.Helper()
		var got []string
		for _, x := range m.Match(&post.Post{Text: text}) {
			got = append(got, x.Watchlist)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Match(%q) = %v, want %v", text, got, want)
		}
	}
	f("My ACME phone broke", "acme")
	f("#acme is great", "acme")
	f("Acme is hiring engineers")
	f("an affordable car")
	f("Ford, again", "ford")
	f("η ομάδα έχασε", "greek")
	f("Acmeのスマホがまた壊れた、最悪", "acme", "jp")
	f("nothing here")

	got := m.Match(&post.Post{Text: "acme phone acme"})
	if len(got) != 1 || !slices.Equal(got[0].Keywords, []string{"acme", "acme phone"}) || got[0].Version != 2 || len(got[0].Spans) != 3 {
		t.Errorf("match detail = %+v", got)
	}
}

func TestSwapKeepsOldOnError(t *testing.T) {
	m, err := New(lists())
	if err != nil {
		t.Fatal(err)
	}
	before := m.Engine()
	if err := m.Swap([]*Watchlist{{ID: "bad", Version: 1, Status: "live", Rule: "nike AND"}}); err == nil {
		t.Fatal("a bad rule compiled")
	}
	if m.Engine() != before || len(m.Match(&post.Post{Text: "acme"})) != 1 {
		t.Error("a failed swap changed the live engine")
	}
	if err := m.Swap([]*Watchlist{{ID: "nike", Version: 7, Status: "live", Rule: "nike"}}); err != nil {
		t.Fatal(err)
	}
	if ms := m.Match(&post.Post{Text: "nike acme"}); len(ms) != 1 || ms[0].Watchlist != "nike" || ms[0].Version != 7 {
		t.Errorf("after swap: %+v", ms)
	}
}

func TestStageDropsUnmatchedPassesChanges(t *testing.T) {
	m, _ := New(lists())
	in := post.Batch{Items: []*post.Item{
		{Post: &post.Post{ID: "1", Text: "acme rocks"}},
		{Post: &post.Post{ID: "2", Text: "nothing"}},
		{Post: &post.Post{ID: "3", Text: "Ford"}},
		{Post: &post.Post{ID: "4", Kind: post.KindDelete}},
		{Post: &post.Post{ID: "5", Kind: post.KindEdit, Text: "nothing any more"}},
		{Post: &post.Post{ID: "6", Kind: post.KindEdit, Text: "ford again"}},
	}}
	out, err := m.Stage()(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range out.Items {
		got = append(got, it.Post.ID+":"+itoa(len(it.Matches)))
	}
	// Unmatched posts end here; deletes and unmatched edits go on without
	// matches, for retraction; a matching edit goes on like a post.
	if strings.Join(got, " ") != "1:1 3:1 4:0 5:0 6:1" {
		t.Fatalf("stage passed %v", got)
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", "id: acme\nname: Acme\nrule: acme OR \"acme phone\"\ntags: [brand]\n")
	write("notes.txt", "ignored")
	ws, err := LoadDir(dir)
	if err != nil || len(ws) != 1 || ws[0].Version != 1 || ws[0].Status != "live" {
		t.Fatalf("LoadDir = %v, %v", ws, err)
	}

	write("b.yaml", "id: acme\nkeywords: [x]\n")
	write("c.yaml", "id: c\nkeyword: [x]\n")
	write("d.yaml", "id: D!\nkeywords: [x]\n")
	write("e.yaml", "id: e\nrule: x\nkeywords: [y]\nstatus: gone\n")
	_, err = LoadDir(dir)
	for _, want := range []string{
		`b.yaml: id "acme" is already used by`,
		`c.yaml:2: unknown key "keyword"`,
		`d.yaml: id "D!"`,
		`e.yaml: set rule, or keywords`,
		`e.yaml: status "gone"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadDir error %v, want it to contain %q", err, want)
		}
	}
}

func errorAs(err error, target any) bool { return errors.As(err, target) }

func TestQuotas(t *testing.T) {
	many := make([]string, 120_000)
	for i := range many {
		many[i] = "kw" + itoa(i)
	}
	big := &Watchlist{ID: "big", Team: "greece", Version: 1, Status: "live", Keywords: many[:100_000], file: "big.yaml"}
	if err := big.Validate(); err == nil || !strings.Contains(err.Error(), "100000 keywords and exclusions; the limit is 10000 per watchlist") {
		t.Errorf("a 100k-keyword watchlist: %v", err)
	}
	var lists []*Watchlist
	for i := range 12 {
		lists = append(lists, &Watchlist{ID: "w" + itoa(i), Team: "greece", Version: 1, Status: "live", Keywords: many[i*10_000 : (i+1)*10_000]})
	}
	lists = append(lists, &Watchlist{ID: "other", Team: "spain", Version: 1, Status: "live", Rule: "a OR b lang:es"})
	m, err := New([]*Watchlist{{ID: "ok", Version: 1, Status: "live", Rule: "nike"}})
	if err != nil {
		t.Fatal(err)
	}
	m.opts.TeamQuota = 100_000
	err = m.Swap(lists)
	if err == nil || !strings.Contains(err.Error(), `team "greece": its live watchlists hold 120000 keywords and filters, over the quota of 100000`) || strings.Contains(err.Error(), "spain") {
		t.Errorf("quota: %v", err)
	}
	if len(m.Match(&post.Post{Text: "nike"})) != 1 {
		t.Error("a set over quota replaced the live one")
	}
	lists[0].Status = "paused"
	lists[1].Status = "paused"
	if err := m.Swap(lists); err != nil {
		t.Errorf("within quota after pausing two lists: %v", err)
	}
}

// A post repeating a keyword thousands of times still matches, with its
// first MaxSpans spans in text order: its match record stays small enough
// to pass on (uncapped, a 1 MiB post of one brand made a 9.7 MB record).
func TestSpansAreCapped(t *testing.T) {
	m, err := New(lists())
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("acme broke ", 20_000)
	got := m.Match(&post.Post{Text: text})
	if len(got) != 1 || got[0].Watchlist != "acme" || len(got[0].Spans) != MaxSpans {
		t.Fatalf("got %+v; want acme with %d spans", got, MaxSpans)
	}
	for i, s := range got[0].Spans {
		if s.Start != i*len("acme broke ") || text[s.Start:s.End] != "acme" {
			t.Fatalf("span %d = %+v, want the %dth acme", i, s, i)
		}
	}
}
