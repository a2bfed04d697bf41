//go:build integration

package chaos

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/sink"
)

// TestPushKillLosesNoAccepted: senders push posts with an Idempotency-Key
// and retry each request until it is answered 202, while the process
// holding the push endpoint is killed (SIGKILL) at random moments and
// restarted. Every post of a request answered 202 must end in ClickHouse:
// a 202 means the posts were handed on durably (Kafka acknowledged them;
// in embedded mode, the sink stored them), not that they were queued in
// memory. Embedded (`earshot run`, in-memory queues), distributed
// (`earshot run` over Kafka) and fused (`earshot ingest --with
// match,enrich`, with `earshot sink` on its own).
func TestPushKillLosesNoAccepted(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:9092", "127.0.0.1:9000"} {
		if c, err := net.DialTimeout("tcp", addr, 2*time.Second); err != nil {
			t.Fatalf("the push kill test needs Kafka and ClickHouse: %v (run `make up`)", err)
		} else {
			c.Close()
		}
	}
	for _, mode := range []string{"embedded", "kafka", "fused"} {
		t.Run(mode, func(t *testing.T) { pushKill(t, mode) })
	}
}

func pushKill(t *testing.T, mode string) {
	const (
		requests = 200 // of perReq posts each
		perReq   = 10
		senders  = 4
		kills    = 4
	)
	id := fmt.Sprintf("push_%s_%d", mode, time.Now().UnixNano()%1e9)
	dir := t.TempDir()
	KeepOnFailure(t, dir)
	d := &Distributed{Embedded: Embedded{Root: root, Dir: dir}, Brokers: "127.0.0.1:9092", ClickHouse: "127.0.0.1:9000", Prefix: "chaos." + id, DB: id}
	defer func() {
		if err := d.cleanup(); err != nil {
			t.Logf("cleaning up: %v", err)
		}
	}()
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	ex := filepath.Join(root, "deploy", "examples")
	transport := "kind: memory"
	if mode != "embedded" {
		transport = "kind: kafka\n  kafka: {brokers: [127.0.0.1:9092], partitions: 2, session_timeout: 6s}"
	}
	cfg := filepath.Join(dir, "push.yaml")
	y := fmt.Sprintf(`transport:
  %s
  topic_prefix: %s
ingest:
  source: push
  push:
    addr: %q
    tenants: [{name: acme, token_env: PUSH_TOKEN}]
    rate: 100000
    burst: 100000
match:
  watchlists: %q
enrich:
  clustering: "off"
route:
  policy: %q
  org: %q
sink:
  enabled: true
  addr: [127.0.0.1:9000]
  database: %s
  username: earshot_writer
  password: earshot
  flush_interval: 200ms
runner:
  shutdown_timeout: 5s
`, transport, d.Prefix, addr, filepath.Join(ex, "watchlists"), filepath.Join(ex, "routing.yaml"), filepath.Join(ex, "org.yaml"), d.DB)
	if err := os.WriteFile(cfg, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	const token = "push-kill-token-0123456789"
	start := func(args ...string) *stageProc {
		errf, err := os.OpenFile(filepath.Join(dir, args[0]+".stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		p := &stageProc{name: args[0], done: make(chan struct{}), stderr: errf}
		p.cmd = exec.Command(bin, append(args, "--config", cfg, "--log-level", "warn", "--progress", "0")...)
		p.cmd.Stderr = errf // stdout (the alerts of `earshot run`) is discarded
		p.cmd.Env = append(os.Environ(), "PUSH_TOKEN="+token)
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { p.err = p.cmd.Wait(); errf.Close(); close(p.done) }()
		return p
	}
	holder := []string{"run"}
	var others []*stageProc
	if mode == "fused" {
		holder = []string{"ingest", "--with", "match,enrich", "--metrics-addr", "127.0.0.1:0"}
		others = append(others, start("sink", "--metrics-addr", "127.0.0.1:0"))
	}
	var mu sync.Mutex
	proc := start(holder...)
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range append(others, proc) {
			p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(30 * time.Second):
				p.cmd.Process.Kill()
				<-p.done
			}
		}
	}()

	// The senders: each request retried, with its key, until it is a 202.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var (
		accepted  = map[string]bool{} // post ids of requests answered 202
		answered  = make([]time.Time, requests)
		nextReq   = 0
		sendersWG sync.WaitGroup
		client    = &http.Client{Timeout: 30 * time.Second}
	)
	body := func(r int) ([]byte, []string) {
		var b bytes.Buffer
		var ids []string
		for i := range perReq {
			id := fmt.Sprintf("k%05d", r*perReq+i)
			ids = append(ids, id)
			fmt.Fprintf(&b, `{"platform":"file","id":%q,"author":{"handle":"h%d"},"text":"my Acme phone is broken again %s, worst experience ever","created_at":%q}`+"\n",
				id, i, id, time.Now().Add(-time.Minute).UTC().Format(time.RFC3339))
		}
		return b.Bytes(), ids
	}
	for range senders {
		sendersWG.Go(func() {
			for {
				mu.Lock()
				r := nextReq
				nextReq++
				mu.Unlock()
				if r >= requests {
					return
				}
				b, ids := body(r)
				for ctx.Err() == nil {
					req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/v1/posts", bytes.NewReader(b))
					req.Header.Set("Authorization", "Bearer "+token)
					req.Header.Set("Idempotency-Key", fmt.Sprint("req-", r))
					res, err := client.Do(req)
					if err == nil {
						res.Body.Close()
						if res.StatusCode == http.StatusAccepted {
							mu.Lock()
							for _, id := range ids {
								accepted[id] = true
							}
							answered[r] = time.Now()
							mu.Unlock()
							break
						}
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	// The killer: SIGKILL at a random moment, while requests are answered,
	// and a restart at once.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var lastKill time.Time
	for k := 0; k < kills && ctx.Err() == nil; k++ {
		// wait until a share of the requests is answered, then a random
		// while: the kills are spread over the run and land among
		// requests in flight
		t0 := time.Now()
		for {
			mu.Lock()
			n := 0
			for _, a := range answered {
				if !a.IsZero() {
					n++
				}
			}
			mu.Unlock()
			if n >= requests*(k+1)/(kills+1) || ctx.Err() != nil {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
		mu.Lock()
		proc.cmd.Process.Signal(syscall.SIGKILL)
		<-proc.done
		lastKill = time.Now()
		proc = start(holder...)
		mu.Unlock()
		t.Logf("SIGKILL %d of %s at %s", k+1, holder[0], time.Since(t0).Round(time.Millisecond))
	}
	sendersWG.Wait()
	if ctx.Err() != nil {
		t.Fatalf("the senders did not get every request answered 202 in time (see %s)", dir)
	}
	before := 0
	for _, a := range answered {
		if a.Before(lastKill) {
			before++
		}
	}
	if before == 0 {
		t.Fatalf("no request was answered before the last kill: the test proved nothing")
	}

	// Every accepted post must be (or soon be) in ClickHouse.
	c := sink.DefaultConfig()
	c.Addr = []string{d.ClickHouse}
	conn, err := sink.Open(c)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var missing []string
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(time.Second) {
		stored := map[string]bool{}
		rows, err := conn.Query(ctx, "SELECT post_key FROM "+d.DB+".posts")
		if err == nil {
			for rows.Next() {
				var k string
				if rows.Scan(&k) == nil {
					stored[k[strings.LastIndexByte(k, ':')+1:]] = true
				}
			}
			rows.Close()
		}
		missing = missing[:0]
		for id := range accepted {
			if !stored[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("%s: %d posts accepted (%d requests answered before the last of %d kills), %d missing", mode, len(accepted), before, kills, len(missing))
	if len(missing) > 0 {
		t.Errorf("%d posts answered 202 are not stored, e.g. %v", len(missing), missing[:min(5, len(missing))])
	}
}
