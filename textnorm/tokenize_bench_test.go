package textnorm

import (
	"strings"
	"testing"
)

var benchText = strings.Repeat("Just got back from the gym. Really love my new Acme phone, great service 😀 #monday ", 2) + "η ομάδα κέρδισε απόψε"

func BenchmarkTokenize(b *testing.B) {
	f := sharedFolder()
	var tk Tokens
	b.SetBytes(int64(len(benchText)))
	b.ReportAllocs()
	for b.Loop() {
		f.Tokenize(&tk, benchText)
	}
}
