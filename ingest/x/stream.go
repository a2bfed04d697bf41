package x

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/ingest/live"
	"github.com/earshot-dev/earshot/internal/secret"
	"github.com/earshot-dev/earshot/post"
)

// Config selects the filtered stream and how to authenticate to it.
type Config struct {
	URL             string `yaml:"url"`               // the filtered stream endpoint
	BearerTokenEnv  string `yaml:"bearer_token_env"`  // environment variable holding the app's bearer token
	BearerTokenFile string `yaml:"bearer_token_file"` // or a file holding it (a mounted secret); used instead of bearer_token_env when set
	Query           string `yaml:"query"`             // expansions and fields, as URL query parameters
	BackfillMinutes int    `yaml:"backfill_minutes"`  // on reconnect, ask for up to 5 minutes missed (plans that allow it); 0: none
}

// DefaultConfig asks for the expansions the decoder uses.
func DefaultConfig() Config {
	return Config{
		URL:            "https://api.x.com/2/tweets/search/stream",
		BearerTokenEnv: "X_BEARER_TOKEN",
		Query: "expansions=author_id,geo.place_id,referenced_tweets.id,attachments.media_keys&" +
			"tweet.fields=created_at,lang,entities,geo,public_metrics,referenced_tweets,attachments,edit_history_tweet_ids,note_tweet&" +
			"user.fields=location,public_metrics,verified&place.fields=country_code,full_name,geo",
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); err != nil || u.Scheme != "https" && u.Scheme != "http" {
		errs = append(errs, fmt.Errorf("ingest.x.url: %q is not an http(s) URL", c.URL))
	}
	if c.BearerTokenEnv == "" && c.BearerTokenFile == "" {
		errs = append(errs, errors.New("ingest.x.bearer_token_env: required (or bearer_token_file)"))
	}
	if _, err := url.ParseQuery(c.Query); err != nil {
		errs = append(errs, fmt.Errorf("ingest.x.query: %w", err))
	}
	if c.BackfillMinutes < 0 || c.BackfillMinutes > 5 {
		errs = append(errs, fmt.Errorf("ingest.x.backfill_minutes: %d, want 0 to 5", c.BackfillMinutes))
	}
	return errors.Join(errs...)
}

// ReadSecrets reads the bearer token, which Validate only checks is
// named: the ingest process calls it at start.
func (c Config) ReadSecrets() error {
	_, err := c.token()
	return err
}

func (c Config) token() (string, error) {
	if c.BearerTokenFile != "" {
		return secret.Resolve("ingest.x.bearer_token", secret.String{}, c.BearerTokenFile, "", nil)
	}
	if token := os.Getenv(c.BearerTokenEnv); token != "" {
		return token, nil
	}
	return "", fmt.Errorf("ingest.x: environment variable %s holds no bearer token", c.BearerTokenEnv)
}

type filtered struct {
	cfg    Config
	live   live.Config
	token  string
	client *http.Client
	dec    *Decoder
	seen   map[string]struct{} // tweet ids handed on since the last reconnect, for backfill
}

// Open returns a stream.Source following the filtered stream. The token
// is read from the environment now, so a missing one fails at start.
func Open(cfg Config, lc live.Config, n *canon.Normalizer, m *live.Metrics, log *slog.Logger) (*live.Source, error) {
	token, err := cfg.token()
	if err != nil {
		return nil, err
	}
	// no client timeout: the response is meant to last; the stall detector ends it
	f := &filtered{cfg: cfg, live: lc, token: token, client: &http.Client{}, dec: &Decoder{N: n, Source: "x:filtered-stream"}, seen: map[string]struct{}{}}
	return live.New("x", lc, []live.Dialer{f.dial}, nil, m, log), nil
}

func (f *filtered) dial(ctx context.Context, c *live.Conn) error {
	q, _ := url.ParseQuery(f.cfg.Query) // checked by Validate
	if c.Attempt > 0 && f.cfg.BackfillMinutes > 0 {
		q.Set("backfill_minutes", strconv.Itoa(f.cfg.BackfillMinutes))
	} else {
		clear(f.seen)
	}
	u := f.cfg.URL + "?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("x stream request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := f.client.Do(req)
	if err != nil {
		return fmt.Errorf("x stream: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// 429 means too many connections or reconnects; the backoff spaces them
		return fmt.Errorf("x stream: HTTP %s (rate limit reset %s)", resp.Status, resp.Header.Get("x-rate-limit-reset"))
	}
	lines := live.NewLines(resp.Body, int(f.live.MaxMessage))
	var evs []canon.Event
	for {
		line, size, tooBig, err := lines.Next()
		if err != nil {
			return fmt.Errorf("x stream: reading: %w", err)
		}
		c.Touch() // a blank line is the stream's keep-alive
		if tooBig {
			if err := c.Emit(ctx, canon.Event{}, line, post.WithClass(post.ClassTooBig, fmt.Errorf("line of %d bytes over max_message %d", size, f.live.MaxMessage))); err != nil {
				return err
			}
			continue
		}
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		evs, err = f.dec.Line(line, evs[:0])
		if err != nil {
			if err := c.Emit(ctx, canon.Event{}, line, err); err != nil {
				return err
			}
			continue
		}
		for _, ev := range evs {
			if ev.Post != nil {
				k := ev.Post.ID + "/" + ev.Post.Kind
				if _, dup := f.seen[k]; dup {
					continue // backfill resends what came before the drop
				}
				if len(f.seen) >= 100_000 {
					clear(f.seen)
				}
				f.seen[k] = struct{}{}
			}
			if err := c.Emit(ctx, ev, nil, nil); err != nil {
				return err
			}
		}
	}
}
