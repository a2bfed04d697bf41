package notify

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestRetryAfterIsHonoured: Slack (webhook and bot), Teams and Opsgenie
// answer a 429 with Retry-After; a sane one is waited for before the next
// try (up to retry.MaxWait), however short the channel's backoff. The
// hostile values of TestRetryAfterIsNotObeyed are still no hint.
func TestRetryAfterIsHonoured(t *testing.T) {
	var tries atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if tries.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		switch r.URL.Path {
		case "/chat.postMessage":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"ok":true,"channel":"C0123ABCD","ts":"1.2"}`)
		case "/v2/alerts":
			w.WriteHeader(http.StatusAccepted)
		default:
			io.WriteString(w, "ok")
		}
	}))
	t.Cleanup(srv.Close)
	for name, ch := range map[string]Channel{
		"slack":     {Kind: Slack, URLEnv: "U", Queues: []string{"q"}, MaxAttempts: 3},
		"teams":     {Kind: Teams, URLEnv: "U", Queues: []string{"q"}, MaxAttempts: 3},
		"opsgenie":  {Kind: Opsgenie, URL: srv.URL, APIKeyEnv: "U", Queues: []string{"q"}, MaxAttempts: 3},
		"slack bot": {Kind: Slack, URL: srv.URL + "/", TokenEnv: "U", SlackChannel: "C0123ABCD", Queues: []string{"q"}, MaxAttempts: 3},
	} {
		tries.Store(0)
		n, _ := notifier(t, Config{Channels: map[string]Channel{"c": ch}}, map[string]string{"U": srv.URL})
		start := time.Now()
		rej := run(t, n, "c", "q", alert("1", "q", "P1", "down"))
		took := time.Since(start)
		if len(rej) != 0 || tries.Load() != 2 {
			t.Errorf("%s: dead letters %v after %d tries, want delivered on the second", name, rej, tries.Load())
		}
		if took < 900*time.Millisecond || took > 5*time.Second {
			t.Errorf("%s: delivered after %v, want after the 1 s Retry-After asked for", name, took)
		}
	}
}
