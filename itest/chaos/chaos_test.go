//go:build integration

package chaos

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
)

var (
	bin  string // the earshot binary under test
	root string // the repository
)

func TestMain(m *testing.M) {
	wd, _ := os.Getwd()
	root = filepath.Dir(filepath.Dir(wd))
	dir, err := os.MkdirTemp("", "earshot-chaos")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "earshot")
	build := exec.Command("go", "build", "-o", bin, "./cmd/earshot")
	build.Dir, build.Stdout, build.Stderr = root, os.Stdout, os.Stderr
	if b := os.Getenv("CHAOS_EARSHOT_BIN"); b != "" {
		bin = b // another build under test (an older one, to see a test fail)
	} else if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building earshot:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		// every goroutine the soaks start (readers of the processes' output,
		// fault timers) is stopped when they end
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// soak runs one embedded soak of posts posts (two alert ids each) with at
// least kills faults of the given kind, reading at rate posts/s (0: as
// fast as possible). A run must last past the latest fault (1.5 s after a
// start) even on a fast machine, or no fault lands.
func soak(t *testing.T, fault Fault, kills, posts, rate int, poison float64) Result {
	t.Helper()
	e := &Embedded{Bin: bin, Root: root, Dir: t.TempDir(), Posts: posts, Rate: rate, Poison: poison, Seed: uint64(time.Now().UnixNano())}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	only := fault
	res, err := e.Soak(ctx, SoakOptions{Faults: kills, MinAfter: 300 * time.Millisecond, MaxAfter: 1500 * time.Millisecond, Fault: &only}, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Line())
	return res
}

// TestEmbeddedKillLosesNoAlert is issue 16 (1): kill -9 of earshot run
// reading a file with a checkpoint, then a resume, must raise every alert
// an uninterrupted run raises.
func TestEmbeddedKillLosesNoAlert(t *testing.T) {
	res := soak(t, Kill, 3, 20_000, 10_000, 0) // 2 s a run
	if res.Faults < 1 {
		t.Fatalf("no kill landed before the run ended: %s", res.Line())
	}
	if !res.OK() {
		t.Errorf("kill -9 and resume: %s", res.Line())
	}
}

// TestEmbeddedForcedQuitLosesNoAlert is issue 16 (2): a second SIGTERM
// quits at once, and a resume must replay whatever was not finished.
func TestEmbeddedForcedQuitLosesNoAlert(t *testing.T) {
	// As fast as possible, so that the queues are full when it quits: the
	// reference run of 20,000 posts took 1.4 s on an idle machine, too
	// short for a fault 0.3-1.5 s after the start to land for sure.
	res := soak(t, ForceQuit, 3, 100_000, 0, 0)
	if res.Faults < 1 {
		t.Fatalf("no forced quit landed before the run ended: %s", res.Line())
	}
	if !res.OK() {
		t.Errorf("forced quit and resume: %s", res.Line())
	}
}

// TestChaosEmbedded is the soak's short run for CI (`make chaos` runs it
// for as long as asked): kills and forced quits at random moments over
// rounds of 20,000 posts with 1% poison lines, for about half a minute.
func TestChaosEmbedded(t *testing.T) {
	e := &Embedded{Bin: bin, Root: root, Dir: t.TempDir(), Posts: 20_000, Rate: 10_000, Poison: 0.01, Seed: uint64(time.Now().UnixNano())}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := e.Soak(ctx, SoakOptions{Faults: 2, MinAfter: 200 * time.Millisecond, MaxAfter: 1500 * time.Millisecond, Until: 30 * time.Second}, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Line())
	if res.Faults < 2 || res.DeadLetters == 0 {
		t.Fatalf("the soak injected %d faults and saw %d dead letters; want some of each: %s", res.Faults, res.DeadLetters, res.Line())
	}
	if !res.OK() {
		t.Errorf("chaos: %s", res.Line())
	}
}

// TestChaosDistributed is the distributed soak's short run: the five stage
// processes on the local Kafka and ClickHouse, one killed with SIGKILL
// every three seconds (the groups rebalance), every third time a storm of
// extra members joining and leaving a group instead, every fourth a network
// cut to ClickHouse (a local proxy), 1% poison lines; ClickHouse
// must end with every alert of a run without faults, each once under
// FINAL, and the dead-letter topic with every dead letter.
func TestChaosDistributed(t *testing.T) { chaosDistributed(t, 20_000, 1_000) }

// TestChaosDistributedFused is TestChaosDistributed with match and enrich
// in the ingest process (earshot ingest --with match,enrich), every kill
// aimed at it while it reads: a SIGKILL loses what it held in memory,
// which the file source's checkpoint must not have passed. The file is
// read at full speed, so that the chain's queues are full when it dies
// (at 1,000 posts/s they hold a few posts, and a checkpoint that ran
// ahead of them was never caught).
func TestChaosDistributedFused(t *testing.T) { chaosDistributed(t, 100_000, 0, "match", "enrich") }

func chaosDistributed(t *testing.T, posts, rate int, with ...string) {
	for _, addr := range []string{"127.0.0.1:9092", "127.0.0.1:9000"} {
		if c, err := net.DialTimeout("tcp", addr, 2*time.Second); err != nil {
			t.Fatalf("the distributed soak needs Kafka and ClickHouse: %v (run `make up`)", err)
		} else {
			c.Close()
		}
	}
	id := fmt.Sprintf("chaos_%d", time.Now().UnixNano()%1e9)
	dir := t.TempDir()
	KeepOnFailure(t, dir)
	d := &Distributed{
		Embedded: Embedded{Bin: bin, Root: root, Dir: dir, Posts: posts, Rate: rate, Poison: 0.01, Seed: uint64(time.Now().UnixNano())},
		Brokers:  "127.0.0.1:9092", ClickHouse: "127.0.0.1:9000", Prefix: "chaos." + id, DB: id, KillEvery: 3 * time.Second, StormEvery: 3, CutEvery: 4,
		With: with,
	}
	if len(with) > 0 {
		d.Victims = []string{"ingest"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := d.Run(ctx, 20*time.Second, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Line())
	for _, s := range res.DeadLostSample {
		t.Logf("dead letter never on the topic: %.300s", s)
	}
	if res.Faults < 3 || res.Rebalances < 10 || res.Cuts < 1 {
		t.Fatalf("only %d faults and %d joins and leaves injected: %s", res.Faults, res.Rebalances, res.Line())
	}
	if len(with) > 0 && res.Killed["ingest"] < 2 {
		t.Fatalf("the chain (ingest --with %v) was killed %d times while it read; want 2 or more", with, res.Killed["ingest"])
	}
	if !res.OK() {
		t.Errorf("distributed chaos: %s", res.Line())
	}
}

// TestChaosDistributedRestarts is the rest of issue 16's fault schedule,
// on a broker and a ClickHouse server of the test's own (the shared ones
// are never touched): the broker and ClickHouse crash (SIGKILL) and come
// back on the same data, the network to Kafka is cut (connections closed,
// new ones refused) or stalled (open, no byte passes) through a proxy
// the broker advertises, the network to ClickHouse is cut, and between
// them a random stage process is killed. ClickHouse must end with every
// alert of a run without faults, each once under FINAL, and the
// dead-letter topic with every dead letter.
func TestChaosDistributedRestarts(t *testing.T) {
	libs := filepath.Join(root, ".local/kafka/libs")
	if _, err := os.Stat(libs); err != nil {
		t.Skipf("no Kafka jars in %s (make up installs them): %v", libs, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	dir, svcDir := t.TempDir(), t.TempDir()
	KeepOnFailure(t, dir, svcDir)
	svc, err := StartServices(ctx, svcDir, libs)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	id := fmt.Sprintf("chaos_%d", time.Now().UnixNano()%1e9)
	d := &Distributed{
		Embedded: Embedded{Bin: bin, Root: root, Dir: dir, Posts: 20_000, Rate: 1_000, Poison: 0.01, Seed: uint64(time.Now().UnixNano())},
		Brokers:  svc.Broker, ClickHouse: svc.ClickHouse, Prefix: "chaos." + id, DB: id, KillEvery: 3 * time.Second,
		// Ticks: 1 kill, 2 Kafka cut, 3 ClickHouse restart, 4 Kafka stall,
		// 5 broker restart (20-25 s on a loaded machine), 6 ClickHouse
		// restart, 7 ClickHouse cut, ...
		Services: svc, KafkaCutEvery: 2, ClickHouseRestartEvery: 3, BrokerRestartEvery: 5, CutEvery: 7,
	}
	res, err := d.Run(ctx, 60*time.Second, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Line())
	for _, s := range res.DeadLostSample {
		t.Logf("dead letter never on the topic: %.300s", s)
	}
	if res.BrokerRestarts < 1 || res.CHRestarts < 2 || res.KafkaCuts < 2 || res.Cuts < 1 || res.Runs <= len(stages) {
		t.Fatalf("too few faults of some kind injected: %s", res.Line())
	}
	if !res.OK() {
		t.Errorf("distributed chaos with restarts: %s", res.Line())
	}
}
