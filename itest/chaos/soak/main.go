// Command soak is earshot's chaos soak (itest/chaos): `make chaos
// DURATION=30m` builds earshot and runs it here. It prints one line:
// posts_in, lost, duplicated_alerts, dead_letters, faults_injected; it
// exits 1 unless nothing was lost.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/earshot-dev/earshot/itest/chaos"
)

func main() { os.Exit(run()) }

func run() int {
	var (
		bin      = flag.String("bin", "bin/earshot", "the earshot binary")
		root     = flag.String("root", ".", "the repository (for deploy/examples)")
		duration = flag.Duration("duration", 5*time.Minute, "how long to inject faults")
		posts    = flag.Int("posts", 50_000, "valid posts per round")
		poison   = flag.Float64("poison", 0.01, "share of poison lines")
		rate     = flag.Int("rate", 20_000, "ingest.file.rate, posts/s (0: as fast as possible)")
		minAfter = flag.Duration("min-after", 300*time.Millisecond, "earliest fault after a start")
		maxAfter = flag.Duration("max-after", 3*time.Second, "latest fault after a start")
		seed     = flag.Uint64("seed", uint64(time.Now().UnixNano()), "seed of posts and faults")
		dir      = flag.String("dir", "", "working directory (default: a temporary one, removed after)")
		verbose  = flag.Bool("v", false, "log each round")
		mode     = flag.String("mode", "embedded", "embedded, distributed or both")
		brokers  = flag.String("brokers", "127.0.0.1:9092", "Kafka broker (distributed mode; never restarted)")
		ch       = flag.String("clickhouse", "127.0.0.1:9000", "ClickHouse native address (distributed mode; never restarted)")
		every    = flag.Duration("kill-every", 5*time.Second, "distributed mode: SIGKILL a random stage process this often")
		storm    = flag.Int("storm-every", 4, "distributed mode: every n-th fault is a rebalance storm (3 extra members join and leave a group); 0: none")
		cuts     = flag.Int("cut-every", 5, "distributed mode: every n-th fault is a 2-5 s network cut to ClickHouse (through a local proxy); 0: none")
		distRate = flag.Int("dist-rate", 500, "distributed mode: posts/s; the input lasts the whole duration at this rate")
		private  = flag.Bool("private", false, "distributed mode: run on a broker and a ClickHouse server of the soak's own (free ports, under -dir), which the faults below restart and cut off; -brokers and -clickhouse are then ignored")
		libs     = flag.String("kafka-libs", ".local/kafka/libs", "with -private: the Kafka jars (make up installs them)")
		brokerRe = flag.Int("broker-restart-every", 7, "with -private: every n-th fault is a broker SIGKILL and restart (1-5 s down); 0: none")
		chRe     = flag.Int("clickhouse-restart-every", 6, "with -private: every n-th fault is a ClickHouse SIGKILL and restart (1-5 s down); 0: none")
		kafkaCut = flag.Int("kafka-cut-every", 3, "with -private: every n-th fault is a 2-5 s network cut or stall to Kafka (through a proxy the broker advertises); 0: none")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	work := *dir
	if work == "" {
		d, err := os.MkdirTemp("", "earshot-chaos")
		if err != nil {
			log.Print(err)
			return 2
		}
		defer os.RemoveAll(d)
		work = d
	}
	absBin, _ := filepath.Abs(*bin)
	absRoot, _ := filepath.Abs(*root)
	e := &chaos.Embedded{Bin: absBin, Root: absRoot, Dir: work, Posts: *posts, Poison: *poison, Rate: *rate, Seed: *seed}
	logf := func(string, ...any) {}
	if *verbose {
		logf = func(f string, a ...any) { log.Printf(f, a...) }
	}
	ok := true
	if *mode == "embedded" || *mode == "both" {
		res, err := e.Soak(ctx, chaos.SoakOptions{Faults: 1, MinAfter: *minAfter, MaxAfter: *maxAfter, Until: *duration}, logf)
		if ctx.Err() != nil {
			fmt.Println("embedded (interrupted; the rounds finished before are counted):", res.Line())
		} else {
			fmt.Println("embedded:", res.Line())
		}
		if err != nil && ctx.Err() == nil {
			log.Print(err)
			return 2
		}
		ok = ok && res.OK()
	}
	if *mode == "distributed" || *mode == "both" {
		id := fmt.Sprintf("chaos_%d", time.Now().UnixNano()%1e9)
		d := &chaos.Distributed{Embedded: *e, Brokers: *brokers, ClickHouse: *ch, Prefix: "chaos." + id, DB: id, KillEvery: *every, StormEvery: *storm, CutEvery: *cuts}
		d.Rate, d.Posts = *distRate, max(1000, *distRate*int(duration.Seconds()))
		d.Dir = filepath.Join(work, "distributed")
		if err := os.MkdirAll(d.Dir, 0o755); err != nil {
			log.Print(err)
			return 2
		}
		if *private {
			absLibs, _ := filepath.Abs(*libs)
			svc, err := chaos.StartServices(ctx, filepath.Join(work, "services"), absLibs)
			if err != nil {
				log.Print(err)
				return 2
			}
			defer svc.Close()
			logf("private broker on %s (advertised through %s), ClickHouse on %s", svc.Broker, svc.KafkaProxy.Addr(), svc.ClickHouse)
			d.Services, d.Brokers, d.ClickHouse = svc, svc.Broker, svc.ClickHouse
			d.BrokerRestartEvery, d.ClickHouseRestartEvery, d.KafkaCutEvery = *brokerRe, *chRe, *kafkaCut
		}
		res, err := d.Run(ctx, *duration, logf)
		if err != nil {
			fmt.Println("distributed (stopped before the comparison, counts incomplete):", res.Line())
			log.Print(err)
			return 2
		}
		fmt.Println("distributed:", res.Line())
		ok = ok && res.OK()
	}
	if !ok {
		return 1
	}
	return 0
}
