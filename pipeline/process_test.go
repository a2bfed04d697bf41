package pipeline

import (
	"testing"
	"time"

	"github.com/earshot-dev/earshot/stream"
)

// In distributed mode match also passes on volume records, which are not
// matched posts; a process without match (earshot sink) matched nothing,
// whatever its volume reader took in.
func TestSummaryCountsMatchedPostsNotVolumeRecords(t *testing.T) {
	for _, c := range []struct {
		name  string
		stats Stats
		want  int64
	}{
		{"earshot match", Stats{Stages: map[string]stream.Stats{Match: {In: 1000, Out: 130}}, Volume: 10}, 120},
		{"earshot sink", Stats{Stages: map[string]stream.Stats{Sink: {In: 120}, Sink + ".volume": {In: 12}}}, 0},
		{"earshot run, the sink behind", Stats{Stages: map[string]stream.Stats{
			Match: {In: 1000, Out: 130}, Sink + ".volume": {In: 4}}, Volume: 10}, 120},
	} {
		if got := summary(c.stats, time.Second).Matched; got != c.want {
			t.Errorf("%s: matched = %d, want %d", c.name, got, c.want)
		}
	}
}

// A stage process reports its stage's records in and out and its rate in
// every report, not only the first; the sink's runners of its other topics
// do not make it several stages.
func TestProgressLineOfAStageProcess(t *testing.T) {
	var prev int64
	s := Stats{Stages: map[string]stream.Stats{
		Sink: {In: 200, Out: 0, Lag: 30}, "sink.volume": {In: 50},
	}}
	if got, want := ProgressLine(s, 2*time.Second, 2*time.Second, &prev), "earshot     2s | sink 200→0 (100/s) lag 30 | dead 0\n"; got != want {
		t.Errorf("first report %q, want %q", got, want)
	}
	s.Stages[Sink] = stream.Stats{In: 600}
	if got, want := ProgressLine(s, 4*time.Second, 2*time.Second, &prev), "earshot     4s | sink 600→0 (200/s) | dead 0\n"; got != want {
		t.Errorf("second report %q, want %q", got, want)
	}
	// Every stage in one process: the ingest's rate.
	prev = 0
	all := Stats{Stages: map[string]stream.Stats{Ingest: {In: 1000, Out: 1000}, Match: {In: 1000, Out: 100}}, DeadLetters: 1}
	if got, want := ProgressLine(all, time.Second, time.Second, &prev), "earshot     1s | ingest 1000 (1000/s) | match 1000→100 | dead 1\n"; got != want {
		t.Errorf("embedded report %q, want %q", got, want)
	}
}
