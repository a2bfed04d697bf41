package enrich

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/earshot-dev/earshot/post"
)

// Intents, in the order they are reported when tied.
const (
	intentComplaint = "complaint"
	intentQuestion  = "question"
	intentPraise    = "praise"
	intentPurchase  = "purchase"
	intentCrisis    = "crisis"
	intentJob       = "job"
	intentSpam      = "spam"
	intentOther     = "other"
)

// intentPhrases lists, per intent, phrases in en, es, fr, de, pt, it and el,
// lower-cased with accents removed and apostrophes dropped ("dont"), as the
// matcher normalises posts.
var intentPhrases = map[string]string{
	intentComplaint: `doesnt work|dont work|not working|stopped working|still waiting|no response|customer service|charged twice|
		refund|cancel my|worst|broken|ripoff|rip off|scam|fix this|unacceptable|fed up|never again|waste of money|
		no funciona|dejo de funcionar|reembolso|atencion al cliente|sigo esperando|estafa|harto|harta|peor servicio|
		ne marche pas|ne fonctionne pas|remboursement|service client|toujours rien|arnaque|marre|
		funktioniert nicht|geht nicht|kundenservice|erstattung|abzocke|reklamation|unverschamt|
		nao funciona|parou de funcionar|reembolso|atendimento|golpe|absurdo|
		non funziona|rimborso|assistenza clienti|truffa|vergogna|
		δεν λειτουργει|χαλασε|επιστροφη χρηματων|εξυπηρετηση πελατων|απαραδεκτο|απατη|κοροιδια`,
	intentPraise: `thank you|thanks|love it|love my|love this|great job|well done|amazing|awesome|best|highly recommend|
		kudos|shoutout|impressed|
		gracias|me encanta|excelente|recomiendo|genial|
		merci|jadore|excellent|bravo|recommande|
		danke|toll|super|empfehle|hervorragend|
		obrigado|obrigada|adoro|recomendo|excelente|
		grazie|adoro|consiglio|ottimo|bravissimi|
		ευχαριστω|τελειο|εξαιρετικο|μπραβο|προτεινω`,
	intentPurchase: `want to buy|going to buy|gonna buy|thinking of buying|where can i buy|where to buy|should i buy|should i get|
		just ordered|just bought|pre order|preorder|pre ordered|add to cart|in stock|how much is|price of|looking to buy|
		quiero comprar|donde comprar|voy a comprar|acabo de comprar|cuanto cuesta|
		veux acheter|ou acheter|vais acheter|je viens dacheter|combien coute|
		will kaufen|wo kaufen|kaufe mir|gerade bestellt|was kostet|
		quero comprar|onde comprar|vou comprar|acabei de comprar|quanto custa|
		voglio comprare|dove comprare|ho appena comprato|quanto costa|
		θελω να αγορασω|που να αγορασω|ποσο κανει|μολις αγορασα`,
	intentCrisis: `caught fire|on fire|exploded|explosion|explode|burned|burnt|injured|injury|hospital|died|death|dead|
		lawsuit|sue|recall|poisoned|poisoning|food poisoning|data breach|hacked|leak|leaked|suicide|kill myself|
		bomb|shooting|boycott|dangerous|unsafe|emergency|
		incendio|exploto|explosion|herido|murio|muerte|demanda|retirada|envenenamiento|hackeado|filtracion|boicot|peligroso|
		incendie|explose|blesse|mort|proces|rappel|intoxication|pirate|fuite|boycott|dangereux|
		explodiert|verletzt|tot|klage|ruckruf|vergiftung|gehackt|datenleck|boykott|gefahrlich|
		incendio|explodiu|ferido|morreu|recall|intoxicacao|hackeado|vazamento|boicote|perigoso|
		incendio|esploso|ferito|morto|richiamo|intossicazione|violato|boicottaggio|pericoloso|
		φωτια|εκρηξη|τραυματιας|πεθανε|θανατος|αγωγη|ανακληση|δηλητηριαση|διαρροη|μποϊκοτ|επικινδυνο`,
	intentJob: `were hiring|we are hiring|hiring|job opening|job offer|apply now|join our team|vacancy|open position|career opportunity|
		estamos contratando|oferta de empleo|vacante|unete a nuestro equipo|
		recrute|recrutement|offre demploi|rejoignez notre equipe|
		wir stellen ein|stellenangebot|jetzt bewerben|verstarkung gesucht|
		vaga|vagas|oportunidade de emprego|
		offerta di lavoro|assumiamo|candidati ora|
		θεση εργασιας|προσλαμβανουμε|ζητειται`,
	intentSpam: `click here|free followers|follow back|followback|dm for promo|dm me for|giveaway|earn money|make money|
		work from home|crypto signals|100 free|limited offer|buy followers|check my bio|link in bio|onlyfans`,
}

// intentMatcher maps normalised phrases to intents.
type intentMatcher struct {
	phrases  map[string]uint8
	starts   map[string]int // first word of a phrase → most words in such a phrase
	maxWords int
	names    []string
}

var intentOrder = []string{intentComplaint, intentQuestion, intentPraise, intentPurchase, intentCrisis, intentJob, intentSpam}

func newIntentMatcher() *intentMatcher {
	m := &intentMatcher{phrases: map[string]uint8{}, starts: map[string]int{}, names: intentOrder}
	for bit, name := range intentOrder {
		for ph := range strings.SplitSeq(intentPhrases[name], "|") {
			ph = strings.Join(strings.Fields(ph), " ")
			if ph == "" {
				continue
			}
			m.phrases[ph] |= 1 << bit
			n := strings.Count(ph, " ") + 1
			m.maxWords = max(m.maxWords, n)
			first, _, _ := strings.Cut(ph, " ")
			m.starts[first] = max(m.starts[first], n)
		}
	}
	return m
}

// questionStarts are words that open a question without a question mark.
var questionStarts = map[string]bool{
	"how": true, "why": true, "what": true, "when": true, "where": true, "who": true, "which": true, "can": true,
	"does": true, "do": true, "is": true, "anyone": true, "como": true, "porque": true, "por": true, "que": true,
	"cuando": true, "donde": true, "comment": true, "pourquoi": true, "quand": true, "ou": true, "wie": true,
	"warum": true, "wann": true, "wo": true, "weiss": true, "quando": true, "onde": true, "come": true, "perche": true,
	"dove": true, "πως": true, "γιατι": true, "ποτε": true, "που": true, "τι": true,
}

// intentWords normalises text for phrase matching: words of letters and
// digits, lower-cased, accents and apostrophes removed; URLs and mentions
// skipped; hashtags kept as words. The words share one allocation.
func intentWords(text string, out []string) []string {
	buf := make([]byte, 0, len(text))
	var sarr [64][2]int
	spans := sarr[:0]
	start := -1
	end := func() {
		if start >= 0 && len(buf) > start {
			spans = append(spans, [2]int{start, len(buf)})
		}
		start = -1
	}
	atStart := true
	for i := 0; i < len(text); {
		if atStart {
			if n := skipToken(text[i:]); n > 0 && text[i] != '#' {
				i += n
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		atStart = unicode.IsSpace(r)
		switch {
		case r == '\'' || r == '’':
			// "don't" → "dont": apostrophes join
		case r < utf8.RuneSelf && ('a' <= r && r <= 'z' || '0' <= r && r <= '9'):
			if start < 0 {
				start = len(buf)
			}
			buf = append(buf, byte(r))
		case r < utf8.RuneSelf && 'A' <= r && r <= 'Z':
			if start < 0 {
				start = len(buf)
			}
			buf = append(buf, byte(r+'a'-'A'))
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if start < 0 {
				start = len(buf)
			}
			r = unicode.ToLower(r)
			if f, ok := foldTable[r]; ok {
				r = f
			}
			buf = utf8.AppendRune(buf, r)
		case unicode.Is(unicode.Mn, r):
			// a combining accent: dropped
		default:
			end()
		}
	}
	end()
	s := string(buf)
	for _, sp := range spans {
		out = append(out, s[sp[0]:sp[1]])
	}
	return out
}

// intents tags the post's intents from phrases, punctuation, sentiment and
// the shape of the post (hashtag, link and mention counts for spam).
func (e *Enricher) intents(p *post.Post, en *post.Enrichment, words []string) {
	var conf [8]float64
	m := e.intentsM
	for i := 0; i < len(words); i++ {
		longest, ok := m.starts[words[i]]
		if !ok {
			continue
		}
		for n := min(longest, len(words)-i); n >= 1; n-- {
			k := words[i]
			if n > 1 {
				k = strings.Join(words[i:i+n], " ")
			}
			if bits, ok := m.phrases[k]; ok {
				for b := range m.names {
					if bits&(1<<b) != 0 {
						conf[b] = max(conf[b], 0.6+0.05*float64(n-1))
					}
				}
				i += n - 1
				break
			}
		}
	}
	// Questions: a question mark (Greek writes ';'), or a question word first.
	t := strings.TrimSpace(p.Text)
	switch {
	case strings.ContainsAny(t, "?¿\u037e") || en.Lang == "el" && strings.HasSuffix(t, ";"):
		conf[1] = max(conf[1], 0.85)
	case len(words) > 2 && questionStarts[words[0]]:
		conf[1] = max(conf[1], 0.5)
	}
	// Sentiment supports complaints and praise, and alone hints at them.
	switch {
	case en.Sentiment <= -0.3 && conf[0] > 0:
		conf[0] = min(0.95, conf[0]+0.25)
	case en.Sentiment <= -0.5 && conf[5] == 0 && conf[6] == 0:
		conf[0] = max(conf[0], 0.45)
	}
	switch {
	case en.Sentiment >= 0.3 && conf[2] > 0:
		conf[2] = min(0.95, conf[2]+0.25)
	case en.Sentiment >= 0.6 && conf[5] == 0 && conf[6] == 0:
		conf[2] = max(conf[2], 0.45) // not for upbeat job ads and spam
	case en.Sentiment < 0:
		conf[2] = 0 // "thanks for nothing"
	}
	// Spam and bot-like shape.
	shape := 0.0
	if len(p.Hashtags) >= 6 || strings.Count(p.Text, "#") >= 6 {
		shape += 0.4
	}
	if len(p.URLs) >= 3 || strings.Count(p.Text, "http") >= 3 {
		shape += 0.3
	}
	if len(p.Mentions) >= 5 || strings.Count(p.Text, "@") >= 5 {
		shape += 0.3
	}
	if conf[6] > 0 || shape > 0 {
		conf[6] = min(0.95, conf[6]+shape)
	}
	best := 0.0
	for b, c := range conf[:len(m.names)] {
		if c >= 0.45 {
			en.Intents = append(en.Intents, m.names[b])
			best = max(best, c)
		}
	}
	if len(en.Intents) == 0 {
		en.Intents = []string{intentOther}
		best = 0.5
	}
	en.IntentConfidence = best
}
