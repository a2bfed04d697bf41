// Package chaos is earshot's fault-injection soak: it runs the pipeline,
// kills it at random moments, restarts it, feeds it poison records, and at
// the end compares exact sets: every alert a run without faults raises
// must have been raised, and nothing else. `make chaos DURATION=30m` runs it
// (itest/chaos/soak); the integration tests run it for a short while.
package chaos

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Embedded drives `earshot run` over a file source with a checkpoint.
type Embedded struct {
	Bin  string // the earshot binary
	Root string // the repository, for deploy/examples
	Dir  string // a directory of its own for posts, configs, checkpoints and outputs

	Posts  int     // valid posts in the file
	Poison float64 // share of extra lines that are poison (malformed, oversized, pathological)
	Rate   int     // ingest.file.rate; 0 is as fast as possible
	Seed   uint64
	// Config is extra YAML appended to the configuration (for example a
	// runner section).
	Config string
}

// Result is what a soak found.
type Result struct {
	PostsIn        int // valid posts in the input
	PoisonIn       int // poison lines in the input
	Expected       int // alert ids of the reference run
	Lost           int // expected alert ids never seen
	Unexpected     int // alert ids seen that the reference run did not raise
	Duplicated     int // alert ids whose content differed between deliveries (redeliveries of the same alert are not counted)
	Redelivered    int // deliveries of an alert id seen before (at-least-once replays after a kill)
	DeadLetters    int // distinct dead letters (by reason), reference run
	DeadLost       int // reference dead letters never logged under faults
	DeadLostSample []string
	Faults         int // kills (SIGKILL or a forced quit), rebalance storms
	Rebalances     int // joins and leaves of extra group members (distributed)
	Cuts           int // network cuts to ClickHouse (distributed)
	KafkaCuts      int // network cuts and stalls to Kafka (distributed, private services)
	BrokerRestarts int // broker crashes and restarts (distributed, private services)
	CHRestarts     int // ClickHouse crashes and restarts (distributed, private services)
	Runs           int
	Killed         map[string]int // SIGKILLs by process (distributed)
	Duration       time.Duration
}

// Line is the one-line summary the soak prints.
func (r Result) Line() string {
	return fmt.Sprintf("posts_in=%d, lost=%d, duplicated_alerts=%d, dead_letters=%d, faults_injected=%d (expected_alerts=%d unexpected=%d redelivered=%d poison_in=%d dead_lost=%d runs=%d rebalances=%d clickhouse_cuts=%d kafka_cuts=%d broker_restarts=%d clickhouse_restarts=%d duration=%s)",
		r.PostsIn, r.Lost, r.Duplicated, r.DeadLetters, r.Faults, r.Expected, r.Unexpected, r.Redelivered, r.PoisonIn, r.DeadLost, r.Runs, r.Rebalances, r.Cuts, r.KafkaCuts, r.BrokerRestarts, r.CHRestarts, r.Duration.Round(time.Second))
}

// OK reports whether nothing was lost or raised twice differently.
func (r Result) OK() bool {
	return r.Lost == 0 && r.Duplicated == 0 && r.Unexpected == 0 && r.DeadLost == 0
}

// WritePosts writes the input file: Posts valid posts ("acme charged me
// twice, lawsuit now N", which the example watchlists and routing turn into
// two alerts each: legal and a copy to pr) and, among them, poison lines.
func (e *Embedded) WritePosts() (string, int, error) {
	path := filepath.Join(e.Dir, "posts.ndjson")
	f, err := os.Create(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(e.Seed, 99))
	created := time.Now().Add(-30 * time.Minute).UTC().Format(time.RFC3339)
	poison := 0
	for i := range e.Posts {
		if e.Poison > 0 && rng.Float64() < e.Poison {
			w.WriteString(poisonLine(rng, poison))
			w.WriteByte('\n')
			poison++
		}
		fmt.Fprintf(w, `{"platform":"bluesky","id":"r%d","text":"acme charged me twice, lawsuit now %d","created_at":%q}`+"\n", i, i, created)
	}
	if err := w.Flush(); err != nil {
		return "", 0, err
	}
	return path, poison, f.Close()
}

// poisonLine is one bad record: malformed JSON, a line over
// ingest.max_post_bytes, deep nesting, a duplicate key, a post dated far
// in the future, or a post whose text is a pathological case for the
// matcher (one keyword repeated for a hundred kilobytes).
func poisonLine(rng *rand.Rand, n int) string {
	switch rng.IntN(6) {
	case 0:
		return fmt.Sprintf(`{"platform":"bluesky","id":"poison%d","text":"acme lawsuit`, n) // cut short
	case 1:
		return fmt.Sprintf(`{"platform":"bluesky","id":"poison%d","text":%q}`, n, strings.Repeat("x", 2<<20)) // over max_post_bytes
	case 2:
		return strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	case 3:
		return fmt.Sprintf(`{"platform":"bluesky","id":"poison%d","text":"harmless","text":"acme lawsuit fraud"}`, n)
	case 4:
		return fmt.Sprintf(`{"platform":"bluesky","id":"poison%d","text":"acme lawsuit","created_at":"2999-01-01T00:00:00Z"}`, n)
	default:
		// Valid, but the worst case for a proximity rule; it is matched (it may raise alerts).
		return fmt.Sprintf(`{"platform":"bluesky","id":"poison%d","text":%q,"created_at":%q}`, n, strings.Repeat("acme ", 20_000)+strings.Repeat("refund ", 10_000), time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	}
}

// WriteConfig writes a configuration reading path with a checkpoint at
// ckpt; the example watchlists, routing and org decide the alerts.
func (e *Embedded) WriteConfig(name, path, ckpt string) (string, error) {
	ex := filepath.Join(e.Root, "deploy", "examples")
	y := fmt.Sprintf(`transport:
  kind: memory
  topic_prefix: chaos
  queue_size: 8192
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
%s`, path, e.Rate, ckpt, filepath.Join(ex, "watchlists"), filepath.Join(ex, "routing.yaml"), filepath.Join(ex, "org.yaml"), e.Config)
	cfg := filepath.Join(e.Dir, name+".yaml")
	return cfg, os.WriteFile(cfg, []byte(y), 0o644)
}

// Output is what one run printed.
type Output struct {
	Alerts map[string][]string // alert id -> each delivery's content (timestamps of the run left out)
	Dead   map[string]bool     // dead letters by reason
	Killed bool                // the run was killed before it ended on its own
}

// Fault is how a run is stopped early.
type Fault int

const (
	Kill      Fault = iota // SIGKILL
	ForceQuit              // SIGTERM, then SIGTERM again: "quit at once"
)

// Run runs earshot once with config; when after > 0 the run is stopped by
// fault after that long (unless it ended before). Alerts and dead letters
// are added to out.
func (e *Embedded) Run(ctx context.Context, config string, after time.Duration, fault Fault, out *Output) error {
	stdout, err := os.CreateTemp(e.Dir, "stdout")
	if err != nil {
		return err
	}
	defer os.Remove(stdout.Name())
	defer stdout.Close()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, e.Bin, "run", "--config", config, "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var werr error
	if after > 0 {
		select {
		case werr = <-done:
		case <-time.After(after):
			out.Killed = true
			switch fault {
			case Kill:
				cmd.Process.Kill()
			case ForceQuit:
				cmd.Process.Signal(syscall.SIGTERM)
				time.Sleep(20 * time.Millisecond)
				cmd.Process.Signal(syscall.SIGTERM)
			}
			werr = <-done
		}
	} else {
		werr = <-done
	}
	if !out.Killed && werr != nil {
		return fmt.Errorf("earshot run: %w: %s", werr, tail(stderr.String(), 2000))
	}
	if err := readAlerts(stdout.Name(), out); err != nil {
		return err
	}
	readDead(stderr.String(), out)
	return nil
}

// volatile are the alert fields that differ from run to run of the same
// post (when it was seen and raised), left out when comparing contents.
var volatile = []string{"created_at", "ingested_at", "raised_at", "due_at", "escalate_at", "matched_at", "enriched_at", "routed_at"}

func readAlerts(path string, out *Output) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if out.Alerts == nil {
		out.Alerts = map[string][]string{}
	}
	for line := range bytes.Lines(b) {
		var rec struct {
			Alert map[string]any `json:"alert"`
		}
		if json.Unmarshal(line, &rec) != nil || rec.Alert == nil {
			continue // the summary, or a line cut by the kill
		}
		id, _ := rec.Alert["id"].(string)
		for _, k := range volatile {
			delete(rec.Alert, k)
		}
		c, _ := json.Marshal(rec.Alert)
		out.Alerts[id] = append(out.Alerts[id], string(c))
	}
	return nil
}

var nowRe = regexp.MustCompile(` \(now [^)]*\)`)

var deadRe = regexp.MustCompile(`msg="dead letter" .*reason=("(?:[^"\\]|\\.)*"|\S+)`)

func readDead(stderr string, out *Output) {
	if out.Dead == nil {
		out.Dead = map[string]bool{}
	}
	for _, m := range deadRe.FindAllStringSubmatch(stderr, -1) {
		out.Dead[nowRe.ReplaceAllString(m[1], "")] = true // the same dead letter, whenever it is raised
	}
}

// Compare counts what faulty lost or raised beyond reference.
func Compare(reference, faulty *Output) Result {
	var r Result
	r.Expected = len(reference.Alerts)
	for id := range reference.Alerts {
		if _, ok := faulty.Alerts[id]; !ok {
			r.Lost++
		}
	}
	for id, cs := range faulty.Alerts {
		if _, ok := reference.Alerts[id]; !ok {
			r.Unexpected++
		}
		r.Redelivered += len(cs) - 1
		for _, c := range cs[1:] {
			if c != cs[0] {
				r.Duplicated++
				break
			}
		}
	}
	r.DeadLetters = len(reference.Dead)
	for d := range reference.Dead {
		if !faulty.Dead[d] {
			r.DeadLost++
			if len(r.DeadLostSample) < 3 {
				r.DeadLostSample = append(r.DeadLostSample, d)
			}
		}
	}
	return r
}

// SoakOptions say how faults are injected.
type SoakOptions struct {
	Faults   int           // at least this many faults per round
	MinAfter time.Duration // a fault lands between MinAfter and MaxAfter after a start
	MaxAfter time.Duration
	Until    time.Duration // go on with more rounds (each from the start) until this long has passed
	Fault    *Fault        // only this kind of fault; nil mixes kills and forced quits
}

// Soak writes the input, makes a reference run without faults, then runs
// rounds: each reads the input from the start under a checkpoint of its
// own, stopped by a fault at a random moment and restarted (resuming), at
// least o.Faults times and for as long as o.Until allows, then run to its
// end unharmed; each round's alerts and dead letters are compared with the
// reference.
func (e *Embedded) Soak(ctx context.Context, o SoakOptions, logf func(string, ...any)) (Result, error) {
	start := time.Now()
	path, poison, err := e.WritePosts()
	if err != nil {
		return Result{}, err
	}
	ref, err := e.WriteConfig("reference", path, filepath.Join(e.Dir, "reference.ckpt"))
	if err != nil {
		return Result{}, err
	}
	var reference Output
	if err := e.Run(ctx, ref, 0, Kill, &reference); err != nil {
		return Result{}, fmt.Errorf("reference run: %w", err)
	}
	logf("reference run: %d alert ids, %d dead letters, %s", len(reference.Alerts), len(reference.Dead), time.Since(start).Round(time.Millisecond))
	if len(reference.Alerts) == 0 {
		return Result{}, errors.New("the reference run raised no alert")
	}

	rng := rand.New(rand.NewPCG(e.Seed, 7))
	var res Result
	for round := 1; ctx.Err() == nil; round++ {
		ckpt := filepath.Join(e.Dir, fmt.Sprintf("faulty%d.ckpt", round))
		cfg, err := e.WriteConfig(fmt.Sprintf("faulty%d", round), path, ckpt)
		if err != nil {
			return res, err
		}
		var out Output
		for kills := 0; ; {
			after := time.Duration(0)
			if kills < o.Faults || time.Since(start) < o.Until {
				after = o.MinAfter + time.Duration(rng.Int64N(int64(o.MaxAfter-o.MinAfter)+1))
			}
			fault := Kill
			if o.Fault != nil {
				fault = *o.Fault
			} else if rng.IntN(4) == 0 {
				fault = ForceQuit
			}
			out.Killed = false
			if err := e.Run(ctx, cfg, after, fault, &out); err != nil {
				return res, err
			}
			res.Runs++
			if !out.Killed {
				break
			}
			kills++
			res.Faults++
		}
		res.PostsIn += e.Posts
		res.PoisonIn += poison
		r := Compare(&reference, &out)
		r.PostsIn, r.PoisonIn, r.Faults, r.Runs = e.Posts, poison, res.Faults, res.Runs
		logf("round %d: %s", round, r.Line())
		for _, d := range r.DeadLostSample {
			logf("dead letter of the reference run not seen: %.300s", d)
		}
		res.Expected, res.DeadLetters = r.Expected, r.DeadLetters
		res.Lost += r.Lost
		res.Unexpected += r.Unexpected
		res.Duplicated += r.Duplicated
		res.Redelivered += r.Redelivered
		res.DeadLost += r.DeadLost
		if time.Since(start) >= o.Until {
			break
		}
	}
	res.Duration = time.Since(start)
	return res, ctx.Err()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
