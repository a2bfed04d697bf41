// Command langid trains earshot's language identifier from the tweet sets
// and the Tatoeba sentences in the shared data folder, and writes the model
// the enrich package embeds. Same data, same bytes out.
//
//	go run ./enrich/train/langid -data /work/shared/data -out enrich/lexicon/langid_model.bin.gz
//
// Every row is split with internal/datasplit (the Tatoeba rows by
// enrich.LangIDTestRow first, so its held-out fifth stays comparable with
// earlier figures): weights are fitted on Train, the model kind, the
// calibration temperature and the close-pair threshold are chosen on Dev,
// and Test is never read here (`earshot eval language --split test` and
// bench/langid report on it).
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/enrich"
	"github.com/earshot-dev/earshot/enrich/internal/lid"
	"github.com/earshot-dev/earshot/internal/datasplit"
)

// tatoebaLangs are the Tatoeba languages the detector learns: living
// languages with enough rows; constructed languages other than Esperanto,
// historical ones and tiny dialect sets are left out so that they do not
// steal posts from their big neighbours. arz and arq (Egyptian, Algerian
// Arabic) are learnt as ar, as the Arabic tweets are labelled.
const tatoebaLangs = `af am ar arq arz az be ber bg bn br bs ca ceb cs cy da de el en eo es et eu fa fi fo fr ga gd gl he hi hr hu hy
id is it ja jv ka kab kk km ko ku kw la lt lv mhr mk ml mn mr ms nb nds nl nn oc pl pt ro ru sk sl sq sr sv sw ta te th tk tl tr
tt ug uk ur uz vi yi yue zh`

// tweetSets are lang TAB label TAB text files under -data; cap bounds the
// training rows taken per language from one set (the SemEval pool alone
// would be 33,000 English rows).
var tweetSets = []struct {
	path string
	cap  int
}{
	{"sentiment/mozetic_posneg_dev.tsv", 0},
	{"sentiment/umsab_train.tsv", 0},
	{"sentiment/umsab_val.tsv", 0},
	{"sentiment/politics_el_es_en_dev.tsv", 0},
	{"sentiment/semeval2017_en_train.tsv", 3000},
	{"sentiment/afrisenti_pt_dev.tsv", 1500},
}

// Pruning: a weight is kept when it differs from its bucket's median by at
// least nbMinAbs (naive Bayes, in nats), and at most nbTopK per bucket.
// Fewer weights, fewer additions per feature: this is what keeps a post
// under 10 µs.
const (
	nbMinAbs = 0.3
	nbTopK   = 24
)

const tatoebaPath = "langid/tatoeba_laser_112.tsv"

type row struct {
	lang, text, set string
	tweet           bool
	feats           []uint32 // bucket indexes
}

// label maps a data set's label to the model's class. A language written
// in two scripts is two classes (hi and hi-Latn, sr and sr-Cyrl, el and
// el-Latn), so that neither script's n-grams thin out the other's in naive
// Bayes; the detector reports the language (the part before "-").
func label(l string) string {
	switch l {
	case "arz", "arq":
		return "ar"
	}
	return l
}

func main() {
	data := flag.String("data", "../shared/data", "the shared data folder")
	out := flag.String("out", "enrich/lexicon/langid_model.bin.gz", "model file to write")
	bits := flag.Int("bits", 19, "log2 of the hash buckets")
	epochs := flag.Int("epochs", 3, "logistic regression: passes over the training rows")
	flag.Parse()
	t0 := time.Now()
	hash := sha256.New()
	fmt.Fprintf(hash, "lid v%d bits=%d epochs=%d maxn=%d maxfeat=%d prune=%v/%d\n", lid.Version, *bits, *epochs, lid.MaxN, lid.MaxFeatures, nbMinAbs, nbTopK)
	var train, dev []row
	seen := map[string]bool{}
	add := func(r row, part datasplit.Part) {
		if seen[r.text] {
			return
		}
		seen[r.text] = true
		switch part {
		case datasplit.Train:
			train = append(train, r)
		case datasplit.Dev:
			dev = append(dev, r)
		}
	}
	keep := map[string]bool{}
	for _, l := range strings.Fields(tatoebaLangs) {
		keep[l] = true
	}
	for _, s := range tweetSets {
		taken := map[string]int{}
		err := readTSV(filepath.Join(*data, s.path), hash, func(f []string) {
			if len(f) != 3 {
				return
			}
			part := datasplit.Of(f[2])
			l := label(f[0])
			if part == datasplit.Train && s.cap > 0 {
				if taken[l] >= s.cap {
					return
				}
				taken[l]++
			}
			add(row{lang: l, text: f[2], set: filepath.Base(s.path), tweet: true}, part)
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	err := readTSV(filepath.Join(*data, tatoebaPath), hash, func(f []string) {
		if len(f) != 2 || !keep[f[0]] || enrich.LangIDTestRow(f[1]) {
			return
		}
		add(row{lang: label(f[0]), text: f[1], set: "tatoeba"}, datasplit.Of(f[1]))
	})
	if err != nil {
		log.Fatal(err)
	}
	// Greeklish: Greek written in Latin letters is common on social media
	// and in no set, so every Greek training row is also learnt
	// transliterated (and likewise for Dev, to measure it).
	// Serbian is written in both alphabets, but the Serbian tweets are all
	// Latin and only a third of Tatoeba's Serbian is Cyrillic: Latin rows
	// are also learnt in Cyrillic (a one-to-one mapping), so that Cyrillic
	// Serbian is not taken for Macedonian.
	for _, rs := range []*[]row{&train, &dev} {
		n := len(*rs)
		for i := range n {
			r := (*rs)[i]
			switch {
			case r.lang == "el":
				*rs = append(*rs, row{lang: "el-Latn", text: greeklish(r.text), set: "greeklish", tweet: r.tweet})
			case r.lang == "sr" && !hasCyrillic(r.text):
				*rs = append(*rs, row{lang: "sr-Cyrl", text: serbianCyrillic(r.text), set: "sr-cyrillic", tweet: r.tweet})
			case r.lang == "sr":
				(*rs)[i].lang = "sr-Cyrl"
			}
		}
	}
	langIdx := map[string]int{}
	var langs []string
	for _, r := range train {
		if _, ok := langIdx[r.lang]; !ok {
			langIdx[r.lang] = 0
			langs = append(langs, r.lang)
		}
	}
	sort.Strings(langs)
	for i, l := range langs {
		langIdx[l] = i
	}
	nb := 1 << *bits
	probe := &lid.Model{Bits: uint8(*bits)}
	var fb [lid.MaxFeatures]uint32
	for _, rs := range [][]row{train, dev} {
		for i := range rs {
			buf := fb[:lid.Features(rs[i].text, &fb)]
			fs := make([]uint32, len(buf))
			for j, h := range buf {
				fs[j] = probe.Bucket(h)
			}
			rs[i].feats = fs
		}
	}
	var dataHash [32]byte
	copy(dataHash[:], hash.Sum(nil))
	fmt.Printf("%d languages; train %d rows, dev %d rows; %d buckets; features %v\n", len(langs), len(train), len(dev), nb, time.Since(t0).Round(time.Millisecond))

	y := func(r row) int { return langIdx[r.lang] }
	for l := range langIdx {
		if _, ok := langIdx[base(l)]; !ok {
			log.Fatalf("class %s without %s", l, base(l))
		}
	}
	nbm := trainNB(train, langs, y, *bits)
	lrm := trainLR(train, langs, y, *bits, *epochs)
	type cand struct {
		name string
		m    *lid.Model
	}
	best, bestAcc := cand{}, -1.0
	for _, c := range []cand{{"naive Bayes, hashed char 1-4 grams + words", nbm}, {"logistic regression, hashed char 1-4 grams + words", lrm}} {
		t, ls := fitTemperature(c.m, dev, langIdx)
		scaleModel(c.m, 1/t)
		c.m.LenScale = ls
		tunePriors(c.m, dev, langIdx)
		acc, macro := evaluate(c.m, dev, langIdx, true)
		accT, macroT := evaluate(c.m, dev, langIdx, false)
		fmt.Printf("dev  %-52s tweets %.2f%% (macro over languages %.2f%%)  tatoeba %.2f%% (macro %.2f%%)  temperature %.2f, length scale %.2f  postings %d\n",
			c.name, 100*acc, 100*macro, 100*accT, 100*macroT, t, ls, len(c.m.Lang))
		perLang(c.m, dev, langIdx)
		if macro > bestAcc {
			best, bestAcc = c, macro
		}
	}
	m := best.m
	m.DataHash = dataHash
	m.Meta = fmt.Sprintf("model: %s\nlanguages: %d\ntrain rows: %d\ndev macro tweet accuracy: %.4f\n", best.name, len(langs), len(train), bestAcc)
	var b bytes.Buffer
	if err := m.Encode(&b); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	sum := sha256.Sum256(b.Bytes())
	rec := fmt.Sprintf("# written by enrich/train/langid; checked by TestLangModelEmbedded\nversion: %d\ndata sha256: %x\nmodel sha256: %x\n%s", lid.Version, dataHash, sum, m.Meta)
	if err := os.WriteFile(strings.TrimSuffix(*out, ".bin.gz")+".txt", []byte(rec), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("chose %s; wrote %s: %d bytes, %d postings; data sha256 %x; %v\n", best.name, *out, b.Len(), len(m.Lang), dataHash, time.Since(t0).Round(time.Millisecond))
}

func readTSV(path string, hash interface{ Write([]byte) (int, error) }, fn func([]string)) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	hash.Write([]byte(filepath.Base(path)))
	hash.Write(raw)
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) == 3 && len(f[0]) > 0 && len(f[2]) > 0 || len(f) == 2 {
			fn(f)
		}
	}
	return sc.Err()
}

// trainNB fits a multinomial naive Bayes model: weight(bucket, lang) =
// log p(bucket|lang) - log p(unseen|lang), additive smoothing.
func trainNB(train []row, langs []string, y func(row) int, bits int) *lid.Model {
	nb, L := 1<<bits, len(langs)
	counts := make([]float32, nb*L)
	tot := make([]float64, L)
	prior := make([]float64, L)
	for _, r := range train {
		l := y(r)
		prior[l]++
		for _, b := range r.feats {
			counts[int(b)*L+l]++
			tot[l]++
		}
	}
	const alpha = 0.1
	m := &lid.Model{Langs: langs, Bias: make([]float32, L), PerFeat: make([]float32, L), Prior: make([]float32, L), Bits: uint8(bits)}
	floor := make([]float64, L)
	for l := range L {
		den := tot[l] + alpha*float64(nb)
		floor[l] = math.Log(alpha / den)
		m.PerFeat[l] = float32(floor[l])
		m.Bias[l] = float32(math.Log(prior[l] / float64(len(train))))
	}
	w := make([]float32, nb*L)
	for b := range nb {
		for l := range L {
			if c := counts[b*L+l]; c >= 2 { // single sightings stay at the floor: most are noise
				w[b*L+l] = float32(math.Log((float64(c)+alpha)/(tot[l]+alpha*float64(nb))) - floor[l])
			}
		}
	}
	sparsify(m, w, nbMinAbs, nbTopK)
	return m
}

// trainLR fits a multinomial logistic regression by SGD (deterministic
// order), then removes each bucket's median weight (softmax does not
// change) and drops the small ones.
func trainLR(train []row, langs []string, y func(row) int, bits, epochs int) *lid.Model {
	nb, L := 1<<bits, len(langs)
	w := make([]float32, nb*L)
	bias := make([]float32, L)
	order := make([]int, len(train))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(1, 2))
	z := make([]float32, L)
	for ep := range epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		lr := float32(0.2 / (1 + float64(ep)))
		for _, i := range order {
			r := train[i]
			if len(r.feats) == 0 {
				continue
			}
			copy(z, bias)
			for _, b := range r.feats {
				row := w[int(b)*L : int(b)*L+L]
				for l := range z {
					z[l] += row[l]
				}
			}
			softmax(z)
			z[y(r)] -= 1
			// per-feature step shrinks with the post's length, so long
			// posts do not take giant steps
			step := lr / float32(math.Sqrt(float64(len(r.feats))))
			for l := range z {
				bias[l] -= 0.1 * lr * z[l]
			}
			for _, b := range r.feats {
				row := w[int(b)*L : int(b)*L+L]
				for l := range z {
					row[l] -= step * z[l]
				}
			}
		}
	}
	m := &lid.Model{Langs: langs, Bias: bias, PerFeat: make([]float32, L), Prior: make([]float32, L), Bits: uint8(bits)}
	sparsify(m, w, 0.02, nbTopK)
	return m
}

// sparsify subtracts each bucket's median weight over all languages (a
// feature then shifts every logit by the same amount, which softmax
// ignores) and keeps the weights with |w| ≥ minAbs, quantised to int8:
// a common n-gram keeps only the languages where it is unusually common
// or rare, which is what tells them apart, and costs few additions.
func sparsify(m *lid.Model, w []float32, minAbs float32, topK int) {
	L := len(m.Langs)
	tmp := make([]float32, L)
	for b := 0; b < len(w)/L; b++ {
		row := w[b*L : b*L+L]
		copy(tmp, row)
		sort.Slice(tmp, func(i, j int) bool { return tmp[i] < tmp[j] })
		med := tmp[L/2]
		for l := range row {
			row[l] -= med
		}
		// at most topK languages per bucket: the largest deviations
		for l := range row {
			tmp[l] = float32(math.Abs(float64(row[l])))
		}
		sort.Slice(tmp, func(i, j int) bool { return tmp[i] > tmp[j] })
		if cut := tmp[min(topK, L)-1]; cut > minAbs {
			for l := range row {
				if float32(math.Abs(float64(row[l]))) < cut {
					row[l] = 0
				}
			}
		}
	}
	var abs []float32
	for _, v := range w {
		if v >= minAbs || v <= -minAbs {
			abs = append(abs, float32(math.Abs(float64(v))))
		}
	}
	sort.Slice(abs, func(i, j int) bool { return abs[i] < abs[j] })
	top := float32(1)
	if len(abs) > 0 {
		top = abs[len(abs)*9995/10000]
	}
	m.Scale = top / 127
	nb := len(w) / L
	m.Offsets = make([]uint32, nb+1)
	for b := range nb {
		for l := range L {
			v := w[b*L+l]
			q := math.Round(float64(v / m.Scale))
			if v > -minAbs && v < minAbs || q == 0 {
				continue
			}
			m.Lang = append(m.Lang, uint8(l))
			m.Weight = append(m.Weight, int8(max(-127, min(127, q))))
		}
		m.Offsets[b+1] = uint32(len(m.Lang))
	}
}

func scaleModel(m *lid.Model, k float32) {
	for i := range m.Bias {
		m.Bias[i] *= k
		m.PerFeat[i] *= k
	}
	m.Scale *= k
}

func softmax(z []float32) {
	mx := z[0]
	for _, v := range z {
		mx = max(mx, v)
	}
	var s float32
	for i, v := range z {
		e := float32(math.Exp(float64(v - mx)))
		z[i] = e
		s += e
	}
	for i := range z {
		z[i] /= s
	}
}

// logits computes the model's logits for pre-bucketed features.
func logits(m *lid.Model, feats []uint32, z []float32) {
	acc := make([]int32, len(m.Langs))
	for _, b := range feats {
		for p := m.Offsets[b]; p < m.Offsets[b+1]; p++ {
			acc[m.Lang[p]] += int32(m.Weight[p])
		}
	}
	z64 := make([]float64, len(m.Langs))
	m.Logits(acc, len(feats), z64)
	for l := range z {
		z[l] = float32(z64[l])
	}
}

// fitTemperature picks the temperature and length scale with the least
// negative log-likelihood on Dev (priors at zero while fitting).
func fitTemperature(m *lid.Model, dev []row, idx map[string]int) (float32, float32) {
	var all [][]float32
	var gold, lens []int
	keepLS := m.LenScale
	m.LenScale = 0
	for _, r := range dev {
		l, ok := idx[r.lang]
		if !ok || len(r.feats) == 0 {
			continue
		}
		z := make([]float32, len(m.Langs))
		logits(m, r.feats, z)
		all = append(all, z)
		gold = append(gold, l)
		lens = append(lens, len(r.feats))
	}
	m.LenScale = keepLS
	best, bestT, bestC := math.Inf(1), float32(1), float32(0)
	z := make([]float32, len(m.Langs))
	for _, c := range []float32{0, 0.25, 0.5, 1, 2, 4, 8} {
		for t := float32(0.1); t < 20; t *= 1.15 {
			var nll float64
			for i, zz := range all {
				d := t * (1 + c*float32(lens[i])/100)
				for j := range z {
					z[j] = zz[j] / d
				}
				softmax(z)
				nll -= math.Log(max(float64(z[gold[i]]), 1e-9))
			}
			if nll < best {
				best, bestT, bestC = nll, t, c
			}
		}
	}
	return bestT, bestC
}

// tunePriors chooses per-language logit offsets on Dev that raise the mean
// of the tweet and Tatoeba macro accuracies (exact labels: counting BCMS as
// one here would let it drop one of the three), two coordinate passes over
// a small grid.
func tunePriors(m *lid.Model, dev []row, idx map[string]int) {
	L := len(m.Langs)
	var zs [][]float32
	var gold []int
	var tweet []bool
	for _, r := range dev {
		l, ok := idx[r.lang]
		if !ok || len(r.feats) == 0 || r.set == "greeklish" || r.set == "sr-cyrillic" {
			continue
		}
		z := make([]float32, L)
		logits(m, r.feats, z)
		zs = append(zs, z)
		gold = append(gold, l)
		tweet = append(tweet, r.tweet)
	}
	group := make([]int, L)
	byBase := map[string]int{}
	for l, name := range m.Langs {
		if _, ok := byBase[base(name)]; !ok {
			byBase[base(name)] = l
		}
		group[l] = byBase[base(name)]
	}
	prior := make([]float32, L)
	score := func() float64 {
		var ok, n [2][]float64
		for k := range 2 {
			ok[k], n[k] = make([]float64, L), make([]float64, L)
		}
		for i, z := range zs {
			b := 0
			for l := range z {
				if z[l]+prior[l] > z[b]+prior[b] {
					b = l
				}
			}
			k := 0
			if tweet[i] {
				k = 1
			}
			n[k][gold[i]]++
			if group[b] == group[gold[i]] {
				ok[k][gold[i]]++
			}
		}
		var s float64
		for k := range 2 {
			var sum, cnt float64
			for l := range L {
				if n[k][l] > 0 {
					sum += ok[k][l] / n[k][l]
					cnt++
				}
			}
			s += sum / max(cnt, 1)
		}
		return s / 2
	}
	cur := score()
	for range 2 {
		for l := range L {
			keep := prior[l]
			bestV, bestS := keep, cur
			for _, d := range []float32{-2, -1, -0.5, 0.5, 1, 2} {
				prior[l] = keep + d
				if s := score(); s > bestS+0.0005 {
					bestV, bestS = prior[l], s
				}
			}
			prior[l], cur = bestV, bestS
		}
	}
	copy(m.Prior, prior)
}

// evaluate returns accuracy over rows and the mean of per-language
// accuracies on Dev's tweets (tweets) or Tatoeba sentences (!tweets).
func evaluate(m *lid.Model, dev []row, idx map[string]int, tweets bool) (float64, float64) {
	z := make([]float32, len(m.Langs))
	ok, n := 0, 0
	per := map[string][2]int{}
	for _, r := range dev {
		if r.tweet != tweets || r.set == "greeklish" || r.set == "sr-cyrillic" {
			continue
		}
		got := "und"
		if len(r.feats) > 0 {
			logits(m, r.feats, z)
			got = base(m.Langs[argmax(z)])
		}
		v := per[base(r.lang)]
		v[0]++
		n++
		if got == base(r.lang) {
			v[1]++
			ok++
		}
		per[base(r.lang)] = v
	}
	var macro float64
	for _, v := range per {
		macro += float64(v[1]) / float64(v[0])
	}
	return float64(ok) / float64(max(n, 1)), macro / float64(max(len(per), 1))
}

func perLang(m *lid.Model, dev []row, idx map[string]int) {
	z := make([]float32, len(m.Langs))
	per := map[string]map[string]int{}
	for _, r := range dev {
		if !r.tweet && r.set != "greeklish" && r.set != "sr-cyrillic" {
			continue
		}
		got := "und"
		if len(r.feats) > 0 {
			logits(m, r.feats, z)
			got = base(m.Langs[argmax(z)])
		}
		k := r.lang
		if r.set == "greeklish" {
			k = "el-Latn"
		} else if r.set == "sr-cyrillic" {
			k = "sr-Cyrl"
		}
		if per[k] == nil {
			per[k] = map[string]int{}
		}
		per[k][got]++
	}
	var ks []string
	for k := range per {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		tot := 0
		var conf []string
		for g, n := range per[k] {
			tot += n
			if g != base(k) {
				conf = append(conf, fmt.Sprintf("%s:%d", g, n))
			}
		}
		sort.Strings(conf)
		okN := per[k][base(k)]
		fmt.Printf("  dev tweets %-8s %5d rows  %.1f%%  %s\n", k, tot, 100*float64(okN)/float64(tot), strings.Join(conf, " "))
	}
}

func base(l string) string {
	if i := strings.IndexByte(l, '-'); i > 0 {
		return l[:i]
	}
	return l
}

func hasCyrillic(s string) bool {
	for _, r := range s {
		if r >= 0x400 && r <= 0x4ff {
			return true
		}
	}
	return false
}

var serbianCyr = strings.NewReplacer(
	"lj", "љ", "nj", "њ", "dž", "џ", "Lj", "Љ", "Nj", "Њ", "Dž", "Џ", "LJ", "Љ", "NJ", "Њ",
	"a", "а", "b", "б", "v", "в", "g", "г", "d", "д", "đ", "ђ", "e", "е", "ž", "ж", "z", "з", "i", "и", "j", "ј",
	"k", "к", "l", "л", "m", "м", "n", "н", "o", "о", "p", "п", "r", "р", "s", "с", "t", "т", "ć", "ћ", "u", "у",
	"f", "ф", "h", "х", "c", "ц", "č", "ч", "š", "ш",
	"A", "А", "B", "Б", "V", "В", "G", "Г", "D", "Д", "Đ", "Ђ", "E", "Е", "Ž", "Ж", "Z", "З", "I", "И", "J", "Ј",
	"K", "К", "L", "Л", "M", "М", "N", "Н", "O", "О", "P", "П", "R", "Р", "S", "С", "T", "Т", "Ć", "Ћ", "U", "У",
	"F", "Ф", "H", "Х", "C", "Ц", "Č", "Ч", "Š", "Ш",
)

// serbianCyrillic writes Latin-script Serbian in Cyrillic, leaving URLs,
// mentions and hashtags alone.
func serbianCyrillic(s string) string {
	f := strings.Fields(s)
	for i, w := range f {
		if !strings.HasPrefix(w, "@") && !strings.HasPrefix(w, "#") && !strings.Contains(w, "://") {
			f[i] = serbianCyr.Replace(w)
		}
	}
	return strings.Join(f, " ")
}

func argmax(z []float32) int {
	b := 0
	for i, v := range z {
		if v > z[b] {
			b = i
		}
	}
	return b
}
