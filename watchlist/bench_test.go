package watchlist

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// benchStore is a store with n live watchlists of ten keywords each.
func benchStore(b *testing.B, n int) (*Store, int64) {
	b.Helper()
	dir := b.TempDir()
	src := b.TempDir()
	for i := range n {
		body := fmt.Sprintf("id: w%d\nteam: t%d\nkeywords: [", i, i%20)
		for k := range 10 {
			body += fmt.Sprintf("kw%dx%d, ", i, k)
		}
		os.WriteFile(filepath.Join(src, fmt.Sprintf("w%d.yaml", i)), []byte(body+"common]\n"), 0o644)
	}
	s, err := Open(dir, Options{LiveDir: DefaultLiveDir(dir)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if _, err := s.Import(ctx, "bench", src); err != nil {
		b.Fatal(err)
	}
	files, _ := readLive(DefaultLiveDir(dir))
	var size int64
	for _, f := range files {
		size += int64(len(f))
	}
	return s, size
}

// BenchmarkApprove is one edit taken live (apply, submit, approve): the
// whole live set is compiled and written each time, and three changes are
// synced to disk.
func BenchmarkApprove(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("lists=%d", n), func(b *testing.B) {
			s, size := benchStore(b, n)
			b.SetBytes(size)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				r, err := s.Get("w0")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Apply(ctx, "ann", Spec{ID: "w0", Team: "t0", Keywords: []string{fmt.Sprintf("edit%d", i)}}, r.Version); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Submit(ctx, "ann", "w0", ""); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Approve(ctx, "bob", "w0", ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkList is what the API's list page costs.
func BenchmarkList(b *testing.B) {
	s, _ := benchStore(b, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if got := s.List(Filter{Teams: []string{"t3"}}); len(got) != 50 {
			b.Fatalf("%d listed", len(got))
		}
	}
}
