package ingest

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// TestFileDeadLettersByClass: each kind of bad input line lands in its
// dead-letter class, set where the line is refused, not read back from
// the reason.
func TestFileDeadLettersByClass(t *testing.T) {
	at := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	future := time.Now().UTC().Add(48 * time.Hour).Format(time.RFC3339)
	lines := []struct {
		line string
		want post.Class
	}{
		{`{not json`, post.ClassDecode},
		{"{\"platform\":\"x\",\"id\":\"1\",\"text\":\"\xff\",\"created_at\":\"" + at + "\"}", post.ClassDecode},
		{`{"platform":"x","id":"2","text":"` + strings.Repeat("a", 3000) + `","created_at":"` + at + `"}`, post.ClassTooBig}, // the line over max_post_bytes
		{`{"platform":"x","id":"3","hashtags":["` + strings.Repeat("h", post.MaxTagBytes+1) + `"],"created_at":"` + at + `"}`, post.ClassTooBig},
		{`{"platform":"x","id":"` + strings.Repeat("9", post.MaxIDBytes+1) + `","created_at":"` + at + `"}`, post.ClassTooBig},
		{`{"platform":"x","id":"4","kind":"zap","created_at":"` + at + `"}`, post.ClassInvalidField},
		{`{"platform":"x","text":"no id","created_at":"` + at + `"}`, post.ClassInvalidField},
		{`{"platform":"x","id":"5","text":"from the future","created_at":"` + future + `"}`, post.ClassInvalidField},
		{`{"platform":"x\u202e","id":"6","created_at":"` + at + `"}`, post.ClassInvalidField}, // a bidi control in the platform
		{`{"platform":"x","id":"7","text":"fine","created_at":"` + at + `"}`, ""},             // passes
	}
	var data strings.Builder
	for _, l := range lines {
		data.WriteString(l.line + "\n")
	}
	path := filepath.Join(t.TempDir(), "posts.ndjson")
	if err := os.WriteFile(path, []byte(data.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(path, 0, 2048)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rej []post.Rejected
	items := 0
	for {
		b, err := f.Next(context.Background(), 100)
		rej, items = append(rej, b.Rejected...), items+len(b.Items)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if items != 1 || len(rej) != len(lines)-1 {
		t.Fatalf("%d posts and %d dead letters, want 1 and %d", items, len(rej), len(lines)-1)
	}
	for i, r := range rej {
		if r.Class != lines[i].want {
			t.Errorf("line %d (%.40q): class %q, want %q; reason %.200s", i+1, lines[i].line, r.Class, lines[i].want, r.Reason)
		}
	}
}
