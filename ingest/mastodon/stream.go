package mastodon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/coder/websocket"
	gojson "github.com/goccy/go-json"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/ingest/live"
	"github.com/earshot-dev/earshot/internal/secret"
	"github.com/earshot-dev/earshot/post"
)

// Config lists the servers whose streams are followed, all at once.
type Config struct {
	Servers []Server `yaml:"servers"`
}

// Server is one server's stream.
type Server struct {
	URL       string `yaml:"url"`        // https://mastodon.social
	Stream    string `yaml:"stream"`     // public, public:local or hashtag
	Tag       string `yaml:"tag"`        // the hashtag, for stream hashtag
	TokenEnv  string `yaml:"token_env"`  // environment variable with an access token; many servers require one
	TokenFile string `yaml:"token_file"` // or a file holding it (a mounted secret)
	// Transport is sse (the default: plain HTTP, passes every proxy) or
	// websocket (one connection per stream, as the web client uses).
	Transport string `yaml:"transport"`
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if len(c.Servers) == 0 {
		errs = append(errs, errors.New("ingest.mastodon.servers: at least one is required"))
	}
	for i, s := range c.Servers {
		if u, err := url.Parse(s.URL); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
			errs = append(errs, fmt.Errorf("ingest.mastodon.servers[%d].url: %q is not an http(s) URL", i, s.URL))
		}
		switch s.Stream {
		case "public", "public:local":
		case "hashtag":
			if s.Tag == "" {
				errs = append(errs, fmt.Errorf("ingest.mastodon.servers[%d].tag: required for stream hashtag", i))
			}
		default:
			errs = append(errs, fmt.Errorf("ingest.mastodon.servers[%d].stream: %q, want public, public:local or hashtag", i, s.Stream))
		}
		if s.Transport != "" && s.Transport != "sse" && s.Transport != "websocket" {
			errs = append(errs, fmt.Errorf("ingest.mastodon.servers[%d].transport: %q, want sse or websocket", i, s.Transport))
		}
	}
	return errors.Join(errs...)
}

// paths are the SSE stream and the REST timeline that backfills it.
func (s Server) paths() (stream, timeline string) {
	base := strings.TrimRight(s.URL, "/")
	switch s.Stream {
	case "public:local":
		return base + "/api/v1/streaming/public/local", base + "/api/v1/timelines/public?local=true"
	case "hashtag":
		t := url.QueryEscape(s.Tag)
		return base + "/api/v1/streaming/hashtag?tag=" + t, base + "/api/v1/timelines/tag/" + url.PathEscape(s.Tag) + "?"
	}
	return base + "/api/v1/streaming/public", base + "/api/v1/timelines/public?"
}

// wsURL is the WebSocket endpoint of the stream: one path for every
// stream, chosen by query parameters.
func (s Server) wsURL() string {
	u, _ := url.Parse(strings.TrimRight(s.URL, "/") + "/api/v1/streaming") // checked by Validate
	u.Scheme = map[string]string{"https": "wss", "http": "ws"}[u.Scheme]
	q := url.Values{"stream": {s.Stream}}
	if s.Stream == "hashtag" {
		q.Set("tag", s.Tag)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

type server struct {
	cfg    Server
	live   live.Config
	token  string
	client *http.Client
	dec    *Decoder
	lastID string              // newest status id seen, for the backfill after a reconnect
	recent map[string]struct{} // post keys handed on lately: the backfill and the stream overlap
}

// ReadSecrets reads the servers' tokens, which Validate does not: the
// ingest process calls it at start.
func (c Config) ReadSecrets() error {
	var errs []error
	for _, sc := range c.Servers {
		_, err := sc.token()
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// token reads the server's access token, if it names one.
func (sc Server) token() (string, error) {
	switch {
	case sc.TokenFile != "":
		return secret.Resolve("ingest.mastodon.servers["+sc.URL+"].token", secret.String{}, sc.TokenFile, sc.TokenEnv, nil)
	case sc.TokenEnv != "":
		if t := os.Getenv(sc.TokenEnv); t != "" {
			return t, nil
		}
		return "", fmt.Errorf("ingest.mastodon: environment variable %s holds no token", sc.TokenEnv)
	}
	return "", nil
}

// Open returns a stream.Source following every configured server.
func Open(cfg Config, lc live.Config, n *canon.Normalizer, m *live.Metrics, log *slog.Logger) (*live.Source, error) {
	var dials []live.Dialer
	for _, sc := range cfg.Servers {
		u, _ := url.Parse(sc.URL) // checked by Validate
		s := &server{cfg: sc, live: lc, client: &http.Client{}, dec: &Decoder{N: n, Server: u.Host, Source: "mastodon:" + u.Host}, recent: map[string]struct{}{}}
		var err error
		if s.token, err = sc.token(); err != nil {
			return nil, err
		}
		if sc.Transport == "websocket" {
			dials = append(dials, s.dialWS)
		} else {
			dials = append(dials, s.dial)
		}
	}
	return live.New("mastodon", lc, dials, nil, m, log), nil
}

func (s *server) get(ctx context.Context, u, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: HTTP %s", u, resp.Status)
	}
	return resp, nil
}

// dialWS follows the stream over a WebSocket. Each message is an event
// whose payload is the status as a JSON string, the shape Decoder.Line
// reads.
func (s *server) dialWS(ctx context.Context, c *live.Conn) error {
	_, timeline := s.cfg.paths()
	u := s.cfg.wsURL()
	opts := &websocket.DialOptions{HTTPHeader: http.Header{}}
	if s.token != "" {
		opts.HTTPHeader.Set("Authorization", "Bearer "+s.token)
	}
	conn, _, err := websocket.Dial(ctx, u, opts)
	if err != nil {
		return fmt.Errorf("mastodon stream: dialling %s: %w", u, err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(-1) // bounded below, so an oversized event is a dead letter, not a dropped connection
	defer live.KeepAlive(ctx, conn, s.live.IdleTimeout, c)()
	if s.lastID != "" {
		if err := s.backfill(ctx, c, timeline); err != nil {
			return err
		}
	}
	buf := make([]byte, 0, 16<<10)
	for {
		_, r, err := conn.Reader(ctx)
		if err != nil {
			return fmt.Errorf("mastodon stream %s: reading: %w", u, err)
		}
		c.Touch()
		buf, err = live.ReadBounded(buf[:0], r, s.live.MaxMessage)
		var ev canon.Event
		switch {
		case errors.Is(err, live.ErrTooBig):
			err = post.WithClass(post.ClassTooBig, fmt.Errorf("event over max_message %d bytes", s.live.MaxMessage))
		case err != nil:
			return fmt.Errorf("mastodon stream %s: reading: %w", u, err)
		default:
			ev, err = s.dec.Line(buf)
		}
		if err := s.emit(ctx, c, ev, buf, err); err != nil {
			return err
		}
	}
}

func (s *server) dial(ctx context.Context, c *live.Conn) error {
	streamURL, timeline := s.cfg.paths()
	resp, err := s.get(ctx, streamURL, "text/event-stream")
	if err != nil {
		return fmt.Errorf("mastodon stream: %w", err)
	}
	defer resp.Body.Close()
	if s.lastID != "" {
		// The stream does not resume; the timeline fills the gap, one page
		// of 40 at most (a longer gap is logged by the caller as lost).
		if err := s.backfill(ctx, c, timeline); err != nil {
			return err
		}
	}
	lines := live.NewLines(resp.Body, int(s.live.MaxMessage))
	err = readSSE(lines, int(s.live.MaxMessage), c.Touch, func(event string, data []byte, tooBig bool) error {
		var ev canon.Event
		var err error
		if tooBig {
			err = post.WithClass(post.ClassTooBig, fmt.Errorf("%s event over max_message %d bytes", event, s.live.MaxMessage))
		} else {
			ev, err = s.dec.Event(event, data)
		}
		return s.emit(ctx, c, ev, data, err)
	})
	return fmt.Errorf("mastodon stream %s: %w", s.cfg.URL, err)
}

// readSSE parses server-sent events from lines and calls handle for each
// (event name, data lines joined by newlines). Comments (":thump") and
// every other line call touch. Data over max is not kept: handle gets the
// event with tooBig set, so it can be refused by name.
func readSSE(lines *live.Lines, max int, touch func(), handle func(event string, data []byte, tooBig bool) error) error {
	var event string
	var data []byte
	tooBig := false
	for {
		line, _, big, err := lines.Next()
		if err != nil {
			return fmt.Errorf("reading: %w", err)
		}
		touch()
		switch {
		case len(line) == 0: // end of an event
			if event == "" && len(data) == 0 && !tooBig {
				continue
			}
			if err := handle(event, data, tooBig); err != nil {
				return err
			}
			event, data, tooBig = "", data[:0], false
		case line[0] == ':':
		default:
			field, value, _ := bytes.Cut(line, []byte(":"))
			value = bytes.TrimPrefix(value, []byte(" "))
			switch string(field) {
			case "event":
				event = string(value)
			case "data":
				if big || len(data)+len(value)+1 > max {
					tooBig = true
					continue
				}
				if len(data) > 0 {
					data = append(data, '\n')
				}
				data = append(data, value...)
			}
		}
	}
}

// emit hands on what was decoded from raw, except a status handed on
// already: the backfill and the stream overlap after a reconnect.
func (s *server) emit(ctx context.Context, c *live.Conn, ev canon.Event, raw []byte, err error) error {
	if err == nil && ev.Post != nil && ev.Post.Kind == "" && !s.seen(ev.Post.ID) {
		return nil
	}
	return c.Emit(ctx, ev, raw, err)
}

// seen records a status and reports whether it is new. It keeps the newest
// local id (ids grow with time, as decimal strings).
func (s *server) seen(key string) bool {
	if _, ok := s.recent[key]; ok {
		return false
	}
	if len(s.recent) >= 10_000 {
		clear(s.recent)
	}
	s.recent[key] = struct{}{}
	id := key[strings.LastIndexByte(key, '/')+1:]
	if len(id) > len(s.lastID) || len(id) == len(s.lastID) && id > s.lastID {
		s.lastID = id
	}
	return true
}

func (s *server) backfill(ctx context.Context, c *live.Conn, timeline string) error {
	resp, err := s.get(ctx, timeline+"&limit=40&min_id="+url.QueryEscape(s.lastID), "application/json")
	if err != nil {
		return fmt.Errorf("mastodon backfill: %w", err)
	}
	defer resp.Body.Close()
	var statuses []gojson.RawMessage
	if err := gojson.NewDecoder(http.MaxBytesReader(nil, resp.Body, 40*s.live.MaxMessage)).Decode(&statuses); err != nil {
		return fmt.Errorf("mastodon backfill: %w", err)
	}
	// min_id pages come newest first; hand them on oldest first
	for i := len(statuses) - 1; i >= 0; i-- {
		ev, err := s.dec.Status(statuses[i])
		if err := s.emit(ctx, c, ev, statuses[i], err); err != nil {
			return err
		}
	}
	return nil
}
