package watchlist

import (
	"strings"
	"testing"
)

// A change note is free text from whoever made the change: its terminal
// controls are shown escaped in the history table.
func TestWriteHistoryEscapesTerminalControls(t *testing.T) {
	evil := "\x1b]0;pwned\x07\x1b[2J\u202eevil\r\nmore"
	var b strings.Builder
	if err := WriteHistory(&b, []Change{{Seq: 1, Actor: evil, Action: "update", Note: evil}}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(b.String(), "\x1b\x07\r\u202e") || strings.Count(b.String(), "\n") != 2 || !strings.Contains(b.String(), `\x1b[2J`) {
		t.Errorf("history:\n%q", b.String())
	}
}
