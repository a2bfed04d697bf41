package enrich

import (
	"strings"
	"testing"
	"unicode"
)

// hardTweets are written-by-hand posts of the kinds the issue lists as
// failing on real tweets: emoji-heavy, hashtag-only, code-mixed,
// transliterated Greek ("greeklish"), one-word posts, elongations, the
// SemEval `\u2019` escapes, masked handles. want is the accepted answer;
// "a|b" accepts either (a documented close-pair group, see
// docs/enrichment.md).
var hardTweets = []struct{ want, text string }{
	// emoji-heavy
	{"es", "😍😍😍 te quiero mucho mi amor 💕💕💕"},
	{"ru", "Сегодня отличная погода!!! 🌞🌞 https://t.co/xYz12"},
	{"pt", "vc é mto chato kkkkkk 😂😂😂"},
	{"it", "ahahah ma che cavolo dici 😂😂"},
	{"fr", "mdr jsuis mort 😂😂 c trop drôle"},
	{"de", "🎉🎉 Alles Gute zum Geburtstag, mein Schatz 🎂❤️"},
	// hashtag-only and hashtag-heavy
	{"es", "#BuenosDías #FelizLunes"},
	{"de", "#Bundesliga Was für ein Spiel heute!!! ⚽⚽ #FCBayern"},
	{"en", "#HappyBirthday #LoveYou"},
	// code-mixed, romanised Hindi (labelled hi, as in UMSAB)
	{"hi", "yaar kya scene hai aaj, movie dekhne chale?"},
	{"hi", "I am so tired yaar, kal milte hain bhai"},
	{"hi", "@user bhai tum bahut accha kaam kar rahe ho"},
	// greeklish: Greek in Latin letters
	{"el", "kalimera se olous, ti kaneis re file?"},
	{"el", "den einai dynaton na ginetai afto stin ellada"},
	{"el", "eimai poli xaroumenos simera, efxaristo polu"},
	// one-word posts
	{"el", "Ευχαριστώ"},
	{"ko", "사랑해"},
	{"ja", "ありがとう"},
	{"th", "สวัสดี"},
	{"zh", "谢谢"},
	{"zh", "中国"},
	{"zh", "今天天气很好"},
	{"pl", "Dziękuję!"},
	{"hu", "Köszönöm!!!"},
	{"ru", "Спасибо"},
	{"tr", "Teşekkürler 🙏"},
	{"de", "Glückwunsch!"},
	// elongations
	{"es", "graciasssss amigaaaa"},
	{"en", "sooooo happyyyyy right nowww"},
	{"hr|bs|sr|sh", "hvalaaaa ljudiiii"},
	// SemEval text: literal escapes, masked handles
	{"en", `I can\u2019t believe it\u2019s already Friday @user`},
	{"en", `@user @user thanks\u002c see you tomorrow`},
	// Arabic tweets: never und with confidence 0
	{"ar", "@user والله يا جماعة الموضوع ده مش طبيعي 😂😂"},
	{"ar", "الحمد لله على كل حال"},
	{"ar", "ربنا يستر من اللي جاي"},
	{"fa", "خیلی ممنون از شما دوستان عزیز"},
	// close pairs
	{"sk", "Ďakujem pekne, bolo to úžasné, vidíme sa zajtra"},
	{"cs", "Děkuji moc, bylo to úžasné, uvidíme se zítra"},
	{"sr", "Ово је стварно лепо, хвала вам свима"},
	{"mk", "Ова е навистина убаво, ви благодарам на сите"},
	{"hr|sh", "Što je bilo s tobom jučer, nisam te vidio tjedan dana"},
	{"sr|sh", "Šta je bilo sa tobom juče, nisam te video nedelju dana"},
	{"id", "Aku gak tau kenapa dia marah banget sama aku"},
	{"tr", "Bugün hava çok güzel, dışarı çıkalım mı? 😊"},
	{"is", "Ég er svo þreytt í dag, góða nótt"},
	{"sq", "Faleminderit shumë për urimet, ju dua të gjithëve"},
	{"sl", "Hvala vsem za čestitke, se vidimo jutri"},
	{"uk", "Дякую, друже! Слава Україні 💙💛"},
	{"bg", "Много се радвам за вас, честито!"},
	{"sv", "Tack så mycket för idag, det var jättekul!"},
	{"en", "lol ikr smh, this is so dumb"},
}

// knownHard are hard tweets the detector still gets wrong, documented in
// docs/enrichment.md (failure modes); they are reported, not failed, and
// the test fails when one starts passing so that the list stays true.
var knownHard = map[string]bool{
	"lol ikr smh, this is so dumb": true, // und 0.47: slang abbreviations, and the hi-Latn class learnt much English
}

// TestLanguageHardTweets checks the hand-written hard cases, and that a
// text with plenty of letters never comes back with confidence 0.
func TestLanguageHardTweets(t *testing.T) {
	e := testEnricher()
	bad := 0
	for _, c := range hardTweets {
		got, conf := e.DetectLanguage(c.text, "")
		ok := false
		for w := range strings.SplitSeq(c.want, "|") {
			ok = ok || got == w
		}
		switch {
		case !ok && knownHard[c.text]:
			t.Logf("known failure: DetectLanguage(%q) = %s %.2f, want %s", c.text, got, conf, c.want)
		case !ok:
			bad++
			t.Errorf("DetectLanguage(%q) = %s %.2f, want %s", c.text, got, conf, c.want)
		case knownHard[c.text]:
			t.Errorf("DetectLanguage(%q) = %s now passes: take it off knownHard", c.text, got)
		}
		letters := 0
		for _, r := range c.text {
			if unicode.IsLetter(r) {
				letters++
			}
		}
		if letters >= 10 && conf <= 0 {
			t.Errorf("DetectLanguage(%q) = %s with confidence %v on %d letters", c.text, got, conf, letters)
		}
	}
	if bad > 0 {
		t.Logf("%d of %d hard tweets wrong", bad, len(hardTweets))
	}
}

// TestLanguageDeclaredNeverOverrules: the declared language is a prior; it
// tips short or ambiguous texts, but never a long clear one. Within the
// BCMS group (bs/hr/sr in Latin script) a text the model cannot place
// among the three is "sh", and a declared bs, hr or sr is the documented
// tie-breaker: that is not overruling, as the text is not clear there.
func TestLanguageDeclaredNeverOverrules(t *testing.T) {
	e := testEnricher()
	long := map[string]string{
		"en": "I have been waiting for my order for two weeks now and nobody answers the phone or the emails",
		"de": "Ich warte jetzt seit zwei Wochen auf meine Bestellung und niemand geht ans Telefon oder antwortet",
		"es": "Llevo dos semanas esperando mi pedido y nadie contesta el teléfono ni los correos electrónicos",
		"el": "Περιμένω την παραγγελία μου δύο εβδομάδες και κανείς δεν απαντά ούτε στο τηλέφωνο ούτε στα email",
		"hr": "Već dva tjedna čekam svoju narudžbu i nitko se ne javlja na telefon niti odgovara na poruke",
		"pl": "Czekam na moje zamówienie już od dwóch tygodni i nikt nie odbiera telefonu ani nie odpowiada",
	}
	for want, text := range long {
		for _, declared := range []string{"en", "de", "es", "fr", "pt", "it", "ru", "sr", "bs", "sk", "cs", "ja"} {
			got, conf := e.DetectLanguage(text, declared)
			tie := want == "hr" && (got == "sh" || bcms(declared) && got == declared)
			if got != want && !tie {
				t.Errorf("DetectLanguage(%.30q…, declared %s) = %s %.2f, want %s", text, declared, got, conf, want)
			}
		}
	}
	// and it does tip a text that cannot be told apart
	if got, _ := e.DetectLanguage("ok 👍", "de"); got != "de" && got != "und" {
		t.Errorf("\"ok 👍\" declared de = %s, want de or und", got)
	}
}
