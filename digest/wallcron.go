package digest

import (
	"time"

	"github.com/robfig/cron/v3"

	"github.com/earshot-dev/earshot/internal/wallclock"
)

// wallSchedule runs a cron schedule on the audience's wall clock: at the
// first instant the clock in loc shows one of its times. robfig/cron
// steps hours in absolute time, so on a day the clocks change it ran a
// time shown twice twice (London's 01:30 on the last Sunday of October: a
// second "daily" digest covering an hour), skipped a time the clocks jump
// over (São Paulo's midnight in November 2018) and, where the change is
// half an hour (Australia/Lord_Howe), skipped times that exist. Here a
// time the clocks skip runs at the jump, a time shown twice runs the first
// time only (wallclock.At, as business hours count): one run per day the
// schedule names.
type wallSchedule struct {
	spec *cron.SpecSchedule
	loc  *time.Location
}

// starBit marks a cron field given as * (robfig/cron's convention), which
// decides how day of month and day of week combine.
const starBit = 1 << 63

// maxScheduleDays is how far Next looks for a run, as robfig/cron does
// (five years): "0 0 30 2 *" never runs.
const maxScheduleDays = 5*366 + 1

// schedule is the digest's schedule on the audience's wall clock.
func schedule(expr string, loc *time.Location) (cron.Schedule, error) {
	s, err := parser.Parse(expr)
	if err != nil {
		return nil, err
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return s, nil // @every, which Validate refuses: it has no wall-clock times
	}
	return wallSchedule{spec, loc}, nil
}

// Next is the schedule's first run after t, or the zero time if it has
// none within five years.
func (w wallSchedule) Next(t time.Time) time.Time {
	y, m, d := t.In(w.loc).Date()
	for i := range maxScheduleDays {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, time.UTC) // the local date; noon keeps date arithmetic clear of any zone
		if w.spec.Month&(1<<uint(day.Month())) == 0 || !w.dayMatches(day) {
			continue
		}
		for h := range 24 {
			if w.spec.Hour&(1<<uint(h)) == 0 {
				continue
			}
			for min := range 60 {
				if w.spec.Minute&(1<<uint(min)) == 0 {
					continue
				}
				if at := wallclock.At(day.Year(), day.Month(), day.Day(), h*60+min, w.loc); at.After(t) {
					return at
				}
			}
		}
	}
	return time.Time{}
}

// dayMatches is cron's rule for a date: with day of month or day of week
// given as *, both must match; with both restricted, either.
func (w wallSchedule) dayMatches(day time.Time) bool {
	dom := w.spec.Dom&(1<<uint(day.Day())) != 0
	dow := w.spec.Dow&(1<<uint(day.Weekday())) != 0
	if w.spec.Dom&starBit != 0 || w.spec.Dow&starBit != 0 {
		return dom && dow
	}
	return dom || dow
}
