package ingest

import (
	"strings"
	"testing"
	"time"
)

// Reddit comments and submissions, as dump lines or API things and
// listings, are posts on platform reddit (in the file and push sources);
// deleted or removed ones are deletes; what is not a post is a counted
// skip, and a malformed object a dead letter with an honest reason.
func TestRedditShapes(t *testing.T) {
	lines := []string{
		`{"id":"c1","name":"t1_c1","author":"ann","body":"my acme phone broke","created_utc":1763719200,"subreddit":"gadgets","score":12,"parent_id":"t3_s1","link_id":"t3_s1"}`,
		`{"id":"s1","name":"t3_s1","author":"bob","title":"Acme recall?","selftext":"anyone else?","is_self":true,"created_utc":1763719100.0,"subreddit":"gadgets","score":-2,"num_comments":5}`,
		`{"kind":"Listing","data":{"after":null,"children":[{"kind":"t1","data":{"id":"c2","author":"cy","body":"same here","created_utc":1763719300,"subreddit":"gadgets","parent_id":"t1_c1"}},{"kind":"more","data":{"children":["c9"]}},{"kind":"t1","data":{"id":"c3","author":"[deleted]","body":"[removed]","created_utc":1763719400,"subreddit":"gadgets"}}]}}`,
		`{"kind":"t2","data":{"id":"u1","name":"ann"}}`,
		`{"id":"x!","body":"bad id","created_utc":1763719200,"subreddit":"gadgets"}`,
		`{"id":"c5","author":"dee","created_utc":1763719200,"subreddit":"gadgets"}`,
	}
	ps, reasons, st := decodeString(t, FormatAuto, strings.Join(lines, "\n")+"\n")
	byID := map[string]int{}
	for i, p := range ps {
		if p.Platform != "reddit" {
			t.Errorf("post %d platform %q", i, p.Platform)
		}
		byID[p.ID] = i
	}
	c1, s1, c2, c3 := ps[byID["t1_c1"]], ps[byID["t3_s1"]], ps[byID["t1_c2"]], ps[byID["t1_c3"]]
	if len(ps) != 4 || c1.Text != "my acme phone broke" || c1.Community != "gadgets" || c1.ReplyTo != "reddit:t3_s1" || c1.Author.Handle != "ann" || c1.Engagement.Likes != 12 {
		t.Errorf("comment = %+v", c1)
	}
	if s1.Text != "Acme recall?\n\nanyone else?" || s1.Engagement.Likes != 0 || s1.Engagement.Replies != 5 || s1.Kind != "" {
		t.Errorf("submission = %+v", s1)
	}
	if c2.ReplyTo != "reddit:t1_c1" || c3.Kind != "delete" {
		t.Errorf("listing comments = %+v, %+v", c2, c3)
	}
	if st.Skipped["more"] != 1 || st.Skipped["not_a_post"] != 1 {
		t.Errorf("skipped %v, want more and not_a_post counted", st.Skipped)
	}
	if len(reasons) != 2 || !strings.Contains(reasons[0], "not a Reddit id") || !strings.Contains(reasons[1], "neither a comment") {
		t.Errorf("dead letters %q", reasons)
	}
	// A listing is not an X line any more, forced or not.
	if _, reasons, _ := decodeString(t, FormatX, lines[2]+"\n"); len(reasons) != 1 || !strings.Contains(reasons[0], "looks like reddit") {
		t.Errorf("--format x on a Reddit listing: %q", reasons)
	}
}

// TestRedditLiveSourceConfig: source reddit is a live source, checked at
// start like the others.
func TestRedditLiveSourceConfig(t *testing.T) {
	c := DefaultConfig()
	c.Source = "reddit"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "ingest.reddit.subreddits") || !strings.Contains(err.Error(), "ingest.reddit.user_agent") {
		t.Fatalf("an empty reddit section: %v", err)
	}
	c.Reddit.Subreddits, c.Reddit.ClientID, c.Reddit.UserAgent = []string{"gadgets"}, "cid", "test:earshot:1.0 (by /u/tester)"
	t.Setenv("EARSHOT_TEST_REDDIT_SECRET", "s3cret")
	c.Reddit.ClientSecretEnv = "EARSHOT_TEST_REDDIT_SECRET"
	c.Reddit.PollInterval = 2 * time.Minute
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "want less than ingest.live.idle_timeout") {
		t.Errorf("a poll interval over the stall timeout: %v", err)
	}
	c.Reddit.PollInterval = 10 * time.Second
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	src, closer, err := Open(c)
	if err != nil {
		t.Fatal(err)
	}
	closer.Close()
	if src == nil {
		t.Fatal("no source")
	}
}
