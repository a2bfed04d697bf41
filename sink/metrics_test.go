package sink

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/post"
)

// downConn is a ClickHouse that cannot be reached: every call fails as a
// dial does.
type downConn struct{ driver.Conn }

var errRefused = errors.New("dial tcp 127.0.0.1:9: connect: connection refused")

func (downConn) Exec(context.Context, string, ...any) error { return errRefused }
func (downConn) Query(context.Context, string, ...any) (driver.Rows, error) {
	return nil, errRefused
}
func (downConn) PrepareBatch(context.Context, string, ...driver.PrepareBatchOption) (driver.Batch, error) {
	return nil, errRefused
}

// TestUnreachableClickHouseIsCountedAsRetries: a sink that has never
// reached ClickHouse (the schema is not yet made, so every batch fails
// before its insert) must still show it in earshot_sink_retries_total, the
// metric an operator alerts on; each failed call counts once.
func TestUnreachableClickHouseIsCountedAsRetries(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := NewWith(downConn{}, Config{Database: "db"}, Options{Registerer: reg})
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	stages := []struct {
		table string
		stage func(context.Context, post.Batch) (post.Batch, error)
		item  *post.Item
	}{
		{"posts", s.Stage(), itemsN(1)[0]},
		{"alerts", s.AlertStage(), &post.Item{Post: &post.Post{Platform: "x", ID: "1", CreatedAt: at}, Alert: &post.Alert{ID: "a", Queue: "care", CreatedAt: at}}},
		{"suppressions", s.SuppressionStage(), &post.Item{Post: &post.Post{Platform: "x", ID: "1", CreatedAt: at}, Suppression: &post.Suppression{Rule: "r", Reason: "spam", At: at}}},
		{"volume_in", s.VolumeStage(), &post.Item{Post: &post.Post{Platform: "x", ID: "1", CreatedAt: at, Kind: post.KindVolume}, Volume: &post.Volume{Cells: []post.VolumeCell{{Minute: at}}}}},
	}
	for _, st := range stages {
		for range 2 {
			if _, err := st.stage(context.Background(), post.Batch{Items: []*post.Item{st.item}}); err == nil {
				t.Fatalf("%s: no error from an unreachable ClickHouse", st.table)
			}
		}
		if got := testutil.ToFloat64(s.metrics.retries.WithLabelValues(st.table)); got != 2 {
			t.Errorf("earshot_sink_retries_total{table=%q} = %v after two failed calls, want 2", st.table, got)
		}
	}
	// Once the schema is made, a failed insert still counts once per call.
	s.migrated = true
	before := testutil.ToFloat64(s.metrics.retries.WithLabelValues("posts"))
	if _, err := s.Stage()(context.Background(), post.Batch{Items: itemsN(3)}); err == nil {
		t.Fatal("no error from an unreachable ClickHouse")
	}
	if got := testutil.ToFloat64(s.metrics.retries.WithLabelValues("posts")) - before; got != 1 {
		t.Errorf("one failed insert counted %v times, want 1", got)
	}
}
