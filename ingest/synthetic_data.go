package ingest

// The synthetic firehose's vocabulary. Sentences are short and ordinary, as
// on real timelines; brand sentences carry a sentiment so that enrichment and
// routing have something to find. {b} is a brand, {p} a product.

type langData struct {
	code     string
	weight   int
	products []string
	fillers  []string
	pos      []string
	neg      []string
	neu      []string
	job      []string
	tags     []string
	places   []place
}

type place struct {
	location string // as typed in a profile
	country  string // ISO 3166-1 alpha-2
}

var brands = []struct {
	name   string
	weight int
}{{"Acme", 5}, {"Globex", 3}, {"Initech", 2}}

var emoji = []string{"😀", "😡", "🔥", "👍", "💔", "🙏", "😂", "🎉"}

var languages = []langData{
	{
		code: "en", weight: 40,
		products: []string{"phone", "router", "app", "plan", "laptop"},
		fillers:  []string{"just got back from the gym", "what a day at work", "coffee first, then everything else", "watching the match tonight", "anyone else stuck in traffic?", "new episode dropped and it is good", "weekend plans are set", "rain again in the city"},
		pos:      []string{"really love my new {b} {p}", "{b} support fixed it in minutes, great service", "the {b} {p} is amazing, thank you"},
		neg:      []string{"my {b} {p} is broken again, worst experience ever", "still waiting for a refund from {b}, terrible", "{b} charged me twice, awful support"},
		neu:      []string{"does anyone know if {b} ships to my area?", "thinking about switching to {b}", "{b} announced a new {p} today"},
		job:      []string{"{b} is hiring! we are looking for a {p} engineer, apply now"},
		tags:     []string{"monday", "tech", "news", "football"},
		places:   []place{{"London, UK", "GB"}, {"New York, NY", "US"}, {"Toronto", "CA"}, {"Sydney", "AU"}, {"Mumbai", "IN"}, {"Singapore", "SG"}, {"Dublin", "IE"}, {"San Francisco", "US"}, {"", ""}},
	},
	{
		code: "es", weight: 15,
		products: []string{"móvil", "router", "app", "portátil"},
		fillers:  []string{"qué día tan largo en el trabajo", "café primero, luego todo lo demás", "viendo el partido esta noche", "otra vez lluvia en la ciudad"},
		pos:      []string{"me encanta mi nuevo {p} de {b}", "el servicio de {b} es excelente", "{b} lo arregló rápido, genial"},
		neg:      []string{"mi {p} de {b} está roto otra vez, pésimo servicio", "sigo esperando el reembolso de {b}, horrible", "{b} me cobró dos veces, terrible"},
		neu:      []string{"¿alguien sabe si {b} envía a mi zona?", "{b} anunció un nuevo {p} hoy"},
		job:      []string{"{b} busca personal, envía tu currículum"},
		tags:     []string{"lunes", "fútbol", "noticias"},
		places:   []place{{"Madrid", "ES"}, {"Barcelona", "ES"}, {"CDMX, México", "MX"}, {"Buenos Aires", "AR"}, {"Bogotá", "CO"}, {"", ""}},
	},
	{
		code: "el", weight: 10,
		products: []string{"κινητό", "ρούτερ", "εφαρμογή"},
		fillers:  []string{"τι μέρα στη δουλειά σήμερα", "πρώτα καφές και μετά όλα τα άλλα", "βλέπω τον αγώνα απόψε", "πάλι βροχή στην πόλη"},
		pos:      []string{"λατρεύω το νέο {p} της {b}", "η εξυπηρέτηση της {b} είναι εξαιρετική", "η {b} το έφτιαξε γρήγορα, τέλεια"},
		neg:      []string{"το {p} της {b} χάλασε πάλι, απαίσια εμπειρία", "ακόμα περιμένω επιστροφή χρημάτων από την {b}, χάλια", "η {b} με χρέωσε δύο φορές, απαράδεκτο"},
		neu:      []string{"ξέρει κανείς αν η {b} στέλνει στην περιοχή μου;", "η {b} ανακοίνωσε νέο {p} σήμερα"},
		job:      []string{"η {b} προσλαμβάνει, στείλτε βιογραφικό"},
		tags:     []string{"Ελλάδα", "ποδόσφαιρο", "ειδήσεις"},
		places:   []place{{"Αθήνα", "GR"}, {"Θεσσαλονίκη", "GR"}, {"Athens, Greece", "GR"}, {"Λευκωσία", "CY"}, {"", ""}},
	},
	{
		code: "de", weight: 8,
		products: []string{"Handy", "Router", "App"},
		fillers:  []string{"was für ein Tag bei der Arbeit", "erst Kaffee, dann alles andere", "heute Abend läuft das Spiel", "schon wieder Regen in der Stadt"},
		pos:      []string{"ich liebe mein neues {p} von {b}", "der Service von {b} ist super", "{b} hat es schnell repariert, toll"},
		neg:      []string{"mein {p} von {b} ist schon wieder kaputt, schrecklich", "warte immer noch auf die Erstattung von {b}, furchtbar", "{b} hat mir doppelt berechnet, schlecht"},
		neu:      []string{"weiß jemand, ob {b} in meine Gegend liefert?", "{b} hat heute ein neues {p} angekündigt"},
		job:      []string{"{b} stellt ein, jetzt bewerben"},
		tags:     []string{"Montag", "Fußball", "Nachrichten"},
		places:   []place{{"Berlin", "DE"}, {"München", "DE"}, {"Wien", "AT"}, {"Zürich", "CH"}, {"", ""}},
	},
	{
		code: "fr", weight: 8,
		products: []string{"téléphone", "routeur", "appli"},
		fillers:  []string{"quelle journée au travail", "d'abord un café, ensuite le reste", "je regarde le match ce soir", "encore de la pluie en ville"},
		pos:      []string{"j'adore mon nouveau {p} {b}", "le service de {b} est excellent", "{b} a réglé le problème vite, génial"},
		neg:      []string{"mon {p} {b} est encore cassé, horrible", "j'attends toujours le remboursement de {b}, nul", "{b} m'a facturé deux fois, terrible"},
		neu:      []string{"quelqu'un sait si {b} livre dans ma région ?", "{b} a annoncé un nouveau {p} aujourd'hui"},
		job:      []string{"{b} recrute, postulez maintenant"},
		tags:     []string{"lundi", "foot", "actu"},
		places:   []place{{"Paris", "FR"}, {"Lyon", "FR"}, {"Montréal", "CA"}, {"Bruxelles", "BE"}, {"Dakar", "SN"}, {"", ""}},
	},
	{
		code: "pt", weight: 8,
		products: []string{"celular", "roteador", "app"},
		fillers:  []string{"que dia longo no trabalho", "primeiro café, depois o resto", "vendo o jogo hoje à noite", "chuva de novo na cidade"},
		pos:      []string{"adoro meu novo {p} da {b}", "o atendimento da {b} é excelente", "a {b} resolveu rápido, ótimo"},
		neg:      []string{"meu {p} da {b} quebrou de novo, péssimo", "ainda esperando o reembolso da {b}, horrível", "a {b} me cobrou duas vezes, terrível"},
		neu:      []string{"alguém sabe se a {b} entrega na minha região?", "a {b} anunciou um novo {p} hoje"},
		job:      []string{"a {b} está contratando, envie seu currículo"},
		tags:     []string{"segunda", "futebol", "notícias"},
		places:   []place{{"São Paulo", "BR"}, {"Rio de Janeiro", "BR"}, {"Lisboa", "PT"}, {"Porto", "PT"}, {"", ""}},
	},
	{
		code: "it", weight: 6,
		products: []string{"telefono", "router", "app"},
		fillers:  []string{"che giornata al lavoro", "prima il caffè, poi tutto il resto", "guardo la partita stasera", "di nuovo pioggia in città"},
		pos:      []string{"adoro il mio nuovo {p} {b}", "il servizio di {b} è eccellente", "{b} ha risolto subito, fantastico"},
		neg:      []string{"il mio {p} {b} è di nuovo rotto, pessimo", "aspetto ancora il rimborso da {b}, orribile", "{b} mi ha addebitato due volte, terribile"},
		neu:      []string{"qualcuno sa se {b} consegna nella mia zona?", "{b} ha annunciato un nuovo {p} oggi"},
		job:      []string{"{b} assume, candidati ora"},
		tags:     []string{"lunedì", "calcio", "notizie"},
		places:   []place{{"Roma", "IT"}, {"Milano", "IT"}, {"Napoli", "IT"}, {"", ""}},
	},
	{
		code: "ja", weight: 5,
		products: []string{"スマホ", "ルーター", "アプリ"},
		fillers:  []string{"今日は仕事で長い一日だった", "まずコーヒー、それから全部", "今夜は試合を見る", "また雨が降っている"},
		pos:      []string{"{b}の新しい{p}が大好き", "{b}のサポートは最高です"},
		neg:      []string{"{b}の{p}がまた壊れた、最悪", "{b}からの返金をまだ待っている、ひどい"},
		neu:      []string{"{b}が新しい{p}を発表した"},
		job:      []string{"{b}は求人中です"},
		tags:     []string{"月曜日", "ニュース"},
		places:   []place{{"東京", "JP"}, {"Osaka", "JP"}, {"Seoul", "KR"}, {"", ""}},
	},
}
