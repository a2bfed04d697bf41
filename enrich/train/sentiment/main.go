// Command sentiment builds the enrich stage's learned models — sentiment
// (multilingual, three classes; and English, for posts detected as
// English), emotion and irony (English) — from the
// labelled sets in ../shared/data, deterministically (the same data give
// the same bytes), writes them where the binary embeds them and prints
// figures on the held-out parts.
//
//	go run ./enrich/train/sentiment -data ../shared/data -out enrich/models
//
// Splits: every file is split with internal/datasplit; weights are fitted
// on Train, the confidence calibrated and the thresholds chosen on Dev,
// and the Test parts of politics, Mozetič and AfriSenti are left for
// reporting (`earshot eval`). The whole validation files (TweetEval,
// UMSAB val, the emotion and irony val files) are never read here.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/earshot-dev/earshot/enrich"
	"github.com/earshot-dev/earshot/internal/datasplit"
)

type row struct {
	src, lang, label, text string
	part                   datasplit.Part
	// det is the language the enrich stage gives the text (the detector's
	// answer); seen is the one training tells the model (lang, or det with
	// SENTI_LANG=detected)
	det, seen string
}

func main() {
	data := flag.String("data", "../shared/data", "the shared data folder")
	out := flag.String("out", "enrich/models", "where to write the model files")
	only := flag.String("only", "", "build only this model (sentiment, emotion, irony)")
	flag.Parse()
	if err := run(*data, *out, *only, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

var sentimentFiles = enrich.SentimentTrainFiles

func run(data, out, only string, w io.Writer) error {
	if only == "" || only == "sentiment" {
		if err := buildSentiment(data, out, w); err != nil {
			return err
		}
	}
	for _, x := range []struct{ name, file, version string }{
		{"emotion", enrich.EmotionTrainFiles[0], enrich.EmotionModelVersion},
		{"irony", enrich.IronyTrainFiles[0], enrich.IronyModelVersion},
	} {
		if only == "" || only == x.name {
			if err := buildEnglish(data, out, x.name, x.file, x.version, w); err != nil {
				return err
			}
		}
	}
	return nil
}

func readRows(data, file string) ([]row, error) {
	f, err := os.Open(filepath.Join(data, file))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []row
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for n := 1; sc.Scan(); n++ {
		p := strings.SplitN(sc.Text(), "\t", 3)
		if len(p) != 3 {
			return nil, fmt.Errorf("%s:%d: want lang TAB label TAB text", file, n)
		}
		rows = append(rows, row{src: file, lang: p[0], label: p[1], text: p[2], part: datasplit.Of(p[2])})
	}
	return rows, sc.Err()
}

// key is a (file, language) group of rows.
type key struct{ src, lang string }

var longLabel = map[string]string{"neg": "negative", "neu": "neutral", "pos": "positive"}

func buildSentiment(data, out string, w io.Writer) error {
	hash, err := enrich.DataHash(data, sentimentFiles)
	if err != nil {
		return err
	}
	val, err := readRows(data, "sentiment/tweeteval_en_val.tsv")
	if err != nil {
		return err
	}
	held := map[string]bool{}
	for _, r := range val {
		held[enrich.CleanDatasetText(r.text)] = true
	}
	var train, dev, devDet []enrich.TrainRow
	seen := map[string]bool{}
	langs := []string{}
	devRows := map[key][]row{}
	dropped := 0
	// The language the model is told in training is the data's label.
	// SENTI_LANG=detected trains with the detector's answer instead (as the
	// stream sees it: a fifth of UMSAB's romanised Hindi is detected as
	// English); on Dev it was no better (hi-Latn 0.327 against 0.345
	// through Enrich, SemEval macro-recall 0.668 against 0.670), so the
	// label stays. The abstention thresholds below are per detected
	// language, as inference looks them up.
	det, err := enrich.NewLanguageDetector()
	if err != nil {
		return err
	}
	byLabel := os.Getenv("SENTI_LANG") != "detected"
	var trainGroup []key
	groupN := map[key]int{}
	classN := map[key]int{} // rows per (file, language, label)
	for _, f := range sentimentFiles[:5] {
		rows, err := readRows(data, f)
		if err != nil {
			return err
		}
		for _, r := range rows {
			text := enrich.CleanDatasetText(r.text)
			if held[text] {
				dropped++
				continue
			}
			k := r.lang + "\x00" + text
			if seen[k] {
				continue
			}
			seen[k] = true
			r.det, _ = det.DetectLanguage(text, "")
			r.seen = r.lang
			if !byLabel {
				r.seen = r.det
			}
			tr := enrich.TrainRow{Lang: r.seen, Label: longLabel[r.label], Text: text}
			if strings.Contains(f, "mozetic") {
				tr.Allowed = []string{"negative", "positive"}
			}
			// the whole training files have no report part: their Test
			// part trains too
			report := !strings.Contains(f, "umsab_train") && !strings.Contains(f, "semeval")
			switch {
			case r.part == datasplit.Dev:
				dev = append(dev, tr)
				devDet = append(devDet, enrich.TrainRow{Lang: r.det, Label: tr.Label, Text: text, Allowed: tr.Allowed})
				devRows[key{f, r.lang}] = append(devRows[key{f, r.lang}], r)
			case r.part == datasplit.Test && report:
			default:
				// one row in seven also teaches the model without its
				// language, for posts whose language is unknown
				if fnv(text)%7 == 0 {
					tr.NoLang = true
				}
				train = append(train, tr)
				trainGroup = append(trainGroup, key{f, r.lang})
				groupN[key{f, r.lang}]++
				classN[key{f, r.lang + "\x00" + tr.Label}]++
				langs = append(langs, r.lang)
			}
		}
	}
	// Weights: each (file, language) counts about as much as a 4,000-row
	// one, within [0.3, 2], so the 47k English rows do not drown the
	// 1,300-row languages.
	wt := 4000.0
	if s := os.Getenv("SENTI_GROUPW"); s != "" {
		wt, _ = strconv.ParseFloat(s, 64)
	}
	// In the English pool, classes are weighed toward balance (within
	// [0.5, 2.5]): neutral-heavy, it otherwise teaches the model to miss
	// negatives, and macro-recall is what analysts need. Elsewhere the
	// sets' own skew is the language's prior (balancing Mozetič cost
	// accuracy against its skewed majorities on Dev).
	balance := os.Getenv("SENTI_BALANCE") != "0"
	for i := range train {
		g := trainGroup[i]
		w := 1.0
		if wt > 0 {
			w = min(2, max(0.3, math.Sqrt(wt/float64(groupN[g]))))
		}
		if balance && strings.Contains(g.src, "semeval") {
			classes := 3.0
			if len(train[i].Allowed) == 2 {
				classes = 2
			}
			c := classN[key{g.src, g.lang + "\x00" + train[i].Label}]
			w *= min(2.5, max(0.5, float64(groupN[g])/classes/float64(c)))
		}
		train[i].Weight = float32(w)
	}
	fmt.Fprintf(w, "sentiment: %d train rows, %d dev rows, %d rows dropped as TweetEval val texts\n", len(train), len(dev), dropped)
	cfg := enrich.TrainConfig{Labels: []string{"negative", "neutral", "positive"}, Bits: sentiBits(), Epochs: 6, LR: 0.01, L2: 1e-6, Seed: 14,
		CharGrams: true, NBBlend: 0.5, Version: enrich.SentimentModelVersion, DataHash: hash, Langs: langs}
	if s := os.Getenv("SENTI_CHARGRAMS"); s != "" {
		cfg.CharGrams = s == "1"
	}
	if s := os.Getenv("SENTI_EPOCHS"); s != "" {
		cfg.Epochs, _ = strconv.Atoi(s)
	}
	if s := os.Getenv("SENTI_LR"); s != "" {
		cfg.LR, _ = strconv.ParseFloat(s, 64)
	}
	if s := os.Getenv("SENTI_BLEND"); s != "" {
		cfg.NBBlend, _ = strconv.ParseFloat(s, 64)
	}
	// the translated AFINN list as features (sentiment-4; SENTI_AFINN=0
	// builds without it)
	cfg.Afinn = os.Getenv("SENTI_AFINN") != "0"
	if s := os.Getenv("SENTI_L2"); s != "" {
		cfg.L2, _ = strconv.ParseFloat(s, 64)
	}
	m, err := enrich.Train(train, dev, cfg)
	if err != nil {
		return err
	}
	// abstain thresholds: per detected language, the top probability
	// below which 5% of its Dev rows fall (SENTI_ABSTAIN=global: one
	// threshold for all, the old rule)
	perLang := os.Getenv("SENTI_ABSTAIN") != "global"
	abstain, byLang := m.SetAbstain(devDet, 0.05, perLang)
	fmt.Fprintf(w, "sentiment: temperature %.2f, abstain below %.3f; per language %s\n", m.Temperature(), abstain, byLang)
	keys := make([]key, 0, len(devRows))
	for k := range devRows {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int { return strings.Compare(a.src+a.lang, b.src+b.lang) })
	fmt.Fprintf(w, "%-40s %-5s %5s %8s %8s %8s\n", "dev part", "lang", "rows", "acc", "mrecall", "majority")
	for _, k := range keys {
		two := strings.Contains(k.src, "mozetic")
		s := score(m, devRows[k], two, abstain)
		fmt.Fprintf(w, "%-40s %-5s %5d %8.3f %8.3f %8.3f\n", k.src, k.lang, len(devRows[k]), s.acc, s.mrecall, s.majority)
	}
	if err := write(m, filepath.Join(out, "sentiment.lm.gz"), w); err != nil {
		return err
	}
	if os.Getenv("SENTI_EN") == "0" {
		return nil
	}
	return buildSentimentEN(out, train, trainGroup, classN, dev, devDet, devRows, cfg, w)
}

// buildSentimentEN builds the English model (sentiment_en.lm.gz), used on
// posts detected as English: the same features and recipe as the
// multilingual model, trained on the English rows at full weight (and the
// language-less seventh of the other rows).
// In the multilingual model the 47k English rows are weighed down to 0.3
// each so that they do not drown the small languages; on its own, English
// can be fitted fully (trainer's Dev, SemEval pool: macro-recall 0.694
// against 0.682). Calibrated on the English Dev rows; it abstains on the
// 3% of English Dev rows it is least sure of, about what English
// abstained on under the multilingual model, so that abstention does not
// move.
func buildSentimentEN(out string, train []enrich.TrainRow, group []key, classN map[key]int, dev, devDet []enrich.TrainRow,
	devRows map[key][]row, cfg enrich.TrainConfig, w io.Writer) error {
	groupN := map[key]int{}
	for i, r := range train {
		if r.Lang == "en" {
			groupN[group[i]]++
		}
	}
	var tr, dv, dd []enrich.TrainRow
	for i, r := range train {
		if r.Lang != "en" {
			// the other languages' rows shown without their language
			// (one in seven) stay, at their weights: a code-mixed post
			// detected as English ("Acme est génial mais the battery is
			// awful") still reads "mais" as the contrast it is
			if r.NoLang {
				tr = append(tr, r)
			}
			continue
		}
		r.Weight = 1
		if g := group[i]; strings.Contains(g.src, "semeval") {
			c := classN[key{g.src, g.lang + "\x00" + r.Label}]
			r.Weight = float32(min(2.5, max(0.5, float64(groupN[g])/3/float64(c))))
		}
		tr = append(tr, r)
	}
	for _, r := range dev {
		if r.Lang == "en" {
			dv = append(dv, r)
		}
	}
	for _, r := range devDet {
		if r.Lang == "en" {
			dd = append(dd, r)
		}
	}
	cfg.Version, cfg.Langs = enrich.SentimentENModelVersion, []string{"en"}
	cfg.Afinn = false // English has VADER (with AFINN too: SemEval Dev macro-recall 0.695, unchanged)
	m, err := enrich.Train(tr, dv, cfg)
	if err != nil {
		return err
	}
	abstain, _ := m.SetAbstain(dd, 0.03, false)
	fmt.Fprintf(w, "sentiment_en: %d train rows, %d dev rows; temperature %.2f, abstain below %.3f\n", len(tr), len(dv), m.Temperature(), abstain)
	for _, k := range slices.SortedFunc(maps.Keys(devRows), func(a, b key) int { return strings.Compare(a.src+a.lang, b.src+b.lang) }) {
		if k.lang != "en" {
			continue
		}
		s := score(m, devRows[k], strings.Contains(k.src, "mozetic"), abstain)
		fmt.Fprintf(w, "%-40s %-5s %5d %8.3f %8.3f %8.3f\n", k.src, k.lang, len(devRows[k]), s.acc, s.mrecall, s.majority)
	}
	return write(m, filepath.Join(out, "sentiment_en.lm.gz"), w)
}

type figures struct{ acc, mrecall, majority float64 }

// score is accuracy, macro-recall and the majority baseline on rows; on
// two-class rows, over the decided ones (neither neutral nor abstained).
func score(m *enrich.LearnedModel, rows []row, two bool, abstain float64) figures {
	labels := m.Labels()
	gold := map[string]int{}
	hit := map[string]int{}
	n, ok := 0, 0
	for _, r := range rows {
		p := m.Predict(enrich.CleanDatasetText(r.text), r.seen)
		best := 0
		for c := range p {
			if p[c] > p[best] {
				best = c
			}
		}
		got := labels[best]
		if two && (got == "neutral" || p[best] < abstain) {
			continue
		}
		g := longLabel[r.label]
		if g == "" {
			g = r.label
		}
		n++
		gold[g]++
		if got == g {
			ok++
			hit[g]++
		}
	}
	if n == 0 {
		return figures{}
	}
	var f figures
	f.acc = float64(ok) / float64(n)
	mx := 0
	for g, c := range gold {
		f.mrecall += float64(hit[g]) / float64(c) / float64(len(gold))
		mx = max(mx, c)
	}
	f.majority = float64(mx) / float64(n)
	return f
}

func buildEnglish(data, out, name, file, version string, w io.Writer) error {
	hash, err := enrich.DataHash(data, []string{file})
	if err != nil {
		return err
	}
	rows, err := readRows(data, file)
	if err != nil {
		return err
	}
	var train, dev []enrich.TrainRow
	var devRows []row
	labelSet := map[string]bool{}
	for _, r := range rows {
		labelSet[r.label] = true
		tr := enrich.TrainRow{Lang: r.lang, Label: r.label, Text: enrich.CleanDatasetText(r.text)}
		if r.part == datasplit.Dev {
			dev = append(dev, tr)
			devRows = append(devRows, r)
		} else {
			train = append(train, tr)
		}
	}
	labels := make([]string, 0, len(labelSet))
	for l := range labelSet {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	// the sentiment model's feature configuration (character 3-grams):
	// the stage makes a post's features once for all three
	m, err := enrich.Train(train, dev, enrich.TrainConfig{Labels: labels, Bits: 18, Epochs: 8, LR: 0.03, L2: 1e-6, Seed: 14, CharGrams: true,
		Version: version, DataHash: hash, Langs: []string{"en"}})
	if err != nil {
		return err
	}
	s := score(m, devRows, false, 0)
	fmt.Fprintf(w, "%s: %d train, %d dev rows; dev accuracy %.3f, macro-recall %.3f, majority %.3f; temperature %.2f\n",
		name, len(train), len(dev), s.acc, s.mrecall, s.majority, m.Temperature())
	return write(m, filepath.Join(out, name+".lm.gz"), w)
}

func write(m *enrich.LearnedModel, path string, w io.Writer) error {
	var b bytes.Buffer
	if err := m.Encode(&b); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s (%d bytes, sha256 %x)\n", path, b.Len(), sha256.Sum256(b.Bytes()))
	return nil
}

func fnv(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// sentiBits is the sentiment model's log2 feature space (SENTI_BITS to try
// another).
func sentiBits() uint8 {
	if b, err := strconv.Atoi(os.Getenv("SENTI_BITS")); err == nil && b >= 12 && b <= 24 {
		return uint8(b)
	}
	return 20
}
