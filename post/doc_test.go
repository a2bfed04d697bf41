package post

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// jsonLeaves lists the leaves of a decoded JSON value by path (a.b,
// a.c[0].d) with their values; an empty string, the doc's way of showing
// an absent value, is left out.
func jsonLeaves(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			jsonLeaves(prefix+k+".", e, out)
		}
	case []any:
		for i, e := range x {
			jsonLeaves(fmt.Sprintf("%s[%d].", strings.TrimSuffix(prefix, "."), i), e, out)
		}
	case string:
		if x != "" {
			out[strings.TrimSuffix(prefix, ".")] = x
		}
	default:
		out[strings.TrimSuffix(prefix, ".")] = fmt.Sprint(x)
	}
}

// TestDocWireFormats decodes the wire item and the dead letter that
// docs/posts.md shows with earshot's own decoders and encodes them again:
// every field the doc names must come back with the value the doc shows,
// so the doc names no field the format does not have, nor a wrong version.
func TestDocWireFormats(t *testing.T) {
	doc, err := os.ReadFile("../docs/posts.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?ms)^```json\n(.*?)^```").FindAllSubmatch(doc, -1)
	if len(blocks) < 2 {
		t.Fatalf("%d JSON blocks in docs/posts.md, want the wire item and the dead letter", len(blocks))
	}
	for i, b := range blocks[:2] {
		text := strings.ReplaceAll(string(b[1]), "…", "")
		var again []byte
		if i == 0 {
			it, err := Decode([]byte(text))
			if err != nil {
				t.Fatalf("the doc's wire item does not decode: %v\n%s", err, text)
			}
			if again, err = Encode(nil, it); err != nil {
				t.Fatal(err)
			}
		} else {
			d, err := DecodeDeadLetter([]byte(text))
			if err != nil {
				t.Fatalf("the doc's dead letter does not decode: %v\n%s", err, text)
			}
			if again, err = EncodeDeadLetter(d); err != nil {
				t.Fatal(err)
			}
		}
		var want, got any
		if err := json.Unmarshal([]byte(text), &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(again, &got); err != nil {
			t.Fatal(err)
		}
		wl, gl := map[string]string{}, map[string]string{}
		jsonLeaves("", want, wl)
		jsonLeaves("", got, gl)
		var differ []string
		for k, v := range wl {
			if gl[k] != v {
				differ = append(differ, fmt.Sprintf("%s: doc %q, earshot %q", k, v, gl[k]))
			}
		}
		sort.Strings(differ)
		if len(differ) > 0 {
			t.Errorf("docs/posts.md JSON block %d is not what earshot writes:\n%s\nre-encoded: %s", i+1, strings.Join(differ, "\n"), again)
		}
	}
}
