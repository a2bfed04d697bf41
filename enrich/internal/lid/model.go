package lid

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Version is the model format and feature version; the detector refuses a
// model of another version (its features would not match).
const Version = 2

const magic = "ESLID"

// Model is a linear model over hashed features: score(lang) = bias[lang] +
// Σ over the post's features of the weight of (bucket, lang), weights
// stored sparsely per bucket and quantised to int8 × Scale. It is immutable
// after Decode and safe for concurrent use.
type Model struct {
	Langs   []string
	Bias    []float32
	PerFeat []float32 // added to a language's logit once per feature (naive Bayes' floor); may be zero
	Scale   float32
	// LenScale and Prior calibrate: the logits above are divided by
	// 1 + LenScale*n/100 (naive Bayes grows overconfident with length),
	// then Prior is added (per-language offsets chosen on Dev).
	LenScale float32
	Prior    []float32
	Bits     uint8    // log2 of the bucket count
	Offsets  []uint32 // bucket b's postings are [Offsets[b], Offsets[b+1])
	Lang     []uint8
	Weight   []int8
	post     []uint16 // Lang<<8 | uint8(Weight), interleaved for Score
	DataHash [32]byte // SHA-256 of the training data and settings
	Meta     string   // free text: how it was trained, validation figures
}

// Bucket maps a feature hash to its bucket.
func (m *Model) Bucket(h uint32) uint32 { return (h * 0x9e3779b1) >> (32 - uint32(m.Bits)) }

// Score adds to acc the quantised weights of feats;
// the logit of language l is Bias[l] + n*PerFeat[l] + Scale*acc[l] for n
// features.
//
// A long post repeats its common n-grams (" t", "e ", "the"), which are
// also the buckets with the most postings; so a post of more than
// dedupMin features is first counted per bucket, and each bucket's
// postings are read once and added count times over: the same sums, in
// about half the reads on a 280-character tweet and a fifth on a
// repetitive long post.
func (m *Model) Score(feats []uint32, acc *[256]int32) {
	if len(feats) < dedupMin || len(feats) > MaxFeatures {
		m.scoreEach(feats, acc)
		return
	}
	shift := 32 - uint32(m.Bits)
	off, post := m.Offsets, m.post
	// open addressing, linear probing; key bucket+1 (0 is empty). At most
	// MaxFeatures keys in dedupSlots slots: under half full.
	var keys, counts [dedupSlots]uint32
	var slot [MaxFeatures]uint16 // distinct buckets in first-seen order
	nd := 0
	for _, h := range feats {
		b := (h * 0x9e3779b1) >> shift
		if int(b)+1 >= len(off) {
			continue
		}
		i := b & (dedupSlots - 1)
		for keys[i] != 0 && keys[i] != b+1 {
			i = (i + 1) & (dedupSlots - 1)
		}
		if keys[i] == 0 {
			keys[i] = b + 1
			slot[nd] = uint16(i)
			nd++
		}
		counts[i]++
	}
	// the offsets of all distinct buckets first: independent loads the
	// processor overlaps, where reading them inside the loop below would wait
	// for each cache miss in turn
	var lo, hi [MaxFeatures]uint32
	for k, i := range slot[:nd] {
		b := keys[i] - 1
		lo[k], hi[k] = off[b], off[b+1]
	}
	// and each bucket's first posting, for the same reason: a bucket's
	// postings lie together, so this brings the rest of them in too
	var first [MaxFeatures]uint16
	for k := range slot[:nd] {
		if lo[k] < hi[k] {
			first[k] = post[lo[k]]
		}
	}
	for k, i := range slot[:nd] {
		if lo[k] == hi[k] {
			continue
		}
		c := int32(counts[i])
		p := first[k]
		acc[uint8(p>>8)] += c * int32(int8(uint8(p)))
		ps := post[lo[k]+1 : hi[k]]
		if c == 1 {
			for _, p := range ps {
				acc[uint8(p>>8)] += int32(int8(uint8(p)))
			}
			continue
		}
		for _, p := range ps {
			acc[uint8(p>>8)] += c * int32(int8(uint8(p)))
		}
	}
}

const (
	// dedupMin: below this many features a post is scored feature by
	// feature (few repeats; the count table would cost more than it saves).
	dedupMin   = 48
	dedupSlots = 1024 // a power of two ≥ 2×MaxFeatures
)

// scoreEach is Score without the per-bucket counting.
func (m *Model) scoreEach(feats []uint32, acc *[256]int32) {
	shift := 32 - uint32(m.Bits)
	off, post := m.Offsets, m.post
	for _, h := range feats {
		b := (h * 0x9e3779b1) >> shift
		if int(b)+1 >= len(off) {
			continue
		}
		for _, p := range post[off[b]:off[b+1]] {
			acc[uint8(p>>8)] += int32(int8(uint8(p)))
		}
	}
}

// Logits turns the accumulated scores of n features into calibrated
// logits, z[l] for each language.
func (m *Model) Logits(acc []int32, n int, z []float64) {
	div := 1 + float64(m.LenScale)*float64(n)/100
	fn := float32(n)
	for l := range m.Langs {
		z[l] = float64(m.Bias[l]+fn*m.PerFeat[l]+m.Scale*float32(acc[l]))/div + float64(m.Prior[l])
	}
}

// Encode writes the model, gzip-compressed; the same model always gives
// the same bytes.
func (m *Model) Encode(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString(magic)
	le := binary.LittleEndian
	put := func(v any) { _ = binary.Write(&b, le, v) }
	put(uint32(Version))
	b.Write(m.DataHash[:])
	put(uint32(len(m.Meta)))
	b.WriteString(m.Meta)
	put(uint16(len(m.Langs)))
	for _, l := range m.Langs {
		b.WriteByte(byte(len(l)))
		b.WriteString(l)
	}
	put(m.Bias)
	put(m.PerFeat)
	put(m.Scale)
	put(m.LenScale)
	put(m.Prior)
	b.WriteByte(m.Bits)
	// bucket sizes, not offsets: they compress far better
	for i := 0; i+1 < len(m.Offsets); i++ {
		b.WriteByte(byte(m.Offsets[i+1] - m.Offsets[i]))
	}
	put(uint32(len(m.Lang)))
	b.Write(m.Lang)
	for _, v := range m.Weight {
		b.WriteByte(byte(v))
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(b.Bytes()); err != nil {
		return fmt.Errorf("writing language model: %w", err)
	}
	return zw.Close()
}

// Header reads only the version and data hash of an encoded model.
func Header(gz []byte) (version uint32, hash [32]byte, meta string, err error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return 0, hash, "", fmt.Errorf("reading language model: %w", err)
	}
	var h [len(magic) + 4 + 32 + 4]byte
	if _, err := io.ReadFull(zr, h[:]); err != nil || string(h[:len(magic)]) != magic {
		return 0, hash, "", errors.New("reading language model: not a model")
	}
	version = binary.LittleEndian.Uint32(h[len(magic):])
	copy(hash[:], h[len(magic)+4:])
	mb := make([]byte, min(binary.LittleEndian.Uint32(h[len(magic)+36:]), 1<<20))
	if _, err := io.ReadFull(zr, mb); err != nil {
		return 0, hash, "", fmt.Errorf("reading language model: %w", err)
	}
	return version, hash, string(mb), nil
}

// Decode reads a model written by Encode.
func Decode(gz []byte) (*Model, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("reading language model: %w", err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("reading language model: %w", err)
	}
	r := &reader{b: data}
	if string(r.next(len(magic))) != magic {
		return nil, errors.New("reading language model: not a model")
	}
	if v := r.u32(); v != Version && r.err == nil {
		return nil, fmt.Errorf("reading language model: version %d, want %d", v, Version)
	}
	m := &Model{}
	copy(m.DataHash[:], r.next(32))
	m.Meta = string(r.next(int(r.u32())))
	nl := int(r.u16())
	if nl > 255 {
		return nil, fmt.Errorf("reading language model: %d languages, at most 255", nl)
	}
	for range nl {
		m.Langs = append(m.Langs, string(r.next(int(r.byte()))))
	}
	m.Bias = make([]float32, nl)
	for i := range m.Bias {
		m.Bias[i] = math.Float32frombits(r.u32())
	}
	m.PerFeat = make([]float32, nl)
	for i := range m.PerFeat {
		m.PerFeat[i] = math.Float32frombits(r.u32())
	}
	m.Scale = math.Float32frombits(r.u32())
	m.LenScale = math.Float32frombits(r.u32())
	m.Prior = make([]float32, nl)
	for i := range m.Prior {
		m.Prior[i] = math.Float32frombits(r.u32())
	}
	m.Bits = r.byte()
	if m.Bits < 8 || m.Bits > 24 {
		return nil, fmt.Errorf("reading language model: %d bucket bits", m.Bits)
	}
	sizes := r.next(1 << m.Bits)
	m.Offsets = make([]uint32, len(sizes)+1)
	for i, s := range sizes {
		m.Offsets[i+1] = m.Offsets[i] + uint32(s)
	}
	np := int(r.u32())
	m.Lang = r.next(np)
	w := r.next(np)
	if r.err != nil {
		return nil, fmt.Errorf("reading language model: %w", r.err)
	}
	if int(m.Offsets[len(sizes)]) != np {
		return nil, fmt.Errorf("reading language model: %d postings, buckets hold %d", np, m.Offsets[len(sizes)])
	}
	for _, l := range m.Lang {
		if int(l) >= nl {
			return nil, fmt.Errorf("reading language model: language %d of %d", l, nl)
		}
	}
	m.Weight = make([]int8, np)
	m.post = make([]uint16, np)
	for i, v := range w {
		m.Weight[i] = int8(v)
		m.post[i] = uint16(m.Lang[i])<<8 | uint16(v)
	}
	return m, nil
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) next(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = io.ErrUnexpectedEOF
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if v := r.next(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if v := r.next(2); v != nil {
		return binary.LittleEndian.Uint16(v)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if v := r.next(4); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}
