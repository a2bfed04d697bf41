package lid

import (
	"bytes"
	"strings"
	"testing"
)

func feats(s string) []uint32 {
	var fb [MaxFeatures]uint32
	return append([]uint32(nil), fb[:Features(s, &fb)]...)
}

func same(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFeaturesTweetHandling: what is not language leaves no feature, and
// tweet spellings map onto the plain word.
func TestFeaturesTweetHandling(t *testing.T) {
	plain := "i can’t believe it is friday and i am so happy"
	for _, s := range []string{
		"I can’t believe it is Friday and I am so happy",
		`I can\u2019t believe it is Friday and I am so happy`, // SemEval escapes
		"@user I can’t believe it is Friday and I am so happy https://t.co/x 🎉",
		"RT @someone: I can’t believe it is Friday &amp; I am so happy 2024",
	} {
		want := plain
		if strings.Contains(s, "&amp;") {
			want = strings.Replace(plain, " and ", " ", 1)
		}
		if !same(feats(s), feats(want)) {
			t.Errorf("%q: features differ from %q", s, want)
		}
	}
	// elongations: a letter three times or more counts twice
	if !same(feats("sooooo happyyyyyy"), feats("soo happyy")) || same(feats("soo"), feats("so")) {
		t.Error("elongation not folded to two letters")
	}
	// hashtags: read only when little else is there, split at camelCase
	if !same(feats("#BuenosDías #FelizLunes"), feats("buenos días feliz lunes")) {
		t.Error("hashtag-only post not read as its words")
	}
	long := "this is an english sentence that is long enough to decide"
	if !same(feats(long+" #IchLiebeEs"), feats(long)) {
		t.Error("hashtag read beside a long text")
	}
	for _, s := range []string{"", "@user https://x.y 🎉 123 !!!", "&amp;&lt;"} {
		if n := len(feats(s)); n != 0 {
			t.Errorf("%q: %d features, want 0", s, n)
		}
	}
	if n := len(feats(strings.Repeat("word ", 1<<18))); n != MaxFeatures {
		t.Errorf("1 MB post: %d features, want the cap %d", n, MaxFeatures)
	}
}

func TestModelRoundTrip(t *testing.T) {
	m := &Model{
		Langs: []string{"en", "sr-Cyrl"}, Bias: []float32{0.5, -0.5}, PerFeat: []float32{0, -0.1}, Prior: []float32{1, 0},
		Scale: 0.25, LenScale: 1, Bits: 8, Offsets: make([]uint32, 257), Meta: "model: test\n",
	}
	m.DataHash[0] = 7
	for b := 10; b < 257; b++ {
		m.Offsets[b] = 2
	}
	m.Lang, m.Weight = []uint8{0, 1}, []int8{5, -3}
	var buf, again bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	d, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Encode(&again); err != nil || !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Fatalf("re-encoding differs (err %v)", err)
	}
	v, h, meta, err := Header(buf.Bytes())
	if err != nil || v != Version || h != m.DataHash || meta != m.Meta {
		t.Errorf("header %d %x %q %v", v, h[:2], meta, err)
	}
	var acc [256]int32
	// a feature in bucket 9 hits both postings
	for h := uint32(0); ; h++ {
		if d.Bucket(h) == 9 {
			d.Score([]uint32{h}, &acc)
			break
		}
	}
	if acc[0] != 5 || acc[1] != -3 {
		t.Errorf("score %v", acc[:2])
	}
	for _, bad := range [][]byte{nil, []byte("x"), buf.Bytes()[:len(buf.Bytes())/2]} {
		if _, err := Decode(bad); err == nil {
			t.Errorf("Decode(%d bytes): no error", len(bad))
		}
	}
}
