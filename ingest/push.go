package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/bits"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
	gojson "github.com/goccy/go-json"
	"github.com/klauspost/compress/zstd"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/internal/secret"
	"github.com/earshot-dev/earshot/post"
)

// PushConfig configures the HTTP push endpoint, POST /v1/posts.
type PushConfig struct {
	Addr            string        `yaml:"addr"`             // where to listen, e.g. 127.0.0.1:8088
	Tenants         []PushTenant  `yaml:"tenants"`          // who may push, each with a token
	MaxBodyBytes    int64         `yaml:"max_body_bytes"`   // request body, after gzip; larger is 413
	MaxPosts        int           `yaml:"max_posts"`        // lines per request; more is 413
	Rate            float64       `yaml:"rate"`             // requests per second per tenant; over it is 429
	Burst           int           `yaml:"burst"`            // requests a tenant may make at once
	QueueSize       int           `yaml:"queue_size"`       // requests accepted but not yet taken by the pipeline; full is 429
	IdempotencyKeys int           `yaml:"idempotency_keys"` // Idempotency-Key answers remembered, per process
	IdempotencyTTL  time.Duration `yaml:"idempotency_ttl"`  // how long an answer is replayed
	// AckTimeout bounds how long a request waits for its posts to be
	// handed on durably (Kafka acknowledged them, or, in embedded mode,
	// the pipeline fully processed them) before it is answered 503.
	AckTimeout time.Duration `yaml:"ack_timeout"`
}

// PushTenant is one client of the push endpoint.
type PushTenant struct {
	Name      string `yaml:"name"`
	TokenEnv  string `yaml:"token_env"`  // environment variable holding the tenant's bearer token
	TokenFile string `yaml:"token_file"` // or a file holding it (a mounted secret)
}

// DefaultPushConfig suits a few integrations on a local address.
func DefaultPushConfig() PushConfig {
	return PushConfig{Addr: "127.0.0.1:8088", MaxBodyBytes: 8 << 20, MaxPosts: 10_000, Rate: 50, Burst: 20, QueueSize: 64, IdempotencyKeys: 100_000, IdempotencyTTL: 24 * time.Hour, AckTimeout: 30 * time.Second}
}

// maxTenantBytes bounds a push tenant's name, which prefixes the ids of its
// posts.
const maxTenantBytes = 128

// Validate reports every problem at once.
func (c PushConfig) Validate() error {
	var errs []error
	// Without an address of its own, the endpoint is served by the HTTP
	// API (POST /v1/posts), whose identities with the ingest role are the
	// tenants.
	if c.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			errs = append(errs, fmt.Errorf("ingest.push.addr: %q: %w", c.Addr, err))
		}
		if len(c.Tenants) == 0 {
			errs = append(errs, fmt.Errorf("ingest.push.tenants: at least one is required when the push endpoint listens on its own address (ingest.push.addr %q; the default is 127.0.0.1:8088); "+
				`or set ingest.push.addr: "" to take pushed posts through the HTTP API (api.addr), whose tokens with the ingest role are the tenants`, c.Addr))
		}
	}
	seen := map[string]bool{}
	for i, t := range c.Tenants {
		if t.Name == "" || (t.TokenEnv == "" && t.TokenFile == "") {
			errs = append(errs, fmt.Errorf("ingest.push.tenants[%d]: name and token_env (or token_file) are required", i))
		} else if err := secret.Check(fmt.Sprintf("ingest.push.tenants[%d].token", i), secret.String{}, t.TokenFile, t.TokenEnv); err != nil {
			errs = append(errs, err) // the file itself: ReadSecrets, in the process that takes the posts
		}
		if len(t.Name) > maxTenantBytes {
			// the name prefixes every id the tenant sends (post.TenantID)
			errs = append(errs, fmt.Errorf("ingest.push.tenants[%d]: a name of %d bytes, want at most %d", i, len(t.Name), maxTenantBytes))
		}
		if seen[t.Name] {
			errs = append(errs, fmt.Errorf("ingest.push.tenants[%d]: tenant %q twice", i, t.Name))
		}
		seen[t.Name] = true
	}
	if c.MaxBodyBytes < 1024 || c.MaxPosts < 1 || c.QueueSize < 1 || c.IdempotencyKeys < 1 || c.IdempotencyTTL <= 0 {
		errs = append(errs, errors.New("ingest.push: max_body_bytes >= 1024, max_posts, queue_size and idempotency_keys >= 1 and idempotency_ttl > 0 are required"))
	}
	// Upper bounds: a queued request is held in memory whole, and every
	// remembered Idempotency-Key costs memory until its TTL.
	if c.MaxBodyBytes > 256<<20 {
		errs = append(errs, fmt.Errorf("ingest.push.max_body_bytes: %d, want at most 268435456", c.MaxBodyBytes))
	}
	if c.MaxPosts > 1_000_000 {
		errs = append(errs, fmt.Errorf("ingest.push.max_posts: %d, want at most 1000000", c.MaxPosts))
	}
	if c.QueueSize > 100_000 {
		errs = append(errs, fmt.Errorf("ingest.push.queue_size: %d, want at most 100000", c.QueueSize))
	}
	if c.IdempotencyKeys > 10_000_000 {
		errs = append(errs, fmt.Errorf("ingest.push.idempotency_keys: %d, want at most 10000000", c.IdempotencyKeys))
	}
	if c.AckTimeout <= 0 || c.AckTimeout > 10*time.Minute {
		// a waiting request holds its connection and a place in the queue
		errs = append(errs, fmt.Errorf("ingest.push.ack_timeout: %v, want above 0 up to 10m", c.AckTimeout))
	}
	if c.IdempotencyTTL > 30*24*time.Hour {
		errs = append(errs, fmt.Errorf("ingest.push.idempotency_ttl: %v, want at most 720h", c.IdempotencyTTL))
	}
	if len(c.Tenants) > 10_000 {
		errs = append(errs, fmt.Errorf("ingest.push.tenants: %d, want at most 10000", len(c.Tenants)))
	}
	if c.Rate <= 0 || c.Burst < 1 || c.Rate > 1e6 || c.Burst > 1_000_000 {
		errs = append(errs, fmt.Errorf("ingest.push.rate, burst: %v, %d: want rate above 0 up to 1000000, burst 1 to 1000000", c.Rate, c.Burst))
	}
	return errors.Join(errs...)
}

// Push is the push endpoint and the source the pipeline reads it from.
// Each accepted request becomes one batch with a sequence number, its
// position (stream.Checkpointer): the handler answers 202 only once
// Checkpoint has been told that position, that is once the batch is handed
// on durably (produced to Kafka, or fully processed in embedded mode), so a
// 202 survives a crash of this process. A client retrying with the same
// Idempotency-Key after a lost answer does not send its posts twice.
type Push struct {
	cfg    PushConfig
	tokens map[string]string // token → tenant
	dec    func() *Decoder
	log    *slog.Logger
	queue  chan pushBatch
	now    func() time.Time

	mu        sync.Mutex
	stopped   bool        // Drain has run: nothing would take a new request
	seq       int64       // position of the last request queued
	taken     int64       // position of the last request Next or Drain returned
	waiting   []*pushWait // requests queued and not yet released, oldest first
	gone      bool        // Abandon has run: nothing will be released any more
	buckets   map[string]*bucket
	idem      map[string]*idemEntry
	order     []*idemEntry // oldest first, to bound idem
	idemBytes int          // answers' bytes in idem
}

// pushBatch is a request's posts and dead letters, with its position.
type pushBatch struct {
	b   post.Batch
	seq int64
}

// pushWait is a request waiting for its batch to be handed on.
type pushWait struct {
	seq  int64
	done chan struct{} // closed on release or abandon
	ok   bool          // released (handed on), set before done is closed
}

type bucket struct {
	tokens float64
	at     time.Time
}

// idempotencyBytes bounds the bytes of the answers kept for replay, all
// keys together: an answer lists the rejected lines, so 100,000 keys of
// large answers would otherwise be gigabytes. Over it the oldest go first.
const idempotencyBytes = 32 << 20

type idemEntry struct {
	key    string
	sum    [sha256.Size]byte // of the body (after gzip): the key names this request only
	status int
	body   []byte
	at     time.Time
	done   chan struct{} // closed when the first request with the key has its answer
}

// token reads the tenant's token from its file or its environment variable.
// An unset variable is no error here: NewPush says it holds no token.
func (t PushTenant) token(i int) (string, error) {
	if t.TokenFile == "" {
		return os.Getenv(t.TokenEnv), nil
	}
	return secret.Resolve(fmt.Sprintf("ingest.push.tenants[%d].token", i), secret.String{}, t.TokenFile, t.TokenEnv, nil)
}

// ReadSecrets reads the tenants' token files, which Validate only checks
// are named (an unset token_env is no error: NewPush says the tenant holds
// no token). The process that takes pushed posts calls it at start.
func (c PushConfig) ReadSecrets() error {
	var errs []error
	for i, t := range c.Tenants {
		_, err := t.token(i)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// NewPush reads the tenants' tokens from their files or the environment.
func NewPush(cfg PushConfig, n *canon.Normalizer, log *slog.Logger) (*Push, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Push{cfg: cfg, tokens: map[string]string{}, log: log.With("component", "ingest.push"), queue: make(chan pushBatch, cfg.QueueSize),
		now: time.Now, buckets: map[string]*bucket{}, idem: map[string]*idemEntry{}}
	for i, t := range cfg.Tenants {
		tok, err := t.token(i)
		if err != nil {
			return nil, err
		}
		if len(tok) < 16 {
			where := "environment variable " + t.TokenEnv
			if t.TokenFile != "" {
				where = "file " + t.TokenFile
			}
			return nil, fmt.Errorf("ingest.push.tenants: %s: %s holds no token of at least 16 characters", t.Name, where)
		}
		p.tokens[tok] = t.Name
	}
	p.dec = func() *Decoder { return NewDecoder(FormatAuto, "push", n) }
	return p, nil
}

// tenant returns the tenant a request's bearer token belongs to. Tokens are
// compared in constant time.
func (p *Push) tenant(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" { // the scheme is case-insensitive
		return "", false
	}
	name, found := "", false
	for t, n := range p.tokens {
		if subtle.ConstantTimeCompare([]byte(t), []byte(tok)) == 1 {
			name, found = n, true
		}
	}
	return name, found
}

// allow takes a token from the tenant's bucket, or says how long to wait.
func (p *Push) allow(tenant string) (bool, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	b := p.buckets[tenant]
	if b == nil {
		b = &bucket{tokens: float64(p.cfg.Burst), at: now}
		p.buckets[tenant] = b
	}
	b.tokens = math.Min(float64(p.cfg.Burst), b.tokens+now.Sub(b.at).Seconds()*p.cfg.Rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / p.cfg.Rate * float64(time.Second))
}

type pushAnswer struct {
	Accepted int            `json:"accepted"`
	Rejected []pushRejected `json:"rejected,omitempty"`
	Error    string         `json:"error,omitempty"`
}

type pushRejected struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

func answer(w http.ResponseWriter, status int, a pushAnswer) []byte {
	b, _ := gojson.Marshal(a)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
	return b
}

// ServeHTTP handles POST /v1/posts: a body of NDJSON lines in any format
// the file source reads, or a JSON array of them (gzip with
// Content-Encoding: gzip), bearer-token
// authenticated. Lines that are refused are dead letters and are listed in
// the answer; the rest are accepted.
func (p *Push) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/posts" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		answer(w, http.StatusMethodNotAllowed, pushAnswer{Error: "POST only"})
		return
	}
	tenant, ok := p.tenant(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="earshot"`)
		answer(w, http.StatusUnauthorized, pushAnswer{Error: "missing or unknown bearer token"})
		return
	}
	p.ServeTenant(w, r, tenant)
}

// ServeTenant takes a POST /v1/posts of a caller already authenticated as
// tenant: the HTTP API serves the endpoint this way, for identities with
// the ingest role, when ingest.push.addr is empty. Rate limits and
// idempotency keys are per tenant, as on the push endpoint's own address.
func (p *Push) ServeTenant(w http.ResponseWriter, r *http.Request, tenant string) {
	if claimed := r.Header.Get("X-Earshot-Tenant"); claimed != "" && claimed != tenant {
		answer(w, http.StatusForbidden, pushAnswer{Error: "the token is not this tenant's"})
		return
	}
	if ok, wait := p.allow(tenant); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		answer(w, http.StatusTooManyRequests, pushAnswer{Error: "rate limit"})
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key != "" {
		if len(key) > 256 {
			answer(w, http.StatusBadRequest, pushAnswer{Error: "Idempotency-Key over 256 bytes"})
			return
		}
		raw, status, _ := p.read(w, r)
		if status != 0 {
			return // answered; a body that did not arrive whole is no request to remember
		}
		sum := sha256.Sum256(raw)
		e, first := p.claim(tenant+"\x00"+key, sum)
		if !first {
			if e.sum != sum {
				// A client bug (a key reused for another batch), or a
				// retry that changed the batch: either way the posts of
				// this body were not taken, and must not seem to be.
				answer(w, http.StatusUnprocessableEntity, pushAnswer{Error: "Idempotency-Key " + strconv.Quote(truncateKey(key)) + " was used for a request with another body: nothing of this one was taken; use a new key for a new batch"})
				return
			}
			select {
			case <-e.done:
			case <-r.Context().Done():
				w.Header().Set("Retry-After", "5") // not an empty 200: see process
				answer(w, http.StatusServiceUnavailable, pushAnswer{Error: errUnknown})
				return
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(e.status)
			w.Write(append(e.body, '\n'))
			return
		}
		status, body := p.process(w, r, raw, tenant)
		p.mu.Lock()
		e.status, e.body = status, body
		if status >= 500 || status == http.StatusTooManyRequests {
			// a retry must be able to succeed: do not remember a refusal
			// to wait, nor an answer that does not know (ack_timeout)
			if p.idem[e.key] == e {
				delete(p.idem, e.key)
			}
		} else if p.idem[e.key] == e {
			p.idemBytes += len(body)
			p.evict(func() bool { return p.idemBytes > idempotencyBytes })
		}
		p.mu.Unlock()
		close(e.done)
		return
	}
	p.handle(w, r, tenant)
}

func truncateKey(k string) string {
	if len(k) > 64 {
		return k[:64] + "…"
	}
	return k
}

// claim returns the entry for key, creating it (for a body of that sum)
// when it is new or expired.
func (p *Push) claim(key string, sum [sha256.Size]byte) (*idemEntry, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if e, ok := p.idem[key]; ok {
		if now.Sub(e.at) < p.cfg.IdempotencyTTL {
			return e, false
		}
		delete(p.idem, key) // expired: the key is free again
		p.idemBytes -= len(e.body)
	}
	p.evict(func() bool { return len(p.idem) >= p.cfg.IdempotencyKeys || len(p.order) > 2*p.cfg.IdempotencyKeys })
	e := &idemEntry{key: key, sum: sum, at: now, done: make(chan struct{})}
	p.idem[key] = e
	p.order = append(p.order, e)
	return e, true
}

// evict forgets the oldest entries while over says so. Under mu.
func (p *Push) evict(over func() bool) {
	for len(p.order) > 0 && over() {
		e := p.order[0]
		p.order[0] = nil
		p.order = p.order[1:]
		if p.idem[e.key] == e {
			delete(p.idem, e.key)
			p.idemBytes -= len(e.body)
		}
	}
}

func (p *Push) handle(w http.ResponseWriter, r *http.Request, tenant string) (int, []byte) {
	raw, status, ans := p.read(w, r)
	if status != 0 {
		return status, ans
	}
	return p.process(w, r, raw, tenant)
}

// pushTypes are the Content-Types a push body may declare: JSON and NDJSON
// under their usual names, none, and what curl --data-binary sends by
// default. Anything else (XML, multipart forms) is 415.
var pushTypes = []string{"", "application/json", "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
	"application/jsonlines", "text/plain", "application/octet-stream", "application/x-www-form-urlencoded"}

// pushEncodings are the Content-Encodings a push body may have; anything
// else is 415.
var pushEncodings = []string{"", "identity", "gzip", "zstd", "br"}

// read checks the body's type and encoding and reads it, decoded, within
// max_body_bytes, without a leading byte-order mark; a status other than 0
// is the answer already given.
func (p *Push) read(w http.ResponseWriter, r *http.Request) (raw []byte, status int, ans []byte) {
	ctype, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	ctype = strings.ToLower(strings.TrimSpace(ctype))
	if !slices.Contains(pushTypes, ctype) {
		return nil, http.StatusUnsupportedMediaType, answer(w, http.StatusUnsupportedMediaType,
			pushAnswer{Error: fmt.Sprintf("Content-Type %s: send NDJSON or a JSON array (application/x-ndjson or application/json)", post.Cut([]byte(ctype)))})
	}
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	if !slices.Contains(pushEncodings, enc) {
		return nil, http.StatusUnsupportedMediaType, answer(w, http.StatusUnsupportedMediaType,
			pushAnswer{Error: fmt.Sprintf("Content-Encoding %s: want gzip, zstd, br or none", post.Cut([]byte(enc)))})
	}
	var body io.Reader = http.MaxBytesReader(w, r.Body, p.cfg.MaxBodyBytes)
	switch enc {
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, http.StatusBadRequest, answer(w, http.StatusBadRequest, pushAnswer{Error: "gzip: " + err.Error()})
		}
		defer zr.Close()
		body = zr
	case "zstd":
		// The window is bounded as for files (see decompress.go): a body
		// asking for more is refused, not a memory sink.
		win := min(maxZstdWindow, max(8<<20, uint64(1)<<bits.Len64(uint64(p.cfg.MaxBodyBytes))))
		zr, err := zstd.NewReader(body, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(win), zstd.WithDecoderMaxMemory(2*win))
		if err != nil {
			return nil, http.StatusBadRequest, answer(w, http.StatusBadRequest, pushAnswer{Error: "zstd: " + err.Error()})
		}
		defer zr.Close()
		body = zr
	case "br":
		body = brotli.NewReader(body)
	}
	if enc != "" && enc != "identity" {
		// the limit applies to what the body expands to: a bomb stops here
		body = io.LimitReader(body, p.cfg.MaxBodyBytes+1)
	}
	raw, err := io.ReadAll(body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || int64(len(raw)) > p.cfg.MaxBodyBytes {
		limit, what := p.cfg.MaxBodyBytes, "push.max_body_bytes"
		if mbe != nil && mbe.Limit < limit {
			limit, what = mbe.Limit, "the server's body limit" // set in front of the endpoint (the API's max_body_bytes)
		}
		return nil, http.StatusRequestEntityTooLarge, answer(w, http.StatusRequestEntityTooLarge, pushAnswer{Error: fmt.Sprintf("body over %d bytes (%s)", limit, what)})
	}
	if err != nil {
		return nil, http.StatusBadRequest, answer(w, http.StatusBadRequest, pushAnswer{Error: "reading body (" + enc + "): " + err.Error()})
	}
	return bytes.TrimPrefix(raw, bom), 0, nil
}

// process takes the posts of a body read whole, and answers once they are
// handed on, or not.
func (p *Push) process(w http.ResponseWriter, r *http.Request, raw []byte, tenant string) (int, []byte) {
	var err error
	lines := bytes.Split(raw, []byte("\n"))
	n := len(lines) - 1 // newlines, as before: a last line without one is free
	if trimmed := bytes.TrimSpace(raw); len(trimmed) > 0 && trimmed[0] == '[' {
		// A JSON array of posts is taken as well as NDJSON: element i is line i+1.
		var elems []json.RawMessage
		if err := json.Unmarshal(trimmed, &elems); err != nil {
			return http.StatusBadRequest, answer(w, http.StatusBadRequest, pushAnswer{Error: "the body starts with [ but is not a JSON array: " + err.Error()})
		}
		lines, n = make([][]byte, len(elems)), len(elems)
		for i, e := range elems {
			lines[i] = e
		}
	}
	if n > p.cfg.MaxPosts {
		return http.StatusRequestEntityTooLarge, answer(w, http.StatusRequestEntityTooLarge, pushAnswer{Error: fmt.Sprintf("%d posts, over %d", n, p.cfg.MaxPosts)})
	}
	dec := p.dec()
	var b post.Batch
	var a pushAnswer
	var evs []canon.Event
	for i, line := range lines {
		line = bytes.TrimPrefix(bytes.TrimRight(line, "\r"), bom)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		evs, err = dec.Decode(line, evs[:0])
		if err != nil {
			reason := fmt.Sprintf("push %s line %d: %s", tenant, i+1, err)
			b.Rejected = append(b.Rejected, post.Rejected{Raw: bytes.Clone(line[:min(len(line), post.RawLimit)]), Reason: reason, Class: post.ClassOf(err, post.ClassDecode)})
			a.Rejected = append(a.Rejected, pushRejected{Line: i + 1, Reason: err.Error()})
			continue
		}
		for _, ev := range evs {
			if ev.Post != nil {
				// The tenant's own name space: a pushed id never names
				// a connector's or another tenant's post (post.TenantID).
				ev.Post.Source, ev.Post.ID = post.PushSource(tenant), post.TenantID(tenant, ev.Post.ID)
				b.Items = append(b.Items, &post.Item{Post: ev.Post})
				a.Accepted++
			}
		}
	}
	if len(b.Items)+len(b.Rejected) == 0 {
		return http.StatusAccepted, answer(w, http.StatusAccepted, a)
	}
	wait, err := p.enqueue(b)
	switch err {
	case errStopped:
		w.Header().Set("Retry-After", "5")
		return http.StatusServiceUnavailable, answer(w, http.StatusServiceUnavailable, pushAnswer{Error: "stopping; retry"})
	case errBehind:
		// the pipeline is behind: the client retries later, nothing is half-taken
		w.Header().Set("Retry-After", "1")
		return http.StatusTooManyRequests, answer(w, http.StatusTooManyRequests, pushAnswer{Error: "the pipeline is behind; retry"})
	}
	timer := time.NewTimer(p.cfg.AckTimeout)
	defer timer.Stop()
	select {
	case <-wait.done:
		if wait.ok {
			return http.StatusAccepted, answer(w, http.StatusAccepted, a)
		}
	case <-timer.C:
	case <-r.Context().Done():
		// The client hung up, or the server that carries the request
		// stops: the posts go on (or are read again by no one: the
		// client did not get a 202), the key is not remembered. Answered
		// all the same: unanswered, net/http would send a client still
		// there an empty 200.
	}
	// Not known to be handed on, and perhaps never: the process is stopping
	// without handing it on, or the pipeline is slow. A retry with the same
	// key sends the posts again; their ids make that harmless.
	w.Header().Set("Retry-After", "5")
	return http.StatusServiceUnavailable, answer(w, http.StatusServiceUnavailable, pushAnswer{Error: errUnknown})
}

const errUnknown = "the posts were not confirmed handed on in time (ingest.push.ack_timeout) or the process is stopping: they may or may not have been taken; retry (with the same Idempotency-Key, which is safe: post ids make results idempotent)"

var (
	errStopped = errors.New("push: stopped")
	errBehind  = errors.New("push: queue full")
)

// enqueue queues b for the pipeline, unless queue_size requests are
// waiting already (queued, or taken and not yet handed on) or Drain has
// run; it returns what to wait on for b's release. Under mu, so that no
// request is queued after Drain emptied the queue, and positions are in
// the queue's order.
func (p *Push) enqueue(b post.Batch) (*pushWait, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || p.gone {
		return nil, errStopped
	}
	if len(p.waiting) >= p.cfg.QueueSize {
		return nil, errBehind
	}
	select {
	case p.queue <- pushBatch{b: b, seq: p.seq + 1}:
		p.seq++
		wt := &pushWait{seq: p.seq, done: make(chan struct{})}
		p.waiting = append(p.waiting, wt)
		return wt, nil
	default:
		return nil, errBehind
	}
}

// Drain (stream.Drainer) refuses new requests and returns the posts and
// dead letters of every request queued that the pipeline has not taken
// yet, for the runner to produce as it stops; Position then covers them,
// so that their requests are answered once they are handed on.
func (p *Push) Drain() post.Batch {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	var all post.Batch
	for {
		select {
		case b := <-p.queue:
			all.Items = append(all.Items, b.b.Items...)
			all.Rejected = append(all.Rejected, b.b.Rejected...)
			p.taken = b.seq
		default:
			return all
		}
	}
}

// Next returns the next accepted request's posts (max is not enforced
// across requests: one request is one batch, at most max_posts).
func (p *Push) Next(ctx context.Context, max int) (post.Batch, error) {
	select {
	case b := <-p.queue:
		p.mu.Lock()
		p.taken = b.seq
		p.mu.Unlock()
		return b.b, nil
	case <-ctx.Done():
		return post.Batch{}, ctx.Err()
	}
}

// Position (stream.Checkpointer) is the position of the last request
// Next (or Drain) returned.
func (p *Push) Position() any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.taken
}

// Checkpoint (stream.Checkpointer) is told that every request up to pos
// has been handed on: they are answered 202. Nothing is saved: a request
// not handed on is the sender's to send again, as it got no 202.
func (p *Push) Checkpoint(pos any, _ bool) error {
	seq, ok := pos.(int64)
	if !ok {
		return fmt.Errorf("push: checkpoint %v is no request position", pos)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.release(seq, true)
	return nil
}

// release answers the requests waiting up to seq, oldest first: handed on
// (202) when ok, else 503. p.mu is held.
func (p *Push) release(seq int64, ok bool) {
	k := 0
	for k < len(p.waiting) && p.waiting[k].seq <= seq {
		p.waiting[k].ok = ok
		close(p.waiting[k].done)
		p.waiting[k] = nil // the slice's array outlives it: let the request go
		k++
	}
	p.waiting = p.waiting[k:]
}

// Abandon answers every request still waiting 503 (they may or may not
// have been handed on) and refuses new ones: the process stops without
// handing them on. The pipeline calls it once it has stopped.
func (p *Push) Abandon() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gone = true
	p.release(math.MaxInt64, false)
}

// pushServer serves a Push on its address and closes with the source.
type pushServer struct {
	*Push
	srv  *http.Server
	done chan error
}

// ListenPush starts serving p on cfg.Addr.
func ListenPush(p *Push) (*pushServer, error) {
	l, err := net.Listen("tcp", p.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("ingest.push: cannot listen on %s (is another earshot running there? set ingest.push.addr to a free address, 127.0.0.1:0 for any): %w", p.cfg.Addr, err)
	}
	s := &pushServer{Push: p, srv: &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute}, done: make(chan error, 1)}
	go func() { s.done <- s.srv.Serve(l) }()
	p.log.Info("push endpoint listening", "addr", l.Addr().String())
	return s, nil
}

// Close answers the requests still waiting, stops accepting and waits up
// to 10 s for requests in flight.
func (s *pushServer) Close() error {
	s.Abandon()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
