package enrich

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"github.com/earshot-dev/earshot/textnorm"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	//go:embed lexicon/vader_lexicon.tsv
	vaderLexicon []byte
	//go:embed lexicon/emoji_utf8_lexicon.txt
	vaderEmoji []byte
	//go:embed lexicon/greek_sentiment_lexicon.tsv
	greekLexicon []byte
	//go:embed lexicon/greek_supplement.tsv
	greekSupplement []byte
	//go:embed lexicon/translated.tsv
	translatedLexicon []byte
	//go:embed lexicon/hindi_latn.tsv
	hindiLatnLexicon []byte
)

// sentiLang is one language's lexicon and rules. Immutable after load.
type sentiLang struct {
	english         bool // VADER's English-only rules: "kind of", "least", idioms, "no"
	splitApostrophe bool // "n'est", "l'ho": the parts are words
	lex             map[string]float64
	stems           map[string]float64
	phrases         map[string]float64 // two-word entries, "lo siento"
	stem            func(string) string
	level           textnorm.Level // how its lexicon keys fold (textnorm.Key)
	negators        map[string]bool
	stopwords       map[string]bool // function words the lexicon's stems must not catch
	boosters        map[string]float64
	but             map[string]bool
}

// sentimentModels holds the per-language models and the language-neutral
// emoji and emoticon valences.
type sentimentModels struct {
	byLang      map[string]*sentiLang
	symbolsOnly *sentiLang                    // for languages without a lexicon
	unspaced    map[string]map[string]float64 // ja, zh: a few words found as substrings
	emoji       map[rune]float64
	emoticons   map[string]float64
	learned     *learned       // the trained classifier; nil while training it
	learnedEN   *learned       // the English classifier, for posts detected as English; nil: learned
	emotions    *emotionModels // English emotion and irony, on the same features
}

// Languages with a lexicon.
var sentimentLangs = []string{"en", "el", "es", "fr", "de", "pt", "it"}

func set(words string) map[string]bool {
	m := map[string]bool{}
	for w := range strings.FieldsSeq(words) {
		m[w] = true
	}
	return m
}

func boosters(up, down string) map[string]float64 {
	m := map[string]float64{}
	for w := range strings.FieldsSeq(up) {
		m[strings.ReplaceAll(w, "_", " ")] = vaderBIncr
	}
	for w := range strings.FieldsSeq(down) {
		m[strings.ReplaceAll(w, "_", " ")] = vaderBDecr
	}
	return m
}

// emojiOverrides score common emoji whose English description carries no
// sentiment in the VADER lexicon ("pouting face"): a deliberate departure
// from VADER, which scores them 0.
var emojiOverrides = map[rune]float64{
	'😡': -2.5, '😠': -2.3, '🤬': -3.0, '😤': -1.5, '👎': -1.8, '💩': -1.5, '🤮': -2.5, '🤢': -2.0,
}

// vaderSpecialCases are VADER's SPECIAL_CASES idioms.
var vaderSpecialCases = map[string]float64{
	"the shit": 3, "the bomb": 3, "bad ass": 1.5, "badass": 1.5, "bus stop": 0, "yeah right": -2,
	"kiss of death": -1.5, "to die for": 3, "beating heart": 3.1, "broken heart": -2.9,
}

func identity(s string) string { return s }

// stripEnding removes the longest of endings leaving at least minStem bytes.
func stripEnding(s string, minStem int, endings []string) string {
	for _, e := range endings {
		if len(s)-len(e) >= minStem && strings.HasSuffix(s, e) {
			return s[:len(s)-len(e)]
		}
	}
	return s
}

var (
	romanceEndings = []string{"isimos", "isimas", "isimo", "isima", "issimo", "issima", "mente", "os", "as", "es", "is", "s", "o", "a", "e", "i"}
	germanEndings  = []string{"sten", "ster", "ste", "en", "er", "es", "em", "e", "n", "s", "t"}
	greekEndings   = []string{"ουσαν", "ησαν", "ουμε", "ησε", "ηκε", "αμε", "ατε", "ετε", "ουν", "εισ", "οσ", "ησ", "εσ", "ασ", "ου", "ων", "οι", "ει", "ω", "α", "η", "ο", "ε", "ι", "υ"}
)

func loadSentimentModels() (*sentimentModels, error) {
	m := &sentimentModels{byLang: map[string]*sentiLang{}, emoticons: map[string]float64{}, emoji: map[rune]float64{}}
	en := &sentiLang{
		english: true, lex: map[string]float64{}, level: textnorm.Full,
		negators: set(`aint arent cannot cant couldnt darent didnt doesnt ain't aren't can't couldn't daren't didn't doesn't
			dont hadnt hasnt havent isnt mightnt mustnt neither don't hadn't hasn't haven't isn't mightn't mustn't neednt
			needn't never none nope nor not nothing nowhere oughtnt shant shouldnt uhuh wasnt werent oughtn't shan't
			shouldn't uh-uh wasn't weren't without wont wouldnt won't wouldn't rarely seldom despite`),
		boosters: boosters(`absolutely amazingly awfully completely considerable considerably decidedly deeply effing
			enormous enormously entirely especially exceptional exceptionally extreme extremely fabulously flipping flippin
			frackin fracking fricking frickin frigging friggin fully fuckin fucking fuggin fugging greatly hella highly
			hugely incredible incredibly intensely major majorly more most particularly purely quite really remarkably so
			substantially thoroughly total totally tremendous tremendously uber unbelievably unusually utter utterly very`,
			`almost barely hardly just_enough kind_of kinda kindof kind-of less little marginal marginally occasional
			occasionally partly scarce scarcely slight slightly somewhat sort_of sorta sortof sort-of`),
		but: set("but"),
	}
	sc := bufio.NewScanner(bytes.NewReader(vaderLexicon))
	for line := 1; sc.Scan(); line++ {
		w, v, ok := strings.Cut(sc.Text(), "\t")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("vader lexicon line %d: bad entry %q", line, sc.Text())
		}
		en.lex[w] = f
		if !strings.ContainsFunc(w, unicode.IsLetter) || len(w) <= 3 && strings.ContainsFunc(w, unicode.IsPunct) {
			m.emoticons[w] = f // emoticons mean the same in every language
		}
	}
	// An emoji's valence is that of its description, as VADER scores it.
	sc = bufio.NewScanner(bytes.NewReader(vaderEmoji))
	for line := 1; sc.Scan(); line++ {
		e, desc, ok := strings.Cut(sc.Text(), "\t")
		r, size := utf8.DecodeRuneInString(e)
		if !ok || size != len(e) {
			continue // multi-rune sequences: their first rune is scored on its own
		}
		sum, ok := vaderSpecialCases[desc] // "broken heart"
		if !ok {
			for w := range strings.FieldsSeq(desc) {
				sum += en.lex[strings.ToLower(w)]
			}
		}
		if sum != 0 {
			m.emoji[r] = sum
		}
	}
	for r, v := range emojiOverrides {
		m.emoji[r] = v
	}
	m.byLang["en"] = en
	// The skeleton's handful of Japanese and Chinese words, kept so that
	// those posts are not left to emoji alone; found as substrings since
	// the scripts have no spaces.
	m.unspaced = map[string]map[string]float64{
		"ja": {"最悪": -3.0, "ひどい": -2.5, "酷い": -2.5, "壊れた": -2.0, "故障": -1.8, "残念": -1.8, "嫌い": -2.5,
			"最高": 3.0, "大好き": 3.0, "素晴らしい": 3.0, "ありがとう": 1.9},
		"zh": {"垃圾": -2.5, "太差": -2.5, "糟糕": -2.5, "失望": -2.0, "坏了": -2.0, "喜欢": 2.0, "很好": 2.2, "谢谢": 1.9, "太棒": 3.0},
	}
	// Languages without a lexicon read apostrophes as match does, between
	// words ("İstanbul'da").
	m.symbolsOnly = &sentiLang{lex: map[string]float64{}, level: textnorm.Full, splitApostrophe: true}

	el := &sentiLang{
		lex: map[string]float64{}, stems: map[string]float64{}, level: textnorm.Plain, // Greek letters stay Greek
		stem:     func(s string) string { return stripEnding(s, 6, greekEndings) }, // bytes: 3 Greek letters
		negators: foldSet("δεν μην μη ούτε ποτέ χωρίς τίποτα κανένας καμία κανένα όχι"),
		boosters: foldBoosters("πολύ πάρα τόσο τρομερά εντελώς απίστευτα πραγματικά υπερβολικά τελείως", "λίγο ελάχιστα σχεδόν κάπως μάλλον"),
		but:      foldSet("αλλά όμως ωστόσο"),
	}
	el.stopwords = foldSet(`και να το τα της του των τον την η ο οι με σε για από αυτό αυτή αυτός αυτές αυτοί αυτά
		μόνο μόνη μόνος κάνει κάνω θα δεν μη μην που πως ότι είναι ήταν έχει έχουν ένα μια ένας ως στο στη στην
		στον στα στις στους σας μας μου σου τους τις όχι ναι βρει βρω πάει πάω λέει ειπε αν ή όλα όλοι`)
	if err := loadGreek(el); err != nil {
		return nil, err
	}
	m.byLang["el"] = el

	cfgs := map[string]*sentiLang{
		"es": {negators: foldSet("no nunca jamás ni nada nadie ningún ninguna ninguno tampoco sin"),
			boosters: foldBoosters("muy mucho muchísimo super súper tan demasiado bastante totalmente realmente increíblemente", "poco algo apenas casi"),
			but:      foldSet("pero sino aunque")},
		"fr": {negators: foldSet("pas jamais rien aucun aucune sans ni"), // not "ne": "ne … pas" is one negation
			boosters: foldBoosters("très trop vraiment tellement super hyper si totalement complètement extrêmement", "peu assez plutôt presque"),
			but:      foldSet("mais pourtant cependant"), splitApostrophe: true},
		"de": {negators: set("nicht kein keine keinen keinem keiner nie niemals nichts ohne weder"),
			boosters: boosters("sehr total echt wirklich extrem so voll super mega richtig absolut äußerst", "wenig etwas kaum fast ziemlich"),
			but:      set("aber sondern jedoch doch")},
		"pt": {negators: foldSet("não nao nunca jamais nem nada nenhum nenhuma sem ninguém"),
			boosters: foldBoosters("muito muita muitos super tão demais bem bastante totalmente realmente extremamente", "pouco quase meio"),
			but:      foldSet("mas porém contudo")},
		"it": {negators: foldSet("non mai nessuno nessuna niente nulla senza né"),
			boosters: foldBoosters("molto tanto troppo davvero veramente super così assolutamente estremamente proprio", "poco quasi abbastanza"),
			but:      foldSet("ma però tuttavia"), splitApostrophe: true},
	}
	for lang, sl := range cfgs {
		sl.lex, sl.stems, sl.phrases = map[string]float64{}, map[string]float64{}, map[string]float64{}
		sl.level = textnorm.Full
		if lang == "de" {
			sl.level = textnorm.Canon // "schon" is not "schön"
			sl.stem = func(s string) string { return stripEnding(s, 4, germanEndings) }
		} else {
			sl.stem = func(s string) string { return stripEnding(s, 4, romanceEndings) }
		}
		m.byLang[lang] = sl
	}
	if err := loadTranslated(cfgs); err != nil {
		return nil, err
	}
	hi := &sentiLang{lex: map[string]float64{}, level: textnorm.Full,
		negators: set("nahi nahin nhi na mat"),
		boosters: boosters("bahut bohot bahot bohat bht itna kaafi ekdum bilkul sabse", "thoda thodi"),
		but:      set("lekin magar par but")}
	if err := loadVariants(hi, hindiLatnLexicon); err != nil {
		return nil, fmt.Errorf("hindi lexicon: %w", err)
	}
	m.byLang["hi"], m.byLang["hi-Latn"] = hi, hi // romanised, code-mixed Hindi
	for _, sl := range m.byLang {
		sl.rekey()
	}
	return m, nil
}

// rekey writes the keys of sl's word lists as its tokens' keys are made
// (textnorm.Key at sl.level), whichever way each list was loaded.
func (sl *sentiLang) rekey() {
	k := func(s string) string { return textnorm.Key(s, sl.level) }
	sl.lex, sl.phrases, sl.boosters = rekeyed(sl.lex, k), rekeyed(sl.phrases, k), rekeyed(sl.boosters, k)
	sl.negators, sl.stopwords, sl.but = rekeyed(sl.negators, k), rekeyed(sl.stopwords, k), rekeyed(sl.but, k)
}

func rekeyed[V any](m map[string]V, key func(string) string) map[string]V {
	if m == nil {
		return nil
	}
	out := make(map[string]V, len(m))
	for k, v := range m {
		if _, dup := out[key(k)]; !dup || key(k) == k {
			out[key(k)] = v
		}
	}
	return out
}

// loadVariants reads "valence TAB variant/variant…" lines into sl.
func loadVariants(sl *sentiLang, data []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		if strings.HasPrefix(sc.Text(), "#") || strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		v, words, ok := strings.Cut(sc.Text(), "\t")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return fmt.Errorf("line %d: bad entry %q", line, sc.Text())
		}
		for w := range strings.SplitSeq(words, "/") {
			sl.lex[strings.TrimSpace(w)] = f
		}
	}
	return sc.Err()
}

func foldSet(words string) map[string]bool {
	m := map[string]bool{}
	for w := range strings.FieldsSeq(words) {
		m[foldAccents(w)] = true
	}
	return m
}

func foldBoosters(up, down string) map[string]float64 {
	m := map[string]float64{}
	for k, v := range boosters(up, down) {
		m[foldAccents(k)] = v
	}
	return m
}

// add puts a lexicon word (and its stem) in sl; for a stem shared by words
// of opposite sign the stronger keeps it.
func (sl *sentiLang) add(word string, v float64) {
	k := textnorm.Key(strings.TrimSpace(word), sl.level)
	if k == "" {
		return
	}
	if strings.Contains(k, " ") {
		sl.phrases[k] = v
		return
	}
	sl.lex[k] = v
	if sl.stem != nil {
		s := sl.stem(k)
		if old, ok := sl.stems[s]; !ok || math.Abs(v) > math.Abs(old) {
			sl.stems[s] = v
		}
	}
}

// loadGreek reads the MKLab lexicon: the valence is the annotators' net
// vote (POS minus NEG, of four) on VADER's scale; adjectives are listed as
// "stem -η -ο" and the first word is the masculine form.
func loadGreek(el *sentiLang) error {
	el.phrases = map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(greekLexicon))
	for line := 1; sc.Scan(); line++ {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 3 {
			return fmt.Errorf("greek lexicon line %d: want 3 fields", line)
		}
		pos, err1 := strconv.Atoi(f[1])
		neg, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil {
			return fmt.Errorf("greek lexicon line %d: bad counts", line)
		}
		word := strings.Fields(f[0])
		if len(word) == 0 || pos == neg || strings.HasSuffix(word[0], "-") || el.stopwords[foldAccents(strings.ToLower(word[0]))] {
			continue // ambiguous, a prefix, or a function word
		}
		el.add(word[0], 0.75*float64(pos-neg))
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("greek lexicon: %w", err)
	}
	sc = bufio.NewScanner(bytes.NewReader(greekSupplement))
	for line := 1; sc.Scan(); line++ {
		if strings.HasPrefix(sc.Text(), "#") || sc.Text() == "" {
			continue
		}
		w, v, ok := strings.Cut(sc.Text(), "\t")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return fmt.Errorf("greek supplement line %d: bad entry %q", line, sc.Text())
		}
		el.add(w, f)
	}
	return sc.Err()
}

// loadTranslated reads translated.tsv into the five languages' lexicons.
func loadTranslated(cfgs map[string]*sentiLang) error {
	cols := []string{"es", "fr", "de", "pt", "it"}
	sc := bufio.NewScanner(bytes.NewReader(translatedLexicon))
	for line := 1; sc.Scan(); line++ {
		if strings.HasPrefix(sc.Text(), "#") || sc.Text() == "" {
			continue
		}
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 2+len(cols) {
			return fmt.Errorf("translated lexicon line %d: want %d fields, got %d", line, 2+len(cols), len(f))
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return fmt.Errorf("translated lexicon line %d: %w", line, err)
		}
		for i, lang := range cols {
			for w := range strings.SplitSeq(f[2+i], "/") {
				cfgs[lang].add(w, v)
			}
		}
	}
	return sc.Err()
}
