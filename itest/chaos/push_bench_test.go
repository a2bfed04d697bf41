//go:build integration

package chaos

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkPushLatency measures what a push sender sees from `earshot run`:
// requests/s and the latency of a 202 (p50, p99), 4 senders of 10 posts a
// request. embedded: in-memory queues, no sink (a 202 waits for the whole
// pipeline, to the printed alert); kafka: over the shared broker (a 202
// waits for Kafka's acknowledgement of the posts topic). CHAOS_EARSHOT_BIN
// compares another build (an older one answering on queueing);
// PUSH_BENCH_SENDERS sets the senders (4).
func BenchmarkPushLatency(b *testing.B) {
	for _, mode := range []string{"embedded", "kafka"} {
		b.Run(mode, func(b *testing.B) { benchPush(b, mode) })
	}
}

func benchPush(b *testing.B, mode string) {
	dir := b.TempDir()
	addr, err := freeAddr()
	if err != nil {
		b.Fatal(err)
	}
	id := fmt.Sprintf("pushbench_%d", time.Now().UnixNano()%1e9)
	transport := "kind: memory"
	if mode == "kafka" {
		transport = "kind: kafka\n  kafka: {brokers: [127.0.0.1:9092], partitions: 2}"
		d := &Distributed{Brokers: "127.0.0.1:9092", ClickHouse: "127.0.0.1:9000", Prefix: "chaos." + id, DB: id}
		defer d.cleanup()
	}
	ex := filepath.Join(root, "deploy", "examples")
	cfg := filepath.Join(dir, "push.yaml")
	y := fmt.Sprintf(`transport:
  %s
  topic_prefix: chaos.%s
ingest:
  source: push
  push: {addr: %q, tenants: [{name: acme, token_env: PUSH_TOKEN}], rate: 1000000, burst: 1000000}
match: {watchlists: %q}
enrich: {clustering: "off"}
route: {policy: %q, org: %q}
`, transport, id, addr, filepath.Join(ex, "watchlists"), filepath.Join(ex, "routing.yaml"), filepath.Join(ex, "org.yaml"))
	os.WriteFile(cfg, []byte(y), 0o644)
	const token = "push-bench-token-0123456789"
	cmd := exec.Command(bin, "run", "--config", cfg, "--log-level", "warn", "--progress", "0")
	cmd.Env = append(os.Environ(), "PUSH_TOKEN="+token)
	errf, _ := os.Create(filepath.Join(dir, "stderr"))
	cmd.Stderr = errf
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	client := &http.Client{Timeout: time.Minute}
	post := func(body []byte) (int, error) {
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/posts", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if c, err := post([]byte("\n")); err == nil && c == 202 {
			break
		}
		if time.Since(start) > time.Minute {
			b.Fatalf("the push endpoint is not up (see %s)", errf.Name())
		}
	}
	body := func(r int) []byte {
		var buf bytes.Buffer
		for i := range 10 {
			fmt.Fprintf(&buf, `{"platform":"file","id":"b%d-%d","author":{"handle":"h"},"text":"my Acme phone is broken again %d","created_at":%q}`+"\n",
				r, i, r, time.Now().UTC().Format(time.RFC3339))
		}
		return buf.Bytes()
	}
	var (
		mu   sync.Mutex
		lats []time.Duration
		next int
		wg   sync.WaitGroup
	)
	b.ResetTimer()
	t0 := time.Now()
	senders, _ := strconv.Atoi(os.Getenv("PUSH_BENCH_SENDERS"))
	if senders < 1 {
		senders = 4
	}
	for range senders {
		wg.Go(func() {
			for {
				mu.Lock()
				r := next
				next++
				mu.Unlock()
				if r >= b.N {
					return
				}
				bd := body(r)
				s := time.Now()
				for {
					if c, err := post(bd); err == nil && c == 202 {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
				mu.Lock()
				lats = append(lats, time.Since(s))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	el := time.Since(t0)
	b.StopTimer()
	slices.Sort(lats)
	b.ReportMetric(float64(b.N)/el.Seconds(), "req/s")
	b.ReportMetric(float64(lats[len(lats)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds())/1000, "p99-ms")
}
