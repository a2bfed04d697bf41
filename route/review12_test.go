package route

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// TestLocalZoneRefused: "Local" is whatever zone the machine runs in (the
// TZ environment variable), so a region's business hours or the spikes'
// hours of the week would move with the host: two route replicas, or a
// container and a laptop, would page different teams for one post. It is
// refused like an unknown zone, in any case.
func TestLocalZoneRefused(t *testing.T) {
	for _, tz := range []string{"Local", "local"} {
		_, err := loadOrg(t, `
regions:
  EMEA: {timezone: `+tz+`, hours: {mon-sun: "00:00-24:00"}}
teams: [{name: emea, region: EMEA}]
queues: [{name: care, team: emea}]
`)
		if err == nil || !strings.Contains(err.Error(), "regions.EMEA.timezone") {
			t.Errorf("region timezone %s: %v, want it refused", tz, err)
		}
		_, err = load(t, policy+`
spikes: {window: 5m, min_count: 20, factor: 3, queue: pr, priority: P2, timezone: `+tz+`}
`)
		if err == nil || !strings.Contains(err.Error(), "spikes.timezone") {
			t.Errorf("spikes timezone %s: %v, want it refused", tz, err)
		}
	}
}

// TestPagerFollowsTheHandoffChain: route raises an alert as of its post's
// ingest time, so a post ingested a moment before EMEA's day ends (or up
// to an hour before, behind a backlog) stays on care, EMEA's queue, after
// EMEA has gone. Notify then asked who works care now, heard nobody, and
// paged EMEA, the team it was raised for and that had left, while NA, next
// in care's hand-off chain, was at work. The pager is the team at work on
// the queue now, else on the first queue of its chain with one.
func TestPagerFollowsTheHandoffChain(t *testing.T) {
	org := writeFile(t, "org.yaml", testOrg)
	policy := writeFile(t, "routing.yaml", "queues: [care]\nrules:\n  - name: all\n    queue: care\n    priority: P2\n")
	p, err := Load(Config{Policy: policy, Org: org})
	if err != nil {
		t.Fatal(err)
	}
	for when, want := range map[string]string{
		"2026-11-23T08:00:00Z": "emea",  // Mon 10:00 Athens: care's own team
		"2026-11-23T15:00:00Z": "na",    // Mon 17:00 Athens, 10:00 New York: EMEA has left, NA is next in the chain
		"2026-11-25T23:00:00Z": "night", // Wed 18:00 New York: the always-on team last in the chain
	} {
		if got := p.Pager("care", at(when)); got != want {
			t.Errorf("Pager(care, %s) = %q, want %q", when, got, want)
		}
	}
	if got := p.Pager("care-na", at("2026-11-23T08:00:00Z")); got != "emea" {
		t.Errorf("Pager(care-na) at 03:00 New York = %q, want emea (care-na's chain starts with care)", got)
	}
	bare, err := LoadPolicy(policy)
	if err != nil {
		t.Fatal(err)
	}
	if bare.Pager("care", at("2026-11-23T08:00:00Z")) != "" {
		t.Error("a policy without an organisation pages a team")
	}
}

// TestBackdatedPostsDoNotSplitAStory: a story's window was its posts'
// created_at, which the poster sets (a Bluesky record's createdAt is the
// client's word): ten posts about one recall, each dated a day further
// back, were ten stories, ten P1 pages. A created_at outside the window
// before the post was heard (or after it) counts as its ingest time.
func TestBackdatedPostsDoNotSplitAStory(t *testing.T) {
	p, err := load(t, `
queues: [pr]
rules:
  - name: recall
    when: {keywords: [recall]}
    queue: pr
    priority: P1
    incident: story
    story_window: 1h
`)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	stage := p.Stage(func() time.Time { return t0.Add(10 * time.Minute) })
	ids := map[string]bool{}
	for i := range 10 {
		created := t0.AddDate(0, 0, -i)
		if i == 9 {
			created = time.Unix(0, 0) // 1970
		}
		it := &post.Item{
			Post:       &post.Post{Platform: "bluesky", ID: fmt.Sprint("r", i), CreatedAt: created, IngestedAt: t0.Add(time.Duration(i) * time.Second)},
			Matches:    []post.Match{{Watchlist: "acme", Keywords: []string{"acme", "recall"}}},
			Enrichment: &post.Enrichment{SentimentLabel: "negative"},
		}
		out, err := stage(context.Background(), post.Batch{Items: []*post.Item{it}})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Items {
			ids[o.Alert.ID] = true
		}
	}
	if len(ids) != 1 {
		t.Errorf("ten backdated posts of one story raised %d alerts, want one incident", len(ids))
	}
	// A post created within the window before it was heard keeps its own
	// time: two posts of 09:05 and 09:55, heard at 10:01 and 10:02, are in
	// the windows of their creation (09:00-10:00), not of their hearing.
	created := map[string]time.Time{"a": t0.Add(-55 * time.Minute), "b": t0.Add(-5 * time.Minute)}
	keys := map[string]string{}
	for id, c := range created {
		it := &post.Item{Post: &post.Post{Platform: "x", ID: id, CreatedAt: c, IngestedAt: t0.Add(time.Minute)}, Matches: []post.Match{{Watchlist: "acme", Keywords: []string{"recall"}}}}
		keys[id] = storyKey(it, &Rule{StoryWindow: time.Hour})
	}
	if keys["a"] != keys["b"] || !strings.HasSuffix(keys["a"], fmt.Sprint(t0.Add(-time.Hour).Unix())) {
		t.Errorf("story keys %v, want both in the window from 09:00", keys)
	}
	// An edit hours later stays in its post's story.
	edit := &post.Item{Post: &post.Post{Kind: post.KindEdit, Platform: "x", ID: "a", CreatedAt: created["a"], IngestedAt: t0.Add(3 * time.Hour)}, Matches: []post.Match{{Watchlist: "acme", Keywords: []string{"recall"}}}}
	if k := storyKey(edit, &Rule{StoryWindow: time.Hour}); k != keys["a"] {
		t.Errorf("an edit three hours later: story %s, want its post's %s", k, keys["a"])
	}
}

// TestSLABounded: a first-response SLA of a century (1,000,000h parses)
// put due_at past 2106, which a ClickHouse DateTime cannot hold: the sink
// dead-lettered every such alert, so the desk never showed them though
// they were paged. An SLA is at most 90 days, as a resolve target is.
func TestSLABounded(t *testing.T) {
	_, err := loadOrg(t, `
regions:
  R: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}}
teams: [{name: a, region: R}]
queues: [{name: q, team: a, sla: {P1: 30m, P4: 1000000h}}]
`)
	if err == nil || !strings.Contains(err.Error(), "queues.q.sla: P4") {
		t.Errorf("a century's SLA: %v, want it refused", err)
	}
	_, err = load(t, "queues: [pr]\nrules:\n  - {name: a, queue: pr, priority: P1, sla: 1000000h}\n")
	if err == nil || !strings.Contains(err.Error(), "sla") {
		t.Errorf("a rule's century SLA: %v, want it refused", err)
	}
	if _, err := load(t, "queues: [pr]\nrules:\n  - {name: a, queue: pr, priority: P1, sla: 2160h}\n"); err != nil {
		t.Errorf("a 90-day SLA: %v", err)
	}
}

// TestSpikeWindowsWhenTheClockSteps: the spike windows follow the route
// host's clock. Stepped back an hour, the window open then ran on until
// the clock came back to its end, gathering over an hour of a steady
// stream into one five-minute window: a spike alert for nothing. Jumped
// years ahead, the detector closed every window in between, one at a
// time, for every watchlist and region, under its lock: the route stage
// stalled. A step back closes the window at once, short; a jump closes at
// most maxSpikeCatchUp windows.
func TestSpikeWindowsWhenTheClockSteps(t *testing.T) {
	d := newSpikeDetector(Spikes{Window: 5 * time.Minute, MinCount: 5, Factor: 3, Queue: "pr", Priority: "P2"})
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	steady := func(d *spikeDetector, from time.Time, minutes, watchlists int) []*post.Item {
		var spikes []*post.Item
		for m := range minutes {
			var items []*post.Item
			for w := range watchlists {
				for range 4 {
					items = append(items, item(fmt.Sprint("wl", w), []string{"acme"}, "neutral", "EMEA", 10))
				}
			}
			spikes = append(spikes, d.observe(items, from.Add(time.Duration(m)*time.Minute))...)
		}
		return spikes
	}
	if s := steady(d, t0, 60, 1); len(s) != 0 {
		t.Fatalf("a steady stream raised %d spikes", len(s))
	}
	if s := steady(d, t0.Add(-time.Hour), 150, 1); len(s) != 0 {
		t.Errorf("a steady stream after the clock stepped back an hour raised %d spikes: %s", len(s), s[0].Alert.Spike.Why)
	}
	// A host clock set to 2099: one batch closed 38 million one-minute
	// windows, 8.9 s (load 17) under the detector's lock; now 3 ms.
	d = newSpikeDetector(Spikes{Window: time.Minute, MinCount: 5, Factor: 3, Queue: "pr", Priority: "P2", Baseline: "seasonal"})
	steady(d, t0, 10, 200)
	jump := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	start := time.Now()
	steady(d, jump, 1, 200)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("a jump of the clock to 2099 took %v", took)
	}
	if s := steady(d, jump.Add(time.Minute), 30, 200); len(s) != 0 {
		t.Errorf("a steady stream after the jump raised %d spikes", len(s))
	}
}

// TestBusinessTargetOutOfReach: a business-clock target the deadline
// search cannot reach (90 days of business time in a minute of hours a
// weekday: 129,600 spans, past the 10,000 it looks through) gave every
// such alert no deadline, so it never breached, and cost each alert 10 ms
// of searching. It is refused at load, naming the queue and priority.
func TestBusinessTargetOutOfReach(t *testing.T) {
	_, err := loadOrg(t, `
regions:
  R: {timezone: UTC, hours: {mon-fri: "09:00-09:01"}}
teams: [{name: a, region: R}, {name: b, region: R, always_on: true}]
queues: [{name: q, team: a, handoff: [o], sla: {P1: 30m, P2: 2160h}, resolve: {P1: 2160h}, sla_clock: business}, {name: o, team: b}]
`)
	for _, want := range []string{"queues.q.sla: P2", "queues.q.resolve: P1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to name %s", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "queues.q.sla: P1") {
		t.Errorf("a reachable target refused: %v", err)
	}
}

// TestBusinessEscalationOutOfReach: a rule's escalate.after (or its own
// sla) on a business-clock queue is spent in the team's hours like the
// queue's targets; one the search cannot reach gave escalate_at the zero
// time, which is long past: the alert escalated the moment it was raised.
// It is refused at load like the queue's own targets.
func TestBusinessEscalationOutOfReach(t *testing.T) {
	org := writeFile(t, "org.yaml", `
regions:
  R: {timezone: UTC, hours: {mon-fri: "09:00-09:01"}}
teams: [{name: a, region: R}, {name: b, region: R, always_on: true}]
queues: [{name: q, team: a, handoff: [o], sla: {P1: 30m}, sla_clock: business}, {name: o, team: b}]
`)
	policy := writeFile(t, "routing.yaml", `
queues: [q, o]
rules:
  - {name: late, when: {keywords: [recall]}, queue: q, priority: P1, escalate: {to: o, after: 720h}}
  - {name: slow, when: {keywords: [lawsuit]}, queue: q, priority: P1, sla: 2000h}
  - {name: fine, queue: q, priority: P1, escalate: {to: o, after: 2h}}
`)
	_, err := Load(Config{Policy: policy, Org: org})
	for _, want := range []string{"late", "slow"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to name rule %s", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "fine") {
		t.Errorf("a reachable escalation refused: %v", err)
	}
}

// TestEscalationWhenBusinessHoursRunOut: an org checked when it was loaded
// can still run out of hours later (a year of holidays ahead of an alert
// raised long after loading). Then the deadline search finds nothing, and
// escalate_at was the zero time, long past: the alert escalated the moment
// it was raised. It escalates after the delay in calendar time instead
// (nobody works the queue's hours to count it in).
func TestEscalationWhenBusinessHoursRunOut(t *testing.T) {
	var holidays []string
	for d := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2029; d = d.AddDate(0, 0, 1) {
		holidays = append(holidays, d.Format("2006-01-02"))
	}
	o, err := loadOrg(t, `
regions:
  R: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}, holidays: [`+strings.Join(holidays, ", ")+`]}
teams: [{name: a, region: R}]
queues: [{name: q, team: a, sla: {P1: 30m}, sla_clock: business}, {name: o, team: a}]
`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := load(t, "queues: [q, o]\nrules:\n  - {name: r, queue: q, priority: P1, escalate: {to: o, after: 2h}}\n")
	if err != nil {
		t.Fatal(err)
	}
	p.org = o
	raised := time.Date(2027, 3, 3, 10, 0, 0, 0, time.UTC) // a Wednesday, a holiday like every day of 2027
	as, _ := p.alerts(item("acme", []string{"acme"}, "negative", "EMEA", 10), raised, newCounts(10, 10))
	if len(as) == 0 {
		t.Fatal("no alert")
	}
	if a := as[0]; !a.EscalateAt.After(raised) {
		t.Errorf("escalate_at %s for an alert raised at %s on %s: it escalates at once", a.EscalateAt, raised, a.Queue)
	}
	if at := p.dueAfter("q", 2*time.Hour, raised); !at.IsZero() {
		t.Fatalf("the setup is off: q's business clock reaches 2h from %s (%s)", raised, at)
	}
}
