package post

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A batch record carries several items in one Kafka record, so that the
// broker, the producers and the consumers do their per-record work once per
// batch instead of once per post (issue 21). Its value is an envelope around
// the items' own wire encodings, each exactly what Encode writes:
//
//	0x00 'E' 'B' <envelope version: 1>
//	uvarint  number of items (at least 1)
//	then, per item: uvarint length, the item's bytes (Encode's JSON)
//
// The first byte, 0x00, can begin no JSON document, so a reader tells a
// batch record from a single item (Encode's JSON, which every earlier
// writer wrote and which a writer with batching off still writes) by it
// alone. Each item keeps its own encoding, so it is decoded, and
// dead-lettered with its own bytes and reason, on its own: one bad item
// does not take its batch down.
//
// Envelope version 2 is the same envelope around binary items
// (AppendBinary) instead of JSON ones; a binary item always travels in an
// envelope, even alone, since only the envelope says how to read it.
const EnvelopeVersion = 1

// EnvelopeBinary is the envelope version whose items are binary.
const EnvelopeBinary = 2

// MaxBatchItems is the most items a batch record may carry. A record that
// says more is refused whole (one dead letter), so that one hostile record
// cannot turn into millions of deliveries.
const MaxBatchItems = 10_000

// envelopeMagic begins a batch record; its last byte is the version.
var envelopeMagic = [4]byte{0x00, 'E', 'B', EnvelopeVersion}

// Envelope versions this build reads: v1 items are JSON, v2 binary.
func knownEnvelope(v byte) bool { return v == EnvelopeVersion || v == EnvelopeBinary }

// EnvelopeOverhead is the most bytes an envelope adds to n items' encodings
// beside the items themselves: the header, the count and a length per item.
func EnvelopeOverhead(n int) int {
	return len(envelopeMagic) + binary.MaxVarintLen64 + n*binary.MaxVarintLen32
}

// IsBatch reports whether a record's value is a batch envelope (of any
// version, known or not).
func IsBatch(b []byte) bool { return len(b) >= 3 && b[0] == 0x00 && b[1] == 'E' && b[2] == 'B' }

// AppendBatch appends to dst the batch record that carries items, each one
// item's wire encoding (Encode). It needs at least one item.
func AppendBatch(dst []byte, items [][]byte) []byte {
	return AppendEnvelope(dst, EnvelopeVersion, items)
}

// AppendEnvelope appends to dst the envelope of version v (EnvelopeVersion
// for JSON items, EnvelopeBinary for binary ones) around items.
func AppendEnvelope(dst []byte, v byte, items [][]byte) []byte {
	dst = append(dst, envelopeMagic[:3]...)
	dst = append(dst, v)
	dst = binary.AppendUvarint(dst, uint64(len(items)))
	for _, it := range items {
		dst = binary.AppendUvarint(dst, uint64(len(it)))
		dst = append(dst, it...)
	}
	return dst
}

// SplitRecord returns the item encodings a record's value carries: the
// value itself when it is not a batch envelope (a single item, as every
// writer before batching wrote), else the envelope's items, which alias b.
// A damaged envelope returns the items before the damage, the bytes from it
// on (rest; the whole value when the header itself is wrong), and why.
func SplitRecord(b []byte) (items [][]byte, rest []byte, err error) {
	if !IsBatch(b) {
		return [][]byte{b}, nil, nil
	}
	if len(b) < len(envelopeMagic) {
		return nil, b, errors.New("batch record: truncated header")
	}
	if v := b[3]; !knownEnvelope(v) {
		return nil, b, WithClass(ClassUnknownVersion, fmt.Errorf("batch record: envelope version %d, this build reads %d and %d", v, EnvelopeVersion, EnvelopeBinary))
	}
	p := b[len(envelopeMagic):]
	n, k := binary.Uvarint(p)
	switch {
	case k <= 0:
		return nil, b, errors.New("batch record: bad item count")
	case n == 0:
		return nil, b, errors.New("batch record: holds no items")
	case n > MaxBatchItems:
		return nil, b, WithClass(ClassTooBig, fmt.Errorf("batch record: says %d items, more than the %d a record may carry", n, MaxBatchItems))
	case n > uint64(len(p)-k):
		// Every item takes at least its length byte: a count above the
		// bytes left is a lie, and must not size an allocation.
		return nil, b, fmt.Errorf("batch record: says %d items in %d bytes", n, len(p)-k)
	}
	p = p[k:]
	items = make([][]byte, 0, n)
	for i := range n {
		l, k := binary.Uvarint(p)
		if k <= 0 || l > uint64(len(p)-k) {
			return items, p, fmt.Errorf("batch record: item %d of %d: length runs past the record's end", i+1, n)
		}
		items = append(items, p[k:k+int(l)])
		p = p[k+int(l):]
	}
	if len(p) > 0 {
		return items, p, fmt.Errorf("batch record: %d bytes after its %d items", len(p), n)
	}
	return items, nil, nil
}

// DecoderFor returns the decoder of the items of a record's value: binary
// for an envelope of version 2, else JSON (an envelope of version 1, or a
// single JSON item).
func DecoderFor(value []byte) func([]byte) (*Item, error) {
	if IsBinaryRecord(value) {
		return DecodeBinary
	}
	return Decode
}

// IsBinaryRecord reports whether a record's value is an envelope of binary
// items.
func IsBinaryRecord(value []byte) bool {
	return IsBatch(value) && len(value) > 3 && value[3] == EnvelopeBinary
}
