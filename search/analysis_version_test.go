package search

import (
	"encoding/binary"
	"hash/fnv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/earshot-dev/earshot/textnorm"
)

// analysisFingerprints records, for each mappingVersion, a fingerprint of
// the words the tokenizer makes of every character up to U+1FFFF and of
// the tag characters: a change in what textnorm folds, or where it
// breaks words, changes it. Shards written before such a change hold
// terms a search no longer looks for, so the change needs a new
// mappingVersion (the shards are then rebuilt when opened) and its
// fingerprint here.
var analysisFingerprints = map[string]uint64{
	"2": 0xec8582f511f95e24,
	"3": 0x3c0f52d7f72a744c,
}

func TestAnalysisChangeBumpsMappingVersion(t *testing.T) {
	var b strings.Builder
	for _, span := range [][2]rune{{0x20, 0x1FFFF}, {0xE0000, 0xE0FFF}} {
		for r := span[0]; r <= span[1]; r++ {
			if utf8.ValidRune(r) {
				b.WriteRune(r)
			}
		}
	}
	toks := wordTokenizer{f: textnorm.Shared()}.Tokenize([]byte(b.String()))
	h := fnv.New64a()
	var n [8]byte
	for _, tok := range toks {
		h.Write(tok.Term)
		binary.LittleEndian.PutUint64(n[:], uint64(tok.Start)<<32|uint64(tok.End))
		h.Write(n[:])
	}
	if got, want := h.Sum64(), analysisFingerprints[mappingVersion]; got != want {
		t.Fatalf("the text analysis is not the one of mappingVersion %q (fingerprint %#x, want %#x): "+
			"if it changed on purpose, bump mappingVersion and record %#x for it", mappingVersion, got, want, got)
	}
}
