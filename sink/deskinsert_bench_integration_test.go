//go:build integration

package sink

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkDeskInsert: what one desk event's insert costs on the shared
// ClickHouse, by way of writing it: the native protocol's batch (what
// AddDeskEvent does: the INSERT, its block structure back, the row, the
// end: two round trips) and a plain HTTP POST of one TSV row (one round
// trip), an INSERT … SELECT of bound values over the native protocol (one
// round trip), and a round trip doing nothing on each for scale.
// clickhouse-go's own HTTP transport does not talk to 18.16 (it sends the
// setting client_protocol_version, which 18.16 refuses). p50/p99 per
// insert as metrics.
func BenchmarkDeskInsert(b *testing.B) {
	ctx := context.Background()
	conn, err := Open(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	db := fmt.Sprintf("sink_deskinsert_%d", time.Now().UnixNano()%1e9)
	b.Cleanup(func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
		conn.Close()
	})
	if _, err := Migrate(ctx, conn, db); err != nil {
		b.Fatal(err)
	}
	at := time.Now().UTC().Truncate(time.Second)
	row := func(i int) DeskEventRow {
		return DeskEventRow{AlertID: fmt.Sprintf("a%d", i%1000), Queue: "care", Event: "desk.note", Actor: "rita", At: at, Note: "asked for the order number",
			EventID: fmt.Sprintf("e%d-%d", i, time.Now().UnixNano()), Seq: uint64(i)}
	}
	client := &http.Client{}
	defer client.CloseIdleConnections()
	tsvQuery := "http://127.0.0.1:8123/?query=" + url.QueryEscape("INSERT INTO "+db+".alert_events ("+deskEventColumns+") FORMAT TabSeparated")
	timed := func(b *testing.B, insert func(i int) error) {
		var took []time.Duration
		for i := 0; b.Loop(); i++ {
			t := time.Now()
			if err := insert(i); err != nil {
				b.Fatal(err)
			}
			took = append(took, time.Since(t))
		}
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(took[min(len(took)-1, len(took)*99/100)].Microseconds())/1000, "p99-ms")
	}
	b.Run("native-batch", func(b *testing.B) {
		tab := &AlertTables{Conn: conn, DB: db}
		timed(b, func(i int) error { return tab.AddDeskEvent(ctx, row(i)) })
	})
	b.Run("native-insert-select", func(b *testing.B) {
		// One statement, no data phase: the values bound into an INSERT … SELECT.
		q := "INSERT INTO " + db + ".alert_events (" + deskEventColumns + ") SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
		timed(b, func(i int) error {
			r := row(i)
			return conn.Exec(ctx, q, r.AlertID, r.Queue, r.Event+":"+r.EventID, r.Actor, r.At, r.Note, r.EventID, r.Seq, "", "", time.Unix(0, 0).UTC(), "", r.At)
		})
	})
	b.Run("native-select1", func(b *testing.B) { // a round trip doing nothing, for scale
		timed(b, func(int) error { var one uint8; return conn.QueryRow(ctx, "SELECT 1").Scan(&one) })
	})
	b.Run("http-select1", func(b *testing.B) {
		timed(b, func(int) error {
			resp, err := client.Get("http://127.0.0.1:8123/?query=SELECT%201")
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			return resp.Body.Close()
		})
	})
	b.Run("http-tsv", func(b *testing.B) {
		timed(b, func(i int) error {
			r := row(i)
			ts := r.At.Format(time.DateTime)
			line := strings.Join([]string{r.AlertID, r.Queue, r.Event + ":" + r.EventID, r.Actor, ts, r.Note, r.EventID, fmt.Sprint(r.Seq), "", "", "1970-01-01 00:00:00", "", ts}, "\t") + "\n"
			resp, err := client.Post(tsvQuery, "text/tab-separated-values", strings.NewReader(line))
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("HTTP %d", resp.StatusCode)
			}
			return nil
		})
	})
}
