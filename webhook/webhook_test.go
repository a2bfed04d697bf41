package webhook

import (
	"context"
	"crypto/hmac"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

func alert(id string) *post.Item {
	return &post.Item{
		Post:  &post.Post{Platform: "t", ID: id, Text: "acme broke", CreatedAt: time.Now()},
		Alert: &post.Alert{ID: "a" + id, Queue: "care", Priority: "P2", Rule: "r", CreatedAt: time.Now()},
	}
}

// server answers with the statuses in order (the last one repeats); a 0
// status means hang past the client's timeout.
func server(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int32, chan *http.Request) {
	var n atomic.Int32
	got := make(chan *http.Request, 100)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		st := statuses[min(i, len(statuses)-1)]
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		got <- r
		if st == 0 {
			time.Sleep(300 * time.Millisecond)
			return
		}
		w.WriteHeader(st)
	}))
	t.Cleanup(s.Close)
	return s, &n, got
}

func sender(url string, attempts int) *Sender {
	s, err := NewSender(Endpoint{URL: url, SecretEnv: "S", MaxAttempts: attempts, Timeout: 100 * time.Millisecond}, func(string) string { return "top secret" })
	if err != nil {
		panic(err) // a fixed, valid endpoint
	}
	s.backoff = func(int) time.Duration { return time.Millisecond }
	return s
}

func TestDeliverRetriesThenSucceeds(t *testing.T) {
	srv, n, got := server(t, 500, 0, 503, 200) // fails, times out, fails, recovers
	out, err := sender(srv.URL, 6).Stage()(context.Background(), post.Batch{Items: []*post.Item{alert("1")}})
	if err != nil || len(out.Rejected) != 0 {
		t.Fatalf("err %v, rejected %+v", err, out.Rejected)
	}
	if n.Load() != 4 {
		t.Errorf("%d requests, want 4", n.Load())
	}
	var last *http.Request
	for range n.Load() {
		last = <-got
	}
	body, _ := io.ReadAll(last.Body)
	ts, _ := strconv.ParseInt(last.Header.Get("X-Earshot-Timestamp"), 10, 64)
	want := Sign([]byte("top secret"), ts, body)
	if !hmac.Equal([]byte(last.Header.Get("X-Earshot-Signature")), []byte(want)) || last.Header.Get("X-Earshot-Alert-Id") != "a1" {
		t.Errorf("headers %v do not verify", last.Header)
	}
	if it, err := post.Decode(body); err != nil || it.Alert.ID != "a1" {
		t.Errorf("body is not the wire alert: %v", err)
	}
	if Sign([]byte("other"), ts, body) == want {
		t.Error("the signature does not depend on the secret")
	}
}

func TestDeliverGivesUp(t *testing.T) {
	f := func(name string, attempts int, wantReqs int32, want string, statuses ...int) {
		t.Helper()
		srv, n, _ := server(t, statuses...)
		out, err := sender(srv.URL, attempts).Stage()(context.Background(), post.Batch{Items: []*post.Item{alert("1"), alert("2")}})
		if err != nil || len(out.Rejected) != 2 || !strings.Contains(out.Rejected[0].Reason, want) || out.Rejected[0].Item.Alert.ID != "a1" {
			t.Errorf("%s: err %v, rejected %+v, want reasons with %q", name, err, out.Rejected, want)
		}
		for _, r := range out.Rejected {
			if r.Class != post.ClassDeliveryFailed {
				t.Errorf("%s: class %q, want delivery_failed", name, r.Class)
			}
		}
		if n.Load() != wantReqs {
			t.Errorf("%s: %d requests, want %d", name, n.Load(), wantReqs)
		}
	}
	f("down", 3, 6, "3 attempts failed, the last with HTTP 503", 503)
	f("refused", 5, 2, "refused the alert: HTTP 400", 400)
}

func TestStopDuringRetryIsNotADeadLetter(t *testing.T) {
	srv, _, _ := server(t, 503)
	s := sender(srv.URL, 10)
	s.backoff = func(int) time.Duration { return time.Hour }
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	out, err := s.Stage()(ctx, post.Batch{Items: []*post.Item{alert("1")}})
	if err == nil || len(out.Rejected) != 0 {
		t.Errorf("stopping mid-retry: err %v, rejected %+v; want an error and no dead letters", err, out.Rejected)
	}
}

func TestValidate(t *testing.T) {
	c := Config{Endpoints: map[string]Endpoint{"care": {URL: "ftp://x", SecretEnv: "NOPE", MaxAttempts: 50}, "pr": {URL: "https://ok.example/hook"}}}
	err := c.Validate(func(string) string { return "" })
	for _, want := range []string{`care.url: "ftp://x"`, "NOPE is not set", "max_attempts 0 to 20", "pr.secret_env: name the environment variable"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want %q", err, want)
		}
	}
}

// TestSecretFromFile: the signing secret may come from a file (a mounted
// secret) instead of the environment, not from both; a file that cannot
// be read is an error naming the key.
func TestSecretFromFile(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "secret")
	if err := os.WriteFile(f, []byte("from a file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	none := func(string) string { return "" }
	s, err := NewSender(Endpoint{URL: "https://x.example/h", SecretFile: f}, none)
	if err != nil || string(s.secret) != "from a file" {
		t.Fatalf("secret %q, %v", s.secret, err)
	}
	for _, c := range []struct {
		e    Endpoint
		want string
	}{
		{Endpoint{URL: "https://x.example/h", SecretFile: f, SecretEnv: "S"}, "webhook.endpoints.care.secret_env, webhook.endpoints.care.secret_file: set together; give one"},
		{Endpoint{URL: "https://x.example/h", SecretFile: filepath.Join(dir, "none")}, "webhook.endpoints.care.secret_file: open "},
	} {
		err := Config{Endpoints: map[string]Endpoint{"care": c.e}}.Validate(func(string) string { return "env" })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error containing %q", c.e, err, c.want)
		}
	}
}

// TestRedirectIsNotFollowed: an endpoint that redirects (a moved or
// hijacked URL) must not get the alert counted as delivered. Go's client
// turns a POST answered 301–303 into a GET of the new place (the alert
// dropped, the GET answered 200) and posts the signed alert to the new
// place after 307 or 308. A redirect is a dead letter at once naming it,
// without the Location (it may hold a credential), and the other host
// gets nothing.
func TestRedirectIsNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(other.Close)
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		var tries atomic.Int32
		redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tries.Add(1)
			io.Copy(io.Discard, r.Body)
			http.Redirect(w, r, other.URL+"/hooks?token=secret-in-location", code)
		}))
		t.Cleanup(redir.Close)
		out, err := sender(redir.URL, 3).Stage()(context.Background(), post.Batch{Items: []*post.Item{alert("1")}})
		if err != nil || len(out.Rejected) != 1 {
			t.Fatalf("HTTP %d: err %v, rejected %+v, want one dead letter", code, err, out.Rejected)
		}
		reason := out.Rejected[0].Reason
		if !strings.Contains(reason, "redirect") || strings.Contains(reason, "secret-in-location") || tries.Load() != 1 {
			t.Errorf("HTTP %d: reason %q after %d tries, want one try and a reason naming the redirect, not its Location", code, reason, tries.Load())
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect's target got %d requests, want 0", n)
	}
}

// TestRetryAfterIsHonoured: a 429 (or 503) with a sane Retry-After waits
// that long before the next try, however short the endpoint's backoff,
// up to retry.MaxWait; 1e12 or a date in 2999 is no hint (the backoff
// paces the tries, as before).
func TestRetryAfterIsHonoured(t *testing.T) {
	for _, c := range []struct {
		after   string
		atLeast time.Duration
		under   time.Duration
	}{
		{"1", 900 * time.Millisecond, 5 * time.Second},
		{"1000000000000", 0, 900 * time.Millisecond},
		{"Wed, 21 Oct 2999 07:28:00 GMT", 0, 900 * time.Millisecond},
	} {
		var n atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			if n.Add(1) == 1 {
				w.Header().Set("Retry-After", c.after)
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			w.WriteHeader(http.StatusOK)
		}))
		start := time.Now()
		out, err := sender(srv.URL, 3).Stage()(context.Background(), post.Batch{Items: []*post.Item{alert("1")}})
		took := time.Since(start)
		srv.Close()
		if err != nil || len(out.Rejected) != 0 || n.Load() != 2 {
			t.Fatalf("Retry-After %q: err %v, rejected %+v after %d tries", c.after, err, out.Rejected, n.Load())
		}
		if took < c.atLeast || took > c.under {
			t.Errorf("Retry-After %q: delivered after %v, want %v to %v", c.after, took, c.atLeast, c.under)
		}
	}
}

// A token in the endpoint's query string or userinfo never lands in a
// dead letter's reason (the dead-letter topic and table), whether the
// endpoint refused, failed or could not be reached.
func TestReasonsHideTheURLsCredentials(t *testing.T) {
	srv, _, _ := server(t, 400)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nothing listens there any more
	for _, base := range []string{srv.URL, down.URL} {
		u := strings.Replace(base, "http://", "http://bob:pw-s3cret@", 1) + "/hook?token=q-s3cret"
		out, err := sender(u, 2).Stage()(context.Background(), post.Batch{Items: []*post.Item{alert("1")}})
		if err != nil || len(out.Rejected) != 1 {
			t.Fatalf("%s: err %v, rejected %+v", base, err, out.Rejected)
		}
		r := out.Rejected[0].Reason
		if strings.Contains(r, "s3cret") || !strings.Contains(r, strings.TrimPrefix(base, "http://")+"/hook?…") {
			t.Errorf("reason %q shows a credential or not the endpoint", r)
		}
	}
	c := Config{Endpoints: map[string]Endpoint{"care": {URL: "ftp://bob:pw-s3cret@x/?token=q-s3cret", SecretEnv: "S"}}}
	if err := c.ValidateShape(); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Validate = %v, want an error without the credentials", err)
	}
}
