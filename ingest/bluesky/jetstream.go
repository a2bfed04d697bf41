package bluesky

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/coder/websocket"
	"github.com/klauspost/compress/zstd"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/ingest/live"
	"github.com/earshot-dev/earshot/post"
)

// Config selects Jetstream endpoints and what to ask them for.
type Config struct {
	Endpoints      []string      `yaml:"endpoints"`       // ws:// or wss:// URLs of /subscribe, tried in turn
	Collections    []string      `yaml:"collections"`     // wantedCollections; empty is every collection
	Compress       bool          `yaml:"compress"`        // ask for zstd-compressed messages
	ZstdDictionary string        `yaml:"zstd_dictionary"` // Jetstream's zstd dictionary file, required by compress
	CursorFile     string        `yaml:"cursor_file"`     // where time_us is kept across restarts; empty: start from now
	Rewind         time.Duration `yaml:"rewind"`          // how far before the cursor a reconnect resumes, for events delivered out of order
}

// DefaultConfig asks Bluesky's public Jetstream instances for posts and reposts.
func DefaultConfig() Config {
	return Config{
		Endpoints: []string{
			"wss://jetstream1.us-east.bsky.network/subscribe", "wss://jetstream2.us-east.bsky.network/subscribe",
			"wss://jetstream1.us-west.bsky.network/subscribe", "wss://jetstream2.us-west.bsky.network/subscribe",
		},
		Collections: []string{collPost, collRepost},
		Rewind:      3 * time.Second,
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if len(c.Endpoints) == 0 {
		errs = append(errs, errors.New("ingest.bluesky.endpoints: at least one is required"))
	}
	for _, e := range c.Endpoints {
		if u, err := url.Parse(e); err != nil || u.Scheme != "ws" && u.Scheme != "wss" {
			errs = append(errs, fmt.Errorf("ingest.bluesky.endpoints: %q is not a ws:// or wss:// URL", e))
		}
	}
	if c.Compress && c.ZstdDictionary == "" {
		errs = append(errs, errors.New("ingest.bluesky.zstd_dictionary: required when compress is true (Jetstream compresses with a dictionary)"))
	}
	if c.Rewind < 0 || c.Rewind > time.Hour {
		errs = append(errs, fmt.Errorf("ingest.bluesky.rewind: %v, want 0 to 1h", c.Rewind))
	}
	return errors.Join(errs...)
}

// jetstream follows one Jetstream instance at a time, moving to the next
// endpoint when a connection fails.
type jetstream struct {
	cfg      Config
	live     live.Config
	dec      *Decoder
	zstd     *zstd.Decoder
	endpoint int
	failed   bool
	seen     *recent
}

// Open returns a stream.Source following Jetstream. m and log may be nil.
func Open(cfg Config, lc live.Config, n *canon.Normalizer, m *live.Metrics, log *slog.Logger) (*live.Source, error) {
	j := &jetstream{cfg: cfg, live: lc, dec: &Decoder{N: n}, seen: newRecent(200_000, 2*cfg.Rewind)}
	if cfg.Compress {
		dict, err := os.ReadFile(cfg.ZstdDictionary)
		if err != nil {
			return nil, fmt.Errorf("jetstream zstd dictionary: %w", err)
		}
		if j.zstd, err = zstd.NewReader(nil, zstd.WithDecoderDicts(dict), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(lc.MaxMessage))); err != nil {
			return nil, fmt.Errorf("jetstream zstd: %w", err)
		}
	}
	var cur *live.CursorFile
	if cfg.CursorFile != "" {
		cur = &live.CursorFile{Path: cfg.CursorFile}
	}
	return live.New("bluesky", lc, []live.Dialer{j.dial}, cur, m, log), nil
}

func (j *jetstream) url(cursor int64) string {
	ep := j.cfg.Endpoints[j.endpoint%len(j.cfg.Endpoints)]
	q := url.Values{}
	for _, c := range j.cfg.Collections {
		q.Add("wantedCollections", c)
	}
	if cursor > 0 {
		q.Set("cursor", strconv.FormatInt(cursor, 10))
	}
	if j.cfg.Compress {
		q.Set("compress", "true")
	}
	u, _ := url.Parse(ep) // checked by Validate
	for k, vs := range u.Query() {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

var timeUS = regexp.MustCompile(`"time_us"\s*:\s*([0-9]{1,19})`)

func (j *jetstream) dial(ctx context.Context, c *live.Conn) error {
	if j.failed {
		j.endpoint++ // fail over: the next connection goes to the next instance
	}
	j.failed = true
	cursor := c.Cursor
	if cursor > 0 {
		// instances order events by arrival and differ in their clocks:
		// resume a little early and drop what was already seen
		cursor = max(1, cursor-j.cfg.Rewind.Microseconds())
	}
	// Jetstream replays from the cursor inclusive: without a rewind, what
	// sits exactly at the cursor was handed on already.
	var floor int64
	if j.cfg.Rewind == 0 {
		floor = cursor
	}
	u := j.url(cursor)
	j.dec.Source = post.JetstreamSource(j.cfg.Endpoints[j.endpoint%len(j.cfg.Endpoints)])
	conn, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		return fmt.Errorf("dialling %s: %w", u, err)
	}
	defer conn.CloseNow()
	// Messages are read through a bounded reader instead of the library's
	// limit, which would close the connection and, on reconnect, meet the
	// same message again.
	conn.SetReadLimit(-1)
	defer live.KeepAlive(ctx, conn, j.live.IdleTimeout, c)()
	buf := make([]byte, 0, 64<<10)
	for {
		typ, r, err := conn.Reader(ctx)
		if err != nil {
			return fmt.Errorf("reading from %s: %w", u, err)
		}
		c.Touch()
		buf, err = live.ReadBounded(buf[:0], r, j.live.MaxMessage)
		if err != nil && !errors.Is(err, live.ErrTooBig) {
			return fmt.Errorf("reading from %s: %w", u, err)
		}
		j.failed = false
		if errors.Is(err, live.ErrTooBig) {
			ev := canon.Event{}
			if m := timeUS.FindSubmatch(buf); m != nil {
				ev.Cursor, _ = strconv.ParseInt(string(m[1]), 10, 64)
			}
			if err := c.Emit(ctx, ev, buf, post.WithClass(post.ClassTooBig, fmt.Errorf("message over max_message %d bytes", j.live.MaxMessage))); err != nil {
				return err
			}
			continue
		}
		msg := buf
		if typ == websocket.MessageBinary && j.zstd != nil {
			if msg, err = j.zstd.DecodeAll(buf, nil); err != nil {
				if err := c.Emit(ctx, canon.Event{}, buf, fmt.Errorf("zstd: %w", err)); err != nil {
					return err
				}
				continue
			}
		}
		ev, err := j.dec.Decode(msg)
		if err == nil && ev.Cursor <= floor {
			continue
		}
		if err == nil && ev.Post != nil && !j.seen.add(ev.Post.Key()+"/"+ev.Post.Kind, ev.Cursor) {
			continue // already handed on before a reconnect's rewind
		}
		if err := c.Emit(ctx, ev, msg, err); err != nil {
			return err
		}
	}
}

// recent remembers the posts handed on within the last window (µs of
// time_us), so a rewound reconnect does not hand them on twice. It holds at
// most max keys: when full it forgets those older than the window, and if
// that is not enough, everything (a rewind may then repeat some posts,
// which downstream de-duplication absorbs).
type recent struct {
	max    int
	window int64
	keys   map[string]int64
}

func newRecent(size int, window time.Duration) *recent {
	return &recent{max: size, window: max(window.Microseconds(), 1_000_000), keys: make(map[string]int64)}
}

// add reports whether key is new.
func (r *recent) add(key string, at int64) bool {
	if _, ok := r.keys[key]; ok {
		return false
	}
	if len(r.keys) >= r.max {
		for k, t := range r.keys {
			if t < at-r.window {
				delete(r.keys, k)
			}
		}
		if len(r.keys) >= r.max {
			clear(r.keys)
		}
	}
	r.keys[key] = at
	return true
}
