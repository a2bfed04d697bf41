package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/klauspost/compress/zstd"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/post"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testNow is the clock of every decoding test: after all the fixtures.
var testNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// readAll drains a file source, returning its posts and dead-letter reasons.
func readAll(t testing.TB, f *File) ([]*post.Post, []string) {
	t.Helper()
	var ps []*post.Post
	var reasons []string
	for {
		b, err := f.Next(context.Background(), 7)
		for _, it := range b.Items {
			ps = append(ps, it.Post)
		}
		for _, r := range b.Rejected {
			reasons = append(reasons, r.Reason)
			if len(r.Raw) > post.RawLimit {
				t.Errorf("rejected line kept %d bytes", len(r.Raw))
			}
		}
		if errors.Is(err, io.EOF) {
			return ps, reasons
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func decodeString(t testing.TB, format, in string) ([]*post.Post, []string, FileStats) {
	t.Helper()
	f := NewFile("in", strings.NewReader(in), 0, 1<<20)
	f.SetClock(func() time.Time { return testNow })
	if err := f.SetFormat(format); err != nil {
		t.Fatal(err)
	}
	ps, reasons := readAll(t, f)
	return ps, reasons, f.Stats()
}

// TestGolden decodes every captured payload file and compares the canonical
// posts, dead letters and counts with testdata/golden.
func TestGolden(t *testing.T) {
	var files []string
	for _, dir := range []string{"bluesky", "mastodon", "x"} {
		fs, _ := filepath.Glob("testdata/" + dir + "/*.*json*")
		files = append(files, fs...)
	}
	if len(files) < 8 {
		t.Fatalf("found only %d fixture files", len(files))
	}
	for _, path := range files {
		name := strings.ReplaceAll(strings.TrimPrefix(path, "testdata/"), "/", "_")
		t.Run(name, func(t *testing.T) {
			in, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			f := NewFile(filepath.Base(path), in, 0, 1<<20)
			f.SetClock(func() time.Time { return testNow })
			ps, reasons := readAll(t, f)
			var got bytes.Buffer
			enc := gojson.NewEncoder(&got)
			enc.SetIndent("", " ")
			for _, p := range ps {
				enc.Encode(p)
			}
			for _, r := range reasons {
				fmt.Fprintf(&got, "dead letter: %s\n", r)
			}
			enc.Encode(f.Stats())
			golden := filepath.Join("testdata/golden", name+".golden")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("decoded %s differs from %s (run with -update and review the diff)", path, golden)
			}
			if len(ps) == 0 && f.Stats().Skipped == nil {
				t.Error("no posts")
			}
		})
	}
}

// TestDecodeFields checks the fields each decoder must fill from its
// platform's real payloads, so the golden files are not the only oracle.
func TestDecodeFields(t *testing.T) {
	load := func(path string) []*post.Post {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ps, reasons, _ := decodeString(t, FormatAuto, string(b))
		if len(reasons) > 0 && !strings.Contains(path, "with_error") {
			t.Errorf("%s: dead letters %q", path, reasons)
		}
		return ps
	}
	byID := func(ps []*post.Post, suffix string) *post.Post {
		for _, p := range ps {
			if strings.HasSuffix(p.ID, suffix) {
				return p
			}
		}
		t.Fatalf("no post with id …%s", suffix)
		return nil
	}
	bs := append(load("testdata/bluesky/jetstream_v1_golden_10events.jsonl"), load("testdata/bluesky/jetstream_v1_window_152events.jsonl")...)
	reply := byID(bs, "/3mmoojp4cd223")
	if reply.Text != "Try RSV for a good time !!" || reply.Lang != "en" || reply.ReplyTo != "bluesky:at://did:plc:j76trmiofvaxxpvx2vnb2vwf/app.bsky.feed.post/3mmojbrjwbs26" || reply.Author.ID != "did:plc:q235v55g5unth4zjjdpacfdr" {
		t.Errorf("bluesky reply = %+v", reply)
	}
	var repost, link, del bool
	for _, p := range bs {
		repost = repost || p.RepostOf != "" && strings.Contains(p.ID, "/app.bsky.feed.repost/")
		link = link || len(p.URLs) > 0 && strings.HasPrefix(p.URLs[0], "https://www.youtube.com/")
		del = del || p.Kind == post.KindDelete
	}
	if !repost || !link || !del {
		t.Errorf("bluesky: repost %v, link facet %v, delete %v; want all", repost, link, del)
	}

	xs := load("testdata/x/streaming_output_clean_16affbc.jsonl")
	q := byID(xs, "1377650090978992134")
	if q.QuoteOf != "x:1377640162566496258" || q.Author.Handle == "" || q.Country != "MW" || q.Media != 1 || len(q.URLs) != 2 || q.Engagement == nil {
		t.Errorf("x quote = %+v", q)
	}
	ed := load("testdata/x/edited.jsonl")
	if len(ed) != 1 || ed[0].Kind != post.KindEdit || ed[0].ID != "1576994746135764992" || ed[0].Lang != "" {
		t.Errorf("x edit = %+v, want kind edit under the first id, and no language for qst", ed[0])
	}
	comp := load("testdata/x/tweets_compliance.jsonl")
	if len(comp) != 2 || comp[0].Kind != post.KindDelete || comp[0].ID != "1170025343920402432" {
		t.Errorf("x compliance = %+v", comp)
	}

	ms := load("testdata/mastodon/events.ndjson")
	m := ms[0]
	wantText := "Η #Acme μου χάλασε το κινητό & κανείς δεν απαντά 😡\n\ncc @support https://acme.example/help?a=1&b=2"
	if m.Text != wantText || m.Lang != "el" || strings.Join(m.Hashtags, ",") != "Acme" || strings.Join(m.Mentions, ",") != "support@acme.example" ||
		strings.Join(m.URLs, ",") != "https://acme.example/help?a=1&b=2" || m.Media != 2 || m.Engagement.Likes != 9 || m.Author.Name != "Μαρία" {
		t.Errorf("mastodon update =\n%+v\ntext %q", m, m.Text)
	}
	if m := ms[1]; m.Text != "CW: rant\n\nline one\nline two" || m.ReplyTo != "mastodon:113000000000000001" {
		t.Errorf("mastodon reply from a string payload = %+v", m)
	}
	if m := ms[2]; m.RepostOf != "mastodon:113000000000000001" || !strings.Contains(m.Text, "#Acme") || m.Author.Handle != "nikos@other.example" {
		t.Errorf("mastodon boost = %+v", m)
	}
	if m := ms[3]; m.Kind != post.KindEdit || m.Text != "edited: all fine now" {
		t.Errorf("mastodon edit = %+v", m)
	}
	if m := ms[4]; m.QuoteOf != "mastodon:113000000000000002" {
		t.Errorf("mastodon quote = %+v", m)
	}
	// 113000000000000003 is above 2^53: as a float64 it would read …000000.
	if m := ms[5]; m.Kind != post.KindDelete || m.ID != "113000000000000003" {
		t.Errorf("mastodon delete = %+v", m)
	}
	if m := ms[6]; m.Kind != post.KindDelete || m.ID != "113000000000000099" {
		t.Errorf("mastodon delete of an unknown post = %+v", m)
	}
	toots := load("testdata/mastodon/tootkit_public_timeline.ndjson")
	if len(toots) != 20 {
		t.Errorf("%d of 20 timeline statuses decoded", len(toots))
	}
	for _, p := range toots {
		if strings.ContainsAny(p.Text, "<>") && strings.Contains(p.Text, "</") {
			t.Errorf("HTML left in %q", p.Text)
		}
	}
}

// TestFileCompressed reads the same lines plain, gzip and zstd, and refuses
// a gzip bomb with a clear error instead of reading it to the end.
func TestFileCompressed(t *testing.T) {
	plain, err := os.ReadFile("testdata/bluesky/jetstream_v1_window_152events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var gz, zs bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	ze, _ := zstd.NewWriter(&zs)
	ze.Write(plain)
	ze.Close()
	dir := t.TempDir()
	count := func(name string, data []byte) (int, error) {
		path := filepath.Join(dir, name)
		os.WriteFile(path, data, 0o644)
		f, err := OpenFile(path, 0, 1<<20)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		n := 0
		for {
			b, err := f.Next(context.Background(), 100)
			n += len(b.Items)
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			if err != nil {
				return n, err
			}
		}
	}
	want, err := count("plain.ndjson", plain)
	if err != nil || want == 0 {
		t.Fatalf("plain: %d posts, %v", want, err)
	}
	for name, data := range map[string][]byte{"x.ndjson.gz": gz.Bytes(), "x.ndjson.zst": zs.Bytes()} {
		if n, err := count(name, data); n != want || err != nil {
			t.Errorf("%s: %d posts, %v; want %d", name, n, err, want)
		}
	}
	// 32 MiB of one byte gzips to about 32 KiB (1000:1); the ratio limit
	// stops it once past the slack, long before the end.
	var bomb bytes.Buffer
	bw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	zeros := bytes.Repeat([]byte("a"), 1<<20)
	for range 32 {
		bw.Write(zeros)
	}
	bw.Close()
	start := time.Now()
	if _, err := count("bomb.ndjson.gz", bomb.Bytes()); !errors.Is(err, ErrBomb) {
		t.Errorf("gzip bomb: %v, want ErrBomb", err)
	}
	t.Logf("bomb of %d bytes refused in %v", bomb.Len(), time.Since(start))
}

// TestFileCheckpoint stops a replay part way, reopens it and checks that
// every line is read, none twice beyond the batch in hand.
func TestFileCheckpoint(t *testing.T) {
	dir := t.TempDir()
	var in strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&in, `{"platform":"f","id":"%d","text":"t","created_at":"2026-11-01T10:00:00Z"}`+"\n", i)
	}
	path := filepath.Join(dir, "posts.ndjson")
	os.WriteFile(path, []byte(in.String()), 0o644)
	cfg := DefaultConfig()
	cfg.Source, cfg.File.Path, cfg.File.Checkpoint, cfg.File.CheckpointEvery = "file", path, filepath.Join(dir, "ckpt.json"), time.Nanosecond
	seen := map[string]int{}
	f, err := OpenFileConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var handled any
	for range 3 { // three batches read, two of them handled: the checkpoint moves only when told
		if handled != nil {
			if err := f.Checkpoint(handled, false); err != nil {
				t.Fatal(err)
			}
		}
		b, err := f.Next(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range b.Items {
			seen[it.Post.ID]++
		}
		handled = f.Position()
	}
	f.Close() // "crash" with the third batch handed out
	f, err = OpenFileConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := readAll(t, f)
	f.Close()
	for _, p := range ps {
		seen[p.ID]++
	}
	twice := 0
	for i := range 1000 {
		switch seen[fmt.Sprint(i)] {
		case 0:
			t.Fatalf("post %d never read", i)
		case 2:
			twice++
		}
	}
	if twice != 100 {
		t.Errorf("%d posts read twice; want the 100 of the batch in hand at the crash", twice)
	}
	// a checkpoint past the end of a (replaced) file is an error, not a silent skip
	os.WriteFile(path, []byte(in.String()[:100]), 0o644)
	if _, err := OpenFileConfig(cfg); err == nil || !strings.Contains(err.Error(), "shorter than the checkpoint") {
		t.Errorf("reopening a shorter file: %v", err)
	}
	cfg.File.Path = filepath.Join(dir, "other.ndjson")
	os.WriteFile(cfg.File.Path, nil, 0o644)
	if _, err := OpenFileConfig(cfg); err == nil || !strings.Contains(err.Error(), "is for") {
		t.Errorf("checkpoint of another file: %v", err)
	}
}

// FuzzDecoder runs every line shape through format detection.
func FuzzDecoder(f *testing.F) {
	for _, path := range []string{"testdata/bluesky/jetstream_v1_golden_10events.jsonl", "testdata/x/edited.jsonl", "testdata/mastodon/events.ndjson"} {
		b, _ := os.ReadFile(path)
		for _, l := range bytes.Split(b, []byte("\n")) {
			f.Add(l)
		}
	}
	f.Add([]byte(`{"platform":"f","id":1,"created_at":1763719200}`))
	n := canon.NewNormalizer()
	n.Now = func() time.Time { return testNow }
	d := NewDecoder(FormatAuto, "fuzz", n)
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := d.Decode(b, nil)
		if err != nil {
			return
		}
		for _, ev := range evs {
			if ev.Post != nil {
				if err := canon.Invariant(ev.Post); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
