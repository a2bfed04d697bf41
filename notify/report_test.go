package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// A report email (a digest) goes through the email channel's SMTP server
// to the recipients given, with the Message-ID given, an inline image the
// HTML names by cid: and an attachment.
func TestSendEmailReport(t *testing.T) {
	port, api, ca := mailpit(t)
	smtp := SMTPConfig{Host: "localhost", Port: port, Username: "earshot", PasswordEnv: "PW", CAFile: ca}
	n, _ := notifier(t, Config{Channels: map[string]Channel{
		"mail": {Kind: Email, From: "earshot@example.com", To: []string{"care@example.com"}, SMTP: smtp, Queues: []string{"q"}},
	}}, map[string]string{"PW": "s3cret-pw"})
	png := []byte("\x89PNG\r\n\x1a\nnot really")
	m := Mail{To: []string{"legal@example.com", "sofia@example.com"}, Subject: "legal weekly:\r\nBcc: victim@example.com", Text: "text part",
		HTML: `<p>html part</p><img src="cid:volume.png">`, MessageID: "digest.legal-weekly.20261207T0600Z@earshot",
		Inline: []Attachment{{Name: "volume.png", ContentType: "image/png", Data: png}}, Attached: []Attachment{{Name: "terms.csv", ContentType: "text/csv", Data: []byte("term,n\nacme,1\n")}}}
	if err := n.SendEmail(context.Background(), "mail", m); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Messages []struct {
			ID, MessageID, Subject string
			To, Bcc                []struct{ Address string }
		} `json:"messages"`
	}
	getJSON(t, api+"/api/v1/messages", &list)
	if len(list.Messages) != 1 {
		t.Fatalf("%d messages", len(list.Messages))
	}
	got := list.Messages[0]
	if got.MessageID != m.MessageID || len(got.To) != 0 || len(got.Bcc) != 2 || got.Bcc[0].Address != "legal@example.com" || strings.Contains(got.Subject, "\n") {
		t.Errorf("delivered %+v", got)
	}
	checkUndisclosed(t, api, got.ID, "legal@example.com", "sofia@example.com")
	var full struct {
		Text, HTML  string
		Inline      []struct{ FileName, ContentType, ContentID string }
		Attachments []struct{ FileName, ContentType string }
	}
	getJSON(t, api+"/api/v1/message/"+got.ID, &full)
	if full.Text != "text part" || !strings.Contains(full.HTML, "cid:volume.png") {
		t.Errorf("parts %q %q", full.Text, full.HTML)
	}
	if len(full.Inline) != 1 || full.Inline[0].ContentID != "volume.png" || full.Inline[0].ContentType != "image/png" {
		t.Errorf("inline %+v", full.Inline)
	}
	if len(full.Attachments) != 1 || full.Attachments[0].FileName != "terms.csv" {
		t.Errorf("attachments %+v", full.Attachments)
	}
	if err := n.SendEmail(context.Background(), "nope", m); !errors.Is(err, ErrUnknownChannel) {
		t.Errorf("unknown channel: %v", err)
	}
}

// Text to Slack and Teams is JSON their webhooks take, retried on 5xx.
func TestSendText(t *testing.T) {
	var mu sync.Mutex
	var bodies []map[string]any
	fails := 1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Errorf("not JSON: %s", b)
		}
		bodies = append(bodies, v)
	}))
	defer srv.Close()
	n, _ := notifier(t, Config{Channels: map[string]Channel{
		"s":  {Kind: Slack, URLEnv: "S", Queues: []string{"q"}},
		"tm": {Kind: Teams, URLEnv: "T", Queues: []string{"q"}},
	}}, map[string]string{"S": srv.URL, "T": srv.URL})
	for _, ch := range []string{"s", "tm"} {
		if err := n.SendText(context.Background(), ch, "legal weekly: 3 mentions <https://x/y|open>"); err != nil {
			t.Fatalf("%s: %v", ch, err)
		}
	}
	if len(bodies) != 2 || bodies[0]["text"] != "legal weekly: 3 mentions <https://x/y|open>" || bodies[1]["type"] != "message" {
		t.Errorf("bodies %v", bodies)
	}
	if err := n.SendText(context.Background(), "nope", "x"); !errors.Is(err, ErrUnknownChannel) {
		t.Errorf("unknown channel: %v", err)
	}
}

// One recipient is the To: nobody else to hide it from.
func TestSendEmailOneRecipientIsTheTo(t *testing.T) {
	port, api, ca := mailpit(t)
	smtp := SMTPConfig{Host: "localhost", Port: port, Username: "earshot", PasswordEnv: "PW", CAFile: ca}
	n, _ := notifier(t, Config{Channels: map[string]Channel{
		"mail": {Kind: Email, From: "earshot@example.com", To: []string{"care@example.com"}, SMTP: smtp, Queues: []string{"q"}},
	}}, map[string]string{"PW": "s3cret-pw"})
	if err := n.SendEmail(context.Background(), "mail", Mail{Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Messages []struct{ To, Bcc []struct{ Address string } } `json:"messages"`
	}
	getJSON(t, api+"/api/v1/messages", &list)
	if len(list.Messages) != 1 || len(list.Messages[0].To) != 1 || list.Messages[0].To[0].Address != "care@example.com" || len(list.Messages[0].Bcc) != 0 {
		t.Errorf("delivered %+v", list.Messages)
	}
}
