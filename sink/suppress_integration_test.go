//go:build integration

package sink

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// Suppressions land in suppressions, one row per post however often it is
// redelivered, countable by reason; a record without one is a dead letter.
func TestSinkSuppressions(t *testing.T) {
	conn, db := openTest(t)
	ctx := context.Background()
	s := NewWith(conn, Config{Database: db}, Options{Registerer: prometheus.NewRegistry()})
	at := time.Date(2026, 11, 1, 10, 15, 30, 0, time.UTC)
	sup := func(id, reason string) *post.Item {
		it := enrichedItem(id, "1", at)
		it.Suppression = &post.Suppression{Rule: "r-" + reason, Reason: reason, At: at}
		return it
	}
	batch := []*post.Item{sup("1", "job posting"), sup("2", "job posting"), sup("3", "spam"), enrichedItem("4", "1", at)}
	for range 2 {
		out, err := s.SuppressionStage()(ctx, post.Batch{Items: batch})
		if err != nil || len(out.Rejected) != 1 || out.Rejected[0].Item.Post.ID != "4" {
			t.Fatalf("suppression stage: %v %+v", err, out.Rejected)
		}
	}
	if n := queryCount(t, conn, "SELECT count() FROM "+db+".suppressions FINAL WHERE reason = 'job posting'"); n != 2 {
		t.Errorf("job posting suppressions = %d, want 2", n)
	}
	if n := queryCount(t, conn, "SELECT count() FROM "+db+".suppressions FINAL WHERE rule = 'r-spam' AND has(watchlists, 'acme')"); n != 1 {
		t.Errorf("spam suppressions with their watchlist = %d, want 1", n)
	}
}
