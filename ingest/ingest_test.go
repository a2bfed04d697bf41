package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSyntheticDeterministic(t *testing.T) {
	cfg := SyntheticConfig{Seed: 42, Limit: 2000, BrandRate: 0.2, Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	a, b := NewSynthetic(cfg), NewSynthetic(cfg)
	for i := range 2000 {
		pa, pb := a.Post(), b.Post()
		if !reflect.DeepEqual(pa, pb) {
			t.Fatalf("post %d differs:\n%+v\n%+v", i, pa, pb)
		}
	}
	cfg.Seed = 43
	if c := NewSynthetic(cfg).Post(); c.Text == NewSynthetic(SyntheticConfig{Seed: 42, BrandRate: 0.2}).Post().Text && c.ID == "" {
		t.Error("different seeds gave the same first post")
	}
}

func TestSyntheticMix(t *testing.T) {
	s := NewSynthetic(SyntheticConfig{Seed: 7, Limit: 20000, BrandRate: 0.1})
	langs, brand, reposts := map[string]int{}, 0, 0
	ctx := context.Background()
	total := 0
	for {
		b, err := s.Next(ctx, 1000)
		for _, it := range b.Items {
			total++
			p := it.Post
			if err := p.Validate(); err != nil {
				t.Fatal(err)
			}
			langs[p.Lang]++
			if strings.Contains(p.Text, "Acme") || strings.Contains(p.Text, "Globex") || strings.Contains(p.Text, "Initech") {
				brand++
			}
			if p.RepostOf != "" {
				reposts++
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if total != 20000 {
		t.Fatalf("limit 20000 gave %d posts", total)
	}
	if len(langs) < 8 || langs["el"] == 0 {
		t.Errorf("languages = %v, want at least 8 with Greek", langs)
	}
	if brand < 1600 || brand > 3000 {
		t.Errorf("%d of 20000 posts mention a brand at brand_rate 0.1", brand)
	}
	if reposts == 0 {
		t.Error("no reposts")
	}
}

func TestSyntheticRate(t *testing.T) {
	s := NewSynthetic(SyntheticConfig{Seed: 1, Rate: 2000})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	n := 0
	for ctx.Err() == nil {
		b, _ := s.Next(ctx, 100)
		n += len(b.Items)
	}
	// 2000/s for 0.5 s is 1000 posts; allow for a slow, shared machine.
	if n < 500 || n > 1100 {
		t.Errorf("%d posts in 0.5s at 2000/s", n)
	}
}

func TestFile(t *testing.T) {
	good := `{"platform":"f","id":"%d","text":"hi","created_at":"2026-11-01T10:00:00Z"}`
	in := strings.Join([]string{
		fmt.Sprintf(good, 1),
		`{"platform":"f","id":"2",`,
		"{\"platform\":\"f\",\"id\":\"3\",\"text\":\"\xc3\x28\",\"created_at\":\"2026-11-01T10:00:00Z\"}",
		`{"platform":"f","id":"4","text":"` + strings.Repeat("x", 5<<20) + `","created_at":"2026-11-01T10:00:00Z"}`,
		`{"platform":"f","id":"5","text":"hi","created_at":"2026-11-01T10:00:00Z","unknown":{"deep":[1,2]}}`,
		`   `,
		`{"platform":"f","id":"6","text":"no time"}`,
		fmt.Sprintf(good, 7) + "\r",
		fmt.Sprintf(good, 8), // no trailing newline
	}, "\n")
	f := NewFile("in.ndjson", strings.NewReader(in), 0, 1<<20)
	var ids, reasons []string
	for {
		b, err := f.Next(context.Background(), 3)
		for _, it := range b.Items {
			ids = append(ids, it.Post.ID)
			if it.Post.IngestedAt.IsZero() {
				t.Error("ingested_at not set")
			}
		}
		for _, r := range b.Rejected {
			reasons = append(reasons, r.Reason)
			if len(r.Raw) > 4096 {
				t.Errorf("rejected line kept %d bytes", len(r.Raw))
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(ids, ","); got != "1,5,7,8" {
		t.Errorf("ids = %s, want 1,5,7,8", got)
	}
	want := []string{"in.ndjson:2: malformed JSON", "in.ndjson:3: invalid UTF-8 at byte 33", "in.ndjson:4: line is 5242", "in.ndjson:7: post f:6 has no created_at"}
	if len(reasons) != len(want) {
		t.Fatalf("reasons = %q", reasons)
	}
	for i, w := range want {
		if !strings.HasPrefix(reasons[i], w) {
			t.Errorf("reason %d = %q, want prefix %q", i, reasons[i], w)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	c := DefaultConfig()
	c.Source, c.MaxPostBytes, c.Synthetic.BrandRate = "firehose", 10, 2
	err := c.Validate()
	for _, w := range []string{`ingest.source: "firehose"`, "ingest.max_post_bytes", "ingest.synthetic.brand_rate"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate() = %v, want %q", err, w)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Error(err)
	}
}

func BenchmarkSynthetic(b *testing.B) {
	s := NewSynthetic(SyntheticConfig{Seed: 7, BrandRate: 0.1})
	b.ReportAllocs()
	var bytes int64
	for b.Loop() {
		bytes += int64(len(s.Post().Text))
	}
	b.SetBytes(bytes / int64(b.N))
}

// The source stamps ingested_at with the clock when a post enters ingest, so
// that post→alert latency can be measured from it; created_at keeps the
// reproducible schedule (start + n/rate), here far in the past.
func TestSyntheticIngestedAtIsTheClock(t *testing.T) {
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewSynthetic(SyntheticConfig{Seed: 7, Limit: 300, BrandRate: 0.5, DeleteRate: 0.05, Start: start})
	before := time.Now()
	b, err := s.Next(context.Background(), 300)
	after := time.Now()
	if err != nil || len(b.Items) != 300 {
		t.Fatalf("%d items, %v", len(b.Items), err)
	}
	for i, it := range b.Items {
		p := it.Post
		if p.IngestedAt.Before(before) || p.IngestedAt.After(after) {
			t.Fatalf("post %d: ingested_at %v, not the clock (between %v and %v)", i, p.IngestedAt, before, after)
		}
		if p.IngestedAt.Location() != time.UTC {
			t.Fatalf("post %d: ingested_at %v not in UTC", i, p.IngestedAt)
		}
		if want := start.Add(time.Duration(i+1) * time.Millisecond); !p.CreatedAt.Equal(want) {
			t.Fatalf("post %d: created_at %v, want the schedule %v", i, p.CreatedAt, want)
		}
	}
}
