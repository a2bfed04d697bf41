package enrich

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"

	"github.com/earshot-dev/earshot/textnorm"
)

// oldFoldTable and oldLowerFold are the lexicon keys as enrichment made
// them before textnorm (lower case, and for accent-folding languages the
// base letter of Latin, Greek and Cyrillic letters with diacritics): the
// baseline of BenchmarkLexiconKeys.
var oldFoldTable = func() map[rune]rune {
	m := map[rune]rune{'ς': 'σ'}
	for _, rg := range [][2]rune{{0xC0, 0x24F}, {0x370, 0x3FF}, {0x400, 0x4FF}, {0x1E00, 0x1FFF}} {
		for r := rg[0]; r <= rg[1]; r++ {
			d := []rune(norm.NFD.String(string(r)))
			if len(d) > 1 && !unicode.Is(unicode.Mn, d[0]) && unicode.Is(unicode.Mn, d[1]) {
				m[r] = d[0]
			}
		}
	}
	return m
}()

func oldLowerFold(s string, arena *[]byte) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	start := len(*arena)
	for _, r := range s {
		r = unicode.ToLower(r)
		if f, ok := oldFoldTable[r]; ok {
			r = f
		} else if r >= utf8.RuneSelf && unicode.Is(unicode.Mn, r) {
			continue
		}
		*arena = utf8.AppendRune(*arena, r)
	}
	b := (*arena)[start:]
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// BenchmarkLexiconKeys makes the lexicon key of every word of realistic
// posts, as the sentiment tokenizer does (lowerFold): the old fold (lower
// case and accents) against textnorm's keys at each level, in the same run.
//
//	go test -run '^$' -bench BenchmarkLexiconKeys -cpu 1 -count 5 ./enrich/
func BenchmarkLexiconKeys(b *testing.B) {
	batch, _ := realisticBatch(500)
	var words []string
	var bytes int64
	for _, it := range batch.Items {
		for w := range strings.FieldsSeq(it.Post.Text) {
			words = append(words, w)
			bytes += int64(len(w))
		}
	}
	key := func(l textnorm.Level) func(s string, arena *[]byte) int {
		sl := &sentiLang{level: l}
		return func(s string, arena *[]byte) int { return len(sl.lowerFold(s, arena)) }
	}
	for _, v := range []struct {
		name string
		key  func(s string, arena *[]byte) int
	}{
		{"old", func(s string, arena *[]byte) int { return len(oldLowerFold(s, arena)) }},
		{"canon", key(textnorm.Canon)},
		{"plain", key(textnorm.Plain)},
		{"full", key(textnorm.Full)},
	} {
		b.Run(v.name, func(b *testing.B) {
			arena := make([]byte, 0, 1<<16)
			b.SetBytes(bytes)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				for _, w := range words {
					arena = arena[:0]
					n += v.key(w, &arena)
				}
			}
			_ = n
		})
	}
}
