//go:build integration

package chaos

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/sink"
)

// TestGroupOffsetsNamesAStalledGroup: what diagnose logs shows a group
// that read a topic only part way, with its lag.
func TestGroupOffsetsNamesAStalledGroup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	prefix := fmt.Sprintf("chaosdiag.%d", time.Now().UnixNano()%1e9)
	topic, group := prefix+".in", prefix+".match"
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP("127.0.0.1:9092"), Transport: tr}
	if _, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: 1, ReplicationFactor: 1}}}); err != nil {
		t.Fatal(err)
	}
	defer client.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: []string{topic}})
	w := &kafka.Writer{Addr: kafka.TCP("127.0.0.1:9092"), Topic: topic, Transport: tr}
	if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("a")}, kafka.Message{Value: []byte("b")}, kafka.Message{Value: []byte("c")}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := client.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: group, GenerationID: -1, Topics: map[string][]kafka.OffsetCommit{topic: {{Partition: 0, Offset: 2}}}}); err != nil {
		t.Fatal(err)
	}
	lines, err := groupOffsets(ctx, "127.0.0.1:9092", prefix)
	if err != nil {
		t.Fatal(err)
	}
	want := group + " " + topic + "/0: committed 2 of end 3 (lag 1)"
	if strings.Join(lines, "\n") != want {
		t.Errorf("got %q, want %q", lines, want)
	}
}

// TestDiagnoseLogsQueuesDeadLettersAndDumps: what diagnose logs on a lost
// alert: the alerts stored per queue, the dead letters the reference run
// did not have, and that each live stage was asked for a goroutine dump.
func TestDiagnoseLogsQueuesDeadLettersAndDumps(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id := fmt.Sprintf("chaosdiag_%d", time.Now().UnixNano()%1e9)
	c := sink.DefaultConfig()
	c.Addr = []string{"127.0.0.1:9000"}
	conn, err := sink.Open(c)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		"CREATE DATABASE " + id,
		"CREATE TABLE " + id + ".alerts (alert_id String, queue String) ENGINE = ReplacingMergeTree ORDER BY alert_id",
		"INSERT INTO " + id + ".alerts SELECT x.1, x.2 FROM (SELECT arrayJoin([('a', 'legal'), ('b', 'legal'), ('c', 'pr')]) AS x)",
	} {
		if err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	defer conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+id)
	d := &Distributed{Embedded: Embedded{Dir: t.TempDir()}, Brokers: "127.0.0.1:9092", ClickHouse: "127.0.0.1:9000", Prefix: "chaosdiag." + id, DB: id}
	p := &stageProc{name: "sink", done: make(chan struct{}), cmd: exec.Command("sleep", "60")}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	var logs []string
	d.diagnose(ctx, map[string]*stageProc{"sink": p}, map[string]bool{"known": true, "sink: gave up": true}, map[string]bool{"known": true}, func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) })
	all := strings.Join(logs, "\n")
	for _, want := range []string{"queue legal: 2 alerts stored", "queue pr: 1 alerts stored", "not in the reference run: sink: gave up", "1 dead letters not in the reference run"} {
		if !strings.Contains(all, want) {
			t.Errorf("diagnose logged no %q:\n%s", want, all)
		}
	}
	if !p.exited() {
		t.Error("the stage was not signalled")
	}
}
