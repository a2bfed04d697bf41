package enrich

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// replicaStream is a stream of posts with storms of copies (reposts with a
// link, upper-cased copies) among unique posts, in post-time order, over
// several clustering windows.
func replicaStream() []*post.Post {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	storms := []string{
		"Acme phone exploded in my pocket, this is the third time this month, never buying again",
		"Acme support kept me on hold for four hours and then hung up on me",
		"the new Acme update bricked every router in our office this morning",
		"Acme is giving away free headphones to everyone who retweets this",
	}
	var ps []*post.Post
	for s, text := range storms {
		start := t0.Add(time.Duration(s)*47*time.Minute + 5*time.Minute)
		for i := range 150 {
			p := &post.Post{Platform: "x", ID: fmt.Sprintf("s%d-%d", s, i), Text: text, CreatedAt: start.Add(time.Duration(i) * 2 * time.Second)}
			switch i % 4 {
			case 1:
				p.Text = "RT @someone: " + text + " https://t.co/x" + fmt.Sprint(i)
			case 2:
				p.Text = strings.ToUpper(text) + "!!"
			case 3:
				p.Text = text + " #fail 😡 @acme_support #acme" // tags tacked on
			}
			ps = append(ps, p)
		}
	}
	for i := range 400 {
		ps = append(ps, &post.Post{Platform: "x", ID: fmt.Sprint("u", i), Text: fmt.Sprintf("unique post number %d about %d things and Acme", i, i*7919), CreatedAt: t0.Add(time.Duration(i) * 29 * time.Second)})
	}
	slices.SortStableFunc(ps, func(a, b *post.Post) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return ps
}

// clusterIDs enriches the stream on n enrich processes, each its own
// Enricher, the posts partitioned over them by key as Kafka partitions
// them, and returns the set of cluster ids (what the router keys an
// incident's alert on) and how many posts each process saw.
func clusterIDs(ps []*post.Post, n int) (map[string]bool, []int) {
	es := make([]*Enricher, n)
	for i := range es {
		es[i] = New(Config{})
	}
	ids := map[string]bool{}
	seen := make([]int, n)
	for _, p := range ps {
		h := fnv.New32a()
		h.Write([]byte(p.Key()))
		i := int(h.Sum32() % uint32(n))
		seen[i]++
		ids[es[i].Enrich(p).ClusterID] = true
	}
	return ids, seen
}

// TestClusterIDsSameOnReplicas: the incidents (cluster ids, hence the
// router's incident alert ids) of a stream do not depend on how many
// enrich processes share it.
func TestClusterIDsSameOnReplicas(t *testing.T) {
	ps := replicaStream()
	one, _ := clusterIDs(ps, 1)
	if want := 4 + 400; len(one) != want {
		t.Fatalf("one process: %d clusters, want %d (4 storms and 400 unique posts)", len(one), want)
	}
	for _, n := range []int{2, 4} {
		got, seen := clusterIDs(ps, n)
		for i, k := range seen {
			if k == 0 {
				t.Fatalf("%d processes: process %d saw nothing", n, i)
			}
		}
		var extra, missing []string
		for id := range got {
			if !one[id] {
				extra = append(extra, id)
			}
		}
		for id := range one {
			if !got[id] {
				missing = append(missing, id)
			}
		}
		if len(extra)+len(missing) > 0 {
			t.Errorf("%d processes: %d clusters (one process: %d); %d not formed on one process, %d missing", n, len(got), len(one), len(extra), len(missing))
		}
	}
}

// TestClusterIDWindows: one hash in one window of post time is one id, the
// next window another; zero and far-off post times are windows like any.
func TestClusterIDWindows(t *testing.T) {
	w := 30 * time.Minute
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	if clusterID(42, t0, w) != clusterID(42, t0.Add(w-time.Second), w) {
		t.Error("one window, two ids")
	}
	if clusterID(42, t0, w) == clusterID(42, t0.Add(w), w) {
		t.Error("the next window has the same id")
	}
	if clusterID(42, t0, w) == clusterID(43, t0, w) {
		t.Error("two hashes, one id")
	}
	var zero time.Time
	if clusterID(42, zero, w) != clusterID(42, zero.Add(time.Minute), w) || clusterID(42, zero, w) == clusterID(42, zero.Add(-time.Minute), w) {
		t.Error("post times before 1970 are not floored to their window")
	}
	far := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	if clusterID(42, far, 0) == clusterID(42, far.Add(time.Second), 0) {
		t.Error("a zero window should not merge different seconds")
	}
}

func TestUntagged(t *testing.T) {
	for in, want := range map[string]string{
		"my Acme phone broke #fail":                 "my Acme phone broke",
		"my Acme phone broke #fail 😡 @acme #acme  ": "my Acme phone broke",
		"my Acme phone broke https://t.co/x #fail":  "my Acme phone broke",
		"my #Acme phone broke":                      "", // a tag inside the text is a word
		"my Acme phone broke @acme_support":         "", // no hashtag: the words are the same already
		"#acme #fail":                               "", // nothing but tags
		"":                                          "",
		"   #":                                      "",
	} {
		if got := untagged(in); got != want {
			t.Errorf("untagged(%q) = %q, want %q", in, got, want)
		}
	}
	// Worst input: a megabyte of tags is read once from the end, not once per tag.
	huge := strings.Repeat("#a ", 350_000)
	if got := untagged(huge); got != "" {
		t.Errorf("a megabyte of tags: %d bytes left", len(got))
	}
	if got := untagged("words at the start " + huge); got != "words at the start" {
		t.Errorf("words and a megabyte of tags: %.40q", got)
	}
}

// simhashBitByBit is simhash as it was first written, a counter per bit
// per feature: the reference of TestSimhashCountsEightBitsAtATime.
func simhashBitByBit(ws []string) uint64 {
	var ones [64]int
	n := 0
	add := func(x uint64) {
		for b := range 64 {
			ones[b] += int(x >> b & 1)
		}
		n++
	}
	var prev uint64
	for i, w := range ws {
		x := fnv64(w)
		add(x)
		if i > 0 {
			add((prev*31 + x) * 0x9e3779b97f4a7c15)
		}
		prev = x
	}
	var h uint64
	for b := range 64 {
		if 2*ones[b] > n {
			h |= 1 << b
		}
	}
	return h
}

// TestSimhashCountsEightBitsAtATime: the bit-sliced simhash gives the
// hash of the bit-by-bit count on every post, short or long (past the
// 255 features where its byte lanes are spilled), and on word lists of
// one word repeated (every lane counting to the limit).
func TestSimhashCountsEightBitsAtATime(t *testing.T) {
	batch, _ := realisticBatch(2000)
	var lists [][]string
	for _, it := range batch.Items {
		lists = append(lists, intentWords(it.Post.Text, nil))
	}
	long := intentWords(strings.Repeat("the quick brown fox jumps over the lazy dog again and again ", 60), nil)
	for _, n := range []int{0, 1, 2, 127, 128, 129, 255, 256, 300, len(long)} {
		lists = append(lists, long[:min(n, len(long))])
	}
	same := make([]string, 1000)
	for i := range same {
		same[i] = "acme"
	}
	for _, n := range []int{127, 128, 129, 255, 256, 1000} {
		lists = append(lists, same[:n])
	}
	for _, ws := range lists {
		if got, want := simhash(ws), simhashBitByBit(ws); got != want {
			t.Fatalf("%d words %.5q…: simhash %016x, bit by bit %016x", len(ws), ws, got, want)
		}
	}
}

// TestClusterAllocatesNothingOnKnownPost: a post that joins a cluster
// which already remembers it (a redelivery), or one that is full of
// remembered keys, costs no allocation: its key is looked up from a
// buffer on the stack, not made a string.
func TestClusterAllocatesNothingOnKnownPost(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts mean nothing under the race detector")
	}
	e := New(Config{})
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	text := "my acme phone will not charge since the update this morning"
	words := &wordsScratch{words: intentWords(text, nil)}
	p := &post.Post{Platform: "bluesky", ID: "at://did:plc:abcdefghijklmnopqrstuvwx/app.bsky.feed.post/3l3qo2vutsw2b", Text: text, CreatedAt: now}
	var en post.Enrichment
	e.cluster(p, &en, words)
	if n := testing.AllocsPerRun(100, func() { e.cluster(p, &en, words) }); n != 0 {
		t.Errorf("redelivered post: %.1f allocations, want 0", n)
	}
	for i := range maxClusterMembers {
		q := *p
		q.ID = fmt.Sprintf("id-%d", i)
		e.cluster(&q, &en, words)
	}
	q := *p
	q.ID = "one more"
	if n := testing.AllocsPerRun(100, func() { e.cluster(&q, &en, words) }); n != 0 {
		t.Errorf("post joining a full cluster: %.1f allocations, want 0", n)
	}
	if en.ClusterSize < maxClusterMembers+100 {
		t.Errorf("cluster size %d", en.ClusterSize)
	}
}

// TestEnrichAllocatesOnlyItsResult: in the steady state, enriching a post
// (without a location: the gazetteer allocates) that joins a cluster which
// knows it allocates nothing but the result: the words shared by intent
// and clustering come from a pooled scratch, the cluster key is looked up
// from the stack, language ID and sentiment allocate nothing. The stage
// allocates the batch's slice and, per post, its copy of the item with
// the enrichment beside it.
func TestEnrichAllocatesOnlyItsResult(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items on purpose")
	}
	e := New(Config{})
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	var batch post.Batch
	for i, text := range []string{
		"my acme phone will not charge since the update this morning",
		"acme charged me twice for the same order, I want a refund now #acme #fail @acmehelp 😡",
		"Το τηλέφωνο της acme δεν φορτίζει από το πρωί, απαράδεκτο! #acme",
		strings.Repeat("la batería de acme no dura nada y el soporte no contesta ", 40),
	} {
		p := &post.Post{Platform: "x", ID: fmt.Sprint(i), Text: text, CreatedAt: now}
		var en post.Enrichment
		e.enrichInto(p, &en)
		if n := testing.AllocsPerRun(100, func() { en = post.Enrichment{}; e.enrichInto(p, &en) }); n != 0 {
			t.Errorf("%.30q…: %.1f allocations besides the result, want 0", text, n)
		}
		batch.Items = append(batch.Items, &post.Item{Post: p, Matches: []post.Match{{Watchlist: "acme"}}})
	}
	stage := e.Stage()
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() { stage(ctx, batch) }); n != float64(1+len(batch.Items)) {
		t.Errorf("stage: %.1f allocations for %d posts, want %d (the slice, an item and its enrichment a post)", n, len(batch.Items), 1+len(batch.Items))
	}
}

// FuzzAppendIntentWords: the words split into a reused scratch buffer are
// the words intentWords allocates, whatever the text before it left in
// the buffer.
func FuzzAppendIntentWords(f *testing.F) {
	f.Add("Ο Γιώργος λέει: don't #StopTheWar @x https://t.co/y İstanbul ﬁne", "acme")
	f.Add("", strings.Repeat("word ", 100))
	var buf []byte
	var out []string
	f.Fuzz(func(t *testing.T, text, before string) {
		out, buf = appendIntentWords(out[:0], buf, before)
		out, buf = appendIntentWords(out[:0], buf, text)
		if want := intentWords(text, nil); !slices.Equal(out, want) {
			t.Fatalf("%q: scratch %q, fresh %q", text, out, want)
		}
	})
}
