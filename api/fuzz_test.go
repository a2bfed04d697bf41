package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/earshot-dev/earshot/search"
	"github.com/earshot-dev/earshot/watchlist"
)

// FuzzDecode feeds arbitrary bodies to the request decoder for every body
// type the API takes: it must never panic, and anything it refuses is a
// 400, 413 or 415 with a message.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"id":"a","team":"t","keywords":["x"]}`, `{"if_version":1,"spec":{}}`, `{"note":"n"}`, `{"if_version":2,"note":"n"}`, `{"if_version":"ab12"}`, `{"q":"a","size":3}`,
		`{"params":{"a":"b"}}`, `{"since":"7d","spec":null}`, `{`, `[]`, `null`, `{"a":1}`, `{} {}`, "\x00", `{"id":"\ud800"}`, `{"size":1e400}`} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, body []byte, kind uint8) {
		targets := []func() any{
			func() any { return &watchlist.Spec{} }, func() any { return &EditRequest{} }, func() any { return &NoteRequest{} },
			func() any { return &search.Query{} }, func() any { return &InsightRequest{} }, func() any { return &BacktestRequest{} },
			func() any { return &ReviewRequest{} }, func() any { return &RoutingDecision{} },
		}
		v := targets[int(kind)%len(targets)]()
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		w := httptest.NewRecorder()
		r.Body = http.MaxBytesReader(w, r.Body, 512)
		e := decodeJSON(r, v, kind&0x80 != 0)
		if e == nil {
			return
		}
		switch e.Status {
		case 400, 413, 415:
		default:
			t.Fatalf("status %d for %q", e.Status, body)
		}
		if e.Message == "" || e.Code == "" {
			t.Fatalf("empty error for %q", body)
		}
		if len(body) > 512 && e.Status != 413 && e.Status != 400 {
			t.Fatalf("oversized body: %d", e.Status)
		}
	})
}
