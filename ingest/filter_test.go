package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/bench"
	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
)

func hasAcme(p *post.Post) bool { return strings.Contains(strings.ToLower(p.Text), "acme") }

// Filter writes the matching lines byte for byte and in input order, refuses
// what ingest refuses with the line number, and never writes a delete.
func TestFilter(t *testing.T) {
	line := func(id int, text string) string {
		return fmt.Sprintf(`{"platform":"f","id":"%d","text":%q,  "created_at":"2026-11-01T10:00:00Z"}`, id, text)
	}
	var in []string
	var want []string
	for i := range 10_000 { // several chunks, so that the workers finish out of order
		text := "nothing here"
		if i%7 == 0 {
			text = fmt.Sprintf("ACME broke %d", i)
		}
		l := line(i, text)
		if i == 0 {
			l = "\ufeff" + l // a byte-order mark: gone from the output, as ingest ignores it
		}
		in = append(in, l)
		if i%7 == 0 {
			want = append(want, line(i, text))
		}
	}
	in = append(in,
		`{"platform":"f","id":"x1",`, // cut short: refused
		"{\"platform\":\"f\",\"id\":\"x2\",\"text\":\"acme \xc3\x28\",\"created_at\":\"2026-11-01T10:00:00Z\"}", // bad UTF-8
		line(10_001, "acme "+strings.Repeat("x", 5000)),                                                         // over max_post_bytes
		`{"kind":"delete","platform":"f","id":"7"}`,                                                             // a delete: never written
		"",                                   // blank: skipped, not counted
		line(10_002, "acme at the end")+"\r", // CRLF
		line(10_003, "last acme, no newline"),
	)
	want = append(want, line(10_002, "acme at the end"), line(10_003, "last acme, no newline"))
	var out bytes.Buffer
	var reasons []string
	st, err := ingest.Filter(context.Background(), "in.ndjson", strings.NewReader(strings.Join(in, "\n")), &out, hasAcme,
		ingest.FilterOptions{MaxPostBytes: 4096, Workers: 3, Reject: func(r string) { reasons = append(reasons, r) }})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%d lines out, want %d; first %q", len(got), len(want), got[0])
	}
	if len(reasons) != 3 || !strings.HasPrefix(reasons[0], "in.ndjson:10001: ") || !strings.HasPrefix(reasons[1], "in.ndjson:10002: ") ||
		!strings.Contains(reasons[1], "UTF-8") || !strings.Contains(reasons[2], "in.ndjson:10003: line is") {
		t.Errorf("reasons %q", reasons)
	}
	if (st != ingest.FilterStats{Lines: 10_006, Posts: 10_002, Kept: len(want), Dead: 3}) {
		t.Errorf("stats %+v", st)
	}
}

// A gzip file is read as ingest reads it; a writer that fails stops the
// filter with its error instead of a stall.
func TestFilterGzipAndWriteError(t *testing.T) {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	for i := range 50_000 {
		fmt.Fprintf(zw, `{"platform":"f","id":"%d","text":"acme %d","created_at":"2026-11-01T10:00:00Z"}`+"\n", i, i)
	}
	zw.Close()
	var out bytes.Buffer
	st, err := ingest.Filter(context.Background(), "z", bytes.NewReader(z.Bytes()), &out, hasAcme, ingest.FilterOptions{})
	if err != nil || st.Kept != 50_000 || bytes.Count(out.Bytes(), []byte("\n")) != 50_000 {
		t.Fatalf("%+v, %v", st, err)
	}
	boom := errors.New("disk full")
	_, err = ingest.Filter(context.Background(), "z", bytes.NewReader(z.Bytes()), failWriter{boom}, hasAcme, ingest.FilterOptions{Workers: 2})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the write error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err = ingest.Filter(ctx, "z", bytes.NewReader(z.Bytes()), io.Discard, hasAcme, ingest.FilterOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v on a cancelled context", err)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

// BenchmarkFilter is the P5 job: keep the posts of a file that match any of
// about 1k brand keywords (bench.BrandKeywordSet), with the engine; keep=none
// is the cost of reading and decoding alone.
//
//	go test -run '^$' -bench Filter -benchmem ./ingest/
func BenchmarkFilter(b *testing.B) {
	var file bytes.Buffer
	for _, p := range bench.Posts(20_000, 7) {
		p.IngestedAt = p.CreatedAt
		fmt.Fprintf(&file, "%s\n", must(post.Encode(nil, &post.Item{Post: p})))
	}
	m, err := match.New(bench.BrandKeywordSet(1000, 1))
	if err != nil {
		b.Fatal(err)
	}
	e := m.Engine()
	for _, c := range []struct {
		name    string
		keep    func(*post.Post) bool
		mayKeep func(string) bool
	}{
		{"keep=none", func(*post.Post) bool { return false }, nil},
		{"keep=engine", func(p *post.Post) bool { return len(e.Match(p)) > 0 }, nil},
		{"keep=engine+maymatch", func(p *post.Post) bool { return len(e.Match(p)) > 0 }, e.MayMatch},
	} {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", c.name, workers), func(b *testing.B) {
				b.SetBytes(int64(file.Len()))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := ingest.Filter(context.Background(), "f", bytes.NewReader(file.Bytes()), io.Discard, c.keep, ingest.FilterOptions{Workers: workers, MayKeep: c.mayKeep}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/20_000, "ns/post")
			})
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
