package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkNotifyLatencyP1 runs the embedded pipeline for 10 s at 10,000
// posts/s with legal's P1 alerts going both to a webhook (the baseline) and
// to a notify channel (Alertmanager kind, whose startsAt is the time route
// raised the alert), and reports how long after route each reached its
// local receiver: p50 and p99 in ms.
func BenchmarkNotifyLatencyP1(b *testing.B) {
	type rec struct {
		mu  sync.Mutex
		lat []time.Duration
	}
	var notified, hooked rec
	am := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		var as []struct {
			StartsAt time.Time         `json:"startsAt"`
			Labels   map[string]string `json:"labels"`
		}
		json.NewDecoder(r.Body).Decode(&as)
		notified.mu.Lock()
		for _, a := range as {
			if a.Labels["priority"] == "P1" {
				notified.lat = append(notified.lat, now.Sub(a.StartsAt))
			}
		}
		notified.mu.Unlock()
	}))
	defer am.Close()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		body, _ := io.ReadAll(r.Body)
		var it struct {
			Alert struct {
				CreatedAt time.Time `json:"created_at"`
				Priority  string
			} `json:"alert"`
		}
		json.Unmarshal(body, &it)
		hooked.mu.Lock()
		if it.Alert.Priority == "P1" {
			hooked.lat = append(hooked.lat, now.Sub(it.Alert.CreatedAt))
		}
		hooked.mu.Unlock()
	}))
	defer hook.Close()
	b.Setenv("EARSHOT_TEST_SECRET", "s3cret")
	base, _ := os.ReadFile(filepath.Join(examples(b), "embedded.yaml"))
	body := strings.NewReplacer("watchlists: watchlists", "watchlists: "+filepath.Join(examples(b), "watchlists"),
		"policy: routing.yaml", "policy: "+filepath.Join(examples(b), "routing.yaml"),
		"org: org.yaml", "org: "+filepath.Join(examples(b), "org.yaml")).Replace(string(base))
	body += "\nwebhook:\n  endpoints:\n    legal: {url: " + hook.URL + ", secret_env: EARSHOT_TEST_SECRET}\n" +
		"notify:\n  channels:\n    legal-am: {kind: alertmanager, url: " + am.URL + ", queues: [legal], min_priority: P1, rate_limit: {messages: 1000, per: 1s}}\n"
	cfg := filepath.Join(b.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte(body), 0o644)
	var rate float64
	for b.Loop() {
		var out, errb bytes.Buffer
		if err := run([]string{"run", "--config", cfg, "--rate", "10000", "--duration", "10s", "--quiet", "--progress", "0", "--metrics-addr", "127.0.0.1:0"}, &out, &errb); err != nil {
			b.Fatalf("run: %v\n%s", err, errb.String())
		}
		var sum struct {
			PostsPerSec float64 `json:"posts_per_sec"`
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		json.Unmarshal([]byte(lines[len(lines)-1]), &sum)
		rate = sum.PostsPerSec
	}
	pct := func(r *rec, q float64) float64 {
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.lat) == 0 {
			return -1
		}
		s := slices.Clone(r.lat)
		slices.Sort(s)
		return float64(s[min(len(s)-1, int(q*float64(len(s))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(rate, "posts/s")
	b.ReportMetric(float64(len(notified.lat)), "notified")
	b.ReportMetric(float64(len(hooked.lat)), "webhooked")
	b.ReportMetric(pct(&notified, 0.5), "notify-p50-ms")
	b.ReportMetric(pct(&notified, 0.99), "notify-p99-ms")
	b.ReportMetric(pct(&hooked, 0.5), "webhook-p50-ms")
	b.ReportMetric(pct(&hooked, 0.99), "webhook-p99-ms")
}
