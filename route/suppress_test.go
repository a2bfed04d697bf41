package route

import (
	"context"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

const suppressPolicy = `
queues: [care]
rules:
  - name: job-posts
    when: {intents: [job]}
    suppress: job posting
  - name: spam
    when: {intents: [spam]}
    suppress: spam
  - name: care
    when: {sentiment: [negative]}
    queue: care
    priority: P3
`

// A suppressed post leaves a record (rule, reason, time) for the sink and
// the counter, and the simulator counts suppressions per hour and reason.
func TestSuppressionsAreRecorded(t *testing.T) {
	p, err := load(t, suppressPolicy)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	l := NewLive(p, Config{})
	l.RecordSuppressions()
	stage := l.Stage(func() time.Time { return t0 })
	job := richItem("1", func(it *post.Item) { it.Enrichment.Intents = []string{"job"} })
	spam := richItem("2", func(it *post.Item) { it.Enrichment.Intents = []string{"spam"} })
	care := richItem("3", func(*post.Item) {})
	out, err := stage(context.Background(), post.Batch{Items: []*post.Item{job, spam, care}})
	if err != nil {
		t.Fatal(err)
	}
	var sup []*post.Suppression
	alerts := 0
	for _, it := range out.Items {
		switch {
		case it.Suppression != nil && it.Alert == nil:
			sup = append(sup, it.Suppression)
		case it.Alert != nil && it.Suppression == nil:
			alerts++
		default:
			t.Errorf("item %s: alert %v, suppression %v", it.Key(), it.Alert, it.Suppression)
		}
	}
	if alerts != 1 || len(sup) != 2 || *sup[0] != (post.Suppression{Rule: "job-posts", Reason: "job posting", At: t0}) || sup[1].Reason != "spam" {
		t.Errorf("alerts %d, suppressions %+v", alerts, sup)
	}
	if job.Suppression != nil {
		t.Error("the stage changed the item it was given")
	}

	// Without RecordSuppressions (tools, tests) nothing but alerts comes out.
	out, _ = p.Stage(func() time.Time { return t0 })(context.Background(), post.Batch{Items: []*post.Item{job}})
	if len(out.Items) != 0 {
		t.Errorf("plain stage gave %d items for a suppressed post", len(out.Items))
	}

	for _, it := range []*post.Item{job, spam, care} {
		it.Post.CreatedAt = t0
	}
	rows := Simulate(p, []*post.Item{job, spam, care, richItem("4", func(it *post.Item) { it.Enrichment.Intents = []string{"job"}; it.Post.CreatedAt = t0 })}, time.Time{})
	got := map[string]int{}
	for _, r := range rows {
		if r.Suppressed > 0 {
			if r.Queue != "" || r.Alerts != 0 {
				t.Errorf("suppression row %+v has a queue or alerts", r)
			}
			got[r.Reason] += r.Suppressed
		}
	}
	if got["job posting"] != 2 || got["spam"] != 1 {
		t.Errorf("simulated suppressions = %v, want 2 job posting and 1 spam", got)
	}
}
