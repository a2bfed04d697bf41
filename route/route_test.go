package route

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
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

func load(t testing.TB, body string) (*Policy, error) {
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

func TestShadowedRuleAndLines(t *testing.T) {
	_, err := load(t, `queues: [care, pr]
rules:
  - name: negative
    when: {sentiment: [negative]}
    queue: care
    priority: P2
  - name: negative-emea
    when: {sentiment: [negative], regions: [EMEA]}
    queue: pr
    priority: P1
`)
	if err == nil || !strings.Contains(err.Error(), `routing.yaml:7: rules[1] (negative-emea) can never apply: rules[0] (negative) at line 3, earlier, takes every post it would`) {
		t.Errorf("shadowed rule: %v", err)
	}
	p, err := load(t, `queues: [care, pr]
rules:
  - name: influencers
    when: {min_followers: 10000}
    queue: pr
    priority: P1
  - name: negative
    when: {sentiment: [negative]}
    queue: care
    priority: P2
  - name: positive-na
    when: {sentiment: [positive], regions: [NA]}
    queue: care
    priority: P4
`)
	if err != nil {
		t.Fatal(err)
	}
	ov := p.Overlaps()
	if len(ov) != 2 || !strings.Contains(ov[0], "routing.yaml:3: rules[0] (influencers) and rules[1] (negative) (line 7) overlap: posts meeting both go to queue pr") {
		t.Errorf("overlaps = %q", ov)
	}
}

func TestStageHandsOff(t *testing.T) {
	org := writeFile(t, "org.yaml", testOrg)
	pol := writeFile(t, "routing.yaml", "queues: [care]\nrules:\n  - {name: neg, when: {sentiment: [negative]}, queue: care, priority: P2}\n")
	p, err := Load(Config{Policy: pol, Org: org})
	if err != nil {
		t.Fatal(err)
	}
	stage := func(when string) *post.Alert {
		out, err := p.Stage(func() time.Time { return at(when) })(context.Background(), post.Batch{Items: []*post.Item{item("acme", []string{"acme"}, "negative", "EMEA", 10)}})
		if err != nil || len(out.Items) != 1 {
			t.Fatalf("stage: %v, %d items", err, len(out.Items))
		}
		return out.Items[0].Alert
	}
	a := stage("2026-11-23T16:00:00Z") // Athens closed, New York open
	if a.Queue != "care-na" || a.HandedOffFrom != "care" || a.Team != "na" || a.Unstaffed || !a.DueAt.Equal(at("2026-11-23T18:00:00Z")) {
		t.Errorf("handed-off alert = %+v", a)
	}
	b := stage("2026-11-23T08:00:00Z")
	if b.Queue != "care" || b.HandedOffFrom != "" || b.ID != a.ID || !b.DueAt.Equal(at("2026-11-23T10:00:00Z")) {
		t.Errorf("alert = %+v (the id must not depend on the hand-off)", b)
	}
	if qs := p.AllQueues(); strings.Join(qs, ",") != "care,care-na,night" {
		t.Errorf("AllQueues = %v", qs)
	}
}

// TestEveryActionablePostEndsOnce checks, on random posts, that a post a
// rule takes ends on exactly that rule's queue or is suppressed, and that
// a post no rule takes raises nothing.
func TestEveryActionablePostEndsOnce(t *testing.T) {
	p, err := load(t, policy)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	stage := p.Stage(time.Now)
	for range 5000 {
		it := item(pick("acme", "acme-legal", "other"), []string{pick("acme", "hiring", "refund")}, pick("negative", "neutral", "positive"), pick("EMEA", "NA", "APAC"), int64(rng.IntN(20000)))
		var first *Rule
		for i := range p.Rules {
			if p.Rules[i].When.holds(it) {
				first = &p.Rules[i]
				break
			}
		}
		out, _ := stage(context.Background(), post.Batch{Items: []*post.Item{it}})
		switch {
		case first == nil && len(out.Items) != 0:
			t.Fatalf("a post no rule takes raised %d alerts", len(out.Items))
		case first != nil && first.Suppress != "" && len(out.Items) != 0:
			t.Fatalf("a post suppressed by %s raised an alert", first.Name)
		case first != nil && first.Queue != "" && (len(out.Items) != 1 || out.Items[0].Alert.Queue != first.Queue):
			t.Fatalf("a post for %s's queue %s gave %d alerts", first.Name, first.Queue, len(out.Items))
		}
	}
}

func TestIncidentsPageOnce(t *testing.T) {
	p, _ := load(t, policy)
	stage := p.Stage(time.Now)
	var ids []string
	var sizes []int
	for size := 1; size <= 1000; size++ {
		it := item("acme", []string{"acme"}, "negative", "EMEA", 10)
		it.Post.ID = strconv.Itoa(size)
		it.Enrichment.ClusterID, it.Enrichment.ClusterSize = "c1", size
		out, _ := stage(context.Background(), post.Batch{Items: []*post.Item{it}})
		for _, o := range out.Items {
			ids = append(ids, o.Alert.ID)
			sizes = append(sizes, o.Alert.IncidentSize)
		}
	}
	if len(ids) == 0 || len(ids) > 25 {
		t.Fatalf("1000 copies gave %d alert records, want a handful", len(ids))
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("copies of one cluster got different alert ids: %v", ids)
		}
	}
	// The first post is a plain alert (no incident yet); copies make it one.
	if sizes[0] != 0 || sizes[1] != 2 || sizes[len(sizes)-1] != 1000 {
		t.Errorf("incident sizes %v: want the first post, then the copies' counts", sizes)
	}
}
