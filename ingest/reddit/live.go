package reddit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gojson "github.com/goccy/go-json"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/ingest/live"
	"github.com/earshot-dev/earshot/internal/secret"
	"github.com/earshot-dev/earshot/stream"
)

// Listings a live source may poll: new submissions (/r/{subs}/new) and new
// comments (/r/{subs}/comments).
const (
	ListingSubmissions = "submissions"
	ListingComments    = "comments"
)

// Config follows subreddits through Reddit's OAuth API by polling their
// newest submissions and comments.
type Config struct {
	Subreddits []string `yaml:"subreddits"` // names without r/; polled together (r/a+b)
	Listings   []string `yaml:"listings"`   // submissions, comments (default both)
	// The app's credentials (reddit.com/prefs/apps). Without a username
	// the token is application-only (client_credentials grant); with one it
	// is a script app's (password grant).
	ClientID         string        `yaml:"client_id"`
	ClientSecret     secret.String `yaml:"client_secret"`      // or client_secret_file, or client_secret_env
	ClientSecretFile string        `yaml:"client_secret_file"` // a file holding it (a mounted secret)
	ClientSecretEnv  string        `yaml:"client_secret_env"`  // an environment variable holding it
	Username         string        `yaml:"username"`           // script apps only
	Password         secret.String `yaml:"password"`           // or password_file, or password_env
	PasswordFile     string        `yaml:"password_file"`
	PasswordEnv      string        `yaml:"password_env"`
	// UserAgent is required by Reddit's API rules, unique and descriptive:
	// "<platform>:<app ID>:<version> (by /u/<username>)".
	UserAgent    string        `yaml:"user_agent"`
	PollInterval time.Duration `yaml:"poll_interval"` // between two rounds of requests
	// MaxPages bounds the pages (of 100) followed back with `after` in one
	// round to reach what was posted while the source was away.
	MaxPages int `yaml:"max_pages"`
	// ResumeOverlap: after a restart, posts created up to this long before
	// the saved cursor are read again (late listings; at least once).
	ResumeOverlap time.Duration `yaml:"resume_overlap"`
	CursorFile    string        `yaml:"cursor_file"` // keeps the position across restarts; empty: start from the newest page
	APIURL        string        `yaml:"api_url"`     // https://oauth.reddit.com
	TokenURL      string        `yaml:"token_url"`   // https://www.reddit.com/api/v1/access_token
}

// DefaultConfig polls both listings every 10 s, well inside the free
// tier's 100 requests a minute.
func DefaultConfig() Config {
	return Config{
		Listings: []string{ListingSubmissions, ListingComments}, PollInterval: 10 * time.Second, MaxPages: 5, ResumeOverlap: 5 * time.Minute,
		APIURL: "https://oauth.reddit.com", TokenURL: "https://www.reddit.com/api/v1/access_token",
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if len(c.Subreddits) == 0 || len(c.Subreddits) > 100 {
		errs = append(errs, fmt.Errorf("ingest.reddit.subreddits: %d given, want 1 to 100", len(c.Subreddits)))
	}
	for _, s := range c.Subreddits {
		if !subredditName(s) {
			errs = append(errs, fmt.Errorf("ingest.reddit.subreddits: %.40q is not a subreddit name (letters, digits, _; 2-21; no r/)", s))
		}
	}
	if len(c.Listings) == 0 {
		errs = append(errs, errors.New("ingest.reddit.listings: want submissions, comments or both"))
	}
	for _, l := range c.Listings {
		if l != ListingSubmissions && l != ListingComments {
			errs = append(errs, fmt.Errorf("ingest.reddit.listings: %.40q, want submissions or comments", l))
		}
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("ingest.reddit.client_id: required"))
	}
	if err := secret.Check("ingest.reddit.client_secret", c.ClientSecret, c.ClientSecretFile, c.ClientSecretEnv); err != nil {
		errs = append(errs, err)
	}
	if c.Username != "" {
		if err := secret.Check("ingest.reddit.password", c.Password, c.PasswordFile, c.PasswordEnv); err != nil {
			errs = append(errs, err)
		}
	} else if !c.Password.IsZero() || c.PasswordFile != "" || c.PasswordEnv != "" {
		errs = append(errs, errors.New("ingest.reddit.password: given without username (application-only tokens take none)"))
	}
	if strings.TrimSpace(c.UserAgent) == "" || len(c.UserAgent) > 256 {
		errs = append(errs, errors.New(`ingest.reddit.user_agent: required (Reddit refuses generic agents), at most 256 bytes: "<platform>:<app ID>:<version> (by /u/<username>)"`))
	}
	if c.PollInterval < time.Second || c.PollInterval > time.Hour {
		errs = append(errs, fmt.Errorf("ingest.reddit.poll_interval: %v, want 1s to 1h", c.PollInterval))
	}
	if c.MaxPages < 1 || c.MaxPages > 100 {
		errs = append(errs, fmt.Errorf("ingest.reddit.max_pages: %d, want 1 to 100", c.MaxPages))
	}
	if c.ResumeOverlap < 0 || c.ResumeOverlap > 24*time.Hour {
		errs = append(errs, fmt.Errorf("ingest.reddit.resume_overlap: %v, want 0 to 24h", c.ResumeOverlap))
	}
	for k, v := range map[string]string{"api_url": c.APIURL, "token_url": c.TokenURL} {
		if u, err := url.Parse(v); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
			errs = append(errs, fmt.Errorf("ingest.reddit.%s: %.100q is not an http(s) URL", k, v))
		}
	}
	return errors.Join(errs...)
}

func subredditName(s string) bool {
	if len(s) < 2 || len(s) > 21 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// SourceName is the source recorded in the posts of the live connector.
const SourceName = "reddit:api"

// maxWait caps one wait for a rate-limit window to reset.
const maxWait = 15 * time.Minute

// poller is the live connector's state, kept across reconnects.
type poller struct {
	cfg    Config
	lc     live.Config
	dec    *Decoder
	log    *slog.Logger
	base   *http.Client // the transport that sets User-Agent (token requests go through it too)
	tokens func() oauth2.TokenSource

	mu     sync.Mutex
	client *http.Client // with the current token source; renewed after a 401
	seen   *seen        // fullnames handed on, to read each post once
	floor  int64        // created_utc (s): older posts are not read (resume)
	newest int64        // created_utc (s) of the newest post handed on
	first  bool         // nothing read yet

	// sleep waits for d or until ctx ends, touching the connection's stall
	// detector meanwhile; tests replace it.
	sleep func(ctx context.Context, c *live.Conn, d time.Duration) bool
}

// Open returns a stream.Source that polls the configured subreddits. The
// credentials are read now, so a missing one fails at start; the first
// token is fetched on the first poll.
func Open(cfg Config, lc live.Config, n *canon.Normalizer, m *live.Metrics, log *slog.Logger) (*live.Source, error) {
	p, err := newPoller(cfg, lc, n, log)
	if err != nil {
		return nil, err
	}
	var cursor *live.CursorFile
	if cfg.CursorFile != "" {
		cursor = &live.CursorFile{Path: cfg.CursorFile}
	}
	return live.New("reddit", lc, []live.Dialer{p.dial}, cursor, m, log), nil
}

// ReadSecrets reads the client secret and the password, which Validate
// only checks are named well: the ingest process calls it at start.
func (c Config) ReadSecrets() error {
	_, err := secret.Resolve("ingest.reddit.client_secret", c.ClientSecret, c.ClientSecretFile, c.ClientSecretEnv, nil)
	if c.Username != "" {
		_, perr := secret.Resolve("ingest.reddit.password", c.Password, c.PasswordFile, c.PasswordEnv, nil)
		err = errors.Join(err, perr)
	}
	return err
}

func newPoller(cfg Config, lc live.Config, n *canon.Normalizer, log *slog.Logger) (*poller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	clientSecret, err := secret.Resolve("ingest.reddit.client_secret", cfg.ClientSecret, cfg.ClientSecretFile, cfg.ClientSecretEnv, nil)
	if err != nil {
		return nil, err
	}
	var password string
	if cfg.Username != "" {
		if password, err = secret.Resolve("ingest.reddit.password", cfg.Password, cfg.PasswordFile, cfg.PasswordEnv, nil); err != nil {
			return nil, err
		}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base := &http.Client{Timeout: 30 * time.Second, Transport: userAgent{agent: cfg.UserAgent, next: http.DefaultTransport}}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, base)
	tokens := func() oauth2.TokenSource {
		if cfg.Username == "" {
			cc := clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: clientSecret, TokenURL: cfg.TokenURL, AuthStyle: oauth2.AuthStyleInHeader}
			return cc.TokenSource(ctx)
		}
		oc := oauth2.Config{ClientID: cfg.ClientID, ClientSecret: clientSecret, Endpoint: oauth2.Endpoint{TokenURL: cfg.TokenURL, AuthStyle: oauth2.AuthStyleInHeader}}
		// A script app's token has no refresh token: the password grant is
		// asked again when it expires.
		return oauth2.ReuseTokenSource(nil, passwordSource{ctx: ctx, cfg: &oc, user: cfg.Username, password: password})
	}
	p := &poller{cfg: cfg, lc: lc, dec: &Decoder{N: n, Source: SourceName}, log: log.With("component", "ingest.reddit"), base: base, tokens: tokens,
		seen: newSeen(20_000), first: true, sleep: touchSleep}
	p.client = oauth2.NewClient(ctx, tokens())
	p.client.Timeout = base.Timeout
	return p, nil
}

type passwordSource struct {
	ctx            context.Context
	cfg            *oauth2.Config
	user, password string
}

func (s passwordSource) Token() (*oauth2.Token, error) {
	return s.cfg.PasswordCredentialsToken(s.ctx, s.user, s.password)
}

// userAgent sets the User-Agent Reddit requires on every request.
type userAgent struct {
	agent string
	next  http.RoundTripper
}

func (u userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", u.agent)
	return u.next.RoundTrip(r)
}

// touchSleep waits for d in steps short enough for the stall detector.
func touchSleep(ctx context.Context, c *live.Conn, d time.Duration) bool {
	for d > 0 {
		step := min(d, 5*time.Second)
		if !stream.Sleep(ctx, step) {
			return false
		}
		c.Touch()
		d -= step
	}
	return true
}

// child is one thing of a listing page.
type child struct {
	raw     []byte
	name    string // fullname
	created int64  // created_utc, seconds
}

// page is a listing page as the API sends it.
type page struct {
	Kind string `json:"kind"`
	Data struct {
		After    *string             `json:"after"`
		Children []gojson.RawMessage `json:"children"`
	} `json:"data"`
}

type head struct {
	Kind string `json:"kind"`
	Data struct {
		ID      canon.ID   `json:"id"`
		Name    string     `json:"name"`
		Created canon.Time `json:"created_utc"`
	} `json:"data"`
}

// dial polls until a request fails or ctx ends. Each round reads the
// newest page of each listing, and older pages (up to max_pages) while
// every post on them is new; the new posts of all listings go out oldest
// first, each with its created_utc as the cursor.
func (p *poller) dial(ctx context.Context, c *live.Conn) error {
	p.mu.Lock()
	if p.first && c.Cursor > 0 {
		p.floor = c.Cursor - int64(p.cfg.ResumeOverlap/time.Second)
	}
	p.mu.Unlock()
	var evs []canon.Event
	for {
		var fresh []child
		for _, l := range p.cfg.Listings {
			got, err := p.listing(ctx, c, l)
			if err != nil {
				return err
			}
			fresh = append(fresh, got...)
		}
		slices.SortStableFunc(fresh, func(a, b child) int {
			return cmp.Or(cmp.Compare(a.created, b.created), strings.Compare(a.name, b.name))
		})
		for _, ch := range fresh {
			var err error
			evs, err = p.decode(ch.raw, evs[:0])
			if err != nil {
				if err := c.Emit(ctx, canon.Event{Cursor: ch.created}, ch.raw, err); err != nil {
					return err
				}
			}
			for _, ev := range evs {
				ev.Cursor = ch.created
				if err := c.Emit(ctx, ev, ch.raw, nil); err != nil {
					return err
				}
			}
			p.mu.Lock()
			p.seen.add(ch.name)
			p.newest = max(p.newest, ch.created)
			p.mu.Unlock()
		}
		p.mu.Lock()
		p.first = false
		// From now on a post older than the overlap before the newest one
		// is not read again, however the seen set has turned over.
		if p.newest > 0 {
			p.floor = max(p.floor, p.newest-int64(p.cfg.ResumeOverlap/time.Second))
		}
		p.mu.Unlock()
		c.Touch()
		c.Worked() // a round that answered, new posts or not
		if !p.sleep(ctx, c, p.cfg.PollInterval) {
			return ctx.Err()
		}
	}
}

func (p *poller) decode(raw []byte, out []canon.Event) ([]canon.Event, error) {
	if err := canon.Scan(raw); err != nil {
		return out, err
	}
	return p.dec.LineScanned(raw, out)
}

// listing reads the new posts of one listing, newest page first.
func (p *poller) listing(ctx context.Context, c *live.Conn, which string) ([]child, error) {
	path := "/r/" + strings.Join(p.cfg.Subreddits, "+") + "/new"
	if which == ListingComments {
		path = "/r/" + strings.Join(p.cfg.Subreddits, "+") + "/comments"
	}
	p.mu.Lock()
	floor, first := p.floor, p.first
	p.mu.Unlock()
	pages := p.cfg.MaxPages
	if first && floor == 0 {
		pages = 1 // a first start without a cursor reads the newest page only
	}
	var out []child
	after := ""
	for n := 0; n < pages; n++ {
		q := url.Values{"limit": {"100"}, "raw_json": {"1"}}
		if after != "" {
			q.Set("after", after)
		}
		pg, err := p.get(ctx, c, path, q)
		if err != nil {
			return nil, err
		}
		more := len(pg.Data.Children) > 0
		for _, raw := range pg.Data.Children {
			var h head
			if err := gojson.Unmarshal(raw, &h); err != nil {
				h = head{} // not a thing: the decoder says why, as a dead letter
			}
			name := h.Data.Name
			if name == "" || h.Data.Created.IsZero() {
				// no fullname or no date: named by its bytes, so that it
				// is dead-lettered once, not at every round
				name = fmt.Sprintf("raw:%016x", fnv64(raw))
			}
			created := max(h.Data.Created.Unix(), 0)
			p.mu.Lock()
			old := p.seen.has(name)
			p.mu.Unlock()
			if old || floor > 0 && created > 0 && created < floor {
				more = false // reached what was read before: no older page is needed
				continue
			}
			if slices.ContainsFunc(out, func(o child) bool { return o.name == name }) {
				continue // a post moved to the next page between two requests
			}
			out = append(out, child{raw: raw, name: name, created: created})
		}
		if !more || pg.Data.After == nil || *pg.Data.After == "" || *pg.Data.After == after {
			break
		}
		after = *pg.Data.After
	}
	return out, nil
}

// get requests one listing page, waiting out the rate limit: when the
// window's requests are used up, until it resets; on 429, as long as the
// answer says (then once more). Other failures end the connection, and
// the live loop reconnects with its backoff.
func (p *poller) get(ctx context.Context, c *live.Conn, path string, q url.Values) (*page, error) {
	u := strings.TrimRight(p.cfg.APIURL, "/") + path + "?" + q.Encode()
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, fmt.Errorf("reddit request: %w", err)
		}
		p.mu.Lock()
		client := p.client
		p.mu.Unlock()
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("reddit %s: %w", path, err)
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, p.lc.MaxMessage+1))
		resp.Body.Close()
		remaining, reset := rateLimit(resp.Header)
		switch {
		case resp.StatusCode == http.StatusTooManyRequests && attempt < 3:
			wait := max(retryAfter(resp.Header), reset, time.Second)
			p.log.Warn("rate limited; waiting", "path", path, "wait", wait)
			if !p.sleep(ctx, c, min(wait, maxWait)) {
				return nil, ctx.Err()
			}
			continue
		case resp.StatusCode == http.StatusUnauthorized && attempt == 0:
			// the token was revoked or expired early: ask for a new one
			p.mu.Lock()
			p.client = oauth2.NewClient(context.WithValue(ctx, oauth2.HTTPClient, p.base), p.tokens())
			p.client.Timeout = p.base.Timeout
			p.mu.Unlock()
			continue
		case resp.StatusCode != http.StatusOK:
			return nil, fmt.Errorf("reddit %s: HTTP %s: %.200s", path, resp.Status, strings.TrimSpace(string(body)))
		case rerr != nil:
			return nil, fmt.Errorf("reddit %s: reading: %w", path, rerr)
		case int64(len(body)) > p.lc.MaxMessage:
			return nil, fmt.Errorf("reddit %s: page over max_message %d bytes", path, p.lc.MaxMessage)
		}
		var pg page
		if err := gojson.Unmarshal(body, &pg); err != nil || pg.Kind != "Listing" {
			return nil, fmt.Errorf("reddit %s: not a listing page: %v %.100q", path, err, body)
		}
		if remaining >= 0 && remaining < 1 && reset > 0 {
			p.log.Info("rate-limit window used up; waiting for its reset", "wait", reset)
			if !p.sleep(ctx, c, min(reset, maxWait)) {
				return nil, ctx.Err()
			}
		}
		return &pg, nil
	}
}

// rateLimit reads Reddit's X-Ratelimit-Remaining (requests left in the
// window, a float) and X-Ratelimit-Reset (seconds until the window
// resets); remaining is -1 when absent.
func rateLimit(h http.Header) (remaining float64, reset time.Duration) {
	remaining = -1
	if v, err := strconv.ParseFloat(h.Get("X-Ratelimit-Remaining"), 64); err == nil && v >= 0 {
		remaining = v
	}
	if v, err := strconv.ParseFloat(h.Get("X-Ratelimit-Reset"), 64); err == nil && v > 0 && v < 86400 {
		reset = time.Duration(v * float64(time.Second))
	}
	return remaining, reset
}

func retryAfter(h http.Header) time.Duration {
	if v, err := strconv.Atoi(h.Get("Retry-After")); err == nil && v > 0 && v < 86400 {
		return time.Duration(v) * time.Second
	}
	return 0
}

// seen is a bounded set of fullnames: two generations, the older dropped
// when the newer is full.
type seen struct {
	half      int
	cur, prev map[string]struct{}
}

func newSeen(capacity int) *seen {
	return &seen{half: capacity / 2, cur: map[string]struct{}{}, prev: map[string]struct{}{}}
}

func (s *seen) has(k string) bool {
	if _, ok := s.cur[k]; ok {
		return true
	}
	_, ok := s.prev[k]
	return ok
}

func (s *seen) add(k string) {
	if len(s.cur) >= s.half {
		s.prev, s.cur = s.cur, make(map[string]struct{}, s.half)
	}
	s.cur[k] = struct{}{}
}

func fnv64(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}
