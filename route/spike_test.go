package route

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

func TestSpikes(t *testing.T) {
	p, err := load(t, policy+`
spikes: {window: 5m, min_count: 20, factor: 3, queue: pr, priority: P2}
`)
	if err != nil {
		t.Fatal(err)
	}
	clock := at("2026-11-23T08:00:00Z")
	stage := p.Stage(func() time.Time { return clock })
	n := 0
	batch := func(count int, wl, region string) []*post.Alert {
		t.Helper()
		var items []*post.Item
		for range count {
			n++
			it := item(wl, []string{"refund"}, "positive", region, 10)
			it.Post.ID = strconv.Itoa(n)
			it.Post.Author.Handle = "author" + strconv.Itoa(n%3)
			items = append(items, it)
		}
		out, err := stage(context.Background(), post.Batch{Items: items})
		if err != nil {
			t.Fatal(err)
		}
		var spikes []*post.Alert
		for _, it := range out.Items {
			if it.Alert.Spike != nil {
				spikes = append(spikes, it.Alert)
			}
		}
		return spikes
	}
	step := func() { clock = clock.Add(5 * time.Minute) }
	// Six quiet windows of 10 posts: the baseline settles at 10.
	for range 6 {
		if s := batch(10, "acme", "EMEA"); len(s) != 0 {
			t.Fatalf("a quiet window raised %+v", s[0].Spike)
		}
		step()
	}
	// A storm: 50 posts, then the window closes.
	batch(50, "acme", "EMEA")
	batch(5, "other", "NA") // another pair, quiet
	step()
	s := batch(60, "acme", "EMEA") // still stormy; closing the 50-post window raises the spike
	if len(s) != 1 {
		t.Fatalf("%d spike alerts when the storm window closed, want 1", len(s))
	}
	sp := s[0].Spike
	if sp.Watchlist != "acme" || sp.Region != "EMEA" || sp.Count != 50 || sp.Baseline < 9 || sp.Baseline > 11 ||
		s[0].Queue != "pr" || s[0].Priority != "P2" || !strings.Contains(sp.Why, "50 posts in 5m0s") || sp.TopTerms[0] != "refund" || len(sp.TopAuthors) != 3 {
		t.Errorf("spike alert = %+v %+v", s[0], sp)
	}
	step()
	// The storm goes on: no second page while the spike is open.
	if s := batch(10, "acme", "EMEA"); len(s) != 0 {
		t.Errorf("a continuing spike paged again: %+v", s[0].Spike)
	}
	step()
	for range 3 { // calm again: the spike closes, the baseline was not raised by it
		batch(10, "acme", "EMEA")
		step()
	}
	s = batch(50, "acme", "EMEA")
	step()
	if s = append(s, batch(0, "acme", "EMEA")...); len(s) != 1 {
		t.Errorf("a second storm after calm raised %d alerts, want 1", len(s))
	}
}

func TestSpikeConfigErrors(t *testing.T) {
	_, err := load(t, policy+`
spikes: {window: 10s, min_count: 0, factor: 0.5, queue: nowhere, priority: P7}
`)
	for _, want := range []string{"spikes.window", "spikes.min_count", "spikes.factor", `spikes.queue: "nowhere"`, `spikes.priority: "P7"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
	if _, err := load(t, policy+"\nspikes: {window: 1000000h, min_count: 5, factor: 2, queue: care, priority: P2}\n"); err == nil || !strings.Contains(err.Error(), "spikes.window: 1m to 24h") {
		t.Errorf("a window of 1000000h: %v", err)
	}
}

// TestSeasonalSpikes: a daily rush at 09:00 UTC is a spike every day
// against a plain EWMA, but only on the first day against the seasonal
// baseline, which still catches a rush three times the usual.
func TestSeasonalSpikes(t *testing.T) {
	run := func(baseline string) (spikesPerDay []int) {
		d := newSpikeDetector(Spikes{Window: time.Hour, MinCount: 20, Factor: 3, Queue: "pr", Priority: "P2", Baseline: baseline})
		it := item("acme", []string{"acme"}, "neutral", "EMEA", 10)
		start := at("2026-11-02T00:00:00Z") // a Monday
		for day := range 15 {
			spikes := 0
			for h := range 24 {
				t0 := start.Add(time.Duration(day*24+h) * time.Hour)
				n := 10
				if h == 9 {
					n = 100 // the morning rush
					if day == 14 {
						n = 400 // something is wrong
					}
				}
				items := make([]*post.Item, n)
				for i := range items {
					items[i] = it
				}
				spikes += len(d.observe(items, t0))
			}
			spikesPerDay = append(spikesPerDay, spikes)
		}
		return spikesPerDay
	}
	ewma, seasonal := run("ewma"), run("seasonal")
	for day := 1; day < 14; day++ {
		if ewma[day] != 1 {
			t.Errorf("ewma: day %d had %d spikes, want the rush each day", day, ewma[day])
		}
	}
	// Each weekday's 09:00 slot is new in the first week; from the second
	// week on it is the usual level, until day 14's rush of 400.
	for day := 7; day < 14; day++ {
		if seasonal[day] != 0 {
			t.Errorf("seasonal: day %d had %d spikes, want none (the rush is usual)", day, seasonal[day])
		}
	}
	if seasonal[14] != 1 {
		t.Errorf("seasonal: %d spikes on the day of a rush four times the usual, want 1", seasonal[14])
	}
	if err := (&Spikes{Window: time.Hour, MinCount: 1, Factor: 2, Queue: "pr", Priority: "P2", Baseline: "weekly", Timezone: "Mars/Olympus"}).validate([]string{"pr"}); len(err) != 2 {
		t.Errorf("validate = %v, want the baseline and the time zone refused", err)
	}
}

// TestSpikeFollowsTheSun checks that a spike alert is handed off, staffed
// and given a deadline like any alert: at night it goes to the queue on duty.
func TestSpikeFollowsTheSun(t *testing.T) {
	org := writeFile(t, "org.yaml", testOrg)
	pol := writeFile(t, "routing.yaml", `queues: [care]
rules: [{name: rest, when: {sentiment: [negative]}, queue: care, priority: P4}]
spikes: {window: 5m, min_count: 20, factor: 3, queue: care, priority: P2}
`)
	p, err := Load(Config{Policy: pol, Org: org})
	if err != nil {
		t.Fatal(err)
	}
	clock := at("2026-11-23T19:00:00Z") // Mon 21:00 Athens, 14:00 New York
	stage := p.Stage(func() time.Time { return clock })
	var spikes []*post.Alert
	for i, n := range []int{10, 10, 10, 10, 10, 10, 50, 10} {
		var items []*post.Item
		for j := range n {
			it := item("acme", []string{"refund"}, "positive", "EMEA", 10)
			it.Post.ID = strconv.Itoa(i*100 + j)
			items = append(items, it)
		}
		out, err := stage(context.Background(), post.Batch{Items: items})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			if it.Alert.Spike != nil {
				spikes = append(spikes, it.Alert)
			}
		}
		clock = clock.Add(5 * time.Minute)
	}
	if len(spikes) != 1 {
		t.Fatalf("%d spike alerts, want 1", len(spikes))
	}
	a := spikes[0]
	if a.Queue != "care-na" || a.HandedOffFrom != "care" || a.Team != "na" || a.Unstaffed || !a.DueAt.Equal(a.CreatedAt.Add(2*time.Hour)) {
		t.Errorf("spike alert = %+v, want it handed off to care-na, due in 2h", a)
	}
}
