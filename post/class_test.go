package post

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestDecodeErrorsCarryTheirClass: each kind of bad wire record makes an
// error whose class (ClassOf, as the runner reads it) says which kind it
// is, whatever the reason's text.
func TestDecodeErrorsCarryTheirClass(t *testing.T) {
	at := `"created_at":"2026-11-22T09:10:00Z"`
	for _, c := range []struct {
		name string
		rec  string
		want Class
	}{
		{"not JSON", `{"v":1,"post":`, ClassDecode},
		{"invalid UTF-8", "{\"v\":1,\"post\":{\"platform\":\"x\",\"id\":\"1\",\"text\":\"\xff\"," + at + "}}", ClassDecode},
		{"newer wire version", `{"v":99,"post":{"platform":"x","id":"1",` + at + `}}`, ClassUnknownVersion},
		{"no id", `{"v":1,"post":{"platform":"x",` + at + `}}`, ClassInvalidField},
		{"platform with a capital", `{"v":1,"post":{"platform":"X","id":"1",` + at + `}}`, ClassInvalidField},
		{"unknown kind", `{"v":1,"post":{"platform":"x","id":"1","kind":"zap",` + at + `}}`, ClassInvalidField},
		{"huge id", `{"v":1,"post":{"platform":"x","id":"` + strings.Repeat("9", MaxIDBytes+1) + `",` + at + `}}`, ClassTooBig},
		{"huge platform", `{"v":1,"post":{"platform":"` + strings.Repeat("p", MaxPlatformBytes+1) + `","id":"1",` + at + `}}`, ClassTooBig},
		{"huge hashtag", `{"v":1,"post":{"platform":"x","id":"1","hashtags":["` + strings.Repeat("h", MaxTagBytes+1) + `"],` + at + `}}`, ClassTooBig},
	} {
		_, err := Decode([]byte(c.rec))
		if err == nil {
			t.Errorf("%s: decoded", c.name)
			continue
		}
		if got := ClassOf(err, ClassOther); got != c.want {
			t.Errorf("%s: class %q, want %q (%v)", c.name, got, c.want, err)
		}
	}
}

func TestBinaryAndEnvelopeErrorsCarryTheirClass(t *testing.T) {
	_, err := DecodeBinary([]byte{BinaryVersion + 1, 0})
	if got := ClassOf(err, ClassOther); got != ClassUnknownVersion {
		t.Errorf("newer binary schema: class %q (%v)", got, err)
	}
	_, _, err = SplitRecord([]byte{0x00, 'E', 'B', 9, 1, 0})
	if got := ClassOf(err, ClassOther); got != ClassUnknownVersion {
		t.Errorf("newer envelope: class %q (%v)", got, err)
	}
	huge := append([]byte{0x00, 'E', 'B', EnvelopeVersion}, binary.AppendUvarint(nil, MaxBatchItems+1)...)
	_, _, err = SplitRecord(huge)
	if got := ClassOf(err, ClassOther); got != ClassTooBig {
		t.Errorf("envelope of too many items: class %q (%v)", got, err)
	}
	_, _, err = SplitRecord([]byte{0x00, 'E', 'B'})
	if got := ClassOf(err, ClassDecode); got != ClassDecode {
		t.Errorf("truncated envelope: class %q (%v)", got, err)
	}
}

func TestClassOf(t *testing.T) {
	base := errors.New("x")
	if got := ClassOf(base, ClassDecode); got != ClassDecode {
		t.Errorf("unmarked: %q, want the fallback", got)
	}
	if got := ClassOf(nil, ClassOther); got != ClassOther {
		t.Errorf("nil: %q", got)
	}
	if WithClass(ClassTooBig, nil) != nil {
		t.Error("WithClass(nil) is not nil")
	}
	// wrapped, and re-marked outside: the innermost mark, set nearest the cause, wins
	err := fmt.Errorf("outer: %w", WithClass(ClassInvalidField, fmt.Errorf("mid: %w", WithClass(ClassTooBig, base))))
	if got := ClassOf(err, ClassOther); got != ClassTooBig {
		t.Errorf("nested: %q, want too_big", got)
	}
	if err.Error() != "outer: mid: x" || !errors.Is(err, base) {
		t.Errorf("marking changed the error: %v", err)
	}
	if got := ClassOf(fmt.Errorf("%w at byte 3", ErrInvalidUTF8), ClassOther); got != ClassDecode {
		t.Errorf("invalid UTF-8: %q", got)
	}
}

// TestClassesAreAClosedSetOfLabelValues: whatever a dead letter's class
// field says (a newer writer's class, an old letter without one, a hostile
// string), Known maps it into the set, so it can label a metric.
func TestClassesAreAClosedSetOfLabelValues(t *testing.T) {
	seen := map[Class]bool{}
	for i, c := range Classes {
		if seen[c] || c.Index() != i || c.Known() != c {
			t.Errorf("class %q at %d: duplicate or misindexed", c, i)
		}
		seen[c] = true
		for _, r := range c {
			if !('a' <= r && r <= 'z' || r == '_') {
				t.Errorf("class %q is not a lower-case token", c)
			}
		}
	}
	for _, c := range []Class{"", "Too_Big", "too_big ", "x\u200b", Class(strings.Repeat("a", 1<<20))} {
		if c.Known() != ClassOther {
			t.Errorf("%.20q: Known is %q, want other", c, c.Known())
		}
	}
}

// TestDeadLetterClassRoundTrips: the class is written in the dead letter,
// still as wire version 1 (a new optional field; old readers ignore it),
// and a letter written before it reads with no class (Known: other).
func TestDeadLetterClassRoundTrips(t *testing.T) {
	b, err := EncodeDeadLetter(&DeadLetter{Stage: "ingest", Reason: "r", Class: ClassTooBig})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"v":1,`) || !strings.Contains(string(b), `"class":"too_big"`) {
		t.Fatalf("wire form %s: want v 1 and the class", b)
	}
	d, err := DecodeDeadLetter(b)
	if err != nil || d.Class != ClassTooBig {
		t.Fatalf("decoded %+v, %v", d, err)
	}
	old, err := DecodeDeadLetter([]byte(`{"v":1,"stage":"ingest","reason":"r","at":"2026-11-22T09:10:00Z"}`))
	if err != nil || old.Class != "" || old.Class.Known() != ClassOther {
		t.Fatalf("an old letter: %+v, %v", old, err)
	}
}
