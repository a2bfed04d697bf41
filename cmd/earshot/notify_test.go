package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/earshot-dev/earshot/pipeline"
)

// earshot run with notify channels: each queue's alerts reach its own
// channel as Block Kit messages, and no other queue's.
func TestRunNotifiesSlackPerQueue(t *testing.T) {
	type rx struct {
		mu     sync.Mutex
		queues map[string]int
		bad    []string
	}
	serve := func(r *rx) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			b, _ := io.ReadAll(req.Body)
			var msg struct {
				Blocks []struct {
					Fields []struct{ Text string } `json:"fields"`
				} `json:"blocks"`
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			if err := json.Unmarshal(b, &msg); err != nil || len(msg.Blocks) < 2 || len(msg.Blocks[1].Fields) < 2 {
				r.bad = append(r.bad, string(b))
				return
			}
			r.queues[strings.TrimPrefix(msg.Blocks[1].Fields[1].Text, "*Queue*\n")]++
		}))
	}
	legal, pr := &rx{queues: map[string]int{}}, &rx{queues: map[string]int{}}
	legalSrv, prSrv := serve(legal), serve(pr)
	defer legalSrv.Close()
	defer prSrv.Close()
	t.Setenv("EARSHOT_TEST_LEGAL_SLACK", legalSrv.URL)
	t.Setenv("EARSHOT_TEST_PR_SLACK", prSrv.URL)
	dir := t.TempDir()
	base, _ := os.ReadFile(filepath.Join(examples(t), "embedded.yaml"))
	body := strings.NewReplacer("watchlists: watchlists", "watchlists: "+filepath.Join(examples(t), "watchlists"),
		"policy: routing.yaml", "policy: "+filepath.Join(examples(t), "routing.yaml"),
		"org: org.yaml", "org: "+filepath.Join(examples(t), "org.yaml")).Replace(string(base))
	body += `
notify:
  desk_url: https://earshot.example.com
  channels:
    legal-slack: {kind: slack, url_env: EARSHOT_TEST_LEGAL_SLACK, queues: [legal], rate_limit: {messages: 1000, per: 1m}}
    pr-slack: {kind: slack, url_env: EARSHOT_TEST_PR_SLACK, queues: [pr], rate_limit: {messages: 1000, per: 1m}}
`
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte(body), 0o644)
	var out, errb bytes.Buffer
	if err := run([]string{"run", "--config", cfg, "--rate", "0", "--limit", "20000", "--quiet", "--progress", "0", "--metrics-addr", "127.0.0.1:0"}, &out, &errb); err != nil {
		t.Fatalf("run: %v\n%s", err, errb.String())
	}
	var sum pipeline.Summary
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	json.Unmarshal([]byte(lines[len(lines)-1]), &sum)
	for _, c := range []struct {
		stage, queue string
		r            *rx
	}{{"notify.legal-slack.legal", "legal", legal}, {"notify.pr-slack.pr", "pr", pr}} {
		st := sum.Stages[c.stage]
		c.r.mu.Lock()
		got := c.r.queues[c.queue]
		if st.In == 0 || got == 0 || int64(got) > st.In || st.Dead != 0 || len(c.r.bad) != 0 || len(c.r.queues) != 1 {
			t.Errorf("%s took %d alerts (%d dead letters); its channel got %d messages by queue %v, %d malformed", c.stage, st.In, st.Dead, got, c.r.queues, len(c.r.bad))
		}
		c.r.mu.Unlock()
	}
}

// A channel on a queue the policy lacks, or a Slack URL written into the
// file, is a configuration error, found before anything runs.
func TestRunRefusesBadNotifyChannels(t *testing.T) {
	t.Setenv("EARSHOT_TEST_SLACK", "http://127.0.0.1:1/hook")
	base, _ := os.ReadFile(filepath.Join(examples(t), "embedded.yaml"))
	body := strings.NewReplacer("watchlists: watchlists", "watchlists: "+filepath.Join(examples(t), "watchlists"),
		"policy: routing.yaml", "policy: "+filepath.Join(examples(t), "routing.yaml"),
		"org: org.yaml", "org: "+filepath.Join(examples(t), "org.yaml")).Replace(string(base))
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown queue": {"notify:\n  channels:\n    x: {kind: slack, url_env: EARSHOT_TEST_SLACK, queues: [globex-care]}\n", `"globex-care" is not a queue of the routing policy`},
		"inline url":    {"notify:\n  channels:\n    x: {kind: slack, url: 'https://hooks.slack.com/services/T/B/X', queues: [legal]}\n", "credential"},
	} {
		cfg := filepath.Join(t.TempDir(), "c.yaml")
		os.WriteFile(cfg, []byte(body+"\n"+tc.yaml), 0o644)
		var out, errb bytes.Buffer
		err := run([]string{"run", "--config", cfg, "--rate", "0", "--limit", "10", "--quiet", "--progress", "0"}, &out, &errb)
		if err == nil || !errors.Is(err, pipeline.ErrConfig) || !strings.Contains(err.Error()+errb.String(), tc.want) {
			t.Errorf("%s: %v (%s), want a configuration error about %s", name, err, errb.String(), tc.want)
		}
		if strings.Contains(err.Error()+errb.String(), "hooks.slack.com/services") {
			t.Errorf("%s: the error repeats the webhook URL", name)
		}
	}
}
