//go:build integration

package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/insights/themes"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/sink"
	"github.com/earshot-dev/earshot/watchlist"
)

// TestThemesOnClickHouse: two tenants' posts written through the sink into
// the real ClickHouse the API reads; each tenant's analyst sees the themes
// of its own watchlist only, and SQL in a parameter is a plain value.
func TestThemesOnClickHouse(t *testing.T) {
	ctx := context.Background()
	conn, db := scratchDB(t, "i_themes")
	t0 := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
	var items []*post.Item
	for i := range 20 {
		items = append(items,
			&post.Item{Post: &post.Post{Platform: "x", ID: fmt.Sprint("gr", i), Text: fmt.Sprintf("acme battery drains overnight, day %d", i%3), CreatedAt: t0.Add(time.Duration(i) * time.Minute)},
				Matches:    []post.Match{{Watchlist: "acme-gr", Version: 1, Team: "greece", Keywords: []string{"acme"}}},
				Enrichment: &post.Enrichment{SentimentLabel: "negative", Region: "EMEA"}},
			&post.Item{Post: &post.Post{Platform: "x", ID: fmt.Sprint("ap", i), Text: fmt.Sprintf("secret apac merger talks leaked, week %d", i%3), CreatedAt: t0.Add(time.Duration(i) * time.Minute)},
				Matches:    []post.Match{{Watchlist: "apac-list", Version: 1, Team: "apac", Keywords: []string{"apac"}}},
				Enrichment: &post.Enrichment{SentimentLabel: "neutral", Region: "APAC"}})
	}
	if out, err := sink.New(conn, db).Stage()(ctx, post.Batch{Items: items}); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("storing posts: %v %+v", err, out.Rejected)
	}

	ts, tok := scopedServer(t, []watchlist.Spec{
		{ID: "acme-gr", Team: "greece", Regions: []string{"EMEA"}, Keywords: []string{"acme"}},
		{ID: "apac-list", Team: "apac", Regions: []string{"APAC"}, Keywords: []string{"apac"}},
	}, Deps{Themes: themes.Bound{Reader: themes.ClickHouse{Conn: conn, DB: db}, Options: themes.DefaultOptions()}}, map[string]NewToken{
		"anna": {Name: "anna", Role: Analyst, Scope: Scope{Teams: []string{"greece"}}},
		"chen": {Name: "chen", Role: Analyst, Scope: Scope{Teams: []string{"apac"}}},
		"ann":  {Name: "ann", Role: Analyst},
	})
	get := func(who, query string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.URL+"/v1/insights/themes?since=7d&"+query, nil)
		req.Header.Set("Authorization", "Bearer "+tok[who])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, c := range []struct {
		who, query string
		code       int
		want, not  string
	}{
		{"anna", "", 200, "battery drains overnight", "merger"},
		{"chen", "", 200, "merger talks leaked", "battery"},
		{"ann", "", 200, "battery drains overnight", ""},
		{"anna", "watchlist=apac-list", 404, "", "merger"},
		{"chen", "watchlist=acme-gr", 404, "", "battery"},
	} {
		code, body := get(c.who, c.query)
		if code != c.code || !strings.Contains(body, c.want) || c.not != "" && strings.Contains(body, c.not) {
			t.Errorf("%s %q: %d %s", c.who, c.query, code, body)
		}
	}
	var all struct {
		Themes []themes.Theme `json:"themes"`
		Posts  int64          `json:"posts"`
	}
	if _, body := get("ann", ""); json.Unmarshal([]byte(body), &all) != nil || all.Posts != 40 || len(all.Themes) != 2 {
		t.Errorf("unscoped: %s", body)
	}
	// SQL in a scope value is a value: nothing found, nothing dropped.
	for _, v := range []string{`acme-gr' OR 1=1 --`, `'); DROP TABLE ` + db + `.posts; --`, `acme-gr\' OR 1=1 --`} {
		code, body := get("ann", "watchlist="+url.QueryEscape(v)+"&region="+url.QueryEscape(v)+"&team="+url.QueryEscape(v))
		if code != 200 || !strings.Contains(body, `"posts":0`) {
			t.Errorf("watchlist %q: %d %s", v, code, body)
		}
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".posts").Scan(&n); err != nil || n != 40 {
		t.Errorf("posts after the injections: %d %v", n, err)
	}
}
