// Package wallclock turns a local date and time of day into an instant the
// same way everywhere earshot reads a clock on the wall (business hours,
// digest schedules), whatever DST does on that day.
package wallclock

import (
	"fmt"
	"strings"
	"time"
)

// At is the first instant at which the clock in loc shows minute (0 to
// 1440) of the local date y-m-d. A time a DST switch skips is the switch's
// instant, when the clock jumps past it; a time shown twice is its first
// occurrence. time.Date leaves both unspecified, and in some zones
// (America/Santiago, America/Havana: the clocks skip midnight) goes back
// to the day before.
func At(y int, m time.Month, d, minute int, loc *time.Location) time.Time {
	if c := time.Date(y, m, d, 0, minute, 0, 0, loc); noSwitchNear(c) {
		return c // the usual case, and faster
	}
	w := time.Date(y, m, d, 0, minute, 0, 0, time.UTC) // the wall clock, read as UTC
	var first time.Time
	for _, probe := range []time.Time{w.Add(-48 * time.Hour), w.Add(48 * time.Hour)} {
		_, off := probe.In(loc).Zone()
		c := w.Add(-time.Duration(off) * time.Second).In(loc)
		if wall(c).Equal(w) && (first.IsZero() || c.Before(first)) {
			first = c
		}
	}
	if !first.IsZero() {
		return first
	}
	// Skipped: read with the offset before the switch, w falls after it.
	_, off := w.Add(-48 * time.Hour).In(loc).Zone()
	start, _ := w.Add(-time.Duration(off) * time.Second).In(loc).ZoneBounds()
	return start
}

// noSwitchNear reports whether t's zone offset holds for two days around it.
func noSwitchNear(t time.Time) bool {
	start, end := t.ZoneBounds()
	return (start.IsZero() || t.Sub(start) > 48*time.Hour) && (end.IsZero() || end.Sub(t) > 48*time.Hour)
}

// wall is the local date and time of t, as a UTC time.
func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// Zone loads the IANA time zone name; "" is UTC. "Local" is refused: it is
// whatever zone the machine runs in (the TZ environment variable), so
// hours read in it would move with the host, and two replicas of one
// configuration would disagree.
func Zone(name string) (*time.Location, error) {
	if strings.EqualFold(name, "Local") {
		return nil, fmt.Errorf("time zone %q depends on the machine: name the zone (e.g. Europe/Athens)", name)
	}
	return time.LoadLocation(name)
}
