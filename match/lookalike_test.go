package match

import (
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// TestLookalikesAndInvisiblesFold: the evasions of issue 16 item 13 match
// the Latin keyword; genuine Cyrillic and Greek words still match their
// own keywords in any case; a term marked ^ opts out of look-alike folding.
func TestLookalikesAndInvisiblesFold(t *testing.T) {
	f := func(rule, text string, want bool) {
		t.Helper()
		e := compileRule(t, rule, Options{})
		if got := len(e.Match(&post.Post{Text: text})) > 0; got != want {
			t.Errorf("rule %q on %q: matched %v, want %v", rule, text, got, want)
		}
	}
	for _, text := range []string{
		"ac\U000E0041me refund", // a tag character inside
		"ac\u3164me refund",     // Hangul filler
		"ac\u115Fme ac\u1160me", // Hangul choseong/jungseong fillers
		"ac\uFFA0me",            // halfwidth Hangul filler
		"ac\u2800me",            // braille blank
		"ac\u061Cme",            // Arabic letter mark
		"ac\u180Bme",            // Mongolian variation selector
		"\u0430cme",             // Cyrillic а
		"асме",                  // all Cyrillic
		"АСМЕ",                  // all Cyrillic capitals
		"ᴀᴄᴍᴇ",                  // small capitals
		"ⓐⓒⓜⓔ",                  // circled
		"ⒶⒸⓂⒺ",                  // circled capitals
		"⒜⒞⒨⒠",                  // parenthesized
		"🅐🅒🅜🅔",                  // negative circled
		"ΑСΜΕ",                  // Greek Α, Cyrillic С, Greek Μ, Ε
		"I love #ас\u200bme!",
	} {
		f("acme", text, true)
	}
	f("acme", "acne", false)
	f("acme", "ac me", false)
	f("acme NEAR/3 refund", "\u0430cme wants а rеfund", true) // Cyrillic а in the word, е in refund
	f("acm*", "ᴀᴄᴍᴇcorp", true)                               // a stem over a folded word
	// Genuine words keep matching, in any case.
	f("привет", "Привет, мир", true)
	f("привет", "ПРИВЕТ", true)
	f("сок", "свежий СОК", true)
	f("νίκη", "ΝΙΚΗ!", true)
	f("ομάδα", "Η ΟΜΆΔΑ κέρδισε", true)
	f(`"μεγάλη νίκη"`, "ΜΕΓΑΛΗ ΝΙΚΗ", true)
	// Opt-out: ^ keeps the letters' own script (case and diacritics still fold).
	f("^сок", "свежий СОК", true)
	f("^сок", "cok", false)
	f("сок", "cok", true) // the price of folding look-alikes, which ^ avoids
	f("^acme", "асме", false)
	f("^acme", "ACME", true)
	f("^acme", "ac\u200bme", true) // invisible characters are still ignored
	f(`^"acme refund"`, "acme refund", true)
	f(`^"acme refund"`, "acme rеfund", false)
	f("^acm*", "acmecorp", true)
	f("^acm*", "асмеcorp", false)
}
