package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/sink"
)

// Distributed drives the stage processes (earshot ingest, match, enrich,
// route, sink) over a Kafka broker and a ClickHouse server, killing a
// random one with SIGKILL every KillEvery and starting it again: the
// consumer groups rebalance, uncommitted records are read again. It
// never touches a shared broker or server: restarts of either and cuts of
// the network to Kafka need Services of its own.
type Distributed struct {
	Embedded          // the input, the binary and the reference run
	Brokers    string // host:port
	ClickHouse string // host:port (native protocol)
	Prefix     string // topic prefix, unique to the run
	DB         string // ClickHouse database, unique to the run
	KillEvery  time.Duration
	// StormEvery, when > 0, makes every StormEvery-th tick a rebalance
	// storm instead of a kill: three extra members join a random consumer
	// stage's group and leave again (killed) a second later.
	StormEvery int
	// CutEvery, when > 0, makes every CutEvery-th tick a network cut
	// between the stages and ClickHouse (through a local TCP proxy) for
	// a few seconds instead of a kill. ClickHouse itself is never touched.
	CutEvery int
	// Services, when set, are the soak's own broker and ClickHouse server
	// (Brokers and ClickHouse are then theirs): the faults below need
	// them. The stages reach Kafka through Services.KafkaProxy.
	Services *Services
	// BrokerRestartEvery, when > 0, makes every n-th tick a broker crash
	// (SIGKILL) and restart on the same data after 1-5 s down.
	BrokerRestartEvery int
	// ClickHouseRestartEvery, when > 0, makes every n-th tick a ClickHouse
	// crash (SIGKILL) and restart after 1-5 s down.
	ClickHouseRestartEvery int
	// KafkaCutEvery, when > 0, makes every n-th tick a 2-5 s network fault
	// between every client and the broker: in turn a cut (connections
	// closed, new ones refused) or a stall (connections open, no byte
	// passes).
	KafkaCutEvery int
	// With are the stages that run in the ingest process (earshot ingest
	// --with match,enrich) instead of their own; the kills then hit the
	// chain, whose in-memory hand-offs a restart must read again.
	With []string
	// Victims, when set, are the processes the kills pick from (default:
	// every process of the run); "ingest" alone aims every kill at a chain.
	Victims []string
	// DrainStall: after the faults, how long ClickHouse may gain no new
	// alert id before the comparison is made (default 2 minutes).
	DrainStall time.Duration
}

// stageBrokers is the broker address the stage processes are given.
func (d *Distributed) stageBrokers() string {
	if d.Services != nil {
		return d.Services.KafkaProxy.Addr()
	}
	return d.Brokers
}

var stages = []string{"ingest", "match", "enrich", "route", "sink"}

// layout are the processes of the run: ingest first, then each stage not
// in With.
func (d *Distributed) layout() []string {
	return slices.DeleteFunc(slices.Clone(stages), func(s string) bool { return slices.Contains(d.With, s) })
}

func (d *Distributed) config(path, clickhouse string) (string, error) {
	ex := filepath.Join(d.Root, "deploy", "examples")
	y := fmt.Sprintf(`transport:
  kind: kafka
  topic_prefix: %s
  kafka:
    brokers: [%s]
    partitions: 4
    session_timeout: 6s
ingest:
  source: file
  file:
    path: %q
    rate: %d
    checkpoint: %q
    checkpoint_every: 100ms
match:
  watchlists: %q
enrich:
  clustering: "off"
route:
  policy: %q
  org: %q
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
`, d.Prefix, d.stageBrokers(), path, d.Rate, filepath.Join(d.Dir, "distributed.ckpt"), filepath.Join(ex, "watchlists"), filepath.Join(ex, "routing.yaml"), filepath.Join(ex, "org.yaml"), clickhouse, d.DB)
	cfg := filepath.Join(d.Dir, "distributed.yaml")
	return cfg, os.WriteFile(cfg, []byte(y), 0o644)
}

type stageProc struct {
	name   string
	cmd    *exec.Cmd
	done   chan struct{}
	err    error
	stderr *os.File
}

func (d *Distributed) start(stage, cfg string) (*stageProc, error) {
	errf, err := os.OpenFile(filepath.Join(d.Dir, stage+".stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	p := &stageProc{name: stage, done: make(chan struct{}), stderr: errf}
	args := []string{stage, "--config", cfg, "--progress", "0", "--quiet", "--metrics-addr", "127.0.0.1:0", "--log-level", "warn"}
	if stage == "ingest" && len(d.With) > 0 {
		args = append(args, "--with", strings.Join(d.With, ","))
	}
	p.cmd = exec.Command(d.Bin, args...)
	p.cmd.Stderr = errf
	p.cmd.Env = append(os.Environ(), "GOTRACEBACK=all") // a SIGQUIT from diagnose dumps every goroutine
	if err := p.cmd.Start(); err != nil {
		errf.Close()
		return nil, err
	}
	go func() { p.err = p.cmd.Wait(); errf.Close(); close(p.done) }()
	return p, nil
}

func (p *stageProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Run writes the input, makes the reference run (embedded, no faults) and
// soaks the stage processes for `until`.
func (d *Distributed) Run(ctx context.Context, until time.Duration, logf func(string, ...any)) (Result, error) {
	path, poison, err := d.WritePosts()
	if err != nil {
		return Result{}, err
	}
	fast := d.Embedded
	fast.Rate = 0 // the reference need not wait for the soak's pace
	ref, err := fast.WriteConfig("reference", path, filepath.Join(d.Dir, "reference.ckpt"))
	if err != nil {
		return Result{}, err
	}
	var reference Output
	if err := d.Embedded.Run(ctx, ref, 0, Kill, &reference); err != nil {
		return Result{}, fmt.Errorf("reference run: %w", err)
	}
	logf("reference run: %d alert ids, %d dead letters", len(reference.Alerts), len(reference.Dead))
	if len(reference.Alerts) == 0 {
		return Result{}, errors.New("the reference run raised no alert")
	}
	res, err := d.Soak(ctx, path, &reference, until, logf)
	res.PoisonIn = poison
	return res, err
}

// Soak feeds the input through the stage processes, killing one at random
// every KillEvery for at least `until` (and until the input is read),
// then waits for ClickHouse to hold every expected alert and compares.
func (d *Distributed) Soak(ctx context.Context, path string, reference *Output, until time.Duration, logf func(string, ...any)) (Result, error) {
	start := time.Now()
	res := Result{PostsIn: d.Posts, Expected: len(reference.Alerts), DeadLetters: len(reference.Dead)}
	if d.Services == nil && (d.BrokerRestartEvery > 0 || d.ClickHouseRestartEvery > 0 || d.KafkaCutEvery > 0) {
		return res, errors.New("broker and ClickHouse restarts and Kafka cuts need the soak's own Services")
	}
	px, err := newProxy(d.ClickHouse)
	if err != nil {
		return res, err
	}
	defer px.Close()
	cfg, err := d.config(path, px.Addr())
	if err != nil {
		return res, err
	}
	if d.Services == nil { // private services go with their directory
		defer func() {
			if err := d.cleanup(); err != nil {
				logf("cleaning up: %v", err)
			}
		}()
	}
	procs := map[string]*stageProc{}
	defer func() {
		for _, p := range procs {
			p.cmd.Process.Kill()
			<-p.done
		}
	}()
	stages := d.layout()
	for _, s := range stages[1:] {
		if procs[s], err = d.start(s, cfg); err != nil {
			return res, err
		}
	}
	if procs["ingest"], err = d.start("ingest", cfg); err != nil {
		return res, err
	}
	rng := rand.New(rand.NewPCG(d.Seed, 3))
	ingested := false
	tick := time.NewTicker(d.KillEvery)
	defer tick.Stop()
	for ticks := 1; !ingested || time.Since(start) < until; ticks++ {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-tick.C:
		}
		for name, p := range procs {
			if !p.exited() {
				continue
			}
			if name == "ingest" && p.err == nil {
				ingested = true // the file is read and produced
				continue
			}
			return res, fmt.Errorf("%s exited on its own: %v (see %s)", name, p.err, p.stderr.Name())
		}
		at := time.Since(start).Round(time.Second)
		switch {
		case d.BrokerRestartEvery > 0 && ticks%d.BrokerRestartEvery == 0:
			down := time.Duration(1+rng.IntN(5)) * time.Second
			t0 := time.Now()
			if err := d.Services.RestartKafka(ctx, down); err != nil {
				return res, err
			}
			res.BrokerRestarts++
			res.Faults++
			logf("%s: broker SIGKILL, down %s, listening again after %s", at, down, time.Since(t0).Round(100*time.Millisecond))
			continue
		case d.ClickHouseRestartEvery > 0 && ticks%d.ClickHouseRestartEvery == 0:
			down := time.Duration(1+rng.IntN(5)) * time.Second
			t0 := time.Now()
			if err := d.Services.RestartClickHouse(ctx, down); err != nil {
				return res, err
			}
			res.CHRestarts++
			res.Faults++
			logf("%s: ClickHouse SIGKILL, down %s, listening again after %s", at, down, time.Since(t0).Round(100*time.Millisecond))
			continue
		case d.KafkaCutEvery > 0 && ticks%d.KafkaCutEvery == 0:
			cut := time.Duration(2+rng.IntN(4)) * time.Second
			if res.KafkaCuts%2 == 0 {
				logf("%s: network cut to Kafka for %s", at, cut)
				d.Services.KafkaProxy.cut(cut)
			} else {
				logf("%s: network stall to Kafka for %s (connections open, no byte passes)", at, cut)
				d.Services.KafkaProxy.stall(cut)
			}
			res.KafkaCuts++
			res.Faults++
			continue
		}
		if d.CutEvery > 0 && ticks%d.CutEvery == 0 {
			cut := time.Duration(2+rng.IntN(4)) * time.Second
			logf("%s: network cut to ClickHouse for %s", time.Since(start).Round(time.Second), cut)
			px.cut(cut)
			res.Cuts++
			res.Faults++
			continue
		}
		if d.StormEvery > 0 && ticks%d.StormEvery == 0 {
			stage := stages[1+rng.IntN(len(stages)-1)]
			var extra []*stageProc
			for range 3 {
				p, err := d.start(stage, cfg)
				if err != nil {
					return res, err
				}
				extra = append(extra, p)
			}
			time.Sleep(time.Second)
			for _, p := range extra {
				p.cmd.Process.Signal(syscall.SIGKILL)
				<-p.done
			}
			res.Rebalances += 2 * len(extra)
			res.Runs += len(extra)
			res.Faults++
			logf("%s: rebalance storm on %s: %d joins and leaves", time.Since(start).Round(time.Second), stage, 2*len(extra))
			continue
		}
		victims := stages
		if len(d.Victims) > 0 {
			victims = d.Victims
		}
		victim := victims[rng.IntN(len(victims))]
		if victim == "ingest" && ingested {
			continue
		}
		p := procs[victim]
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		res.Faults++
		res.Runs++
		if res.Killed == nil {
			res.Killed = map[string]int{}
		}
		res.Killed[victim]++
		logf("%s: SIGKILL %s", time.Since(start).Round(time.Second), victim)
		time.Sleep(200 * time.Millisecond)
		if procs[victim], err = d.start(victim, cfg); err != nil {
			return res, err
		}
	}
	logf("%s: faults stopped after %d; waiting for ClickHouse", time.Since(start).Round(time.Second), res.Faults)
	defer func() { logf("%s: compared", time.Since(start).Round(time.Second)) }()

	c := sink.DefaultConfig()
	c.Addr = []string{d.ClickHouse}
	conn, err := sink.Open(c)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	// The stages may be far behind after the faults (a loaded machine, a
	// backlog at the sink): wait while ClickHouse keeps filling, and give
	// up after DrainStall without a new alert id, which tells a slow
	// pipeline from one that lost something.
	got := map[string]bool{}
	stall := d.DrainStall
	if stall <= 0 {
		stall = 2 * time.Minute
	}
	deadline, last := time.Now().Add(stall), 0
	for {
		got = map[string]bool{}
		rows, err := conn.Query(ctx, "SELECT alert_id FROM "+d.DB+".alerts FINAL")
		if err == nil {
			for rows.Next() {
				var id string
				if rows.Scan(&id) == nil {
					got[id] = true
				}
			}
			rows.Close()
		}
		if len(got) >= len(reference.Alerts) || time.Now().After(deadline) {
			break
		}
		if len(got) > last {
			deadline, last = time.Now().Add(stall), len(got)
		}
		time.Sleep(time.Second)
	}
	time.Sleep(3 * time.Second) // let anything in flight land before the final counts
	for id := range reference.Alerts {
		if !got[id] {
			res.Lost++
		}
	}
	for id := range got {
		if _, ok := reference.Alerts[id]; !ok {
			res.Unexpected++
		}
	}
	var dup uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM (SELECT queue, alert_id FROM "+d.DB+".alerts FINAL GROUP BY queue, alert_id HAVING count() > 1)").Scan(&dup); err != nil {
		return res, fmt.Errorf("counting duplicate alerts: %w", err)
	}
	res.Duplicated = int(dup)
	var raw uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+d.DB+".alerts").Scan(&raw); err == nil {
		res.Redelivered = int(raw) - len(got)
	}

	dead, err := readDeadTopic(ctx, d.Brokers, d.Prefix+".deadletter")
	if err != nil {
		return res, err
	}
	for r := range reference.Dead {
		if !dead[r] {
			res.DeadLost++
			if len(res.DeadLostSample) < 3 {
				res.DeadLostSample = append(res.DeadLostSample, r)
			}
		}
	}
	if !res.OK() {
		d.diagnose(ctx, procs, dead, reference.Dead, logf)
	}
	res.Runs += len(d.layout()) // the first start of each
	res.Duration = time.Since(start)
	return res, nil
}

// cleanup deletes the run's topics and drops its database.
func (d *Distributed) cleanup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tr := &kafka.Transport{} // its own, closed after: kafka.DefaultTransport's pools outlive the test
	defer tr.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(d.Brokers), Transport: tr}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return err
	}
	var topics []string
	for _, t := range md.Topics {
		if strings.HasPrefix(t.Name, d.Prefix+".") {
			topics = append(topics, t.Name)
		}
	}
	if len(topics) > 0 {
		if _, err := client.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: topics}); err != nil {
			return fmt.Errorf("deleting topics %v: %w", topics, err)
		}
	}
	c := sink.DefaultConfig()
	c.Addr = []string{d.ClickHouse}
	conn, err := sink.Open(c)
	if err != nil {
		return err
	}
	defer conn.Close()
	// Dropped until it is gone: on a busy server a drop can take long or
	// stop half-way.
	for attempt := 0; ; attempt++ {
		err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+d.DB)
		var n uint64
		if err == nil {
			err = conn.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = '"+d.DB+"'").Scan(&n)
		}
		if err == nil && n == 0 {
			return nil
		}
		if attempt == 5 || ctx.Err() != nil {
			return fmt.Errorf("dropping database %s: %v (%d left)", d.DB, err, n)
		}
		time.Sleep(2 * time.Second)
	}
}

// readDeadTopic reads the dead-letter topic from the start to its end and
// returns the dead letters by reason (as readDead keys them).
func readDeadTopic(ctx context.Context, addr, topic string) (map[string]bool, error) {
	tr := &kafka.Transport{} // its own, closed after: kafka.DefaultTransport's pools outlive the test
	defer tr.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(addr), Transport: tr}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, err
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil {
		if len(md.Topics) == 1 && errors.Is(md.Topics[0].Error, kafka.UnknownTopicOrPartition) {
			return map[string]bool{}, nil
		}
		return nil, fmt.Errorf("metadata for %s: %+v", topic, md.Topics)
	}
	out := map[string]bool{}
	var mu sync.Mutex
	for _, part := range md.Topics[0].Partitions {
		offs, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(part.ID)}}})
		if err != nil {
			return nil, err
		}
		end := offs.Topics[topic][0].LastOffset
		for off := int64(0); off < end; {
			res, err := client.Fetch(ctx, &kafka.FetchRequest{Topic: topic, Partition: part.ID, Offset: off, MinBytes: 1, MaxBytes: 16 << 20, MaxWait: time.Second})
			if err != nil || res.Error != nil {
				return nil, fmt.Errorf("fetching %s/%d at %d: %v %v", topic, part.ID, off, err, res.Error)
			}
			n := 0
			for {
				rec, err := res.Records.ReadRecord()
				if err != nil {
					break
				}
				n++
				v, _ := io.ReadAll(rec.Value)
				off = rec.Offset + 1
				dl, err := post.DecodeDeadLetter(v)
				if err != nil {
					continue
				}
				mu.Lock()
				out[nowRe.ReplaceAllString(fmt.Sprintf("%q", dl.Reason), "")] = true
				mu.Unlock()
			}
			if n == 0 {
				break
			}
		}
	}
	return out, nil
}
