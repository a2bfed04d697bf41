package route

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

func TestSimulate(t *testing.T) {
	org := writeFile(t, "org.yaml", strings.Replace(testOrg, "- {name: emea, region: EMEA, members: [{name: a, role: coach}]}", "- {name: emea, region: EMEA, capacity_per_hour: 5, members: [{name: a, role: coach}]}", 1))
	pol := writeFile(t, "routing.yaml", "queues: [care]\nrules:\n  - {name: neg, when: {sentiment: [negative]}, queue: care, priority: P2}\n")
	p, err := Load(Config{Policy: pol, Org: org})
	if err != nil {
		t.Fatal(err)
	}
	var items []*post.Item
	add := func(at string, n int) {
		for i := range n {
			it := item("acme", []string{"acme"}, "negative", "EMEA", 10)
			it.Post.ID = at + "/" + strconv.Itoa(i)
			it.Post.CreatedAt = mustTime(at).Add(time.Duration(i) * time.Second)
			items = append(items, it)
		}
	}
	add("2026-11-23T08:00:00Z", 20) // Monday 10:00 Athens: 20 alerts, capacity 5 an hour
	add("2026-11-23T16:30:00Z", 3)  // 18:30 Athens: handed to New York
	rows := Simulate(p, items, time.Time{})
	byKey := map[string]HourReport{}
	total := map[string]int{}
	for _, r := range rows {
		byKey[r.Queue+"@"+r.Hour.Format("15")] = r
		total["alerts"] += r.Alerts
		total["answered"] += r.Answered
		total["breaches"] += r.Breaches
	}
	first := byKey["care@08"]
	if first.Alerts != 20 || first.Answered != 5 || first.Team != "emea" || first.Backlog != 15 {
		t.Errorf("first hour = %+v", first)
	}
	// 2h SLA on business time: due 10:00Z. Five more are answered in each
	// hour; the five still waiting when the 10:00 hour ends have breached.
	if second := byKey["care@09"]; second.Answered != 5 || second.Breaches != 0 || second.Backlog != 10 {
		t.Errorf("second hour = %+v", second)
	}
	if third := byKey["care@10"]; third.Answered != 5 || third.Breaches != 5 || third.Backlog != 0 {
		t.Errorf("third hour = %+v", third)
	}
	if na := byKey["care-na@16"]; na.Alerts != 3 || na.HandedIn != 3 || na.Team != "na" || na.Answered != 3 {
		t.Errorf("hand-off hour = %+v", na)
	}
	if total["alerts"] != 23 || total["answered"]+total["breaches"] != 23 {
		t.Errorf("totals %v: every alert must be answered or breach", total)
	}
	shifted := Simulate(p, items, mustTime("2026-11-28T08:00:00Z")) // a Saturday: nobody but the night team
	for _, r := range shifted {
		if r.Alerts > 0 && r.Queue != "night" {
			t.Errorf("on a Saturday %d alerts went to %s", r.Alerts, r.Queue)
		}
	}
}

func mustTime(s string) time.Time { return at(s) }

// TestSimulateOverride checks that the simulation counts an override's team
// as working the queue: on a holiday under an on-call override, alerts are
// answered, not left to breach.
func TestSimulateOverride(t *testing.T) {
	org := writeFile(t, "org.yaml", testOrg+`
overrides:
  - {queue: care, team: night, from: 2026-12-24T16:00:00Z, to: 2026-12-27T06:00:00Z}
`)
	pol := writeFile(t, "routing.yaml", "queues: [care]\nrules:\n  - {name: neg, when: {sentiment: [negative]}, queue: care, priority: P2}\n")
	p, err := Load(Config{Policy: pol, Org: org})
	if err != nil {
		t.Fatal(err)
	}
	var items []*post.Item
	for i := range 3 {
		it := item("acme", []string{"acme"}, "negative", "EMEA", 10)
		it.Post.ID = strconv.Itoa(i)
		it.Post.CreatedAt = at("2026-12-25T10:00:00Z") // Christmas in Athens, under the override
		items = append(items, it)
	}
	rows := Simulate(p, items, time.Time{})
	if len(rows) != 1 {
		t.Fatalf("rows = %+v, want one hour", rows)
	}
	if r := rows[0]; r.Queue != "care" || r.Team != "night" || r.Alerts != 3 || r.Answered != 3 || r.Breaches != 0 {
		t.Errorf("row = %+v, want care worked by night answering all 3", r)
	}
}
