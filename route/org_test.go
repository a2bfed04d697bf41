package route

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const testOrg = `
regions:
  EMEA: {timezone: Europe/Athens, hours: {mon-fri: "09:00-17:00"}, holidays: [2026-12-25]}
  NA:   {timezone: America/New_York, hours: {mon-fri: "09:00-17:00"}}
teams:
  - {name: emea, region: EMEA, members: [{name: a, role: coach}]}
  - {name: na, region: NA, members: [{name: b, role: responder}]}
  - {name: night, region: EMEA, always_on: true}
queues:
  - {name: care, team: emea, handoff: [care-na, night], sla: {P2: 2h}, sla_clock: business}
  - {name: care-na, team: na, handoff: [care, night], sla: {P2: 2h}}
  - {name: night, team: night, sla: {P2: 4h}}
`

func loadOrg(t *testing.T, body string) (*Org, error) {
	t.Helper()
	return loadOrgAt(writeFile(t, "org.yaml", body), time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)) // coverage over 2026, repeatably
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestFollowTheSun(t *testing.T) {
	o, err := loadOrg(t, testOrg)
	if err != nil {
		t.Fatal(err)
	}
	f := func(when, want string) {
		t.Helper()
		if got, _ := o.Handle("care", at(when)); got != want {
			t.Errorf("Handle(care, %s) = %s, want %s", when, got, want)
		}
	}
	f("2026-11-23T08:00:00Z", "care")    // Mon 10:00 Athens
	f("2026-11-23T16:00:00Z", "care-na") // Mon 18:00 Athens, 11:00 New York
	f("2026-11-23T23:00:00Z", "night")   // Mon 18:00 New York: both closed
	f("2026-11-28T12:00:00Z", "night")   // Saturday
	f("2026-12-25T14:00:00Z", "care-na") // Christmas in Athens (16:00), a working day in New York (09:00)
	// DST: Athens is UTC+3 in summer, UTC+2 in winter.
	f("2026-07-06T06:30:00Z", "care")  // 09:30 summer time
	f("2026-01-05T06:30:00Z", "night") // 08:30 winter time: not yet open, New York asleep
	f("2026-03-30T06:30:00Z", "care")  // the Monday after the switch (Sun 29 Mar): 09:30
}

func TestBusinessClockSLA(t *testing.T) {
	o, err := loadOrg(t, testOrg)
	if err != nil {
		t.Fatal(err)
	}
	f := func(queue, when, want string) {
		t.Helper()
		got := o.Due(queue, "P2", at(when))
		if !got.Equal(at(want)) {
			t.Errorf("Due(%s, %s) = %s, want %s", queue, when, got.UTC().Format(time.RFC3339), want)
		}
	}
	f("care", "2026-11-23T08:00:00Z", "2026-11-23T10:00:00Z")    // 2h inside business hours
	f("care", "2026-11-23T14:00:00Z", "2026-11-24T08:00:00Z")    // 1h today (to 17:00 Athens), 1h tomorrow from 09:00
	f("care", "2026-11-27T14:30:00Z", "2026-11-30T08:30:00Z")    // Friday afternoon: over the weekend
	f("care", "2026-12-24T14:00:00Z", "2026-12-28T08:00:00Z")    // over Christmas and the weekend
	f("care", "2026-10-23T13:00:00Z", "2026-10-26T08:00:00Z")    // over the DST switch (Sun 25 Oct): 09:00 winter time is 07:00Z
	f("care-na", "2026-11-28T12:00:00Z", "2026-11-28T14:00:00Z") // calendar clock
	if d := o.Due("care", "P1", at("2026-11-23T08:00:00Z")); !d.IsZero() {
		t.Errorf("a priority without an SLA has deadline %v", d)
	}
}

func TestOrgErrors(t *testing.T) {
	_, err := loadOrg(t, `
regions:
  EMEA: {timezone: Mars/Olympus, hours: {mon-fry: "09:00-17:00", sat: "18:00-09:00"}, holidays: [Christmas]}
teams:
  - {name: a, region: EMEA, members: [{name: x, role: boss}]}
  - {name: a, region: LUNA}
queues:
  - {name: q, team: nobody, handoff: [elsewhere], sla: {P9: 1h}, sla_clock: sundial}
`)
	for _, want := range []string{
		`timezone: "Mars/Olympus"`, `"mon-fry" is not a range of days`, `"18:00-09:00": the end must come after the start`,
		`"Christmas" is not a date`, `role "boss"`, `teams: "a" is defined twice`, `region: "LUNA"`,
		`team: "nobody"`, `handoff: "elsewhere"`, `sla: P9`, `sla_clock: "sundial"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nwant it to contain %q", err, want)
		}
	}
	_, err = loadOrg(t, `
regions: {EMEA: {timezone: Europe/Athens, hours: {mon-fri: "09:00-17:00"}}}
teams: [{name: emea, region: EMEA}]
queues: [{name: care, team: emea}]
`)
	if err == nil || !strings.Contains(err.Error(), "queues.care: no team on duty for") {
		t.Errorf("a queue with nobody on duty at night passed: %v", err)
	}
}

func TestPolicyAgainstOrg(t *testing.T) {
	org := writeFile(t, "org.yaml", testOrg)
	pol := writeFile(t, "routing.yaml", "queues: [care, pr]\nrules:\n  - {name: a, queue: care, priority: P2}\n")
	if _, err := Load(Config{Policy: pol, Org: org}); err == nil || !strings.Contains(err.Error(), `queue "pr" is not among the queues`) {
		t.Errorf("a queue missing from the org passed: %v", err)
	}
}

func TestOverrides(t *testing.T) {
	o, err := loadOrg(t, testOrg+`
overrides:
  - {queue: care, team: night, from: 2026-12-24T16:00:00Z, to: 2026-12-27T06:00:00Z, reason: Christmas}
`)
	if err != nil {
		t.Fatal(err)
	}
	if q, ok := o.Handle("care", at("2026-12-25T03:00:00Z")); q != "care" || !ok || o.Team("care", at("2026-12-25T03:00:00Z")) != "night" {
		t.Errorf("during the override: %s %v, team %s", q, ok, o.Team("care", at("2026-12-25T03:00:00Z")))
	}
	if d := o.Due("care", "P2", at("2026-12-25T03:00:00Z")); !d.Equal(at("2026-12-25T05:00:00Z")) {
		t.Errorf("due during the override = %v, want two hours on", d)
	}
	if q, _ := o.Handle("care", at("2026-12-27T23:00:00Z")); q != "night" { // Sunday night after it: the usual chain
		t.Errorf("after the override: %s", q)
	}
	_, err = loadOrg(t, testOrg+`
overrides:
  - {queue: nope, team: ghost, from: 2026-12-24T16:00:00Z, to: 2026-12-20T06:00:00Z}
`)
	for _, want := range []string{`overrides[0].queue: "nope"`, `overrides[0].team: "ghost"`, "to after from"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
}

// A queue's resolve target counts on its SLA clock: on the business clock
// of care (Athens, 09:00-17:00), 4 h from Friday 16:00 is Monday 12:00.
func TestResolveTargetOnTheQueueClock(t *testing.T) {
	o, err := loadOrg(t, strings.Replace(strings.Replace(testOrg,
		"sla: {P2: 2h}, sla_clock: business}", "sla: {P2: 2h}, resolve: {P2: 4h}, sla_clock: business}", 1),
		"{name: night, team: night, sla: {P2: 4h}}", "{name: night, team: night, sla: {P2: 4h}, resolve: {P1: 90m}}", 1))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := o.ResolveDue("care", "P2", at("2026-11-27T14:00:00Z")), at("2026-11-30T10:00:00Z"); !got.Equal(want) {
		t.Errorf("care P2 from Fri 16:00 Athens: %v, want %v (Mon 12:00 Athens)", got, want)
	}
	if got, want := o.ResolveDue("night", "P1", at("2026-11-27T23:00:00Z")), at("2026-11-28T00:30:00Z"); !got.Equal(want) {
		t.Errorf("night P1 (calendar): %v, want %v", got, want)
	}
	if !o.ResolveDue("care", "P1", at("2026-11-27T14:00:00Z")).IsZero() || !o.ResolveDue("nope", "P2", at("2026-11-27T14:00:00Z")).IsZero() {
		t.Error("a resolve target where the queue has none")
	}
	if got := o.ResolveTargets(); len(got) != 2 || got["care"]["P2"] != 4*time.Hour || got["night"]["P1"] != 90*time.Minute || len(got["care"]) != 1 {
		t.Errorf("resolve targets %v", got)
	}
	for _, bad := range []string{"resolve: {P2: 0s}", "resolve: {P2: -1h}", "resolve: {P9: 1h}", "resolve: {P2: 1000000000000h}", "resolve: {P2: 2400h}"} {
		_, err := loadOrg(t, strings.Replace(testOrg, "sla: {P2: 4h}}", "sla: {P2: 4h}, "+bad+"}", 1))
		if err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// The policy answers who is at work on a queue now (notify's paging
// channels follow it) and which teams its organisation has.
func TestPolicyWorkerAndTeams(t *testing.T) {
	dir := t.TempDir()
	org := writeFile(t, "org.yaml", testOrg)
	policy := filepath.Join(dir, "routing.yaml")
	if err := os.WriteFile(policy, []byte("queues: [care]\nrules:\n  - name: all\n    queue: care\n    priority: P2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(Config{Policy: policy, Org: org})
	if err != nil {
		t.Fatal(err)
	}
	for when, want := range map[string]string{
		"2026-11-23T08:00:00Z": "emea", // Mon 10:00 Athens
		"2026-11-23T16:00:00Z": "",     // Mon 18:00 Athens: care's own team is off (the hand-off queue's works it)
		"2026-11-25T23:00:00Z": "",
	} {
		if got := p.Worker("care", at(when)); got != want {
			t.Errorf("Worker(care, %s) = %q, want %q", when, got, want)
		}
	}
	if got := p.Worker("night", at("2026-11-25T23:00:00Z")); got != "night" {
		t.Errorf("Worker(night) = %q, want the always-on team", got)
	}
	if !p.HasTeam("na") || p.HasTeam("nope") {
		t.Error("HasTeam")
	}
	bare, err := LoadPolicy(policy)
	if err != nil {
		t.Fatal(err)
	}
	if bare.Worker("care", at("2026-11-23T08:00:00Z")) != "" || bare.HasTeam("emea") {
		t.Error("a policy without an organisation has teams")
	}
}
