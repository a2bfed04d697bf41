//go:build integration

package themes

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/earshot-dev/earshot/internal/localstack"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/sink"
)

// TestClickHouseReader writes two stories and noise through the sink stage
// (twice, as a redelivery would), deletes some posts as a platform would,
// and checks the themes read from ClickHouse 18.16 are those of the same
// posts held in memory (minus the deleted ones), scope by scope.
func TestClickHouseReader(t *testing.T) {
	conn, err := sink.Open(sink.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	db := fmt.Sprintf("themes_itest_%d", time.Now().UnixNano()%1e9)
	t.Cleanup(func() { // after the test's own defers: the connection must still be open
		if !t.Failed() {
			if err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db); err != nil {
				t.Errorf("dropping %s: %v", db, err)
			}
		}
		conn.Close()
	})
	checkReader(t, conn, sink.Config{Database: db})
}

// TestClickHouseReaderOnCluster is the same on the local cluster (two
// shards, Distributed tables: the sample's IN and JOIN are GLOBAL).
func TestClickHouseReaderOnCluster(t *testing.T) {
	node1, err := localstack.ClusterNode(1)
	if err != nil {
		t.Fatal(err)
	}
	c := sink.DefaultConfig()
	c.Addr, c.Cluster = []string{node1}, localstack.ClusterName
	c.Database = fmt.Sprintf("clu_themes_%d", time.Now().UnixNano()%1e9)
	conn, err := sink.Open(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+c.Database+" ON CLUSTER "+c.Cluster)
		}
		conn.Close()
	})
	checkReader(t, conn, sink.Config{Database: c.Database, Cluster: c.Cluster})
}

func checkReader(t *testing.T, conn driver.Conn, cfg sink.Config) {
	ctx := context.Background()
	db := cfg.Database
	if _, err := cfg.Schema().Migrate(ctx, conn, nil); err != nil {
		t.Fatal(err)
	}
	stage := sink.NewWith(conn, cfg, sink.Options{}).Stage()

	var mem Memory
	rng := rand.New(rand.NewPCG(21, 22))
	stories := map[string][]string{"battery": stormy, "store": store}
	truth := map[string]string{}
	corpusAt := func(from time.Time, prefix string, counts map[string]int, noise int) {
		var m Memory
		for k, v := range corpus(&m, rng, from, prefix, stories, counts, noise) {
			truth[k] = v
		}
		var items []*post.Item
		for _, mp := range m.posts {
			id := strings.TrimPrefix(mp.p.Key, "synthetic:")
			region, market := "EMEA", "Nordics" // the noise is the Nordics'
			switch truth[mp.p.Key] {
			case "store":
				region, market = "NA", "" // the store's posts are of another region, and of no market
			case "battery":
				market = "DACH"
			}
			items = append(items, &post.Item{
				Post:       &post.Post{Platform: "synthetic", ID: id, Text: mp.p.Text, CreatedAt: mp.p.CreatedAt.Truncate(time.Second), IngestedAt: mp.p.CreatedAt},
				Enrichment: &post.Enrichment{SentimentLabel: mp.p.Sentiment, Region: region, Market: market},
				Matches:    []post.Match{{Watchlist: "acme", Version: 1, Brand: "acme", Team: "care", Keywords: []string{"acme"}}},
			})
			p := mp.p
			p.CreatedAt = p.CreatedAt.Truncate(time.Second)
			mem.Add(p, Match{Watchlist: "acme", Team: "care", Region: region, Market: market})
		}
		for range 2 { // a redelivery
			if _, err := stage(ctx, post.Batch{Items: items}); err != nil {
				t.Fatal(err)
			}
		}
	}
	corpusAt(t0.Add(-week), "prev", map[string]int{"battery": 10, "store": 30}, 80)
	corpusAt(t0, "now", map[string]int{"battery": 50, "store": 30}, 120)
	// Deletes: ten battery posts of this period.
	var dels []*post.Item
	for k, s := range truth {
		if s == "battery" && strings.HasPrefix(k, "synthetic:now") && len(dels) < 10 {
			dels = append(dels, &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "synthetic", ID: strings.TrimPrefix(k, "synthetic:"), IngestedAt: t0.Add(2 * week)}})
			mem.Delete(k)
		}
	}
	if _, err := stage(ctx, post.Batch{Items: dels}); err != nil {
		t.Fatal(err)
	}

	ch := ClickHouse{Conn: conn, DB: db, Cluster: cfg.Cluster != ""}
	for _, sc := range []Scope{{}, {Watchlists: []string{"acme"}}, {Regions: []string{"EMEA"}}, {Teams: []string{"care"}, Regions: []string{"NA"}}, {Watchlists: []string{"globex"}},
		{Markets: []string{"DACH"}}, {Regions: []string{"EMEA"}, Markets: []string{"Nordics"}}, {Markets: []string{"DACH", "Nordics"}}, {Regions: []string{"NA"}, Markets: []string{"DACH"}}, {Markets: []string{`DACH') OR 1=1 --`}}} {
		got, err := DefaultOptions().Find(ctx, ch, sc, t0, t0.Add(week), 10)
		if err != nil {
			t.Fatalf("scope %+v: %v", sc, err)
		}
		want, err := DefaultOptions().Find(ctx, &mem, sc, t0, t0.Add(week), 10)
		if err != nil {
			t.Fatal(err)
		}
		if js(got) != js(want) {
			t.Errorf("scope %+v: from ClickHouse\n%s\nin memory\n%s", sc, js(got), js(want))
		}
		t.Logf("scope %+v: %d posts, %d themes", sc, got.Posts, len(got.Themes))
		for _, th := range got.Themes {
			t.Logf("  %q: %d posts, %d before", th.Label, th.Posts, th.Previous)
		}
	}
	all, _ := DefaultOptions().Find(ctx, ch, Scope{}, t0, t0.Add(week), 10)
	if len(all.Themes) != 2 || all.Posts != 190 || all.Themes[0].Posts != 40 || all.Themes[0].Previous != 10 || all.Themes[1].Posts != 30 {
		t.Errorf("all: %d posts, themes %v; want 190 posts, the battery's 40 (50 less 10 deleted, 10 before), the store's 30", all.Posts, all.Themes)
	}
	// The battery's market: its 40 posts (50 less 10 deleted), one theme.
	dach, _ := DefaultOptions().Find(ctx, ch, Scope{Markets: []string{"DACH"}}, t0, t0.Add(week), 10)
	if dach.Posts != 40 || len(dach.Themes) != 1 || dach.Themes[0].Posts != 40 {
		t.Errorf("DACH: %d posts, themes %v; want the battery's 40 only", dach.Posts, dach.Themes)
	}
	// A sample: read 50 of 190, the same twice.
	o := DefaultOptions()
	o.MaxPosts = 50
	a, err := o.Find(ctx, ch, Scope{}, t0, t0.Add(week), 10)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := o.Find(ctx, ch, Scope{}, t0, t0.Add(week), 10)
	if a.Read != 50 || a.Posts != 190 || js(a) != js(b) {
		t.Errorf("sampled: read %d of %d (want 50 of 190), or two runs differ", a.Read, a.Posts)
	}
	// The sample is exactly the 50 posts of the lowest hashes, whether the
	// server's threshold holds enough of them or is given up.
	var want []string
	rows, err := conn.Query(ctx, "SELECT post_key FROM "+db+".matches_dedup WHERE created_at >= toDateTime("+fmt.Sprint(t0.Unix())+") AND created_at < toDateTime("+fmt.Sprint(t0.Add(week).Unix())+") GROUP BY post_key ORDER BY cityHash64(post_key), post_key LIMIT 50")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		rows.Scan(&k)
		want = append(want, k)
	}
	rows.Close()
	var got []string
	if _, err := ch.Scan(ctx, Scope{}, t0, t0.Add(week), 50, 100, func(p Post) error { got = append(got, p.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sample\n%v, want the lowest hashes\n%v", got, want)
	}
	where, _ := ch.where(Scope{}, t0, t0.Add(week))
	if err := ch.read(ctx, where+" AND cityHash64(post_key) < 1000000", 50, 100, func(Post) error { t.Error("a post of a short sample was given"); return nil }, true); !errors.Is(err, errShortSample) {
		t.Errorf("a threshold that leaves too few: %v, want errShortSample", err)
	}
}
