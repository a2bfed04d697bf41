// Command distributed is the distributed-mode benchmark harness (issue 21):
// it starts the stage processes (earshot match, enrich, route and sink, one
// process per stage; with -with match,enrich only route and sink, match and
// enrich running in the ingest process as the README does) against an already running
// Kafka and ClickHouse, on a topic prefix and a ClickHouse database of their
// own, drives N synthetic posts through `earshot ingest` at full speed or a
// fixed rate, and reports:
//
//   - end-to-end posts/s: from the first record produced to the posts topic
//     (with -with, to the first topic the ingest process writes)
//     to the last change seen (polled every -poll) in ClickHouse's posts and
//     alerts tables and the alert topics' ends;
//   - CPU-µs per post of each earshot process (utime+stime from
//     /proc/PID/stat over the run), and of the broker and ClickHouse server
//     (found by their command lines; on a shared host they also serve others);
//   - consumer lag of each stage's group over time;
//   - post→alert latency percentiles: the alert record's produce time (Kafka
//     CreateTime) minus the post's ingested_at, the clock stamp ingest takes;
//   - with -embedded, `earshot run` in embedded mode on the same N posts in the
//     same run, for the CPU ratio.
//   - with -embedded-sink, `earshot run` with the distributed configuration's
//     sink (a database of its own) on the same posts: the ratio against
//     embedded mode doing the same work, which the embedded example (no sink)
//     does not.
//
// One JSON line on stdout, a human table on stderr. Topics and database are
// deleted afterwards (-keep leaves them). Usage:
//
//	go build -o bin/earshot ./cmd/earshot
//	go run ./bench/distributed -posts 200000 -rate 0 -embedded -embedded-sink
//	go run ./bench/distributed -posts 100000 -rate 10000          # latency at 10k posts/s
//	go run ./bench/distributed -posts 200000 -replicas enrich=2   # scaling
//	go run ./bench/distributed -posts 200000 -with match,enrich   # match and enrich in the ingest process
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream"
)

type options struct {
	bin, config, broker, chAddr, chUser, chPass string
	posts, rate                                 int
	replicas                                    map[string]int
	stages, with                                []string
	poll, settle, timeout                       time.Duration
	brokerMatch, chMatch                        string
	embedded, embeddedSink, keep                bool
	profile, compression                        string
	profileFor                                  time.Duration
	env, set                                    []string
}

// Result is the JSON line.
type Result struct {
	Posts        int                `json:"posts"`
	Rate         int                `json:"rate"` // 0: as fast as possible
	Prefix       string             `json:"prefix"`
	Replicas     map[string]int     `json:"replicas"`
	With         []string           `json:"with,omitempty"` // the stages run in the ingest process (earshot ingest --with)
	Seconds      float64            `json:"seconds"`        // first produce to last change downstream
	PostsPerSec  float64            `json:"posts_per_sec"`
	IngestSecs   float64            `json:"ingest_seconds"` // first produce to ingest's exit
	RowsPosts    uint64             `json:"rows_posts"`
	RowsAlerts   uint64             `json:"rows_alerts"`
	AlertRecords int                `json:"alert_records"`
	CPUMicros    map[string]float64 `json:"cpu_us_per_post"` // per process role (replicas summed); "earshot" is the sum of earshot's
	LatencyMs    map[string]float64 `json:"latency_ms"`      // p50, p90, p99, max of post→alert
	Lag          []lagSample        `json:"lag"`
	MaxLag       map[string]int64   `json:"max_lag"`
	Load         [3]float64         `json:"loadavg"` // at the start
	LoadEnd      [3]float64         `json:"loadavg_end"`
	Embedded     *embeddedResult    `json:"embedded,omitempty"`
	CPURatio     float64            `json:"cpu_ratio_vs_embedded,omitempty"` // earshot's CPU per post distributed / embedded
	// EmbeddedSink is `earshot run` with the distributed run's sink: the
	// same work (matched posts written to ClickHouse), which the embedded
	// example configuration, having no sink, does not do.
	EmbeddedSink *embeddedResult `json:"embedded_sink,omitempty"`
	CPURatioSink float64         `json:"cpu_ratio_vs_embedded_sink,omitempty"`
	Env          []string        `json:"env,omitempty"`
	Compression  string          `json:"compression,omitempty"`
	Set          []string        `json:"set,omitempty"`
	Pids         map[string]int  `json:"pids"` // of the broker and ClickHouse measured (0: not found)
	// Requests are the requests each stage process sent to the broker
	// over the run, per 1,000 ingested posts, by kind (fetch, produce,
	// commit: earshot_kafka_requests_total); "all" sums the processes.
	// Ingest's produce requests are about its records on the posts topic.
	Requests map[string]map[string]float64 `json:"requests_per_1k_posts,omitempty"`
	// Records are the records written to each topic (by suffix after the
	// run's prefix), per 1,000 ingested posts.
	Records map[string]float64 `json:"records_per_1k_posts,omitempty"`
}

type lagSample struct {
	T   float64          `json:"t"` // seconds since the first produce
	Lag map[string]int64 `json:"lag"`
}

type embeddedResult struct {
	Seconds     float64 `json:"seconds"`
	PostsPerSec float64 `json:"posts_per_sec"`
	CPUMicros   float64 `json:"cpu_us_per_post"`
}

func main() {
	var o options
	var replicas, stages, with, env string
	flag.StringVar(&o.bin, "bin", "bin/earshot", "the earshot binary")
	flag.StringVar(&o.config, "config", "deploy/examples/distributed.yaml", "the distributed configuration to start from")
	flag.StringVar(&o.broker, "broker", "127.0.0.1:9092", "Kafka broker")
	flag.StringVar(&o.chAddr, "clickhouse", "127.0.0.1:9000", "ClickHouse native address")
	flag.StringVar(&o.chUser, "clickhouse-user", "earshot_writer", "ClickHouse user (creates and drops the run's database)")
	flag.StringVar(&o.chPass, "clickhouse-password", "earshot", "ClickHouse password")
	flag.IntVar(&o.posts, "posts", 200_000, "posts to ingest")
	flag.IntVar(&o.rate, "rate", 0, "posts per second (0: as fast as possible)")
	flag.StringVar(&replicas, "replicas", "", "processes per stage, e.g. enrich=2,match=2 (default 1 each)")
	flag.StringVar(&stages, "stages", "match,enrich,route,sink", "the stage processes to start")
	flag.StringVar(&with, "with", "", "run these stages in the ingest process (earshot ingest --with), not in processes of their own: match, or match,enrich")
	flag.DurationVar(&o.poll, "poll", 250*time.Millisecond, "how often lag, rows and alert ends are polled")
	flag.DurationVar(&o.settle, "settle", 5*time.Second, "the run is over when nothing changed for this long after ingest exits and every lag is 0")
	flag.DurationVar(&o.timeout, "timeout", 15*time.Minute, "give up after this long")
	flag.StringVar(&o.brokerMatch, "broker-process", `^java .* kafka\.Kafka \S*/\.local/kafka/server\.properties`, "regexp of the broker's command line")
	flag.StringVar(&o.chMatch, "clickhouse-process", `^\S*clickhouse-server --config-file=\S*/\.local/clickhouse/`, "regexp of the ClickHouse server's command line")
	flag.BoolVar(&o.embedded, "embedded", false, "also run `earshot run` in embedded mode on the same posts, for the CPU ratio")
	flag.BoolVar(&o.embeddedSink, "embedded-sink", false, "also run `earshot run` with the distributed configuration's sink (into a database of its own) on the same posts: embedded mode doing the same work")
	flag.BoolVar(&o.keep, "keep", false, "keep the topics and the database")
	flag.StringVar(&o.profile, "profile", "", "write a CPU profile of each stage process and of ingest under load into this directory (pprof, served with EARSHOT_PPROF=1)")
	flag.DurationVar(&o.profileFor, "profile-for", 10*time.Second, "how long each profile runs, from 2s after ingest starts")
	flag.StringVar(&o.compression, "compression", "", "transport.kafka.compression for every process (default: the configuration's)")
	var set string
	flag.StringVar(&set, "set", "", "configuration keys for every stage process, SECTION.KEY=VALUE, comma-separated, e.g. kafka.batch_items=1,runner.linger=2ms (SECTION is the block's own name: kafka, runner, sink...)")
	flag.StringVar(&env, "env", "", "extra environment for the stage processes, e.g. GOGC=200,GOMEMLIMIT=512MiB")
	flag.Parse()
	o.replicas = map[string]int{}
	o.stages = strings.Split(stages, ",")
	if with != "" {
		o.with = strings.Split(with, ",")
		o.stages = slices.DeleteFunc(o.stages, func(s string) bool { return slices.Contains(o.with, s) })
	}
	for _, s := range o.stages {
		o.replicas[s] = 1
	}
	for kv := range strings.SplitSeq(replicas, ",") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 16 || !slices.Contains(o.stages, k) {
			log.Fatalf("distributed: -replicas %q: want STAGE=1..16 of %v", kv, o.stages)
		}
		o.replicas[k] = n
	}
	if env != "" {
		o.env = strings.Split(env, ",")
	}
	if set != "" {
		o.set = strings.Split(set, ",")
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	r, err := run(ctx, o)
	if err != nil {
		log.Fatalf("distributed: %v", err)
	}
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
	table(os.Stderr, r)
}

type proc struct {
	role string
	cmd  *exec.Cmd
	pid  int
	cpu0 time.Duration
	req0 map[string]float64 // earshot_kafka_requests_total by kind, at the start
	log  string
}

func run(ctx context.Context, o options) (*Result, error) {
	id := strconv.FormatInt(time.Now().UnixNano()%1e10, 36)
	prefix, db := "distbench_"+id, "distbench_"+id
	tmp, err := os.MkdirTemp("", "distbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	cfg, err := writeConfig(o.config, filepath.Join(tmp, "distributed.yaml"), prefix, db, o.compression, pointAt(o, o.set))
	if err != nil {
		return nil, err
	}
	res := &Result{Posts: o.posts, Rate: o.rate, Prefix: prefix, Replicas: o.replicas, With: o.with, Compression: o.compression, Set: o.set, CPUMicros: map[string]float64{}, MaxLag: map[string]int64{}, Env: o.env}
	res.Load = loadavg()

	ch, err := clickhouse.Open(&clickhouse.Options{Addr: []string{o.chAddr}, Auth: clickhouse.Auth{Database: "default", Username: o.chUser, Password: o.chPass}})
	if err != nil {
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	defer ch.Close()
	kcfg := stream.DefaultKafkaConfig()
	kcfg.Brokers = []string{o.broker}
	tr, err := stream.NewKafka(kcfg, "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	kc := tr.Client()
	defer func() {
		if o.keep {
			log.Printf("kept topics %s.* and database %s", prefix, db)
			return
		}
		cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
		defer ccancel()
		if err := ch.Exec(cctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			log.Printf("dropping database %s: %v", db, err)
		}
		if ts, err := topicsWith(cctx, kc, prefix+"."); err == nil && len(ts) > 0 {
			if _, err := kc.DeleteTopics(cctx, &kafka.DeleteTopicsRequest{Topics: ts}); err != nil {
				log.Printf("deleting topics: %v", err)
			}
		}
	}()

	// The stages, each in its own process group so that a stop reaches it.
	var procs []*proc
	var exited chan string
	defer func() {
		for _, p := range procs {
			p.cmd.Process.Signal(syscall.SIGTERM)
		}
		for range procs {
			select {
			case <-exited:
			case <-time.After(30 * time.Second):
				for _, p := range procs {
					p.cmd.Process.Kill()
				}
				return
			}
		}
	}()
	logf, err := os.Create(filepath.Join(os.TempDir(), prefix+".log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	env := append(os.Environ(), o.env...)
	if o.profile != "" {
		env = append(env, "EARSHOT_PPROF=1")
	}
	for _, s := range o.stages {
		for i := range o.replicas[s] {
			c := exec.CommandContext(ctx, o.bin, s, "--config", cfg, "--metrics-addr", "127.0.0.1:0")
			lf, err := os.Create(filepath.Join(os.TempDir(), fmt.Sprintf("%s.%s.%d.log", prefix, s, i)))
			if err != nil {
				return nil, err
			}
			defer lf.Close()
			c.Stdout, c.Stderr, c.Env = lf, lf, env
			if err := c.Start(); err != nil {
				return nil, fmt.Errorf("starting %s: %w", s, err)
			}
			procs = append(procs, &proc{role: s, cmd: c, pid: c.Process.Pid, log: lf.Name()})
		}
	}
	groups := map[string]string{"match": prefix + ".posts", "enrich": prefix + ".matched", "route": prefix + ".enriched", "sink": prefix + ".enriched"}
	maps.DeleteFunc(groups, func(g, _ string) bool { return !slices.Contains(o.stages, g) }) // a stage in the ingest process has no group
	exited = make(chan string, len(procs))
	for _, p := range procs {
		go func() {
			err := p.cmd.Wait()
			exited <- fmt.Sprintf("%s exited (%v); its log: %s", p.role, err, p.log)
		}()
	}
	if err := waitGroups(ctx, kc, prefix, o, exited); err != nil {
		return nil, fmt.Errorf("%w (stage logs in %s)", err, logf.Name())
	}
	others := map[string]int{"broker": findProc(o.brokerMatch), "clickhouse": findProc(o.chMatch)}
	other0 := map[string]time.Duration{}
	for k, pid := range others {
		other0[k] = cpuOf(pid)
	}
	for _, p := range procs {
		p.cpu0 = cpuOf(p.pid)
		p.req0 = requests(ctx, p)
	}

	// Ingest, while the poller watches.
	ingArgs := []string{"ingest", "--config", cfg, "--metrics-addr", "127.0.0.1:0", "--limit", strconv.Itoa(o.posts), "--rate", strconv.Itoa(o.rate)}
	if len(o.with) > 0 {
		ingArgs = append(ingArgs, "--with", strings.Join(o.with, ","))
	}
	ing := exec.CommandContext(ctx, o.bin, ingArgs...)
	ingLog, err := os.Create(filepath.Join(os.TempDir(), prefix+".ingest.log"))
	if err != nil {
		return nil, err
	}
	defer ingLog.Close()
	ing.Stdout, ing.Stderr, ing.Env = ingLog, ingLog, env
	started := time.Now()
	if err := ing.Start(); err != nil {
		return nil, fmt.Errorf("starting ingest: %w (its log: %s)", err, ingLog.Name())
	}
	ingDone := make(chan error, 1)
	go func() { ingDone <- ing.Wait() }()
	if o.profile != "" {
		for i, p := range procs {
			go profile(ctx, p, filepath.Join(o.profile, fmt.Sprintf("%s-%d.pprof", p.role, i)), o.profileFor)
		}
		// ingest too: it exits at -posts, so -profile-for must end before it does.
		go profile(ctx, &proc{role: "ingest", log: ingLog.Name()}, filepath.Join(o.profile, "ingest.pprof"), o.profileFor)
	}
	var ingEnd time.Time
	var last time.Time
	var lastSig string
	alertTopics := []string{}
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("timed out (stage logs in %s)", logf.Name())
		case why := <-exited:
			return nil, errors.New(why)
		case err := <-ingDone:
			if err != nil {
				return nil, fmt.Errorf("ingest: %w (its log: %s)", err, ingLog.Name())
			}
			ingEnd = time.Now()
			ingDone = nil
		case <-time.After(o.poll):
		}
		now := time.Now()
		lags := map[string]int64{}
		for g, t := range groups {
			l, err := tr.GroupLag(ctx, prefix+"."+g, t)
			if err != nil {
				l = -1
			}
			lags[g] = l
			res.MaxLag[g] = max(res.MaxLag[g], l)
		}
		res.Lag = append(res.Lag, lagSample{T: now.Sub(started).Seconds(), Lag: lags})
		if len(alertTopics) == 0 {
			alertTopics, _ = topicsWith(ctx, kc, prefix+".alerts.")
		}
		var ends int64
		for _, t := range alertTopics {
			e, _ := topicEnd(ctx, kc, t)
			ends += e
		}
		rp, ra := rows(ctx, ch, db)
		sig := fmt.Sprint(rp, ra, ends)
		if sig != lastSig {
			last, lastSig = now, sig
			res.RowsPosts, res.RowsAlerts = rp, ra
		}
		zero := true
		for _, l := range lags {
			zero = zero && l == 0
		}
		if ingDone == nil && zero && now.Sub(last) >= o.settle {
			break
		}
	}
	res.Requests = map[string]map[string]float64{"all": {}}
	for _, p := range procs {
		if res.Requests[p.role] == nil {
			res.Requests[p.role] = map[string]float64{}
		}
		for kind, n := range requests(ctx, p) {
			per := (n - p.req0[kind]) * 1000 / float64(o.posts)
			res.Requests[p.role][kind] += per
			res.Requests["all"][kind] += per
		}
	}
	res.Records = map[string]float64{}
	if ts, err := topicsWith(ctx, kc, prefix+"."); err == nil {
		for _, t := range ts {
			if n, err := topicEnd(ctx, kc, t); err == nil && n > 0 {
				res.Records[strings.TrimPrefix(t, prefix+".")] = float64(n) * 1000 / float64(o.posts)
			}
		}
	}
	for _, p := range procs {
		d := cpuOf(p.pid) - p.cpu0
		res.CPUMicros[p.role] += float64(d.Microseconds()) / float64(o.posts)
		res.CPUMicros["earshot"] += float64(d.Microseconds()) / float64(o.posts)
	}
	ist := ing.ProcessState
	icpu := ist.UserTime() + ist.SystemTime()
	res.CPUMicros["ingest"] = float64(icpu.Microseconds()) / float64(o.posts)
	res.CPUMicros["earshot"] += res.CPUMicros["ingest"]
	for k, pid := range others {
		if c := cpuOf(pid); pid > 0 && c >= other0[k] {
			res.CPUMicros[k] = float64((c - other0[k]).Microseconds()) / float64(o.posts)
		}
	}
	res.Pids = others
	first, err := firstProduce(ctx, tr, o.broker, firstTopics(prefix, o.with)...)
	if err != nil {
		return nil, err
	}
	res.Seconds = last.Sub(first).Seconds()
	res.PostsPerSec = float64(o.posts) / res.Seconds
	res.IngestSecs = ingEnd.Sub(first).Seconds()
	lat, n, err := latencies(ctx, tr, o.broker, alertTopics)
	if err != nil {
		return nil, err
	}
	res.AlertRecords = n
	res.LatencyMs = lat
	res.LoadEnd = loadavg()
	if o.embedded {
		e, err := embedded(ctx, o)
		if err != nil {
			return nil, err
		}
		res.Embedded = e
		res.CPURatio = res.CPUMicros["earshot"] / e.CPUMicros
	}
	if o.embeddedSink {
		edb := db + "_e"
		defer func() {
			if !o.keep {
				ch.Exec(context.Background(), "DROP DATABASE IF EXISTS "+edb)
			}
		}()
		cfg, err := embeddedSinkConfig(o, filepath.Join(tmp, "embedded-sink.yaml"), prefix, edb)
		if err != nil {
			return nil, err
		}
		e, err := runEmbedded(ctx, o, cfg)
		if err != nil {
			return nil, err
		}
		res.EmbeddedSink = e
		res.CPURatioSink = res.CPUMicros["earshot"] / e.CPUMicros
	}
	// a few samples are enough in the JSON line: one a second
	res.Lag = thin(res.Lag, time.Second)
	return res, nil
}

// writeConfig copies the configuration with the run's topic prefix and
// database, and its relative paths made absolute.
func writeConfig(from, to, prefix, db, compression string, set []string) (string, error) {
	b, err := os.ReadFile(from)
	if err != nil {
		return "", err
	}
	dir, err := filepath.Abs(filepath.Dir(from))
	if err != nil {
		return "", err
	}
	s := string(b)
	for _, r := range []struct{ re, repl string }{
		{`(?m)^(\s*topic_prefix:\s*)\S+`, "${1}" + prefix},
		{`(?m)^(\s*database:\s*)\S+`, "${1}" + db},
		{`(?m)^(\s*watchlists:\s*)(\S+)`, "${1}" + filepath.Join(dir, "watchlists")},
		{`(?m)^(\s*policy:\s*)(\S+)`, "${1}" + filepath.Join(dir, "routing.yaml")},
		{`(?m)^(\s*org:\s*)(\S+)`, "${1}" + filepath.Join(dir, "org.yaml")},
		{`(?m)^(\s*state_dir:\s*)(\S+)`, "${1}" + filepath.Join(filepath.Dir(to), "api")},
	} {
		s = regexp.MustCompile(r.re).ReplaceAllString(s, r.repl)
	}
	if compression != "" {
		s = regexp.MustCompile(`(?m)^(\s*)kafka:\s*$`).ReplaceAllString(s, "${1}kafka:\n${1}  compression: "+compression)
	}
	for _, kv := range set {
		var err error
		if s, err = setKey(s, kv); err != nil {
			return "", err
		}
	}
	return to, os.WriteFile(to, []byte(s), 0o600)
}

// setKey sets SECTION.KEY=VALUE in the YAML text s: the key's line in the
// block SECTION opens is replaced, or added at the block's start.
func setKey(s, kv string) (string, error) {
	path, val, ok := strings.Cut(kv, "=")
	section, key, ok2 := strings.Cut(path, ".")
	if !ok || !ok2 {
		return "", fmt.Errorf("-set %q: want SECTION.KEY=VALUE", kv)
	}
	lines := strings.Split(s, "\n")
	open := regexp.MustCompile(`^(\s*)` + regexp.QuoteMeta(section) + `:\s*(#.*)?$`)
	for i, l := range lines {
		m := open.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		indent := m[1] + "  "
		for j := i + 1; j < len(lines); j++ {
			lj := lines[j]
			if strings.TrimSpace(lj) == "" || strings.HasPrefix(strings.TrimSpace(lj), "#") {
				continue
			}
			if !strings.HasPrefix(lj, indent) {
				break // the block ended
			}
			if strings.HasPrefix(lj, indent+key+":") {
				lines[j] = indent + key + ": " + val
				return strings.Join(lines, "\n"), nil
			}
		}
		lines = slices.Insert(lines, i+1, indent+key+": "+val)
		return strings.Join(lines, "\n"), nil
	}
	return "", fmt.Errorf("-set %q: no block %q in the configuration", kv, section)
}

// waitGroups waits until every stage's consumer group is stable with all
// its members, so that the clock starts with every process ready.
func waitGroups(ctx context.Context, kc *kafka.Client, prefix string, o options, exited <-chan string) error {
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var ids []string
		for _, s := range o.stages {
			ids = append(ids, prefix+"."+s)
		}
		resp, err := kc.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: ids})
		ready := err == nil
		if err == nil {
			for _, g := range resp.Groups {
				s := strings.TrimPrefix(g.GroupID, prefix+".")
				if g.Error != nil || g.GroupState != "Stable" || len(g.Members) < o.replicas[s] {
					ready = false
				}
			}
		}
		if ready {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the stage groups are not stable after 3 minutes: %v %+v", err, resp)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case why := <-exited:
			return errors.New(why)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func topicsWith(ctx context.Context, kc *kafka.Client, prefix string) ([]string, error) {
	md, err := kc.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return nil, err
	}
	var ts []string
	for _, t := range md.Topics {
		if strings.HasPrefix(t.Name, prefix) {
			ts = append(ts, t.Name)
		}
	}
	slices.Sort(ts)
	return ts, nil
}

func partitions(ctx context.Context, kc *kafka.Client, topic string) ([]int, error) {
	md, err := kc.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, err
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil {
		return nil, fmt.Errorf("no metadata for %s", topic)
	}
	var ps []int
	for _, p := range md.Topics[0].Partitions {
		ps = append(ps, p.ID)
	}
	return ps, nil
}

func offsets(ctx context.Context, kc *kafka.Client, topic string, ps []int, at int64) (map[int]int64, error) {
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, p := range ps {
		req.Topics[topic] = append(req.Topics[topic], kafka.OffsetRequest{Partition: p, Timestamp: at})
	}
	resp, err := kc.ListOffsets(ctx, req)
	if err != nil {
		return nil, err
	}
	out := map[int]int64{}
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return nil, po.Error
		}
		if at == kafka.FirstOffset {
			out[po.Partition] = po.FirstOffset
		} else {
			out[po.Partition] = po.LastOffset
		}
	}
	return out, nil
}

func topicEnd(ctx context.Context, kc *kafka.Client, topic string) (int64, error) {
	ps, err := partitions(ctx, kc, topic)
	if err != nil {
		return 0, err
	}
	ends, err := offsets(ctx, kc, topic, ps, kafka.LastOffset)
	var n int64
	for _, e := range ends {
		n += e
	}
	return n, err
}

func rows(ctx context.Context, ch clickhouse.Conn, db string) (uint64, uint64) {
	var p, a uint64
	// before the sink's first write, the tables do not exist: 0
	ch.QueryRow(ctx, "SELECT count() FROM "+db+".posts").Scan(&p)
	ch.QueryRow(ctx, "SELECT count() FROM "+db+".alerts").Scan(&a)
	return p, a
}

// firstProduce is the earliest CreateTime of the topic's first records.
func firstProduce(ctx context.Context, tr *stream.Kafka, broker string, topics ...string) (time.Time, error) {
	kc := tr.Client()
	var first time.Time
	for _, topic := range topics {
		ps, err := partitions(ctx, kc, topic)
		if err != nil {
			return time.Time{}, err
		}
		for _, p := range ps {
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Dialer: tr.Dialer(), Topic: topic, Partition: p, MaxWait: time.Second})
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			m, err := r.ReadMessage(cctx)
			cancel()
			r.Close()
			if err != nil {
				continue // an empty partition
			}
			if first.IsZero() || m.Time.Before(first) {
				first = m.Time
			}
		}
	}
	if first.IsZero() {
		return first, fmt.Errorf("no record on %v", topics)
	}
	return first, nil
}

// firstTopics are the topics the ingest process writes first: the posts
// topic, or the outputs of the last stage it runs (-with). Measured there,
// a chain's end to end starts a batch's match (and enrich) later than the
// posts topic's first record would: milliseconds in a run of seconds.
func firstTopics(prefix string, with []string) []string {
	switch {
	case slices.Contains(with, "enrich"):
		return []string{prefix + ".enriched"}
	case slices.Contains(with, "match"):
		return []string{prefix + ".matched", prefix + ".volume"}
	}
	return []string{prefix + ".posts"}
}

// latencies reads every alert record and returns the percentiles of its
// produce time minus its post's ingested_at. Spike alerts and retractions
// (which stand for no one post's arrival) are left out.
func latencies(ctx context.Context, tr *stream.Kafka, broker string, topics []string) (map[string]float64, int, error) {
	kc := tr.Client()
	var ms []float64
	n := 0
	for _, t := range topics {
		ps, err := partitions(ctx, kc, t)
		if err != nil {
			return nil, 0, err
		}
		ends, err := offsets(ctx, kc, t, ps, kafka.LastOffset)
		if err != nil {
			return nil, 0, err
		}
		for _, p := range ps {
			if ends[p] == 0 {
				continue
			}
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Dialer: tr.Dialer(), Topic: t, Partition: p, MaxWait: time.Second, MaxBytes: 16 << 20})
			for {
				cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				m, err := r.ReadMessage(cctx)
				cancel()
				if err != nil {
					r.Close()
					return nil, 0, fmt.Errorf("reading %s/%d: %w", t, p, err)
				}
				n++
				if it, err := post.Decode(m.Value); err == nil && it.Alert != nil && it.Alert.Spike == nil && !it.Alert.Retracted && !it.Post.IngestedAt.IsZero() {
					ms = append(ms, float64(m.Time.Sub(it.Post.IngestedAt).Microseconds())/1000)
				}
				if m.Offset+1 >= ends[p] {
					break
				}
			}
			r.Close()
		}
	}
	if len(ms) == 0 {
		return nil, n, nil
	}
	slices.Sort(ms)
	q := func(f float64) float64 { return ms[min(len(ms)-1, int(math.Ceil(f*float64(len(ms))))-1)] }
	return map[string]float64{"p50": q(0.5), "p90": q(0.9), "p99": q(0.99), "max": ms[len(ms)-1], "n": float64(len(ms))}, n, nil
}

// embedded runs `earshot run` on the same posts with the embedded example
// configuration, and measures its CPU from the kernel's accounting.
func embedded(ctx context.Context, o options) (*embeddedResult, error) {
	return runEmbedded(ctx, o, filepath.Join(filepath.Dir(o.config), "embedded.yaml"))
}

// sinkBlock is the top-level sink: block of a configuration.
var sinkBlock = regexp.MustCompile(`(?m)^sink:[^\n]*\n(?:(?:[ \t]+[^\n]*)?\n)*`)

// embeddedSinkConfig writes the embedded example configuration with the
// distributed configuration's sink block, into database db.
func embeddedSinkConfig(o options, to, prefix, db string) (string, error) {
	dist, err := os.ReadFile(o.config)
	if err != nil {
		return "", err
	}
	block := sinkBlock.Find(dist)
	if block == nil {
		return "", fmt.Errorf("%s has no sink: block", o.config)
	}
	if _, err := writeConfig(filepath.Join(filepath.Dir(o.config), "embedded.yaml"), to, prefix, db, "", nil); err != nil {
		return "", err
	}
	b, err := os.ReadFile(to)
	if err != nil {
		return "", err
	}
	block = regexp.MustCompile(`(?m)^(\s*database:\s*)\S+`).ReplaceAll(block, []byte("${1}"+db))
	if o.chAddr != "" {
		block = regexp.MustCompile(`(?m)^(\s*addr:\s*)\[[^\]\n]*\]`).ReplaceAll(block, []byte("${1}["+o.chAddr+"]"))
	}
	return to, os.WriteFile(to, append(append(b, '\n'), block...), 0o600)
}

// runEmbedded runs `earshot run --config cfg` on o.posts posts and measures
// its CPU.
func runEmbedded(ctx context.Context, o options, cfg string) (*embeddedResult, error) {
	c := exec.CommandContext(ctx, o.bin, "run", "--config", cfg, "--rate", "0", "--limit", strconv.Itoa(o.posts), "--quiet", "--progress", "0", "--metrics-addr", "127.0.0.1:0")
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, io.Discard
	t0 := time.Now()
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("embedded run: %w: %s", err, out.String())
	}
	wall := time.Since(t0)
	cpu := c.ProcessState.UserTime() + c.ProcessState.SystemTime()
	return &embeddedResult{Seconds: wall.Seconds(), PostsPerSec: float64(o.posts) / wall.Seconds(), CPUMicros: float64(cpu.Microseconds()) / float64(o.posts)}, nil
}

// cpuOf is utime+stime of pid (all its threads), 0 if it is gone.
func cpuOf(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// the command name may hold spaces: fields start after the last ')'
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

// findProc is the pid whose command line matches re, or 0.
func findProc(re string) int {
	rx := regexp.MustCompile(re)
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || len(b) == 0 {
			continue
		}
		if rx.Match(bytes.ReplaceAll(b, []byte{0}, []byte{' '})) {
			return pid
		}
	}
	return 0
}

func loadavg() [3]float64 {
	var l [3]float64
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	for i := range min(3, len(f)) {
		l[i], _ = strconv.ParseFloat(f[i], 64)
	}
	return l
}

func thin(s []lagSample, every time.Duration) []lagSample {
	var out []lagSample
	next := 0.0
	for i, x := range s {
		if x.T >= next || i == len(s)-1 {
			out = append(out, x)
			next = x.T + every.Seconds()
		}
	}
	return out
}

func table(w io.Writer, r *Result) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "posts\t%d\trate\t%d\tloadavg\t%.1f → %.1f\t\n", r.Posts, r.Rate, r.Load[0], r.LoadEnd[0])
	fmt.Fprintf(tw, "end to end\t%.1f s\t%.0f posts/s\tingest alone\t%.1f s\t\n", r.Seconds, r.PostsPerSec, r.IngestSecs)
	fmt.Fprintf(tw, "rows\tposts %d\talerts %d\talert records\t%d\t\n", r.RowsPosts, r.RowsAlerts, r.AlertRecords)
	if r.LatencyMs != nil {
		fmt.Fprintf(tw, "post→alert ms\tp50 %.1f\tp90 %.1f\tp99 %.1f\tmax %.1f\t\n", r.LatencyMs["p50"], r.LatencyMs["p90"], r.LatencyMs["p99"], r.LatencyMs["max"])
	}
	keys := make([]string, 0, len(r.CPUMicros))
	for k := range r.CPUMicros {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(tw, "cpu µs/post\t%s\t%.2f\t\t\t\n", k, r.CPUMicros[k])
	}
	for _, k := range []string{"match", "enrich", "route", "sink"} {
		if v, ok := r.MaxLag[k]; ok {
			fmt.Fprintf(tw, "max lag\t%s\t%d\t\t\t\n", k, v)
		}
	}
	for _, k := range []string{"match", "enrich", "route", "sink", "all"} {
		if q, ok := r.Requests[k]; ok {
			fmt.Fprintf(tw, "requests/1k posts\t%s\tfetch %.0f\tproduce %.0f\tcommit %.0f\t\n", k, q["fetch"], q["produce"], q["commit"])
		}
	}
	if r.Embedded != nil {
		fmt.Fprintf(tw, "embedded\t%.0f posts/s\t%.2f µs/post\tcpu ratio\t%.2f×\t\n", r.Embedded.PostsPerSec, r.Embedded.CPUMicros, r.CPURatio)
	}
	if r.EmbeddedSink != nil {
		fmt.Fprintf(tw, "embedded+sink\t%.0f posts/s\t%.2f µs/post\tcpu ratio\t%.2f×\t\n", r.EmbeddedSink.PostsPerSec, r.EmbeddedSink.CPUMicros, r.CPURatioSink)
	}
	tw.Flush()
	if len(r.Records) > 0 {
		var parts []string
		for _, t := range slices.Sorted(maps.Keys(r.Records)) {
			parts = append(parts, fmt.Sprintf("%s %.1f", t, r.Records[t]))
		}
		fmt.Fprintf(w, "records per 1k posts: %s\n", strings.Join(parts, ", "))
	}
}

var metricsAddr = regexp.MustCompile(`serving metrics.*addr=(\S+)`)

var requestLine = regexp.MustCompile(`(?m)^earshot_kafka_requests_total\{kind="(\w+)"\} (\S+)$`)

// requests reads p's earshot_kafka_requests_total by kind from its metrics
// address (in its log); none when it cannot be read (a build without them).
func requests(ctx context.Context, p *proc) map[string]float64 {
	out := map[string]float64{}
	b, _ := os.ReadFile(p.log)
	m := metricsAddr.FindSubmatch(b)
	if m == nil {
		return out
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/metrics", strings.Trim(string(m[1]), `"`)), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, l := range requestLine.FindAllSubmatch(body, -1) {
		v, _ := strconv.ParseFloat(string(l[2]), 64)
		out[string(l[1])] = v
	}
	return out
}

// profile fetches a CPU profile of p from its metrics address (in its log)
// 2s into the run, into path.
func profile(ctx context.Context, p *proc, path string, d time.Duration) {
	time.Sleep(2 * time.Second)
	b, _ := os.ReadFile(p.log)
	m := metricsAddr.FindSubmatch(b)
	if m == nil {
		log.Printf("profile of %s: no metrics address in %s", p.role, p.log)
		return
	}
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", strings.Trim(string(m[1]), `"`), int(d.Seconds()))
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Printf("profile of %s: %v", p.role, err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		log.Printf("profile of %s: %v", p.role, err)
		return
	}
	defer f.Close()
	io.Copy(f, resp.Body)
}

// pointAt is set with the keys that point the processes at o's broker and
// ClickHouse first.
func pointAt(o options, set []string) []string {
	return append([]string{"kafka.brokers=[" + o.broker + "]", "sink.addr=[" + o.chAddr + "]"}, set...)
}
