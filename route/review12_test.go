package route

import (
	"strings"
	"testing"
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
