//go:build integration

package itest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream"
)

// TestAPIDistributed runs `earshot api` alone against the real Kafka and
// ClickHouse: ready once both answer, the insight cookbook runs on the
// database, and an alert produced on a queue's topic reaches a live feed.
func TestAPIDistributed(t *testing.T) {
	prefix, db := names(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	migratedDB(t, db)
	k := mustKafka(t, stream.DefaultKafkaConfig(), prefix+".deadletter", apiTestLogger())
	defer k.Close()
	if err := k.EnsureTopics(ctx, prefix+".alerts.care", prefix+".alerts.pr", prefix+".alerts.legal"); err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cfg := writeConfig(t, setup{prefix: prefix, db: db, rate: 1, limit: 1})
	f, _ := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(f, "api:\n  addr: %s\n  state_dir: %s\n", addr, t.TempDir())
	f.Close()

	token := func(role string) string {
		out, err := exec.Command(bin, "token", "create", "--config", cfg, "--by", "itest", "--name", role+"-it", "--role", role).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	analyst, responder := token("analyst"), token("responder")

	cmd := exec.Command(bin, "api", "--config", cfg)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		if t.Failed() {
			t.Logf("earshot api stderr:\n%s", tail(stderr.String(), 3000))
		}
	}()
	call := func(tok, method, path, body string) (int, []byte) {
		req, _ := http.NewRequestWithContext(ctx, method, "http://"+addr+path, strings.NewReader(body))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, []byte(err.Error())
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	eventually(t, 30*time.Second, "earshot api ready", func() bool {
		code, body := call("", "GET", "/readyz", "")
		return code == 200 && strings.Contains(string(body), `"kafka":"ok"`) && strings.Contains(string(body), `"clickhouse":"ok"`)
	})
	code, body := call(analyst, "GET", "/v1/insights", "")
	var list struct {
		Items []struct{ Name string }
	}
	if json.Unmarshal(body, &list); code != 200 || len(list.Items) < 5 {
		t.Fatalf("insights: %d %s", code, body)
	}
	if code, body := call(analyst, "POST", "/v1/insights/alert_events_by_queue", `{"params":{"since":"1d"}}`); code != 200 || !strings.Contains(string(body), `"columns":["queue"`) {
		t.Fatalf("run: %d %s", code, body)
	}
	if code, body := call(analyst, "POST", "/v1/insights/alert_events_by_queue", `{"params":{"since":"yesterday-ish"}}`); code != 400 {
		t.Fatalf("bad param: %d %s", code, body)
	}

	// The live feed of care, from the queue's topic.
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/v1/queues/care/stream", nil)
	req.Header.Set("Authorization", "Bearer "+responder)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("stream: %v %v", err, res)
	}
	defer res.Body.Close()
	events := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
				events <- id
			}
		}
	}()
	w := &kafka.Writer{Addr: kafka.TCP(kafkaAddr), Topic: prefix + ".alerts.care", RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	var got string
	for i := 0; got == ""; i++ {
		it := &post.Item{Post: &post.Post{Platform: "x", ID: fmt.Sprint(i), Text: "acme", CreatedAt: time.Now()},
			Alert: &post.Alert{ID: fmt.Sprintf("dist-%d", i), Queue: "care", Priority: "P2", Rule: "care", CreatedAt: time.Now()}}
		b, _ := post.Encode(nil, it)
		if err := w.WriteMessages(ctx, kafka.Message{Value: b}); err != nil {
			t.Fatal(err)
		}
		select {
		case got = <-events:
		case <-time.After(time.Second):
		case <-ctx.Done():
			t.Fatal("no alert reached the live feed")
		}
	}
	if !strings.HasPrefix(got, "dist-") {
		t.Fatalf("event id %q", got)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("earshot api exited with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("earshot api did not stop within 20s of SIGTERM")
	}
}
