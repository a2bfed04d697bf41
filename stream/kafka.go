package stream

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/internal/tlsconf"
	"github.com/earshot-dev/earshot/post"
)

// KafkaConfig configures the Kafka transport.
type KafkaConfig struct {
	Brokers           []string       `yaml:"brokers"`
	Partitions        int            `yaml:"partitions"`         // for topics earshot creates
	ReplicationFactor int            `yaml:"replication_factor"` // for topics earshot creates
	BatchTimeout      time.Duration  `yaml:"batch_timeout"`      // writer linger; kafka-go's 1s default is a latency trap
	SessionTimeout    time.Duration  `yaml:"session_timeout"`    // consumer group session
	MaxMessageBytes   int            `yaml:"max_message_bytes"`
	ConnectTimeout    time.Duration  `yaml:"connect_timeout"` // give up reaching the brokers at start after this; 0 waits forever
	TLS               tlsconf.Config `yaml:"tls"`             // TLS to the brokers (SSL, or SASL_SSL with sasl)
	SASL              KafkaSASL      `yaml:"sasl"`            // SASL authentication (SASL_PLAINTEXT, or SASL_SSL with tls)
	// Compression is the producer's codec: lz4 (the default), zstd,
	// snappy, gzip or none (for a broker on the same host: see
	// BENCHMARKS.md, "Distributed mode").
	Compression string `yaml:"compression"`
	// BatchItems is how many items one record of a batched topic (posts,
	// matched, enriched, volume, suppressed: see BatchTopics) carries at
	// most; 1 writes one item per record, as builds before it did.
	BatchItems int `yaml:"batch_items"`
	// BatchBytes bounds such a record's size (items, framing and key); 0
	// (the default) is 1 MiB or max_message_bytes, whichever is smaller,
	// so that lowering max_message_bytes alone is enough.
	BatchBytes int `yaml:"batch_bytes"`
	// CommitInterval is how often a consumer sends the offsets of the
	// batches it finished to the brokers (100ms by default); 0 sends each
	// batch's at once and waits for them before the next batch, a broker
	// round trip per batch (BENCHMARKS.md: p99 post→alert and broker CPU
	// both higher).
	CommitInterval time.Duration `yaml:"commit_interval"`
	// FetchIdle ends a consumer's batch when no record came for this long,
	// before runner.linger does; 0 waits out linger (or the batch size).
	FetchIdle time.Duration `yaml:"fetch_idle"`
	// BatchInterval paces small batches: a stage (or ingest) whose last
	// batch was not full and began less than this long ago gathers until
	// this long after it began (within runner.linger) before it passes
	// the batch on. At moderate rates every hop then sends a few larger
	// records instead of many small ones (the brokers' cost is per
	// request); a full batch, or one after a pause, goes at once. 0 turns
	// pacing off.
	BatchInterval time.Duration `yaml:"batch_interval"`
	// Codec is how the items on batched topics are written: binary (the
	// default: batch envelopes of version 2, docs/posts.md) or json (what
	// builds before it wrote, for a rolling upgrade: older consumers cannot
	// read binary items). Every build reads both.
	Codec string `yaml:"codec"`
}

// codecs are the item codecs transport.kafka.codec names; true is binary.
var codecs = map[string]bool{"": true, "binary": true, "json": false}

// batchBytes is the most bytes of a batched record: BatchBytes, or by
// default 1 MiB or MaxMessageBytes, whichever is smaller.
func (c KafkaConfig) batchBytes() int {
	if c.BatchBytes == 0 {
		return min(1<<20, c.MaxMessageBytes)
	}
	return c.BatchBytes
}

// compressions are the codecs transport.kafka.compression names.
var compressions = map[string]kafka.Compression{"": kafka.Lz4, "lz4": kafka.Lz4, "zstd": kafka.Zstd, "snappy": kafka.Snappy, "gzip": kafka.Gzip, "none": 0}

// DefaultKafkaConfig returns the defaults used for a local broker.
func DefaultKafkaConfig() KafkaConfig {
	return KafkaConfig{
		Brokers:           []string{"127.0.0.1:9092"},
		Partitions:        4,
		ReplicationFactor: 1,
		BatchTimeout:      time.Millisecond, // the runner forms the batches; this only gathers a batch's records per partition
		SessionTimeout:    10 * time.Second,
		MaxMessageBytes:   8 << 20,
		BatchItems:        500,
		FetchIdle:         time.Millisecond,
		BatchInterval:     5 * time.Millisecond,
		CommitInterval:    100 * time.Millisecond,
	}
}

// Validate reports every problem at once.
func (c KafkaConfig) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("transport.kafka.brokers: at least one broker is needed"))
	}
	for _, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			errs = append(errs, fmt.Errorf("transport.kafka.brokers: %q is not host:port", b))
		}
	}
	if c.Partitions < 1 || c.Partitions > 10_000 {
		errs = append(errs, fmt.Errorf("transport.kafka.partitions: %d, want 1 to 10000", c.Partitions))
	}
	if c.ReplicationFactor < 1 || c.ReplicationFactor > 32 {
		errs = append(errs, fmt.Errorf("transport.kafka.replication_factor: %d, want 1 to 32", c.ReplicationFactor))
	}
	if c.BatchTimeout <= 0 || c.BatchTimeout > time.Second {
		errs = append(errs, fmt.Errorf("transport.kafka.batch_timeout: %v, want between 0 and 1s", c.BatchTimeout))
	}
	if c.MaxMessageBytes < 64<<10 || c.MaxMessageBytes > 256<<20 {
		// A dead letter, with up to 4 KiB of raw input, must always fit; a
		// record is held in memory whole.
		errs = append(errs, fmt.Errorf("transport.kafka.max_message_bytes: %d, want 65536 to 268435456", c.MaxMessageBytes))
	}
	if c.SessionTimeout < 3*time.Second || c.SessionTimeout > 30*time.Minute {
		// Brokers refuse more than group.max.session.timeout.ms (30 min by default).
		errs = append(errs, fmt.Errorf("transport.kafka.session_timeout: %v, want 3s to 30m", c.SessionTimeout))
	}
	if c.ConnectTimeout < 0 || c.ConnectTimeout > 24*time.Hour {
		errs = append(errs, fmt.Errorf("transport.kafka.connect_timeout: %v, want 0 (wait forever) to 24h", c.ConnectTimeout))
	}
	if c.BatchItems < 1 || c.BatchItems > post.MaxBatchItems {
		errs = append(errs, fmt.Errorf("transport.kafka.batch_items: %d, want 1 (one item per record) to %d", c.BatchItems, post.MaxBatchItems))
	}
	if c.BatchBytes != 0 && (c.BatchBytes < 4<<10 || c.BatchBytes > c.MaxMessageBytes) {
		errs = append(errs, fmt.Errorf("transport.kafka.batch_bytes: %d, want 0 (1 MiB or max_message_bytes, the smaller) or 4096 to max_message_bytes (%d)", c.BatchBytes, c.MaxMessageBytes))
	}
	if c.CommitInterval < 0 || c.CommitInterval > 10*time.Second {
		errs = append(errs, fmt.Errorf("transport.kafka.commit_interval: %v, want 0 (each batch, synchronously) to 10s", c.CommitInterval))
	}
	if c.FetchIdle < 0 || c.FetchIdle > 10*time.Second {
		errs = append(errs, fmt.Errorf("transport.kafka.fetch_idle: %v, want 0 (wait out runner.linger) to 10s", c.FetchIdle))
	}
	if c.BatchInterval < 0 || c.BatchInterval > time.Second {
		errs = append(errs, fmt.Errorf("transport.kafka.batch_interval: %v, want 0 (no pacing) to 1s", c.BatchInterval))
	}
	if _, ok := codecs[c.Codec]; !ok {
		errs = append(errs, fmt.Errorf("transport.kafka.codec: %q, want binary or json", c.Codec))
	}
	if _, ok := compressions[c.Compression]; !ok {
		errs = append(errs, fmt.Errorf("transport.kafka.compression: %q, want lz4, zstd, snappy, gzip or none", c.Compression))
	}
	if _, err := c.Conn(nil); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Kafka is the distributed-mode transport, over segmentio/kafka-go.
type Kafka struct {
	cfg       KafkaConfig
	deadTopic string
	dialer    *kafka.Dialer    // for readers
	transport *kafka.Transport // for writers and the client
	client    *kafka.Client
	log       *slog.Logger
	batched   map[string]bool // topics whose records carry up to BatchItems items
	// leaderWait bounds how long EnsureTopics waits for the topics'
	// partitions to be served by their leaders (defaultLeaderWait).
	leaderWait time.Duration

	requests kafkaRequests
}

// BatchTopics names the topics whose records carry up to batch_items items
// each (the pipeline's own topics between stages). Records of other topics
// (the alert queues, which other programs read, and the dead letters) carry
// one item each. Call it before making consumers and producers. Consumers
// read both forms on every topic, whatever this says.
func (k *Kafka) BatchTopics(topics ...string) {
	if k.batched == nil {
		k.batched = map[string]bool{}
	}
	for _, t := range topics {
		k.batched[t] = true
	}
}

// NewKafka returns a Kafka transport. Records on deadTopic are decoded as
// dead letters; all others as items. Every reader, writer and client it
// makes connects with the configuration's TLS and SASL; it fails if they
// cannot be built (a CA file unreadable, a password missing).
func NewKafka(cfg KafkaConfig, deadTopic string, log *slog.Logger) (*Kafka, error) {
	conn, err := cfg.Conn(nil)
	if err != nil {
		return nil, err
	}
	log = log.With("component", "kafka")
	if conn.SASL != nil && conn.TLS == nil {
		log.Warn("kafka: SASL without TLS: the credentials (in the clear with PLAIN) and all records cross the network unencrypted; set transport.kafka.tls.enabled", "mechanism", conn.SASL.Name())
	}
	tr := conn.Transport()
	return &Kafka{
		cfg:        cfg,
		deadTopic:  deadTopic,
		dialer:     conn.Dialer(),
		transport:  tr,
		client:     &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Timeout: 10 * time.Second, Transport: tr},
		log:        log,
		leaderWait: defaultLeaderWait,
	}, nil
}

// WaitReady blocks until a metadata request to the brokers succeeds, retrying
// with capped exponential backoff and saying why on each failure. It gives up
// after ConnectTimeout, if set, or when ctx ends; then, and only then, the
// error wraps ctx's, so that a caller tells a stop from a failure.
func (k *Kafka) WaitReady(ctx context.Context) error {
	stop := ctx
	if k.cfg.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, k.cfg.ConnectTimeout)
		defer cancel()
	}
	b := Backoff{Min: 250 * time.Millisecond, Max: 10 * time.Second}
	for attempt := 1; ; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := k.client.Metadata(rctx, &kafka.MetadataRequest{})
		cancel()
		if err == nil {
			if attempt > 1 {
				k.log.Info("kafka reachable", "brokers", k.cfg.Brokers, "attempts", attempt)
			}
			return nil
		}
		if permanent(err) {
			// Retrying cannot cure an untrusted certificate or a refused
			// password: say so at once rather than retry forever.
			return fmt.Errorf("kafka brokers %v: %s: %w", k.cfg.Brokers, explain(err), err)
		}
		if k.cfg.TLS.Enabled && errors.Is(err, io.EOF) {
			// A plaintext listener closes a TLS handshake without a word.
			err = fmt.Errorf("%w (closed during the TLS handshake: a plaintext listener? transport.kafka.tls is enabled)", err)
		}
		wait := b.Next()
		k.log.Warn("kafka unreachable; retrying", "brokers", k.cfg.Brokers, "attempt", attempt, "retry_in", wait, "err", err)
		if !Sleep(ctx, wait) {
			if stop.Err() != nil {
				err = fmt.Errorf("%w (stopped: %w)", err, stop.Err())
			}
			return fmt.Errorf("kafka brokers %v unreachable after %d attempts: %w", k.cfg.Brokers, attempt, err)
		}
	}
}

// EnsureTopics creates the topics that are missing. A broker that goes
// away meanwhile (a restart after WaitReady) is waited for as WaitReady
// waits: with backoff, until ConnectTimeout if set, or ctx ends. Refusals
// (a bad replication factor, a topic's smaller max.message.bytes, a
// certificate or password refused) fail at once.
func (k *Kafka) EnsureTopics(ctx context.Context, topics ...string) error {
	if k.cfg.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, k.cfg.ConnectTimeout)
		defer cancel()
	}
	b := Backoff{Min: 250 * time.Millisecond, Max: 10 * time.Second}
	for attempt := 1; ; attempt++ {
		err := k.ensureTopics(ctx, topics)
		var t transient
		if !errors.As(err, &t) {
			return err
		}
		wait := b.Next()
		k.log.Warn("creating topics: kafka unreachable; retrying", "brokers", k.cfg.Brokers, "attempt", attempt, "retry_in", wait, "err", err)
		if !Sleep(ctx, wait) {
			return fmt.Errorf("kafka brokers %v unreachable after %d attempts: %w", k.cfg.Brokers, attempt, t.error)
		}
	}
}

// transient marks an error of the connection, not a refusal: worth a retry.
type transient struct{ error }

func (t transient) Unwrap() error { return t.error }

// temporary reports whether err is of the connection (or a broker's
// temporary state) rather than a refusal.
func temporary(err error) bool {
	if err == nil || permanent(err) {
		return false
	}
	var ke kafka.Error
	if errors.As(err, &ke) {
		return ke.Temporary()
	}
	return true // network errors, EOFs, timeouts
}

func (k *Kafka) ensureTopics(ctx context.Context, topics []string) error {
	req := &kafka.CreateTopicsRequest{}
	for _, t := range topics {
		req.Topics = append(req.Topics, kafka.TopicConfig{
			Topic:             t,
			NumPartitions:     k.cfg.Partitions,
			ReplicationFactor: k.cfg.ReplicationFactor,
			ConfigEntries:     []kafka.ConfigEntry{{ConfigName: "max.message.bytes", ConfigValue: fmt.Sprint(k.cfg.MaxMessageBytes)}},
		})
	}
	res, err := k.client.CreateTopics(ctx, req)
	if err != nil {
		err = fmt.Errorf("creating topics %v: %w", topics, err)
		if temporary(err) && ctx.Err() == nil {
			return transient{err}
		}
		return err
	}
	var errs []error
	retry := true
	for t, err := range res.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			errs = append(errs, fmt.Errorf("creating topic %s: %w", t, err))
			retry = retry && temporary(err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		if retry && ctx.Err() == nil {
			return transient{err}
		}
		return err
	}
	if err := k.waitTopics(ctx, topics...); err != nil {
		if ctx.Err() == nil {
			return transient{err} // the broker went away after creating them
		}
		return err
	}
	return k.checkLimits(ctx, topics)
}

// checkLimits refuses topics that already existed with a smaller
// max.message.bytes than max_message_bytes: the broker would refuse the
// larger records, and a batch holding one would be retried forever.
func (k *Kafka) checkLimits(ctx context.Context, topics []string) error {
	req := &kafka.DescribeConfigsRequest{}
	for _, t := range topics {
		req.Resources = append(req.Resources, kafka.DescribeConfigRequestResource{ResourceType: kafka.ResourceTypeTopic, ResourceName: t, ConfigNames: []string{"max.message.bytes"}})
	}
	res, err := k.client.DescribeConfigs(ctx, req)
	if err != nil {
		// Not every broker lets every client read configs; the producer's
		// own check still holds records to max_message_bytes.
		k.log.Warn("cannot read the topics' max.message.bytes; not checked", "topics", topics, "err", err)
		return nil
	}
	var errs []error
	for _, r := range res.Resources {
		for _, e := range r.ConfigEntries {
			if n, err := strconv.Atoi(e.ConfigValue); err == nil && e.ConfigName == "max.message.bytes" && n < k.cfg.MaxMessageBytes {
				errs = append(errs, fmt.Errorf("topic %s: max.message.bytes is %d, less than transport.kafka.max_message_bytes %d: raise the topic's or lower earshot's", r.ResourceName, n, k.cfg.MaxMessageBytes))
			}
		}
	}
	return errors.Join(errs...)
}

// defaultLeaderWait bounds how long waitTopics waits for topics to be
// served: a loaded broker can take seconds to elect new partitions' leaders.
const defaultLeaderWait = 30 * time.Second

// waitTopics returns once every partition of topics is served by its
// leader: the topics are in the metadata, each partition names a leader,
// and the leaders answer a ListOffsets for every partition. Metadata alone
// is not enough: a broker lists a new partition's leader before that
// leader serves it, and every reader and writer that came meanwhile met
// "Not Leader For Partition" and retried, which each stage logged at start.
// Topics missing from the metadata after leaderWait are an error; a
// partition still without a serving leader then (a broker of the cluster
// down) is a warning, and the stage starts: its readers and writers wait
// for that partition on their own, as they do when a leader goes away
// later.
func (k *Kafka) waitTopics(ctx context.Context, topics ...string) error {
	deadline := time.Now().Add(k.leaderWait)
	for {
		visible, err := k.topicsServed(ctx, topics)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			if visible {
				k.log.Warn("partitions without a serving leader; starting anyway, their readers and writers retry", "waited", k.leaderWait, "err", err)
				return nil
			}
			return fmt.Errorf("topics not in the metadata %v after creation: %w", k.leaderWait, err)
		}
		if !Sleep(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// topicsServed says why topics are not yet all served by their leaders,
// or nil when they are; visible is whether every topic and partition is
// in the metadata (only their leaders are not ready).
func (k *Kafka) topicsServed(ctx context.Context, topics []string) (visible bool, err error) {
	md, err := k.client.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return false, fmt.Errorf("metadata: %w", err)
	}
	if len(md.Topics) != len(topics) {
		return false, fmt.Errorf("the metadata names %d of %d topics", len(md.Topics), len(topics))
	}
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	var errs []error
	for _, t := range md.Topics {
		if t.Error != nil || len(t.Partitions) == 0 {
			return false, fmt.Errorf("topic %s: %d partitions in the metadata: %v", t.Name, len(t.Partitions), t.Error)
		}
		for _, p := range t.Partitions {
			if p.Error != nil {
				if temporary(p.Error) { // e.g. Leader Not Available
					errs = append(errs, fmt.Errorf("topic %s partition %d: %w", t.Name, p.ID, p.Error))
				}
				continue // a refusal (an ACL) is the readers' and writers' to report, not worth a wait
			}
			req.Topics[t.Name] = append(req.Topics[t.Name], kafka.FirstOffsetOf(p.ID))
		}
	}
	if len(errs) > 0 {
		return true, errors.Join(errs...)
	}
	res, err := k.client.ListOffsets(ctx, req)
	if err != nil {
		return false, fmt.Errorf("listing offsets: %w", err) // the request, not a partition: as if the broker went away
	}
	for _, t := range topics {
		if len(res.Topics[t]) != len(req.Topics[t]) {
			errs = append(errs, fmt.Errorf("topic %s: %d of %d partitions answered", t, len(res.Topics[t]), len(req.Topics[t])))
		}
		for _, p := range res.Topics[t] {
			if p.Error != nil && temporary(p.Error) { // e.g. Not Leader For Partition: elected, not serving yet
				errs = append(errs, fmt.Errorf("topic %s partition %d: %w", t, p.Partition, p.Error))
			}
		}
	}
	return true, errors.Join(errs...)
}

// Consumer joins group on topic, starting at the earliest offset when the
// group has no committed offset, so nothing produced before the first
// consumer started is missed.
func (k *Kafka) Consumer(group, topic string) (Consumer, error) {
	r := kafka.NewReader(k.readerConfig(group, topic))
	k.requests.addReader(r)
	return &kafkaConsumer{r: r, client: k.client, group: group, topic: topic, dead: topic == k.deadTopic, idle: k.cfg.FetchIdle, pace: k.cfg.BatchInterval, maxBytes: fetchBytes, requests: &k.requests, syncCommit: k.cfg.CommitInterval == 0}, nil
}

// fetchWait is how long a fetch waits for records. kafka-go gives up on a
// fetch after fetchWait and asks the broker to answer a quarter of it
// sooner (below 1s): that quarter is all the room a busy broker or host has.
// At 250ms, 62ms was too little on a loaded host: idle partitions timed out,
// and each timeout logged a warning and re-dialled the leader (34 in 3
// minutes on an idle 4-partition topic; none at 1s). Records that arrive end
// the wait at once, so it costs no latency; a stop or rebalance waits for the
// fetch in progress, up to fetchWait.
const fetchWait = time.Second

func (k *Kafka) readerConfig(group, topic string) kafka.ReaderConfig {
	queue := 4096
	if k.batched[topic] && k.cfg.BatchItems > 1 {
		// The reader's queue counts records: keep about as many items
		// buffered as with one item per record, and at most 16 records
		// of batch_bytes.
		queue = max(16, 4096/k.cfg.BatchItems)
	}
	return kafka.ReaderConfig{
		Brokers:       k.cfg.Brokers,
		Dialer:        k.dialer,
		GroupID:       group,
		Topic:         topic,
		MinBytes:      1,
		MaxBytes:      k.cfg.MaxMessageBytes + 1<<20,
		MaxWait:       fetchWait,
		QueueCapacity: queue,
		// 0: synchronous commits, Commit returns once the broker has them.
		// Else Commit hands the offsets (of batches already produced and
		// acknowledged downstream) to a committer that sends them every
		// interval and at a rebalance or close: never past unfinished work,
		// and a crash repeats at most an interval more.
		CommitInterval:    k.cfg.CommitInterval,
		StartOffset:       kafka.FirstOffset,
		SessionTimeout:    k.cfg.SessionTimeout,
		HeartbeatInterval: k.cfg.SessionTimeout / 6,
		RebalanceTimeout:  k.cfg.SessionTimeout,
		JoinGroupBackoff:  time.Second,
		ReadBackoffMin:    50 * time.Millisecond,
		ReadBackoffMax:    time.Second,
		ErrorLogger:       kafka.LoggerFunc(func(msg string, args ...any) { k.log.Warn(fmt.Sprintf(msg, args...), "group", group, "topic", topic) }),
	}
}

// Producer returns a producer that waits for all in-sync replicas (acks=all).
func (k *Kafka) Producer() (Producer, error) {
	writer := func(batchSize int) *kafka.Writer {
		w := &kafka.Writer{
			Addr:                   kafka.TCP(k.cfg.Brokers...),
			Transport:              k.transport,
			Balancer:               kafka.Murmur2Balancer{}, // same partition for a key as the Java client
			RequiredAcks:           kafka.RequireAll,
			BatchTimeout:           k.cfg.BatchTimeout,
			BatchSize:              batchSize,
			BatchBytes:             int64(k.cfg.MaxMessageBytes),
			MaxAttempts:            5,
			WriteBackoffMin:        50 * time.Millisecond,
			WriteBackoffMax:        2 * time.Second,
			AllowAutoTopicCreation: false,
			Compression:            compressions[k.cfg.Compression],
		}
		k.requests.addWriter(w)
		return w
	}
	p := &kafkaProducer{w: writer(1000), max: k.cfg.MaxMessageBytes, items: k.cfg.BatchItems, bytes: min(k.cfg.batchBytes(), k.cfg.MaxMessageBytes), batched: maps.Clone(k.batched), binary: codecs[k.cfg.Codec]}
	if p.items > 1 && len(p.batched) > 0 {
		// Batch records go out at once, each in a produce request of its
		// own: a produce call holds a few per partition, already gathered,
		// and kafka-go's writer holds back a partition's records until it
		// has BatchSize of them or BatchTimeout has passed, which for them
		// would be a wait on every hop and nothing gained.
		p.wb = writer(1)
	}
	p.parts = partitionCounts{client: k.client, n: map[string]partitionCount{}}
	p.requests = &k.requests
	return p, nil
}

// Close releases the transport's idle connections.
func (k *Kafka) Close() error {
	k.transport.CloseIdleConnections()
	return nil
}

type kafkaConsumer struct {
	r      *kafka.Reader
	client *kafka.Client
	group  string
	topic  string
	dead   bool
	idle   time.Duration // fetch_idle
	pace   time.Duration // batch_interval
	// maxBytes bounds a batch's record bytes (fetchBytes): a fetch stops
	// gathering once they pass it.
	maxBytes int
	// prev is when the last batch's first record came, and prevFull
	// whether it was full; only Fetch, called by one goroutine, uses them.
	prev     time.Time
	prevFull bool
	// requests counts the synchronous commits (one request each).
	requests   *kafkaRequests
	syncCommit bool

	mu     sync.Mutex
	lag    int64         // the group's lag, as last read
	lagAt  time.Time     // when the last reading started
	probe  chan struct{} // closed when the running reading ends; nil when none runs
	closed bool
}

// waitOutLinger: see WaitOutLinger.
func (c *kafkaConsumer) waitOutLinger() { c.idle, c.pace = 0, 0 }

// fetchBytes bounds the bytes of the records one batch gathers, beside
// its count: posts may be up to ingest.max_post_bytes (1 MiB) each, and a
// batch of the sink's 10,000 such records, which a backlog after an
// outage fills at once, held 10 GB and ran the process out of memory on
// every restart at the same offsets. Posts of usual sizes (hundreds of
// bytes) fill a batch's count long before it.
const fetchBytes = 64 << 20

func (c *kafkaConsumer) Fetch(ctx context.Context, limit int, linger time.Duration) ([]Delivery, error) {
	m, err := c.r.FetchMessage(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetching from %s: %w", c.topic, err)
	}
	start := time.Now()
	// A record's items are never split between two fetches, even past
	// limit: the watermark commits a record's offset once the batch holding
	// it is done, which must then be all of its items.
	ds := c.decode(nil, m)
	size := len(m.Key) + len(m.Value)
	if limit > 1 && linger > 0 {
		deadline := start.Add(linger)
		hold := paceUntil(c.prev, c.prevFull, start, c.pace)
		for len(ds) < limit && (c.maxBytes <= 0 || size < c.maxBytes) {
			// Records come in bursts (a fetch's worth, a producer's batch):
			// a pause of fetch_idle ends the batch before linger does, so
			// that at moderate rates every hop does not wait out linger;
			// but not before hold, while small batches are being paced.
			wait := batchWait(deadline, hold, c.idle)
			if wait <= 0 {
				break
			}
			lctx, cancel := context.WithTimeout(ctx, wait)
			m, err := c.r.FetchMessage(lctx)
			cancel()
			if err != nil {
				break // linger over, a pause, or ctx done: return what we have
			}
			ds = c.decode(ds, m)
			size += len(m.Key) + len(m.Value)
		}
	}
	c.prev, c.prevFull = start, len(ds) >= limit || c.maxBytes > 0 && size >= c.maxBytes
	return ds, nil
}

// batchWait is how long a consumer gathering a batch waits for its next
// record: until linger's deadline, and with idle (fetch_idle) set, no
// longer than idle once hold (paceUntil) has passed. Both transports'
// consumers end their batches by it.
func batchWait(deadline, hold time.Time, idle time.Duration) time.Duration {
	wait := time.Until(deadline)
	if idle > 0 {
		wait = min(wait, max(idle, time.Until(hold)))
	}
	return wait
}

// paceUntil is when a batch that began at start may be passed on, at the
// earliest, when batches are paced every pace: pace after the previous
// batch began if that one was small and began less than pace before this
// one; else at once (start). A full batch means the input is ahead, and
// a batch after a pause has waited already: neither is held.
func paceUntil(prev time.Time, prevFull bool, start time.Time, pace time.Duration) time.Time {
	if pace <= 0 || prevFull || prev.IsZero() || start.Sub(prev) >= pace {
		return start
	}
	return prev.Add(pace)
}

// decode appends the deliveries of one record to ds: one per item it
// carries (a batch record carries several, each decoded on its own, so a
// bad one is a dead letter with its own bytes and reason), all at the
// record's offset, and one more for the bytes of a damaged envelope.
func (c *kafkaConsumer) decode(ds []Delivery, m kafka.Message) []Delivery {
	return decodeRecord(ds, m.Value, m.Partition, m.Offset, c.dead)
}

func decodeRecord(ds []Delivery, value []byte, partition int, offset int64, dead bool) []Delivery {
	if dead {
		d := Delivery{Raw: value, Partition: partition, Offset: offset}
		d.Dead, d.Err = post.DecodeDeadLetter(value)
		return append(ds, d)
	}
	items, rest, err := post.SplitRecord(value)
	ds = slices.Grow(ds, len(items)+1) // a batch record's deliveries in one step, not by doubling
	decode := post.DecoderFor(value)
	for _, b := range items {
		d := Delivery{Raw: b, Partition: partition, Offset: offset}
		d.Item, d.Err = decode(b)
		if d.Err != nil && post.IsBinaryRecord(value) {
			// A dead letter's raw is text: carry the binary item in base64.
			d.Raw = []byte(base64.StdEncoding.EncodeToString(b))
			d.Err = fmt.Errorf("%w (binary item; raw is its bytes in base64)", d.Err)
		}
		ds = append(ds, d)
	}
	if err != nil {
		if post.IsBinaryRecord(value) {
			rest = []byte(base64.StdEncoding.EncodeToString(rest))
			err = fmt.Errorf("%w (binary envelope; raw is its bytes in base64)", err)
		}
		ds = append(ds, Delivery{Raw: rest, Err: fmt.Errorf("%w (%d items before it were read)", err, len(items)), Partition: partition, Offset: offset})
	}
	return ds
}

func (c *kafkaConsumer) Commit(ctx context.Context, done []Position) error {
	if len(done) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(done))
	for i, p := range done {
		msgs[i] = kafka.Message{Topic: c.topic, Partition: p.Partition, Offset: p.Offset}
	}
	if c.syncCommit {
		c.requests.commit.Add(1)
	}
	if err := c.r.CommitMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("committing %s: %w", c.topic, err)
	}
	return nil
}

// lagEvery is how often the group's lag is read from the brokers, at most;
// lagWait is how long Lag waits for a reading; lagTimeout bounds one.
const (
	lagEvery   = 2 * time.Second
	lagWait    = 500 * time.Millisecond
	lagTimeout = 5 * time.Second
)

// Lag is the group's lag: the records between its committed offsets and the
// ends of the topic's partitions, over every partition, so every copy of a
// stage reports the same. The reader's own statistic cannot serve: it is the
// fetch position of whichever partition was read last, ahead of the records
// buffered and in flight, and it stops moving when the stage stalls, which
// is when it matters. The brokers are asked at most every lagEvery, and a
// caller (a scrape) waits at most lagWait for their answer: if they are slow
// or unreachable it gets the last value, and the reading goes on behind.
func (c *kafkaConsumer) Lag() int64 {
	c.mu.Lock()
	if c.probe == nil && !c.closed && time.Since(c.lagAt) >= lagEvery {
		c.probe, c.lagAt = make(chan struct{}), time.Now()
		go c.readLag(c.probe)
	}
	probe := c.probe
	c.mu.Unlock()
	if probe != nil {
		t := time.NewTimer(lagWait)
		select {
		case <-probe:
		case <-t.C:
		}
		t.Stop()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lag
}

func (c *kafkaConsumer) readLag(done chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), lagTimeout)
	defer cancel()
	n, err := groupLag(ctx, c.client, c.group, c.topic)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil { // else Kafka is unreachable, which the fetches report
		c.lag = n
	}
	c.probe = nil
	close(done)
}

// groupLag sums, over the partitions of topic, the distance from group's
// committed offset to the partition's end. A partition the group has not
// committed on counts from its first offset, where the group starts.
func groupLag(ctx context.Context, cl *kafka.Client, group, topic string) (int64, error) {
	md, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("lag of %s on %s: metadata: %w", group, topic, err)
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil {
		return 0, fmt.Errorf("lag of %s on %s: no metadata for the topic", group, topic)
	}
	var parts []int
	for _, p := range md.Topics[0].Partitions {
		parts = append(parts, p.ID)
	}
	committed, err := cl.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		return 0, fmt.Errorf("lag of %s on %s: committed offsets: %w", group, topic, err)
	}
	from := map[int]int64{}
	var uncommitted []int
	for _, p := range committed.Topics[topic] {
		if p.Error != nil {
			return 0, fmt.Errorf("lag of %s on %s: committed offset of partition %d: %w", group, topic, p.Partition, p.Error)
		}
		if p.CommittedOffset < 0 {
			uncommitted = append(uncommitted, p.Partition)
			continue
		}
		from[p.Partition] = p.CommittedOffset
	}
	if len(uncommitted) > 0 {
		first, err := listOffsets(ctx, cl, topic, uncommitted, kafka.FirstOffsetOf)
		if err != nil {
			return 0, fmt.Errorf("lag of %s on %s: %w", group, topic, err)
		}
		maps.Copy(from, first)
	}
	end, err := listOffsets(ctx, cl, topic, parts, kafka.LastOffsetOf)
	if err != nil {
		return 0, fmt.Errorf("lag of %s on %s: %w", group, topic, err)
	}
	var lag int64
	for p, e := range end {
		lag += max(0, e-from[p])
	}
	return lag, nil
}

// listOffsets returns the first or last offset (as which says) of each partition.
func listOffsets(ctx context.Context, cl *kafka.Client, topic string, parts []int, which func(int) kafka.OffsetRequest) (map[int]int64, error) {
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {}}}
	for _, p := range parts {
		req.Topics[topic] = append(req.Topics[topic], which(p))
	}
	res, err := cl.ListOffsets(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("listing offsets: %w", err)
	}
	out := map[int]int64{}
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("listing offsets of partition %d: %w", p.Partition, p.Error)
		}
		out[p.Partition] = max(p.FirstOffset, p.LastOffset) // the one asked for; the other is -1
	}
	return out, nil
}

func (c *kafkaConsumer) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return c.r.Close()
}

type kafkaProducer struct {
	w       *kafka.Writer // records of one item
	wb      *kafka.Writer // batch records; nil when nothing is batched
	max     int           // max_message_bytes
	items   int           // batch_items
	bytes   int           // batch_bytes
	batched map[string]bool
	binary  bool // items of batched topics are binary, in envelopes of version 2
	// itemSize is the mean size of the binary items of the last produce
	// call, to size the next one's buffer.
	itemSize atomic.Int64
	parts    partitionCounts
	requests *kafkaRequests
}

// framing is the room a record needs beside its key and value in a record
// batch: kafka-go's own count is 23 bytes, the batch header is 61, and an
// incompressible value grows a little in its lz4 frame.
const framing = 1 << 10

// Produce writes outs, acknowledged by the brokers when it returns. Items
// for a batched topic are grouped by the partition their key hashes to
// (murmur2, as the writer's balancer hashes keys) and written as batch
// records of up to batch_items items and batch_bytes bytes, keyed by their
// first item's key: every item lands on the partition its own key would
// have, in the order given, so per-key order holds as with one item per
// record. Dead letters, items of other topics and items whose topic's
// partitions are unknown (the brokers did not answer) are records of their
// own.
func (p *kafkaProducer) Produce(ctx context.Context, outs []Out) error {
	if len(outs) == 0 {
		return nil
	}
	enc, err := p.encode(outs)
	if err != nil {
		return err
	}
	msgs := p.records(ctx, outs, enc)
	if p.wb == nil {
		return write(ctx, p.w, msgs)
	}
	var single, batch []kafka.Message
	for _, m := range msgs {
		if post.IsBatch(m.Value) {
			batch = append(batch, m)
		} else {
			single = append(single, m)
		}
	}
	if len(single) <= fewSingles {
		// A few single records (a batch's alerts) go out at once with the
		// batch records rather than wait out the writer's BatchTimeout.
		// (Sending them as one request per partition through the client,
		// beside the writer, was tried and taken out: a distributed chaos
		// run with broker restarts lost a queue's alerts while it was in,
		// and the writer's handling of a restarting broker is the tested one.)
		batch, single = append(batch, single...), nil
	}
	if len(single) == 0 || len(batch) == 0 {
		return errors.Join(write(ctx, p.w, single), write(ctx, p.wb, batch))
	}
	errc := make(chan error, 1)
	go func() { errc <- write(ctx, p.w, single) }()
	err = write(ctx, p.wb, batch)
	return errors.Join(err, <-errc)
}

// encode returns the wire form of each of outs: dead letters and the
// items of topics other programs read in JSON, the items of batched topics
// in the configured codec. Items too large for a record, or that cannot be
// encoded, are an error listing them all.
func (p *kafkaProducer) encode(outs []Out) ([][]byte, error) {
	enc := make([][]byte, len(outs))
	var (
		big      *TooLargeError
		arena    []byte // the binary items, one after the other
		binItems int
	)
	for i, o := range outs {
		var (
			b   []byte
			err error
		)
		switch {
		case o.Dead != nil:
			b, err = post.EncodeDeadLetter(o.Dead)
		case p.isBinary(o):
			if arena == nil {
				// Room for the rest at the size items had last time,
				// and an eighth more: one allocation, most of it used.
				arena = make([]byte, 0, (len(outs)-i)*int(max(64, p.itemSize.Load()))*9/8)
			}
			start := len(arena)
			arena = post.AppendBinary(arena, o.Item)
			// Capped, so that nothing appended to b can overwrite the
			// next item; when arena moves to a larger array, the items
			// already taken stay valid in the old one.
			b = arena[start:len(arena):len(arena)]
		default:
			b, err = post.Encode(nil, o.Item)
		}
		if err != nil {
			// Retrying cannot help: a dead letter, as for a record too large.
			if big == nil {
				big = &TooLargeError{Limit: p.max}
			}
			big.Records = append(big.Records, TooLarge{Index: i, Err: err})
			continue
		}
		if p.isBinary(o) {
			binItems++
		}
		if n := len(o.Key) + len(b); n+framing > p.max {
			if big == nil {
				big = &TooLargeError{Limit: p.max}
			}
			head := b
			if p.isBinary(o) {
				// The dead letter's raw is text: its head in JSON.
				head, _ = post.Encode(nil, o.Item)
			}
			big.Records = append(big.Records, TooLarge{Index: i, Size: n, Head: post.Cut(head)})
			continue
		}
		enc[i] = b
	}
	if big != nil {
		return nil, big // before writing any: the caller produces the batch again
	}
	if binItems > 0 {
		p.itemSize.Store(int64(len(arena) / binItems))
	}
	return enc, nil
}

// fewSingles is how many single records a produce call sends through the
// writer that sends each record at once. More (a flood of dead letters)
// go through the writer that gathers them per partition: one request per
// record would be slow for them.
const fewSingles = 32

func write(ctx context.Context, w *kafka.Writer, msgs []kafka.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("producing %d records: %w", len(msgs), summarize(err))
	}
	return nil
}

// records turns outs, encoded as enc, into the records to write.
func (p *kafkaProducer) records(ctx context.Context, outs []Out, enc [][]byte) []kafka.Message {
	// Room for a record per out only when each out is a record of its
	// own: batched, ingest's 1,000 posts are a few records, and room for
	// 1,000 kafka.Messages (152 bytes each) was 40 % of what a produce
	// call allocated (BenchmarkProducerRecords).
	n := len(outs)
	if p.items > 1 {
		n = min(n, 16)
	}
	msgs := make([]kafka.Message, 0, n)
	type dest struct {
		topic string
		part  int
	}
	var (
		groups = map[dest]int{} // into order
		order  [][]int          // the outs of each destination, in order
	)
	for i, o := range outs {
		if o.Dead != nil || p.items <= 1 || !p.batched[o.Topic] || o.Key == "" {
			msgs = append(msgs, p.record(outs, enc, []int{i}, 0))
			continue
		}
		ids := p.parts.get(ctx, o.Topic)
		if len(ids) == 0 {
			msgs = append(msgs, p.record(outs, enc, []int{i}, 0))
			continue
		}
		d := dest{o.Topic, kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: []byte(o.Key)}, ids...)}
		g, ok := groups[d]
		if !ok {
			g = len(order)
			groups[d] = g
			order = append(order, nil)
		}
		order[g] = append(order[g], i)
	}
	for _, idx := range order {
		for len(idx) > 0 {
			n, size := p.chunk(outs, enc, idx)
			msgs = append(msgs, p.record(outs, enc, idx[:n], size))
			idx = idx[n:]
		}
	}
	return msgs
}

// chunk is how many of idx (at least one) go into the next record, and the
// size of their envelope: at most batch_items, and within batch_bytes (and
// max_message_bytes) with the first item's key and the framing.
func (p *kafkaProducer) chunk(outs []Out, enc [][]byte, idx []int) (n, size int) {
	limit := min(p.bytes, p.max-framing) - len(outs[idx[0]].Key)
	size = post.EnvelopeOverhead(0)
	for n < len(idx) && n < p.items {
		add := len(enc[idx[n]]) + binary.MaxVarintLen32
		if n > 0 && size+add > limit {
			break
		}
		size += add
		n++
	}
	return n, size
}

// record is one record carrying outs[idx]: a JSON item itself when it is
// alone (as a writer without batching writes it), else a batch envelope,
// which binary items always need. size is the envelope's size, at most,
// when known.
func (p *kafkaProducer) record(outs []Out, enc [][]byte, idx []int, size int) kafka.Message {
	first := outs[idx[0]]
	bin := p.isBinary(first)
	if len(idx) == 1 && !bin {
		return kafka.Message{Topic: first.Topic, Key: []byte(first.Key), Value: enc[idx[0]]}
	}
	items := make([][]byte, len(idx))
	for j, i := range idx {
		items[j] = enc[i]
	}
	if size == 0 {
		size = post.EnvelopeOverhead(len(idx)) + len(enc[idx[0]])
	}
	v := byte(post.EnvelopeVersion)
	if bin {
		v = post.EnvelopeBinary
	}
	return kafka.Message{Topic: first.Topic, Key: []byte(first.Key), Value: post.AppendEnvelope(make([]byte, 0, size), v, items)}
}

// isBinary reports whether o's item is written binary: items of batched
// topics are, when the codec is binary; dead letters and the alert topics,
// which other programs read, stay JSON.
func (p *kafkaProducer) isBinary(o Out) bool {
	return p.binary && o.Dead == nil && p.batched[o.Topic]
}

// partitionCounts caches the partition count of each topic, read from the
// brokers at most every partitionsEvery. A topic's partitions can only
// grow, and when they do the keys move anyway (Kafka's own rule): until
// both the writer and this cache have seen the new count, a batch record
// can hold items whose keys now hash elsewhere.
type partitionCounts struct {
	client *kafka.Client
	mu     sync.Mutex
	n      map[string]partitionCount
}

type partitionCount struct {
	ids []int // 0 to n-1, as the writer hands them to its balancer
	at  time.Time
}

// partitionsEvery is how often a topic's count is read again; kafka-go's
// writer reads it through its transport's metadata cache, kept 6s.
const partitionsEvery = 10 * time.Second

// get is topic's partitions, none when they have never been read.
func (pc *partitionCounts) get(ctx context.Context, topic string) []int {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	c, ok := pc.n[topic]
	if ok && time.Since(c.at) < partitionsEvery {
		return c.ids
	}
	mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	md, err := pc.client.Metadata(mctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err == nil && len(md.Topics) == 1 && md.Topics[0].Error == nil && len(md.Topics[0].Partitions) > 0 {
		c = partitionCount{ids: make([]int, len(md.Topics[0].Partitions)), at: time.Now()}
		for i := range c.ids {
			c.ids[i] = i
		}
	} else {
		c.at = time.Now() // keep the last count (or none); ask again later
	}
	pc.n[topic] = c
	return c.ids
}

// summarize shortens kafka-go's per-message WriteErrors to their distinct causes.
func summarize(err error) error {
	var we kafka.WriteErrors
	if !errors.As(err, &we) {
		return err
	}
	seen := map[string]bool{}
	var parts []string
	for _, e := range we {
		if e != nil && !seen[e.Error()] {
			seen[e.Error()] = true
			parts = append(parts, e.Error())
		}
	}
	return fmt.Errorf("%d of %d failed: %s", we.Count(), len(we), strings.Join(parts, "; "))
}

func (p *kafkaProducer) Close() error {
	if p.wb != nil {
		return errors.Join(p.w.Close(), p.wb.Close())
	}
	return p.w.Close()
}

// Client is the transport's kafka-go client, with the configuration's TLS
// and SASL, for tools that inspect topics and groups (bench/distributed).
func (k *Kafka) Client() *kafka.Client { return k.client }

// Dialer is the dialer the transport's readers use, for tools that read a
// topic's partitions directly.
func (k *Kafka) Dialer() *kafka.Dialer { return k.dialer }

// GroupLag is the records of topic past group's committed offsets (from the
// first offset of a partition it has not committed on).
func (k *Kafka) GroupLag(ctx context.Context, group, topic string) (int64, error) {
	return groupLag(ctx, k.client, group, topic)
}
