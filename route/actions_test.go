package route

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

const actionsPolicy = `
queues: [care, pr, legal, exec]
rules:
  - name: crisis
    when: {intents: [crisis], min_cluster_size: 50}
    queue: pr
    priority: P1
    escalate: {to: exec}            # at once
  - name: legal-terms
    when: {tags: [legal], countries: [GR, CY]}
    queue: legal
    priority: P1
    sla: 15m
    notify: [pr]
  - name: influential-negative
    when: {sentiment: [negative], min_influence: 60}
    queue: care
    priority: P2
    escalate: {to: pr, after: 1h}
  - name: care
    when: {sentiment: [negative]}
    queue: care
    priority: P3
`

func richItem(id string, mod func(*post.Item)) *post.Item {
	it := &post.Item{
		Post:       &post.Post{Platform: "x", ID: id},
		Matches:    []post.Match{{Watchlist: "acme", Keywords: []string{"acme"}, Tags: []string{"brand"}}},
		Enrichment: &post.Enrichment{SentimentLabel: "negative", Country: "US", Region: "NA", Influence: 5.2, Intents: []string{"complaint"}},
	}
	mod(it)
	return it
}

func TestConditionsAndActions(t *testing.T) {
	p, err := load(t, actionsPolicy)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	stage := p.Stage(func() time.Time { return t0 })
	run := func(it *post.Item) []*post.Alert {
		t.Helper()
		out, err := stage(context.Background(), post.Batch{Items: []*post.Item{it}})
		if err != nil {
			t.Fatal(err)
		}
		var as []*post.Alert
		for _, o := range out.Items {
			as = append(as, o.Alert)
		}
		return as
	}

	// A crisis needs the intent and the cluster size; it escalates at once.
	as := run(richItem("1", func(it *post.Item) { it.Enrichment.Intents, it.Enrichment.ClusterSize = []string{"crisis"}, 64 }))
	if len(as) != 2 || as[0].Queue != "pr" || as[1].Queue != "exec" || as[1].Reason != "escalation" || as[1].Of != as[0].ID || as[1].ID == as[0].ID {
		t.Errorf("crisis alerts = %+v", as)
	}
	if as := run(richItem("2", func(it *post.Item) { it.Enrichment.Intents, it.Enrichment.ClusterSize = []string{"crisis"}, 3 })); len(as) != 1 || as[0].Rule != "care" {
		t.Errorf("a small crisis cluster = %+v, want the care rule", as)
	}

	// Legal terms by watchlist tag and country: the rule's own SLA, and a
	// copy to PR for their information, with no deadline.
	legal := func(it *post.Item) { it.Matches[0].Tags, it.Enrichment.Country = []string{"legal", "brand"}, "GR" }
	as = run(richItem("3", legal))
	if len(as) != 2 || as[0].Queue != "legal" || !as[0].DueAt.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("legal alerts = %+v", as)
	}
	if c := as[1]; c.Queue != "pr" || c.Reason != "notify" || c.Of != as[0].ID || !c.DueAt.IsZero() {
		t.Errorf("stakeholder copy = %+v", c)
	}
	if as := run(richItem("4", func(it *post.Item) { legal(it); it.Enrichment.Country = "DE" })); len(as) != 1 || as[0].Rule != "care" {
		t.Errorf("legal terms outside the countries = %+v", as)
	}

	// Influence decides escalation after an hour unacknowledged.
	as = run(richItem("5", func(it *post.Item) { it.Enrichment.Influence = 71.4 }))
	if len(as) != 1 || as[0].EscalateTo != "pr" || !as[0].EscalateAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("influential negative = %+v", as)
	}

	// Redelivery gives the same ids; a delete retracts the alert and its copies.
	again := run(richItem("3", legal))
	if id := AlertID("x:3", "legal"); again[0].ID != id || again[1].ID != AlertID(id, "notify:pr") {
		t.Errorf("ids on redelivery = %s, %s", again[0].ID, again[1].ID)
	}
	del := &post.Item{Post: &post.Post{Platform: "x", ID: "3", Kind: post.KindDelete}}
	rs := run(del)
	if len(rs) != 2 || !rs[0].Retracted || !rs[1].Retracted || rs[0].Queue != "legal" || rs[1].Queue != "pr" || rs[1].ID != again[1].ID {
		t.Errorf("retractions = %+v", rs)
	}
}

func TestValidateActions(t *testing.T) {
	_, err := load(t, `
queues: [care, pr]
rules:
  - name: a
    when: {intents: [angry], countries: [gr], min_influence: 101}
    queue: care
    priority: P2
    notify: [care, legal]
    escalate: {to: nowhere, after: -1m}
  - name: b
    when: {sentiment: [negative]}
    suppress: trolls
    sla: 1h
`)
	for _, want := range []string{`intent "angry"`, `country "gr"`, "min_influence 101, want 0 to 100", `notify queue "care" is the rule's own`, `notify queue "legal" is not among`, `escalate.to "nowhere"`, "escalate.after -1m0s, want 0", "sla, notify and escalate do not apply"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to contain %q", err, want)
		}
	}
}

func TestStoryIncidents(t *testing.T) {
	p, err := load(t, `
queues: [pr, care]
rules:
  - name: recall
    when: {keywords: [recall]}
    queue: pr
    priority: P1
    incident: story
    story_window: 2h
  - name: care
    when: {sentiment: [negative]}
    queue: care
    priority: P3
`)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	stage := p.Stage(func() time.Time { return t0 })
	post_ := func(id string, kws []string, created time.Time) *post.Item {
		return &post.Item{
			Post:       &post.Post{Platform: "x", ID: id, CreatedAt: created},
			Matches:    []post.Match{{Watchlist: "acme", Keywords: kws}},
			Enrichment: &post.Enrichment{SentimentLabel: "negative"},
		}
	}
	var alerts []*post.Alert
	run := func(items ...*post.Item) {
		out, err := stage(context.Background(), post.Batch{Items: items})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			alerts = append(alerts, it.Alert)
		}
	}
	// Ten different posts about the recall within the window: one incident,
	// paged at 1, updated at 2, 4 and 8; a redelivery does not grow it.
	for i := range 10 {
		run(post_(fmt.Sprint("r", i), []string{"acme", "recall"}, t0.Add(time.Duration(i)*time.Minute)))
	}
	run(post_("r3", []string{"acme", "recall"}, t0.Add(3*time.Minute)))
	ids := map[string]bool{}
	var sizes []int
	for _, a := range alerts {
		ids[a.ID] = true
		sizes = append(sizes, a.IncidentSize)
	}
	if len(ids) != 1 || fmt.Sprint(sizes) != "[0 2 4 8]" {
		t.Errorf("story alerts: %d ids, sizes %v; want one id, sizes [0 2 4 8]", len(ids), sizes)
	}
	// Another window, other keywords, or another rule: other alerts.
	alerts = nil
	run(post_("s1", []string{"acme", "recall"}, t0.Add(3*time.Hour)), post_("s2", []string{"recall"}, t0), post_("c1", []string{"acme"}, t0))
	if len(alerts) != 3 || alerts[0].ID == alerts[1].ID || ids[alerts[0].ID] || ids[alerts[1].ID] || alerts[2].Queue != "care" {
		t.Errorf("alerts = %+v", alerts)
	}
	if _, err := load(t, "queues: [pr]\nrules:\n  - {name: a, queue: pr, priority: P1, incident: topic, story_window: 1h}\n"); err == nil || !strings.Contains(err.Error(), `incident "topic"`) || !strings.Contains(err.Error(), "story_window") {
		t.Errorf("validation: %v", err)
	}
}

// The influence score is 0–100 (enrich/influence.go): min_influence reads
// the same scale, and a value below 1, written for the old 0–1 reading, is
// refused with the value to write instead of routing almost every author.
func TestMinInfluenceScale(t *testing.T) {
	p, err := load(t, `
queues: [pr]
rules:
  - name: influential
    when: {min_influence: 50}
    queue: pr
    priority: P1
`)
	if err != nil {
		t.Fatalf("min_influence 50: %v", err)
	}
	small := richItem("1", func(it *post.Item) { it.Enrichment.Influence = 5.2 }) // 3 followers
	big := richItem("2", func(it *post.Item) { it.Enrichment.Influence = 64 })
	if r := p.Decide(small); r != nil {
		t.Errorf("influence 5.2 taken by %s with min_influence 50", r.Name)
	}
	if r := p.Decide(big); r == nil {
		t.Error("influence 64 not taken with min_influence 50")
	}
	_, err = load(t, `
queues: [pr]
rules:
  - name: influential
    when: {min_influence: 0.8}
    queue: pr
    priority: P1
`)
	if err == nil || !strings.Contains(err.Error(), "min_influence 0.8") || !strings.Contains(err.Error(), "80") {
		t.Errorf("min_influence 0.8: error %v, want it refused with the 0–100 value (80)", err)
	}
}
