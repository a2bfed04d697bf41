package canon

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzScanKeysFold: whatever Scan accepts has, in every object, keys whose
// folds (unescaped, case-folded as the decoders compare names) differ.
func FuzzScanKeysFold(f *testing.F) {
	for _, s := range []string{
		`{"text":"a","t\u0065xt":"b"}`, `{"text":"a","TEXT":"b"}`, `{"a":{"k":1,"\u212a":2}}`,
		`{"a":[{"x":1},{"x":2}],"A":3}`, `{"\u0041":1,"b":2}`, `{"ſ":1,"S":2}`, `{"é":1,"É":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ScanKeys(b); err != nil {
			return
		}
		d := json.NewDecoder(bytes.NewReader(b))
		type frame struct {
			obj  bool
			key  bool // the next string token is a key
			seen map[string]string
		}
		var stack []*frame
		for {
			tok, err := d.Token()
			if err != nil {
				return // end, or what encoding/json refuses that Scan allows (none known)
			}
			var top *frame
			if len(stack) > 0 {
				top = stack[len(stack)-1]
			}
			switch v := tok.(type) {
			case json.Delim:
				switch v {
				case '{':
					if top != nil && top.obj {
						top.key = true
					}
					stack = append(stack, &frame{obj: true, key: true, seen: map[string]string{}})
					continue
				case '[':
					if top != nil && top.obj {
						top.key = true
					}
					stack = append(stack, &frame{})
					continue
				default:
					stack = stack[:len(stack)-1]
					continue
				}
			case string:
				if top != nil && top.obj && top.key {
					f := string(appendFold(nil, []byte(v)))
					if o, dup := top.seen[f]; dup {
						t.Fatalf("Scan accepted %q with keys %q and %q in one object", b, o, v)
					}
					top.seen[f] = v
					top.key = false
					continue
				}
			}
			if top != nil && top.obj {
				top.key = true
			}
		}
	})
}
