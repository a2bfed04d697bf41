//go:build integration

// Package itest runs earshot's processes against the real Kafka broker and
// ClickHouse server that `make up` starts.
package itest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/enrich"
	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/internal/secret"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/route"
	"github.com/earshot-dev/earshot/sink"
	"github.com/earshot-dev/earshot/stream"
)

const (
	kafkaAddr      = "127.0.0.1:9092"
	clickhouseAddr = "127.0.0.1:9000"
)

var (
	bin  string // the earshot binary under test
	root string // the repository
)

func TestMain(m *testing.M) {
	wd, _ := os.Getwd()
	root = filepath.Dir(wd)
	dir, err := os.MkdirTemp("", "earshot-itest")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "earshot")
	build := exec.Command("go", "build", "-o", bin, "./cmd/earshot")
	build.Dir, build.Stdout, build.Stderr = root, os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building earshot:", err)
		os.Exit(1)
	}
	for _, addr := range []string{kafkaAddr, clickhouseAddr} {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			fmt.Fprintf(os.Stderr, "integration tests need Kafka and ClickHouse: %v (run `make up`)\n", err)
			os.Exit(1)
		}
		c.Close()
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// names returns a topic prefix and database name unique to this test run.
func names(t *testing.T) (prefix, db string) {
	id := fmt.Sprintf("%s_%d", strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name())), time.Now().UnixNano()%1e9)
	prefix, db = "it."+id, "it_"+id
	// Registered first, so it runs last: after the test's processes and
	// connections have stopped.
	t.Cleanup(func() { dropTestData(t, prefix, db) })
	return prefix, db
}

// dropTestData removes what a passing test left on the shared local
// stack: its ClickHouse database and its Kafka topics (prefix.*). A failing
// test's are kept, to be looked at.
func dropTestData(t *testing.T, prefix, db string) {
	if t.Failed() {
		t.Logf("kept for a look: database %s, topics %s.*", db, prefix)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := sink.DefaultConfig()
	c.Addr = []string{clickhouseAddr}
	if conn, err := sink.Open(c); err == nil {
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			t.Logf("dropping %s: %v", db, err)
		}
		conn.Close()
	}
	cl := &kafka.Client{Addr: kafka.TCP(kafkaAddr), Timeout: 10 * time.Second}
	md, err := cl.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		t.Logf("listing topics to drop: %v", err)
		return
	}
	var topics []string
	for _, tp := range md.Topics {
		if strings.HasPrefix(tp.Name, prefix+".") {
			topics = append(topics, tp.Name)
		}
	}
	if len(topics) == 0 {
		return
	}
	if _, err := cl.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: topics}); err != nil {
		t.Logf("dropping topics %s.*: %v", prefix, err)
	}
}

type setup struct {
	prefix, db  string
	brokers     string // what the processes dial for Kafka
	clickhouse  string // what the processes dial for ClickHouse
	source      string // ingest section
	rate, limit int
	maxMessage  int // transport.kafka.max_message_bytes; 0 is the default
}

// writeConfig writes a distributed config and returns its path.
func writeConfig(t *testing.T, s setup) string {
	t.Helper()
	if s.brokers == "" {
		s.brokers = kafkaAddr
	}
	if s.clickhouse == "" {
		s.clickhouse = clickhouseAddr
	}
	if s.source == "" {
		s.source = fmt.Sprintf("source: synthetic\n  synthetic: {rate: %d, seed: 11, limit: %d, brand_rate: 0.1}", s.rate, s.limit)
	}
	kafka := ""
	if s.maxMessage > 0 {
		kafka = fmt.Sprintf("\n    max_message_bytes: %d", s.maxMessage)
	}
	cfg := fmt.Sprintf(`transport:
  kind: kafka
  topic_prefix: %s
  kafka:
    brokers: [%s]
    partitions: 4
    session_timeout: 6s%s
ingest:
  %s
match:
  watchlists: %s
enrich:
  clustering: off   # online clusters depend on arrival order; the exact checks need each post's alert to be its own
route:
  policy: %s
sink:
  enabled: true
  addr: [%s]
  database: %s
  username: earshot_writer
  password: earshot
  batch_size: 5000
  flush_interval: 500ms
runner:
  batch_size: 1000
  linger: 10ms
  workers: 2
  shutdown_timeout: 20s
`, s.prefix, s.brokers, kafka, s.source, filepath.Join(root, "deploy/examples/watchlists"), filepath.Join(root, "deploy/examples/routing.yaml"), s.clickhouse, s.db)
	path := filepath.Join(t.TempDir(), "earshot.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// proc is a running earshot process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	out    syncBuffer
	errs   syncBuffer
	done   chan struct{}
	exit   error
	killed bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, stage, config string, args ...string) *proc {
	t.Helper()
	p := &proc{name: stage, done: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{stage, "--config", config, "--progress", "0", "--quiet", "--metrics-addr", "127.0.0.1:0"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.errs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", stage, err)
	}
	go func() { p.exit = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("--- %s stderr (last 3000 bytes):\n%s", p.name, tail(p.errs.String(), 3000))
		}
		keepLog(t, p)
	})
	return p
}

// keepLog writes p's whole stderr into the directory EARSHOT_ITEST_LOGS
// names, if set, passing or not: to compare a failing run's logs with a
// passing one's.
func keepLog(t *testing.T, p *proc) {
	dir := os.Getenv("EARSHOT_ITEST_LOGS")
	if dir == "" {
		return
	}
	name := fmt.Sprintf("%s.%s.%d.log", strings.NewReplacer("/", "_").Replace(t.Name()), p.name, p.cmd.Process.Pid)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(p.errs.String()), 0o644); err != nil {
		t.Logf("keeping the log of %s: %v", p.name, err)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not stop within 60s of SIGTERM", p.name)
	}
	if p.exit != nil {
		t.Errorf("%s exited with %v; stderr:\n%s", p.name, p.exit, tail(p.errs.String(), 2000))
	}
}

// kill stops the process at once, as a crash would.
func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// wait waits for a process that stops by itself.
func (p *proc) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("%s still running after %v", p.name, d)
	}
	if p.exit != nil {
		t.Fatalf("%s exited with %v; stderr:\n%s", p.name, p.exit, tail(p.errs.String(), 2000))
	}
}

// expected runs the stage functions in-process over the same synthetic
// posts the ingest process generates.
type expectation struct {
	matched  int
	matches  int // post × watchlist rows
	alertIDs map[string]bool
}

func expect(t *testing.T, seed uint64, limit int) expectation {
	t.Helper()
	lists, err := match.LoadDir(filepath.Join(root, "deploy/examples/watchlists"))
	if err != nil {
		t.Fatal(err)
	}
	policy, err := route.LoadPolicy(filepath.Join(root, "deploy/examples/routing.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	src := ingest.NewSynthetic(ingest.SyntheticConfig{Seed: seed, Limit: int64(limit), BrandRate: 0.1})
	matcher, err := match.New(lists)
	if err != nil {
		t.Fatal(err)
	}
	m, e, r := matcher.Stage(), enrich.New(enrich.Config{Clustering: "off"}).Stage(), policy.Stage(time.Now)
	ctx := context.Background()
	ex := expectation{alertIDs: map[string]bool{}}
	for {
		b, err := src.Next(ctx, 1000)
		if len(b.Items) > 0 {
			b, _ = m(ctx, b)
			ex.matched += len(b.Items)
			for _, it := range b.Items {
				ex.matches += len(it.Matches)
			}
			b, _ = e(ctx, b)
			b, _ = r(ctx, b)
			for _, it := range b.Items {
				ex.alertIDs[it.Alert.ID] = true
			}
		}
		if err == io.EOF {
			return ex
		}
	}
}

func openCH(t *testing.T) driver.Conn {
	t.Helper()
	c := sink.DefaultConfig()
	c.Addr = []string{clickhouseAddr}
	conn, err := sink.Open(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// migratedDB opens ClickHouse with database db migrated to the latest
// schema, dropped when the test ends.
func migratedDB(t *testing.T, db string) driver.Conn {
	t.Helper()
	conn := openCH(t)
	if _, err := sink.Migrate(context.Background(), conn, db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db) })
	return conn
}

func count(t *testing.T, conn driver.Conn, query string) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), query).Scan(&n); err != nil {
		if strings.Contains(err.Error(), "doesn't exist") || strings.Contains(err.Error(), "UNKNOWN_TABLE") || strings.Contains(err.Error(), "Unknown table") {
			return 0
		}
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// eventuallyCount polls the count query until it is exactly want, for
// what arrives in no set order (different partitions, topics or tables).
// A timeout fails with the last count; a count that was wrong at first
// is logged with how long it took, so a slow write shows apart from a
// lost one.
func eventuallyCount(t *testing.T, conn driver.Conn, d time.Duration, query string, want uint64) {
	t.Helper()
	start := time.Now()
	first := count(t, conn, query)
	for got := first; got != want; got = count(t, conn, query) {
		if time.Since(start) > d {
			t.Fatalf("%s = %d, want %d (still, after %v; first %d)", query, got, want, d, first)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if first != want {
		t.Logf("%s: %d at first, %d after %v", query, first, want, time.Since(start).Round(time.Millisecond))
	}
}

// caughtUp waits until the consumer group of a stage (prefix.stage) has
// committed every record on topic so far: the stage has been through each
// of them and produced what it derives from them, since a stage commits
// only after that. A check that something did not happen ("post 4 did not
// match") needs this first: records on other partitions come in no set
// order, and a sleep proves nothing on a loaded machine.
func caughtUp(t *testing.T, prefix, stage, topic string) {
	t.Helper()
	cfg := stream.DefaultKafkaConfig()
	cfg.Brokers = []string{kafkaAddr}
	k := mustKafka(t, cfg, prefix+".deadletter", slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer k.Close()
	group := prefix + "." + stage
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(250 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		lag, err := k.GroupLag(ctx, group, topic)
		cancel()
		if err == nil && lag == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s still %d records behind on %s after a minute (%v)", group, lag, topic, err)
		}
	}
}

// eventually polls f until it returns true or d passes.
func eventually(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// readTopic reads every record of topic from the start to its current end.
func readTopic(t *testing.T, topic string) [][]byte {
	t.Helper()
	return readTopicAt(t, kafkaAddr, topic)
}

// readTopicAt is readTopic on the broker at addr. It returns items: a
// batch record (post.SplitRecord) gives each of its items, binary ones
// re-encoded as JSON.
func readTopicAt(t *testing.T, addr, topic string) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(addr)}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err == nil && len(md.Topics) == 1 && errors.Is(md.Topics[0].Error, kafka.UnknownTopicOrPartition) {
		return nil // not created yet: nothing on it
	}
	if err != nil || len(md.Topics) != 1 || md.Topics[0].Error != nil {
		t.Fatalf("metadata for %s: %v %+v", topic, err, md)
	}
	var out [][]byte
	for _, part := range md.Topics[0].Partitions {
		offs, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(part.ID)}}})
		if err != nil {
			t.Fatal(err)
		}
		end := offs.Topics[topic][0].LastOffset
		if end == 0 {
			continue
		}
		for off := int64(0); off < end; {
			res, err := client.Fetch(ctx, &kafka.FetchRequest{Topic: topic, Partition: part.ID, Offset: off, MinBytes: 1, MaxBytes: 16 << 20, MaxWait: time.Second})
			if err != nil || res.Error != nil {
				t.Fatalf("fetching %s/%d at %d: %v %v", topic, part.ID, off, err, res.Error)
			}
			for {
				rec, err := res.Records.ReadRecord()
				if err != nil {
					break
				}
				v, _ := io.ReadAll(rec.Value)
				// A record of a batched topic carries several items.
				items, rest, err := post.SplitRecord(v)
				if err != nil {
					t.Fatalf("%s/%d at %d: %v (%d bytes left)", topic, part.ID, rec.Offset, err, len(rest))
				}
				if post.IsBinaryRecord(v) {
					// Binary items come back as JSON ones, which the
					// callers decode.
					for i, b := range items {
						it, err := post.DecodeBinary(b)
						if err != nil {
							t.Fatalf("%s/%d at %d: item %d: %v", topic, part.ID, rec.Offset, i, err)
						}
						if items[i], err = post.Encode(nil, it); err != nil {
							t.Fatal(err)
						}
					}
				}
				out = append(out, items...)
				off = rec.Offset + 1
			}
		}
	}
	return out
}

// alertIDs reads every alert topic and returns the count of each alert id.
func alertIDs(t *testing.T, prefix string) (map[string]int, int) {
	t.Helper()
	policy, err := route.LoadPolicy(filepath.Join(root, "deploy/examples/routing.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	total := 0
	for _, q := range policy.Queues {
		for _, v := range readTopic(t, prefix+".alerts."+q) {
			it, err := post.Decode(v)
			if err != nil || it.Alert == nil || it.Alert.Queue != q {
				t.Fatalf("bad alert on queue %s: %v\n%s", q, err, v)
			}
			ids[it.Alert.ID]++
			total++
		}
	}
	return ids, total
}

// proxy forwards TCP connections to target and can be taken down and up,
// to make a server unreachable without stopping it. It holds its port the
// whole time (a released port can be taken by another process's outgoing
// connection); while down it closes every connection at once.
type proxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	open         bool
	conns        map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]bool{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	t.Cleanup(func() { p.down(); ln.Close() })
	return p
}

// up lets connections through.
func (p *proxy) up(t *testing.T) {
	p.mu.Lock()
	p.open = true
	p.mu.Unlock()
}

func (p *proxy) serve(c net.Conn) {
	p.mu.Lock()
	open := p.open
	p.mu.Unlock()
	if !open {
		c.Close()
		return
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if !p.open {
		p.mu.Unlock()
		c.Close()
		s.Close()
		return
	}
	p.conns[c], p.conns[s] = true, true
	p.mu.Unlock()
	go func() { io.Copy(s, c); s.Close() }()
	io.Copy(c, s)
	c.Close()
}

// down cuts every open connection and refuses new ones.
func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.open = false
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// runFileIntoClickHouse runs the whole pipeline in this process over the
// posts of a file, into database db of the real server, with the example
// watchlists and policy (and organisation, with org), until the file is
// done. It returns the registry the stages' metrics are on.
func runFileIntoClickHouse(t *testing.T, ctx context.Context, posts, db string, org bool) *prometheus.Registry {
	t.Helper()
	cfg := pipeline.Default()
	cfg.Ingest.Source, cfg.Ingest.File.Path = "file", posts
	cfg.Match.Watchlists = filepath.Join(root, "deploy/examples/watchlists")
	cfg.Route.Policy = filepath.Join(root, "deploy/examples/routing.yaml")
	if org {
		cfg.Route.Org = filepath.Join(root, "deploy/examples/org.yaml")
	}
	cfg.Enrich.Clustering = "off"
	cfg.Sink.Enabled, cfg.Sink.Addr, cfg.Sink.Database = true, []string{clickhouseAddr}, db
	cfg.Sink.Username, cfg.Sink.Password, cfg.Sink.FlushInterval = "earshot_writer", secret.New("earshot"), 100*time.Millisecond
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	p, err := pipeline.New(ctx, cfg, pipeline.AllStages, pipeline.Taps{}, reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	return reg
}

// mustKafka is stream.NewKafka for tests, failing the test on error.
func mustKafka(t testing.TB, cfg stream.KafkaConfig, dead string, log *slog.Logger) *stream.Kafka {
	t.Helper()
	k, err := stream.NewKafka(cfg, dead, log)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
