package lid

import (
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

func embedded(t testing.TB) *Model {
	gz, err := os.ReadFile("../../lexicon/langid_model.bin.gz")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(gz)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

const longTweet = "@user honestly the new update is sooo much better than the old one, battery lasts all day now and the camera is way faster 😍😍 can't believe they finally fixed it #happy #tech https://t.co/abc123 what do you all think? anyone else tried it yet???"

// TestScoreSumsOncePerBucket: counting the features per bucket first, and
// adding the dense buckets eight languages a word, gives exactly the sums
// of adding every posting one by one, on short, long, repetitive and
// random posts, and on feature lists with every bucket the same.
func TestScoreSumsOncePerBucket(t *testing.T) {
	m := embedded(t)
	posts := []string{"", "ok", "hola amigos", longTweet, strings.Repeat("Das ist ein sehr langer deutscher Text. ", 200),
		strings.Repeat("ха ", 1000), "Ελληνικά και English μαζί, greeklish: kalimera sas, ti kaneis? " + longTweet}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		var b strings.Builder
		for range rng.IntN(400) {
			b.WriteRune(rune(rng.IntN(0x500)))
			if rng.IntN(5) == 0 {
				b.WriteByte(' ')
			}
		}
		posts = append(posts, b.String())
	}
	var fb [MaxFeatures]uint32
	for _, p := range posts {
		feats := fb[:Features(p, &fb)]
		var got, want [256]int32
		m.Score(feats, &got)
		m.scoreEach(feats, &want)
		if got != want {
			t.Fatalf("%.40q (%d features): sums differ", p, len(feats))
		}
	}
	// the worst cases for the dense rows' 16-bit lanes: the biggest bucket
	// (weights of both signs) 480 times, and a different dense bucket per
	// feature, in lists of every length around the flush points and past
	// MaxFeatures
	var big uint32
	var denseHashes []uint32
	for h := uint32(0); len(denseHashes) < 3*MaxFeatures; h++ {
		b := m.Bucket(h)
		if n := m.Offsets[b+1] - m.Offsets[b]; n >= denseMin {
			denseHashes = append(denseHashes, h)
			if n > m.Offsets[m.Bucket(big)+1]-m.Offsets[m.Bucket(big)] {
				big = h
			}
		}
	}
	same := make([]uint32, 3*MaxFeatures)
	for i := range same {
		same[i] = big
	}
	for _, list := range [][]uint32{same, denseHashes, append(denseHashes[:200:200], same[:300]...)} {
		for _, n := range []int{1, dedupMin - 1, dedupMin, 256, 257, 258, 300, MaxFeatures, MaxFeatures + 1, len(list)} {
			n = min(n, len(list))
			var got, want [256]int32
			m.Score(list[:n], &got)
			m.scoreEach(list[:n], &want)
			if got != want {
				t.Fatalf("%d features of dense buckets: sums differ", n)
			}
		}
	}
	var got, want [256]int32
	m.Score(same[:MaxFeatures], &got)
	m.scoreEach(same[:MaxFeatures], &want)
	if got != want || got == [256]int32{} {
		t.Fatal("one bucket 480 times: sums differ")
	}
}

// BenchmarkScore: Score against scoreEach (the plain per-posting loop, the
// reference of TestScoreSumsOncePerBucket) on a 280-character tweet's 480
// features; cpu-ns/post is the process's CPU
// time, less inflated than ns/op on a shared machine.
func BenchmarkScore(b *testing.B) {
	m := embedded(b)
	var fb [MaxFeatures]uint32
	feats := fb[:Features(longTweet, &fb)]
	for _, c := range []struct {
		name string
		f    func([]uint32, *[256]int32)
	}{{"counted", m.Score}, {"each", m.scoreEach}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			t0 := cpuTime()
			for b.Loop() {
				var acc [256]int32
				c.f(feats, &acc)
			}
			b.ReportMetric(float64(cpuTime()-t0)/float64(b.N), "cpu-ns/post")
		})
	}
}

// FuzzScoreSums: on any text, Score (dense rows, counting, the ASCII
// path of Features) gives the sums of the plain per-posting loop.
func FuzzScoreSums(f *testing.F) {
	f.Add(longTweet)
	f.Add(strings.Repeat("the the the ", 200))
	f.Add("#BuenosDías #FelizLunes \\u00e9 &amp; RT @x: ok")
	m := embedded(f)
	f.Fuzz(func(t *testing.T, text string) {
		var fb [MaxFeatures]uint32
		feats := fb[:Features(text, &fb)]
		var got, want [256]int32
		m.Score(feats, &got)
		m.scoreEach(feats, &want)
		if got != want {
			t.Fatalf("%.40q: sums differ", text)
		}
	})
}
