package match

import (
	"runtime"
	"testing"

	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/textnorm"
)

// benchPosts are the posts of bench.Posts (which this package's tests
// cannot import): synthetic firehose posts joined to about 200 bytes.
func benchPosts(n int) []string {
	s := ingest.NewSynthetic(ingest.SyntheticConfig{Seed: 7, BrandRate: 0.1})
	out := make([]string, n)
	for i := range out {
		t := s.Post().Text
		for len(t) < 180 {
			t += " " + s.Post().Text
		}
		out[i] = t
	}
	return out
}

// BenchmarkTokenizePosts tokenizes the matcher benchmark's posts, of which
// about 70% of the bytes are ASCII.
//
//	go test -run XXX -bench TokenizePosts -cpu 1 ./match/
func BenchmarkTokenizePosts(b *testing.B) {
	f := textnorm.Shared()
	posts := benchPosts(10_000)
	var bytes, ascii, words int
	var tk textnorm.Tokens
	for _, p := range posts {
		bytes += len(p)
		for i := range len(p) {
			if p[i] < 0x80 {
				ascii++
			}
		}
		f.Tokenize(&tk, p)
		words += len(tk.Toks)
	}
	b.SetBytes(int64(bytes / len(posts)))
	b.ReportAllocs()
	i := 0
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t := ThreadCPU()
	for b.Loop() {
		f.Tokenize(&tk, posts[i%len(posts)])
		i++
	}
	b.ReportMetric(float64(ThreadCPU()-t)/float64(i), "cpu-ns/post")
	b.ReportMetric(100*float64(ascii)/float64(bytes), "ascii-%")
	b.ReportMetric(float64(words)/float64(len(posts)), "words/post")
}
