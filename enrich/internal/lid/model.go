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
	// Score's layout, built by Decode (index)
	nl       int      // len(Langs)
	dw       int      // 64-bit words in a dense row: ⌈nl/8⌉
	ent      []uint32 // per bucket: start<<8 | count of its sparse postings, or row<<8 | denseMark
	sparse   []uint16 // the sparse buckets' postings: Lang<<8 | uint8(Weight)
	dense    []uint64 // dense rows of 2·dw words: the even languages' weights + denseBias in 16-bit lanes, then the odd ones'
	DataHash [32]byte // SHA-256 of the training data and settings
	Meta     string   // free text: how it was trained, validation figures
}

// Bucket maps a feature hash to its bucket.
func (m *Model) Bucket(h uint32) uint32 { return (h * 0x9e3779b1) >> (32 - uint32(m.Bits)) }

// Score adds to acc the quantised weights of feats;
// the logit of language l is Bias[l] + n*PerFeat[l] + Scale*acc[l] for n
// features. The sums are exactly those of adding every posting of every
// feature's bucket one by one (scoreEach); two things make them cheaper.
//
// A long post repeats its common n-grams (" t", "e ", "the"), which are
// also the buckets with the most postings; so a post of more than
// dedupMin features is first counted per bucket, and each bucket's
// postings are read once and added count times over: about half the
// reads on a 280-character tweet and a fifth on a repetitive long post.
//
// And a bucket with at least denseMin postings (the common n-grams again:
// 3,740 buckets of 524,288, but 212 of the 295 a 280-character tweet
// reads) is kept as a dense row, a biased 16-bit lane per language, and
// added four languages per 64-bit word (addDense) instead of one posting at a
// time.
func (m *Model) Score(feats []uint32, acc *[256]int32) {
	for len(feats) > MaxFeatures {
		m.Score(feats[:MaxFeatures], acc) // sums add up: a chunk at a time
		feats = feats[MaxFeatures:]
	}
	var rows, cnt [MaxFeatures]uint32 // the dense rows met (their first word), and counts
	nr := 0
	shift := 32 - uint32(m.Bits)
	ent, sp := m.ent, m.sparse
	if len(feats) < dedupMin {
		// feature by feature
		for _, h := range feats {
			b := (h * 0x9e3779b1) >> shift
			if int(b) >= len(ent) {
				continue
			}
			e := ent[b]
			n := e & 0xff
			if n == denseMark {
				rows[nr], cnt[nr] = e>>8*uint32(2*m.dw), 1
				nr++
				continue
			}
			for _, p := range sp[e>>8 : e>>8+n] {
				acc[uint8(p>>8)] += int32(int8(uint8(p)))
			}
		}
		m.addDense(rows[:nr], cnt[:nr], acc)
		return
	}
	// open addressing, linear probing; key bucket+1 (0 is empty). At most
	// MaxFeatures keys in dedupSlots slots: under half full.
	var keys, counts [dedupSlots]uint32
	var slot [MaxFeatures]uint16 // distinct buckets in first-seen order
	nd := 0
	for _, h := range feats {
		b := (h * 0x9e3779b1) >> shift
		if int(b) >= len(ent) {
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
	// the entries of all distinct buckets first: independent loads the
	// processor overlaps, where reading them inside the loop below would
	// wait for each cache miss in turn
	var en [MaxFeatures]uint32
	for k, i := range slot[:nd] {
		en[k] = ent[keys[i]-1]
	}
	// and each sparse bucket's first posting, for the same reason (a
	// bucket's postings lie together, so this brings the rest in too)
	var first [MaxFeatures]uint16
	for k, i := range slot[:nd] {
		e := en[k]
		switch n := e & 0xff; {
		case n == denseMark:
			rows[nr], cnt[nr] = e>>8*uint32(2*m.dw), counts[i]
			nr++
		case n > 0:
			first[k] = sp[e>>8]
		}
	}
	for k, i := range slot[:nd] {
		e := en[k]
		n := e & 0xff
		if n == 0 || n == denseMark {
			continue
		}
		c := int32(counts[i])
		p := first[k]
		acc[uint8(p>>8)] += c * int32(int8(uint8(p)))
		ps := sp[e>>8+1 : e>>8+n]
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
	m.addDense(rows[:nr], cnt[:nr], acc)
}

const (
	// dedupMin: below this many features a post is scored feature by
	// feature: a repeated dense bucket then costs a row add per repeat, yet
	// that is cheaper than the count table (8 KB to clear) up to about
	// here — a synthetic post (~130 features) 0.84× with 320 as with 48,
	// a 480-feature tweet the same (BENCHMARKS.md, "Enrich speed").
	dedupMin   = 320
	dedupSlots = 1024 // a power of two ≥ 2×MaxFeatures
	// denseMin: a bucket with this many postings or more is a dense row
	// (measured: BenchmarkScore, BENCHMARKS.md "Enrich speed").
	denseMin = 16
	// denseMark in an entry's count byte marks a dense bucket.
	denseMark = 0xff
	// denseBias is added to every weight of a dense row, so that it is
	// unsigned (weights are int8: -128..127 → 0..255).
	denseBias = 128
	// denseRoom is how many counts of dense rows a 16-bit lane holds:
	// 257 × 255 = 65535.
	denseRoom = 257
	lanes     = 0x00ff00ff00ff00ff
)

// addDense adds cnt[k] times the dense row starting at word rows[k] to
// acc. The rows are summed in 16-bit lanes first: even[j] holds the
// languages 8j, 8j+2, 8j+4, 8j+6 and odd[j] the languages 8j+1, 8j+3, …,
// each lane the sum of (weight + denseBias) × count over the rows added
// since the last flush into acc (which takes the bias off again); a row
// is stored that way too, its dw even words then its dw odd ones. A lane
// holds at most denseRoom counts, so it never carries into the next.
// Rows counted once are added two at a time (one read and write of the
// lanes for two rows). cnt is used up.
func (m *Model) addDense(rows, cnt []uint32, acc *[256]int32) {
	var even, odd [32]uint64
	dw := m.dw
	ev, od := even[:dw], odd[:dw]
	dense := m.dense
	room := uint32(denseRoom)
	flush := func() {
		if room == denseRoom {
			return
		}
		bias := int32(denseBias * (denseRoom - room))
		for j := range ev {
			e, o := ev[j], od[j]
			for q := range 4 {
				if l := 8*j + 2*q; l+1 < m.nl {
					acc[l] += int32(e>>(16*q)&0xffff) - bias
					acc[l+1] += int32(o>>(16*q)&0xffff) - bias
				} else if l < m.nl {
					acc[l] += int32(e>>(16*q)&0xffff) - bias
				}
			}
			ev[j], od[j] = 0, 0
		}
		room = denseRoom
	}
	cnt = cnt[:len(rows)]
	for k := 0; k < len(rows); k++ {
		r, c := rows[k], cnt[k]
		if c == 1 && k+1 < len(rows) && cnt[k+1] == 1 {
			if room < 2 {
				flush()
			}
			room -= 2
			r2 := rows[k+1]
			e1, o1 := dense[r:int(r)+dw], dense[int(r)+dw:int(r)+2*dw]
			e2, o2 := dense[r2:int(r2)+dw], dense[int(r2)+dw:int(r2)+2*dw]
			e1, o1, e2, o2 = e1[:len(ev)], o1[:len(ev)], e2[:len(ev)], o2[:len(ev)]
			for j := range ev {
				ev[j] += e1[j] + e2[j]
				od[j] += o1[j] + o2[j]
			}
			k++
			continue
		}
		re, ro := dense[r:int(r)+dw], dense[int(r)+dw:int(r)+2*dw]
		re, ro = re[:len(ev)], ro[:len(ev)]
		for c > 0 {
			if room == 0 {
				flush()
			}
			a := min(c, room)
			room -= a
			c -= a
			if a == 1 {
				for j := range ev {
					ev[j] += re[j]
					od[j] += ro[j]
				}
				continue
			}
			for j := range ev {
				ev[j] += re[j] * uint64(a)
				od[j] += ro[j] * uint64(a)
			}
		}
	}
	flush()
}

// scoreEach adds every posting of every feature's bucket one by one, from
// the model as decoded: the reference the faster Score must agree with.
func (m *Model) scoreEach(feats []uint32, acc *[256]int32) {
	shift := 32 - uint32(m.Bits)
	off := m.Offsets
	for _, h := range feats {
		b := (h * 0x9e3779b1) >> shift
		if int(b)+1 >= len(off) {
			continue
		}
		for p := off[b]; p < off[b+1]; p++ {
			acc[m.Lang[p]] += int32(m.Weight[p])
		}
	}
}

// index builds Score's layout from Offsets, Lang and Weight: an entry per
// bucket (where its postings start, and how many there are, or that it is
// dense and which row), the sparse buckets' postings (Lang<<8 |
// uint8(Weight), interleaved) and the dense rows.
func (m *Model) index() error {
	nb := len(m.Offsets) - 1
	m.nl = len(m.Langs)
	m.dw = (m.nl + 7) / 8
	m.ent = make([]uint32, nb)
	m.sparse = m.sparse[:0]
	m.dense = m.dense[:0]
	for b := range nb {
		lo, hi := m.Offsets[b], m.Offsets[b+1]
		n := hi - lo
		if n >= denseMin {
			r := len(m.dense) / (2 * m.dw)
			row := make([]byte, 8*m.dw)
			for i := range row {
				row[i] = denseBias
			}
			for p := lo; p < hi; p++ {
				row[m.Lang[p]] = byte(int(m.Weight[p]) + denseBias)
			}
			for j := range m.dw {
				m.dense = append(m.dense, binary.LittleEndian.Uint64(row[8*j:])&lanes)
			}
			for j := range m.dw {
				m.dense = append(m.dense, binary.LittleEndian.Uint64(row[8*j:])>>8&lanes)
			}
			m.ent[b] = uint32(r)<<8 | denseMark
			continue
		}
		if len(m.sparse) >= 1<<24-255 {
			return fmt.Errorf("%d postings, at most %d", len(m.Lang), 1<<24-255)
		}
		m.ent[b] = uint32(len(m.sparse))<<8 | n
		for p := lo; p < hi; p++ {
			m.sparse = append(m.sparse, uint16(m.Lang[p])<<8|uint16(uint8(m.Weight[p])))
		}
	}
	return nil
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
	for i, v := range w {
		m.Weight[i] = int8(v)
	}
	if err := m.index(); err != nil {
		return nil, fmt.Errorf("reading language model: %w", err)
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
