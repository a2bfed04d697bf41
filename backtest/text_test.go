package backtest

import (
	"bytes"
	"strings"
	"testing"
)

// A sampled post's terminal controls are shown escaped, not acted on.
func TestWriteTextEscapesTerminalControls(t *testing.T) {
	evil := "\x1b]0;pwned\x07\x1b[2J\u009b31m\u202eevil\r"
	rep := &Report{Watchlist: "w", Notes: []string{evil}, Sample: []Sample{{Key: "x:1", Author: evil, Text: evil, Keywords: []string{evil}}}}
	var b bytes.Buffer
	rep.WriteText(&b)
	for _, bad := range []string{"\x1b", "\u009b", "\u202e", "\x07", "\r"} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("output holds %q:\n%q", bad, b.String())
		}
	}
	if !strings.Contains(b.String(), `\x1b[2J`) {
		t.Errorf("the controls are not shown escaped:\n%s", b.String())
	}
}
