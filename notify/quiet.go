package notify

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones work on machines without a zoneinfo database
)

// QuietHours hold a channel's alerts while its people sleep: an alert less
// urgent than Bypass that comes in quiet hours is not sent then; the alerts
// held are counted per queue and priority, and one digest message goes out
// when quiet hours end.
type QuietHours struct {
	Timezone string `yaml:"timezone"` // IANA name, e.g. Europe/Athens (required)
	// Hours is the quiet span on the local clock, "22:00-07:00": from the
	// first time to the second, across midnight when the second is earlier.
	Hours string `yaml:"hours"`
	// Bypass is the least urgent priority still sent in quiet hours: P1
	// (the default) to P4, or none (every alert waits).
	Bypass string `yaml:"bypass"`
}

// quiet is a channel's parsed quiet hours.
type quiet struct {
	loc      *time.Location
	from, to int // minutes after local midnight; from > to crosses midnight
	bypass   int // rank of the least urgent priority sent anyway; -1: none
	desc     string
}

var clockPattern = regexp.MustCompile(`^(\d\d):(\d\d)-(\d\d):(\d\d)$`)

// parse checks q, key naming it in errors.
func (q *QuietHours) parse(key string) (*quiet, error) {
	if q == nil {
		return nil, nil
	}
	var errs []string
	loc, err := time.LoadLocation(q.Timezone)
	if err != nil || q.Timezone == "" || q.Timezone == "Local" {
		errs = append(errs, fmt.Sprintf("timezone %q is not an IANA time zone such as Europe/Athens", q.Timezone))
	}
	out := &quiet{loc: loc, bypass: 0, desc: q.Hours + " " + q.Timezone}
	m := clockPattern.FindStringSubmatch(strings.TrimSpace(q.Hours))
	if m == nil {
		errs = append(errs, fmt.Sprintf("hours %q: write the quiet span as HH:MM-HH:MM, such as 22:00-07:00", q.Hours))
	} else {
		n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v } // the pattern admits two digits only
		out.from, out.to = n(1)*60+n(2), n(3)*60+n(4)
		switch {
		case n(1) > 23 || n(3) > 23 || n(2) > 59 || n(4) > 59:
			errs = append(errs, fmt.Sprintf("hours %q: times from 00:00 to 23:59", q.Hours))
		case out.from == out.to:
			// Empty, or the whole day: held alerts would never go out.
			errs = append(errs, fmt.Sprintf("hours %q: the start and the end must differ (quiet all day would hold alerts forever)", q.Hours))
		}
	}
	switch q.Bypass {
	case "", "P1":
	case "none":
		out.bypass = -1
	default:
		if out.bypass = slices.Index(priorities, q.Bypass); out.bypass < 0 {
			errs = append(errs, fmt.Sprintf("bypass %q, want P1 (the default), P2, P3, P4 or none", q.Bypass))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s.quiet_hours: %s", key, strings.Join(errs, "; "))
	}
	return out, nil
}

// at reports whether t falls in quiet hours: the local clock in the quiet
// span. On a day the clocks change, the span still starts and ends when
// the local clock shows its times.
func (q *quiet) at(t time.Time) bool {
	l := t.In(q.loc)
	m := l.Hour()*60 + l.Minute()
	if q.from < q.to {
		return m >= q.from && m < q.to
	}
	return m >= q.from || m < q.to
}

// holds reports whether an alert of priority p waits for the end of quiet
// hours at t.
func (q *quiet) holds(p string, t time.Time) bool {
	return q != nil && rank(p) > q.bypass && q.at(t)
}

// counts says how many alerts of each queue and priority, most urgent
// first ("3 P2 alerts in care, 1 P3 alert in care-na"), and the most urgent
// priority among them.
func counts(pending map[digestKey]int, more string) (string, string) {
	keys := slices.Collect(maps.Keys(pending))
	sort.Slice(keys, func(i, j int) bool {
		if ri, rj := rank(keys[i].priority), rank(keys[j].priority); ri != rj {
			return ri < rj
		}
		return keys[i].queue < keys[j].queue
	})
	var parts []string
	for _, k := range keys {
		noun := "alerts"
		if pending[k] == 1 {
			noun = "alert"
		}
		parts = append(parts, fmt.Sprintf("%d %s%s %s in %s", pending[k], more, k.priority, noun, k.queue))
	}
	return strings.Join(parts, ", "), keys[0].priority
}

// heldText is the digest of the alerts quiet hours held back.
func heldText(held map[digestKey]int, q *quiet, since time.Time) (string, string) {
	text, worst := counts(held, "")
	if q == nil {
		return fmt.Sprintf("Quiet hours are over: %s held since %s", text, since.UTC().Format("Mon 15:04 MST")), worst
	}
	return fmt.Sprintf("Quiet hours (%s) are over: %s held since %s", q.desc, text, since.In(q.loc).Format("Mon 15:04")), worst
}
