package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/pipeline"
)

// TestSecretsOnlyWhereUsed: a process checks the secrets of the parts it
// runs, at start, and no others. With a notify channel's and a webhook
// endpoint's variables unset, earshot ingest (and match) start: they get
// past the configuration to Kafka (here unreachable: exit 1, not 2);
// earshot notify and earshot webhook refuse at once (exit 2, before
// waiting for Kafka), naming the variable; so does earshot run, which runs
// them all.
func TestSecretsOnlyWhereUsed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	ex := examples(t)
	os.Unsetenv("EARSHOT_TEST_UNSET_SLACK_URL")
	os.Unsetenv("EARSHOT_TEST_UNSET_HOOK_SECRET")
	secrets := "notify:\n  channels:\n    legal-slack: {kind: slack, url_env: EARSHOT_TEST_UNSET_SLACK_URL, queues: [legal]}\n" +
		"webhook:\n  endpoints:\n    legal: {url: 'http://127.0.0.1:1/hook', secret_env: EARSHOT_TEST_UNSET_HOOK_SECRET}\n"
	dir := t.TempDir()
	kafka := filepath.Join(dir, "kafka.yaml")
	body := "transport:\n  kind: kafka\n  topic_prefix: secrets_scope\n  kafka:\n    brokers: [" + closed + "]\n    connect_timeout: 1s\n" +
		"ingest: {source: synthetic}\n" +
		"match: {watchlists: " + filepath.Join(ex, "watchlists") + "}\nroute: {policy: " + filepath.Join(ex, "routing.yaml") + "}\n" + secrets
	if err := os.WriteFile(kafka, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, stage := range []string{"ingest", "match"} {
		var out, errb bytes.Buffer
		err := run([]string{stage, "--config", kafka, "--metrics-addr", "127.0.0.1:0"}, &out, &errb)
		if err == nil || errors.Is(err, pipeline.ErrConfig) || !strings.Contains(err.Error(), "unreachable") {
			t.Errorf("earshot %s: %v (exit %d), want it past the configuration, to the unreachable Kafka (exit 1)", stage, err, exitCode(err))
		}
	}
	for stage, want := range map[string]string{
		"notify":  "EARSHOT_TEST_UNSET_SLACK_URL",
		"webhook": "EARSHOT_TEST_UNSET_HOOK_SECRET",
	} {
		var out, errb bytes.Buffer
		err := run([]string{stage, "--config", kafka, "--metrics-addr", "127.0.0.1:0"}, &out, &errb)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), want) {
			t.Errorf("earshot %s: %v (exit %d), want exit 2 naming %s", stage, err, exitCode(err), want)
		}
	}

	base, _ := os.ReadFile(filepath.Join(ex, "embedded.yaml"))
	embedded := strings.NewReplacer("watchlists: watchlists", "watchlists: "+filepath.Join(ex, "watchlists"),
		"policy: routing.yaml", "policy: "+filepath.Join(ex, "routing.yaml"),
		"org: org.yaml", "org: "+filepath.Join(ex, "org.yaml")).Replace(string(base))
	runCfg := filepath.Join(dir, "run.yaml")
	if err := os.WriteFile(runCfg, []byte(embedded+"\n"+secrets), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	err = run([]string{"run", "--config", runCfg, "--rate", "0", "--limit", "10", "--quiet", "--progress", "0", "--metrics-addr", "127.0.0.1:0"}, &out, &errb)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "EARSHOT_TEST_UNSET_SLACK_URL") || !strings.Contains(err.Error(), "EARSHOT_TEST_UNSET_HOOK_SECRET") {
		t.Errorf("earshot run: %v (exit %d), want exit 2 naming both variables", err, exitCode(err))
	}
}
