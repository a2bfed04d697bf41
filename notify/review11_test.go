package notify

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// TestHugeAuthorIsCutInEveryMessage: a pushed post's author handle may be
// 1 MiB (the ingest limit); every message shows at most a short one, so an
// alert email is not megabytes of handle in both parts.
func TestHugeAuthorIsCutInEveryMessage(t *testing.T) {
	it := alert("1", "care", "P1", "the app is down")
	it.Post.Author.Handle = strings.Repeat("é", 1<<19) // 1 MiB
	it.Post.Platform = strings.Repeat("p", 1<<20)
	v := viewOf(it, "https://earshot.example.com")
	subject, text, html, err := emailAlert(v)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(subject) + len(text) + len(html); n > 16<<10 {
		t.Errorf("an alert email of %d bytes for a 1 MiB handle and platform, want under 16 KiB", n)
	}
	for name, f := range map[string]func(view) ([]byte, error){"slack": slackAlert, "teams": teamsAlert} {
		b, err := f(v)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 16<<10 {
			t.Errorf("%s: %d bytes", name, len(b))
		}
	}
}

// TestRedirectIsNotFollowed: a webhook endpoint that redirects elsewhere
// (a moved or hijacked URL) must not get the alert counted as delivered:
// Go's client would turn a POST answered 302 into a GET of the new place
// (the alert is dropped, the GET answers 200) or, after 307, post the
// alert to another host. The redirect is a dead letter with the reason,
// and the other host gets nothing.
func TestRedirectIsNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(other.Close)
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			http.Redirect(w, r, other.URL+"/hooks", code)
		}))
		t.Cleanup(redir.Close)
		for _, kind := range []string{Slack, Teams, PagerDuty, Alertmanager, Opsgenie, "slack bot"} {
			ch := Channel{Kind: kind, Queues: []string{"q"}, MaxAttempts: 2}
			env := map[string]string{"S": redir.URL}
			switch kind {
			case "slack bot":
				ch.Kind, ch.URL, ch.TokenEnv, ch.SlackChannel = Slack, redir.URL+"/", "S", "C0123ABCD"
			case Slack, Teams:
				ch.URLEnv = "S"
			case PagerDuty:
				ch.URL, ch.RoutingKeyEnv = redir.URL, "S"
			case Opsgenie:
				ch.URL, ch.APIKeyEnv = redir.URL, "S"
			default:
				ch.URL = redir.URL
			}
			n, _ := notifier(t, Config{Channels: map[string]Channel{"c": ch}}, env)
			rej := run(t, n, "c", "q", alert("1", "q", "P1", "down"))
			if len(rej) != 1 || !strings.Contains(rej[0].Reason, "redirect") {
				t.Errorf("%s answered %d: dead letters %v, want one naming the redirect", kind, code, rej)
			}
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect's target got %d requests, want 0", n)
	}
}

// TestErrorIn200IsAFailure: Teams' connector webhooks answer 200 with
// "Webhook message delivery failed with error: Microsoft Teams endpoint
// returned HTTP error 413 …" (MicrosoftDocs/msteams-docs#1810), and a
// Slack-compatible endpoint may answer 200 with an error code as its body
// (Slack's own codes: invalid_blocks, no_text, …). Neither is delivered:
// a 413 or 400 inside is refused (a dead letter at once), a 429 or 5xx
// inside is retried; Slack's "ok", Teams' "1" and an empty 202 are
// successes.
func TestErrorIn200IsAFailure(t *testing.T) {
	for _, c := range []struct {
		kind, body string
		status     int
		tries      int32 // requests made; 0: delivered
		reason     string
	}{
		{Teams, "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 413 with ContextId tcid=0,server=x..", 200, 1, "HTTP 413"},
		{Teams, "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0..", 200, 3, "HTTP 429"},
		{Teams, "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 500 with ContextId tcid=0..", 200, 3, "HTTP 500"},
		{Teams, "Webhook message delivery failed with error: something new", 200, 1, "saying delivery failed"},
		{Teams, "1", 200, 0, ""},
		{Teams, "", 202, 0, ""},
		{Slack, "invalid_blocks", 200, 1, "invalid_blocks"},
		{Slack, "no_text", 200, 1, "no_text"},
		{Slack, "ok", 200, 0, ""},
		{Slack, "", 200, 0, ""},
		{Slack, `{"success":true}`, 200, 0, ""}, // Rocket.Chat's answer: not one of Slack's codes
	} {
		var tries atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tries.Add(1)
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(c.status)
			io.WriteString(w, c.body)
		}))
		n, _ := notifier(t, Config{Channels: map[string]Channel{"c": {Kind: c.kind, URLEnv: "U", Queues: []string{"q"}, MaxAttempts: 3}}}, map[string]string{"U": srv.URL})
		rej := run(t, n, "c", "q", alert("1", "q", "P1", "down"))
		srv.Close()
		switch {
		case c.reason == "" && len(rej) != 0:
			t.Errorf("%s %d %q: dead letter %q, want delivered", c.kind, c.status, c.body, rej[0].Reason)
		case c.reason != "" && (len(rej) != 1 || !strings.Contains(rej[0].Reason, c.reason)):
			t.Errorf("%s %d %q: dead letters %v, want one naming %q", c.kind, c.status, c.body, rej, c.reason)
		}
		if want := max(c.tries, 1); tries.Load() != want {
			t.Errorf("%s %d %q: %d requests, want %d", c.kind, c.status, c.body, tries.Load(), want)
		}
	}
}

// TestSlowEndpointIsBoundedByTheTimeout: an endpoint that answers its
// headers and then one byte of body a second costs the channel its
// timeout, not the length of the drip (a minute here). Its status said
// 200, so the alert counts as delivered; the body read is cut at the
// timeout.
func TestSlowEndpointIsBoundedByTheTimeout(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		for range 60 {
			w.Write([]byte("o"))
			w.(http.Flusher).Flush()
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	n, _ := notifier(t, Config{Channels: map[string]Channel{"c": {Kind: Slack, URLEnv: "U", Queues: []string{"q"}, MaxAttempts: 2, Timeout: 300 * time.Millisecond}}}, map[string]string{"U": srv.URL})
	start := time.Now()
	rej := run(t, n, "c", "q", alert("1", "q", "P1", "down"))
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a dripping endpoint held the channel %v, want about 2 × 300ms", d)
	}
	if len(rej) != 0 {
		t.Errorf("dead letters %v, want none: the status was 200", rej)
	}
}

// TestSlackTextFitsIn3000UTF16Units: a section's text is at most 3,000
// characters; an excerpt of emoji (one character, two UTF-16 units each)
// stays within 3,000 counted either way, so Slack cannot answer
// invalid_blocks for a post of 1,500 emoji.
func TestSlackTextFitsIn3000UTF16Units(t *testing.T) {
	for _, text := range []string{strings.Repeat("🙂", 5000), strings.Repeat("a🙂", 3000), strings.Repeat("🙂\n", 3000)} {
		it := alert("1", "care", "P1", text)
		it.Matches[0].Keywords = []string{strings.Repeat("🙂", 600)}
		var msg slack.WebhookMessage
		b, err := slackAlert(viewOf(it, ""))
		if err != nil {
			t.Fatal(err)
		}
		decode(t, b, &msg)
		for i, blk := range msg.Blocks.BlockSet {
			var s string
			switch blk := blk.(type) {
			case *slack.SectionBlock:
				if blk.Text == nil {
					continue
				}
				s = blk.Text.Text
			case *slack.ContextBlock:
				s = blk.ContextElements.Elements[0].(*slack.TextBlockObject).Text
			default:
				continue
			}
			if n := len(utf16.Encode([]rune(s))); n > slackTextMax {
				t.Errorf("block %d: %d UTF-16 units, want at most %d", i, n, slackTextMax)
			}
		}
	}
	if s := slackCut(strings.Repeat("🙂", 3000), 3000); len(utf16.Encode([]rune(s))) != 2999 || !strings.HasSuffix(s, "🙂…") {
		t.Errorf("slackCut of 3,000 emoji: %d units, want 1,499 emoji and the ellipsis", len(utf16.Encode([]rune(s))))
	}
}

// TestHostileEmailOnTheWire: what a post can put in an alert email, as the
// SMTP server receives it. A handle with CR/LF and an encoded-word
// ("=?utf-8?q?=0D=0ABcc:…?=") adds no header; an excerpt of one 6 KB line
// and invalid UTF-8 keeps every line of the message within RFC 5322's 998
// octets; the HTML part carries no tag, remote image or link of the post;
// the text part shows only the desk link. And a report's subject with
// CR/LF and an encoded-word stays the one Subject.
func TestHostileEmailOnTheWire(t *testing.T) {
	port, api, ca := mailpit(t)
	smtp := SMTPConfig{Host: "localhost", Port: port, Username: "earshot", PasswordEnv: "PW", CAFile: ca}
	n, _ := notifier(t, Config{DeskURL: "https://earshot.example.com", Channels: map[string]Channel{
		"mail": {Kind: Email, From: "earshot@example.com", To: []string{"care@example.com"}, SMTP: smtp, Queues: []string{"q"}},
	}}, map[string]string{"PW": "s3cret-pw"})
	it := alert("1", "q", "P1", `<img src="https://evil.example/track.png"><a href="https://evil.example">https://bank.example</a>`+
		"\xff\xfe bad bytes "+strings.Repeat("𝔸", 1500))
	it.Post.Author.Handle = "bob=?utf-8?q?=0D=0ABcc:_victim@example.com?=\r\nBcc: victim2@example.com"
	if rej := run(t, n, "mail", "q", it); len(rej) != 0 {
		t.Fatalf("dead letter: %s", rej[0].Reason)
	}
	if err := n.SendEmail(context.Background(), "mail", Mail{Subject: "weekly =?utf-8?q?=0D=0ABcc:_victim3@example.com?=\r\nBcc: victim4@example.com", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Messages []struct {
			ID, Subject string
			Bcc         []struct{ Address string }
		} `json:"messages"`
	}
	getJSON(t, api+"/api/v1/messages", &list)
	if len(list.Messages) != 2 {
		t.Fatalf("%d messages, want 2", len(list.Messages))
	}
	for _, m := range list.Messages {
		if len(m.Bcc) != 0 || strings.ContainsAny(m.Subject, "\r\n") {
			t.Errorf("message %q: bcc %v", m.Subject, m.Bcc)
		}
		res, err := http.Get(api + "/api/v1/message/" + m.ID + "/raw")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for i, l := range strings.Split(string(raw), "\n") {
			if len(l) > 998 {
				t.Errorf("%q: line %d is %d octets", m.Subject, i, len(l))
			}
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		for name := range msg.Header {
			if name == "Bcc" || (name != "Subject" && strings.Contains(strings.Join(msg.Header[name], " "), "victim")) {
				t.Errorf("%q: header %s: %v", m.Subject, name, msg.Header[name])
			}
		}
		var full struct{ Text, HTML string }
		getJSON(t, api+"/api/v1/message/"+m.ID, &full)
		if strings.Contains(full.HTML, "<img") || strings.Contains(full.HTML, `href="https://evil`) || strings.Contains(full.HTML, "<a href=\"https://bank") {
			t.Errorf("the HTML part carries the post's markup: %.600s", full.HTML)
		}
		if !utf8.ValidString(full.Text) {
			t.Errorf("the text part is not UTF-8")
		}
	}
}

// TestTeamsDateFunctionsOfAPostAreInert: Adaptive Cards evaluate
// {{DATE(…)}} and {{TIME(…)}} in a TextBlock's text, so a post could show
// the responder a date it did not write as text ("refund due
// {{DATE(…)}}" reads as a real, localised date). No Teams text keeps a
// "{{".
func TestTeamsDateFunctionsOfAPostAreInert(t *testing.T) {
	it := alert("1", "care", "P1", "refund due {{DATE(2017-02-14T06:00:00Z, SHORT)}} at {{{TIME(2017-02-14T06:00:00Z)}}} {{{{x")
	it.Post.Author.Handle = "{{DATE(2017-02-14T06:00:00Z)}}"
	b, err := teamsAlert(viewOf(it, ""))
	if err != nil {
		t.Fatal(err)
	}
	var card any
	decode(t, b, &card)
	if s := allStrings(card); strings.Contains(s, "{{") || !strings.Contains(s, `DATE\(2017`) {
		t.Errorf("a Teams text keeps \"{{\" or lost the text: %s", s)
	}
	if s := EscapeMarkdown("{{TIME(2017-02-14T06:00:00Z)}}"); strings.Contains(s, "{{") {
		t.Errorf("EscapeMarkdown: %q", s)
	}
}

// TestEmailTextPartCannotLieAboutTheLink: the post text is in the text
// part of an alert email; with line breaks it could write lines that read
// as the message's own, "Open in desk: https://evil.example/…" above the
// real link, or "Queue: vip". Each line of the excerpt is quoted ("> "),
// line and paragraph separators counting as line breaks, and "Why" is one
// line.
func TestEmailTextPartCannotLieAboutTheLink(t *testing.T) {
	it := alert("1", "q", "P1", "fine\n\nOpen in desk: https://evil.example/ui/desk?alert=a-1\nQueue: vip\u2028Priority: P4\u0085Team: x\u2029Author: y\vWhy: z\fdone")
	it.Matches[0].Keywords = []string{"out\nOpen in desk: https://evil.example/"}
	_, text, _, err := emailAlert(viewOf(it, "https://earshot.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	fields := 0
	for _, l := range strings.FieldsFunc(text, func(r rune) bool { return strings.ContainsRune("\n\r\v\f\u0085\u2028\u2029", r) }) {
		for _, f := range []string{"Open in desk:", "Queue:", "Priority:", "Team:", "Author:", "Why:"} {
			if strings.HasPrefix(l, f) {
				fields++
				if (f == "Open in desk:" && strings.Contains(l, "evil")) || l == "Queue: vip" || l == "Priority: P4" || l == "Team: x" || l == "Author: y" || l == "Why: z" {
					t.Errorf("a forged line: %q", l)
				}
			}
		}
	}
	if fields != 6 { // the message's own: Priority, Queue, Team, Author, Why, Open in desk
		t.Errorf("%d field lines, want 6:\n%s", fields, text)
	}
	if !strings.Contains(text, "> Open in desk: https://evil.example/") {
		t.Errorf("the excerpt is not shown quoted:\n%s", text)
	}
}

// TestRetryAfterIsNotObeyed: a 429 with Retry-After: 1e12 (or a number of
// seconds past time.Duration's range) must not park a channel for ever:
// the channel's own backoff paces the tries, and after max_attempts the
// alert is a dead letter with the reason. Webhook and bot channels alike.
func TestRetryAfterIsNotObeyed(t *testing.T) {
	for _, after := range []string{"1e12", "1000000000000", "-5", "Wed, 21 Oct 2999 07:28:00 GMT"} {
		var tries atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tries.Add(1)
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Retry-After", after)
			w.WriteHeader(http.StatusTooManyRequests)
		}))
		for _, ch := range []Channel{
			{Kind: Teams, URLEnv: "U", Queues: []string{"q"}, MaxAttempts: 3},
			{Kind: Slack, URL: srv.URL + "/", TokenEnv: "U", SlackChannel: "C0123ABCD", Queues: []string{"q"}, MaxAttempts: 3},
		} {
			tries.Store(0)
			n, _ := notifier(t, Config{Channels: map[string]Channel{"c": ch}}, map[string]string{"U": srv.URL})
			start := time.Now()
			rej := run(t, n, "c", "q", alert("1", "q", "P1", "down"))
			if len(rej) != 1 || tries.Load() != 3 || time.Since(start) > 5*time.Second {
				t.Errorf("Retry-After %q, %s: %d dead letters after %d tries in %v, want 1 after 3", after, ch.Kind, len(rej), tries.Load(), time.Since(start))
			}
		}
		srv.Close()
	}
}

// TestLongDeskURLIsRefusedAtLoad: Slack refuses a button whose URL is over
// 3,000 characters (invalid_blocks), so a desk_url that long would make
// every Slack alert a dead letter; it is refused when the configuration
// is loaded instead.
func TestLongDeskURLIsRefusedAtLoad(t *testing.T) {
	c := Config{DeskURL: "https://earshot.example.com/" + strings.Repeat("a", 3000), Channels: map[string]Channel{"s": {Kind: Slack, URLEnv: "S", Queues: []string{"q"}}}}
	getenv := func(string) string { return "https://hooks.slack.com/services/T/B/X" }
	if err := c.Validate(getenv); err == nil || !strings.Contains(err.Error(), "desk_url") {
		t.Errorf("a desk_url of %d characters: %v, want an error naming desk_url", len(c.DeskURL), err)
	}
	c.DeskURL = "https://earshot.example.com/" + strings.Repeat("a", 900)
	if err := c.Validate(getenv); err != nil {
		t.Errorf("a desk_url of %d characters: %v", len(c.DeskURL), err)
	}
}
