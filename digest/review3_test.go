package digest

import (
	"strings"
	"testing"
)

// A schedule whose runs bunch together at some hour is refused, not only
// one that runs every minute all day: the check looked at one gap only.
func TestValidateRefusesBunchedRuns(t *testing.T) {
	k := Known{Channels: map[string]string{"mail": "email"}}
	for _, sched := range []string{"0-59 0 * * *", "0,1 0 * * *", "* 5 * * MON", "0,30 9 * * *", "* * 15 * *"} {
		d := Digest{Name: "x", Schedule: sched, Audience: Audience{Emails: []string{"a@example.com"}}}
		if err := Validate([]Digest{d}, k); err == nil || !strings.Contains(err.Error(), "digests run at most hourly") {
			t.Errorf("%q: %v, want refused as more than hourly", sched, err)
		}
	}
	for _, sched := range []string{"0 * * * *", "0 8 * * MON", "0 0,12 * * *", "@daily", "0 6 1 * *", "0 9 * * 1-5", "30 1,2 * * SUN"} {
		d := Digest{Name: "x", Schedule: sched, Audience: Audience{Emails: []string{"a@example.com"}, Timezone: "America/New_York"}}
		if err := Validate([]Digest{d}, k); err != nil {
			t.Errorf("%q: %v", sched, err)
		}
	}
}
