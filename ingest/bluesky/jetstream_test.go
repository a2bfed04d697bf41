package bluesky

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	gojson "github.com/goccy/go-json"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/ingest/live"
	"github.com/earshot-dev/earshot/post"
)

type jsEvent struct {
	raw    []byte
	timeUS int64
	coll   string
}

func loadEvents(t *testing.T) []jsEvent {
	b, err := os.ReadFile("../testdata/bluesky/jetstream_v1_window_152events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var evs []jsEvent
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e struct {
			TimeUS int64 `json:"time_us"`
			Commit *struct {
				Collection string `json:"collection"`
			} `json:"commit"`
		}
		if err := gojson.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		ev := jsEvent{raw: []byte(l), timeUS: e.TimeUS}
		if e.Commit != nil {
			ev.coll = e.Commit.Collection
		}
		evs = append(evs, ev)
	}
	sort.Slice(evs, func(i, k int) bool { return evs[i].timeUS < evs[k].timeUS })
	return evs
}

// jetstreamServer replays the captured events as Jetstream does: text
// frames (or zstd binary frames), filtered by wantedCollections, from the
// cursor inclusive. script[n] says how connection n misbehaves.

type step struct {
	garbage, huge bool // send a truncated event and a binary non-event / an over-long event
	dropAfter     int  // end the TCP connection after this many events (0: never)
	stallAfter    int  // go silent after this many events (0: never)
}
type jetstreamServer struct {
	t       *testing.T
	events  []jsEvent
	script  []step
	conns   atomic.Int32
	cursors []string
	mu      sync.Mutex
	zenc    *zstd.Encoder
}

func (s *jetstreamServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.conns.Add(1)) - 1
	s.mu.Lock()
	s.cursors = append(s.cursors, r.URL.Query().Get("cursor"))
	s.mu.Unlock()
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := r.Context()
	var st step
	if n < len(s.script) {
		st = s.script[n]
	}
	if st.stallAfter == 0 {
		ctx = c.CloseRead(ctx) // answers pings, as a live server does
	}
	cursor, _ := strconv.ParseInt(r.URL.Query().Get("cursor"), 10, 64)
	wanted := r.URL.Query()["wantedCollections"]
	sent := 0
	for _, e := range s.events {
		if e.timeUS < cursor || e.coll != "" && len(wanted) > 0 && !slices.Contains(wanted, e.coll) {
			continue
		}
		if st.dropAfter > 0 && sent == st.dropAfter {
			return // no close frame: the TCP connection just ends
		}
		if st.garbage && sent == 3 {
			c.Write(ctx, websocket.MessageText, []byte(`{"did":"did:plc:x","time_us":`))
			c.Write(ctx, websocket.MessageBinary, []byte{0xff, 0x00, 0x13})
		}
		if st.huge && sent == 2 {
			c.Write(ctx, websocket.MessageText, []byte(`{"did":"did:plc:x","time_us":`+strconv.FormatInt(e.timeUS, 10)+`,"kind":"commit","pad":"`+strings.Repeat("a", 8<<10)+`"}`))
		}
		if st.stallAfter > 0 && sent == st.stallAfter {
			<-ctx.Done() // keep the connection open and say nothing
			return
		}
		msg, typ := e.raw, websocket.MessageText
		if s.zenc != nil {
			msg, typ = s.zenc.EncodeAll(e.raw, nil), websocket.MessageBinary
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
		sent++
	}
	<-ctx.Done()
}

func testLive() live.Config {
	lc := live.DefaultConfig()
	lc.IdleTimeout, lc.MinBackoff, lc.MaxBackoff, lc.CursorEvery, lc.MaxMessage = 300*time.Millisecond, 5*time.Millisecond, 20*time.Millisecond, time.Nanosecond, 4096
	return lc
}

// deadAddr returns a 127.0.0.1 URL nothing listens on.
func deadAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "ws://" + addr + "/subscribe"
}

func TestJetstreamReconnects(t *testing.T) {
	evs := loadEvents(t)
	wantKeys := map[string]bool{}
	d := &Decoder{N: canon.NewNormalizer()}
	for _, e := range evs {
		if ev, err := d.Decode(e.raw); err == nil && ev.Post != nil {
			wantKeys[ev.Post.Key()+"/"+ev.Post.Kind] = true
		}
	}
	srv := &jetstreamServer{t: t, events: evs, script: []step{{dropAfter: 4}, {garbage: true, dropAfter: 8}, {stallAfter: 5}, {huge: true, dropAfter: 6}}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Endpoints = []string{deadAddr(t), "ws" + strings.TrimPrefix(ts.URL, "http") + "/subscribe"}
	cfg.CursorFile = filepath.Join(dir, "cursor")
	cfg.Rewind = 20 * time.Millisecond
	reg := prometheus.NewRegistry()
	m := live.NewMetrics(reg)
	src, err := Open(cfg, testLive(), canon.NewNormalizer(), m, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	var reasons []string
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for len(got) < len(wantKeys) {
		b, err := src.Next(ctx, 50)
		if err != nil {
			var missing []string
			for k := range wantKeys {
				if got[k] == 0 {
					missing = append(missing, k)
				}
			}
			t.Fatalf("after %d of %d posts: %v; missing %q", len(got), len(wantKeys), err, missing)
		}
		for _, it := range b.Items {
			got[it.Post.Key()+"/"+it.Post.Kind]++
		}
		for _, r := range b.Rejected {
			reasons = append(reasons, r.Reason)
			// classed where the connector refuses the record
			if want := map[bool]post.Class{true: post.ClassTooBig, false: post.ClassDecode}[strings.Contains(r.Reason, "over max_message")]; r.Class != want {
				t.Errorf("dead letter %.200q: class %q, want %q", r.Reason, r.Class, want)
			}
		}
	}
	// a quiet but live connection answers pings and is kept
	before := testutil.ToFloat64(m.Reconnects("bluesky"))
	time.Sleep(3 * testLive().IdleTimeout)
	if after := testutil.ToFloat64(m.Reconnects("bluesky")); after != before {
		t.Errorf("%v reconnects on a quiet connection that answers pings", after-before)
	}
	short, stop := context.WithTimeout(ctx, 50*time.Millisecond)
	src.Next(short, 1) // waits in vain
	stop()
	if err := src.Checkpoint(src.Position(), true); err != nil { // what the source runner does once a batch is handled
		t.Fatal(err)
	}
	src.Close()
	for k, n := range got {
		if !wantKeys[k] || n != 1 {
			t.Errorf("%s handed on %d times (expected: %v)", k, n, wantKeys[k])
		}
	}
	joined := strings.Join(reasons, "\n")
	for _, w := range []string{"malformed JSON", "over max_message"} {
		if !strings.Contains(joined, w) {
			t.Errorf("dead letters %q; want one for %q", reasons, w)
		}
	}
	if n := testutil.ToFloat64(m.Reconnects("bluesky")); n < 4 {
		t.Errorf("reconnects = %v, want at least 4 (dead endpoint, drop, stall, garbage…)", n)
	}
	if n := testutil.ToFloat64(m.Skipped("bluesky", "like")); n != 0 {
		t.Errorf("%v likes received though only posts and reposts were asked for", n)
	}
	// every reconnect but the first resumed from a cursor
	srv.mu.Lock()
	cursors := slices.Clone(srv.cursors)
	srv.mu.Unlock()
	if cursors[0] != "" || slices.Contains(cursors[1:], "") {
		t.Errorf("cursors sent = %q; want none first, then one on each reconnect", cursors)
	}

	// A restart resumes from the saved cursor: with no rewind nothing is
	// handed on twice, and nothing is missed.
	saved, err := (&live.CursorFile{Path: cfg.CursorFile}).Load()
	var last int64 // the cursor of the last post handed on: likes are never asked for
	for _, e := range evs {
		if e.coll == collPost || e.coll == collRepost {
			last = max(last, e.timeUS)
		}
	}
	if err != nil || saved != last {
		t.Fatalf("saved cursor %d, %v; want the last post's %d", saved, err, last)
	}
	srv.events = append(srv.events, jsEvent{timeUS: saved + 1, coll: collPost,
		raw: []byte(`{"did":"did:plc:new","time_us":` + strconv.FormatInt(saved+1, 10) + `,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"n1","record":{"text":"after restart","createdAt":"2026-07-04T00:00:00Z"}}}`)})
	cfg.Rewind = 0
	src, err = Open(cfg, testLive(), canon.NewNormalizer(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b, err := src.Next(ctx, 50)
	if err != nil || len(b.Items) != 1 || b.Items[0].Post.Text != "after restart" {
		t.Fatalf("after restart: %d items, %v; want only the new post", len(b.Items), err)
	}
}

func TestJetstreamZstd(t *testing.T) {
	evs := loadEvents(t)
	dict := zstdDict(t, evs)
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderDict(dict))
	if err != nil {
		t.Fatal(err)
	}
	srv := &jetstreamServer{t: t, events: evs, zenc: enc}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	cfg := DefaultConfig()
	cfg.Endpoints = []string{"ws" + strings.TrimPrefix(ts.URL, "http") + "/subscribe"}
	cfg.Compress = true
	cfg.ZstdDictionary = filepath.Join(t.TempDir(), "dict")
	os.WriteFile(cfg.ZstdDictionary, dict, 0o644)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	lc := testLive()
	lc.MaxMessage = 1 << 20
	src, err := Open(cfg, lc, canon.NewNormalizer(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n := 0
	for n < 33 {
		b, err := src.Next(ctx, 100)
		if err != nil {
			t.Fatalf("after %d posts: %v", n, err)
		}
		if len(b.Rejected) > 0 {
			t.Fatalf("dead letters: %q", b.Rejected[0].Reason)
		}
		n += len(b.Items)
	}
}

// zstdDict builds a dictionary from the events, as Jetstream's was built
// from its traffic; without it the messages cannot be read.
func zstdDict(t *testing.T, evs []jsEvent) []byte {
	var contents [][]byte
	var hist []byte
	for _, e := range evs {
		contents = append(contents, e.raw)
		hist = append(hist, e.raw...)
	}
	d, err := zstd.BuildDict(zstd.BuildDictOptions{ID: 7, Contents: contents, History: hist[:min(len(hist), 32<<10)]})
	if err != nil {
		t.Skipf("cannot build a zstd dictionary here: %v", err)
	}
	return d
}
