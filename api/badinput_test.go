package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestInvalidUTF8Body: encoding/json would turn a Latin-1 "é" into U+FFFD
// and store a keyword that never matches what the client typed. A body that
// is not UTF-8 is refused instead, saying where, and nothing is stored.
func TestInvalidUTF8Body(t *testing.T) {
	e := newEnv(t)
	body := "{\"id\":\"latin\",\"team\":\"greece\",\"keywords\":[\"caf\xe9\"]}"
	r := e.do("gatherer-gr", "POST", "/v1/watchlists", body)
	if want := fmt.Sprintf("invalid UTF-8 at byte %d", strings.IndexByte(body, 0xe9)); r.code != http.StatusBadRequest || r.errCode() != CodeBadRequest || !strings.Contains(string(r.body), want) {
		t.Errorf("%d %s, want 400 naming the invalid UTF-8 and its byte", r.code, r.body)
	}
	if r := e.do("gatherer-gr", "GET", "/v1/watchlists/latin", ""); r.code != http.StatusNotFound {
		t.Errorf("the watchlist was stored: %d %s", r.code, r.body)
	}
	// The same body in UTF-8 is fine.
	if r := e.do("gatherer-gr", "POST", "/v1/watchlists", `{"id":"latin","team":"greece","keywords":["café"]}`); r.code/100 != 2 {
		t.Errorf("UTF-8 body: %d %s", r.code, r.body)
	}
}
