package enrich

import "testing"

// TestSentimentAllocatesNothing: scoring a post (lexicon, features,
// classifier, and on English posts emotion and irony) allocates nothing in
// the steady state.
func TestSentimentAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items on purpose")
	}
	e := testEnricher()
	batch, _ := realisticBatch(200)
	var texts []struct{ text, lang string }
	for _, it := range batch.Items {
		texts = append(texts, struct{ text, lang string }{it.Post.Text, it.Post.Lang}, struct{ text, lang string }{it.Post.Text, "en"})
	}
	for _, c := range sentimentHardCases {
		texts = append(texts, struct{ text, lang string }{c.text, c.lang})
	}
	for _, p := range goldenPosts {
		texts = append(texts, struct{ text, lang string }{p.text, p.lang})
	}
	var sink float64
	run := func() {
		for _, x := range texts {
			s := e.senti.score(x.text, x.lang)
			sink += s.score + s.emo.emotionConf
		}
	}
	run() // warm the pool
	if n := testing.AllocsPerRun(20, run); n != 0 {
		t.Errorf("%.1f allocations per %d posts, want 0", n, len(texts))
	}
	_ = sink
}

// BenchmarkSentiment is the sentiment tag alone: the learned model (with
// the lexicon's features) against the lexicon model that was the whole
// tag before, on the same posts in the same run.
func BenchmarkSentiment(b *testing.B) {
	batch, bytes := realisticBatch(500)
	e := New(Config{})
	for _, tc := range []struct {
		name string
		f    func(text, lang string) sentimentResult
	}{
		{"learned", e.senti.score},
		{"lexicon", func(text, lang string) sentimentResult {
			sc := scratchPool.Get().(*scratch)
			defer scratchPool.Put(sc)
			return e.senti.lexScoreWith(sc, capText(text), lang)
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(bytes)
			b.ReportAllocs()
			for b.Loop() {
				for _, it := range batch.Items {
					tc.f(it.Post.Text, it.Post.Lang)
				}
			}
			b.ReportMetric(float64(b.N*len(batch.Items))/b.Elapsed().Seconds(), "posts/s")
		})
	}
}
