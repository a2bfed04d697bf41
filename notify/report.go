package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	gomail "github.com/wneessen/go-mail"

	"github.com/earshot-dev/earshot/internal/retry"
)

// Messages that are not alerts (stakeholder digests, docs/digests.md) go
// through the same channels: an email channel's SMTP server and sender,
// a Slack or Teams channel's webhook, with the channel's retries. They
// bypass the alert rate limit and dedup window: the caller keys them.

// Mail is one email that is not an alert.
type Mail struct {
	To        []string // the recipients (blind copies when several); the channel's own To when empty
	Subject   string
	Text      string
	HTML      string
	MessageID string       // without <>; a stable one lets clients drop a resent copy
	Inline    []Attachment // shown in the HTML as cid:NAME
	Attached  []Attachment
}

// Attachment is a file of a Mail.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// ErrUnknownChannel: no channel of that name and kind.
var ErrUnknownChannel = errors.New("no such notification channel")

// ChannelKind returns the kind of the named channel, or "".
func (n *Notifier) ChannelKind(name string) string {
	if ch, ok := n.channels[name]; ok {
		return ch.kind
	}
	return ""
}

// SendEmail sends m through the named email channel, with its retries; the
// error says why it gave up.
func (n *Notifier) SendEmail(ctx context.Context, channel string, m Mail) error {
	ch, ok := n.channels[channel]
	if !ok || ch.kind != Email {
		return fmt.Errorf("%w: %q (email)", ErrUnknownChannel, channel)
	}
	msg, err := ch.email.message(m)
	if err != nil {
		return err
	}
	if why := n.send(ctx, ch, func(ctx context.Context) error { return ch.email.deliver(ctx, msg) }); why != "" {
		n.m.failed.WithLabelValues(ch.name).Inc()
		return errors.New(why)
	}
	n.m.sent.WithLabelValues(ch.name, "report").Inc()
	return nil
}

// EscapeMarkdown escapes untrusted text (a term, a post) for a Teams
// message of SendText, as an alert's is escaped: it shows as written, not
// as a link or formatting, and a bidi control shows as a mark.
func EscapeMarkdown(s string) string { return markdownEscape(markBidi(s)) }

// EscapeSlack escapes untrusted text for a Slack message of SendText, as
// an alert's is: no <!here> or link, @channel, @here, @everyone broken
// so that they ping no one, and a bidi control shown as a mark.
func EscapeSlack(s string) string { return slackEscape(markBidi(s)) }

// SendText posts text (Slack mrkdwn or Teams markdown, already escaped by
// the caller) to the named Slack or Teams channel, with its retries.
func (n *Notifier) SendText(ctx context.Context, channel, text string) error {
	ch, ok := n.channels[channel]
	if !ok || (ch.kind != Slack && ch.kind != Teams) {
		return fmt.Errorf("%w: %q (slack or teams)", ErrUnknownChannel, channel)
	}
	// A bot posts through the Web API (chat.postMessage, with its token):
	// its url is the API's base, not a webhook.
	try := ch.slackPost("", text, nil)
	if ch.bot == nil {
		var body []byte
		var err error
		if ch.kind == Slack {
			body, err = json.Marshal(map[string]any{"text": text, "unfurl_links": false})
		} else {
			body, err = json.Marshal(map[string]any{"type": "message", "attachments": []any{map[string]any{
				"contentType": "application/vnd.microsoft.card.adaptive",
				"content": map[string]any{"type": "AdaptiveCard", "version": "1.4", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
					"body": []any{map[string]any{"type": "TextBlock", "text": text, "wrap": true}}},
			}}})
		}
		if err != nil {
			return err
		}
		try = func(ctx context.Context) error { return ch.post(ctx, body) }
	}
	if why := n.send(ctx, ch, try); why != "" {
		n.m.failed.WithLabelValues(ch.name).Inc()
		return errors.New(why)
	}
	n.m.sent.WithLabelValues(ch.name, "report").Inc()
	return nil
}

// message builds m as a multipart message: text and HTML alternatives,
// inline images, attachments.
func (e *emailSender) message(m Mail) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(e.from); err != nil {
		return nil, retry.Permanent{Err: err}
	}
	to := m.To
	if len(to) == 0 {
		to = e.to
	}
	if err := addressee(msg, to); err != nil {
		return nil, retry.Permanent{Err: err}
	}
	msg.Subject(subjectLine(m.Subject))
	if m.MessageID != "" {
		msg.SetMessageIDWithValue(oneLine(m.MessageID))
	} else {
		msg.SetMessageID()
	}
	msg.SetDate()
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	for _, a := range m.Inline {
		if err := msg.EmbedReader(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(a.ContentType)), gomail.WithFileContentID(a.Name)); err != nil {
			return nil, err
		}
	}
	for _, a := range m.Attached {
		if err := msg.AttachReader(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(a.ContentType))); err != nil {
			return nil, err
		}
	}
	return msg, nil
}

// deliver makes one SMTP transaction of a built message.
func (e *emailSender) deliver(ctx context.Context, m *gomail.Msg) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	err := e.client.DialAndSendWithContext(ctx, m)
	var se *gomail.SendError
	if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 {
		return retry.Permanent{Err: err}
	}
	return err
}
