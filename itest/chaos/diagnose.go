package chaos

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/sink"
)

// diagnose runs when a distributed soak lost something, before its stage
// processes are killed: it logs each consumer group's committed offset
// against each partition's end (which stage stopped consuming, and where),
// then asks every stage still running for a goroutine dump (SIGQUIT; the
// stages run with GOTRACEBACK=all), which lands in its <stage>.stderr (a
// stuck worker or commit shows there).
func (d *Distributed) diagnose(ctx context.Context, procs map[string]*stageProc, dead, reference map[string]bool, logf func(string, ...any)) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// Its own connection, through sink (which owns ClickHouse): the
	// harness names no driver type.
	c := sink.DefaultConfig()
	c.Addr = []string{d.ClickHouse}
	conn, err := sink.Open(c)
	if err != nil {
		logf("diagnose: connecting to ClickHouse: %v", err)
		return
	}
	defer conn.Close()
	// Alerts stored per queue: a queue far behind the other points at its
	// own reader (the sink's group of that queue's topic).
	if rows, err := conn.Query(ctx, "SELECT queue, count() FROM "+d.DB+".alerts FINAL GROUP BY queue ORDER BY queue"); err != nil {
		logf("diagnose: alerts per queue: %v", err)
	} else {
		for rows.Next() {
			var q string
			var n uint64
			if rows.Scan(&q, &n) == nil {
				logf("diagnose: queue %s: %d alerts stored", q, n)
			}
		}
		rows.Close()
	}
	// Dead letters the reference run did not have: a stage that gave up on
	// records it should have retried shows here, not as a stall.
	extra := 0
	for r := range dead {
		if !reference[r] {
			if extra < 5 {
				logf("diagnose: dead letter not in the reference run: %.300s", r)
			}
			extra++
		}
	}
	logf("diagnose: %d dead letters not in the reference run", extra)
	lines, err := groupOffsets(ctx, d.Brokers, d.Prefix)
	if err != nil {
		logf("diagnose: group offsets: %v", err)
	}
	for _, l := range lines {
		logf("diagnose: %s", l)
	}
	for name, p := range procs {
		if p.exited() {
			logf("diagnose: %s had exited: %v", name, p.err)
			continue
		}
		p.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			logf("diagnose: %s did not exit 5s after SIGQUIT", name)
		}
	}
	logf("diagnose: goroutine dumps of the stages are in %s/<stage>.stderr", d.Dir)
}

// groupOffsets lists, for every group and topic of the run (by prefix),
// the committed offset and the end of each partition: "group topic/p:
// committed C of end E (lag L)".
func groupOffsets(ctx context.Context, addr, prefix string) ([]string, error) {
	tr := &kafka.Transport{} // its own, closed after: kafka.DefaultTransport's pools outlive the test
	defer tr.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(addr), Transport: tr}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	topics := map[string][]int{}
	for _, t := range md.Topics {
		if !strings.HasPrefix(t.Name, prefix+".") {
			continue
		}
		for _, p := range t.Partitions {
			topics[t.Name] = append(topics[t.Name], p.ID)
		}
	}
	ends := map[string]map[int]int64{}
	for topic, parts := range topics {
		var reqs []kafka.OffsetRequest
		for _, p := range parts {
			reqs = append(reqs, kafka.LastOffsetOf(p))
		}
		res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
		if err != nil {
			return nil, fmt.Errorf("end offsets of %s: %w", topic, err)
		}
		ends[topic] = map[int]int64{}
		for _, po := range res.Topics[topic] {
			ends[topic][po.Partition] = po.LastOffset
		}
	}
	groups, err := client.ListGroups(ctx, &kafka.ListGroupsRequest{})
	if err != nil {
		return nil, fmt.Errorf("listing groups: %w", err)
	}
	var out []string
	for _, g := range groups.Groups {
		if !strings.HasPrefix(g.GroupID, prefix+".") {
			continue
		}
		res, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: g.GroupID, Topics: topics})
		if err != nil {
			out = append(out, fmt.Sprintf("%s: committed offsets: %v", g.GroupID, err))
			continue
		}
		for topic, parts := range res.Topics {
			for _, p := range parts {
				if p.CommittedOffset < 0 {
					continue // a topic the group does not read
				}
				end := ends[topic][p.Partition]
				out = append(out, fmt.Sprintf("%s %s/%d: committed %d of end %d (lag %d)", g.GroupID, topic, p.Partition, p.CommittedOffset, end, end-p.CommittedOffset))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// KeepOnFailure keeps what a soak wrote under dirs (the stages' stderr,
// configs, the services' logs; not Kafka's or ClickHouse's data) when the
// test failed: it copies them to a directory under $TMPDIR that outlives
// the test, names it in the log, and logs the last 200 lines of each
// stage's stderr. Register it after the dirs are made, so that it runs
// before t.TempDir removes them.
func KeepOnFailure(t interface {
	Cleanup(func())
	Failed() bool
	Logf(string, ...any)
	Name() string
}, dirs ...string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		kept, err := os.MkdirTemp("", "earshot-chaos-kept-")
		if err != nil {
			t.Logf("keeping the soak's logs: %v", err)
			return
		}
		for i, dir := range dirs {
			dst := filepath.Join(kept, fmt.Sprint(i))
			if err := copyLogs(dir, dst); err != nil {
				t.Logf("keeping the logs of %s: %v", dir, err)
			}
			stderrs, _ := filepath.Glob(filepath.Join(dir, "*.stderr"))
			for _, f := range stderrs {
				t.Logf("last 200 lines of %s:\n%s", f, lastLines(f, 200))
			}
		}
		t.Logf("%s failed: its stages' stderr, configs and the services' logs are kept in %s", t.Name(), kept)
	})
}

// copyLogs copies the logs and configs under src to dst, skipping data
// (only .stderr, .log, .out, .yaml, .xml, .properties files).
func copyLogs(src, dst string) error {
	return filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		switch filepath.Ext(path) {
		case ".stderr", ".log", ".out", ".yaml", ".xml", ".properties":
		default:
			return nil
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(to)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return fmt.Errorf("copying %s: %w", path, err)
		}
		return out.Close()
	})
}

// lastLines returns the last n lines of the file at path.
func lastLines(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var ring []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		ring = append(ring, sc.Text())
		if len(ring) > n {
			ring = ring[1:]
		}
	}
	return strings.Join(ring, "\n")
}
