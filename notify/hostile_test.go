package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestAuthorCannotForgeMessageFields: a post's author handle is untrusted
// (a pushed post, an RSS author): one with line breaks must not add lines
// that read as the message's own fields ("*Priority*\nP4" in Slack,
// "Queue: …" in an email).
func TestAuthorCannotForgeMessageFields(t *testing.T) {
	it := alert("1", "care-emea", "P1", "the app is down")
	it.Post.Author.Handle = "bob\n*Priority*\nP4\r\nQueue: vip\u2028Team: x"
	it.Post.Platform = "x\nTeam: y"
	v := viewOf(it, "")
	for _, s := range []string{v.Author, v.Platform} {
		if strings.ContainsAny(s, "\r\n\u2028\u2029\v\f\u0085") {
			t.Errorf("view keeps a line break: %q", s)
		}
	}
	_, text, _, err := emailAlert(v)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "\nQueue: vip") || strings.Contains(text, "\nTeam: y") || strings.Contains(text, "\nTeam: x") {
		t.Errorf("email text has a forged line:\n%s", text)
	}
	body, err := slackAlert(v)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(body), `\n`); n != 4 { // the four field labels: Priority, Queue, Team, Author
		t.Errorf("slack message has %d line breaks, want 4: %s", n, body)
	}
}

// TestValidateBoundsTheDedupMemoryOfAllChannels: each channel's
// dedup_window is bounded, but 100 channels at the bound remember a
// billion ids (about 100 GB): the sum over the channels is bounded too.
func TestValidateBoundsTheDedupMemoryOfAllChannels(t *testing.T) {
	getenv := func(string) string { return "https://hooks.slack.com/services/T/B/X" }
	c := Config{Channels: map[string]Channel{}}
	for i := range MaxChannels {
		c.Channels[fmt.Sprintf("c%d", i)] = Channel{Kind: Slack, URLEnv: "S", Queues: []string{"q"}, DedupWindow: MaxDedupWindow}
	}
	if err := c.Validate(getenv); err == nil || !strings.Contains(err.Error(), "dedup_window") {
		t.Errorf("%d channels of %d ids each: %v, want an error about dedup_window", MaxChannels, MaxDedupWindow, err)
	}
	for name := range c.Channels { // the default on every channel fits
		c.Channels[name] = Channel{Kind: Slack, URLEnv: "S", Queues: []string{"q"}}
	}
	if err := c.Validate(getenv); err != nil {
		t.Errorf("%d channels with the default window: %v", MaxChannels, err)
	}
}

// TestBidiControlsOfAPostAreShownAsMarks: a post's text and author come
// from a platform and may carry bidi embeddings, overrides or isolates
// (U+202A–U+202E, U+2066–U+2069), which would reorder what the Slack,
// Teams or email reader sees after them ("refund \u202edenied" reads
// "refund deined"). Every message shows each as a visible mark, as the
// desk page does; right-to-left text stays.
func TestBidiControlsOfAPostAreShownAsMarks(t *testing.T) {
	it := alert("1", "care-emea", "P1", "refund \u202edenied\u202c \u2067x\u2069 \u05e9\u05dc\u05d5\u05dd")
	it.Post.Author.Handle = "b\u202eob"
	it.Matches[0].Keywords = []string{"re\u2066fund"}
	v := viewOf(it, "")
	if want := "refund [U+202E]denied[U+202C] [U+2067]x[U+2069] \u05e9\u05dc\u05d5\u05dd"; v.Excerpt != want {
		t.Errorf("excerpt %q, want %q", v.Excerpt, want)
	}
	if v.Author != "b[U+202E]ob" {
		t.Errorf("author %q", v.Author)
	}
	_, text, html, err := emailAlert(v)
	if err != nil {
		t.Fatal(err)
	}
	slackBody, err := slackAlert(v)
	if err != nil {
		t.Fatal(err)
	}
	teamsBody, err := teamsAlert(v)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{"email text": text, "email html": html, "slack": string(slackBody), "teams": string(teamsBody)} {
		if hasBidi(s) || strings.Contains(s, `\u202e`) || strings.Contains(s, `\u2066`) {
			t.Errorf("%s keeps a bidi control: %q", name, s)
		}
	}
}

func hasBidi(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') })
}

// TestPostURLAndTermsAreInertInEveryChannel: the post URL comes from the
// platform and may carry bidi controls, zero-width or line-breaking
// characters ("https://x.com/a/\u202egnp.exe" reads as ending in
// "exe.png"); a watchlist term is any team's. No channel's payload carries
// one raw: the URL's are percent-encoded (so what is read is where the
// link goes), a term's shown as a mark.
func TestPostURLAndTermsAreInertInEveryChannel(t *testing.T) {
	it := alert("1", "care", "P1", "down")
	it.Post.URLs = []string{"https://x.com/a/\u202egnp.exe?q=\u200b\u2066x\u2069\u2028y"}
	it.Matches[0].Keywords = []string{"re\u202efund"}
	v := viewOf(it, "https://earshot.example.com")
	if want := "https://x.com/a/%E2%80%AEgnp.exe?q=%E2%80%8B%E2%81%A6x%E2%81%A9%E2%80%A8y"; v.PostURL != want {
		t.Errorf("post url %q, want %q", v.PostURL, want)
	}
	payloads := map[string]string{}
	_, text, html, err := emailAlert(v)
	if err != nil {
		t.Fatal(err)
	}
	payloads["email text"], payloads["email html"] = text, html
	for name, f := range map[string]func(view) ([]byte, error){
		"slack":        slackAlert,
		"teams":        teamsAlert,
		"pagerduty":    func(v view) ([]byte, error) { return pagerdutyEvent(v, "k") },
		"alertmanager": func(v view) ([]byte, error) { return alertmanagerAlerts(v, time.Now()) },
	} {
		b, err := f(v)
		if err != nil {
			t.Fatal(err)
		}
		payloads[name] = string(b)
	}
	og := newOpsgenie(t, "k-123")
	n, _ := notifier(t, Config{Channels: map[string]Channel{
		"og": {Kind: Opsgenie, URL: og.URL + "/", APIKeyEnv: "OG_KEY", Queues: []string{"care"}},
	}}, map[string]string{"OG_KEY": "k-123"})
	if rej := run(t, n, "og", "care", it); len(rej) != 0 {
		t.Fatalf("dead letter: %s", rej[0].Reason)
	}
	creates, _ := og.got()
	if len(creates) != 1 {
		t.Fatalf("%d opsgenie creates", len(creates))
	}
	b, _ := json.Marshal(creates[0])
	payloads["opsgenie"] = string(b)
	if creates[0].Details["post_url"] != v.PostURL {
		t.Errorf("opsgenie post_url %q, want %q", creates[0].Details["post_url"], v.PostURL)
	}
	for name, s := range payloads {
		if hasBidi(s) || strings.ContainsAny(s, "\u200b\u2028") || strings.Contains(s, `\u202e`) || strings.Contains(s, `\u2028`) {
			t.Errorf("%s keeps a bidi or invisible character: %q", name, s)
		}
	}
	if !strings.Contains(payloads["pagerduty"], v.PostURL) {
		t.Errorf("pagerduty lost the post url: %s", payloads["pagerduty"])
	}
}

// TestDigestChatTextMarksBidi: a digest's Slack or Teams summary names
// spiking terms, which are any team's keywords; escaped for either, a bidi
// control is shown as a mark, as in an alert.
func TestDigestChatTextMarksBidi(t *testing.T) {
	if s := EscapeSlack("spike: re\u202efund"); s != "spike: re[U+202E]fund" {
		t.Errorf("slack: %q", s)
	}
	if s := EscapeMarkdown("spike: re\u202efund"); s != `spike: re\[U+202E\]fund` { // Markdown shows "[U+202E]"
		t.Errorf("teams: %q", s)
	}
}

// TestPostURLHostIsShownInASCII: a post URL whose host is in Unicode may
// look like another ("https://аpple.com/" with a Cyrillic "а"); shown as
// the ASCII (punycode) form a browser goes to, the look-alike is plain.
// Path and query stay as they are; a host IDNA refuses is percent-encoded.
func TestPostURLHostIsShownInASCII(t *testing.T) {
	for in, want := range map[string]string{
		"https://\u0430pple.com/a/é?q=ü#x":        "https://xn--pple-43d.com/a/é?q=ü#x",
		"https://user@B\u00fccher.example:8443/x": "https://user@xn--bcher-kva.example:8443/x",
		"https://xn--pple-43d.com/":               "https://xn--pple-43d.com/",
		"https://apple.com/é":                     "https://apple.com/é",
		"https://a\u200dpple.com/":                "https://a%E2%80%8Dpple.com/",
		"https://\u0661\u0041.com/":               "https://%D9%A1A.com/", // mixed direction: refused by IDNA's bidi rule
		"no scheme é":                             "no%20scheme%20é",
	} {
		it := alert("1", "care", "P1", "down")
		it.Post.URLs = []string{in}
		if got := viewOf(it, "").PostURL; got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
