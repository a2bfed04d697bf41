package post

import (
	"testing"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
)

// badItems are small binary items each refused for a different reason: a
// record of many costs what the dead-letter path allocates per item.
func badItems() map[string][]byte {
	good := AppendBinary(nil, &Item{Post: samplePost()})
	return map[string][]byte{
		"version":  {9, 1},
		"bad-tag":  {1, 0x80},
		"cut":      good[:len(good)-3],
		"no-post":  {1},
		"wiretype": append([]byte{1}, protowire.AppendTag(nil, 9, protowire.StartGroupType)...),
		// an empty post, then a bad tag: the item is allocated at its
		// first well-framed field, so this one costs an item (and no more)
		"framed-then-bad": {1, 0x0a, 0x00, 0x80},
	}
}

func BenchmarkDecodeBinaryBad(b *testing.B) {
	for name, in := range badItems() {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeBinary(in); err == nil {
					b.Fatal("decoded")
				}
			}
		})
	}
}

// TestDecodeBinaryBadItemCostsLittle: a refused item of garbage allocates
// little more than its own bytes and its reason, not an item's worth of
// memory: a record of 10,000 two-byte bad items must not cost 10,000
// decoded items. One whose first field is well framed costs at most one
// empty item more (the allocation the decoder makes before it reads on).
func TestDecodeBinaryBadItemCostsLittle(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean little under the race detector")
	}
	for name, in := range badItems() {
		var err error
		alloc := allocated(func() {
			for range 100 {
				_, err = DecodeBinary(in)
			}
		}) / 100
		if err == nil {
			t.Fatalf("%s: decoded", name)
		}
		// its bytes (copied once), the reason twice (the reader's and the
		// wrapped one) and the two errors' headers
		limit := uint64(2*len(in) + 2*len(err.Error()) + 64)
		if name == "framed-then-bad" {
			limit += uint64(unsafe.Sizeof(Item{}) + unsafe.Sizeof(Post{}))
		}
		if alloc > limit {
			t.Errorf("%s: %d bytes refused (%v) allocate %d bytes, want at most %d", name, len(in), err, alloc, limit)
		}
	}
}
