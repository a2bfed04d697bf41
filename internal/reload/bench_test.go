package reload

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkDir is the cost of one look at a directory of 1,000 watchlist
// files of 2 KiB: the contents sum (Dir) against the names, sizes and
// times summed before (statSum), in the same run.
func BenchmarkDir(b *testing.B) {
	dir := b.TempDir()
	body := []byte(strings.Repeat("rule: a OR b\n", 2048/13))
	for i := range 1000 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("w%04d.yaml", i)), body, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	yaml := func(n string) bool { return strings.HasSuffix(n, ".yaml") }
	b.Run("contents", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(1000 * len(body)))
		for b.Loop() {
			if _, err := Dir(dir, yaml); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stat", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(1000 * len(body)))
		for b.Loop() {
			if _, err := statSum(dir, yaml); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// statSum is the watchlist directory's state as match summed it before:
// names, sizes and modification times.
func statSum(dir string, keep func(string) bool) (Sum, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return Sum{}, err
	}
	h := sha256.New()
	for _, e := range entries {
		if e.IsDir() || !keep(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return Sum{}, err
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", e.Name(), info.Size(), info.ModTime().UnixNano())
	}
	return sum(h), nil
}
