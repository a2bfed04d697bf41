package api

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/sink"
)

// A write cut short (a full disk: write(2) wrote part of the line and
// failed; a power cut) leaves a fragment without its newline. The next
// record must not be glued to it, or it is unreadable: GET /v1/audit and
// the shipper would skip it, and the change it records would have no audit
// record at all.
func TestAuditWriteAfterTornLineKeepsTheRecord(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenAudit(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Write(AuditRecord{Actor: "x", Action: "token.create", ObjectType: "token", ObjectID: "t1"}); err != nil {
		t.Fatal(err)
	}
	// What a write that failed half-way left.
	f, err := os.OpenFile(a.Path(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"at":"2026-12-07T19:00:00Z","actor":"half`)
	f.Close()
	if err := a.Write(AuditRecord{Actor: "y", Action: "token.revoke", ObjectType: "token", ObjectID: "t1"}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	// A second process (earshot token) opening the log after the tear
	// must not glue its record to the fragment either.
	f, _ = os.OpenFile(a.Path(), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"actor":"half again`)
	f.Close()
	b, err := OpenAudit(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Write(AuditRecord{Actor: "z", Action: "token.create", ObjectType: "token", ObjectID: "t2"}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	recs, _, err := ReadAuditFile(a.Path(), func(AuditRecord) bool { return true }, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actors []string
	for _, r := range recs {
		actors = append(actors, r.Actor)
	}
	if len(recs) != 3 || actors[1] != "y" || actors[2] != "z" {
		t.Fatalf("records after a torn line: %v, want [x y z]", actors)
	}
	tab := &fakeAuditTable{}
	s := &Shipper{Table: tab, Path: a.Path(), Log: slog.New(slog.DiscardHandler)}
	if n, err := s.ShipOnce(context.Background()); err != nil || n != 3 {
		t.Fatalf("shipped %d, %v; want 3", n, err)
	}
}

type fakeAuditTable struct{ rows []sink.AuditRow }

func (f *fakeAuditTable) Insert(_ context.Context, rows []sink.AuditRow) error {
	f.rows = append(f.rows, rows...)
	return nil
}

// An audit log rotated (copytruncate), restored from a backup or replaced
// is shorter than the offset shipped: seeking past its end read nothing
// until the file grew past the old offset, then began mid-line, and every
// record in between never reached ClickHouse. It is shipped again from the
// start (ReplacingMergeTree folds the rows already there).
func TestShipperShipsALogShorterThanItsCheckpoint(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenAudit(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for i := range 20 {
		a.Write(AuditRecord{Actor: "x", Action: "token.create", ObjectType: "token", ObjectID: "old" + strconv.Itoa(i)})
	}
	tab := &fakeAuditTable{}
	s := &Shipper{Table: tab, Path: a.Path(), Log: slog.New(slog.DiscardHandler)}
	if n, err := s.ShipOnce(context.Background()); err != nil || n != 20 {
		t.Fatalf("shipped %d, %v", n, err)
	}
	// logrotate's copytruncate: the file is emptied in place, the API's
	// append handle writes on at the new end.
	if err := os.Truncate(a.Path(), 0); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		a.Write(AuditRecord{Actor: "y", Action: "token.revoke", ObjectType: "token", ObjectID: "new" + strconv.Itoa(i)})
	}
	tab.rows = nil
	n, err := s.ShipOnce(context.Background())
	if err != nil || n != 3 || len(tab.rows) != 3 || tab.rows[0].ObjectID != "new0" {
		t.Fatalf("after the log was truncated: shipped %d, %v, rows %+v; want the 3 new records", n, err, tab.rows)
	}
}

// A checkpoint that is not an offset (torn, edited, negative) is an error
// that says how to recover, not an endless "retrying" or a negative seek.
func TestShipperRefusesABadCheckpointWithTheFix(t *testing.T) {
	for _, c := range []string{"", "abc", "-5\n"} {
		dir := t.TempDir()
		a, _ := OpenAudit(dir)
		a.Write(AuditRecord{Actor: "x", Action: "token.create", ObjectType: "token", ObjectID: "t1"})
		a.Close()
		s := &Shipper{Table: &fakeAuditTable{}, Path: a.Path(), Log: slog.New(slog.DiscardHandler)}
		os.WriteFile(s.checkpoint(), []byte(c), 0o600)
		if _, err := s.ShipOnce(context.Background()); err == nil || !strings.Contains(err.Error(), "remove it") {
			t.Errorf("checkpoint %q: %v, want an error saying to remove it", c, err)
		}
	}
}
