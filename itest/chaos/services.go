package chaos

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Services are a Kafka broker and a ClickHouse server of the soak's own,
// on free ports, which it may kill and restart: the shared local stack is
// never touched. The broker advertises the address of a local TCP proxy in
// front of it, so that every Kafka client (which reconnects to the
// advertised address, not the one it was given) goes through the proxy,
// and a cut of the proxy is a network cut to Kafka.
type Services struct {
	Dir        string // data, configs and logs of both
	KafkaLibs  string // the Kafka jars (.local/kafka/libs of `make up`)
	Broker     string // the broker's own listener (host:port)
	ClickHouse string // the server's native protocol (host:port)

	KafkaProxy *proxy // what the broker advertises; cut it to cut Kafka

	// QueryLogs makes ClickHouse keep system.query_log (every query, with
	// its ProfileEvents) and system.part_log (new parts, merges): set
	// before the start, for measurements; they cost the server some CPU.
	QueryLogs bool

	kafka, ch *service
}

// service is one server process that can be killed and started again on
// the same data.
type service struct {
	name, addr string
	argv       []string
	dir        string // working directory
	log        string
	cmd        *exec.Cmd
	done       chan struct{}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// StartServices formats and starts a private broker and ClickHouse under
// dir. Close stops both.
func StartServices(ctx context.Context, dir, kafkaLibs string) (*Services, error) {
	if _, err := os.Stat(kafkaLibs); err != nil {
		return nil, fmt.Errorf("no Kafka jars (make up installs them): %w", err)
	}
	s := &Services{Dir: dir, KafkaLibs: kafkaLibs}
	if err := s.startKafka(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.startClickHouse(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// StartClickHouse formats and starts a private ClickHouse server alone
// under dir (no broker: StartBroker starts one without the proxy), for
// measurements that must not share a server with other work; queryLogs
// sets Services.QueryLogs. Close stops it.
func StartClickHouse(ctx context.Context, dir string, queryLogs bool) (*Services, error) {
	s := &Services{Dir: dir, QueryLogs: queryLogs}
	if err := s.startClickHouse(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Services) startKafka(ctx context.Context) error {
	var err error
	if s.Broker, err = freeAddr(); err != nil {
		return err
	}
	if s.KafkaProxy, err = newProxy(s.Broker); err != nil {
		return err
	}
	if s.kafka, err = formatKafka(ctx, filepath.Join(s.Dir, "kafka"), s.KafkaLibs, s.Broker, s.KafkaProxy.Addr()); err != nil {
		return err
	}
	return s.kafka.start(ctx)
}

// Broker is a single-node KRaft broker of a test's own, from the local
// stack's jars, on a free port it also advertises: it can be killed
// mid-run without touching the broker the other tests share.
type Broker struct {
	Addr string // host:port, listened on and advertised
	svc  *service
}

// StartBroker formats a broker's storage under dir and starts it.
func StartBroker(ctx context.Context, dir, kafkaLibs string) (*Broker, error) {
	if _, err := os.Stat(kafkaLibs); err != nil {
		return nil, fmt.Errorf("no Kafka jars (make up installs them): %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	svc, err := formatKafka(ctx, dir, kafkaLibs, addr, addr)
	if err != nil {
		return nil, err
	}
	b := &Broker{Addr: addr, svc: svc}
	return b, svc.start(ctx)
}

// Start starts the broker again on the same data, after Kill.
func (b *Broker) Start(ctx context.Context) error { return b.svc.start(ctx) }

// Kill ends the broker as a crash would: no clean shutdown.
func (b *Broker) Kill() { b.svc.kill() }

// formatKafka writes a single-node KRaft configuration under dir that
// listens on listen and advertises advertised, formats the storage, and
// returns the broker, not started.
func formatKafka(ctx context.Context, dir, kafkaLibs, listen, advertised string) (*service, error) {
	ctrl, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "server.properties")
	props := fmt.Sprintf(`process.roles=broker,controller
node.id=1
controller.quorum.voters=1@%[2]s
listeners=PLAINTEXT://%[1]s,CONTROLLER://%[2]s
advertised.listeners=PLAINTEXT://%[4]s
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=%[3]s
num.partitions=4
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=3000
message.max.bytes=8388608
num.network.threads=1
num.io.threads=2
`, listen, ctrl, filepath.Join(dir, "data"), advertised)
	if err := os.WriteFile(conf, []byte(props), 0o644); err != nil {
		return nil, err
	}
	id := make([]byte, 16)
	rand.Read(id)
	cid := "f" + base64.RawURLEncoding.EncodeToString(id)[1:] // never a leading '-'
	format := exec.CommandContext(ctx, "java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", kafkaLibs+"/*", "kafka.tools.StorageTool", "format", "-t", cid, "-c", conf)
	if out, err := format.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("formatting the private broker's storage: %v\n%s", err, out)
	}
	return &service{name: "kafka", addr: listen, dir: dir, log: filepath.Join(logs, "kafka.out"),
		argv: []string{"java", "-Xmx512m", "-Xms128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true", "-Dkafka.logs.dir=" + logs,
			"-cp", kafkaLibs + "/*", "kafka.Kafka", conf}}, nil
}

func (s *Services) startClickHouse(ctx context.Context) error {
	var err error
	if s.ClickHouse, err = freeAddr(); err != nil {
		return err
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return err
	}
	_, tcp, _ := net.SplitHostPort(s.ClickHouse)
	_, http, _ := net.SplitHostPort(httpAddr)
	cdir := filepath.Join(s.Dir, "clickhouse")
	data := filepath.Join(cdir, "data") + "/"
	for _, d := range []string{"logs", "data/tmp", "data/user_files", "data/format_schemas"} {
		if err := os.MkdirAll(filepath.Join(cdir, d), 0o755); err != nil {
			return err
		}
	}
	conf := filepath.Join(cdir, "config.xml")
	users := filepath.Join(cdir, "users.xml")
	xml := fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>%[1]s/logs/server.log</log><errorlog>%[1]s/logs/server.err.log</errorlog><size>20M</size><count>2</count></logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>%[2]s</tcp_port>
    <http_port>%[3]s</http_port>
    <max_connections>256</max_connections>
    <max_concurrent_queries>50</max_concurrent_queries>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <mark_cache_size>67108864</mark_cache_size>
    <path>%[4]s</path>
    <tmp_path>%[4]stmp/</tmp_path>
    <user_files_path>%[4]suser_files/</user_files_path>
    <format_schema_path>%[4]sformat_schemas/</format_schema_path>
    <users_config>%[5]s</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
%[6]s</yandex>
`, cdir, tcp, http, data, users, queryLogsXML(s.QueryLogs))
	if err := os.WriteFile(conf, []byte(xml), 0o644); err != nil {
		return err
	}
	u := usersXML
	if s.QueryLogs {
		u = strings.Replace(u, "</max_memory_usage>", "</max_memory_usage><log_queries>1</log_queries>", 1)
	}
	if err := os.WriteFile(users, []byte(u), 0o644); err != nil {
		return err
	}
	bin := "clickhouse-server"
	if _, err := exec.LookPath(bin); err != nil {
		bin = "/usr/sbin/clickhouse-server"
	}
	s.ch = &service{name: "clickhouse", addr: s.ClickHouse, dir: cdir, log: filepath.Join(cdir, "logs", "stdout.log"),
		argv: []string{bin, "--config-file=" + conf}}
	return s.ch.start(ctx)
}

// queryLogsXML is the server configuration of system.query_log and
// system.part_log when on, else nothing.
func queryLogsXML(on bool) string {
	if !on {
		return ""
	}
	return `    <query_log><database>system</database><table>query_log</table><flush_interval_milliseconds>7500</flush_interval_milliseconds></query_log>
    <part_log><database>system</database><table>part_log</table><flush_interval_milliseconds>7500</flush_interval_milliseconds></part_log>
`
}

// usersXML: the users of deploy/local (default, earshot_writer/earshot).
const usersXML = `<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
    <users>
        <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
        <earshot_writer><password>earshot</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></earshot_writer>
    </users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`

// start runs the server and waits until it accepts connections.
func (v *service) start(ctx context.Context) error {
	out, err := os.OpenFile(v.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	v.cmd = exec.Command(v.argv[0], v.argv[1:]...)
	v.cmd.Dir, v.cmd.Stdout, v.cmd.Stderr = v.dir, out, out
	if err := v.cmd.Start(); err != nil {
		return fmt.Errorf("starting the private %s: %w", v.name, err)
	}
	v.done = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); close(done) }(v.cmd, v.done)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		select {
		case <-v.done:
			b, _ := os.ReadFile(v.log)
			return fmt.Errorf("the private %s exited at start: %s", v.name, tail(string(b), 3000))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if c, err := net.DialTimeout("tcp", v.addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the private %s did not listen on %s in 3 minutes", v.name, v.addr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// kill ends the server as a crash would.
func (v *service) kill() {
	if v != nil && v.cmd != nil && v.cmd.Process != nil {
		v.cmd.Process.Kill()
		<-v.done
	}
}

// restart kills the server (SIGKILL: no clean shutdown), keeps it down for
// down and starts it again on the same data.
func (v *service) restart(ctx context.Context, down time.Duration) error {
	v.kill()
	select {
	case <-time.After(down):
	case <-ctx.Done():
		return ctx.Err()
	}
	return v.start(ctx)
}

// RestartKafka kills the broker and starts it again after down.
func (s *Services) RestartKafka(ctx context.Context, down time.Duration) error {
	return s.kafka.restart(ctx, down)
}

// RestartClickHouse kills the server and starts it again after down.
func (s *Services) RestartClickHouse(ctx context.Context, down time.Duration) error {
	return s.ch.restart(ctx, down)
}

// Close kills both servers and the proxy; their data stays in Dir.
func (s *Services) Close() {
	s.kafka.kill()
	s.ch.kill()
	if s.KafkaProxy != nil {
		s.KafkaProxy.Close()
	}
}
