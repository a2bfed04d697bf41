package digest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// benchArchive writes digests × periods meta.json files (a year of daily
// periods of 20 digests by default), as the scheduler leaves them.
func benchArchive(b *testing.B, digests, periods int) Archive {
	b.Helper()
	a := Archive{Dir: b.TempDir()}
	start := time.Date(2025, 12, 7, 6, 0, 0, 0, time.UTC)
	for d := range digests {
		slug := fmt.Sprintf("digest-%03d", d)
		for p := range periods {
			until := start.AddDate(0, 0, p)
			dir := a.Path(slug, PeriodID(until))
			if err := os.MkdirAll(dir, 0o750); err != nil {
				b.Fatal(err)
			}
			m, _ := json.Marshal(Meta{Name: slug, Slug: slug, Period: PeriodID(until), Until: until, Subject: "weekly", Files: []string{FileHTML, FilePDF}})
			if err := os.WriteFile(filepath.Join(dir, FileMeta), m, 0o640); err != nil {
				b.Fatal(err)
			}
		}
	}
	return a
}

// GET /v1/digests before paging read every meta.json (List); a page
// reads the directory names and limit of them. A file request read every
// period of its digest (List of one slug); now its one meta.json (Meta).
func BenchmarkArchiveListing(b *testing.B) {
	a := benchArchive(b, 20, 366)
	all := func(Meta) bool { return true }
	b.Run("list_all", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ms, err := a.List(nil); err != nil || len(ms) != 20*366 {
				b.Fatal(len(ms), err)
			}
		}
	})
	b.Run("page_50", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ms, _, err := a.Page("", 50, 1000, all); err != nil || len(ms) != 50 {
				b.Fatal(len(ms), err)
			}
		}
	})
	b.Run("file_list_slug", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ms, err := a.List([]string{"digest-007"}); err != nil || len(ms) != 366 {
				b.Fatal(len(ms), err)
			}
		}
	})
	b.Run("file_meta", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Meta("digest-007", "20260607T0600Z"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
