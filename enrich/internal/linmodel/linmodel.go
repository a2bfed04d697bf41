// Package linmodel is a multinomial logistic regression over hashed sparse
// features: deterministic training (AdaGrad, a seeded shuffle, one
// goroutine), temperature calibration, a compact gzipped encoding and an
// allocation-free prediction. The enrich stage's learned models (sentiment,
// emotion, irony) are built on it.
package linmodel

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync"
)

// Feat is one feature: a hashed index (reduced modulo the model's size)
// and its value.
type Feat struct {
	I uint32
	V float32
}

// Model is K-class logistic regression over 1<<Bits hashed features.
type Model struct {
	Labels []string          `json:"labels"`
	Bits   uint8             `json:"bits"`
	Temp   float32           `json:"temp"` // softmax temperature, fitted on held-out rows
	Meta   map[string]string `json:"meta"` // version, data hash, thresholds: what the trainer records
	W      []float32         `json:"-"`    // (1<<Bits) rows of K weights
}

// K is the number of classes.
func (m *Model) K() int { return len(m.Labels) }

func (m *Model) mask() uint32 { return 1<<m.Bits - 1 }

// Logits writes the raw class scores of feats into out (len K).
func (m *Model) Logits(feats []Feat, out []float64) {
	k := m.K()
	for c := range out[:k] {
		out[c] = 0
	}
	mask := m.mask()
	for _, f := range feats {
		row := m.W[int(f.I&mask)*k : int(f.I&mask)*k+k]
		for c, w := range row {
			out[c] += float64(w * f.V)
		}
	}
}

// Predict writes calibrated class probabilities of feats into out (len K).
func (m *Model) Predict(feats []Feat, out []float64) {
	m.Logits(feats, out)
	t := float64(m.Temp)
	if t <= 0 {
		t = 1
	}
	for c := range out {
		out[c] /= t
	}
	softmax(out, ^uint32(0))
}

// softmax turns logits into probabilities over the classes in allowed
// (a bit mask); the others get 0.
func softmax(z []float64, allowed uint32) {
	mx := math.Inf(-1)
	for c, v := range z {
		if allowed&(1<<c) != 0 && v > mx {
			mx = v
		}
	}
	var s float64
	for c, v := range z {
		if allowed&(1<<c) == 0 {
			z[c] = 0
			continue
		}
		z[c] = math.Exp(v - mx)
		s += z[c]
	}
	for c := range z {
		z[c] /= s
	}
}

// Example is one training row. Allowed restricts the softmax to some
// classes (a bit mask; 0 means all): pos/neg data trains a three-class
// model without claiming its rows are not neutral.
type Example struct {
	Feats   []Feat
	Label   int
	Allowed uint32
	Weight  float32 // 0 means 1
}

// TrainOptions tune Train.
type TrainOptions struct {
	Bits   uint8
	Epochs int
	LR     float64 // AdaGrad base rate
	L2     float64 // per-update shrinkage of the touched weights
	Seed   uint64
	// NB, when positive, scales every feature's step for each class by
	// the magnitude of its naive-Bayes log-count ratio (one class against
	// the rest, smoothed by NB; NBSVM, Wang & Manning 2012): features that
	// tell a class apart learn faster than those that do not. The scale
	// is folded into the weights at the end, so prediction is unchanged.
	NB float64
}

// Train fits a model on ex. The same examples and options give the same
// weights, bit for bit: one goroutine, a seeded shuffle, no map iteration.
func Train(labels []string, ex []Example, o TrainOptions) *Model {
	return train(labels, ex, o, nil)
}

// train is Train; after every update it calls after (when set) with the
// epoch and the weights, for tests.
func train(labels []string, ex []Example, o TrainOptions, after func(ep int, w []float32)) *Model {
	k := len(labels)
	m := &Model{Labels: labels, Bits: o.Bits, Temp: 1, Meta: map[string]string{}}
	n := 1 << o.Bits
	m.W = make([]float32, n*k)
	g2 := make([]float32, n*k) // AdaGrad accumulators
	order := make([]int, len(ex))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	mask := m.mask()
	p := make([]float64, k)
	var scale []float32
	if o.NB > 0 {
		scale = nbScale(ex, k, n, mask, o.NB)
	}
	for ep := 0; ep < o.Epochs; ep++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			e := &ex[i]
			allowed := e.Allowed
			if allowed == 0 {
				allowed = 1<<k - 1
			}
			if scale != nil {
				scaledLogits(m.W, scale, e.Feats, mask, p)
			} else {
				m.Logits(e.Feats, p)
			}
			softmax(p, allowed)
			w := float64(e.Weight)
			if w == 0 {
				w = 1
			}
			for _, f := range e.Feats {
				base := int(f.I&mask) * k
				for c := 0; c < k; c++ {
					if allowed&(1<<c) == 0 {
						continue
					}
					y := 0.0
					if c == e.Label {
						y = 1
					}
					x := float64(f.V)
					if scale != nil {
						x *= float64(scale[base+c])
					}
					g := w*(p[c]-y)*x + o.L2*float64(m.W[base+c])
					g2[base+c] += float32(g * g)
					m.W[base+c] -= float32(o.LR * g / (1e-6 + math.Sqrt(float64(g2[base+c]))))
				}
			}
			if after != nil {
				after(ep, m.W)
			}
		}
	}
	for i := range scale {
		m.W[i] *= scale[i]
	}
	return m
}

// scaledLogits is Logits with every weight multiplied by its scale.
func scaledLogits(w, scale []float32, feats []Feat, mask uint32, out []float64) {
	k := len(out)
	for c := range out {
		out[c] = 0
	}
	for _, f := range feats {
		base := int(f.I&mask) * k
		for c := range k {
			out[c] += float64(w[base+c] * scale[base+c] * f.V)
		}
	}
}

// nbScale is the magnitude of every (feature, class)'s naive-Bayes
// log-count ratio, one class against the rest, with counts smoothed by
// alpha, floored at a tenth and divided by its mean over the features
// seen, so that the average step is what it would be unscaled.
func nbScale(ex []Example, k, n int, mask uint32, alpha float64) []float32 {
	cnt := make([]float64, n*k)
	tot := make([]float64, k)
	for i := range ex {
		e := &ex[i]
		w := float64(e.Weight)
		if w == 0 {
			w = 1
		}
		for _, f := range e.Feats {
			v := w * math.Abs(float64(f.V))
			cnt[int(f.I&mask)*k+e.Label] += v
			tot[e.Label] += v
		}
	}
	var all float64
	for _, t := range tot {
		all += t
	}
	scale := make([]float32, n*k)
	seen := make([]bool, n)
	var sum float64
	var m int
	for i := range n {
		var row float64
		for c := range k {
			row += cnt[i*k+c]
		}
		seen[i] = row > 0
		for c := range k {
			pc := (alpha + cnt[i*k+c]) / (alpha*float64(n) + tot[c])
			qc := (alpha + row - cnt[i*k+c]) / (alpha*float64(n) + all - tot[c])
			r := max(0.1, math.Abs(math.Log(pc/qc)))
			scale[i*k+c] = float32(r)
			if seen[i] {
				sum += r
				m++
			}
		}
	}
	if m > 0 {
		mean := float32(sum / float64(m))
		for i := range scale {
			scale[i] /= mean
		}
	}
	return scale
}

// Calibrate fits the softmax temperature that minimises the log loss on
// held-out examples (a grid search: deterministic, and robust enough for
// one parameter).
func (m *Model) Calibrate(ex []Example) {
	if len(ex) == 0 {
		return
	}
	best, bestT := math.Inf(1), float32(1)
	p := make([]float64, m.K())
	for t := float32(0.3); t <= 4.0001; t += 0.05 {
		var loss float64
		for i := range ex {
			e := &ex[i]
			allowed := e.Allowed
			if allowed == 0 {
				allowed = 1<<m.K() - 1
			}
			m.Logits(e.Feats, p)
			for c := range p {
				p[c] /= float64(t)
			}
			softmax(p, allowed)
			loss -= math.Log(max(p[e.Label], 1e-12))
		}
		if loss < best {
			best, bestT = loss, t
		}
	}
	m.Temp = bestT
}

const magic = "earshot-linmodel-1\n"

// Encode writes the model: a JSON header line, then the weights as
// little-endian float16, gzipped. Deterministic: no timestamps, sorted keys.
func (m *Model) Encode(w io.Writer) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	hdr, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("linmodel: header: %w", err)
	}
	bw := bufio.NewWriter(zw)
	bw.WriteString(magic)
	bw.Write(hdr)
	bw.WriteByte('\n')
	var b [2]byte
	for _, v := range m.W {
		binary.LittleEndian.PutUint16(b[:], toHalf(v))
		bw.Write(b[:])
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

// Decode reads what Encode wrote.
func Decode(data []byte) (*Model, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("linmodel: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("linmodel: %w", err)
	}
	if !bytes.HasPrefix(raw, []byte(magic)) {
		return nil, errors.New("linmodel: not a model file")
	}
	raw = raw[len(magic):]
	nl := bytes.IndexByte(raw, '\n')
	if nl < 0 {
		return nil, errors.New("linmodel: no header")
	}
	m := &Model{}
	if err := json.Unmarshal(raw[:nl], m); err != nil {
		return nil, fmt.Errorf("linmodel: header: %w", err)
	}
	if m.Bits < 4 || m.Bits > 24 || m.K() < 2 || m.K() > 32 {
		return nil, fmt.Errorf("linmodel: bad shape bits=%d classes=%d", m.Bits, m.K())
	}
	raw = raw[nl+1:]
	n := (1 << m.Bits) * m.K()
	if len(raw) != 2*n {
		return nil, fmt.Errorf("linmodel: %d weight bytes, want %d", len(raw), 2*n)
	}
	m.W = make([]float32, n)
	tab := halfTable()
	for i := range m.W {
		m.W[i] = tab[binary.LittleEndian.Uint16(raw[2*i:])]
	}
	return m, nil
}

// toHalf rounds a float32 to IEEE 754 binary16 (round to nearest even;
// out-of-range values saturate, which weights never reach).
func toHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case exp >= 31:
		return sign | 0x7bff
	case exp <= 0:
		if exp < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint32(14 - exp)
		h := mant >> shift
		rem := mant & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || rem == half && h&1 == 1 {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(exp)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || rem == 0x1000 && h&1 == 1 {
		h++
	}
	if h >= 0x7c00 {
		return sign | 0x7bff
	}
	return sign | uint16(h)
}

// halfTable is fromHalf of every half: decoding is one lookup per weight.
var halfTable = sync.OnceValue(func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for h := range t {
		t[h] = fromHalf(uint16(h))
	}
	return &t
})

func fromHalf(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h >> 10 & 0x1f)
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		return float32(math.Copysign(float64(mant)/1024/16384, float64(int32(sign>>31)*-2+1)))
	case 31:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp-15+127)<<23 | mant<<13)
}
