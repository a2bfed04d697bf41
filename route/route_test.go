package route

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

const policy = `
queues: [care, pr, legal]
rules:
  - name: jobs
    when: {keywords: [hiring]}
    suppress: job posting
  - name: legal
    when: {watchlists: [acme-legal]}
    queue: legal
    priority: P1
  - name: influencer-negative
    when: {sentiment: [negative], min_followers: 10000}
    queue: pr
    priority: P1
  - name: care-negative
    when: {sentiment: [negative], regions: [EMEA, NA]}
    queue: care
    priority: P2
`

func load(t *testing.T, body string) (*Policy, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "routing.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return LoadPolicy(path)
}

func item(wl string, kws []string, sentiment, region string, followers int64) *post.Item {
	return &post.Item{
		Post:       &post.Post{Platform: "x", ID: "1", Author: post.Author{Followers: followers}},
		Matches:    []post.Match{{Watchlist: wl, Keywords: kws}},
		Enrichment: &post.Enrichment{SentimentLabel: sentiment, Region: region},
	}
}

func TestDecide(t *testing.T) {
	p, err := load(t, policy)
	if err != nil {
		t.Fatal(err)
	}
	f := func(it *post.Item, want string) {
		t.Helper()
		got := ""
		if r := p.Decide(it); r != nil {
			got = r.Name
		}
		if got != want {
			t.Errorf("Decide = %q, want %q", got, want)
		}
	}
	f(item("acme", []string{"hiring"}, "negative", "EMEA", 1), "jobs")
	f(item("acme-legal", []string{"lawsuit"}, "positive", "APAC", 1), "legal")
	f(item("acme", []string{"acme"}, "negative", "APAC", 50000), "influencer-negative")
	f(item("acme", []string{"acme"}, "negative", "EMEA", 10), "care-negative")
	f(item("acme", []string{"acme"}, "negative", "APAC", 10), "")
	f(item("acme", []string{"acme"}, "positive", "EMEA", 10), "")
}

func TestStage(t *testing.T) {
	p, _ := load(t, policy)
	now := func() time.Time { return time.Unix(100, 0) }
	in := post.Batch{Items: []*post.Item{item("acme", []string{"acme"}, "negative", "EMEA", 10), item("acme", []string{"hiring"}, "negative", "EMEA", 1)}}
	out, err := p.Stage(now)(context.Background(), in)
	if err != nil || len(out.Items) != 1 {
		t.Fatalf("stage = %d items, %v", len(out.Items), err)
	}
	a := out.Items[0].Alert
	if a.Queue != "care" || a.Priority != "P2" || a.ID != AlertID("x:1", "care") || len(a.ID) != 32 {
		t.Errorf("alert = %+v", a)
	}
	if AlertID("x:1", "care") == AlertID("x:1", "pr") || AlertID("x:1", "care") == AlertID("x:2", "care") {
		t.Error("alert ids collide")
	}
}

func TestValidate(t *testing.T) {
	_, err := load(t, `
queues: [care, "Bad Queue"]
rules:
  - name: a
    queue: car
    priority: P9
  - name: a
    queue: care
    suppress: spam
    priority: P1
  - name: c
    when: {sentiment: [angry]}
`)
	for _, want := range []string{`queue "Bad Queue"`, `queue "car" is not among`, `priority "P9"`, "used twice", "not both", "set queue (route) or suppress", `sentiment "angry"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to contain %q", err, want)
		}
	}
	_, err = load(t, "queues: [care]\nrulez: []\n")
	if err == nil || !strings.Contains(err.Error(), `routing.yaml:2: unknown key "rulez"`) {
		t.Errorf("unknown key error = %v", err)
	}
}
