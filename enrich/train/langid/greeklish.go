package main

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// greeklishPairs transliterate Greek the way people type it in Latin
// letters (ELOT 743-like, with the common informal choices: θ→th, χ→x,
// ψ→ps, η/ι/υ→i, ω→o, ου→ou, αι→e, ει/οι→i, μπ→b, ντ→d).
var greeklishPairs = []struct{ from, to string }{
	{"ου", "ou"}, {"αι", "e"}, {"ει", "i"}, {"οι", "i"}, {"μπ", "b"}, {"ντ", "d"}, {"γκ", "g"}, {"αυ", "af"}, {"ευ", "ef"},
	{"α", "a"}, {"β", "v"}, {"γ", "g"}, {"δ", "d"}, {"ε", "e"}, {"ζ", "z"}, {"η", "i"}, {"θ", "th"}, {"ι", "i"}, {"κ", "k"},
	{"λ", "l"}, {"μ", "m"}, {"ν", "n"}, {"ξ", "ks"}, {"ο", "o"}, {"π", "p"}, {"ρ", "r"}, {"σ", "s"}, {"ς", "s"}, {"τ", "t"},
	{"υ", "y"}, {"φ", "f"}, {"χ", "x"}, {"ψ", "ps"}, {"ω", "o"},
}

var greeklishReplacer = func() *strings.Replacer {
	var args []string
	for _, p := range greeklishPairs {
		args = append(args, p.from, p.to)
	}
	return strings.NewReplacer(args...)
}()

// greeklish writes Greek text in Latin letters, accents dropped.
func greeklish(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return greeklishReplacer.Replace(b.String())
}
