// Package retry is the one delivery loop of the stages that call out over
// the network (webhook, notify): an attempt is made again, after a growing,
// jittered wait, until it succeeds, fails permanently, the attempts run
// out, or the context ends.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Permanent is a failure that retrying will not fix (a 4xx answer, a
// refused message): Do stops at it.
type Permanent struct{ Err error }

func (p Permanent) Error() string { return p.Err.Error() }
func (p Permanent) Unwrap() error { return p.Err }

// Backoff is the wait before the retry that follows attempt (0-based):
// 0.25s, 0.5s, 1s, … capped at 8s, with jitter (half of it random).
func Backoff(attempt int) time.Duration {
	d := 8 * time.Second
	if attempt < 5 { // past 5 the cap holds, and a larger shift would overflow
		d = 250 * time.Millisecond << attempt
	}
	return d/2 + rand.N(d/2+1)
}

// MaxWait bounds the wait an answer may ask for (After): Backoff's own cap.
// A longer Retry-After (Slack's 30 s) waits this long: the stage's runner
// is held while it waits, and the alerts behind it wait too.
const MaxWait = 8 * time.Second

// After is a failure worth retrying whose answer said how long to wait
// (Retry-After): Do waits that long, if longer than the backoff, up to
// MaxWait.
type After struct {
	Err  error
	Wait time.Duration
}

func (a After) Error() string { return a.Err.Error() }
func (a After) Unwrap() error { return a.Err }

// wait is the wait before the retry that follows attempt, whose failure
// was last.
func wait(backoff func(int) time.Duration, attempt int, last error) time.Duration {
	d := backoff(attempt)
	var a After
	if errors.As(last, &a) && a.Wait > d {
		d = min(a.Wait, MaxWait)
	}
	return d
}

// MaxRetryAfter is the longest Retry-After taken as meant: no service asks
// for more than an hour, so a longer one (1e12 seconds, a date in 2999)
// is garbage and ignored rather than capped.
const MaxRetryAfter = time.Hour

// RetryAfter is the wait a Retry-After header value asks for at now
// (delay-seconds, or an HTTP-date), or 0 when it asks for none: absent,
// unparsable, negative, fractional, past, or over an hour away.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 || n > int64(MaxRetryAfter/time.Second) {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if d := t.Sub(now); d > 0 && d <= MaxRetryAfter {
		return d
	}
	return 0
}

// HTTPAnswer is HTTPStatus of res's status, with the wait its Retry-After
// asks for on a 429 or 503 (After): the answers that carry one.
func HTTPAnswer(res *http.Response, now time.Time) error {
	err := HTTPStatus(res.StatusCode)
	if err == nil || res.StatusCode != http.StatusTooManyRequests && res.StatusCode != http.StatusServiceUnavailable {
		return err
	}
	if d := RetryAfter(res.Header.Get("Retry-After"), now); d > 0 {
		return After{Err: err, Wait: d}
	}
	return err
}

// Failure is why Do gave up. Stopped: the context ended while waiting, after
// Attempts attempts. Refused: an attempt failed permanently; Last is its
// cause. Otherwise all Attempts failed, the last with Last.
type Failure struct {
	Attempts         int
	Last             error
	Stopped, Refused bool
}

// Do makes up to attempts attempts of try, waiting backoff(n) before the
// retry that follows attempt n, and returns nil once one succeeds.
func Do(ctx context.Context, attempts int, backoff func(int) time.Duration, try func(context.Context) error) *Failure {
	var last error
	for attempt := range attempts {
		if attempt > 0 {
			t := time.NewTimer(wait(backoff, attempt-1, last))
			select {
			case <-ctx.Done():
				t.Stop()
				return &Failure{Attempts: attempt, Last: last, Stopped: true}
			case <-t.C:
			}
		}
		if last = try(ctx); last == nil {
			return nil
		}
		var p Permanent
		if errors.As(last, &p) {
			return &Failure{Attempts: attempt + 1, Last: p.Err, Refused: true}
		}
	}
	return &Failure{Attempts: attempts, Last: last}
}

// HTTPStatus is the outcome of an HTTP answer with this status: nil for
// success, a failure worth retrying for 408, 429 and 5xx, Permanent for the
// rest.
func HTTPStatus(code int) error {
	switch {
	case code < 300:
		return nil
	case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500:
		return fmt.Errorf("HTTP %d", code)
	case code < 400:
		// Seen by a Client, which does not follow redirects: say why,
		// without the Location, which may hold a credential.
		return Permanent{fmt.Errorf("HTTP %d: a redirect, not followed", code)}
	}
	return Permanent{fmt.Errorf("HTTP %d", code)}
}

// Client is the HTTP client of a stage that posts to an endpoint (webhook,
// notify): it does not follow redirects. A POST answered 301–303 would be
// followed by a GET of the new place (the message dropped, the GET answered
// 200: "delivered"), and one answered 307 or 308 would post the message,
// signed or carrying its credential, to wherever the endpoint points; the
// 3xx is returned instead, and HTTPStatus refuses it.
func Client(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
