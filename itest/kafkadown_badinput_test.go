//go:build integration

package itest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// privateKafka is a single-node KRaft broker of its own, from the local
// stack's jars, on free ports: it can be killed mid-run without touching
// the broker the other tests share.
type privateKafka struct {
	addr, conf, logs string
	cmd              *exec.Cmd
	exited           chan struct{}
}

func newPrivateKafka(t *testing.T) *privateKafka {
	t.Helper()
	libs := filepath.Join(root, ".local/kafka/libs")
	if _, err := os.Stat(libs); err != nil {
		t.Skipf("no Kafka jars in %s (make up installs them): %v", libs, err)
	}
	dir := t.TempDir()
	port, ctrl := freePort(t), freePort(t)
	k := &privateKafka{addr: fmt.Sprintf("127.0.0.1:%d", port), conf: filepath.Join(dir, "server.properties"), logs: filepath.Join(dir, "logs")}
	conf := fmt.Sprintf(`process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:%[2]d
listeners=PLAINTEXT://127.0.0.1:%[1]d,CONTROLLER://127.0.0.1:%[2]d
advertised.listeners=PLAINTEXT://127.0.0.1:%[1]d
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=%[3]s
num.partitions=4
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=3000
message.max.bytes=8388608
num.network.threads=1
num.io.threads=2
`, port, ctrl, filepath.Join(dir, "data"))
	if err := os.WriteFile(k.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	cid := "f" + base64.RawURLEncoding.EncodeToString(id)[1:] // never a leading '-'
	format := exec.Command("java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", libs+"/*", "kafka.tools.StorageTool", "format", "-t", cid, "-c", k.conf)
	if out, err := format.CombinedOutput(); err != nil {
		t.Fatalf("formatting the private broker's storage: %v\n%s", err, out)
	}
	k.start(t)
	t.Cleanup(k.kill)
	return k
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs the broker and waits until it accepts connections.
func (k *privateKafka) start(t *testing.T) {
	t.Helper()
	os.MkdirAll(k.logs, 0o755)
	out, err := os.OpenFile(filepath.Join(k.logs, "kafka.out"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	k.cmd = exec.Command("java", "-Xmx512m", "-Xms128m", "-XX:+UseSerialGC", "-Djava.awt.headless=true", "-Dkafka.logs.dir="+k.logs,
		"-cp", filepath.Join(root, ".local/kafka/libs")+"/*", "kafka.Kafka", k.conf)
	k.cmd.Stdout, k.cmd.Stderr = out, out
	if err := k.cmd.Start(); err != nil {
		t.Fatalf("starting the private broker: %v", err)
	}
	k.exited = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); close(done) }(k.cmd, k.exited)
	eventually(t, 2*time.Minute, "the private broker to listen on "+k.addr, func() bool {
		select {
		case <-k.exited:
			b, _ := os.ReadFile(filepath.Join(k.logs, "kafka.out"))
			t.Fatalf("the private broker exited:\n%s", tail(string(b), 3000))
		default:
		}
		c, err := net.DialTimeout("tcp", k.addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// kill ends the broker as a crash would: no clean shutdown.
func (k *privateKafka) kill() {
	if k.cmd != nil && k.cmd.Process != nil {
		k.cmd.Process.Kill()
		<-k.exited
	}
}

// TestKafkaDownMidRun: the broker dies while posts flow through ingest,
// match, enrich and sink, stays down, and comes back. No process may exit,
// every stage must wait and retry, and once the broker is back every
// matched post must reach ClickHouse exactly once (FINAL), none lost.
func TestKafkaDownMidRun(t *testing.T) {
	k := newPrivateKafka(t)
	prefix, db := fBadNames(t)
	const limit = 30_000
	cfg := writeConfig(t, setup{prefix: prefix, db: db, brokers: k.addr, rate: 2000, limit: limit})
	want := expect(t, 11, limit)
	conn := openCH(t)
	t.Cleanup(func() { conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db) }) // t.Context() is done by then
	procs := []*proc{start(t, "match", cfg), start(t, "enrich", cfg), start(t, "sink", cfg)}
	ing := start(t, "ingest", cfg)
	eventually(t, time.Minute, "the first posts in ClickHouse", func() bool {
		return count(t, conn, "SELECT count() FROM system.tables WHERE database = '"+db+"' AND name = 'posts'") == 1 &&
			count(t, conn, "SELECT count() FROM "+db+".posts") > 0
	})

	k.kill()
	before := count(t, conn, "SELECT count() FROM "+db+".posts FINAL")
	time.Sleep(15 * time.Second)
	for _, p := range append(procs, ing) {
		select {
		case <-p.done:
			t.Fatalf("%s exited while Kafka was down: %v\n%s", p.name, p.exit, tail(p.errs.String(), 2000))
		default:
		}
	}
	if !strings.Contains(ing.errs.String(), "produce failed; retrying") {
		t.Errorf("ingest did not say it was retrying:\n%s", tail(ing.errs.String(), 2000))
	}
	t.Logf("%d of %d matched posts in ClickHouse when the broker died", before, want.matched)

	k.start(t)
	ing.wait(t, 3*time.Minute)
	eventually(t, 3*time.Minute, "every matched post in ClickHouse", func() bool {
		return count(t, conn, "SELECT count() FROM "+db+".posts FINAL") >= uint64(want.matched)
	})
	for _, p := range procs {
		p.stop(t)
	}
	if got := count(t, conn, "SELECT count() FROM "+db+".posts FINAL"); got != uint64(want.matched) {
		t.Errorf("posts FINAL = %d, want %d", got, want.matched)
	}
	if n := len(readTopicAt(t, k.addr, prefix+".deadletter")); n != 0 {
		t.Errorf("%d dead letters; an outage is not bad input", n)
	}
}
