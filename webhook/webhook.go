// Package webhook delivers alerts to HTTP endpoints, one per queue, for the
// tools that do not read Kafka: each request is signed with HMAC-SHA256,
// retried with backoff on failure, and dead-lettered after its last try.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/earshot-dev/earshot/internal/redact"
	"github.com/earshot-dev/earshot/internal/retry"
	"github.com/earshot-dev/earshot/internal/secret"
	"github.com/earshot-dev/earshot/post"
)

// Config maps queues to their endpoints.
type Config struct {
	Endpoints map[string]Endpoint `yaml:"endpoints"` // by queue name
}

// Endpoint is where one queue's alerts are posted.
type Endpoint struct {
	URL         string        `yaml:"url"`
	SecretEnv   string        `yaml:"secret_env"`   // environment variable holding the signing secret; secrets stay out of the configuration
	SecretFile  string        `yaml:"secret_file"`  // or a file holding it (a mounted secret)
	MaxAttempts int           `yaml:"max_attempts"` // tries before the alert is dead-lettered; default 6
	Timeout     time.Duration `yaml:"timeout"`      // per request; default 5s
}

// Validate reports every problem at once, the endpoints' signing secrets
// read with getenv (or from their files) among them: the check of the
// process that delivers (earshot webhook, earshot run).
func (c Config) Validate(getenv func(string) string) error { return c.validate(getenv, true) }

// ValidateShape is Validate without reading a secret: each endpoint names
// its secret exactly one way, but neither the variable nor the file need be
// there. Every process checks this; only those that deliver need the
// secrets (docs/deploy.md).
func (c Config) ValidateShape() error { return c.validate(nil, false) }

func (c Config) validate(getenv func(string) string, read bool) error {
	var errs []error
	for q, e := range c.Endpoints {
		u, err := url.Parse(e.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("webhook.endpoints.%s.url: %q is not an http(s) URL", q, redact.URL(e.URL)))
		}
		key := "webhook.endpoints." + q + ".secret"
		if read {
			if _, err := e.secret(key, getenv); err != nil {
				errs = append(errs, err)
			}
		} else if err := e.secretShape(key); err != nil {
			errs = append(errs, err)
		}
		if e.MaxAttempts < 0 || e.MaxAttempts > 20 || e.Timeout < 0 || e.Timeout > 5*time.Minute {
			errs = append(errs, fmt.Errorf("webhook.endpoints.%s: max_attempts 0 to 20 and a timeout of 0 to 5m, please", q))
		}
	}
	return errors.Join(errs...)
}

// Sender posts alerts to one endpoint.
type Sender struct {
	url      string
	shown    string // url in reasons: no userinfo, query or fragment (a token rides there)
	secret   []byte
	attempts int
	client   *http.Client
	backoff  func(attempt int) time.Duration
	now      func() time.Time
}

// secret reads the endpoint's signing secret from its file or its
// environment variable (exactly one); key names it in errors.
func (e Endpoint) secret(key string, getenv func(string) string) (string, error) {
	if err := e.secretShape(key); err != nil {
		return "", err
	}
	return secret.Resolve(key, secret.String{}, e.SecretFile, e.SecretEnv, getenv)
}

// secretShape checks that the endpoint names its secret exactly one way.
func (e Endpoint) secretShape(key string) error {
	if e.SecretEnv == "" && e.SecretFile == "" {
		return fmt.Errorf("%s_env: name the environment variable (or, with secret_file, the file) that holds the signing secret", key)
	}
	return secret.Check(key, secret.String{}, e.SecretFile, e.SecretEnv)
}

// NewSender returns a sender for e, reading its secret from its file or
// with getenv.
func NewSender(e Endpoint, getenv func(string) string) (*Sender, error) {
	sec, err := e.secret("secret", getenv)
	if err != nil {
		return nil, err
	}
	s := &Sender{url: e.URL, shown: redact.URL(e.URL), secret: []byte(sec), attempts: e.MaxAttempts, now: time.Now}
	if s.attempts == 0 {
		s.attempts = 6
	}
	timeout := e.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	s.client = retry.Client(timeout) // a redirect is a dead letter, not followed
	s.backoff = retry.Backoff
	return s, nil
}

// NewSenderFromEnv is NewSender reading the process environment.
func NewSenderFromEnv(e Endpoint) (*Sender, error) { return NewSender(e, os.Getenv) }

// Sign returns the signature header value of body sent at unix time ts:
// "sha256=" + hex(HMAC-SHA256(secret, ts + "." + body)). Receivers should
// recompute it, compare in constant time, and refuse old timestamps.
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10) + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// send makes one attempt.
func (s *Sender) send(ctx context.Context, it *post.Item, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return retry.Permanent{Err: errors.New("the endpoint URL does not make a request")} // its parse error would show the URL
	}
	ts := s.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "earshot-webhook/1")
	req.Header.Set("X-Earshot-Alert-Id", it.Alert.ID)
	req.Header.Set("X-Earshot-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Earshot-Signature", Sign(s.secret, ts, body))
	res, err := s.client.Do(req)
	if err != nil {
		return redact.RequestError(err, s.shown) // network trouble and timeouts are worth another try
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	return retry.HTTPAnswer(res, s.now()) // a 429's Retry-After is waited for, up to retry.MaxWait
}

// Deliver posts one alert, retrying with backoff, and returns the reason it
// gave up, or "" once delivered.
func (s *Sender) Deliver(ctx context.Context, it *post.Item) string {
	body, err := post.Encode(nil, it)
	if err != nil {
		return err.Error()
	}
	f := retry.Do(ctx, s.attempts, s.backoff, func(ctx context.Context) error { return s.send(ctx, it, body) })
	switch {
	case f == nil:
		return ""
	case f.Stopped:
		return fmt.Sprintf("webhook %s: stopped after %d attempts: %v", s.shown, f.Attempts, f.Last)
	case f.Refused:
		return fmt.Sprintf("webhook %s refused the alert: %v", s.shown, f.Last)
	}
	return fmt.Sprintf("webhook %s: %d attempts failed, the last with %v", s.shown, f.Attempts, f.Last)
}

// Stage returns the delivery stage of one queue: every alert is posted;
// those that cannot be delivered become dead letters with the reason.
func (s *Sender) Stage() func(context.Context, post.Batch) (post.Batch, error) {
	return func(ctx context.Context, in post.Batch) (post.Batch, error) {
		var out post.Batch
		for _, it := range in.Items {
			if it.Alert == nil {
				out.Rejected = append(out.Rejected, post.Rejected{Item: it, Reason: "webhook: the record carries no alert", Class: post.ClassMisrouted})
				continue
			}
			reason := s.Deliver(ctx, it)
			if ctx.Err() != nil {
				// Stopping: the batch is redelivered rather than dead-lettered.
				return post.Batch{}, ctx.Err()
			}
			if reason != "" {
				out.Rejected = append(out.Rejected, post.Rejected{Item: it, Reason: reason, Class: post.ClassDeliveryFailed})
			}
		}
		return out, nil
	}
}
