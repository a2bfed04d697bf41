package notify

import (
	"strings"
	"testing"
)

// The cost of cutting one excerpt (excerptMax, 1,500 characters) from a
// long post: mostly ASCII (the grapheme scan starts near the cut), and all
// emoji flags (no ASCII pair: the scan covers the whole excerpt).
func BenchmarkTruncateExcerpt(b *testing.B) {
	for _, c := range []struct{ name, text string }{
		{"mixed", strings.Repeat("our app is down again 😡 @acme ", 200)},
		{"flags", strings.Repeat("🇬🇷", 2000)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if slackCut(c.text, excerptMax) == "" {
					b.Fatal("empty")
				}
			}
		})
	}
}
