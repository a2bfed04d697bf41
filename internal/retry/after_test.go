package retry

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestRetryAfter: delay-seconds and HTTP-dates up to an hour away are read;
// anything else (1e12, a number past time.Duration's range, negative,
// fractional, a date in the past or in 2999, garbage) is no hint at all,
// so the channel's own backoff paces the tries as before.
func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"30":                            30 * time.Second,
		" 5 ":                           5 * time.Second,
		"3600":                          time.Hour,
		"0":                             0,
		"":                              0,
		"-5":                            0,
		"5.5":                           0,
		"1e12":                          0,
		"1000000000000":                 0,
		"99999999999999999999999":       0,
		"3601":                          0,
		"soon":                          0,
		"Mon, 07 Dec 2026 20:00:20 GMT": 20 * time.Second,
		"Mon, 07 Dec 2026 19:59:00 GMT": 0,
		"Wed, 21 Oct 2999 07:28:00 GMT": 0,
	} {
		if got := RetryAfter(in, now); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestWaitHonoursTheAnswer: the wait before a retry is the backoff's, or
// what the answer asked for when longer, but never more than MaxWait.
func TestWaitHonoursTheAnswer(t *testing.T) {
	b := func(int) time.Duration { return time.Second }
	plain := errors.New("HTTP 500")
	for _, c := range []struct {
		last error
		want time.Duration
	}{
		{plain, time.Second},
		{After{Err: plain, Wait: 3 * time.Second}, 3 * time.Second},
		{After{Err: plain, Wait: time.Millisecond}, time.Second},
		{After{Err: plain, Wait: time.Hour}, MaxWait},
	} {
		if got := wait(b, 0, c.last); got != c.want {
			t.Errorf("wait after %v = %v, want %v", c.last, got, c.want)
		}
	}
}

// TestHTTPAnswer: a 429 or 503 carries its Retry-After as a hint; the error
// reads as before, and other statuses are HTTPStatus's.
func TestHTTPAnswer(t *testing.T) {
	now := time.Now()
	res := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"7"}}}
	var a After
	if err := HTTPAnswer(res, now); !errors.As(err, &a) || a.Wait != 7*time.Second || err.Error() != "HTTP 429" {
		t.Errorf("429 with Retry-After 7: %v (%+v)", err, a)
	}
	res = &http.Response{StatusCode: 400, Header: http.Header{"Retry-After": {"7"}}}
	var p Permanent
	if err := HTTPAnswer(res, now); !errors.As(err, &p) || errors.As(err, &a) {
		t.Errorf("400 with Retry-After: %v, want a permanent failure and no wait", err)
	}
	res = &http.Response{StatusCode: 200, Header: http.Header{"Retry-After": {"7"}}}
	if err := HTTPAnswer(res, now); err != nil {
		t.Errorf("200: %v", err)
	}
}
