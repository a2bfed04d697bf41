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
