package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// With near-duplicate clustering on, copies of one complaint are one
// incident alert. When every post behind it is deleted — the first before
// the copies came (its alert retracted, then raised again by a copy), the
// others one by one — the incident ends retracted; an incident with a post
// left stays open.
func TestIncidentRetractedWhenAllItsPostsAreDeleted(t *testing.T) {
	at := time.Now().UTC().Add(-10 * time.Minute)
	var lines []string
	n := 0
	add := func(id, text string) {
		n++
		lines = append(lines, fmt.Sprintf(`{"platform":"file","id":%q,"author":{"handle":"a%d"},"text":%q,"created_at":%q}`, id, n, text, at.Add(time.Duration(n)*time.Second).Format(time.RFC3339)))
	}
	del := func(id string) { lines = append(lines, fmt.Sprintf(`{"platform":"file","id":%q,"kind":"delete"}`, id)) }
	const gone = "my Acme phone is broken again, worst experience ever"
	const kept = "Acme support refused my refund for the laptop, terrible service, never again"
	add("g1", gone)
	del("g1")
	add("g2", gone)
	add("g3", gone)
	add("g4", gone)
	del("g2")
	del("g4")
	del("g3")
	add("k1", kept)
	add("k2", kept)
	del("k1")
	cfg := fileConfig(t, lines)
	cfg.Enrich.Clustering = "on"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var mu sync.Mutex
	type state struct {
		retracted bool
		group     byte // 'g' or 'k': the text of the posts that raised it
		incident  bool
	}
	last := map[string]*state{} // alert id → as of the last record seen
	taps := Taps{Alert: func(it *post.Item) {
		mu.Lock()
		defer mu.Unlock()
		s := last[it.Alert.ID]
		if s == nil {
			s = &state{group: it.Post.ID[0]}
			last[it.Alert.ID] = s
		}
		s.retracted = it.Alert.Retracted
		s.incident = s.incident || it.Alert.Incident != ""
		if s.group != it.Post.ID[0] {
			t.Errorf("alert %s stands for posts %c and %s", it.Alert.ID, s.group, it.Post.ID)
		}
	}}
	p, err := New(ctx, cfg, AllStages, taps, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if len(last) != 2 {
		t.Fatalf("%d alerts, want 2 (one incident per text)", len(last))
	}
	for id, s := range last {
		if !s.incident {
			t.Errorf("alert %s (posts %c…) never became an incident: are the copies not clustered?", id, s.group)
		}
		if want := s.group == 'g'; s.retracted != want {
			t.Errorf("alert %s (posts %c…): retracted %v, want %v", id, s.group, s.retracted, want)
		}
	}
}
