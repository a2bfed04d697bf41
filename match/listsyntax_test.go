package match

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// matchOne compiles lists and reports which match text.
func matchOne(t *testing.T, ws []*Watchlist, text string) []string {
	t.Helper()
	m, err := New(ws)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range m.Match(&post.Post{Text: text}) {
		got = append(got, x.Watchlist)
	}
	slices.Sort(got)
	return got
}

// A handle is one token: @acme is not @acme_support, #acme not #acme_fail.
func TestHandleIsOneToken(t *testing.T) {
	rule := func(id, r string) *Watchlist { return &Watchlist{ID: id, Version: 1, Status: "live", Rule: r} }
	ws := []*Watchlist{rule("acme", "@acme"), rule("support", "@acme_support"), rule("tag", "#acme"), rule("stem", "@acme*")}
	for _, c := range []struct {
		text string
		want []string
	}{
		{"thanks @acme_support for nothing", []string{"stem", "support"}},
		{"thanks @acme!", []string{"acme", "stem"}},
		{"@Acme, why", []string{"acme", "stem"}},
		{"#acme_fail again", nil},
		{"#acme again", []string{"tag"}},
	} {
		if got := matchOne(t, ws, c.text); !slices.Equal(got, c.want) {
			t.Errorf("%q matched %v, want %v", c.text, got, c.want)
		}
	}
}

// Entries of keywords and exclude lists mean what they mean in a rule:
// refund* is a stem, =Apple exact, #acmefail the hashtag, @acme the handle;
// marks that mean nothing (inside a phrase, a * mid-word) are refused by
// Validate, so watchlist validate does not say ok.
func TestListEntriesUseTheRuleMarks(t *testing.T) {
	list := func(id string, kw, ex []string) *Watchlist {
		return &Watchlist{ID: id, Version: 1, Status: "live", Keywords: kw, Exclude: ex}
	}
	ws := []*Watchlist{
		list("stem", []string{"refund*"}, nil),
		list("exact", []string{"=Apple"}, nil),
		list("tag", []string{"#acmefail"}, nil),
		list("handle", []string{"@acme"}, nil),
		list("phrase", []string{"=Acme Phone"}, []string{"refund*"}),
	}
	for _, c := range []struct {
		text string
		want []string
	}{
		{"I want my refunds", []string{"stem"}},
		{"an apple a day", nil},
		{"Apple again", []string{"exact"}},
		{"acmefail", nil},
		{"#acmefail", []string{"tag"}},
		{"acme is down", nil},
		{"cc @acme", []string{"handle"}},
		{"my Acme Phone died", []string{"phrase"}},
		{"my acme phone died", nil},
		{"Acme Phone refunded me", []string{"stem"}}, // the excluded stem leaves phrase out
	} {
		if got := matchOne(t, ws, c.text); !slices.Equal(got, c.want) {
			t.Errorf("%q matched %v, want %v", c.text, got, c.want)
		}
	}
	for _, c := range []struct{ kw, want string }{
		{"ref*und", "a wildcard * may only end a word"},
		{"#acme fail", "a phrase cannot hold \"#acme\""},
		{"acme *", "a phrase cannot hold \"*\""},
		{"@", "has no word after its mark"},
		{"  ", "is empty"},
	} {
		w := list("bad", []string{"ok", c.kw}, nil)
		w.file = "bad.yaml"
		err := w.Validate()
		if err == nil || !strings.Contains(err.Error(), "keywords[1]") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("keyword %q: Validate() = %v, want %q", c.kw, err, c.want)
		}
	}
}

// Regions, countries, languages and platforms are checked against what
// exists, and region names take their configured spelling.
func TestScopesAndFiltersChecked(t *testing.T) {
	w := &Watchlist{ID: "w", Version: 1, Status: "live", Keywords: []string{"acme"}, Regions: []string{"MARS", "", "../x"}, file: "w.yaml"}
	err := w.Validate()
	for _, want := range []string{`regions[1] ""`, `regions[2] "../x"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to name %s", err, want)
		}
	}
	w.Regions = []string{"MARS"}
	if _, err := New([]*Watchlist{w}); err == nil || !strings.Contains(err.Error(), `region "MARS" is not one of`) {
		t.Errorf("compiling regions [MARS] = %v, want it refused", err)
	}
	p, err := Parse("e.yaml", []byte("id: e\nkeywords: [acme]\nregions: [emea, Na]\n"))
	if err != nil || !slices.Equal(p.Regions, []string{"EMEA", "NA"}) {
		t.Errorf("regions [emea, Na] = %v (%v), want [EMEA NA]", p.Regions, err)
	}
	for _, c := range []struct{ rule, want string }{
		{"acme region:MARS", `region:MARS`},
		{"acme country:XX", `country:XX`},
		{"acme lang:klingon", `lang:klingon`},
		{"acme platform:myspace", `platform:myspace`},
	} {
		w := &Watchlist{ID: "r", Version: 1, Status: "live", Rule: c.rule, file: "r.yaml"}
		if _, err := New([]*Watchlist{w}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("rule %q: %v, want it refused naming %s", c.rule, err, c.want)
		}
	}
	ok := &Watchlist{ID: "ok", Version: 1, Status: "live", Rule: "acme region:emea country:gr lang:pt-BR platform:Bluesky", file: "ok.yaml"}
	if _, err := New([]*Watchlist{ok}); err != nil {
		t.Errorf("known values refused: %v", err)
	}
}

// c.YAML is a watchlist file like c.yaml: its mistake is reported, not
// skipped.
func TestLoadDirExtensionCase(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("id: a\nkeywords: [acme]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "c.YAML"), []byte("id: c\nkeyword: [acme]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "d.Yml"), []byte("id: d\nkeywords: [x]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ws, err := LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), "c.YAML") {
		t.Errorf("LoadDir error %v, want c.YAML's unknown key", err)
	}
	if len(ws) != 2 {
		t.Errorf("read %d watchlists, want a and d (%v)", len(ws), err)
	}
}
