package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"html/template"
	"net/mail"
	"os"
	"strings"
	"sync"

	gomail "github.com/wneessen/go-mail"

	"github.com/earshot-dev/earshot/internal/mailaddr"
	"github.com/earshot-dev/earshot/internal/retry"
	"github.com/earshot-dev/earshot/internal/secret"
)

// SMTPConfig is where an email channel sends, and how it logs in.
type SMTPConfig struct {
	Host         string `yaml:"host"`
	Port         int    `yaml:"port"`          // default 587
	Username     string `yaml:"username"`      // none: no authentication
	PasswordEnv  string `yaml:"password_env"`  // the password, from the environment
	PasswordFile string `yaml:"password_file"` // or from a file
	// StartTLS is mandatory (the default: refuse a server that cannot
	// encrypt), opportunistic, or none (plain text; only for a relay on the
	// same host).
	StartTLS string `yaml:"starttls"`
	CAFile   string `yaml:"ca_file"` // PEM CAs to trust for the server's certificate; default the system's
}

// Email is an email channel's sender.
type emailSender struct {
	mu     sync.Mutex // one SMTP transaction at a time per channel
	client *gomail.Client
	from   string
	to     []string
}

func (c SMTPConfig) validate(key string, from string, to []string, getenv func(string) string, read bool) error {
	var errs []error
	if c.Host == "" || strings.ContainsAny(c.Host, "/ \t\r\n") {
		errs = append(errs, fmt.Errorf("%s.smtp.host: give the SMTP server's host name", key))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("%s.smtp.port: %d, want 1 to 65535", key, c.Port))
	}
	switch c.StartTLS {
	case "", "mandatory", "opportunistic", "none":
	default:
		errs = append(errs, fmt.Errorf("%s.smtp.starttls: %q, want mandatory, opportunistic or none", key, c.StartTLS))
	}
	if read {
		if _, err := secret.Resolve(key+".smtp.password", secret.String{}, c.PasswordFile, c.PasswordEnv, getenv); err != nil {
			errs = append(errs, err)
		}
	} else if err := secret.Check(key+".smtp.password", secret.String{}, c.PasswordFile, c.PasswordEnv); err != nil {
		errs = append(errs, err)
	}
	if (c.Username == "") != (c.PasswordEnv == "" && c.PasswordFile == "") {
		errs = append(errs, fmt.Errorf("%s.smtp: give username with password_env or password_file, or neither", key))
	}
	if _, err := mail.ParseAddress(from); err != nil {
		errs = append(errs, fmt.Errorf("%s.from: %q is not an email address", key, from))
	}
	if len(to) == 0 || len(to) > 100 {
		errs = append(errs, fmt.Errorf("%s.to: 1 to 100 addresses, please", key))
	}
	for _, a := range to {
		if _, err := mail.ParseAddress(a); err != nil {
			errs = append(errs, fmt.Errorf("%s.to: %q is not an email address", key, a))
		}
	}
	for _, err := range mailaddr.Check(to) {
		errs = append(errs, fmt.Errorf("%s.to: %w", key, err))
	}
	if c.CAFile != "" && read { // mounted where the channel sends from
		if _, err := caPool(c.CAFile); err != nil {
			errs = append(errs, fmt.Errorf("%s.smtp.ca_file: %w", key, err))
		}
	}
	return errors.Join(errs...)
}

func caPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("no PEM certificate in %s", path)
	}
	return p, nil
}

func newEmailSender(ch Channel, getenv func(string) string) (*emailSender, error) {
	c := ch.SMTP
	port := c.Port
	if port == 0 {
		port = 587
	}
	policy := gomail.TLSMandatory
	switch c.StartTLS {
	case "opportunistic":
		policy = gomail.TLSOpportunistic
	case "none":
		policy = gomail.NoTLS
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.Host}
	if c.CAFile != "" {
		pool, err := caPool(c.CAFile)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = pool
	}
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTLSPolicy(policy), gomail.WithTLSConfig(tc), gomail.WithTimeout(cmp(ch.Timeout, DefaultTimeout))}
	if c.Username != "" {
		pw, err := secret.Resolve("smtp.password", secret.String{}, c.PasswordFile, c.PasswordEnv, getenv)
		if err != nil {
			return nil, err
		}
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(c.Username), gomail.WithPassword(pw))
	}
	client, err := gomail.NewClient(c.Host, opts...)
	if err != nil {
		return nil, err
	}
	return &emailSender{client: client, from: ch.From, to: ch.To}, nil
}

// send makes one SMTP transaction: a multipart/alternative message with a
// text and an HTML part.
func (e *emailSender) send(ctx context.Context, subject, text, html string) error {
	m := gomail.NewMsg()
	if err := m.From(e.from); err != nil {
		return retry.Permanent{Err: err}
	}
	if err := addressee(m, e.to); err != nil {
		return retry.Permanent{Err: err}
	}
	m.Subject(subjectLine(subject))
	m.SetMessageID()
	m.SetDate()
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, text)
	if html != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, html)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	err := e.client.DialAndSendWithContext(ctx, m)
	var se *gomail.SendError
	if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 {
		return retry.Permanent{Err: err} // a 5xx answer: the server will not take it
	}
	return err
}

// addressee puts the recipients on m without showing them to each other:
// one recipient is the To; several are blind copies (each is an SMTP
// recipient, none is in a header) under the empty group
// "undisclosed-recipients:;" (RFC 5322 section 3.6.3), the To that mail
// servers write themselves for such a message and clients show as such. So
// legal, HR and executives on one digest do not learn each other's
// addresses, and a reply-all goes to the sender alone. The sender is not
// made the To: a From without a mailbox would make the relay refuse the
// whole message.
func addressee(m *gomail.Msg, to []string) error {
	if len(to) == 1 {
		return m.To(to[0])
	}
	if err := m.Bcc(to...); err != nil {
		return err
	}
	m.SetGenHeaderPreformatted(gomail.Header(gomail.HeaderTo), "undisclosed-recipients:;")
	return nil
}

// oneLine keeps untrusted text from adding header lines to a subject.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// subjectLine is s as a Subject: one line, and an encoded-word in it
// ("=?utf-8?q?=0D=0ABcc:…?=", which a client would decode into a line
// break and text that reads as a header) shown as typed: a word joiner
// (invisible) after each "=" before "?" makes the subject non-ASCII, so
// it is sent encoded as a whole, and a client decodes only that.
func subjectLine(s string) string {
	return strings.ReplaceAll(oneLine(s), "=?", "=\u2060?")
}

// quoteText prefixes each line of s with "> ", a reply's quote in a text
// mail; the characters that break a line where the text is shown (CR,
// VT, FF, NEL, U+2028, U+2029) count as line breaks.
func quoteText(s string) string {
	s = lineBreaks.Replace(s)
	return "> " + strings.ReplaceAll(s, "\n", "\n> ")
}

var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\v", "\n", "\f", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n")

func emailAlert(v view) (subject, text, html string, err error) {
	subject = truncate(oneLine("[earshot] "+v.title()), 200)
	var t strings.Builder
	fmt.Fprintf(&t, "%s\n\nPriority: %s\nQueue: %s\n", v.title(), v.Priority, v.Queue)
	if v.Team != "" {
		fmt.Fprintf(&t, "Team: %s\n", v.Team)
	}
	if v.Author != "" {
		fmt.Fprintf(&t, "Author: %s @%s\n", v.Platform, v.Author)
	}
	if v.Retracted {
		t.WriteString("\n" + v.Closed + "\n")
	} else {
		// The post's lines are quoted and "Why" is one line: else a post
		// (or a term) could write "Open in desk: https://evil…" above the
		// real link.
		if v.Excerpt != "" {
			fmt.Fprintf(&t, "\n%s\n", quoteText(v.Excerpt))
		}
		if v.Why != "" {
			fmt.Fprintf(&t, "\nWhy: %s\n", oneLine(v.Why))
		}
	}
	if v.Desk != "" {
		fmt.Fprintf(&t, "\nOpen in desk: %s\n", v.Desk)
	}
	var h bytes.Buffer
	if err := emailHTML.Execute(&h, v); err != nil {
		return "", "", "", err
	}
	return subject, t.String(), h.String(), nil
}

// emailHTML escapes everything it is given (html/template): the post text
// cannot add markup, links or scripts.
var emailHTML = template.Must(template.New("alert").Parse(`<!doctype html>
<html><body style="font-family: sans-serif">
<h2>{{.Priority}} alert in {{.Queue}}{{if .Resolved}} (resolved){{else if .Retracted}} (retracted){{end}}{{if .Unstaffed}} (nobody on duty){{end}}</h2>
<table>
<tr><th align="left">Priority</th><td>{{.Priority}}</td></tr>
<tr><th align="left">Queue</th><td>{{.Queue}}</td></tr>
{{if .Team}}<tr><th align="left">Team</th><td>{{.Team}}</td></tr>{{end}}
{{if .Author}}<tr><th align="left">Author</th><td>{{.Platform}} @{{.Author}}</td></tr>{{end}}
</table>
{{if .Retracted}}<p>{{.Closed}}</p>{{else}}
{{if .Excerpt}}<blockquote style="white-space: pre-wrap">{{.Excerpt}}</blockquote>{{end}}
{{if .Why}}<p><small>Why: {{.Why}}</small></p>{{end}}{{end}}
{{if .Desk}}<p><a href="{{.Desk}}">Open in desk</a></p>{{end}}
</body></html>
`))
