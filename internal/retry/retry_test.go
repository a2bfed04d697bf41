package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

func noWait(int) time.Duration { return 0 }

func TestDo(t *testing.T) {
	flaky := errors.New("flaky")
	ctx := context.Background()
	calls := 0
	if f := Do(ctx, 3, noWait, func(context.Context) error {
		if calls++; calls < 3 {
			return flaky
		}
		return nil
	}); f != nil || calls != 3 {
		t.Errorf("third attempt succeeds: %+v after %d calls", f, calls)
	}
	calls = 0
	f := Do(ctx, 3, noWait, func(context.Context) error { calls++; return flaky })
	if f == nil || f.Attempts != 3 || f.Last != flaky || f.Stopped || f.Refused || calls != 3 {
		t.Errorf("all fail: %+v after %d calls", f, calls)
	}
	calls = 0
	refused := errors.New("HTTP 400")
	f = Do(ctx, 3, noWait, func(context.Context) error { calls++; return Permanent{refused} })
	if f == nil || !f.Refused || f.Last != refused || f.Attempts != 1 || calls != 1 {
		t.Errorf("permanent stops at once: %+v after %d calls", f, calls)
	}
	cctx, cancel := context.WithCancel(ctx)
	calls = 0
	f = Do(cctx, 5, func(int) time.Duration { return time.Hour }, func(context.Context) error { calls++; cancel(); return flaky })
	if f == nil || !f.Stopped || f.Attempts != 1 || f.Last != flaky || calls != 1 {
		t.Errorf("cancelled while waiting: %+v after %d calls", f, calls)
	}
}

func TestBackoff(t *testing.T) {
	for attempt, want := range []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second} {
		if d := Backoff(attempt); d < want/2 || d > want {
			t.Errorf("Backoff(%d) = %v, want %v/2 to %v", attempt, d, want, want)
		}
	}
	if d := Backoff(40); d < 4*time.Second || d > 8*time.Second {
		t.Errorf("Backoff(40) = %v, want capped at 8s", d)
	}
}

func TestHTTPStatus(t *testing.T) {
	var p Permanent
	for code, want := range map[int]string{200: "ok", 204: "ok", 408: "retry", 429: "retry", 500: "retry", 503: "retry", 400: "permanent", 401: "permanent", 404: "permanent", 302: "permanent", 307: "permanent"} {
		err := HTTPStatus(code)
		got := "retry"
		switch {
		case err == nil:
			got = "ok"
		case errors.As(err, &p):
			got = "permanent"
		}
		if got != want {
			t.Errorf("HTTPStatus(%d) = %v (%s), want %s", code, err, got, want)
		}
	}
}
