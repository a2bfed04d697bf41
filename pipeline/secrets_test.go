package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/earshot-dev/earshot/internal/secret"
	"github.com/earshot-dev/earshot/stream"
)

const (
	inlinePassword = "inline-Pa55-word"
	filePassword   = "file-Pa55-word"
	envPassword    = "env-Pa55-word"
)

// TestSecretsLoadAndNeverShow loads a configuration with a password in
// each of the three places, checks each is read (files relative to the
// configuration), then prints, logs and marshals the whole configuration
// and finds none of them.
func TestSecretsLoadAndNeverShow(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kafka.pw"), []byte(filePassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EARSHOT_TEST_CH_PASSWORD", envPassword)
	cfgPath := filepath.Join(dir, "earshot.yaml")
	body := `transport:
  kind: kafka
  kafka:
    sasl: {mechanism: SCRAM-SHA-256, username: earshot, password_file: kafka.pw}
sink:
  enabled: true
  password_env: EARSHOT_TEST_CH_PASSWORD
match: {watchlists: ` + examples(t, "watchlists") + `}
route: {policy: ` + examples(t, "routing.yaml") + `}
`
	if err := os.WriteFile(cfgPath, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := secret.Resolve("sink.password", cfg.Sink.Password, cfg.Sink.PasswordFile, cfg.Sink.PasswordEnv, nil); err != nil || got != envPassword {
		t.Fatalf("sink password %v", err)
	}
	if got, err := secret.Resolve("p", cfg.Transport.Kafka.SASL.Password, cfg.Transport.Kafka.SASL.PasswordFile, "", nil); err != nil || got != filePassword {
		t.Fatalf("kafka password from %s: %v", cfg.Transport.Kafka.SASL.PasswordFile, err)
	}
	conn, err := cfg.Transport.Kafka.Conn(nil)
	if err != nil || conn.SASL == nil {
		t.Fatalf("kafka conn: %v", err)
	}
	cfg.Sink.Password, cfg.Sink.PasswordEnv = secret.New(inlinePassword), "" // and one inline
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		fmt.Fprintf(&out, verb+"\n", cfg)
		fmt.Fprintf(&out, verb+"\n", &cfg)
	}
	for _, h := range []slog.Handler{slog.NewTextHandler(&out, nil), slog.NewJSONHandler(&out, nil)} {
		slog.New(h).Info("starting", "config", cfg, "sink", cfg.Sink, "kafka", cfg.Transport.Kafka)
	}
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out.Write(j)
	out.Write(y)
	for _, pw := range []string{inlinePassword, envPassword, filePassword} {
		if strings.Contains(out.String(), pw) {
			t.Errorf("the password %q shows in the printed configuration", pw)
		}
	}
	if !strings.Contains(out.String(), secret.Redacted) {
		t.Error("no [redacted] in the printed configuration")
	}
}

func TestSecretsRefusedWithTheirKey(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("x"), 0o600)
	for _, c := range []struct {
		name string
		set  func(*Config)
		want string
	}{
		{"sink: inline and file", func(c *Config) { c.Sink.Password, c.Sink.PasswordFile = secret.New("x"), pw }, "sink.password, sink.password_file: set together; give one"},
		{"sink: unreadable file", func(c *Config) { c.Sink.PasswordFile = filepath.Join(dir, "none") }, "sink.password_file: open " + filepath.Join(dir, "none")},
		{"sink: tls insecure", func(c *Config) { c.Sink.TLS.Enabled, c.Sink.TLS.InsecureSkipVerify = true, true }, "sink.tls.insecure_skip_verify: refused"},
		{"kafka: tls insecure", func(c *Config) {
			c.Transport.Kind = "kafka"
			c.Transport.Kafka.TLS.Enabled, c.Transport.Kafka.TLS.InsecureSkipVerify = true, true
		}, "kafka.tls.insecure_skip_verify: refused"},
		{"kafka: unreadable password file", func(c *Config) {
			c.Transport.Kind = "kafka"
			c.Transport.Kafka.SASL = stream.KafkaSASL{Mechanism: "PLAIN", Username: "u", PasswordFile: filepath.Join(dir, "none")}
		}, "kafka.sasl.password_file: open "},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := Default()
			cfg.Match.Watchlists, cfg.Route.Policy = examples(t, "watchlists"), examples(t, "routing.yaml")
			cfg.Sink.Enabled = true
			c.set(&cfg)
			// the file itself is read by the process that uses it
			if err := errors.Join(cfg.Validate(), cfg.CheckSecrets(Sink)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate, CheckSecrets = %v, want an error containing %q", err, c.want)
			}
		})
	}
	// Disabled sinks are not checked; off is off.
	cfg := Default()
	cfg.Match.Watchlists, cfg.Route.Policy = examples(t, "watchlists"), examples(t, "routing.yaml")
	cfg.Sink.PasswordFile = filepath.Join(dir, "none")
	if err := errors.Join(cfg.Validate(), cfg.CheckSecrets(Sink)); err != nil {
		t.Errorf("a disabled sink's password file was read: %v", err)
	}
}

func examples(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "deploy", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
