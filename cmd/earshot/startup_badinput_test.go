package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/pipeline"
)

// TestUnreachableAtStart: with kafka.connect_timeout set, a stage gives up
// on brokers it cannot reach with an error naming them, and migrate says
// which ClickHouse it could not reach; neither is a configuration error.
func TestUnreachableAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // nothing listens here now
	ex := examples(t)
	cfg := filepath.Join(t.TempDir(), "down.yaml")
	body := "transport:\n  kind: kafka\n  topic_prefix: f_bad.down\n  kafka:\n    brokers: [" + closed + "]\n    connect_timeout: 1s\n" +
		"match: {watchlists: " + filepath.Join(ex, "watchlists") + "}\nroute: {policy: " + filepath.Join(ex, "routing.yaml") + "}\n" +
		"sink: {enabled: true, addr: [" + closed + "], database: f_bad_down}\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"match", "--config", cfg, "--metrics-addr", "127.0.0.1:0"}, "kafka brokers [" + closed + "] unreachable after"},
		{[]string{"migrate", "--config", cfg}, "preparing database f_bad_down: dial tcp " + closed},
	} {
		start := time.Now()
		var out, errb bytes.Buffer
		err := run(c.args, &out, &errb)
		if err == nil || !strings.Contains(err.Error(), c.want) || errors.Is(err, pipeline.ErrConfig) || exitCode(err) != 1 {
			t.Errorf("%s: %v (exit %d), want a failure (exit 1) holding %q", c.args[0], err, exitCode(err), c.want)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("%s took %v to give up", c.args[0], d)
		}
	}
}
