package themes

import (
	"strings"
	"testing"
	"unicode"
)

// A post's text cannot drive the terminal `earshot insights themes` prints
// to: no escape sequence (ESC, C1 controls, BEL) nor bidi override of a
// label or typical post reaches it; they are shown escaped (termtext.Line),
// invisible format characters dropped.
func TestWriteTextKeepsControlsOut(t *testing.T) {
	hostile := "battery \x1b]0;owned\x07 \x1b[2J\u009b31m drains \u202egnp.exe\u202c \u2066x\u2069 \r\x00over\u200bnight"
	res := &Result{Themes: []Theme{{Label: "battery " + hostile, Posts: 3, Representative: []Example{{Text: hostile}}}}, Posts: 3, Read: 3}
	var b strings.Builder
	if err := WriteText(&b, res); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, r := range out {
		if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
			t.Errorf("%U reached the terminal: %q", r, out)
		}
	}
	if !strings.Contains(out, "drains") || !strings.Contains(out, `\x1b]0;owned\x07`) {
		t.Errorf("the words or the shown escapes are gone: %q", out)
	}
	if got := oneLine("over\u200bnight \u202eevil", 80); got != `overnight \u202eevil` {
		t.Errorf("oneLine = %q", got)
	}
}
