package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// feedEvent is one event of a live feed: its name and the alert's queue,
// id and desk state.
type feedEvent struct{ event, queue, id, state string }

// deskFeed opens GET path as caller and sends its events to the channel
// until the test ends.
func deskFeed(t *testing.T, e *env, caller, path string) (<-chan feedEvent, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.ts.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+e.tok[caller])
	before := e.hub.Subscribers()
	res, err := e.ts.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		cancel()
		res.Body.Close()
		t.Fatalf("%s as %s: %d", path, caller, res.StatusCode)
	}
	for e.hub.Subscribers() == before {
		time.Sleep(2 * time.Millisecond)
	}
	out := make(chan feedEvent, 64)
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(nil, 1<<20)
		var ev string
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				ev = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok {
				var a Alert
				json.Unmarshal([]byte(v), &a)
				out <- feedEvent{ev, a.Queue, a.ID, a.Desk.State}
			}
		}
		close(out)
	}()
	return out, cancel
}

// wantCode fails the test unless r has the status code.
func wantCode(t *testing.T, r resp, code int) resp {
	t.Helper()
	if r.code != code {
		t.Fatalf("got %d %s, want %d", r.code, r.body, code)
	}
	return r
}

// collect reads events until the sentinel alert's event arrives.
func collect(t *testing.T, ch <-chan feedEvent, sentinel string) []feedEvent {
	t.Helper()
	var got []feedEvent
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("feed ended; got %v", got)
			}
			got = append(got, ev)
			if ev.id == sentinel {
				return got
			}
		case <-timeout:
			t.Fatalf("no event of %s within 5s; got %v", sentinel, got)
		}
	}
}

// TestDeskEventsScopedPerTeam: the desk page follows every queue its
// caller may see in one stream (/v1/stream). Another team's desk actions
// (claims, notes, resolves) never reach it, on the all-queues feed nor on
// a queue's own; naming another team's queue is 404, as everywhere.
func TestDeskEventsScopedPerTeam(t *testing.T) {
	e := newEnv(t)
	apacAll, stop1 := deskFeed(t, e, "responder-apac", "/v1/stream")
	defer stop1()
	apacQueue, stop2 := deskFeed(t, e, "responder-apac", "/v1/queues/care-apac/stream")
	defer stop2()
	emeaAll, stop3 := deskFeed(t, e, "responder-emea", "/v1/stream")
	defer stop3()
	adminAll, stop4 := deskFeed(t, e, "admin", "/v1/stream?queue=care-emea&queue=care-apac")
	defer stop4()

	// EMEA works its alert: claim, note, resolve.
	a1 := "/v1/queues/care-emea/alerts/a1/"
	wantCode(t, e.do("responder-emea", "POST", a1+"claim", ""), 200)
	wantCode(t, e.do("responder-emea", "POST", a1+"notes", `{"text":"called them"}`), 200)
	wantCode(t, e.do("responder-emea", "POST", a1+"resolve", `{"outcome":"replied"}`), 200)
	// A new alert of EMEA's queue, off the pipeline.
	e.hub.Publish(Alert{ID: "a9", Queue: "care-emea", Priority: "P1", Desk: NewDesk()})
	// Then APAC's own action, the sentinel of every feed.
	wantCode(t, e.do("responder-apac", "POST", "/v1/queues/care-apac/alerts/b1/claim", ""), 200)

	want := []feedEvent{{"desk", "care-apac", "b1", "claimed"}}
	if got := collect(t, apacAll, "b1"); !slices.Equal(got, want) {
		t.Errorf("APAC's all-queues feed: %v, want only %v", got, want)
	}
	if got := collect(t, apacQueue, "b1"); !slices.Equal(got, want) {
		t.Errorf("APAC's queue feed: %v, want only %v", got, want)
	}
	emea := []feedEvent{{"desk", "care-emea", "a1", "claimed"}, {"desk", "care-emea", "a1", "claimed"}, {"desk", "care-emea", "a1", "resolved"}, {"alert", "care-emea", "a9", "new"}}
	if got := collect(t, emeaAll, "a9"); !slices.Equal(got, emea) {
		t.Errorf("EMEA's all-queues feed: %v, want %v", got, emea)
	}
	if got := collect(t, adminAll, "b1"); !slices.Equal(got, append(emea, want...)) {
		t.Errorf("the admin's feed of both queues: %v", got)
	}

	// Another team's queue, named: 404 (not 403: it does not exist for them).
	for _, path := range []string{"/v1/stream?queue=care-emea", "/v1/stream?queue=care-apac&queue=care-emea", "/v1/queues/care-emea/stream"} {
		if r := e.do("responder-apac", "GET", path, ""); r.code != 404 {
			t.Errorf("%s as APAC: %d %s", path, r.code, r.body)
		}
	}
	for path, code := range map[string]int{
		"/v1/stream?queue=Care%20EMEA":                400,
		"/v1/stream?queue=nope":                       404,
		"/v1/stream?queue=" + strings.Repeat("x", 70): 400,
	} {
		if r := e.do("admin", "GET", path, ""); r.code != code {
			t.Errorf("%s: %d, want %d", path, r.code, code)
		}
	}
	if r := e.do("analyst-none", "GET", "/v1/stream", ""); r.code != 403 && r.code != 404 {
		t.Errorf("a caller of no queue: %d", r.code)
	}
}

// TestHubFeedOfSeveralQueuesDroppedWhole: a feed of several queues that
// falls behind is dropped from all of them at once.
func TestHubFeedOfSeveralQueuesDroppedWhole(t *testing.T) {
	h := NewHub()
	s := h.SubscribeQueues([]string{"q1", "q2"}, 2)
	if h.Subscribers() != 1 {
		t.Fatalf("a feed of two queues counted %d times", h.Subscribers())
	}
	h.Publish(Alert{ID: "a", Queue: "q1"})
	h.Publish(Alert{ID: "b", Queue: "q2"})
	h.Publish(Alert{ID: "c", Queue: "q2"})
	select {
	case <-s.Lost:
	default:
		t.Fatal("not told it fell behind")
	}
	h.Publish(Alert{ID: "d", Queue: "q1"}) // must not block nor panic
	if h.Subscribers() != 0 {
		t.Errorf("dropped feed still subscribed (%d)", h.Subscribers())
	}
	s.Close() // closing after the drop is harmless
}

// TestGetOneAlert: GET /v1/queues/{queue}/alerts/{id} answers the alert
// with its desk, to a caller who may see the queue only.
func TestGetOneAlert(t *testing.T) {
	e := newEnv(t)
	wantCode(t, e.do("responder-emea", "POST", "/v1/queues/care-emea/alerts/a1/notes", `{"text":"<img src=x onerror=alert(1)>"}`), 200)
	r := wantCode(t, e.do("responder-emea", "GET", "/v1/queues/care-emea/alerts/a1", ""), 200)
	var a Alert
	if err := json.Unmarshal(r.body, &a); err != nil || a.ID != "a1" || len(a.Desk.Notes) != 1 || a.Desk.Notes[0].Text != "<img src=x onerror=alert(1)>" {
		t.Fatalf("%v %+v", err, a)
	}
	for _, c := range []struct {
		caller, path string
		code         int
	}{
		{"responder-apac", "/v1/queues/care-emea/alerts/a1", 404}, // another team's
		{"responder-emea", "/v1/queues/care-emea/alerts/b1", 404}, // not on the queue
		{"responder-emea", "/v1/queues/care-emea/alerts/nope", 404},
		{"responder-emea", "/v1/queues/care-emea/alerts/%3Cx%3E", 400},
		{"ingest", "/v1/queues/care-emea/alerts/a1", 403},
	} {
		if r := e.do(c.caller, "GET", c.path, ""); r.code != c.code {
			t.Errorf("%s as %s: %d %s, want %d", c.path, c.caller, r.code, r.body, c.code)
		}
	}
}
