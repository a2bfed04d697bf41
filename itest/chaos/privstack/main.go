// Command privstack starts a private Kafka broker (no proxy in front) and
// a private ClickHouse server under a directory of its own and keeps them
// up until it is interrupted, printing the bench/distributed flags that
// point at them: measurements of the broker's and ClickHouse's CPU per post
// then count only the run's own traffic, not other users' of the shared
// local stack.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"syscall"

	"github.com/earshot-dev/earshot/itest/chaos"
)

func main() {
	dir := flag.String("dir", "", "where the servers' data, configs and logs go (required; emptied first)")
	libs := flag.String("kafka-libs", ".local/kafka/libs", "the Kafka jars (`make up` installs them)")
	logs := flag.Bool("query-logs", false, "keep ClickHouse's system.query_log and system.part_log (inserts, their CPU, parts and merges per run)")
	flag.Parse()
	if *dir == "" {
		log.Fatal("privstack: -dir is required")
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		log.Fatal(err)
	}
	absLibs, err := filepath.Abs(*libs)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.RemoveAll(abs); err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := chaos.StartBroker(ctx, filepath.Join(abs, "kafka"), absLibs)
	if err != nil {
		log.Fatalf("privstack: broker: %v", err)
	}
	defer b.Kill()
	ch, err := chaos.StartClickHouse(ctx, filepath.Join(abs, "clickhouse"), *logs)
	if err != nil {
		log.Fatalf("privstack: clickhouse: %v", err)
	}
	defer ch.Close()
	q := regexp.QuoteMeta
	fmt.Printf("-broker %s -clickhouse %s -broker-process '%s' -clickhouse-process '%s'\n",
		b.Addr, ch.ClickHouse,
		`^java .* kafka\.Kafka `+q(filepath.Join(abs, "kafka", "server.properties")),
		`^\S*clickhouse-server --config-file=`+q(filepath.Join(abs, "clickhouse", "clickhouse")))
	<-ctx.Done()
}
