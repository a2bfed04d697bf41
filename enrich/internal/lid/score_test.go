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

// TestScoreSumsOncePerBucket: counting the features per bucket first gives
// exactly the sums of adding them one by one, on short, long, repetitive and
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
	same := make([]uint32, MaxFeatures)
	for i := range same {
		same[i] = 12345
	}
	var got, want [256]int32
	m.Score(same, &got)
	m.scoreEach(same, &want)
	if got != want {
		t.Fatal("one bucket 480 times: sums differ")
	}
}

// BenchmarkScore: Score against scoreEach (the per-feature loop it replaced)
// on a 280-character tweet's 480 features; cpu-ns/post is the process's CPU
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
