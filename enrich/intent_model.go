package enrich

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/earshot-dev/earshot/internal/datasplit"
)

// The intent model: one logistic regression per intent (so a post can be a
// complaint and a question at once) over the lexicon cues, the post's shape
// and hashed words and word pairs. It is learned by `go run
// ./enrich/train/intent` from the project's own labelled posts
// (testdata/intent_posts.tsv, its Train part) and embedded here.
//
//go:embed lexicon/intent_model.txt
var intentModelTxt []byte

// The valence lexicons the intent cues draw on (the same files as the
// sentiment model's, read here on their own so that the two can change
// independently).
var (
	//go:embed lexicon/vader_lexicon.tsv
	intentVaderTSV []byte
	//go:embed lexicon/greek_sentiment_lexicon.tsv
	intentGreekTSV []byte
)

type valenceWord struct {
	word string
	neg  bool
}

// intentValenceWords lists strongly positive and negative words of the
// English (VADER) and Greek (MKLab) lexicons.
func intentValenceWords() []valenceWord {
	var out []valenceWord
	for line := range strings.SplitSeq(string(intentVaderTSV), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 2 {
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil || math.Abs(v) < 1.5 {
			continue
		}
		out = append(out, valenceWord{f[0], v < 0})
	}
	for line := range strings.SplitSeq(string(intentGreekTSV), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 || strings.HasPrefix(line, "#") {
			continue
		}
		pos, err1 := strconv.Atoi(f[1])
		neg, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil {
			continue
		}
		switch {
		case neg >= 3 && pos == 0:
			out = append(out, valenceWord{f[0], true})
		case pos >= 3 && neg == 0:
			out = append(out, valenceWord{f[0], false})
		}
	}
	return out
}

// IntentModelVersion changes whenever the features change; the embedded
// weights must have been trained by the same version.
const IntentModelVersion = 1

// Training settings (chosen on the Dev part of the intent set).
const (
	intentEpochs = 400
	intentRate   = 0.5
	intentL2     = 0.003
	// The hashed words and pairs are many and each seen a few times: they
	// are held back harder, so the cues carry what generalises.
	intentL2Hashed = 0.03
)

type intentModel struct {
	version int
	dataSHA string
	rows    int
	bias    [numIntents]float32
	w       []float32 // intentFeatureDim × numIntents, row-major
}

func sigmoid(z float64) float64 {
	if z < -30 {
		return 0
	}
	return 1 / (1 + math.Exp(-z))
}

// parseIntentModel reads the text form written by writeIntentModel.
func parseIntentModel(b []byte) (*intentModel, error) {
	m := &intentModel{w: make([]float32, intentFeatureDim*numIntents)}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		t := sc.Text()
		if t == "" || t[0] == '#' {
			continue
		}
		f := strings.Fields(t)
		var err error
		switch f[0] {
		case "version":
			m.version, err = strconv.Atoi(f[1])
		case "data_sha256":
			m.dataSHA = f[1]
		case "rows":
			m.rows, err = strconv.Atoi(f[1])
		case "dim":
			var d int
			if d, err = strconv.Atoi(f[1]); err == nil && d != intentFeatureDim {
				err = fmt.Errorf("dim %d, this build has %d", d, intentFeatureDim)
			}
		case "intents":
			if strings.Join(f[1:], " ") != strings.Join(intentNames[:], " ") {
				err = fmt.Errorf("intents %v, this build has %v", f[1:], intentNames)
			}
		case "bias":
			err = parseWeights(f[1:], m.bias[:])
		default:
			var i int
			if i, err = strconv.Atoi(f[0]); err == nil {
				if i < 0 || i >= intentFeatureDim {
					err = fmt.Errorf("feature %d out of range", i)
				} else {
					err = parseWeights(f[1:], m.w[i*numIntents:(i+1)*numIntents])
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("intent model line %d: %w", line, err)
		}
	}
	if m.version != IntentModelVersion {
		return nil, fmt.Errorf("intent model version %d, this build wants %d (run go run ./enrich/train/intent)", m.version, IntentModelVersion)
	}
	return m, nil
}

func parseWeights(f []string, out []float32) error {
	if len(f) != len(out) {
		return fmt.Errorf("%d weights, want %d", len(f), len(out))
	}
	for k, s := range f {
		v, err := strconv.ParseFloat(s, 32)
		if err != nil {
			return err
		}
		out[k] = float32(v)
	}
	return nil
}

// writeIntentModel writes the model's text form: a header, the biases, and
// one line per feature with any non-zero weight.
func writeIntentModel(m *intentModel) []byte {
	var b bytes.Buffer
	b.WriteString("# earshot intent model: one logistic regression per intent over lexicon cues, post shape and hashed\n")
	b.WriteString("# words and word pairs. Written by `go run ./enrich/train/intent`; do not edit.\n")
	fmt.Fprintf(&b, "version %d\ndata_sha256 %s\nrows %d\ndim %d\nintents %s\n", m.version, m.dataSHA, m.rows, intentFeatureDim, strings.Join(intentNames[:], " "))
	b.WriteString("bias")
	for _, v := range m.bias {
		b.WriteString(" " + strconv.FormatFloat(float64(v), 'g', -1, 32))
	}
	b.WriteByte('\n')
	for i := range intentFeatureDim {
		row := m.w[i*numIntents : (i+1)*numIntents]
		nz := false
		for _, v := range row {
			nz = nz || v != 0
		}
		if !nz {
			continue
		}
		b.WriteString(strconv.Itoa(i))
		for _, v := range row {
			b.WriteString(" " + strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// IntentRow is one labelled post of an intent file: lang TAB labels TAB
// text, labels comma-separated intents or "other" (the complaints set's
// "not" is no intent).
type IntentRow struct {
	Lang, Text string
	Gold       [numIntents]bool
}

// ParseIntentRows reads lang TAB labels TAB text lines.
func ParseIntentRows(data []byte) ([]IntentRow, error) {
	var rows []IntentRow
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		f := strings.SplitN(sc.Text(), "\t", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: want lang TAB labels TAB text", line)
		}
		r := IntentRow{Lang: f[0], Text: f[2]}
		for l := range strings.SplitSeq(f[1], ",") {
			switch l = strings.TrimSpace(l); l {
			case intentOther, "not", "":
				continue
			}
			k := intentIndex(l)
			if k < 0 {
				return nil, fmt.Errorf("line %d: unknown intent %q", line, l)
			}
			r.Gold[k] = true
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return rows, nil
}

func intentIndex(name string) int {
	for k, n := range intentNames {
		if n == name {
			return k
		}
	}
	return -1
}

// IntentTrainOptions select an alternative model for comparison.
type IntentTrainOptions struct {
	// NoNgrams drops the hashed words and word pairs: cues and shape only.
	NoNgrams bool
}

// TrainIntentModel fits the intent model on the Train part (datasplit) of
// data, an intent file, and returns the model's text form and a report of
// its figures on the Dev part. Same data, same bytes: rows are visited in
// file order, and products are rounded before they are summed so that no
// platform fuses them differently.
func TrainIntentModel(data []byte, opt IntentTrainOptions) ([]byte, string, error) {
	rows, err := ParseIntentRows(data)
	if err != nil {
		return nil, "", fmt.Errorf("intent data: %w", err)
	}
	sum := sha256.Sum256(data)
	im := newIntentMatcher(&intentModel{})
	type ex struct {
		feats []int32
		gold  [numIntents]bool
	}
	var train, dev []ex
	for _, r := range rows {
		var f intentFeats
		im.features(r.Text, intentWords(r.Text, nil), &f)
		fs := f.idx[:f.n]
		if opt.NoNgrams {
			fs = slices.DeleteFunc(slices.Clone(fs), func(i int32) bool { return i >= numDense })
		}
		e := ex{feats: append([]int32(nil), fs...), gold: r.Gold}
		switch datasplit.Of(r.Text) {
		case datasplit.Train:
			train = append(train, e)
		case datasplit.Dev:
			dev = append(dev, e)
		}
	}
	if len(train) == 0 {
		return nil, "", fmt.Errorf("intent data: no training rows")
	}
	// Full-batch gradient descent on the mean log loss plus L2.
	w := make([]float64, intentFeatureDim*numIntents)
	var bias [numIntents]float64
	grad := make([]float64, len(w))
	used := map[int32]bool{}
	for _, e := range train {
		for _, i := range e.feats {
			used[i] = true
		}
	}
	var usedIdx []int32
	for i := range int32(intentFeatureDim) {
		if used[i] {
			usedIdx = append(usedIdx, i)
		}
	}
	n := float64(len(train))
	// Rare intents (crisis, job: a few dozen posts) weigh their positives
	// up, by the square root of their rarity, so that they are found at all.
	var posW [numIntents]float64
	for k := range numIntents {
		pos := 0
		for _, e := range train {
			if e.gold[k] {
				pos++
			}
		}
		posW[k] = max(1, math.Sqrt(float64(len(train)-pos)/float64(max(pos, 1))))
	}
	for range intentEpochs {
		clear(grad)
		var gb [numIntents]float64
		for _, e := range train {
			var z [numIntents]float64
			z = bias
			for _, i := range e.feats {
				for k := range numIntents {
					z[k] += w[int(i)*numIntents+k]
				}
			}
			for k := range numIntents {
				y := 0.0
				if e.gold[k] {
					y = 1
				}
				d := sigmoid(z[k]) - y
				if e.gold[k] {
					d *= posW[k]
				}
				gb[k] += d
				for _, i := range e.feats {
					grad[int(i)*numIntents+k] += d
				}
			}
		}
		for k := range numIntents {
			bias[k] -= intentRate * gb[k] / n
		}
		for _, i := range usedIdx {
			for k := range numIntents {
				j := int(i)*numIntents + k
				l2 := intentL2
				if i >= numDense {
					l2 = intentL2Hashed
				}
				w[j] -= float64(intentRate * (grad[j]/n + float64(l2*w[j])))
			}
		}
	}
	m := &intentModel{version: IntentModelVersion, dataSHA: hex.EncodeToString(sum[:]), rows: len(train), w: make([]float32, len(w))}
	for k := range numIntents {
		m.bias[k] = float32(bias[k])
	}
	for j, v := range w {
		if math.Abs(v) >= 1e-4 {
			m.w[j] = float32(v)
		}
	}
	out := writeIntentModel(m)
	// The Dev report uses the model as it will be loaded.
	lm, err := parseIntentModel(out)
	if err != nil {
		return nil, "", err
	}
	var rep strings.Builder
	fmt.Fprintf(&rep, "intent: %d rows, %d train, %d dev; data sha256 %s\n", len(rows), len(train), len(dev), m.dataSHA[:16])
	fmt.Fprintf(&rep, "dev (threshold 0.5):\n")
	for k, name := range intentNames {
		var tp, fp, fn int
		for _, e := range dev {
			var f intentFeats
			for _, i := range e.feats {
				f.add(int(i))
			}
			got := lm.probs(&f)[k] >= 0.5
			switch {
			case got && e.gold[k]:
				tp++
			case got:
				fp++
			case e.gold[k]:
				fn++
			}
		}
		fmt.Fprintf(&rep, "  %-9s support %3d  P %.2f  R %.2f\n", name, tp+fn, ratio(tp, tp+fp), ratio(tp, tp+fn))
	}
	return out, rep.String(), nil
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}
