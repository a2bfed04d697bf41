package watchlist

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A record file that is not one (zero bytes after a crash on a file system
// that lost data) stopped every process that opens the store, although
// the history, written first, holds the record whole: it is rewritten from
// the history, as a record file that lags the history is.
func TestDamagedRecordFileRewrittenFromHistory(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, nil)
	approve(t, s, spec("a", "one"))
	must(t)(s.Apply(ctx, "ann", spec("a", "two"), 1))
	s.Close()
	if err := os.WriteFile(filepath.Join(dir, "lists", "a.json"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("opening a store with an empty record file the history covers: %v", err)
	}
	defer s2.Close()
	if r := must(t)(s2.Get("a")); r.Version != 2 || r.Status != Draft || r.LiveVersion != 1 {
		t.Errorf("recovered: %+v", r)
	}
	// A damaged record with no history (a store written by hand) is still
	// refused, saying which file.
	os.WriteFile(filepath.Join(dir, "lists", "b.json"), []byte(`{"id":`), 0o644)
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "b.json") {
		t.Errorf("a damaged record without history: %v", err)
	}
}

// A history that lost changes (restored from an older backup, cut by a
// damaged file system) while the record files kept them: the store took
// the history's older versions as the truth and wrote them over the
// records, silently undoing the changes it had lost (an approval, an
// edit). The history is written before the records, so a record ahead of
// it can only mean a lost history: refused, saying so.
func TestRecordAheadOfHistoryRefused(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, nil)
	approve(t, s, spec("a", "one"))
	hist := filepath.Join(dir, historyFile)
	old, _ := os.ReadFile(hist)
	must(t)(s.Apply(ctx, "ann", spec("a", "two"), 1))
	s.Close()
	if err := os.WriteFile(hist, old, 0o644); err != nil {
		t.Fatal(err)
	}
	record, _ := os.ReadFile(filepath.Join(dir, "lists", "a.json"))
	_, err := Open(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "a.json") || !strings.Contains(err.Error(), "history") {
		t.Errorf("opening a store whose history lost a change: %v", err)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, "lists", "a.json")); string(now) != string(record) {
		t.Error("the record file ahead of the history was rewritten")
	}
}
