package ingest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/post"
)

// pushed returns what the push endpoint passes on for body, sent as tenant
// (whose token is tenant+"-token-0123456789").
func pushed(t *testing.T, p *Push, tenant, body string) []*post.Item {
	t.Helper()
	w, b := p.send(pushReq{token: tenant + "-token-0123456789", body: []byte(body)})
	if w.Code != 202 {
		t.Fatalf("push as %s: %d %s", tenant, w.Code, w.Body.String())
	}
	if len(b.Rejected) != 0 {
		t.Fatalf("push as %s: %+v", tenant, b.Rejected)
	}
	return b.Items
}

// TestPushTenantKeySpace: a push tenant's posts are keyed in the tenant's
// own name space, so a tenant can neither take a platform id first (and
// have the connector's post refused as the same id from another source)
// nor reach another tenant's or a connector's post by its id; its own
// deletes, by the id it sent or the id it reads back, reach its own post.
func TestPushTenantKeySpace(t *testing.T) {
	p := testPush(t, nil)
	const line = `{"platform":"bluesky","id":"3kabc","text":"acme lawsuit filed","created_at":"2026-11-01T10:00:00Z"}` + "\n"
	acme := pushed(t, p, "acme", line)[0].Post
	globex := pushed(t, p, "globex", line)[0].Post
	if acme.Key() == "bluesky:3kabc" || acme.Key() == globex.Key() {
		t.Errorf("keys: acme %q, globex %q; want each in its tenant's name space, apart from the platform's bluesky:3kabc", acme.Key(), globex.Key())
	}
	if acme.Platform != "bluesky" || !strings.HasSuffix(acme.ID, "3kabc") {
		t.Errorf("acme's post: platform %q id %q, want the platform and the id it sent", acme.Platform, acme.ID)
	}
	del := func(tenant, id string) *post.Post {
		return pushed(t, p, tenant, `{"platform":"bluesky","id":"`+id+`","kind":"delete"}`+"\n")[0].Post
	}
	if k := del("acme", "3kabc").Key(); k != acme.Key() {
		t.Errorf("acme's delete of the id it sent: key %q, want its post's %q", k, acme.Key())
	}
	if k := del("acme", acme.ID).Key(); k != acme.Key() {
		t.Errorf("acme's delete of the id it reads back: key %q, want its post's %q", k, acme.Key())
	}
	if k := del("globex", acme.ID).Key(); k == acme.Key() {
		t.Errorf("globex's delete of acme's id %q reaches acme's post", acme.ID)
	}

	// The match stage: acme's post first, then the connector's post of the
	// same platform id with other text, which must pass (it was refused
	// as the same id again from another source).
	m, err := match.New([]*match.Watchlist{{ID: "legal", Version: 1, Status: "live", Rule: "acme AND lawsuit"}})
	if err != nil {
		t.Fatal(err)
	}
	stage := m.Stage()
	real := &post.Item{Post: &post.Post{Platform: "bluesky", ID: "3kabc", Text: "acme lawsuit: the real post", CreatedAt: time.Now(), Source: "jetstream:wss://jetstream1.us-east.bsky.network/subscribe"}}
	for _, it := range []*post.Item{{Post: acme}, real, {Post: globex}} {
		out, err := stage(context.Background(), post.Batch{Items: []*post.Item{it}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Rejected) != 0 || len(out.Items) != 1 {
			t.Errorf("%s from %s: refused %+v, want it passed on", it.Post.Key(), it.Post.Source, out.Rejected)
		}
	}
}

// TestPushTenantNameBounded: a tenant's name prefixes every id it sends,
// so a huge one is refused at start.
func TestPushTenantNameBounded(t *testing.T) {
	cfg := DefaultPushConfig()
	cfg.Tenants = []PushTenant{{Name: strings.Repeat("a", 1<<20), TokenEnv: "PUSH_TOKEN_ACME"}}
	t.Setenv("PUSH_TOKEN_ACME", "acme-token-0123456789")
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "at most 128") {
		t.Errorf("a tenant named with 1 MiB: %v", err)
	}
}
