// Package post defines the records that flow between earshot's stages and
// their versioned wire codec.
package post

import "time"

// Post is the canonical form every ingestor normalises to.
type Post struct {
	Platform   string    `json:"platform"`
	ID         string    `json:"id"`
	Author     Author    `json:"author"`
	Text       string    `json:"text"`
	CreatedAt  time.Time `json:"created_at"`
	Lang       string    `json:"lang,omitempty"` // as declared by the platform or client; a weak label
	URLs       []string  `json:"urls,omitempty"`
	Hashtags   []string  `json:"hashtags,omitempty"`
	Mentions   []string  `json:"mentions,omitempty"`
	ReplyTo    string    `json:"reply_to,omitempty"`  // key of the post replied to
	RepostOf   string    `json:"repost_of,omitempty"` // key of the reposted post
	QuoteOf    string    `json:"quote_of,omitempty"`  // key of the quoted post
	Geo        *Geo      `json:"geo,omitempty"`
	Country    string    `json:"country,omitempty"` // ISO 3166-1 alpha-2 of a platform place, if any
	IngestedAt time.Time `json:"ingested_at"`
}

// Author is who wrote a post, as the platform describes them.
type Author struct {
	ID        string `json:"id,omitempty"`
	Handle    string `json:"handle"`
	Name      string `json:"name,omitempty"`
	Followers int64  `json:"followers,omitempty"`
	Location  string `json:"location,omitempty"` // free-text profile location
	Verified  bool   `json:"verified,omitempty"`
}

// Geo is a point or place attached to a post.
type Geo struct {
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
	Place   string  `json:"place,omitempty"`
	Country string  `json:"country,omitempty"`
}

// Key identifies a post across platforms; it is the Kafka message key and
// the basis of every deterministic ID derived from the post.
func (p *Post) Key() string { return p.Platform + ":" + p.ID }

// Match records that one watchlist matched a post.
type Match struct {
	Watchlist string   `json:"watchlist"`
	Version   int      `json:"version"`
	Brand     string   `json:"brand,omitempty"`
	Team      string   `json:"team,omitempty"`
	Keywords  []string `json:"keywords"` // the watchlist keywords that hit
}

// Enrichment holds the tags the enrich stage adds to a matched post.
type Enrichment struct {
	Lang           string  `json:"lang"`
	Sentiment      float64 `json:"sentiment"` // in [-1, 1]
	SentimentLabel string  `json:"sentiment_label"`
	Country        string  `json:"country,omitempty"`
	Region         string  `json:"region"` // EMEA, APAC, LATAM, NA or unknown
}

// Alert is a routed, actionable post on a responder queue.
type Alert struct {
	ID        string    `json:"id"` // deterministic: a redelivered post yields the same ID
	Queue     string    `json:"queue"`
	Priority  string    `json:"priority"` // P1 (most urgent) to P4
	Rule      string    `json:"rule"`     // the routing rule that produced it
	CreatedAt time.Time `json:"created_at"`
}

// Item is one record on a pipeline topic. Each stage adds its part: match
// adds Matches, enrich adds Enrichment, route adds Alert.
type Item struct {
	Post       *Post       `json:"post"`
	Matches    []Match     `json:"matches,omitempty"`
	Enrichment *Enrichment `json:"enrichment,omitempty"`
	Alert      *Alert      `json:"alert,omitempty"`
}

// Key is the item's post key.
func (it *Item) Key() string { return it.Post.Key() }

// Batch is what a stage takes and returns. Rejected lists the inputs the
// stage refused, each with the reason; they become dead letters.
type Batch struct {
	Items    []*Item
	Rejected []Rejected
}

// Rejected is a record that could not be processed. Raw holds the bytes as
// received when no Item could be decoded from them.
type Rejected struct {
	Item   *Item
	Raw    []byte
	Reason string
}

// DeadLetter is what lands on the dead-letter topic.
type DeadLetter struct {
	Stage    string    `json:"stage"`
	Reason   string    `json:"reason"`
	Key      string    `json:"key,omitempty"`
	Item     *Item     `json:"item,omitempty"`
	Raw      string    `json:"raw,omitempty"` // the input as received, cut to RawLimit bytes
	RawBytes int       `json:"raw_bytes,omitempty"`
	At       time.Time `json:"at"`
}
