package enrich

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/enrich/internal/linmodel"
	"github.com/earshot-dev/earshot/internal/datasplit"
)

// TestFastTextAgainstLinear is a measurement, not a check (it runs only
// with EARSHOT_FASTTEXT=1 and the shared data): a fastText-style model
// (an embedding per hashed feature, averaged, then a softmax) against
// the logistic regression the stage ships, on the same features of the
// same Train rows, both judged on the Dev parts — argmax, no abstention,
// no row weights unless EARSHOT_FASTTEXT_WEIGHTS=1 gives the trainer's
// (a simpler recipe than the trainer's, the same for both).
//
//	EARSHOT_FASTTEXT=1 [EARSHOT_FASTTEXT_WEIGHTS=1] go test -run TestFastTextAgainstLinear -v ./enrich
func TestFastTextAgainstLinear(t *testing.T) {
	data, ok := sharedDataDir()
	if os.Getenv("EARSHOT_FASTTEXT") != "1" || !ok {
		t.Skip("a measurement: EARSHOT_FASTTEXT=1 and the shared data")
	}
	lex, err := loadSentimentModels()
	if err != nil {
		t.Fatal(err)
	}
	lm := &LearnedModel{lex: lex, l: &learned{cfg: featCfg{charGrams: true}}}
	labels := sentiClasses
	var train, dev []TrainRow
	var devGroup, trainGroup []string
	long := map[string]string{"neg": "negative", "neu": "neutral", "pos": "positive"}
	for _, f := range SentimentTrainFiles[:5] {
		fh, err := os.Open(filepath.Join(data, f))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		for sc.Scan() {
			p := strings.SplitN(sc.Text(), "\t", 3)
			if len(p) != 3 {
				continue
			}
			r := TrainRow{Lang: p[0], Label: long[p[1]], Text: CleanDatasetText(p[2])}
			if strings.Contains(f, "mozetic") {
				r.Allowed = []string{"negative", "positive"}
			}
			switch datasplit.Of(p[2]) {
			case datasplit.Dev:
				dev = append(dev, r)
				devGroup = append(devGroup, filepath.Base(f)+" "+p[0])
			case datasplit.Train:
				train = append(train, r)
				trainGroup = append(trainGroup, f+" "+p[0])
			}
		}
		fh.Close()
	}
	if os.Getenv("EARSHOT_FASTTEXT_WEIGHTS") == "1" {
		weighTrainRows(train, trainGroup)
	}
	ex, err := lm.examples(train, labels)
	if err != nil {
		t.Fatal(err)
	}
	dx, err := lm.examples(dev, labels)
	if err != nil {
		t.Fatal(err)
	}
	lr := linmodel.Train(labels, ex, linmodel.TrainOptions{Bits: 20, Epochs: 6, LR: 0.01, L2: 1e-6, Seed: 14})
	score := func(name string, predict func([]linmodel.Feat, []float64)) {
		type acc struct{ gold, hit map[int]int }
		by := map[string]*acc{}
		p := make([]float64, len(labels))
		for i, e := range dx {
			predict(e.Feats, p)
			best := -1
			for c := range p {
				if (e.Allowed == 0 || e.Allowed&(1<<c) != 0) && (best < 0 || p[c] > p[best]) {
					best = c
				}
			}
			a := by[devGroup[i]]
			if a == nil {
				a = &acc{map[int]int{}, map[int]int{}}
				by[devGroup[i]] = a
			}
			a.gold[e.Label]++
			if best == e.Label {
				a.hit[e.Label]++
			}
		}
		var line []string
		for _, g := range slices.Sorted(func(yield func(string) bool) {
			for k := range by {
				if !yield(k) {
					return
				}
			}
		}) {
			a := by[g]
			var mr float64
			for c, n := range a.gold {
				mr += float64(a.hit[c]) / float64(n) / float64(len(a.gold))
			}
			line = append(line, fmt.Sprintf("%s=%.3f", strings.TrimSuffix(strings.TrimPrefix(g, "sentiment/"), ".tsv"), mr))
		}
		mean := func(prefix string, skip string) float64 {
			var s float64
			var n int
			for g, a := range by {
				if !strings.Contains(g, prefix) || (skip != "" && strings.HasSuffix(g, skip)) {
					continue
				}
				var mr float64
				for c, k := range a.gold {
					mr += float64(a.hit[c]) / float64(k) / float64(len(a.gold))
				}
				s += mr
				n++
			}
			return s / float64(n)
		}
		t.Logf("%s: SemEval %.3f, UMSAB mean of 7 non-English %.3f, Mozetič mean %.3f, politics mean %.3f; macro-recall on Dev: %s",
			name, mean("semeval", ""), mean("umsab", " en"), mean("mozetic", ""), mean("politics", ""), strings.Join(line, " "))
	}
	score("logistic regression", lr.Logits)
	ft := trainFastText(ex, len(labels), 20, 16, 5, 0.2, 14)
	score("fastText d=16", ft.logits)
	// the two averaged: the mean of their log-probabilities
	q := make([]float64, len(labels))
	score("both, averaged", func(f []linmodel.Feat, out []float64) {
		lr.Logits(f, out)
		logSoftmax(out)
		ft.logits(f, q)
		logSoftmax(q)
		for c := range out {
			out[c] = (out[c] + q[c]) / 2
		}
	})
}

func logSoftmax(z []float64) {
	mx := slices.Max(z)
	var s float64
	for _, v := range z {
		s += math.Exp(v - mx)
	}
	for c := range z {
		z[c] -= mx + math.Log(s)
	}
}

// weighTrainRows gives rows the trainer's weights: each (file, language)
// group toward a 4,000-row one (√, within [0.3, 2]), and the SemEval
// pool's classes toward balance (within [0.5, 2.5]).
func weighTrainRows(rows []TrainRow, group []string) {
	n := map[string]int{}
	byClass := map[string]int{}
	for i, r := range rows {
		n[group[i]]++
		byClass[group[i]+" "+r.Label]++
	}
	for i, r := range rows {
		g := group[i]
		w := min(2, max(0.3, math.Sqrt(4000/float64(n[g]))))
		if strings.Contains(g, "semeval") {
			w *= min(2.5, max(0.5, float64(n[g])/3/float64(byClass[g+" "+r.Label])))
		}
		rows[i].Weight = float32(w)
	}
}

// fastText is an embedding per hashed feature (averaged over a post's
// features, weighted by their values) and a linear softmax layer.
type fastText struct {
	k, d int
	mask uint32
	e    []float32 // (1<<bits) × d
	w    []float32 // k × d
	b    []float32 // k
	h    []float32
}

func (m *fastText) hidden(feats []linmodel.Feat) {
	clear(m.h)
	var n float32
	for _, f := range feats {
		row := m.e[int(f.I&m.mask)*m.d:][:m.d]
		for j, v := range row {
			m.h[j] += v * f.V
		}
		n += float32(math.Abs(float64(f.V)))
	}
	if n > 0 {
		for j := range m.h {
			m.h[j] /= n
		}
	}
}

func (m *fastText) logits(feats []linmodel.Feat, out []float64) {
	m.hidden(feats)
	for c := range m.k {
		s := float64(m.b[c])
		for j, v := range m.h {
			s += float64(m.w[c*m.d+j] * v)
		}
		out[c] = s
	}
}

// trainFastText fits by SGD with a linearly decaying rate, as fastText
// does; deterministic (one goroutine, seeded).
func trainFastText(ex []linmodel.Example, k int, bits uint8, d, epochs int, lr0 float64, seed uint64) *fastText {
	n := 1 << bits
	m := &fastText{k: k, d: d, mask: uint32(n - 1), e: make([]float32, n*d), w: make([]float32, k*d), b: make([]float32, k), h: make([]float32, d)}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range m.e {
		m.e[i] = float32((rng.Float64()*2 - 1) / float64(d))
	}
	order := make([]int, len(ex))
	for i := range order {
		order[i] = i
	}
	p := make([]float64, k)
	g := make([]float32, k)
	gh := make([]float32, d)
	total, step := float64(epochs*len(ex)), 0.0
	for range epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			e := &ex[i]
			lr := float32(lr0 * (1 - step/total))
			step++
			m.logits(e.Feats, p)
			allowed := e.Allowed
			if allowed == 0 {
				allowed = 1<<k - 1
			}
			mx := math.Inf(-1)
			for c := range p {
				if allowed&(1<<c) != 0 {
					mx = max(mx, p[c])
				}
			}
			var s float64
			for c := range p {
				if allowed&(1<<c) == 0 {
					p[c] = 0
					continue
				}
				p[c] = math.Exp(p[c] - mx)
				s += p[c]
			}
			clear(gh)
			for c := range k {
				y := 0.0
				if c == e.Label {
					y = 1
				}
				wt := float64(e.Weight)
				if wt == 0 {
					wt = 1
				}
				g[c] = float32(wt * (p[c]/s - y))
				if allowed&(1<<c) == 0 {
					g[c] = 0
				}
				for j := range d {
					gh[j] += g[c] * m.w[c*d+j]
					m.w[c*d+j] -= lr * g[c] * m.h[j]
				}
				m.b[c] -= lr * g[c]
			}
			var norm float32
			for _, f := range e.Feats {
				norm += float32(math.Abs(float64(f.V)))
			}
			if norm == 0 {
				continue
			}
			for _, f := range e.Feats {
				row := m.e[int(f.I&m.mask)*d:][:d]
				for j := range row {
					row[j] -= lr * gh[j] * f.V / norm
				}
			}
		}
	}
	return m
}
