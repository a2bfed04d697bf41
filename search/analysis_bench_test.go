package search

import (
	"testing"

	"github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
)

// BenchmarkAnalyze times the text analysis of the firehose's matched
// posts, each in its language: textnorm's analyzers (new) against bleve's
// own, which earshot used before (old: bleve's analyzer of the language,
// the standard one for std and el), in the same run.
//
//	go test -run '^$' -bench BenchmarkAnalyze -cpu 1 -count 5 ./search/
func BenchmarkAnalyze(b *testing.B) {
	items, _ := firehose(b, 2_000)
	im, err := newMapping()
	if err != nil {
		b.Fatal(err)
	}
	var bytes int64
	for _, it := range items {
		bytes += int64(len(it.Post.Text))
	}
	for _, v := range []struct {
		name string
		of   func(a string) string
	}{
		{"old", func(a string) string {
			if a == "std" || a == "el" {
				return standard.Name
			}
			return a
		}},
		{"new", analyzerName},
	} {
		b.Run(v.name, func(b *testing.B) {
			type job struct {
				analyzer string
				text     []byte
			}
			jobs := make([]job, len(items))
			for i, it := range items {
				_, lang := stored(it, it.Post.CreatedAt)
				jobs[i] = job{v.of(analyzerFor(lang)), []byte(it.Post.Text)}
			}
			b.SetBytes(bytes / int64(len(items)))
			b.ReportAllocs()
			i, terms := 0, 0
			for b.Loop() {
				j := jobs[i%len(jobs)]
				a := im.AnalyzerNamed(j.analyzer)
				terms += len(a.Analyze(j.text))
				i++
			}
			b.ReportMetric(float64(terms)/float64(i), "terms/post")
		})
	}
}
