package api

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/watchlist"
)

func TestWatchlistHook(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenAudit(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	st, err := watchlist.Open(t.TempDir(), watchlist.Options{OnChange: WatchlistHook(a, "cli", slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	st.Apply(ctx, "gina", watchlist.Spec{ID: "w1", Team: "greece", Keywords: []string{"acme"}}, 0)
	st.Submit(ctx, "gina", "w1", "")
	st.Approve(ctx, "costas", "w1", "ok")
	recs, _, err := ReadAuditFile(a.Path(), func(AuditRecord) bool { return true }, 0, 10)
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if recs[0].Action != "watchlist.apply" || recs[0].Before != nil || recs[2].Actor != "costas" || recs[2].Role != "cli" || !strings.Contains(string(recs[2].After), `"status":"live"`) {
		t.Errorf("%+v", recs)
	}
}

func TestReadAuditFileSkipsTornLine(t *testing.T) {
	dir := t.TempDir()
	a, _ := OpenAudit(dir)
	a.Write(AuditRecord{Actor: "x", Action: "token.create", ObjectType: "token", ObjectID: "t1"})
	a.Close()
	f, _ := os.OpenFile(a.Path(), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"actor":"half`)
	f.Close()
	recs, _, err := ReadAuditFile(a.Path(), func(AuditRecord) bool { return true }, 0, 10)
	if err != nil || len(recs) != 1 {
		t.Fatalf("%v %v", recs, err)
	}
}
