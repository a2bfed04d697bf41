package ingest

import (
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// The two kinds of X batch compliance results, as X documents them: a
// line of each is the same shape ({"id", "action", "created_at",
// "redacted_at", "reason"}), and only the job's type says whether the id is
// a tweet's or a user's.
const (
	tweetResults = `{"id":"1460323737035677698","action":"delete","created_at":"2021-11-15T18:37:29.000Z","redacted_at":"2021-11-20T08:30:00.000Z","reason":"deleted"}
{"id":"1460323737035677699","action":"delete","created_at":"2021-11-15T18:37:30.000Z","redacted_at":"2021-11-21T14:20:00.000Z","reason":"suspended"}
`
	userResults = `{"id":"2244994945","action":"delete","created_at":"2013-12-14T04:35:55.000Z","redacted_at":"2021-11-20T08:30:00.000Z","reason":"protected"}
{"id":"783214","action":"delete","created_at":"2007-02-20T14:35:54.000Z","redacted_at":"2021-11-21T14:20:00.000Z","reason":"suspended"}
{"id":"6253282","action":"delete","created_at":"2007-05-23T06:01:13.000Z","redacted_at":"2021-11-22T10:00:00.000Z","reason":"deleted"}
{"id":"12","action":"delete","created_at":"2006-03-21T20:50:14.000Z","reason":"deactivated"}
`
)

// TestXUserComplianceResultsAreNotTweetDeletes is issue 17 (11): the
// results of a users job name users, not tweets; read as format x they
// would delete the tweets that happen to have those ids. With the format
// naming the job (x-users) they are user events, counted; a tweets job's
// results stay tweet deletes.
func TestXUserComplianceResultsAreNotTweetDeletes(t *testing.T) {
	ps, reasons, stats := decodeString(t, FormatX, tweetResults)
	if len(reasons) != 0 || len(ps) != 2 {
		t.Fatalf("tweets job: %d posts, dead letters %v", len(ps), reasons)
	}
	for _, p := range ps {
		if p.Kind != post.KindDelete || p.Platform != "x" || !strings.HasPrefix(p.ID, "146032373703567769") {
			t.Errorf("tweets job result: %+v, want a delete of the tweet", p)
		}
	}

	ps, reasons, stats = decodeString(t, FormatXUsers, userResults)
	if len(reasons) != 0 {
		t.Fatalf("users job: dead letters %v", reasons)
	}
	if len(ps) != 0 {
		t.Errorf("users job: %d posts (the first %+v), want none: a user id is not a tweet id", len(ps), ps[0])
	}
	if stats.Skipped["user_event"] != 4 {
		t.Errorf("users job: skipped %v, want 4 user_event", stats.Skipped)
	}

	// Only result lines fit the users format: a tweet, a stream event or
	// a result without a numeric user id is a dead letter with its reason.
	bad := `{"data":{"id":"1","text":"hello","created_at":"2026-11-01T10:00:00Z"}}
{"id":"../x","action":"delete","created_at":"2021-11-15T18:37:29.000Z","reason":"deleted"}
{"action":"delete","reason":"deleted"}
`
	ps, reasons, _ = decodeString(t, FormatXUsers, bad)
	if len(ps) != 0 || len(reasons) != 3 {
		t.Fatalf("bad lines in the users format: %d posts, dead letters %q; want 0 and 3", len(ps), reasons)
	}
	for i, want := range []string{"not a x-users record", "not an X id", "not a x-users record"} {
		if !strings.Contains(reasons[i], want) {
			t.Errorf("dead letter %d: %q, want it to say %q", i, reasons[i], want)
		}
	}
}
