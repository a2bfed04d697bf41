package match

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

func TestNormalize(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := string(normalize(nil, in)); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
	f("Hello, World!", " hello world ")
	f("  #Acme's   phone ", " acme s phone ")
	f("Η ΟΜΆΔΑ κέρδισε", " η ομάδα κέρδισε ")
	f("Acmeの新しいスマホ", " acme の 新 し い ス マ ホ ")
	f("", " ")
	f("😡😡", " ")
}

func lists() []*Watchlist {
	return []*Watchlist{
		{ID: "acme", Version: 2, Brand: "acme", Keywords: []string{"acme", "acme phone"}, Exclude: []string{"hiring"}},
		{ID: "ford", Version: 1, Keywords: []string{"Ford"}},
		{ID: "greek", Version: 1, Keywords: []string{"Ομάδα"}},
		{ID: "jp", Version: 1, Keywords: []string{"最悪"}},
	}
}

func TestMatch(t *testing.T) {
	m := New(lists())
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
	if len(got) != 1 || !slices.Equal(got[0].Keywords, []string{"acme", "acme phone"}) || got[0].Version != 2 {
		t.Errorf("match detail = %+v", got)
	}
}

func TestStageDropsUnmatched(t *testing.T) {
	m := New(lists())
	in := post.Batch{Items: []*post.Item{
		{Post: &post.Post{ID: "1", Text: "acme rocks"}},
		{Post: &post.Post{ID: "2", Text: "nothing"}},
		{Post: &post.Post{ID: "3", Text: "Ford"}},
	}}
	out, err := m.Stage()(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 2 || out.Items[0].Post.ID != "1" || out.Items[1].Post.ID != "3" {
		t.Fatalf("stage passed %d items", len(out.Items))
	}
	if out.Items[1].Matches[0].Watchlist != "ford" {
		t.Errorf("matches = %+v", out.Items[1].Matches)
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", "id: acme\nname: Acme\nkeywords: [acme]\n")
	write("notes.txt", "ignored")
	ws, err := LoadDir(dir)
	if err != nil || len(ws) != 1 || ws[0].Version != 1 {
		t.Fatalf("LoadDir = %v, %v", ws, err)
	}

	write("b.yaml", "id: acme\nkeywords: [x]\n")
	write("c.yaml", "id: c\nkeyword: [x]\n")
	write("d.yaml", "id: D!\nkeywords: ['!!!']\n")
	_, err = LoadDir(dir)
	for _, want := range []string{
		`b.yaml: id "acme" is already used by`,
		`c.yaml:2: unknown key "keyword"`,
		`d.yaml: id "D!"`,
		`could never match`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadDir error %v, want it to contain %q", err, want)
		}
	}
}

func BenchmarkStage(b *testing.B) {
	m := New(lists())
	text := "Just got back from the gym. Really love my new Acme phone, great service 😀 #monday https://example.com/p/1"
	items := make([]*post.Item, 500)
	for i := range items {
		items[i] = &post.Item{Post: &post.Post{Text: text}}
	}
	stage := m.Stage()
	b.SetBytes(int64(len(text) * len(items)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := stage(context.Background(), post.Batch{Items: items}); err != nil {
			b.Fatal(err)
		}
	}
}
