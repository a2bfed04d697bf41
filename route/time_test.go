package route

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// TestRedeliveryAfterShiftChange checks that a post redelivered after the
// shift changed raises the same alert on the same queue with the same
// deadline: the alert is raised as of the post's ingest time, not of its
// processing time, unless it arrives more than maxRaiseLag late.
func TestRedeliveryAfterShiftChange(t *testing.T) {
	org := writeFile(t, "org.yaml", testOrg)
	pol := writeFile(t, "routing.yaml", "queues: [care, night]\nrules:\n  - {name: neg, when: {sentiment: [negative]}, queue: care, priority: P2, escalate: {to: night, after: 1h}}\n")
	p, err := Load(Config{Policy: pol, Org: org})
	if err != nil {
		t.Fatal(err)
	}
	ingested := at("2026-11-23T14:50:00Z") // Mon 16:50 Athens: care's team is on duty until 17:00
	route := func(now time.Time) *post.Alert {
		t.Helper()
		it := item("acme", []string{"acme"}, "negative", "EMEA", 10)
		it.Post.IngestedAt = ingested
		out, err := p.Stage(func() time.Time { return now })(context.Background(), post.Batch{Items: []*post.Item{it}})
		if err != nil || len(out.Items) != 1 {
			t.Fatalf("stage at %v: %v, %d items", now, err, len(out.Items))
		}
		return out.Items[0].Alert
	}
	first := route(at("2026-11-23T14:50:01Z"))
	if first.Queue != "care" || !first.CreatedAt.Equal(ingested) || !first.DueAt.Equal(at("2026-11-24T08:50:00Z")) {
		t.Fatalf("first delivery = %+v", first)
	}
	for _, now := range []string{"2026-11-23T15:01:00Z", "2026-11-23T15:50:00Z"} { // after 17:00 Athens, within the hour
		again := route(at(now))
		if again.ID != first.ID || again.Queue != first.Queue || again.Team != first.Team || !again.DueAt.Equal(first.DueAt) ||
			!again.EscalateAt.Equal(first.EscalateAt) || !again.CreatedAt.Equal(first.CreatedAt) {
			t.Errorf("redelivered at %s = %+v, want as first %+v", now, again, first)
		}
	}
	// More than maxRaiseLag late (a backlog, a replay): the team on duty now.
	late := route(at("2026-11-23T16:00:00Z"))
	if late.ID != first.ID || late.Queue != "care-na" || !late.CreatedAt.Equal(at("2026-11-23T16:00:00Z")) {
		t.Errorf("late delivery = %+v, want raised now on care-na", late)
	}
	// An ingest time ahead of the route stage's clock is not trusted.
	if got := raisedAt(&post.Item{Post: &post.Post{IngestedAt: at("2026-11-23T15:00:00Z")}}, at("2026-11-23T14:00:00Z")); !got.Equal(at("2026-11-23T14:00:00Z")) {
		t.Errorf("raisedAt with a future ingest time = %v, want now", got)
	}
}

// orgIn is an org with one business-clock queue worked in zone with hours.
func orgIn(t *testing.T, zone, hours string) *Org {
	t.Helper()
	o, err := loadOrg(t, `
regions:
  R: {timezone: `+zone+`, hours: {`+hours+`}}
teams:
  - {name: day, region: R}
  - {name: oncall, region: R, always_on: true}
queues:
  - {name: q, team: day, handoff: [oncall], sla: {P2: 2h}, sla_clock: business}
  - {name: oncall, team: oncall}
`)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestHoursAcrossDST checks business hours and business-clock deadlines on
// the days clocks change, in zones with odd offsets and odd switches: a
// span runs from the first instant its start shows on the local clock to
// the first its end does.
func TestHoursAcrossDST(t *testing.T) {
	type probe struct {
		at   string
		open bool
	}
	cases := []struct {
		name, zone, hours string
		probes            []probe
		from              string        // a deadline counted from here
		d                 time.Duration // this much business time
		due               string
	}{
		{name: "New York spring forward, 09-17", zone: "America/New_York", hours: `sun: "09:00-17:00"`,
			probes: []probe{{"2026-03-08T12:59:00Z", false}, {"2026-03-08T13:00:00Z", true}, {"2026-03-08T20:59:00Z", true}, {"2026-03-08T21:00:00Z", false}},
			from:   "2026-03-08T12:00:00Z", d: 8 * time.Hour, due: "2026-03-08T21:00:00Z"},
		{name: "New York fall back, 09-17", zone: "America/New_York", hours: `sun: "09:00-17:00"`,
			probes: []probe{{"2026-11-01T13:59:00Z", false}, {"2026-11-01T14:00:00Z", true}, {"2026-11-01T22:00:00Z", false}},
			from:   "2026-11-01T10:00:00Z", d: 8 * time.Hour, due: "2026-11-01T22:00:00Z"},
		{name: "New York, a span ending at 02:30, which spring forward skips", zone: "America/New_York", hours: `sun: "00:00-02:30"`,
			probes: []probe{{"2026-03-08T06:59:00Z", true}, {"2026-03-08T07:00:00Z", false}}, // 01:59 EST, then 03:00 EDT
			from:   "2026-03-08T05:00:00Z", d: 2 * time.Hour, due: "2026-03-08T07:00:00Z"},
		{name: "New York night shift over fall back", zone: "America/New_York", hours: `sat: "22:00-24:00", sun: "00:00-06:00"`,
			probes: []probe{{"2026-11-01T01:59:00Z", false}, {"2026-11-01T02:00:00Z", true}, {"2026-11-01T05:30:00Z", true}, {"2026-11-01T06:30:00Z", true}, {"2026-11-01T10:59:00Z", true}, {"2026-11-01T11:00:00Z", false}},
			from:   "2026-11-01T02:00:00Z", d: 9 * time.Hour, due: "2026-11-01T11:00:00Z"}, // 22:00 EDT to 06:00 EST is 9 hours
		{name: "Athens spring forward, 03:30 does not exist", zone: "Europe/Athens", hours: `sun: "03:00-05:00"`,
			probes: []probe{{"2026-03-29T00:59:00Z", false}, {"2026-03-29T01:00:00Z", true}, {"2026-03-29T02:00:00Z", false}},
			from:   "2026-03-28T22:00:00Z", d: time.Hour, due: "2026-03-29T02:00:00Z"},
		{name: "Athens fall back, 03:30 twice", zone: "Europe/Athens", hours: `sun: "03:30-06:00"`,
			probes: []probe{{"2026-10-25T00:29:00Z", false}, {"2026-10-25T00:30:00Z", true}, {"2026-10-25T01:00:00Z", true}, {"2026-10-25T03:59:00Z", true}, {"2026-10-25T04:00:00Z", false}},
			from:   "2026-10-25T00:00:00Z", d: time.Hour, due: "2026-10-25T01:30:00Z"},
		{name: "Lord Howe fall back, 30 minutes twice", zone: "Australia/Lord_Howe", hours: `sun: "01:45-03:00"`,
			probes: []probe{{"2026-04-04T14:44:00Z", false}, {"2026-04-04T14:45:00Z", true}, {"2026-04-04T15:10:00Z", true}, {"2026-04-04T16:30:00Z", false}},
			from:   "2026-04-04T14:00:00Z", d: 30 * time.Minute, due: "2026-04-04T15:15:00Z"},
		{name: "Lord Howe spring forward, 30 minutes skipped", zone: "Australia/Lord_Howe", hours: `sun: "02:00-03:00"`,
			probes: []probe{{"2026-10-03T15:29:00Z", false}, {"2026-10-03T15:30:00Z", true}, {"2026-10-03T16:00:00Z", false}},
			from:   "2026-10-03T15:00:00Z", d: 20 * time.Minute, due: "2026-10-03T15:50:00Z"},
		{name: "Kolkata, +05:30 and no DST", zone: "Asia/Kolkata", hours: `mon-fri: "09:00-17:00"`,
			probes: []probe{{"2026-11-23T03:29:00Z", false}, {"2026-11-23T03:30:00Z", true}, {"2026-11-23T11:29:00Z", true}, {"2026-11-23T11:30:00Z", false}},
			from:   "2026-11-20T10:30:00Z", d: 2 * time.Hour, due: "2026-11-23T04:30:00Z"}, // Fri 16:00 to Mon 10:00
		{name: "São Paulo, no DST since 2019", zone: "America/Sao_Paulo", hours: `sun: "00:00-09:00"`,
			probes: []probe{{"2026-11-01T02:59:00Z", false}, {"2026-11-01T03:00:00Z", true}, {"2026-11-01T11:59:00Z", true}, {"2026-11-01T12:00:00Z", false}},
			from:   "2026-11-01T02:00:00Z", d: 9 * time.Hour, due: "2026-11-01T12:00:00Z"},
		{name: "Santiago, midnight skipped", zone: "America/Santiago", hours: `mon-fri: "09:00-18:00"`,
			probes: []probe{{"2026-09-07T11:59:00Z", false}, {"2026-09-07T12:00:00Z", true}},
			from:   "2026-09-06T00:00:00Z", d: 2 * time.Hour, due: "2026-09-07T14:00:00Z"}, // Sat 20:00 -04 to Mon 11:00 -03
		{name: "Havana, midnight skipped", zone: "America/Havana", hours: `mon-fri: "09:00-18:00"`,
			probes: []probe{{"2026-03-09T12:59:00Z", false}, {"2026-03-09T13:00:00Z", true}},
			from:   "2026-03-08T01:00:00Z", d: 2 * time.Hour, due: "2026-03-09T15:00:00Z"}, // Sat 20:00 CST to Mon 11:00 CDT
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := orgIn(t, c.zone, c.hours)
			for _, p := range c.probes {
				if got := o.OnDuty("day", at(p.at)); got != p.open {
					t.Errorf("on duty at %s (%s) = %v, want %v", p.at, at(p.at).In(o.Regions["R"].loc).Format("Mon 15:04 MST"), got, p.open)
				}
				if q, _ := o.Handle("q", at(p.at)); (q == "q") != p.open {
					t.Errorf("Handle at %s = %s", p.at, q)
				}
			}
			if got := o.DueAfter("q", c.d, at(c.from)); !got.Equal(at(c.due)) {
				t.Errorf("DueAfter(%v from %s) = %v, want %s", c.d, c.from, got.UTC(), c.due)
			}
		})
	}
}

// TestCoverageGaps checks that loading finds gaps in coverage that hourly
// samples of a winter and a summer week miss: a short one, and one only in
// the weeks when Europe and North America are on different DST rules.
func TestCoverageGaps(t *testing.T) {
	cases := []struct{ name, regions, want string }{
		{"twenty minutes every day", `
  A: {timezone: Asia/Kolkata, hours: {mon-sun: "09:00-17:10"}}
  B: {timezone: Asia/Kolkata, hours: {mon-sun: "17:30-24:00", sun-sat: "00:00-09:00"}}`,
			"no team on duty for 121h40m0s of the year from 2026-01-01 (first: Thu 2026-01-01 11:40 UTC)"},
		{"between the DST switches", `
  A: {timezone: Europe/Athens, hours: {mon-sun: "08:00-20:00"}}
  B: {timezone: America/New_York, hours: {mon-sun: "13:00-24:00", sun-sat: "00:00-01:00"}}`,
			"no team on duty for 28h0m0s of the year from 2026-01-01 (first: Mon 2026-03-09 05:00 UTC)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadOrg(t, `
regions:`+c.regions+`
teams: [{name: a, region: A}, {name: b, region: B}]
queues:
  - {name: qa, team: a, handoff: [qb]}
  - {name: qb, team: b, handoff: [qa]}
`)
			if err == nil || !strings.Contains(err.Error(), "queues.qa: "+c.want) {
				t.Errorf("error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestEscalationRetryAfterShiftChange checks that an escalation repeated
// after a shift change (the job failed between producing and recording it)
// names the same alert on the same queue with the same deadline.
func TestEscalationRetryAfterShiftChange(t *testing.T) {
	org := writeFile(t, "org.yaml", testOrg)
	pol := writeFile(t, "routing.yaml", "queues: [care, night]\nrules:\n  - {name: neg, when: {sentiment: [negative]}, queue: night, priority: P2, escalate: {to: care, after: 1h}}\n")
	p, err := Load(Config{Policy: pol, Org: org})
	if err != nil {
		t.Fatal(err)
	}
	it := item("acme", []string{"acme"}, "negative", "EMEA", 10)
	it.Alert = &post.Alert{ID: "a1", Queue: "night", Priority: "P2", Rule: "neg", EscalateTo: "care", EscalateAt: at("2026-11-23T14:50:00Z")} // Mon 16:50 Athens
	first := p.Escalation(it, at("2026-11-23T14:50:30Z")).Alert
	if first.Queue != "care" || !first.CreatedAt.Equal(at("2026-11-23T14:50:00Z")) {
		t.Fatalf("escalation = %+v", first)
	}
	retry := p.Escalation(it, at("2026-11-23T15:20:00Z")).Alert // 17:20 Athens: care's team is off
	if retry.ID != first.ID || retry.Queue != first.Queue || !retry.DueAt.Equal(first.DueAt) || !retry.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("retried escalation = %+v, want as first %+v", retry, first)
	}
	// A job that ran more than maxRaiseLag late raises it for whoever is on duty now.
	if late := p.Escalation(it, at("2026-11-23T16:00:00Z")).Alert; late.ID != first.ID || late.Queue != "care-na" {
		t.Errorf("late escalation = %+v, want it on care-na", late)
	}
}

// TestBusinessClockNeedsHours checks that a business-clock queue whose
// team has no hours is refused: its deadlines would never come.
func TestBusinessClockNeedsHours(t *testing.T) {
	_, err := loadOrg(t, `
regions:
  R: {timezone: Europe/Athens}
teams: [{name: day, region: R}, {name: oncall, region: R, always_on: true}]
queues:
  - {name: q, team: day, handoff: [oncall], sla: {P2: 2h}, sla_clock: business}
  - {name: oncall, team: oncall, sla_clock: business}
`)
	if err == nil || !strings.Contains(err.Error(), "queues.q.sla_clock: business, but region R of team day has no hours") || strings.Contains(err.Error(), "queues.oncall") {
		t.Errorf("error = %v", err)
	}
}

// TestHandoffBoundaries checks the edges of a shift and of an override: a
// span and an override include their start and exclude their end, so at
// every instant exactly one queue takes the alert.
func TestHandoffBoundaries(t *testing.T) {
	o, err := loadOrg(t, testOrg+`
overrides:
  - {queue: care, team: night, from: 2026-12-24T16:00:00Z, to: 2026-12-27T06:00:00Z}
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ at, queue, team string }{
		{"2026-11-23T06:59:59Z", "night", "night"}, // Mon 08:59:59 Athens, 01:59 New York: nobody but the night
		{"2026-11-23T07:00:00Z", "care", "emea"},   // 09:00 Athens: on duty at the start
		{"2026-11-23T14:59:59Z", "care", "emea"},   // 16:59:59
		{"2026-11-23T15:00:00Z", "care-na", "na"},  // 17:00 Athens: off at the end; 10:00 New York
		{"2026-11-23T13:59:59Z", "care", "emea"},   // both on duty (New York from 14:00Z): the queue's own team first
		{"2026-12-24T15:59:59Z", "care-na", "na"},  // Thu 17:59 Athens, before the override
		{"2026-12-24T16:00:00Z", "care", "night"},  // the override's start
		{"2026-12-27T05:59:59Z", "care", "night"},  // just before its end
		{"2026-12-27T06:00:00Z", "night", "night"}, // its end: Sunday, the usual chain
	} {
		q, _ := o.Handle("care", at(c.at))
		if q != c.queue || o.Team(q, at(c.at)) != c.team {
			t.Errorf("at %s: queue %s, team %s; want %s, %s", c.at, q, o.Team(q, at(c.at)), c.queue, c.team)
		}
	}
}

// TestBusinessClockAcrossOverrides checks that a business-clock deadline
// counts an override's time in full, as around the clock, whether the
// alert was raised before it or during it, and only the team's hours after.
func TestBusinessClockAcrossOverrides(t *testing.T) {
	o, err := loadOrg(t, testOrg+`
overrides:
  - {queue: care, team: night, from: 2026-12-24T16:00:00Z, to: 2026-12-27T06:00:00Z}
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ from, due string }{
		{"2026-12-24T14:00:00Z", "2026-12-24T17:00:00Z"}, // Thu 16:00 Athens: 1h to 17:00, the override from 18:00
		{"2026-12-25T03:00:00Z", "2026-12-25T05:00:00Z"}, // within the override
		{"2026-12-27T05:00:00Z", "2026-12-28T08:00:00Z"}, // 1h left of the override, then Mon 09:00–10:00 Athens
		{"2026-12-24T06:00:00Z", "2026-12-24T09:00:00Z"}, // Thu 08:00 Athens: business hours only, 09:00–11:00
	} {
		if got := o.Due("care", "P2", at(c.from)); !got.Equal(at(c.due)) {
			t.Errorf("Due(care, P2, %s) = %v, want %s", c.from, got.UTC(), c.due)
		}
	}
}

// TestDeadlinesInUTC checks that a business-clock deadline is written in
// UTC like the other times of an alert, not in the region's offset.
func TestDeadlinesInUTC(t *testing.T) {
	o := orgIn(t, "Asia/Kolkata", `mon-fri: "09:00-17:00"`)
	due := o.DueAfter("q", 2*time.Hour, at("2026-11-23T02:00:00Z")) // 07:30 in Kolkata: from 09:00
	if b, _ := due.MarshalJSON(); string(b) != `"2026-11-23T05:30:00Z"` {
		t.Errorf("due_at on the wire = %s, want 2026-11-23T05:30:00Z", b)
	}
}

// TestCoverageLooksAhead: the coverage check covers the year from the day
// the org is loaded, so next year's holidays count once they are that close.
func TestCoverageLooksAhead(t *testing.T) {
	path := writeFile(t, "org.yaml", `
regions:
  A: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}, holidays: ["2027-12-24"]}
  B: {timezone: UTC, hours: {mon-sun: "00:00-24:00"}, holidays: ["2027-12-24"]}
teams: [{name: a, region: A}, {name: b, region: B}]
queues:
  - {name: qa, team: a, handoff: [qb]}
  - {name: qb, team: b, handoff: [qa]}
`)
	if _, err := loadOrgAt(path, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("loaded in 2026, a holiday of December 2027 is too far to check: %v", err)
	}
	_, err := loadOrgAt(path, time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
	if want := "queues.qa: no team on duty for 24h0m0s of the year from 2027-03-01 (first: Fri 2027-12-24 00:00 UTC)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("loaded in March 2027: %v, want it to contain %q", err, want)
	}
}
