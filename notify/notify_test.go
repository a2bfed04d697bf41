package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/earshot-dev/earshot/post"
)

// receiver is a local channel endpoint that records what it is sent.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	paths  []string
	status int
}

func newReceiver(t testing.TB, status int) *receiver {
	r := &receiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.paths = append(r.paths, req.URL.Path)
		st := r.status
		r.mu.Unlock()
		if req.Header.Get("Content-Type") != "application/json" {
			st = http.StatusUnsupportedMediaType
		}
		w.WriteHeader(st)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// notifier builds a Notifier over channels whose URL or routing key come
// from env, with no backoff between tries and a settable clock.
func notifier(t *testing.T, c Config, env map[string]string) (*Notifier, *clock) {
	t.Helper()
	n, err := New(c, func(k string) string { return env[k] }, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)}
	n.now = clk.now
	for _, ch := range n.channels {
		ch.backoff = func(int) time.Duration { return 0 }
	}
	return n, clk
}

func alert(id, queue, prio, text string) *post.Item {
	return &post.Item{
		Post:    &post.Post{Platform: "x", ID: id, Text: text, Author: post.Author{Handle: "someone"}, URLs: []string{"https://x.com/someone/status/" + id}},
		Matches: []post.Match{{Watchlist: "acme", Keywords: []string{"outage"}}},
		Alert:   &post.Alert{ID: "a-" + id, Queue: queue, Priority: prio, Rule: "outages", Team: "care", CreatedAt: time.Date(2026, 12, 7, 2, 59, 0, 0, time.UTC)},
	}
}

func run(t *testing.T, n *Notifier, channel, queue string, items ...*post.Item) []post.Rejected {
	t.Helper()
	out, err := n.Stage(channel, queue)(context.Background(), post.Batch{Items: items})
	if err != nil {
		t.Fatal(err)
	}
	return out.Rejected
}

// worst is a post text built to break a message: 1 MiB long, with Slack
// control sequences, broadcast words, Markdown links and multi-byte
// characters straddling every limit.
func worst() string {
	inj := "<!channel> <!here|here> @channel @HERE @everyone <@U012AB3CD> <https://evil.example|click me> & [click](https://evil.example) **bold** é🙂 "
	return strings.Repeat(inj, (1<<20)/len(inj)+1)
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("not JSON: %v: %.200s", err, b)
	}
}

func TestSlackBlockKitShapeAndEscaping(t *testing.T) {
	rx := newReceiver(t, http.StatusOK)
	n, _ := notifier(t, Config{DeskURL: "https://earshot.example.com/", Channels: map[string]Channel{
		"care-slack": {Kind: Slack, URLEnv: "SLACK_URL", Queues: []string{"care-emea"}},
	}}, map[string]string{"SLACK_URL": rx.URL + "/services/T/B/X"})
	if rej := run(t, n, "care-slack", "care-emea", alert("1", "care-emea", "P1", worst())); len(rej) != 0 {
		t.Fatalf("dead letters: %+v", rej)
	}
	got := rx.got()
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	raw := string(got[0])
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text *struct {
				Type, Text string
			} `json:"text"`
			Fields []struct {
				Type, Text string
			} `json:"fields"`
			Elements []map[string]any `json:"elements"`
		} `json:"blocks"`
	}
	decode(t, got[0], &msg)
	if msg.Text == "" || len(msg.Blocks) == 0 || len(msg.Blocks) > 50 {
		t.Fatalf("want a fallback text and 1 to 50 blocks: %.300s", raw)
	}
	var sawExcerpt, sawButton bool
	for _, b := range msg.Blocks {
		switch b.Type {
		case "header":
			if b.Text == nil || b.Text.Type != "plain_text" || utf8.RuneCountInString(b.Text.Text) > 150 || !strings.Contains(b.Text.Text, "P1") {
				t.Errorf("header: %+v", b.Text)
			}
		case "section":
			if b.Text == nil && len(b.Fields) == 0 {
				t.Error("a section needs text or fields")
			}
			if b.Text != nil {
				if n := utf8.RuneCountInString(b.Text.Text); n > 3000 {
					t.Errorf("section text of %d characters, Slack's limit is 3000", n)
				}
				if !utf8.ValidString(b.Text.Text) {
					t.Error("section text is not valid UTF-8")
				}
				if strings.Contains(b.Text.Text, "&amp;lt;!channel&amp;gt;") || strings.Contains(b.Text.Text, "&lt;!channel&gt;") {
					sawExcerpt = true
				}
			}
			if len(b.Fields) > 10 {
				t.Errorf("%d fields, Slack's limit is 10", len(b.Fields))
			}
		case "context", "actions", "divider":
			for _, e := range b.Elements {
				if e["type"] == "button" {
					sawButton = e["url"] == "https://earshot.example.com/ui/desk?alert=a-1"
				}
			}
		default:
			t.Errorf("unexpected block type %q", b.Type)
		}
	}
	if !sawExcerpt || !sawButton {
		t.Errorf("excerpt shown escaped: %v; desk button: %v\n%.600s", sawExcerpt, sawButton, raw)
	}
	var tree any
	decode(t, got[0], &tree)
	texts := allStrings(tree) // JSON escapes "<" as \u003c: look at the decoded text
	for _, bad := range []string{"<!channel>", "<!here", "<@U012AB3CD>", "<https://evil", "@channel", "@here", "@HERE", "@everyone"} {
		if strings.Contains(texts, bad) {
			t.Errorf("the message carries %q from the post text", bad)
		}
	}
	if len(raw) > 40<<10 {
		t.Errorf("a %d-byte message from a 1 MiB post", len(raw))
	}
}

func TestTeamsAdaptiveCardShape(t *testing.T) {
	rx := newReceiver(t, http.StatusAccepted)
	n, _ := notifier(t, Config{DeskURL: "https://earshot.example.com", Channels: map[string]Channel{
		"care-teams": {Kind: Teams, URLEnv: "TEAMS_URL", Queues: []string{"care-emea"}},
	}}, map[string]string{"TEAMS_URL": rx.URL + "/workflows/x"})
	if rej := run(t, n, "care-teams", "care-emea", alert("1", "care-emea", "P2", worst())); len(rej) != 0 {
		t.Fatalf("dead letters: %+v", rej)
	}
	got := rx.got()
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	var msg struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Schema  string           `json:"$schema"`
				Type    string           `json:"type"`
				Version string           `json:"version"`
				Body    []map[string]any `json:"body"`
				Actions []map[string]any `json:"actions"`
			} `json:"content"`
		} `json:"attachments"`
	}
	decode(t, got[0], &msg)
	if msg.Type != "message" || len(msg.Attachments) != 1 || msg.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("not a Teams card message: %.300s", got[0])
	}
	c := msg.Attachments[0].Content
	if c.Type != "AdaptiveCard" || c.Version != "1.4" || !strings.Contains(c.Schema, "adaptive-card.json") || len(c.Body) < 2 {
		t.Fatalf("card: type %q version %q schema %q, %d body elements", c.Type, c.Version, c.Schema, len(c.Body))
	}
	for _, e := range c.Body {
		if e["type"] != "TextBlock" && e["type"] != "FactSet" {
			t.Errorf("element type %v", e["type"])
		}
		if s, ok := e["text"].(string); ok && utf8.RuneCountInString(s) > teamsTextMax {
			t.Errorf("a %d-character TextBlock", utf8.RuneCountInString(s))
		}
	}
	if len(c.Actions) != 1 || c.Actions[0]["type"] != "Action.OpenUrl" || c.Actions[0]["url"] != "https://earshot.example.com/ui/desk?alert=a-1" {
		t.Errorf("actions: %v", c.Actions)
	}
	var tree any
	decode(t, got[0], &tree)
	if strings.Contains(allStrings(tree), "[click](https://evil") {
		t.Error("a Markdown link from the post text survives")
	}
	if len(got[0]) > 28<<10 {
		t.Errorf("a %d-byte card; Teams refuses over 28 KB", len(got[0]))
	}
}

func TestPagerDutyTriggerThenResolveOnRetraction(t *testing.T) {
	rx := newReceiver(t, http.StatusAccepted)
	n, _ := notifier(t, Config{DeskURL: "https://earshot.example.com", Channels: map[string]Channel{
		"oncall": {Kind: PagerDuty, URL: rx.URL + "/v2/enqueue", RoutingKeyEnv: "PD_KEY", Queues: []string{"care-emea"}, MinPriority: "P1"},
	}}, map[string]string{"PD_KEY": "R0ut1ngK3y0000000000000000000000"})
	it := alert("1", "care-emea", "P1", worst())
	low := alert("2", "care-emea", "P2", "below the channel's minimum")
	retract := alert("1", "care-emea", "P1", "")
	retract.Alert.Retracted = true
	if rej := run(t, n, "oncall", "care-emea", it, low, retract); len(rej) != 0 {
		t.Fatalf("dead letters: %+v", rej)
	}
	got := rx.got()
	if len(got) != 2 {
		t.Fatalf("%d events, want a trigger and a resolve (the P2 alert is below min_priority)", len(got))
	}
	type event struct {
		RoutingKey  string `json:"routing_key"`
		EventAction string `json:"event_action"`
		DedupKey    string `json:"dedup_key"`
		Payload     *struct {
			Summary, Source, Severity, Timestamp string
		} `json:"payload"`
		Links []struct{ Href, Text string } `json:"links"`
	}
	var trig, res event
	decode(t, got[0], &trig)
	decode(t, got[1], &res)
	if trig.RoutingKey != "R0ut1ngK3y0000000000000000000000" || trig.EventAction != "trigger" || trig.DedupKey != "a-1" || trig.Payload == nil {
		t.Fatalf("trigger: %+v", trig)
	}
	p := trig.Payload
	if p.Summary == "" || utf8.RuneCountInString(p.Summary) > 1024 || p.Source == "" || p.Severity != "critical" {
		t.Errorf("payload: summary of %d characters, source %q, severity %q", utf8.RuneCountInString(p.Summary), p.Source, p.Severity)
	}
	if _, err := time.Parse(time.RFC3339, p.Timestamp); err != nil {
		t.Errorf("timestamp: %v", err)
	}
	if len(trig.Links) != 1 || trig.Links[0].Href != "https://earshot.example.com/ui/desk?alert=a-1" {
		t.Errorf("links: %+v", trig.Links)
	}
	if res.EventAction != "resolve" || res.DedupKey != "a-1" || res.RoutingKey == "" {
		t.Errorf("resolve: %+v", res)
	}
}

func TestAlertmanagerPostsAndResolves(t *testing.T) {
	rx := newReceiver(t, http.StatusOK)
	n, clk := notifier(t, Config{DeskURL: "https://earshot.example.com", Channels: map[string]Channel{
		"am": {Kind: Alertmanager, URL: rx.URL + "/", Queues: []string{"care-emea"}},
	}}, nil)
	it := alert("1", "care-emea", "P3", "the app is down again")
	run(t, n, "am", "care-emea", it)
	clk.add(time.Minute)
	retract := alert("1", "care-emea", "P3", "")
	retract.Alert.Retracted = true
	run(t, n, "am", "care-emea", retract)
	got := rx.got()
	if len(got) != 2 {
		t.Fatalf("%d posts, want 2", len(got))
	}
	for i, path := range rx.paths {
		if path != "/api/v2/alerts" {
			t.Errorf("post %d to %s", i, path)
		}
	}
	type amAlert struct {
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     string            `json:"startsAt"`
		EndsAt       string            `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
	}
	var fire, resolve []amAlert
	decode(t, got[0], &fire)
	decode(t, got[1], &resolve)
	if len(fire) != 1 || fire[0].Labels["alertname"] == "" || fire[0].Labels["alert_id"] != "a-1" || fire[0].Labels["queue"] != "care-emea" || fire[0].Labels["priority"] != "P3" {
		t.Fatalf("alert: %+v", fire)
	}
	if fire[0].Annotations["summary"] == "" || fire[0].Annotations["desk_url"] != "https://earshot.example.com/ui/desk?alert=a-1" {
		t.Errorf("annotations: %v", fire[0].Annotations)
	}
	if _, err := time.Parse(time.RFC3339Nano, fire[0].StartsAt); err != nil || fire[0].EndsAt != "" {
		t.Errorf("startsAt %q (%v), endsAt %q", fire[0].StartsAt, err, fire[0].EndsAt)
	}
	if len(resolve) != 1 || resolve[0].EndsAt == "" || resolve[0].Labels["alert_id"] != "a-1" {
		t.Errorf("the retraction does not resolve: %+v", resolve)
	}
}

// A storm of 10,000 alerts in a minute on one queue gives at most 20
// messages per channel: the rate limit's ten, then one digest.
func TestStormOf10000AlertsSendsAtMost20MessagesPerChannel(t *testing.T) {
	slackRx, teamsRx := newReceiver(t, http.StatusOK), newReceiver(t, http.StatusOK)
	n, clk := notifier(t, Config{Channels: map[string]Channel{
		"slack": {Kind: Slack, URLEnv: "S", Queues: []string{"care-emea"}},
		"teams": {Kind: Teams, URLEnv: "T", Queues: []string{"care-emea"}},
	}}, map[string]string{"S": slackRx.URL, "T": teamsRx.URL})
	const storm = 10_000
	for i := range storm / 100 { // 100 batches of 100, 0.6 s apart: one minute
		var batch []*post.Item
		for j := range 100 {
			batch = append(batch, alert(fmt.Sprint(i*100+j), "care-emea", "P3", "down"))
		}
		for _, ch := range []string{"slack", "teams"} {
			if rej := run(t, n, ch, "care-emea", batch...); len(rej) != 0 {
				t.Fatalf("dead letters: %v", rej[0].Reason)
			}
		}
		n.Flush(context.Background())
		clk.add(600 * time.Millisecond)
	}
	clk.add(10 * time.Minute)
	n.Flush(context.Background())
	n.Flush(context.Background()) // nothing left: no second digest
	for name, rx := range map[string]*receiver{"slack": slackRx, "teams": teamsRx} {
		got := rx.got()
		if len(got) > 20 || len(got) < 2 {
			t.Errorf("%s: %d messages for a storm of %d alerts, want 2 to 20", name, len(got), storm)
			continue
		}
		last := string(got[len(got)-1])
		want := fmt.Sprintf("%d more P3 alerts in care-emea in the last 10 min", storm-(len(got)-1))
		if !strings.Contains(last, want) {
			t.Errorf("%s: %d messages; the last is not the digest %q: %.300s", name, len(got), want, last)
		}
	}
}

func TestRedeliveredAlertIsNotSentTwiceWithinTheWindow(t *testing.T) {
	rx := newReceiver(t, http.StatusOK)
	n, _ := notifier(t, Config{Channels: map[string]Channel{
		"slack": {Kind: Slack, URLEnv: "S", Queues: []string{"q"}, DedupWindow: 3, RateLimit: RateLimit{Messages: 100, Per: time.Minute}},
	}}, map[string]string{"S": rx.URL})
	a, b, c, d := alert("a", "q", "P2", "x"), alert("b", "q", "P2", "x"), alert("c", "q", "P2", "x"), alert("d", "q", "P2", "x")
	run(t, n, "slack", "q", a, b)
	run(t, n, "slack", "q", a, b) // redelivered batch
	if got := len(rx.got()); got != 2 {
		t.Fatalf("%d messages after a redelivery, want 2", got)
	}
	run(t, n, "slack", "q", c, d) // the window of 3 forgets a
	run(t, n, "slack", "q", a)
	if got := len(rx.got()); got != 5 {
		t.Errorf("%d messages: an alert older than the dedup window should be sent again (at least once), want 5", got)
	}
}

func TestChannelFailingForeverDeadLettersWithoutHoldingOthers(t *testing.T) {
	down, up := newReceiver(t, http.StatusInternalServerError), newReceiver(t, http.StatusOK)
	n, clk := notifier(t, Config{Channels: map[string]Channel{
		"down": {Kind: Slack, URLEnv: "D", Queues: []string{"q"}, MaxAttempts: 4},
		"up":   {Kind: Slack, URLEnv: "U", Queues: []string{"q"}},
	}}, map[string]string{"D": down.URL, "U": up.URL})
	var batch []*post.Item
	for i := range 8 {
		batch = append(batch, alert(fmt.Sprint(i), "q", "P1", "x"))
	}
	done := make(chan []post.Rejected)
	go func() {
		out, _ := n.Stage("down", "q")(context.Background(), post.Batch{Items: batch})
		done <- out.Rejected
	}()
	if rej := run(t, n, "up", "q", batch...); len(rej) != 0 || len(up.got()) != 8 {
		t.Fatalf("the healthy channel: %d dead letters, %d messages, want 0 and 8", len(rej), len(up.got()))
	}
	var rej []post.Rejected
	select {
	case rej = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the failing channel's stage stalls")
	}
	if len(rej) != 8 {
		t.Fatalf("%d dead letters, want all 8", len(rej))
	}
	for _, r := range rej { // tried and failed, or not tried with the circuit open: either way not delivered
		if r.Class != post.ClassDeliveryFailed {
			t.Errorf("class %q, want delivery_failed: %s", r.Class, r.Reason)
		}
	}
	if !strings.Contains(rej[0].Reason, "4 attempts failed") || !strings.Contains(rej[0].Reason, "HTTP 500") {
		t.Errorf("reason: %q", rej[0].Reason)
	}
	if !strings.Contains(rej[7].Reason, "in a row") {
		t.Errorf("after %d failures the circuit should be open: %q", breakerFailures, rej[7].Reason)
	}
	if got := len(down.got()); got != breakerFailures*4 {
		t.Errorf("%d requests to the failing channel, want %d (3 alerts × 4 tries, then the circuit opens)", got, breakerFailures*4)
	}
	for _, r := range rej {
		if strings.Contains(r.Reason, down.URL) {
			t.Errorf("a dead letter carries the webhook URL (a credential): %q", r.Reason)
		}
	}
	clk.add(breakerCoolDown)
	down.mu.Lock()
	down.status = http.StatusOK
	down.mu.Unlock()
	if rej := run(t, n, "down", "q", batch[0]); len(rej) != 0 {
		t.Errorf("after the cool-down the channel is tried again: %v", rej)
	}
}

func TestSecondTenantsQueueNeverReachesFirstsChannel(t *testing.T) {
	rx := newReceiver(t, http.StatusOK)
	n, _ := notifier(t, Config{Channels: map[string]Channel{
		"acme-slack": {Kind: Slack, URLEnv: "S", Queues: []string{"acme-care"}},
	}}, map[string]string{"S": rx.URL})
	for _, r := range n.Routes() {
		if r[1] != "acme-care" {
			t.Errorf("route %v", r)
		}
	}
	// A record of the other tenant on acme's topic, and acme's stage
	// asked to deliver the other tenant's queue: both refused, nothing sent.
	rej := run(t, n, "acme-slack", "acme-care", alert("1", "globex-care", "P1", "globex secret"))
	rej = append(rej, run(t, n, "acme-slack", "globex-care", alert("2", "globex-care", "P1", "globex secret"))...)
	if len(rej) != 2 {
		t.Errorf("%d dead letters, want 2", len(rej))
	}
	if got := rx.got(); len(got) != 0 {
		t.Errorf("acme's channel got %d messages of globex's queue", len(got))
	}
}

func TestValidate(t *testing.T) {
	env := map[string]string{"S": "https://hooks.slack.com/services/T/B/X", "K": "key"}
	getenv := func(k string) string { return env[k] }
	for name, tc := range map[string]struct {
		c    Channel
		want string
	}{
		"inline slack url": {Channel{Kind: Slack, URL: "https://hooks.slack.com/x", Queues: []string{"q"}}, "credential"},
		"no url":           {Channel{Kind: Teams, Queues: []string{"q"}}, "url"},
		"unset env":        {Channel{Kind: Slack, URLEnv: "UNSET", Queues: []string{"q"}}, "UNSET"},
		"kind":             {Channel{Kind: "sms", Queues: []string{"q"}}, "kind"},
		"no queues":        {Channel{Kind: Slack, URLEnv: "S"}, "queues"},
		"priority":         {Channel{Kind: Slack, URLEnv: "S", Queues: []string{"q"}, MinPriority: "P0"}, "min_priority"},
		"1e12 messages":    {Channel{Kind: Slack, URLEnv: "S", Queues: []string{"q"}, RateLimit: RateLimit{Messages: 1e12}}, "rate_limit"},
		"1ns window":       {Channel{Kind: Slack, URLEnv: "S", Queues: []string{"q"}, RateLimit: RateLimit{Per: 1}}, "rate_limit"},
		"1e12 dedup":       {Channel{Kind: Slack, URLEnv: "S", Queues: []string{"q"}, DedupWindow: 1e12}, "dedup_window"},
		"attempts":         {Channel{Kind: Slack, URLEnv: "S", Queues: []string{"q"}, MaxAttempts: 1000}, "max_attempts"},
		"pd key":           {Channel{Kind: PagerDuty, Queues: []string{"q"}}, "routing_key"},
		"am url":           {Channel{Kind: Alertmanager, Queues: []string{"q"}}, "url"},
		"am scheme":        {Channel{Kind: Alertmanager, URL: "file:///etc/passwd", Queues: []string{"q"}}, "url"},
	} {
		err := Config{Channels: map[string]Channel{"c": tc.c}}.Validate(getenv)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %s", name, err, tc.want)
		}
	}
	ok := Config{DeskURL: "https://earshot.example.com", Channels: map[string]Channel{
		"s":  {Kind: Slack, URLEnv: "S", Queues: []string{"q"}},
		"pd": {Kind: PagerDuty, RoutingKeyEnv: "K", Queues: []string{"q"}, MinPriority: "P1"},
	}}
	if err := ok.Validate(getenv); err != nil {
		t.Errorf("a good configuration: %v", err)
	}
	if err := (Config{DeskURL: "javascript:alert(1)"}).Validate(getenv); err == nil {
		t.Error("desk_url javascript: accepted")
	}
}

func TestTruncateKeepsUTF8(t *testing.T) {
	s := strings.Repeat("é🙂", 3000)
	for _, n := range []int{1, 2, 3, 150, 3000} {
		got := truncate(s, n)
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > n {
			t.Errorf("truncate to %d: %d runes, valid %v", n, utf8.RuneCountInString(got), utf8.ValidString(got))
		}
	}
	if got := truncate("\xff\xfeabc", 10); !utf8.ValidString(got) {
		t.Errorf("invalid UTF-8 passes: %q", got)
	}
}

// allStrings joins every string in a decoded JSON value.
func allStrings(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			b.WriteString(v)
			b.WriteByte('\n')
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}

// Without desk_url there is no link: Slack refuses a button with a
// relative URL (invalid_blocks), which would dead-letter every alert.
func TestNoDeskURLNoLinks(t *testing.T) {
	rx := newReceiver(t, http.StatusOK)
	n, _ := notifier(t, Config{Channels: map[string]Channel{
		"s": {Kind: Slack, URLEnv: "S", Queues: []string{"q"}},
		"t": {Kind: Teams, URLEnv: "S", Queues: []string{"q"}},
		"p": {Kind: PagerDuty, URL: rx.URL, RoutingKeyEnv: "K", Queues: []string{"q"}},
	}}, map[string]string{"S": rx.URL, "K": "k"})
	for _, ch := range []string{"s", "t", "p"} {
		run(t, n, ch, "q", alert("1", "q", "P1", "x"))
	}
	got := rx.got()
	if len(got) != 3 {
		t.Fatalf("%d messages, want 3", len(got))
	}
	for _, b := range got {
		if strings.Contains(string(b), "/ui/desk") || strings.Contains(string(b), `"button"`) {
			t.Errorf("a link without desk_url: %.300s", b)
		}
	}
}

// A chat message saying "retracted" only follows an alert the channel
// showed on its own: not one counted into a digest, nor one never seen.
func TestChatRetractionOnlyForAlertsShown(t *testing.T) {
	rx := newReceiver(t, http.StatusOK)
	n, clk := notifier(t, Config{Channels: map[string]Channel{
		"s": {Kind: Slack, URLEnv: "S", Queues: []string{"q"}, RateLimit: RateLimit{Messages: 2, Per: time.Hour}},
	}}, map[string]string{"S": rx.URL})
	retracted := func(id string) *post.Item {
		it := alert(id, "q", "P1", "")
		it.Alert.Retracted = true
		return it
	}
	run(t, n, "s", "q", alert("1", "q", "P1", "x"), alert("2", "q", "P1", "x"), alert("3", "q", "P1", "x")) // 3 is digested
	clk.add(time.Hour)                                                                                      // the window has room again
	run(t, n, "s", "q", retracted("3"), retracted("never-seen"))
	if got := len(rx.got()); got != 2 {
		t.Errorf("%d messages, want 2: no retraction of a digested or unknown alert", got)
	}
}

func TestTruncateCutsLongInputWithEllipsis(t *testing.T) {
	for _, s := range []string{strings.Repeat("🙂", 100), strings.Repeat("a", 1000), strings.Repeat("é", 1000)} {
		got := truncate(s, 10)
		if utf8.RuneCountInString(got) > 10 || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
			t.Errorf("truncate(%.8q…, 10) = %q", s, got)
		}
	}
	if got := truncate(strings.Repeat("🙂", 10), 10); got != strings.Repeat("🙂", 10) {
		t.Errorf("a string of exactly n runes is cut: %q", got)
	}
}

// Run sends a digest once its window has ended, without an alert to
// trigger it, and returns when its context is cancelled.
func TestRunSendsDueDigestsAndStops(t *testing.T) {
	rx := newReceiver(t, http.StatusOK)
	n, clk := notifier(t, Config{Channels: map[string]Channel{
		"s": {Kind: Slack, URLEnv: "S", Queues: []string{"care-emea"}, RateLimit: RateLimit{Messages: 1, Per: time.Minute}},
	}}, map[string]string{"S": rx.URL})
	var batch []*post.Item
	for i := range 15 {
		batch = append(batch, alert(fmt.Sprint(i), "care-emea", "P3", "x"))
	}
	run(t, n, "s", "care-emea", batch...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(ctx); close(done) }()
	clk.add(time.Minute)
	deadline := time.Now().Add(5 * time.Second)
	for len(rx.got()) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	got := rx.got()
	if len(got) != 2 || !strings.Contains(string(got[1]), "14 more P3 alerts in care-emea in the last 1 min") {
		t.Fatalf("%d messages; want the alert and the digest: %q", len(got), got)
	}
}

// unstaffed: true pages for an alert nobody is on duty for, whatever its
// priority; other alerts still need min_priority.
func TestUnstaffedAlertsPageBelowMinPriority(t *testing.T) {
	rx := newReceiver(t, http.StatusAccepted)
	n, _ := notifier(t, Config{Channels: map[string]Channel{
		"oncall": {Kind: PagerDuty, URL: rx.URL, RoutingKeyEnv: "K", Queues: []string{"q"}, MinPriority: "P1", Unstaffed: true},
	}}, map[string]string{"K": "k"})
	lone := alert("1", "q", "P3", "x")
	lone.Alert.Unstaffed = true
	run(t, n, "oncall", "q", lone, alert("2", "q", "P3", "x"))
	got := rx.got()
	if len(got) != 1 || !strings.Contains(string(got[0]), `"dedup_key":"a-1"`) {
		t.Errorf("%d events, want the unstaffed alert's only: %q", len(got), got)
	}
}
