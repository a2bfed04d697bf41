package linmodel

import (
	"bytes"
	"math"
	"testing"
)

func TestHalfRoundTrip(t *testing.T) {
	for _, f := range []float32{0, 1, -1, 0.5, 0.1, -3.25, 1e-5, -1e-7, 65504, 1e6, -1e6} {
		got := fromHalf(toHalf(f))
		want := f
		if math.Abs(float64(f)) > 65504 {
			want = float32(math.Copysign(65504, float64(f))) // saturates
		}
		if math.Abs(float64(f)) < 6e-8 {
			want = 0
		}
		if d := math.Abs(float64(got - want)); d > math.Abs(float64(want))/1000+1e-7 {
			t.Errorf("half(%g) = %g, want %g", f, got, want)
		}
	}
}

// A separable toy problem: the model learns it, the pos/neg-only rows
// never move the third class's weights, and the encoding round-trips.
func TestTrainLearnsAndEncodes(t *testing.T) {
	var ex []Example
	for i := range 60 {
		c := i % 3
		ex = append(ex, Example{Feats: []Feat{{I: uint32(10 + c), V: 1}, {I: 1, V: 1}}, Label: c})
	}
	// a two-class row on a feature of its own
	ex = append(ex, Example{Feats: []Feat{{I: 99, V: 1}}, Label: 0, Allowed: 1<<0 | 1<<2})
	m := Train([]string{"a", "b", "c"}, ex, TrainOptions{Bits: 8, Epochs: 5, LR: 0.5, Seed: 3})
	p := make([]float64, 3)
	for c := range 3 {
		m.Predict([]Feat{{I: uint32(10 + c), V: 1}, {I: 1, V: 1}}, p)
		if p[c] < 0.8 {
			t.Errorf("class %d: probabilities %v", c, p)
		}
	}
	if w := m.W[99*3+1]; w != 0 {
		t.Errorf("a row allowed only a and c moved b's weight to %v", w)
	}
	var b bytes.Buffer
	if err := m.Encode(&b); err != nil {
		t.Fatal(err)
	}
	m2, err := Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	m2.Predict([]Feat{{I: 10, V: 1}, {I: 1, V: 1}}, p)
	if p[0] < 0.8 {
		t.Errorf("decoded model: %v", p)
	}
	for _, bad := range [][]byte{nil, []byte("not gzip"), b.Bytes()[:len(b.Bytes())/2]} {
		if _, err := Decode(bad); err == nil {
			t.Errorf("Decode(%d bytes of junk) succeeded", len(bad))
		}
	}
}

// The naive-Bayes scale is larger for a feature that tells a class apart
// than for one every class has; a model trained with it still learns
// the toy problem, and its folded weights predict what the scaled ones
// did (prediction needs no scale).
func TestTrainNBScale(t *testing.T) {
	var ex []Example
	for i := range 90 {
		c := i % 3
		ex = append(ex, Example{Feats: []Feat{{I: uint32(10 + c), V: 1}, {I: 1, V: 1}}, Label: c})
	}
	const bits = 6
	n, mask := 1<<bits, uint32(1<<bits-1)
	s := nbScale(ex, 3, n, mask, 1)
	if !(s[10*3+0] > 2*s[1*3+0]) {
		t.Errorf("scale of the class-0 feature for class 0 %.3f, of the feature all classes have %.3f", s[10*3+0], s[1*3+0])
	}
	var snap []float32
	o := TrainOptions{Bits: bits, Epochs: 5, LR: 0.5, Seed: 3, NB: 1}
	m := train([]string{"a", "b", "c"}, ex, o, func(_ int, w []float32) { snap = append(snap[:0], w...) })
	p, q := make([]float64, 3), make([]float64, 3)
	for c := range 3 {
		f := []Feat{{I: uint32(10 + c), V: 1}, {I: 1, V: 1}}
		m.Logits(f, p)
		scaledLogits(snap, s, f, mask, q)
		for j := range p {
			if math.Abs(p[j]-q[j]) > 1e-4 {
				t.Fatalf("folded logits %v, scaled in training %v", p, q)
			}
		}
		m.Predict(f, p)
		if p[c] < 0.8 {
			t.Errorf("class %d: probabilities %v", c, p)
		}
	}
}
