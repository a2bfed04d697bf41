package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/internal/testsvc"
	"github.com/earshot-dev/earshot/post"
)

// TestAlertmanagerItself posts to a real Alertmanager (internal/testsvc): the alert is accepted
// and listed with its labels, a retraction of a post dated ahead is
// accepted too, and the rate limit's digest is listed.
func TestAlertmanagerItself(t *testing.T) {
	base := testsvc.Alertmanager(t)
	n, err := New(Config{DeskURL: "https://earshot.example.com", Channels: map[string]Channel{
		"am": {Kind: Alertmanager, URL: base, Queues: []string{"q"}, MaxAttempts: 1, RateLimit: RateLimit{Messages: 1, Per: time.Second}},
	}}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	type listed struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		EndsAt      time.Time         `json:"endsAt"`
	}
	alerts := func() map[string]listed {
		res, err := http.Get(base + "/api/v2/alerts")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var as []listed
		json.NewDecoder(res.Body).Decode(&as)
		out := map[string]listed{}
		for _, a := range as {
			out[a.Labels["alertname"]+"/"+a.Labels["alert_id"]] = a
		}
		return out
	}
	stage := n.Stage("am", "q")
	it := alert("1", "q", "P2", "<b>our app</b> is down \"again\" \x00 "+worst()[:5000])
	it.Alert.CreatedAt = time.Now().Add(time.Hour) // a post dated ahead: its retraction must still be accepted
	if out, err := stage(context.Background(), post.Batch{Items: []*post.Item{it, alert("2", "q", "P2", "held back")}}); err != nil || len(out.Rejected) != 0 {
		t.Fatalf("posting: %v %+v", err, out.Rejected)
	}
	a, ok := alerts()["EarshotAlert/a-1"]
	if !ok || a.Labels["queue"] != "q" || a.Labels["priority"] != "P2" || a.Annotations["desk_url"] != "https://earshot.example.com/ui/desk?alert=a-1" {
		t.Fatalf("alertmanager lists %v", alerts())
	}
	retract := alert("1", "q", "P2", "")
	retract.Alert.Retracted, retract.Alert.CreatedAt = true, it.Alert.CreatedAt
	if out, err := stage(context.Background(), post.Batch{Items: []*post.Item{retract}}); err != nil || len(out.Rejected) != 0 {
		t.Fatalf("retracting: %v %+v", err, out.Rejected)
	}
	if a, ok := alerts()["EarshotAlert/a-1"]; ok && (a.EndsAt.IsZero() || a.EndsAt.After(it.Alert.CreatedAt.Add(time.Second))) {
		t.Errorf("the retraction did not end the alert: endsAt %v", a.EndsAt)
	}
	time.Sleep(time.Second) // the digest of the held-back alert is due
	n.Flush(context.Background())
	if got := alerts(); got["EarshotDigest/"].Labels["channel"] != "am" {
		t.Errorf("no digest listed: %v", got)
	}
}
