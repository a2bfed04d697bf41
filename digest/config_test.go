package digest

import (
	"strings"
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	athens, _ := time.LoadLocation("Europe/Athens")
	ny, _ := time.LoadLocation("America/New_York")
	cases := []struct {
		name         string
		d            Digest
		at           time.Time
		since, until time.Time
	}{
		{"weekly on Monday 08:00 Athens, asked on Wednesday",
			Digest{Schedule: "0 8 * * MON", Audience: Audience{Timezone: "Europe/Athens"}},
			time.Date(2026, 12, 9, 12, 0, 0, 0, time.UTC),
			time.Date(2026, 11, 30, 8, 0, 0, 0, athens), time.Date(2026, 12, 7, 8, 0, 0, 0, athens)},
		{"a run exactly at `at` is that run",
			Digest{Schedule: "0 8 * * MON", Audience: Audience{Timezone: "Europe/Athens"}},
			time.Date(2026, 12, 7, 8, 0, 0, 0, athens),
			time.Date(2026, 11, 30, 8, 0, 0, 0, athens), time.Date(2026, 12, 7, 8, 0, 0, 0, athens)},
		{"weekdays: Monday's covers the weekend",
			Digest{Schedule: "30 7 * * 1-5"},
			time.Date(2026, 12, 7, 7, 30, 0, 0, time.UTC),
			time.Date(2026, 12, 4, 7, 30, 0, 0, time.UTC), time.Date(2026, 12, 7, 7, 30, 0, 0, time.UTC)},
		{"daily across the DST change is 23 hours, local midnight to local midnight",
			Digest{Schedule: "@daily", Audience: Audience{Timezone: "America/New_York"}},
			time.Date(2026, 3, 9, 12, 0, 0, 0, ny),
			time.Date(2026, 3, 8, 0, 0, 0, 0, ny), time.Date(2026, 3, 9, 0, 0, 0, 0, ny)},
		{"an explicit period",
			Digest{Schedule: "0 9 * * *", Period: 7 * 24 * time.Hour},
			time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC),
			time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC), time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)},
		{"monthly",
			Digest{Schedule: "0 6 1 * *"},
			time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC),
			time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)},
		{"every minute",
			Digest{Schedule: "* * * * *"},
			time.Date(2026, 12, 7, 10, 0, 30, 0, time.UTC),
			time.Date(2026, 12, 7, 9, 59, 0, 0, time.UTC), time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		since, until, err := c.d.Window(c.at)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !since.Equal(c.since) || !until.Equal(c.until) {
			t.Errorf("%s: [%v, %v), want [%v, %v)", c.name, since, until, c.since, c.until)
		}
	}
}

func TestValidate(t *testing.T) {
	k := Known{Teams: []string{"legal"}, Regions: []string{"EMEA"}, Markets: []string{"DACH", "Nordics"}, Intents: []string{"complaint", "feedback"}, Channels: map[string]string{"mail": "email", "s": "slack", "pd": "pagerduty"}}
	good := Digest{Name: "legal weekly", Schedule: "0 8 * * MON", Audience: Audience{Emails: []string{"l@example.com"}, Channels: []string{"s"}, Timezone: "Europe/Athens"},
		Scope: Scope{Teams: []string{"legal"}, Regions: []string{"EMEA"}, Markets: []string{"DACH"}, Intents: []string{"complaint"}}}
	if err := Validate([]Digest{good}, k); err != nil {
		t.Fatalf("good digest refused: %v", err)
	}
	bad := func(edit func(*Digest), want string) {
		t.Helper()
		d := good
		d.Audience.Emails = append([]string(nil), good.Audience.Emails...)
		edit(&d)
		err := Validate([]Digest{d}, k)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want an error with %q, got %v", want, err)
		}
	}
	bad(func(d *Digest) { d.Sections = []string{"gossip"} }, `unknown section "gossip"`)
	bad(func(d *Digest) { d.Schedule = "61 * * * *" }, "schedule:")
	bad(func(d *Digest) { d.Schedule = "TZ=UTC 0 8 * * *" }, "schedule:")
	bad(func(d *Digest) { d.Schedule = "0 0 8 * * *" }, "schedule:") // seconds
	bad(func(d *Digest) { d.Audience.Timezone = "Mars/Olympus" }, "audience.timezone")
	bad(func(d *Digest) { d.Audience.Timezone = "Local" }, "audience.timezone")
	bad(func(d *Digest) { d.Audience = Audience{} }, "audience: empty")
	bad(func(d *Digest) { d.Audience.Channels = []string{"pd"} }, `"pd" is a pagerduty channel`)
	bad(func(d *Digest) { d.Scope.Teams = []string{"Legal"} }, `unknown team "Legal"`)
	bad(func(d *Digest) { d.Scope.Regions = []string{"Atlantis"} }, `unknown region "Atlantis"`)
	bad(func(d *Digest) { d.Scope.Watchlists = []string{"a\x00b"} }, "no commas, control")
	bad(func(d *Digest) { d.Scope.Markets = []string{"Atlantis"} }, `scope.markets: unknown market "Atlantis"`)
	bad(func(d *Digest) { d.Scope.Markets = []string{"dach"} }, `unknown market "dach"`) // the org file's spelling: the market column is compared exactly
	bad(func(d *Digest) { d.Scope.Markets = []string{"DACH,Nordics"} }, "scope.markets")
	bad(func(d *Digest) { d.Scope.Markets = make([]string, MaxScopeNames+1) }, "scope.markets: 101 names")
	bad(func(d *Digest) { d.Period = time.Minute }, "period:")
	bad(func(d *Digest) { d.Schedule = "*/10 * * * *" }, "digests run at most hourly")
	bad(func(d *Digest) { d.Schedule, d.Period = "* * * * *", time.Hour }, "digests run at most hourly")
	bad(func(d *Digest) { d.Top = 1e9 }, "top:")
	bad(func(d *Digest) { d.Name = "!!!" }, "name:")
	// One person is one recipient: a repeat, in any case, is refused (one
	// message would list them twice), and so is a domain that reads as
	// another (Cyrillic а in exаmple.com; a label all of look-alikes).
	bad(func(d *Digest) { d.Audience.Emails = []string{"a@x.org", "a@x.org"} }, `audience.emails: "a@x.org" is given twice`)
	bad(func(d *Digest) { d.Audience.Emails = []string{"a@x.org", "A@X.org"} }, `audience.emails: "A@X.org" is given twice`)
	bad(func(d *Digest) { d.Audience.Emails = []string{"a@ex\u0430mple.com"} }, "audience.emails: \"a@ex\u0430mple.com\": its domain")
	bad(func(d *Digest) { d.Audience.Emails = []string{"a@\u0435\u0445\u0430.com"} }, "its domain")
	bad(func(d *Digest) { d.Audience.Emails = []string{"a@exa\u200bmple.com"} }, "audience.emails")
	for _, ok := range [][]string{{"a@x.org", "b@x.org"}, {"a@m\u00fcnchen.de"}, {"a@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444"}} {
		d := good
		d.Audience.Emails = ok
		if err := Validate([]Digest{d}, k); err != nil {
			t.Errorf("emails %q refused: %v", ok, err)
		}
	}
	// A name is shown in the subject, chat summaries, `digest list` and the
	// page: no line breaks, and nothing that reorders or hides what is read.
	for _, name := range []string{"legal\nweekly", "legal\r\nBcc: x@evil.org", "legal \u202eylkeew", "legal\u200bweekly", "legal\u2028weekly", "legal\xffweekly"} {
		bad(func(d *Digest) { d.Name = name }, "name:")
	}
	for _, name := range []string{"acme\u202e", "ac\u200dme", "acme\u2029"} {
		bad(func(d *Digest) { d.Scope.Watchlists = []string{name} }, "scope.watchlists")
	}
	if err := Validate([]Digest{func() Digest { d := good; d.Name = "Ελληνικά weekly, EMEA"; return d }()}, k); err != nil {
		t.Errorf("a name in Greek with a comma refused: %v", err)
	}
	if err := Validate([]Digest{{Name: "x", Schedule: "@daily", Audience: Audience{Emails: []string{"a@example.com"}}, Scope: Scope{Teams: []string{"legal"}}}}, Known{Channels: k.Channels}); err == nil || !strings.Contains(err.Error(), "neither an org file") {
		t.Errorf("teams without an org file: %v", err)
	}
	if err := Validate([]Digest{{Name: "x", Schedule: "@daily", Audience: Audience{Emails: []string{"a@example.com"}}, Scope: Scope{Markets: []string{"DACH"}}}}, Known{Channels: k.Channels}); err == nil || !strings.Contains(err.Error(), "scope.markets: names markets, but the org file (route.org) defines none") {
		t.Errorf("markets without an org file's markets: %v", err)
	}
	two := Known{Channels: map[string]string{"a": "email", "b": "email"}}
	if err := Validate([]Digest{{Name: "x", Schedule: "@daily", Audience: Audience{Emails: []string{"a@example.com"}}}}, two); err == nil || !strings.Contains(err.Error(), "2 email channels") {
		t.Errorf("two email channels, none named: %v", err)
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"legal weekly": "legal-weekly", "R&D product feedback weekly": "r-d-product-feedback-weekly", "  EMEA  daily!": "emea-daily", "Ελληνικά": ""} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}
