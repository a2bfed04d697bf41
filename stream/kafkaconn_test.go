package stream

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/internal/secret"
	"github.com/earshot-dev/earshot/internal/tlsconf"
)

func TestKafkaSASLConfig(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("s3cret\n"), 0o600)
	env := func(string) string { return "" }
	for _, c := range []struct {
		name string
		sasl KafkaSASL
		want string // in the error; "" for none
		mech string // the mechanism's name when no error
	}{
		{name: "off", sasl: KafkaSASL{}},
		{name: "plain", sasl: KafkaSASL{Mechanism: "PLAIN", Username: "u", Password: secret.New("p")}, mech: "PLAIN"},
		{name: "scram-256 from a file", sasl: KafkaSASL{Mechanism: "SCRAM-SHA-256", Username: "u", PasswordFile: pw}, mech: "SCRAM-SHA-256"},
		{name: "scram-512, lower case", sasl: KafkaSASL{Mechanism: "scram-sha-512", Username: "u", Password: secret.New("p")}, mech: "SCRAM-SHA-512"},
		{name: "unknown mechanism", sasl: KafkaSASL{Mechanism: "GSSAPI", Username: "u", Password: secret.New("p")}, want: `kafka.sasl.mechanism: "GSSAPI", want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`},
		{name: "no username", sasl: KafkaSASL{Mechanism: "PLAIN", Password: secret.New("p")}, want: "kafka.sasl.username: required"},
		{name: "no password", sasl: KafkaSASL{Mechanism: "PLAIN", Username: "u"}, want: "kafka.sasl.password (or kafka.sasl.password_file, kafka.sasl.password_env): required"},
		{name: "inline and file", sasl: KafkaSASL{Mechanism: "PLAIN", Username: "u", Password: secret.New("p"), PasswordFile: pw}, want: "kafka.sasl.password, kafka.sasl.password_file: set together; give one"},
		{name: "unreadable file", sasl: KafkaSASL{Mechanism: "PLAIN", Username: "u", PasswordFile: filepath.Join(dir, "nope")}, want: "kafka.sasl.password_file: open "},
		{name: "unset variable", sasl: KafkaSASL{Mechanism: "PLAIN", Username: "u", PasswordEnv: "EARSHOT_NOPE"}, want: "kafka.sasl.password_env: environment variable EARSHOT_NOPE is not set"},
		{name: "credentials without a mechanism", sasl: KafkaSASL{Username: "u", PasswordEnv: "X"}, want: "kafka.sasl: username and password need a mechanism"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultKafkaConfig()
			cfg.SASL = c.sasl
			conn, err := cfg.Conn(env)
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("Conn = %v, want an error containing %q", err, c.want)
				}
				if verr := cfg.Validate(); verr == nil || !strings.Contains(verr.Error(), c.want) {
					t.Fatalf("Validate = %v, want the same error", verr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.mech == "" {
				if conn.SASL != nil {
					t.Fatalf("SASL %v, want none", conn.SASL)
				}
				return
			}
			if conn.SASL == nil || conn.SASL.Name() != c.mech {
				t.Fatalf("SASL %v, want %s", conn.SASL, c.mech)
			}
		})
	}
}

// TestEveryKafkaClientConnectsSecurely: the readers (group and table), the
// writers (producer and table) and the admin client all carry the
// configuration's TLS and SASL.
func TestEveryKafkaClientConnectsSecurely(t *testing.T) {
	cfg := DefaultKafkaConfig()
	cfg.TLS = tlsconf.Config{Enabled: true, ServerName: "kafka.internal"}
	cfg.SASL = KafkaSASL{Mechanism: "SCRAM-SHA-512", Username: "u", Password: secret.New("p")}
	k := mustKafka(t, cfg, "dead", slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer k.Close()
	check := func(what string, tlsName string, mech string) {
		t.Helper()
		if tlsName != "kafka.internal" || mech != "SCRAM-SHA-512" {
			t.Errorf("%s: TLS server name %q, SASL %q; want kafka.internal, SCRAM-SHA-512", what, tlsName, mech)
		}
	}
	name := func(m interface{ Name() string }) string {
		if m == nil {
			return ""
		}
		return m.Name()
	}
	d := k.readerConfig("g", "t").Dialer
	check("group reader", d.TLS.ServerName, name(d.SASLMechanism))
	tr := k.tableReader("t", 0)
	tr.Close()
	d = tr.Config().Dialer
	check("table reader", d.TLS.ServerName, name(d.SASLMechanism))
	p, err := k.Producer()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	w := p.(*kafkaProducer).w.Transport.(*kafka.Transport)
	check("producer", w.TLS.ServerName, name(w.SASL))
	c := k.client.Transport.(*kafka.Transport)
	check("admin and lag client", c.TLS.ServerName, name(c.SASL))

	// Off by default: plaintext, no SASL.
	plain := mustKafka(t, DefaultKafkaConfig(), "dead", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if d := plain.readerConfig("g", "t").Dialer; d.TLS != nil || d.SASLMechanism != nil {
		t.Errorf("defaults: TLS %v, SASL %v; want neither", d.TLS, d.SASLMechanism)
	}
	bad := DefaultKafkaConfig()
	bad.TLS = tlsconf.Config{Enabled: true, CAFile: "/nonexistent/ca.pem"}
	if _, err := NewKafka(bad, "", slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "kafka.tls.ca_file") {
		t.Errorf("NewKafka with an unreadable CA: %v", err)
	}
}

// TestOnlyStreamMakesKafkaConnections: every kafka-go connection earshot
// makes gets its TLS and SASL from KafkaConfig.Conn, so no package but this
// one builds a dialer, transport, client or writer, and a reader elsewhere
// (the API's live feed) takes its dialer from here. The example consumer
// under deploy/examples is a downstream tool's, not earshot's, and the
// chaos soak's harness (itest/chaos) inspects and cleans up the local
// plaintext broker as a test tool.
func TestOnlyStreamMakesKafkaConnections(t *testing.T) {
	forbidden := []string{"kafka.Dialer{", "kafka.Transport{", "kafka.Client{", "kafka.Writer{", "kafka.DialLeader(", "kafka.Dial(", "kafka.DialContext("}
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "stream", "examples", "itest", ".local", ".git", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, f := range forbidden {
				if strings.Contains(line, f) {
					t.Errorf("%s:%d: %s outside stream: take it from stream.KafkaConn", path, i+1, f)
				}
			}
			if strings.Contains(line, "kafka.NewReader(") && !strings.Contains(string(b), "Dialer:") {
				t.Errorf("%s:%d: a kafka-go reader without the stream's Dialer", path, i+1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
