package wallclock

import (
	"testing"
	"time"
)

func TestAt(t *testing.T) {
	for _, c := range []struct {
		tz     string
		y      int
		m      time.Month
		d, min int
		want   string
	}{
		{"Europe/London", 2027, 3, 28, 90, "2027-03-28T01:00:00Z"},       // skipped: the jump
		{"Europe/London", 2027, 10, 31, 90, "2027-10-31T00:30:00Z"},      // shown twice: the first
		{"America/Santiago", 2027, 9, 5, 0, "2027-09-05T04:00:00Z"},      // midnight skipped: not the day before
		{"Australia/Lord_Howe", 2027, 4, 4, 120, "2027-04-03T15:30:00Z"}, // after the half-hour repeat
		{"Europe/Athens", 2027, 1, 4, 1440, "2027-01-04T22:00:00Z"},      // 24:00 is the next midnight
	} {
		loc, err := Zone(c.tz)
		if err != nil {
			t.Fatal(err)
		}
		if got := At(c.y, c.m, c.d, c.min, loc).UTC().Format(time.RFC3339); got != c.want {
			t.Errorf("%s %d-%02d-%02d minute %d: %s, want %s", c.tz, c.y, c.m, c.d, c.min, got, c.want)
		}
	}
}

func TestZone(t *testing.T) {
	for _, name := range []string{"Local", "local", "LOCAL", "Mars/Olympus"} {
		if _, err := Zone(name); err == nil {
			t.Errorf("Zone(%q) taken", name)
		}
	}
	if l, err := Zone(""); err != nil || l != time.UTC {
		t.Errorf(`Zone("") = %v, %v; want UTC`, l, err)
	}
}
