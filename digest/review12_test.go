package digest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestScheduleOnTheWallClock: a schedule runs when the audience's clock
// shows its time, once a day, whatever DST does that day. robfig/cron
// steps hours in absolute time, so it skipped Lord Howe's 02:00 on the day
// its clocks go back half an hour (and 03:00 on the day they go forward),
// ran London's 01:30 twice on the day the clocks go back (the second
// digest covering one hour), and skipped a time the clocks jump over
// (São Paulo's midnight in 2018) instead of running at the jump.
func TestScheduleOnTheWallClock(t *testing.T) {
	for _, c := range []struct {
		tz, schedule string
		after        time.Time
		want         []string // the next runs, RFC 3339 UTC
	}{
		// Lord Howe goes back from 02:00 +11 to 01:30 +10:30 on 4 April
		// 2027: 02:00 that day is shown once, at +10:30.
		{"Australia/Lord_Howe", "0 2 * * *", time.Date(2027, 4, 2, 14, 0, 0, 0, time.UTC),
			[]string{"2027-04-02T15:00:00Z", "2027-04-03T15:30:00Z", "2027-04-04T15:30:00Z"}},
		// and forward from 02:00 +10:30 to 02:30 +11 on 3 October 2027.
		{"Australia/Lord_Howe", "0 3 * * *", time.Date(2027, 10, 1, 15, 0, 0, 0, time.UTC),
			[]string{"2027-10-01T16:30:00Z", "2027-10-02T16:00:00Z", "2027-10-03T16:00:00Z"}},
		// London's 01:30 is shown twice on 31 October 2027: the first.
		{"Europe/London", "30 1 * * *", time.Date(2027, 10, 30, 0, 0, 0, 0, time.UTC),
			[]string{"2027-10-30T00:30:00Z", "2027-10-31T00:30:00Z", "2027-11-01T01:30:00Z"}},
		// and skipped on 28 March 2027: at the jump, 01:00 UTC.
		{"Europe/London", "30 1 * * *", time.Date(2027, 3, 27, 0, 0, 0, 0, time.UTC),
			[]string{"2027-03-27T01:30:00Z", "2027-03-28T01:00:00Z", "2027-03-29T00:30:00Z"}},
		// São Paulo skipped midnight on 4 November 2018: at 00:00 -03 the
		// clocks showed 01:00 -02.
		{"America/Sao_Paulo", "0 0 * * *", time.Date(2018, 11, 2, 12, 0, 0, 0, time.UTC),
			[]string{"2018-11-03T03:00:00Z", "2018-11-04T03:00:00Z", "2018-11-05T02:00:00Z"}},
		// Santiago skips midnight on 5 September 2027.
		{"America/Santiago", "0 0 * * *", time.Date(2027, 9, 3, 12, 0, 0, 0, time.UTC),
			[]string{"2027-09-04T04:00:00Z", "2027-09-05T04:00:00Z", "2027-09-06T03:00:00Z"}},
		// A weekly digest on the Sunday London skips 01:30.
		{"Europe/London", "30 1 * * SUN", time.Date(2027, 3, 20, 0, 0, 0, 0, time.UTC),
			[]string{"2027-03-21T01:30:00Z", "2027-03-28T01:00:00Z", "2027-04-04T00:30:00Z"}},
	} {
		d := Digest{Name: "x", Schedule: c.schedule, Audience: Audience{Timezone: c.tz}}
		at := c.after
		for i, w := range c.want {
			next, err := d.Next(at)
			if err != nil {
				t.Fatal(err)
			}
			if got := next.UTC().Format(time.RFC3339); got != w {
				t.Errorf("%s %q: run %d after %s: %s, want %s", c.tz, c.schedule, i, at.UTC().Format(time.RFC3339), got, w)
			}
			if i > 0 {
				// The period of a run is from the run before.
				since, until, err := d.Window(next)
				if err != nil || !since.Equal(at) || !until.Equal(next) {
					t.Errorf("%s %q: window of %s: %s to %s (%v), want from %s", c.tz, c.schedule, w, since.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339), err, at.UTC().Format(time.RFC3339))
				}
			}
			at = next
		}
	}
}

// TestDailyScheduleRunsOncePerDay: over whole years in zones with odd DST
// (half-hour shifts, skipped midnights, none at all), a daily schedule
// runs exactly once on every local date, its periods back to back.
func TestDailyScheduleRunsOncePerDay(t *testing.T) {
	zones := []string{"UTC", "Europe/London", "Australia/Lord_Howe", "America/Sao_Paulo", "America/Santiago", "America/Havana", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham", "Antarctica/Troll"}
	for _, tz := range zones {
		for _, sched := range []string{"0 0 * * *", "30 0 * * *", "0 1 * * *", "30 1 * * *", "0 2 * * *", "30 2 * * *", "0 3 * * *", "45 23 * * *"} {
			for _, year := range []int{2018, 2027} {
				d := Digest{Name: "x", Schedule: sched, Audience: Audience{Timezone: tz}}
				loc, _ := d.Location()
				from := time.Date(year, 1, 1, 12, 0, 0, 0, loc)
				to := time.Date(year+1, 1, 1, 12, 0, 0, 0, loc)
				days := map[string]bool{}
				prev := from
				for at, _ := d.Next(from); at.Before(to); at, _ = d.Next(at) {
					if !at.After(prev) {
						t.Fatalf("%s %q: run %s not after %s", tz, sched, at, prev)
					}
					day := at.In(loc).Format("2006-01-02")
					if days[day] {
						t.Errorf("%s %q: runs twice on %s (%s)", tz, sched, day, at.UTC().Format(time.RFC3339))
					}
					days[day] = true
					prev = at
				}
				if want := int(time.Date(year+1, 1, 1, 0, 0, 0, 0, time.UTC).Sub(time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour)); len(days) != want {
					t.Errorf("%s %q %d: runs on %d days, want %d", tz, sched, year, len(days), want)
				}
			}
		}
	}
}

// TestSchedulerAfterTheClockRanAhead: a clock that ran ahead (a bad NTP
// step, a host set to next year) moves the ledger's cursor into the future;
// once the clock is right again the digests went silent until the clock
// caught up with the cursor, and earshot_digest_last_period_end_seconds,
// in the future, never let the stall alert fire. The scheduler now starts
// again from the present, and the periods the wrong clock made (of a
// future nobody had lived yet) are made again when they are due.
func TestSchedulerAfterTheClockRanAhead(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)}
	send := &fakeSender{}
	s, _ := scheduler(t, dir, clk, send)
	ctx := context.Background()
	s.Tick(ctx)
	clk.t = time.Date(2027, 12, 2, 12, 0, 0, 0, time.UTC) // a year ahead
	s.Tick(ctx)
	ahead := len(send.log)
	if ahead == 0 {
		t.Fatal("the clock a year ahead made nothing")
	}
	clk.t = t1.Add(2 * time.Minute) // right again: Monday 7 December 2026, 08:02 Athens
	s.Tick(ctx)
	s.Tick(ctx)
	var ids []string
	for _, m := range send.log[ahead:] {
		if m.id != "" {
			ids = append(ids, m.id)
		}
	}
	if strings.Join(ids, " ") != "digest.legal-weekly.20261207T0600Z@earshot" {
		t.Fatalf("with the clock right again sent %v, want the period of 7 December", ids)
	}
	if v := testutil.ToFloat64(s.m.last.WithLabelValues("legal-weekly")); v != float64(t1.Unix()) {
		t.Errorf("earshot_digest_last_period_end_seconds %v, want %v", time.Unix(int64(v), 0).UTC(), t1.UTC())
	}
	// A restart keeps to it: nothing twice, and the week after comes.
	s2, _ := scheduler(t, dir, clk, send)
	clk.t = t1.Add(7*24*time.Hour + 2*time.Minute)
	s2.Tick(ctx)
	if n := len(send.log) - ahead; n != 4 {
		t.Errorf("after a week: %d messages since the clock was right, want 4 (two periods, email and chat)", n)
	}
}

// BenchmarkNext: a run on the wall clock (wallSchedule) against
// robfig/cron's own Next, for an hourly and a weekday schedule in a zone
// with DST. The scheduler calls Next about once a minute per digest, and
// once per missed period when it catches up.
func BenchmarkNext(b *testing.B) {
	loc, _ := time.LoadLocation("Europe/London")
	at := time.Date(2027, 3, 26, 10, 17, 0, 0, loc)
	for _, expr := range []string{"0 * * * *", "30 7 * * 1-5"} {
		robfig, _ := parser.Parse(expr)
		wall, _ := schedule(expr, loc)
		for _, c := range []struct {
			name string
			next func(time.Time) time.Time
		}{{"robfig", robfig.Next}, {"wall", wall.Next}} {
			b.Run(c.name+"/"+expr, func(b *testing.B) {
				b.ReportAllocs()
				t := at
				for range b.N {
					t = c.next(t)
				}
			})
		}
	}
}
