//go:build unix

package gotok

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// The Viterbi path, not greedy longest match: "▁abc" splits as "▁a"+"bc"
// when that scores higher than "▁ab"+"c".
func TestViterbiPrefersBestScore(t *testing.T) {
	pieces := []string{" a", " ab", "bc", "c", "b"}
	scores := []float32{-1, -1, -1, -5, -5}
	keep := []int32{0, 1, 2, 3, 4}
	rows := []int8{1, 0, 0, 1, 0, 2, 3, 3, 4, 4} // dims 2
	tb := New(pieces, scores, keep, rows, 2)
	out := make([]float32, 2)
	var s Scratch
	if n := tb.Embed(&s, []byte(" abc"), out); n != 2 {
		t.Fatalf("pieces %d, want 2 (\" a\"+\"bc\")", n)
	}
	if out[0] != 0.5 || out[1] != 1 { // rows (1,0) and (0,2)
		t.Fatalf("mean %v, want [0.5 1]", out)
	}
	// unknown bytes are skipped, a huge post stays bounded and allocation-free
	big := []byte(" " + strings.Repeat("ab zz ", 20000))
	tb.Embed(&s, big, out)
	if a := testing.AllocsPerRun(10, func() { tb.Embed(&s, big, out) }); a != 0 {
		t.Fatalf("%v allocations a call", a)
	}
}

var bench struct {
	once  sync.Once
	tb    *Table
	texts [][]byte
	bytes int
	err   error
}

// ENC14_PIECES: "piece<TAB>score<TAB>row" lines (bench/encoder/export.py);
// ENC14_TEXTS: one post a line.
func BenchmarkEmbed(b *testing.B) {
	pf, tf := os.Getenv("ENC14_PIECES"), os.Getenv("ENC14_TEXTS")
	if pf == "" || tf == "" {
		b.Skip("ENC14_PIECES and ENC14_TEXTS not set")
	}
	bench.once.Do(func() {
		bench.tb, bench.texts, bench.bytes, bench.err = load(pf, tf)
		runtime.GC() // the build's garbage is not the post's cost
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	tb, texts := bench.tb, bench.texts
	out := make([]float32, tb.dims)
	var s Scratch
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		tb.Embed(&s, texts[i%len(texts)], out)
	}
	// CPU time, as enrich's benchmarks report it: wall time on a shared
	// machine counts other jobs' time
	b.ReportMetric(float64(cpuTime()-c0)/1e3/float64(b.N), "cpu-µs/post")
	b.ReportMetric(float64(bench.bytes)/float64(len(texts)), "bytes/post")
}

func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func load(pf, tf string) (*Table, [][]byte, int, error) {
	var pieces []string
	var scores []float32
	var keep []int32
	nrows := 0
	f, err := os.Open(pf)
	if err != nil {
		return nil, nil, 0, err
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		s, _ := strconv.ParseFloat(p[1], 32)
		r, _ := strconv.Atoi(p[2])
		if len(pieces) < 4 { // <s> <pad> </s> <unk>: never matched in text
			p[0] = ""
		}
		pieces = append(pieces, strings.ReplaceAll(p[0], "▁", " "))
		scores = append(scores, float32(s))
		keep = append(keep, int32(r))
		nrows = max(nrows, r+1)
	}
	f.Close()
	const dims = 128
	rows := make([]int8, nrows*dims)
	for i := range rows {
		rows[i] = int8(i*7 + i>>7)
	}
	tb := New(pieces, scores, keep, rows, dims)
	data, err := os.ReadFile(tf)
	if err != nil {
		return nil, nil, 0, err
	}
	var texts [][]byte
	bytes := 0
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" {
			texts = append(texts, []byte(" "+l))
			bytes += len(l) + 1
		}
	}
	return tb, texts, bytes, nil
}
