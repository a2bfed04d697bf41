package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/earshot-dev/earshot/post"
)

// benchLines is how many lines each benchmark file holds: enough that
// per-file setup does not show.
const benchLines = 20000

// repeatLines builds an NDJSON file of n lines cycling through the lines
// of path (captured payloads), so the mix of shapes and sizes is real.
func repeatLines(b *testing.B, path string, n int) []byte {
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var lines [][]byte
	for _, l := range bytes.Split(raw, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 && json.Valid(l) {
			lines = append(lines, l)
		}
	}
	var out bytes.Buffer
	for i := range n {
		out.Write(lines[i%len(lines)])
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// syntheticFile is canonical NDJSON of the synthetic firehose: the baseline shape.
func syntheticFile(b *testing.B, n int) []byte {
	s := NewSynthetic(SyntheticConfig{Seed: 7, BrandRate: 0.1, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
	var out bytes.Buffer
	for range n {
		p := s.Post()
		line, err := gojson.Marshal(p)
		if err != nil {
			b.Fatal(err)
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// legacyRead is the canonical file reader as it was before issue 7
// (bufio lines, CheckUTF8, encoding/json, Validate): the baseline.
func legacyRead(r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	n := 0
	for {
		line, err := br.ReadBytes('\n')
		if l := bytes.TrimRight(line, "\r\n"); len(bytes.TrimSpace(l)) > 0 {
			if post.CheckUTF8(l) == nil {
				p := new(post.Post)
				if json.Unmarshal(l, p) == nil && p.Validate() == nil {
					p.IngestedAt = time.Now().UTC()
					_ = &post.Item{Post: p}
					n++
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func benchFile(b *testing.B, data []byte, format string) {
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	posts, dead, lines := 0, 0, 0
	ctx := context.Background()
	for b.Loop() {
		f := NewFile("bench", bytes.NewReader(data), 0, 1<<20)
		if err := f.SetFormat(format); err != nil {
			b.Fatal(err)
		}
		for {
			bt, err := f.Next(ctx, 500)
			if errors.Is(err, io.EOF) {
				lines += f.Stats().Lines
			}
			posts += len(bt.Items)
			dead += len(bt.Rejected)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	if dead > 0 {
		b.Fatalf("%d dead letters in a clean file", dead)
	}
	b.ReportMetric(float64(posts)/b.Elapsed().Seconds(), "posts/s")
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkFile(b *testing.B) {
	canonical := syntheticFile(b, benchLines)
	b.Run("baseline_canonical_legacy", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(canonical)))
		posts := 0
		for b.Loop() {
			n, err := legacyRead(bytes.NewReader(canonical))
			if err != nil {
				b.Fatal(err)
			}
			posts += n
		}
		b.ReportMetric(float64(posts)/b.Elapsed().Seconds(), "posts/s")
	})
	b.Run("canonical_auto", func(b *testing.B) { benchFile(b, canonical, FormatAuto) })
	b.Run("canonical", func(b *testing.B) { benchFile(b, canonical, FormatCanonical) })
	b.Run("bluesky_jetstream_mix", func(b *testing.B) {
		benchFile(b, repeatLines(b, "testdata/bluesky/jetstream_v1_window_152events.jsonl", benchLines), FormatAuto)
	})
	b.Run("mastodon_statuses", func(b *testing.B) {
		benchFile(b, repeatLines(b, "testdata/mastodon/tootkit_public_timeline.ndjson", benchLines), FormatAuto)
	})
	b.Run("x_filtered_stream", func(b *testing.B) {
		benchFile(b, repeatLines(b, "testdata/x/streaming_output_clean_16affbc.jsonl", benchLines), FormatAuto)
	})
}
