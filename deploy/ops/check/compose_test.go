package check

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"

	"github.com/earshot-dev/earshot/deploy/ops/image"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/route"
)

const composeFile = "../../compose/compose.yaml"

// earshotStages are the stage processes compose runs, each one service.
var earshotStages = []string{"ingest", "match", "enrich", "route", "sink"}

// optionalServices run behind a profile of the same purpose.
var optionalServices = map[string]string{"index": "search", "webhook": "webhook", "notify": "notify"}

func loadCompose(t *testing.T, file string) (*types.Project, error) {
	t.Helper()
	return loadComposeWith(t, file, nil, nil)
}

// loadComposeWith loads file with the given profiles on and environment
// (as .env or the shell would give it).
func loadComposeWith(t *testing.T, file string, profiles, env []string) (*types.Project, error) {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{file}, cli.WithWorkingDirectory(filepath.Dir(file)), cli.WithEnv(env), cli.WithProfiles(profiles))
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

// compose.yaml is valid against the Compose specification's schema (which
// compose-go embeds) and has the services docs/deploy.md promises.
func TestComposeFile(t *testing.T) {
	p, err := loadCompose(t, composeFile)
	if err != nil {
		t.Fatalf("%s: %v", composeFile, err)
	}
	for _, s := range append([]string{"kafka", "clickhouse", "migrate", "api", "prometheus", "grafana"}, earshotStages...) {
		if _, err := p.GetService(s); err != nil {
			t.Errorf("no service %s: %v", s, err)
		}
	}
	for _, s := range []string{"match", "enrich"} {
		svc, _ := p.GetService(s)
		if svc.Deploy == nil || svc.Deploy.Replicas == nil || *svc.Deploy.Replicas < 2 {
			t.Errorf("service %s: want 2 or more replicas", s)
		}
	}
	if k, _ := p.GetService("kafka"); !strings.HasPrefix(k.Image, "apache/kafka:") || k.Environment["KAFKA_PROCESS_ROLES"] == nil || *k.Environment["KAFKA_PROCESS_ROLES"] != "broker,controller" {
		t.Errorf("kafka: want the apache/kafka image in KRaft mode, got %s %v", k.Image, k.Environment["KAFKA_PROCESS_ROLES"])
	}
	if c, _ := p.GetService("clickhouse"); !strings.HasPrefix(c.Image, "clickhouse/clickhouse-server:") {
		t.Errorf("clickhouse: image %s", c.Image)
	}
	for _, s := range append([]string{"migrate", "api"}, earshotStages...) {
		svc, _ := p.GetService(s)
		if !strings.HasPrefix(svc.Image, "earshot:") {
			t.Errorf("service %s: image %q, want earshot:… (make image)", s, svc.Image)
		}
		if len(svc.Command) == 0 || svc.Command[0] != s && !(s == "migrate" && svc.Command[0] == "migrate") {
			t.Errorf("service %s: command %q, want earshot %s", s, svc.Command, s)
		}
	}
	// Every stage waits for the schema.
	for _, s := range append([]string{"api"}, earshotStages...) {
		svc, _ := p.GetService(s)
		if d, ok := svc.DependsOn["migrate"]; !ok || d.Condition != types.ServiceConditionCompletedSuccessfully {
			t.Errorf("service %s does not wait for migrate to finish", s)
		}
	}
	// A named volume takes the owner of the image's directory it is mounted
	// on when it is new; one mounted anywhere else is root's, and the
	// non-root user could not write to it.
	for _, svc := range p.Services {
		for _, v := range svc.Volumes {
			if v.Type == types.VolumeTypeVolume && strings.HasPrefix(svc.Image, "earshot:") && v.Target != image.StateDir {
				t.Errorf("service %s: volume %s on %s, want %s (owned by uid %d in the image)", svc.Name, v.Source, v.Target, image.StateDir, image.UID)
			}
		}
	}
	// Every file a service mounts exists.
	for _, svc := range p.Services {
		for _, v := range svc.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("service %s mounts %s: %v", svc.Name, v.Source, err)
			}
		}
	}
}

// Every earshot configuration compose mounts loads with earshot's own
// strict loader, with the environment its service gives it: an unknown
// key, a wrong type or a bad value fails here, not in a container.
func TestComposeEarshotConfigs(t *testing.T) {
	p, err := loadCompose(t, composeFile)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, svc := range p.Services {
		if !strings.HasPrefix(svc.Image, "earshot:") {
			continue
		}
		i := slices.Index(svc.Command, "--config")
		if i < 0 || i+1 >= len(svc.Command) {
			t.Errorf("service %s: no --config in %q", svc.Name, svc.Command)
			continue
		}
		target := svc.Command[i+1]
		var src string
		for _, v := range svc.Volumes {
			if v.Target == target {
				src = v.Source
			}
		}
		if src == "" {
			t.Errorf("service %s: --config %s is not a file the service mounts", svc.Name, target)
			continue
		}
		for _, other := range p.Services { // only this service's environment
			for k := range other.Environment {
				t.Setenv(k, "")
			}
		}
		for k, v := range svc.Environment {
			if v != nil {
				t.Setenv(k, *v)
			}
		}
		cfg, err := pipeline.Load(src)
		if err != nil {
			t.Errorf("service %s: %s: %v", svc.Name, src, err)
			continue
		}
		// and the secrets of the parts it runs, which it reads at start
		if svc.Command[0] == "migrate" {
			err = cfg.Sink.ReadSecrets()
		} else {
			err = cfg.CheckSecrets(svc.Command[0])
		}
		if err != nil {
			t.Errorf("service %s: %v", svc.Name, err)
		}
		if cfg.Transport.Kind != "kafka" {
			t.Errorf("service %s: transport %q, want kafka (one stage a process)", svc.Name, cfg.Transport.Kind)
		}
		if !strings.HasPrefix(cfg.Metrics.Addr, ":") {
			t.Errorf("service %s: metrics.addr %q, want all interfaces (:9464) for Prometheus", svc.Name, cfg.Metrics.Addr)
		}
		if wl, err := match.LoadDir(cfg.Match.Watchlists); err != nil || len(wl) == 0 {
			t.Errorf("service %s: the watchlists %s: %d loaded, %v", svc.Name, cfg.Match.Watchlists, len(wl), err)
		}
		if _, err := route.Load(cfg.Route); err != nil {
			t.Errorf("service %s: the routing policy: %v", svc.Name, err)
		}
		checked++
	}
	if checked < len(earshotStages) {
		t.Errorf("checked %d earshot services, want at least %d", checked, len(earshotStages))
	}
}

// Prometheus scrapes every stage service.
func TestComposePrometheus(t *testing.T) {
	b, err := os.ReadFile("../../compose/prometheus/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ScrapeConfigs []struct {
			JobName      string `yaml:"job_name"`
			DNSSDConfigs []struct {
				Names []string `yaml:"names"`
				Type  string   `yaml:"type"`
				Port  int      `yaml:"port"`
			} `yaml:"dns_sd_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	scraped := map[string]bool{}
	api := false
	for _, sc := range cfg.ScrapeConfigs {
		for _, d := range sc.DNSSDConfigs {
			for _, n := range d.Names {
				if d.Port == 9464 && d.Type == "A" {
					scraped[n] = true
				}
				api = api || (n == "api" && d.Port == 8080)
			}
		}
	}
	// The desk's metrics (earshot_alerts_*, on the pipeline board) come
	// from the API process only, on its own port.
	if !api {
		t.Error("Prometheus does not scrape api:8080 (the desk's metrics)")
	}
	for _, s := range append(slices.Clone(earshotStages), "index", "webhook", "notify") {
		if !scraped[s] {
			t.Errorf("Prometheus does not scrape %s:9464", s)
		}
	}
}

// The check can fail: a misspelt key, a wrong type and an earshot
// configuration key that does not exist are each refused.
func TestComposeCheckRefusesTypos(t *testing.T) {
	orig, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, edit := range map[string][2]string{
		"misspelt key": {"      replicas: 2", "      replicaz: 2"},
		"wrong type":   {"      retries: 12", "      retries: [12]"},
	} {
		s := strings.Replace(string(orig), edit[0], edit[1], 1)
		if s == string(orig) {
			t.Fatalf("%s: %q is not in %s", name, edit[0], composeFile)
		}
		f := filepath.Join(dir, "compose.yaml")
		if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := loadCompose(t, f); err == nil {
			t.Errorf("%s: the Compose check accepted it", name)
		}
	}
	cfg, err := os.ReadFile("../../compose/earshot.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join("../../compose", ".typo-test.yaml") // beside the original: its relative paths still resolve
	t.Cleanup(func() { os.Remove(bad) })
	if err := os.WriteFile(bad, []byte(strings.Replace(string(cfg), "  batch_size: 10000", "  batch_sise: 10000", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CLICKHOUSE_PASSWORD", "x")
	if _, err := pipeline.Load(bad); err == nil {
		t.Error("earshot's loader accepted sink.batch_sise")
	}
}

// The optional stages are off without their profile, and with it run their
// command on earshot.optional.yaml, which earshot's loader takes (with the
// secrets in the environment) and which asks for what they do; index and
// notify run one replica, the index on its own volume.
func TestComposeOptionalStages(t *testing.T) {
	p, err := loadCompose(t, composeFile)
	if err != nil {
		t.Fatal(err)
	}
	for s := range optionalServices {
		if _, err := p.GetService(s); err == nil {
			t.Errorf("service %s runs without its profile", s)
		}
	}
	env := []string{"CARE_SLACK_WEBHOOK=https://hooks.slack.com/services/T0/B0/x", "WEBHOOK_SECRET=s3cret"}
	p, err = loadComposeWith(t, composeFile, []string{"search", "webhook", "notify"}, env)
	if err != nil {
		t.Fatal(err)
	}
	for s, profile := range optionalServices {
		svc, err := p.GetService(s)
		if err != nil {
			t.Errorf("no service %s with profile %s: %v", s, profile, err)
			continue
		}
		if !slices.Equal(svc.Profiles, []string{profile}) || len(svc.Command) < 3 || svc.Command[0] != s {
			t.Errorf("service %s: profiles %q, command %q", s, svc.Profiles, svc.Command)
		}
		if s != "webhook" && (svc.Deploy == nil || svc.Deploy.Replicas == nil || *svc.Deploy.Replicas != 1) {
			t.Errorf("service %s: want exactly 1 replica", s)
		}
		var src string
		for _, v := range svc.Volumes {
			if v.Target == svc.Command[2] {
				src = v.Source
			}
		}
		for _, e := range env { // only this service's environment
			t.Setenv(strings.SplitN(e, "=", 2)[0], "")
		}
		for k, v := range svc.Environment {
			if v != nil {
				t.Setenv(k, *v)
			}
		}
		cfg, err := pipeline.Load(src)
		if err != nil {
			t.Errorf("service %s: %s: %v", s, src, err)
			continue
		}
		if err := cfg.CheckSecrets(s); err != nil { // the secrets of the parts it runs
			t.Errorf("service %s: %v", s, err)
		}
		switch s {
		case "index":
			vol := ""
			for _, v := range svc.Volumes {
				if v.Type == types.VolumeTypeVolume && strings.HasPrefix(cfg.Search.Dir, v.Target+"/") {
					vol = v.Source
				}
			}
			if !cfg.Search.Enabled || vol == "" || vol == "api" {
				t.Errorf("index: search.enabled %v, search.dir %s on volume %q: want its own volume", cfg.Search.Enabled, cfg.Search.Dir, vol)
			}
		case "webhook":
			if len(cfg.Webhook.Endpoints) == 0 {
				t.Error("webhook: no endpoints")
			}
		case "notify":
			if len(cfg.Notify.Channels) == 0 {
				t.Error("notify: no channels")
			}
		}
	}
	// Without the channel's URL in the environment, the configuration
	// loads (every process checks it) but notify refuses to start.
	t.Setenv("CARE_SLACK_WEBHOOK", "")
	cfg, err := pipeline.Load("../../compose/earshot.optional.yaml")
	if err != nil {
		t.Fatalf("without CARE_SLACK_WEBHOOK: %v", err)
	}
	if err := cfg.CheckSecrets("notify"); err == nil || !strings.Contains(err.Error(), "CARE_SLACK_WEBHOOK") {
		t.Errorf("notify without CARE_SLACK_WEBHOOK: %v, want it refused naming the variable", err)
	}
}

// Least privilege: a process reads only the secrets of the parts it runs,
// so only webhook gets the endpoints' signing secrets and only notify the
// channels' secrets; no other earshot service gets either.
func TestComposeSecretsOnlyWhereUsed(t *testing.T) {
	t.Setenv("CLICKHOUSE_PASSWORD", "x")
	cfg, err := pipeline.Load("../../compose/earshot.optional.yaml")
	if err != nil {
		t.Fatal(err)
	}
	need := map[string][]string{}
	for _, e := range cfg.Webhook.Endpoints {
		need["webhook"] = append(need["webhook"], e.SecretEnv)
	}
	for _, ch := range cfg.Notify.Channels {
		for _, v := range []string{ch.URLEnv, ch.TokenEnv, ch.RoutingKeyEnv, ch.APIKeyEnv, ch.SMTP.PasswordEnv} {
			if v != "" {
				need["notify"] = append(need["notify"], v)
			}
		}
	}
	if len(need["webhook"]) == 0 || len(need["notify"]) == 0 {
		t.Fatalf("earshot.optional.yaml names no webhook or no channel secret: %v", need)
	}
	p, err := loadComposeWith(t, composeFile, []string{"search", "webhook", "notify", "mail"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	earshot := 0
	for _, svc := range p.Services {
		if !strings.HasPrefix(svc.Image, "earshot:") {
			continue
		}
		earshot++
		_, ch := svc.Environment["CLICKHOUSE_PASSWORD"]
		if want := slices.Contains([]string{"sink", "route", "api", "migrate"}, svc.Name); ch != want {
			t.Errorf("service %s: has CLICKHOUSE_PASSWORD: %v, want %v", svc.Name, ch, want)
		}
		for owner, names := range need {
			for _, n := range names {
				if _, ok := svc.Environment[n]; ok != (svc.Name == owner) {
					t.Errorf("service %s: has %s: %v; only %s should", svc.Name, n, ok, owner)
				}
			}
		}
	}
	if earshot < 9 {
		t.Errorf("%d earshot services checked, want ingest to notify, api and migrate", earshot)
	}
}

// Mailpit, to try the email channel on, runs only with the mail profile,
// its web UI on the loopback only and its SMTP port inside the network.
func TestComposeMailpit(t *testing.T) {
	p, err := loadCompose(t, composeFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.GetService("mailpit"); err == nil {
		t.Error("mailpit runs without the mail profile")
	}
	if p, err = loadComposeWith(t, composeFile, []string{"mail"}, nil); err != nil {
		t.Fatal(err)
	}
	svc, err := p.GetService("mailpit")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(svc.Profiles, []string{"mail"}) || !strings.HasPrefix(svc.Image, "axllent/mailpit:v") {
		t.Errorf("mailpit: profiles %q, image %q", svc.Profiles, svc.Image)
	}
	for _, port := range svc.Ports {
		if port.HostIP != "127.0.0.1" || port.Target != 8025 {
			t.Errorf("mailpit publishes %s:%s -> %d: want only its web UI, on 127.0.0.1", port.HostIP, port.Published, port.Target)
		}
	}
}

// earshot.optional.yaml is earshot.yaml plus search, webhook and notify.
func TestComposeOptionalConfigMatches(t *testing.T) {
	read := func(f string) map[string]any {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		if err := yaml.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	base, opt := read("../../compose/earshot.yaml"), read("../../compose/earshot.optional.yaml")
	for _, k := range []string{"search", "webhook", "notify"} {
		if _, ok := opt[k]; !ok {
			t.Errorf("earshot.optional.yaml has no %s", k)
		}
		delete(opt, k)
	}
	a, _ := yaml.Marshal(base)
	b, _ := yaml.Marshal(opt)
	if string(a) != string(b) {
		t.Errorf("earshot.optional.yaml differs from earshot.yaml beyond search, webhook and notify:\n%s\n---\n%s", a, b)
	}
}
