package mastodon

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/ingest/live"
)

// wsServer replays the transcript as Mastodon's WebSocket streaming API
// sends it: one text message per event, the payload a JSON string.
// Connection n follows script[n], like sseServer.
type wsServer struct {
	t        *testing.T
	msgs     [][]byte
	script   []sseStep
	conns    atomic.Int32
	backfill string
	mu       sync.Mutex
	queries  []string // the query of every stream request
	auth     []string // the Authorization header of every stream request
}

func (s *wsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/v1/timelines/") {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("[" + s.backfill + "]"))
		return
	}
	if r.URL.Path != "/api/v1/streaming" {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	s.queries = append(s.queries, r.URL.RawQuery)
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	s.mu.Unlock()
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	n := int(s.conns.Add(1)) - 1
	var st sseStep
	if n < len(s.script) {
		st = s.script[n]
	}
	ctx := r.Context()
	// A hijacked connection's request context ends only when the handler
	// returns: the handler waits for the client to go (gone), or the test
	// to end, or it outlives the test.
	gone := make(chan struct{})
	wait := func() {
		select {
		case <-ctx.Done():
		case <-gone:
		case <-s.t.Context().Done():
		}
	}
	if st.stallAfter == 0 {
		go func() { // answer pings; a stalled server answers none
			defer close(gone)
			for {
				if _, _, err := conn.Read(ctx); err != nil {
					return
				}
			}
		}()
	}
	if st.garbage {
		conn.Write(ctx, websocket.MessageText, []byte(`{"stream":["public"],"event":"update","payload":"{\"id\": \"1\", \"content\": "}`))
		conn.Write(ctx, websocket.MessageText, []byte("\xff\xfe"))
	}
	for i, m := range s.msgs {
		if st.cutAfter > 0 && i == st.cutAfter {
			return // CloseNow: the connection drops without a close frame
		}
		if st.stallAfter > 0 && i == st.stallAfter {
			wait()
			return
		}
		if err := conn.Write(ctx, websocket.MessageText, m); err != nil {
			return
		}
	}
	wait()
}

// wsMessages turns the NDJSON transcript into WebSocket messages: the
// payload of update and status.update re-encoded as a JSON string.
func wsMessages(t *testing.T) [][]byte {
	f, err := os.Open("../testdata/mastodon/events.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct {
			Event   string          `json:"event"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		payload := ev.Payload
		if len(payload) > 0 && payload[0] == '{' {
			var buf bytes.Buffer
			json.Compact(&buf, payload)
			payload, _ = json.Marshal(buf.String())
		}
		m, _ := json.Marshal(map[string]any{"stream": []string{"public"}, "event": ev.Event, "payload": payload})
		out = append(out, m)
	}
	return out
}

func TestStreamingOverWebSocket(t *testing.T) {
	gap, _ := json.Marshal(map[string]any{"id": "113000000000000050", "created_at": "2026-11-20T10:30:00.000Z", "content": "<p>posted during the outage</p>", "account": map[string]any{"id": "9", "acct": "late"}})
	srv := &wsServer{t: t, msgs: wsMessages(t), script: []sseStep{{cutAfter: 2}, {garbage: true, stallAfter: 3}}, backfill: string(gap)}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	t.Setenv("MASTODON_TEST_TOKEN", "s3cret")
	cfg := Config{Servers: []Server{{URL: hs.URL, Stream: "hashtag", Tag: "café", Transport: "websocket", TokenEnv: "MASTODON_TEST_TOKEN"}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	lc := live.DefaultConfig()
	lc.IdleTimeout, lc.MinBackoff, lc.MaxBackoff = 300*time.Millisecond, 5*time.Millisecond, 20*time.Millisecond
	m := live.NewMetrics(prometheus.NewRegistry())
	src, err := Open(cfg, lc, canon.NewNormalizer(), m, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	host := mustHost(t, hs.URL)
	got := map[string]int{}
	var reasons []string
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	// 4 distinct statuses + an edit + 2 deletes from the stream, 1 from the backfill
	for len(got) < 8 || len(reasons) < 2 || srv.conns.Load() < 3 {
		bt, err := src.Next(ctx, 10)
		if err != nil {
			t.Fatalf("got %v, dead letters %q, connections %d: %v", got, reasons, srv.conns.Load(), err)
		}
		for _, it := range bt.Items {
			got[it.Post.Kind+" "+it.Post.Key()]++
		}
		for _, r := range bt.Rejected {
			reasons = append(reasons, r.Reason)
		}
	}
	for _, k := range []string{
		" mastodon:" + host + "/113000000000000001", "edit mastodon:" + host + "/113000000000000001",
		" mastodon:" + host + "/113000000000000002", "delete mastodon:" + host + "/113000000000000003",
		" mastodon:" + host + "/113000000000000050", " mastodon:" + host + "/113000000000000005",
	} {
		if got[k] != 1 {
			t.Errorf("%q handed on %d times; got %v", k, got[k], got)
		}
	}
	if r := strings.Join(reasons, "\n"); !strings.Contains(r, "JSON") || !strings.Contains(r, "UTF-8") {
		t.Errorf("dead letters %q, want the truncated JSON and the invalid UTF-8", reasons)
	}
	srv.mu.Lock()
	q, auth := srv.queries[0], srv.auth[0]
	srv.mu.Unlock()
	if q != "stream=hashtag&tag=caf%C3%A9" || auth != "Bearer s3cret" {
		t.Errorf("stream request query %q, authorization %q", q, auth)
	}
	if n := testutil.ToFloat64(m.Reconnects("mastodon")); n < 2 {
		t.Errorf("reconnects = %v, want at least 2 (cut, stall)", n)
	}
}

func TestWebSocketOversizedEvent(t *testing.T) {
	big, _ := json.Marshal(map[string]any{"event": "update", "payload": `{"id":"7","content":"` + strings.Repeat("x", 4096) + `"}`})
	small := wsMessages(t)[0]
	srv := &wsServer{t: t, msgs: [][]byte{big, small}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	lc := live.DefaultConfig()
	lc.MaxMessage = 2048
	src, err := Open(Config{Servers: []Server{{URL: hs.URL, Stream: "public", Transport: "websocket"}}}, lc, canon.NewNormalizer(), live.NewMetrics(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var items, rejected int
	var reason string
	for items == 0 || rejected == 0 {
		bt, err := src.Next(ctx, 10)
		if err != nil {
			t.Fatalf("items %d, rejected %d: %v", items, rejected, err)
		}
		items += len(bt.Items)
		for _, r := range bt.Rejected {
			rejected++
			reason = r.Reason
		}
	}
	if !strings.Contains(reason, "max_message") || srv.conns.Load() != 1 {
		t.Errorf("reason %q after %d connections; want a max_message dead letter on the same connection", reason, srv.conns.Load())
	}
}

func TestTransportValidation(t *testing.T) {
	err := Config{Servers: []Server{{URL: "https://x.example", Stream: "public", Transport: "grpc"}}}.Validate()
	if err == nil || !strings.Contains(err.Error(), "transport") {
		t.Fatalf("got %v", err)
	}
}
