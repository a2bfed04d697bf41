package strictyaml

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Bound bounds an error report for a terminal: its first MaxErrors
// lines, each cut at 1,000 bytes, then a count of the
// lines left out.
func Bound(msg string) string {
	const maxLine = 1000
	var b strings.Builder
	lines := 0
	for line := range strings.Lines(msg) {
		lines++
		if lines > MaxErrors {
			continue
		}
		line = strings.TrimSuffix(line, "\n")
		if len(line) > maxLine {
			cut := maxLine
			for cut > 0 && !utf8.RuneStart(line[cut]) {
				cut--
			}
			line = line[:cut] + fmt.Sprintf("… (%d more bytes)", len(line)-cut)
		}
		if lines > 1 {
			b.WriteByte('\n')
		}
		b.WriteString(line)
	}
	if more := lines - MaxErrors; more > 0 {
		fmt.Fprintf(&b, "\n… and %d more lines", more)
	}
	return b.String()
}
