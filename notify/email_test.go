package notify

import (
	"encoding/json"
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/earshot-dev/earshot/internal/testsvc"
)

// mailpit starts a real SMTP server (Mailpit, internal/testsvc) that
// requires STARTTLS with a certificate made for the test and a password
// (earshot / s3cret-pw), and returns its SMTP port, its HTTP API's base URL
// and the CA file to trust.
func mailpit(t *testing.T) (smtpPort int, api, caFile string) {
	t.Helper()
	m := testsvc.Mailpit(t)
	return m.SMTPPort, m.API, m.CAFile
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// An email alert goes over STARTTLS with authentication to a real SMTP
// server, as a text and an HTML part, the post text escaped in the HTML and
// kept out of the headers; a wrong password is a dead letter, not a stall.
func TestEmailThroughRealSMTPServer(t *testing.T) {
	port, api, ca := mailpit(t)
	smtp := SMTPConfig{Host: "localhost", Port: port, Username: "earshot", PasswordEnv: "PW", CAFile: ca}
	n, _ := notifier(t, Config{DeskURL: "https://earshot.example.com", Channels: map[string]Channel{
		"mail": {Kind: Email, From: "earshot@example.com", To: []string{"care@example.com", "lead@example.com"}, SMTP: smtp, Queues: []string{"q"}},
	}}, map[string]string{"PW": "s3cret-pw"})
	text := "our <script>alert(1)</script> outage\r\nBcc: victim@example.com\r\n" + worst()
	if rej := run(t, n, "mail", "q", alert("1", "q", "P1", text)); len(rej) != 0 {
		t.Fatalf("dead letter: %s", rej[0].Reason)
	}
	var list struct {
		Messages []struct {
			ID      string
			Subject string
			To      []struct{ Address string }
			Bcc     []struct{ Address string }
		} `json:"messages"`
	}
	getJSON(t, api+"/api/v1/messages", &list)
	if len(list.Messages) != 1 {
		t.Fatalf("%d messages delivered, want 1", len(list.Messages))
	}
	m := list.Messages[0]
	if m.Subject != "[earshot] P1 alert in q" || len(m.To) != 0 || len(m.Bcc) != 2 {
		t.Errorf("subject %q, to %v, bcc %v", m.Subject, m.To, m.Bcc)
	}
	checkUndisclosed(t, api, m.ID, "care@example.com", "lead@example.com")
	var full struct{ Text, HTML string }
	getJSON(t, api+"/api/v1/message/"+m.ID, &full)
	if !strings.Contains(full.Text, "P1 alert in q") || !strings.Contains(full.Text, "https://earshot.example.com/ui/desk?alert=a-1") {
		t.Errorf("text part: %.300s", full.Text)
	}
	if strings.Contains(full.HTML, "<script>") || !strings.Contains(full.HTML, "&lt;script&gt;") || !strings.Contains(full.HTML, `href="https://earshot.example.com/ui/desk?alert=a-1"`) {
		t.Errorf("HTML part: %.500s", full.HTML)
	}

	bad, _ := notifier(t, Config{Channels: map[string]Channel{
		"mail": {Kind: Email, From: "earshot@example.com", To: []string{"care@example.com"}, SMTP: smtp, Queues: []string{"q"}, MaxAttempts: 2},
	}}, map[string]string{"PW": "wrong"})
	start := time.Now()
	rej := run(t, bad, "mail", "q", alert("2", "q", "P1", "x"))
	if len(rej) != 1 || time.Since(start) > 30*time.Second {
		t.Fatalf("a wrong password: %d dead letters after %v", len(rej), time.Since(start))
	}
	if strings.Contains(rej[0].Reason, "wrong") {
		t.Errorf("the reason carries the password: %q", rej[0].Reason)
	}
	t.Logf("wrong password: %s", rej[0].Reason)
}

// checkUndisclosed fails the test unless the headers we wrote on the
// delivered message name none of the recipients and say so in the To.
// Received and Return-Path are the receiving server's own, and Mailpit
// records the envelope recipients no header names as a Bcc header of its
// own (TestAddresseeWritesNoBcc checks that we write none).
func checkUndisclosed(t *testing.T, api, id string, recipients ...string) {
	t.Helper()
	res, err := http.Get(api + "/api/v1/message/" + id + "/raw")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	msg, err := mail.ReadMessage(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range msg.Header {
		if name == "Received" || name == "Return-Path" || name == "Bcc" {
			continue
		}
		for _, v := range values {
			for _, r := range recipients {
				if strings.Contains(v, r) {
					t.Errorf("header %s shows recipient %s to the others: %s", name, r, v)
				}
			}
		}
	}
	if got := msg.Header.Get("To"); got != "undisclosed-recipients:;" {
		t.Errorf("To: %q, want undisclosed-recipients:;", got)
	}
}

// STARTTLS is mandatory by default: a server whose certificate is not
// trusted gets nothing.
func TestEmailRefusesAnUntrustedServer(t *testing.T) {
	port, api, _ := mailpit(t)
	n, _ := notifier(t, Config{Channels: map[string]Channel{
		"mail": {Kind: Email, From: "earshot@example.com", To: []string{"care@example.com"}, Queues: []string{"q"}, MaxAttempts: 1,
			SMTP: SMTPConfig{Host: "localhost", Port: port, Username: "earshot", PasswordEnv: "PW"}},
	}}, map[string]string{"PW": "s3cret-pw"})
	rej := run(t, n, "mail", "q", alert("1", "q", "P1", "x"))
	if len(rej) != 1 {
		t.Fatalf("%d dead letters, want 1", len(rej))
	}
	var list struct{ Total int }
	getJSON(t, api+"/api/v1/messages", &list)
	if list.Total != 0 {
		t.Errorf("%d messages delivered over an untrusted connection", list.Total)
	}
	t.Logf("untrusted server: %s", rej[0].Reason)
}

func TestEmailValidate(t *testing.T) {
	getenv := func(k string) string { return map[string]string{"PW": "x"}[k] }
	for name, tc := range map[string]struct {
		c    Channel
		want string
	}{
		"no host":      {Channel{Kind: Email, From: "a@b.c", To: []string{"d@e.f"}}, "host"},
		"bad from":     {Channel{Kind: Email, From: "nobody", To: []string{"d@e.f"}, SMTP: SMTPConfig{Host: "h"}}, "from"},
		"no to":        {Channel{Kind: Email, From: "a@b.c", SMTP: SMTPConfig{Host: "h"}}, "to"},
		"header in to": {Channel{Kind: Email, From: "a@b.c", To: []string{"d@e.f\r\nBcc: x@y.z"}, SMTP: SMTPConfig{Host: "h"}}, "to"},
		"starttls":     {Channel{Kind: Email, From: "a@b.c", To: []string{"d@e.f"}, SMTP: SMTPConfig{Host: "h", StartTLS: "maybe"}}, "starttls"},
		"user no pw":   {Channel{Kind: Email, From: "a@b.c", To: []string{"d@e.f"}, SMTP: SMTPConfig{Host: "h", Username: "u"}}, "password"},
		"port":         {Channel{Kind: Email, From: "a@b.c", To: []string{"d@e.f"}, SMTP: SMTPConfig{Host: "h", Port: 1e6}}, "port"},
		"to twice":     {Channel{Kind: Email, From: "a@b.c", To: []string{"d@e.f", "Dee <D@E.f>"}, SMTP: SMTPConfig{Host: "h"}}, `"Dee <D@E.f>" is given twice`},
		"look-alike":   {Channel{Kind: Email, From: "a@b.c", To: []string{"d@ex\u0430mple.com"}, SMTP: SMTPConfig{Host: "h"}}, "its domain"},
	} {
		tc.c.Queues = []string{"q"}
		err := Config{Channels: map[string]Channel{"m": tc.c}}.Validate(getenv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %s", name, err, tc.want)
		}
	}
}

// Several recipients are SMTP recipients only: the message written out
// names them in no header, Bcc included.
func TestAddresseeWritesNoBcc(t *testing.T) {
	m := gomail.NewMsg()
	if err := m.From("earshot@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := addressee(m, []string{"legal@example.com", "hr@example.com"}); err != nil {
		t.Fatal(err)
	}
	m.SetBodyString(gomail.TypeTextPlain, "t")
	var b strings.Builder
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "legal@") || strings.Contains(b.String(), "hr@") || !strings.Contains(b.String(), "\r\nTo: undisclosed-recipients:;\r\n") {
		t.Errorf("written:\n%s", b.String())
	}
	rcpt, err := m.GetRecipients()
	if err != nil || len(rcpt) != 2 {
		t.Errorf("SMTP recipients %v %v", rcpt, err)
	}
}
