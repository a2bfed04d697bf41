package notify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// TestSlowChannelDoesNotHoldBackAnothersDigest: a channel that hangs (a
// Slack or Teams endpoint answering in 30 s) holds its own digest for its
// tries and timeouts, not every other channel's: each channel's digests go
// out on their own, as its alerts do.
func TestSlowChannelDoesNotHoldBackAnothersDigest(t *testing.T) {
	var hang atomic.Bool
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hang.Load() {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	defer slow.Close()
	defer close(release)
	fast := newReceiver(t, http.StatusOK)
	limit := RateLimit{Messages: 1, Per: time.Minute}
	n, clk := notifier(t, Config{Channels: map[string]Channel{
		// Sorted first: a digest round that goes channel by channel
		// reaches it first.
		"a-slow": {Kind: Slack, URLEnv: "A", Queues: []string{"care"}, RateLimit: limit, Timeout: 2 * time.Second, MaxAttempts: 3},
		"b-fast": {Kind: Slack, URLEnv: "B", Queues: []string{"care"}, RateLimit: limit},
	}}, map[string]string{"A": slow.URL, "B": fast.URL})
	for _, ch := range []string{"a-slow", "b-fast"} {
		var batch []*post.Item
		for i := range 3 {
			batch = append(batch, alert(fmt.Sprint(ch, i), "care", "P3", "x"))
		}
		if rej := run(t, n, ch, "care", batch...); len(rej) != 0 {
			t.Fatalf("%s: dead letters %+v", ch, rej)
		}
	}
	hang.Store(true)
	clk.add(time.Minute)
	start := time.Now()
	done := make(chan struct{})
	go func() { n.Flush(context.Background()); close(done) }()
	for len(fast.got()) < 2 && time.Since(start) < 10*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(start)
	<-done
	got := fast.got()
	if len(got) != 2 || !strings.Contains(string(got[1]), "2 more P3 alerts in care") {
		t.Fatalf("b-fast got %d messages, want its alert and its digest: %q", len(got), got)
	}
	if took > time.Second {
		t.Errorf("b-fast's digest took %v: it waited for a-slow's tries (3 × 2 s)", took)
	}
}

// TestChatClosesOverTheRateLimitAreNotCountedAsAlerts: a Slack webhook,
// Teams or email channel posts a short "Resolved"/"Retracted" message under
// its rate limit. A close the limit holds back is not a new alert: the
// digest counting it as "N more P3 alerts in care" told the channel of
// alerts that never came (a responder resolving ten alerts at once read,
// ten minutes later, as ten new ones). Such a close is not sent (the desk
// shows the alert closed), as in quiet hours.
func TestChatClosesOverTheRateLimitAreNotCountedAsAlerts(t *testing.T) {
	rx := newReceiver(t, http.StatusOK)
	n, clk := notifier(t, Config{Channels: map[string]Channel{
		"s": {Kind: Slack, URLEnv: "S", Queues: []string{"care"}, RateLimit: RateLimit{Messages: 3, Per: time.Hour}},
	}}, map[string]string{"S": rx.URL})
	run(t, n, "s", "care", alert("1", "care", "P3", "x"), alert("2", "care", "P3", "x"), alert("3", "care", "P3", "x"))
	var closes []*post.Item
	for i, id := range []string{"1", "2", "3"} {
		it := alert(id, "care", "P3", "x")
		if i == 0 {
			it.Alert.Retracted = true
		} else {
			it.Alert.Resolved = &post.Resolution{By: "rita", Outcome: "replied", At: clk.now()}
		}
		closes = append(closes, it)
	}
	out, err := n.ResolveStage("s")(context.Background(), post.Batch{Items: closes[1:]})
	if err != nil || len(out.Rejected) != 0 {
		t.Fatalf("resolves: %v %+v", err, out.Rejected)
	}
	run(t, n, "s", "care", closes[0])
	clk.add(time.Hour)
	n.Flush(context.Background())
	for _, b := range rx.got() {
		if strings.Contains(string(b), "more") {
			t.Errorf("a digest counts closes as alerts: %s", b)
		}
	}
	if got := len(rx.got()); got != 3 {
		t.Errorf("%d messages, want the 3 alerts", got)
	}
	// A new alert over the limit is still counted into the digest.
	run(t, n, "s", "care", alert("4", "care", "P3", "x"), alert("5", "care", "P3", "x"), alert("6", "care", "P3", "x"), alert("7", "care", "P3", "x"))
	clk.add(time.Hour)
	n.Flush(context.Background())
	got := rx.got()
	if len(got) != 7 || !strings.Contains(string(got[6]), "1 more P3 alert in care") {
		t.Errorf("%d messages, the last %.300s; want 3 alerts, then 3 more and a digest of 1", len(got), got[len(got)-1])
	}
}

// TestSendTextThroughASlackBot: a stakeholder digest's summary (SendText)
// on a Slack channel with a bot token is posted with chat.postMessage to the
// channel; it was POSTed as an incoming webhook's JSON to the Web API's base
// URL, which has no such method (and no token went with it): the digest was
// never posted, while the ledger marked it delivered.
func TestSendTextThroughASlackBot(t *testing.T) {
	api := newSlackAPI(t)
	n, _ := notifier(t, Config{Channels: map[string]Channel{"bot": botChannel(api.URL)}}, map[string]string{"SLACK_BOT": "xoxb-test"})
	if err := n.SendText(context.Background(), "bot", "*Legal weekly* is ready: <https://earshot.example.com/d|open>"); err != nil {
		t.Fatal(err)
	}
	posts, _ := api.got()
	if len(posts) != 1 || !strings.Contains(posts[0].text, "Legal weekly") {
		t.Fatalf("posts %+v (bad requests %v), want the summary posted with chat.postMessage", posts, api.bad)
	}
}

// TestDigestBeingSentSurvivesKill9: Flush takes a digest's counts out of
// the channel to send them. A stage saving the state file meanwhile (a new
// alert held back while the digest's request hangs) wrote the file without
// them, so a kill -9 before the digest was delivered lost those alerts
// from the digest for good. The counts being sent stay in the file until
// the digest is delivered: the next process sends them (at least once).
func TestDigestBeingSentSurvivesKill9(t *testing.T) {
	var hang atomic.Bool
	var digests atomic.Int32
	release := make(chan struct{})
	defer close(release)
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if hang.Load() && strings.Contains(string(b), "more") {
			digests.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	defer rx.Close()
	state := filepath.Join(t.TempDir(), "notify-state.json")
	cfg := Config{StateFile: state, Channels: map[string]Channel{
		"s": {Kind: Slack, URLEnv: "S", Queues: []string{"care"}, RateLimit: RateLimit{Messages: 1, Per: time.Minute}, Timeout: time.Minute, MaxAttempts: 1},
	}}
	first, clk := notifier(t, cfg, map[string]string{"S": rx.URL})
	run(t, first, "s", "care", alert("1", "care", "P3", "x"), alert("2", "care", "P3", "x"), alert("3", "care", "P3", "x"))
	hang.Store(true)
	clk.add(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go first.Flush(ctx) // sends "2 more", and hangs
	for deadline := time.Now().Add(5 * time.Second); digests.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the digest was never sent")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Meanwhile the next alert is sent and one more held back, and the
	// stage saves the file.
	run(t, first, "s", "care", alert("4", "care", "P3", "x"), alert("5", "care", "P3", "x"))

	// kill -9: the next process starts from the file.
	got := newReceiver(t, http.StatusOK)
	second, clk2 := notifier(t, cfg, map[string]string{"S": got.URL})
	clk2.at(clk.now().Add(time.Minute))
	second.Flush(context.Background())
	msgs := got.got()
	if len(msgs) != 1 || !strings.Contains(string(msgs[0]), "3 more P3 alerts in care") {
		t.Fatalf("the next process sent %d messages %q; want one digest of the 3 alerts held back", len(msgs), msgs)
	}
}
