package sink

import (
	"context"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream/stagetest"
)

// TestStagesShareBatches: the sink's stages keep stream.Stage's contract
// (issue 16, 15): four workers at once over one batch, no item modified.
func TestStagesShareBatches(t *testing.T) {
	items := itemsN(200)
	for i, it := range items {
		switch i % 4 {
		case 1:
			it.Post.Kind, it.Matches = post.KindDelete, nil
		case 2:
			it.Enrichment = &post.Enrichment{Region: "EMEA", SentimentLabel: "negative", Lang: "en"}
		}
	}
	stagetest.Concurrent(t, querySink(&fakeConn{poison: map[string]bool{"x:8": true}, inserted: map[string]int{}}).Stage(), post.Batch{Items: items}, 4, 5)

	var alerts []*post.Item
	for i, it := range itemsN(100) {
		cp := *it
		cp.Alert = &post.Alert{ID: "a" + it.Post.ID, Queue: "care", Priority: "P2", Rule: "r", CreatedAt: it.Post.CreatedAt, Retracted: i%7 == 0}
		alerts = append(alerts, &cp)
	}
	stagetest.Concurrent(t, querySink(&fakeConn{poison: map[string]bool{}, inserted: map[string]int{}}).AlertStage(), post.Batch{Items: alerts}, 4, 5)

	vol := post.CountVolume(itemsN(100))
	stagetest.Concurrent(t, querySink(&fakeConn{poison: map[string]bool{}, inserted: map[string]int{}}).VolumeStage(), post.Batch{Items: vol}, 4, 5)
}

// queryConn is a fakeConn whose queries find nothing stored.
type queryConn struct{ *fakeConn }

func (queryConn) Query(context.Context, string, ...any) (driver.Rows, error) { return noRows{}, nil }

type noRows struct{ driver.Rows }

func (noRows) Next() bool   { return false }
func (noRows) Err() error   { return nil }
func (noRows) Close() error { return nil }

func querySink(c *fakeConn) *Sink {
	s := NewWith(queryConn{c}, Config{Database: "db"}, Options{})
	s.migrated, s.rowWise = true, true
	return s
}
