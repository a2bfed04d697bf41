package insights

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// A cell's terminal controls (a post's text or author) are shown escaped in
// the table; the JSON keeps them exactly.
func TestWriteTextEscapesTerminalControls(t *testing.T) {
	evil := "\x1b]0;pwned\x07\x1b[2J\u009b31m\u202eevil\r"
	tab := &Table{Columns: []string{"author", "text"}, Rows: [][]any{{evil, evil}}}
	var b bytes.Buffer
	if err := tab.WriteText(&b, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"\x1b", "\u009b", "\u202e", "\x07", "\r"} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("output holds %q:\n%q", bad, b.String())
		}
	}
	if !strings.Contains(b.String(), `\x1b[2J`) {
		t.Errorf("the controls are not shown escaped:\n%s", b.String())
	}
	j, err := json.Marshal(tab)
	if err != nil {
		t.Fatal(err)
	}
	var back Table
	if err := json.Unmarshal(j, &back); err != nil || back.Rows[0][1] != evil {
		t.Errorf("JSON does not keep the text exactly: %v %q", err, back.Rows)
	}
}
