package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/api"
	"github.com/earshot-dev/earshot/ingest"
	"github.com/earshot-dev/earshot/strictyaml"
)

// TestSecretsReadWhereUsed: Config.Validate, which every process runs,
// checks that each secret is named well but reads none; CheckSecrets reads
// those of the parts a process runs, and only those, naming what is
// missing: the ClickHouse password and client certificate in sink, route
// (escalations read ClickHouse), api and run; the API's key pair in api and
// run; the source's token in ingest and run; the channels' and endpoints'
// secrets in notify, webhook and run.
func TestSecretsReadWhereUsed(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "none")
	for _, v := range []string{"EARSHOT_T_CH_PW", "EARSHOT_T_REDDIT", "EARSHOT_T_SLACK", "EARSHOT_T_HOOK"} {
		os.Unsetenv(v)
	}
	cfg := Default()
	cfg.Transport.Kind = "kafka"
	cfg.Match.Watchlists, cfg.Route.Policy = examples(t, "watchlists"), examples(t, "routing.yaml")
	cfg.Sink.Enabled, cfg.Sink.PasswordEnv = true, "EARSHOT_T_CH_PW"
	cfg.Sink.TLS.Enabled, cfg.Sink.TLS.CertFile, cfg.Sink.TLS.KeyFile = true, missing+".crt", missing+".key"
	cfg.API.Addr, cfg.API.StateDir = "127.0.0.1:0", dir
	cfg.API.TLS = api.TLSConfig{CertFile: missing + ".api.crt", KeyFile: missing + ".api.key"}
	cfg.Ingest.Source = "reddit"
	cfg.Ingest.Reddit.Subreddits, cfg.Ingest.Reddit.ClientID, cfg.Ingest.Reddit.ClientSecretEnv = []string{"golang"}, "id", "EARSHOT_T_REDDIT"
	cfg.Ingest.Reddit.UserAgent = "test:earshot:1 (by /u/x)"
	if err := yamlNotify(&cfg, "EARSHOT_T_SLACK", "EARSHOT_T_HOOK"); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate read a secret: %v", err)
	}
	sinkS := []string{"EARSHOT_T_CH_PW", missing + ".crt"}
	apiS := []string{missing + ".api.crt"}
	for process, want := range map[string][]string{
		Match:   nil,
		Enrich:  nil,
		Index:   nil,
		Ingest:  {"EARSHOT_T_REDDIT"},
		Sink:    sinkS,
		Route:   sinkS,
		Notify:  {"EARSHOT_T_SLACK"},
		Deliver: {"EARSHOT_T_HOOK"},
		API:     append(append([]string{}, apiS...), sinkS...),
		Run:     append(append([]string{"EARSHOT_T_REDDIT", "EARSHOT_T_SLACK", "EARSHOT_T_HOOK"}, apiS...), sinkS...),
	} {
		err := cfg.CheckSecrets(process)
		if len(want) == 0 {
			if err != nil {
				t.Errorf("%s: %v, want nothing read", process, err)
			}
			continue
		}
		if err == nil || !errorsIsConfig(err) {
			t.Errorf("%s: %v, want a configuration error", process, err)
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want it naming %s", process, err, w)
			}
		}
		for _, other := range []string{"EARSHOT_T_CH_PW", "EARSHOT_T_REDDIT", "EARSHOT_T_SLACK", "EARSHOT_T_HOOK", ".api.crt"} {
			named := false
			for _, w := range want {
				named = named || strings.Contains(w, other)
			}
			if !named && strings.Contains(err.Error(), other) {
				t.Errorf("%s reads %s, a secret of a part it does not run: %v", process, other, err)
			}
		}
	}
	// earshot ingest taking pushed posts through the API serves the API:
	// its key pair and ClickHouse too, and the tenants' token files.
	push := cfg
	push.Ingest.Source, push.Ingest.Push.Addr = "push", ""
	push.Ingest.Push.Tenants = []ingest.PushTenant{{Name: "acme", TokenFile: missing + ".token"}}
	if err := push.Validate(); err != nil {
		t.Fatalf("Validate read a secret: %v", err)
	}
	err := push.CheckSecrets(Ingest)
	for _, w := range append([]string{missing + ".token"}, append(apiS, sinkS...)...) {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("ingest through the API: %v, want it naming %s", err, w)
		}
	}
	if err := push.CheckSecrets(Match); err != nil {
		t.Errorf("match with a push source: %v", err)
	}
}

func errorsIsConfig(err error) bool { return errors.Is(err, ErrConfig) }

// yamlNotify gives cfg a Slack channel on queue legal and a webhook
// endpoint for it, their secrets in the variables slack and hook.
func yamlNotify(cfg *Config, slack, hook string) error {
	return strictyaml.Decode("notify.yaml", []byte("notify:\n  channels:\n    legal-slack: {kind: slack, url_env: "+slack+", queues: [legal]}\n"+
		"webhook:\n  endpoints:\n    legal: {url: 'https://example.com/hook', secret_env: "+hook+"}\n"), cfg)
}
