//go:build integration

package itest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"hash"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/api"
	"github.com/earshot-dev/earshot/internal/secret"
	"github.com/earshot-dev/earshot/internal/tlsconf"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/sink"
	"github.com/earshot-dev/earshot/stream"
)

// The local stack's secure endpoints (deploy/local/kafka.sh, clickhouse.sh),
// overridable to test a private stack: EARSHOT_IT_KAFKA_SASL,
// EARSHOT_IT_CLICKHOUSE_TLS, and EARSHOT_IT_TLS_DIR for its certificates.
const (
	kafkaSASLUser     = "earshot"
	kafkaSASLPassword = "earshot-local-secret"
)

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func kafkaSASLAddr() string { return envOr("EARSHOT_IT_KAFKA_SASL", "localhost:9094") }
func kafkaMTLSAddr() string { return envOr("EARSHOT_IT_KAFKA_MTLS", "localhost:9095") }
func clickhouseTLSAddr() string {
	return envOr("EARSHOT_IT_CLICKHOUSE_TLS", "localhost:9440")
}
func localCA() string { return localTLS("ca.pem") }
func localTLS(name string) string {
	return filepath.Join(envOr("EARSHOT_IT_TLS_DIR", filepath.Join(root, ".local/tls")), name)
}

// TestKafkaMTLS produces and consumes on the SSL listener that requires a
// client certificate, and checks that a client without one is refused at
// once.
func TestKafkaMTLS(t *testing.T) {
	needListener(t, kafkaMTLSAddr(), "Kafka SSL (mTLS) listener")
	prefix, _ := names(t)
	cfg := stream.DefaultKafkaConfig()
	cfg.Brokers = []string{kafkaMTLSAddr()}
	cfg.SessionTimeout = 6 * time.Second
	cfg.TLS = tlsconf.Config{Enabled: true, CAFile: localCA(), CertFile: localTLS("client.pem"), KeyFile: localTLS("client.key")}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k := mustKafka(t, cfg, prefix+".deadletter", apiTestLogger())
	defer k.Close()
	if err := k.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	topic := prefix + ".posts"
	if err := k.EnsureTopics(ctx, topic); err != nil {
		t.Fatal(err)
	}
	p, err := k.Producer()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Produce(ctx, []stream.Out{{Topic: topic, Key: "k", Item: &post.Item{Post: &post.Post{Platform: "tls", ID: "1", Text: "acme over mtls", CreatedAt: time.Now()}}}}); err != nil {
		t.Fatal(err)
	}
	c, err := k.Consumer(prefix+".g", topic)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for {
		ds, err := c.Fetch(ctx, 1, 0)
		if err == nil {
			if ds[0].Item == nil || ds[0].Item.Post.Text != "acme over mtls" {
				t.Fatalf("%+v", ds[0])
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // a fresh broker's Not Coordinator
	}

	anon := cfg
	anon.TLS.CertFile, anon.TLS.KeyFile = "", ""
	ka := mustKafka(t, anon, "", apiTestLogger())
	defer ka.Close()
	t0 := time.Now()
	err = ka.WaitReady(ctx)
	if err == nil || !strings.Contains(err.Error(), "refused the TLS handshake") || time.Since(t0) > 10*time.Second {
		t.Fatalf("without a client certificate: %v after %v, want a refusal within seconds", err, time.Since(t0))
	}
	t.Logf("without a client certificate: %v", err)
}

// needListener fails the test at once if nothing answers on addr: a local
// stack started before it had secure listeners must be restarted.
func needListener(t *testing.T, addr, what string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("no %s on %s (%v): restart the local stack (make down; make up) so it has one", what, addr, err)
	}
	c.Close()
	if _, err := os.Stat(localCA()); err != nil {
		t.Fatalf("the local CA: %v (deploy/local makes it with the stack)", err)
	}
}

func secureKafkaConfig(mechanism, password, ca string) stream.KafkaConfig {
	cfg := stream.DefaultKafkaConfig()
	cfg.Brokers = []string{kafkaSASLAddr()}
	cfg.SessionTimeout = 6 * time.Second
	cfg.TLS = tlsconf.Config{Enabled: true, CAFile: ca}
	cfg.SASL = stream.KafkaSASL{Mechanism: mechanism, Username: kafkaSASLUser, Password: secret.New(password)}
	return cfg
}

// ensureScramUsers gives the local SASL user its SCRAM credentials. A
// broker formatted by deploy/local/kafka.sh has them already; one formatted
// before it made them does not. Upserting is idempotent.
func ensureScramUsers(t *testing.T) {
	t.Helper()
	conn, err := secureKafkaConfig("PLAIN", kafkaSASLPassword, localCA()).Conn(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := conn.Transport()
	defer tr.CloseIdleConnections()
	cl := &kafka.Client{Addr: kafka.TCP(kafkaSASLAddr()), Timeout: 10 * time.Second, Transport: tr}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// One mechanism a request: the broker refuses two changes of one user in one.
	for _, m := range []struct {
		mech kafka.ScramMechanism
		h    func() hash.Hash
		n    int
	}{{kafka.ScramMechanismSha256, sha256.New, 32}, {kafka.ScramMechanismSha512, sha512.New, 64}} {
		salt := make([]byte, 16)
		rand.Read(salt)
		key, err := pbkdf2.Key(m.h, kafkaSASLPassword, salt, 4096, m.n)
		if err != nil {
			t.Fatal(err)
		}
		res, err := cl.AlterUserScramCredentials(ctx, &kafka.AlterUserScramCredentialsRequest{Upsertions: []kafka.UserScramCredentialsUpsertion{
			{Name: kafkaSASLUser, Mechanism: m.mech, Iterations: 4096, Salt: salt, SaltedPassword: key}}})
		if err != nil {
			t.Fatalf("upserting the SCRAM users: %v", err)
		}
		for _, r := range res.Results {
			if r.Error != nil {
				t.Fatalf("upserting the SCRAM user %s: %v", r.User, r.Error)
			}
		}
	}
}

// TestKafkaSASLSSL runs every kind of Kafka client earshot makes (admin,
// producer, consumer group with its lag, table reader and writer, the API's
// live feed) through the SASL_SSL listener, with each mechanism.
func TestKafkaSASLSSL(t *testing.T) {
	needListener(t, kafkaSASLAddr(), "Kafka SASL_SSL listener")
	ensureScramUsers(t)
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			prefix, _ := names(t)
			cfg := secureKafkaConfig(mech, kafkaSASLPassword, localCA())
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			k := mustKafka(t, cfg, prefix+".deadletter", apiTestLogger())
			defer k.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := k.WaitReady(ctx); err != nil {
				t.Fatal(err)
			}
			topic := prefix + ".posts"
			if err := k.EnsureTopics(ctx, topic); err != nil {
				t.Fatal(err)
			}
			p, err := k.Producer()
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			var outs []stream.Out
			for i := range 20 {
				outs = append(outs, stream.Out{Topic: topic, Key: fmt.Sprint(i), Item: &post.Item{Post: &post.Post{Platform: "tls", ID: fmt.Sprint(i), Text: "acme over tls", CreatedAt: time.Now()}}})
			}
			if err := p.Produce(ctx, outs); err != nil {
				t.Fatal(err)
			}
			c, err := k.Consumer(prefix+".g", topic)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var got []stream.Delivery
			for len(got) < len(outs) {
				ds, err := c.Fetch(ctx, len(outs)-len(got), 20*time.Millisecond)
				if err != nil {
					// A fresh broker answers Not Coordinator until it has
					// made its offsets topic; the stages' runner retries too.
					if ctx.Err() != nil {
						t.Fatalf("after %d of %d: %v", len(got), len(outs), err)
					}
					t.Logf("fetch: %v; retrying", err)
					time.Sleep(200 * time.Millisecond)
					continue
				}
				got = append(got, ds...)
			}
			for _, d := range got {
				if d.Err != nil || d.Item.Post.Text != "acme over tls" {
					t.Fatalf("delivery %+v", d)
				}
			}
			// The lag is read with the admin client: 20 before the commit.
			eventually(t, 20*time.Second, "the lag to read 20", func() bool { return c.Lag() == 20 })
			var done []stream.Position
			for _, d := range got {
				done = append(done, stream.Position{Partition: d.Partition, Offset: d.Offset})
			}
			if err := c.Commit(ctx, done); err != nil {
				t.Fatal(err)
			}

			// A table: its own writer and single-partition reader.
			table := prefix + ".table"
			if err := k.EnsureTable(ctx, table); err != nil {
				t.Fatal(err)
			}
			if _, _, err := k.PublishTable(ctx, table, map[string][]byte{"a": []byte("1")}); err != nil {
				t.Fatal(err)
			}
			tab, _, err := k.ReadTable(ctx, table)
			if err != nil || string(tab["a"]) != "1" {
				t.Fatalf("table %v, %v", tab, err)
			}

			// The API's live feed, read through the transport (its TLS and SASL).
			alerts := prefix + ".alerts.care"
			if err := k.EnsureTopics(ctx, alerts); err != nil {
				t.Fatal(err)
			}
			hub := api.NewHub()
			sub := hub.Subscribe("care", 64)
			feed := &api.LiveFeed{Source: k, Topics: map[string]string{"care": alerts}, Hub: hub, Log: apiTestLogger()}
			fctx, stop := context.WithCancel(ctx)
			fdone := make(chan error, 1)
			go func() { fdone <- feed.Run(fctx) }()
			for i := 0; ; i++ {
				it := &post.Item{Post: &post.Post{Platform: "x", ID: fmt.Sprint(i), Text: "acme", CreatedAt: time.Now()},
					Alert: &post.Alert{ID: fmt.Sprintf("al-%d", i), Queue: "care", Priority: "P2", Rule: "care", CreatedAt: time.Now()}}
				if err := p.Produce(ctx, []stream.Out{{Topic: alerts, Key: "k", Item: it}}); err != nil {
					t.Fatal(err)
				}
				select {
				case a := <-sub.C:
					if a.Queue != "care" {
						t.Fatalf("%+v", a)
					}
				case <-time.After(time.Second):
					continue
				case <-ctx.Done():
					t.Fatal("no alert reached the live feed over SASL_SSL")
				}
				break
			}
			stop()
			if err := <-fdone; err != nil {
				t.Fatalf("feed: %v", err)
			}
		})
	}
}

// TestKafkaSecureRefusals: a wrong password, an untrusted certificate or
// a certificate for another name end the start at once, saying which, not
// after retrying forever.
func TestKafkaSecureRefusals(t *testing.T) {
	needListener(t, kafkaSASLAddr(), "Kafka SASL_SSL listener")
	ensureScramUsers(t)
	other := otherCA(t)
	for _, c := range []struct {
		name, want string
		cfg        stream.KafkaConfig
	}{
		{"wrong PLAIN password", "refused the SASL username or password", secureKafkaConfig("PLAIN", "wrong", localCA())},
		{"wrong SCRAM password", "refused the SASL username or password", secureKafkaConfig("SCRAM-SHA-512", "wrong", localCA())},
		{"untrusted CA", "not signed by a trusted CA", secureKafkaConfig("PLAIN", kafkaSASLPassword, other)},
		{"wrong server name", "does not name the host", func() stream.KafkaConfig {
			c := secureKafkaConfig("PLAIN", kafkaSASLPassword, localCA())
			c.TLS.ServerName = "kafka.example.com"
			return c
		}()},
		{"TLS to a plaintext listener", "a plaintext listener?", func() stream.KafkaConfig {
			c := secureKafkaConfig("PLAIN", kafkaSASLPassword, localCA())
			c.Brokers = []string{kafkaAddr}
			c.ConnectTimeout = 5 * time.Second
			return c
		}()},
		{"no TLS to a TLS listener", "expecting TLS", func() stream.KafkaConfig {
			c := secureKafkaConfig("PLAIN", kafkaSASLPassword, "")
			c.TLS.Enabled = false
			c.ConnectTimeout = 5 * time.Second // plaintext to a TLS port is not told apart from a broker down
			return c
		}()},
	} {
		t.Run(c.name, func(t *testing.T) {
			k := mustKafka(t, c.cfg, "", apiTestLogger())
			defer k.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			t0 := time.Now()
			err := k.WaitReady(ctx)
			took := time.Since(t0)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("WaitReady = %v, want an error saying %q", err, c.want)
			}
			if took > 10*time.Second {
				t.Errorf("took %v to fail, want a few seconds", took)
			}
			t.Logf("%v: %v", took.Round(time.Millisecond), err)
		})
	}
}

// otherCA writes the certificate of a CA that signed nothing the local
// stack serves, and returns its file.
func otherCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "not the local CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func secureSinkConfig(db, password, ca string) sink.Config {
	c := sink.DefaultConfig()
	c.Enabled, c.Addr, c.Database = true, []string{clickhouseTLSAddr()}, db
	c.Username, c.Password = "earshot_writer", secret.New(password)
	c.TLS = tlsconf.Config{Enabled: true, CAFile: ca}
	return c
}

// TestClickHouseTLS writes and reads through the secure native port, and
// checks that a wrong password or an untrusted certificate fail at once.
func TestClickHouseTLS(t *testing.T) {
	needListener(t, clickhouseTLSAddr(), "ClickHouse secure port")
	_, db := names(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := secureSinkConfig(db, "earshot", localCA())
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	conn, err := sink.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := sink.Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
	if err := sink.Check(ctx, conn); err != nil {
		t.Fatal(err)
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = '"+db+"'").Scan(&n); err != nil || n == 0 {
		t.Fatalf("tables in %s: %d, %v", db, n, err)
	}

	for _, c := range []struct {
		name, want string
		cfg        sink.Config
	}{
		{"wrong password", "refused the username or password", secureSinkConfig(db, "wrong", localCA())},
		{"untrusted CA", "not signed by a trusted CA", secureSinkConfig(db, "earshot", otherCA(t))},
		{"TLS to the plaintext port", "the server did not answer in TLS", func() sink.Config {
			c := secureSinkConfig(db, "earshot", localCA())
			c.Addr = []string{clickhouseAddr}
			return c
		}()},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn, err := sink.Open(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			t0 := time.Now()
			err = sink.Check(ctx, conn)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Check = %v, want an error saying %q", err, c.want)
			}
			if took := time.Since(t0); took > 10*time.Second {
				t.Errorf("took %v to fail, want a few seconds", took)
			}
			t.Logf("%v", err)
		})
	}
}

// TestSecurePipeline runs the distributed pipeline's processes over the
// SASL_SSL listener (SCRAM-SHA-512, the password in a file) into
// ClickHouse's secure port (the password in an environment variable), and
// checks that no process writes either password.
func TestSecurePipeline(t *testing.T) {
	needListener(t, kafkaSASLAddr(), "Kafka SASL_SSL listener")
	needListener(t, clickhouseTLSAddr(), "ClickHouse secure port")
	ensureScramUsers(t)
	prefix, db := names(t)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "kafka-password")
	if err := os.WriteFile(pwFile, []byte(kafkaSASLPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EARSHOT_IT_CH_PASSWORD", "earshot") // inherited by the processes
	const limit = 3000
	cfg := fmt.Sprintf(`transport:
  kind: kafka
  topic_prefix: %s
  kafka:
    brokers: [%s]
    partitions: 2
    session_timeout: 6s
    tls:
      enabled: true
      ca_file: %s
    sasl:
      mechanism: SCRAM-SHA-512
      username: %s
      password_file: %s
ingest:
  source: synthetic
  synthetic: {rate: 3000, seed: 11, limit: %d, brand_rate: 0.1}
match:
  watchlists: %s
enrich:
  clustering: off
route:
  policy: %s
sink:
  enabled: true
  addr: [%s]
  database: %s
  username: earshot_writer
  password_env: EARSHOT_IT_CH_PASSWORD
  flush_interval: 200ms
  tls:
    enabled: true
    ca_file: %s
runner:
  batch_size: 500
  linger: 10ms
`, prefix, kafkaSASLAddr(), localCA(), kafkaSASLUser, pwFile, limit, filepath.Join(root, "deploy/examples/watchlists"),
		filepath.Join(root, "deploy/examples/routing.yaml"), clickhouseTLSAddr(), db, localCA())
	path := filepath.Join(dir, "earshot.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	want := expect(t, 11, limit)
	if want.matched == 0 {
		t.Fatal("no post of the synthetic firehose matches")
	}
	sc := secureSinkConfig(db, "earshot", localCA())
	conn, err := sink.Open(sc)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	defer conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)

	procs := []*proc{start(t, "match", path, "--log-level", "debug"), start(t, "enrich", path), start(t, "sink", path, "--log-level", "debug")}
	ing := start(t, "ingest", path, "--log-level", "debug")
	ing.wait(t, 2*time.Minute)
	ctx := context.Background()
	eventually(t, 2*time.Minute, "the posts in ClickHouse", func() bool {
		var n uint64
		err := conn.QueryRow(ctx, "SELECT count() FROM "+db+".posts FINAL").Scan(&n)
		return err == nil && n >= uint64(want.matched)
	})
	for _, p := range procs {
		p.stop(t)
	}
	for _, p := range append(procs, ing) {
		for _, out := range []string{p.out.String(), p.errs.String()} {
			if strings.Contains(out, kafkaSASLPassword) {
				t.Errorf("%s wrote a password:\n%s", p.name, tail(out, 2000))
			}
		}
	}

	// A wrong password ends a stage at its start, saying so: ClickHouse's
	// for the sink, then Kafka's for any stage.
	refused := func(stage, want string) {
		t.Helper()
		p := start(t, stage, path)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			t.Fatalf("%s still running 15s after its start with a wrong password:\n%s", stage, tail(p.errs.String(), 2000))
		}
		if p.exit == nil || !strings.Contains(p.errs.String(), want) {
			t.Errorf("%s with a wrong password: exit %v, stderr:\n%s\nwant an error saying %q", stage, p.exit, tail(p.errs.String(), 2000), want)
		}
	}
	t.Setenv("EARSHOT_IT_CH_PASSWORD", "wrong")
	refused("sink", "refused the username or password")
	if err := os.WriteFile(pwFile, []byte("wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	refused("match", "refused the SASL username or password")
}
