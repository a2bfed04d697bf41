package digest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"
)

// PDFPages renders a PDF's pages as PNG at 50 dpi with pdftoppm (Debian's
// poppler-utils), in dir, and returns them in page order: how the tests
// and docs/digests.md look at a printed digest.
func PDFPages(ctx context.Context, pdf, dir string) ([][]byte, error) {
	bin, err := exec.LookPath("pdftoppm")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	prefix := filepath.Join(dir, "page")
	if out, err := exec.CommandContext(ctx, bin, "-png", "-r", "50", pdf, prefix).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pdftoppm: %w: %s", err, tail(out, 300))
	}
	names, err := filepath.Glob(prefix + "-*.png")
	if err != nil {
		return nil, err
	}
	sort.Slice(names, func(i, j int) bool {
		return len(names[i]) < len(names[j]) || len(names[i]) == len(names[j]) && names[i] < names[j]
	})
	var pages [][]byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		pages = append(pages, b)
	}
	return pages, nil
}
