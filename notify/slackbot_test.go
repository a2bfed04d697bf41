package notify

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// slackAPI is a local Slack Web API: chat.postMessage and chat.update,
// form-encoded, with the bot token, to the one channel the bot is in;
// blocks must be Block Kit JSON, and an update must name a message it
// posted.
type slackAPI struct {
	*httptest.Server
	mu      sync.Mutex
	posts   []url2
	updates []url2
	answer  string // a Web API error to answer with, or ""
	status  int
	calls   int
	bad     []string
}

type url2 struct{ ts, text, blocks string }

func newSlackAPI(t *testing.T) *slackAPI {
	s := &slackAPI{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.calls++
		if s.status != 0 {
			w.WriteHeader(s.status)
			return
		}
		reply := func(v map[string]any) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(v)
		}
		if err := r.ParseForm(); err != nil || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			s.bad = append(s.bad, fmt.Sprintf("not a form: %v %q", err, r.Header.Get("Content-Type")))
			reply(map[string]any{"ok": false, "error": "invalid_form_data"})
			return
		}
		tok := r.PostForm.Get("token")
		if h := r.Header.Get("Authorization"); h != "" {
			tok = strings.TrimPrefix(h, "Bearer ")
		}
		if tok != "xoxb-test" {
			reply(map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		if s.answer != "" {
			reply(map[string]any{"ok": false, "error": s.answer})
			return
		}
		if r.PostForm.Get("channel") != "C0123ABCD" {
			reply(map[string]any{"ok": false, "error": "channel_not_found"})
			return
		}
		var blocks []map[string]any
		if b := r.PostForm.Get("blocks"); b != "" {
			if err := json.Unmarshal([]byte(b), &blocks); err != nil || len(blocks) == 0 || len(blocks) > 50 {
				reply(map[string]any{"ok": false, "error": "invalid_blocks"})
				return
			}
		}
		m := url2{text: r.PostForm.Get("text"), blocks: r.PostForm.Get("blocks")}
		switch r.URL.Path {
		case "/api/chat.postMessage":
			m.ts = fmt.Sprintf("1765080000.%06d", len(s.posts)+1)
			s.posts = append(s.posts, m)
		case "/api/chat.update":
			m.ts = r.PostForm.Get("ts")
			found := false
			for _, p := range s.posts {
				found = found || p.ts == m.ts
			}
			if !found {
				reply(map[string]any{"ok": false, "error": "message_not_found"})
				return
			}
			s.updates = append(s.updates, m)
		default:
			reply(map[string]any{"ok": false, "error": "unknown_method"})
			return
		}
		reply(map[string]any{"ok": true, "channel": "C0123ABCD", "ts": m.ts})
	}))
	t.Cleanup(func() {
		s.Close()
		for _, b := range s.bad {
			t.Error(b)
		}
	})
	return s
}

func (s *slackAPI) got() ([]url2, []url2) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url2(nil), s.posts...), append([]url2(nil), s.updates...)
}

func botChannel(api string) Channel {
	return Channel{Kind: Slack, TokenEnv: "SLACK_BOT", SlackChannel: "C0123ABCD", URL: api + "/api/", Queues: []string{"care"}, MaxAttempts: 3}
}

// With a bot token, the message of an alert is updated when it is
// retracted or resolved on the desk, rather than a second one posted; the
// digest is a message of its own.
func TestSlackBotUpdatesTheMessageOnRetractionAndDeskResolve(t *testing.T) {
	api := newSlackAPI(t)
	n, clk := notifier(t, Config{DeskURL: "https://earshot.example.com", Channels: map[string]Channel{"bot": botChannel(api.URL)}}, map[string]string{"SLACK_BOT": "xoxb-test"})
	a1, a2 := alert("1", "care", "P1", "<!channel> acme is down"), alert("2", "care", "P2", "acme is slow")
	if rej := run(t, n, "bot", "care", a1, a2); len(rej) != 0 {
		t.Fatal(rej[0].Reason)
	}
	r1 := *a1
	ra := *a1.Alert
	ra.Retracted = true
	r1.Alert = &ra
	run(t, n, "bot", "care", &r1)
	run(t, n, "bot", "care", &r1) // redelivered: one update
	r2 := *a2
	rb := *a2.Alert
	rb.Resolved = &post.Resolution{By: "rita", Outcome: "replied", At: clk.now()}
	r2.Alert = &rb
	other := alert("3", "pr", "P1", "not ours") // another queue's resolve: not this channel's
	other.Alert.Resolved = rb.Resolved
	if rej, err := n.ResolveStage("bot")(t.Context(), post.Batch{Items: []*post.Item{&r2, other}}); err != nil || len(rej.Rejected) != 0 {
		t.Fatalf("resolve: %v %+v", err, rej.Rejected)
	}
	posts, updates := api.got()
	if len(posts) != 2 || len(updates) != 2 {
		t.Fatalf("%d posts and %d updates, want 2 and 2", len(posts), len(updates))
	}
	if strings.Contains(posts[0].blocks, "<!channel>") || !strings.Contains(posts[0].blocks, `\u0026lt;!channel\u0026gt;`) {
		t.Errorf("the post text is not escaped: %s", posts[0].blocks)
	}
	if updates[0].ts != posts[0].ts || !strings.Contains(updates[0].text, "Retracted: P1 alert in care") {
		t.Errorf("retraction: %+v, posted %s", updates[0], posts[0].ts)
	}
	if updates[1].ts != posts[1].ts || !strings.Contains(updates[1].text, "Resolved: P2 alert in care") || !strings.Contains(updates[1].blocks, "Resolved on the desk by rita (replied).") {
		t.Errorf("desk resolve: %+v, posted %s", updates[1], posts[1].ts)
	}

	// The digest is posted by the bot too.
	ch := n.channels["bot"]
	ch.limit = 1
	clk.add(time.Hour)
	run(t, n, "bot", "care", alert("4", "care", "P3", "x"), alert("5", "care", "P3", "x"))
	clk.add(11 * time.Minute)
	n.Flush(t.Context())
	if posts, _ := api.got(); len(posts) != 4 || !strings.Contains(posts[3].text, "1 more P3 alert in care") {
		t.Errorf("digest: %+v", posts[len(posts)-1])
	}
}

// Slack's refusals are dead letters at once; its 5xx and rate limits are
// tried again; the token is never in a reason.
func TestSlackBotErrors(t *testing.T) {
	for _, c := range []struct {
		answer        string
		status, calls int
	}{{"channel_not_found", 0, 1}, {"not_in_channel", 0, 1}, {"internal_error", 0, 3}, {"", 503, 3}} {
		api := newSlackAPI(t)
		api.answer, api.status = c.answer, c.status
		n, _ := notifier(t, Config{Channels: map[string]Channel{"bot": botChannel(api.URL)}}, map[string]string{"SLACK_BOT": "xoxb-test"})
		rej := run(t, n, "bot", "care", alert("1", "care", "P1", "x"))
		if len(rej) != 1 || api.calls != c.calls || strings.Contains(rej[0].Reason, "xoxb") {
			t.Errorf("%s %d: %d calls, %+v; want %d calls and a dead letter", c.answer, c.status, api.calls, rej, c.calls)
		}
	}
}

func TestSlackBotConfig(t *testing.T) {
	env := func(k string) string { return map[string]string{"T": "xoxb-1", "U": "https://hooks.slack.com/x"}[k] }
	for _, c := range []struct {
		ch   Channel
		want string
	}{
		{Channel{Kind: Slack, TokenEnv: "T", SlackChannel: "C0123ABCD", Queues: []string{"care"}}, ""},
		{Channel{Kind: Slack, TokenEnv: "T", URLEnv: "U", SlackChannel: "C0123ABCD", Queues: []string{"care"}}, "not both"},
		{Channel{Kind: Slack, TokenEnv: "T", SlackChannel: "#care", Queues: []string{"care"}}, "id of the Slack channel"},
		{Channel{Kind: Slack, TokenEnv: "T", Queues: []string{"care"}}, "id of the Slack channel"},
		{Channel{Kind: Slack, TokenEnv: "NONE", SlackChannel: "C0123ABCD", Queues: []string{"care"}}, "token"},
	} {
		err := Config{Channels: map[string]Channel{"s": c.ch}}.Validate(env)
		if (c.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.ch, err, c.want)
		}
	}
	if r, _ := (Channel{Kind: Slack, TokenEnv: "T", SlackChannel: "C0123ABCD"}).resolve("", env, true); r.url != SlackAPIURL {
		t.Errorf("default API URL %q", r.url)
	}
}
