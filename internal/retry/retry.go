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
			t := time.NewTimer(backoff(attempt - 1))
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
