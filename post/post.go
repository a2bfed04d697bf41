// Package post defines the records that flow between earshot's stages and
// their versioned wire codec.
package post

import (
	"net/url"
	"strings"
	"time"
)

// Post is the canonical form every ingestor normalises to.
type Post struct {
	Kind       string      `json:"kind,omitempty"` // "" for a post; KindDelete or KindEdit for changes to an earlier one
	Platform   string      `json:"platform"`
	ID         string      `json:"id"`
	Author     Author      `json:"author"`
	Text       string      `json:"text"`
	CreatedAt  time.Time   `json:"created_at"`
	Lang       string      `json:"lang,omitempty"` // as declared by the platform or client; a weak label
	URLs       []string    `json:"urls,omitempty"`
	Hashtags   []string    `json:"hashtags,omitempty"`
	Mentions   []string    `json:"mentions,omitempty"`
	ReplyTo    string      `json:"reply_to,omitempty"`  // key of the post replied to
	RepostOf   string      `json:"repost_of,omitempty"` // key of the reposted post
	QuoteOf    string      `json:"quote_of,omitempty"`  // key of the quoted post
	Geo        *Geo        `json:"geo,omitempty"`
	Country    string      `json:"country,omitempty"` // ISO 3166-1 alpha-2 of a platform place, if any
	Media      int         `json:"media,omitempty"`   // number of attached images, videos, …
	Engagement *Engagement `json:"engagement,omitempty"`
	Source     string      `json:"source,omitempty"`    // the connector and endpoint it came from
	Community  string      `json:"community,omitempty"` // where it was posted within the platform: a subreddit
	IngestedAt time.Time   `json:"ingested_at"`
}

// Platforms are the platforms earshot's connectors produce (Post.Platform),
// which the rule language's platform: and org.yaml's accounts name.
var Platforms = []string{"x", "twitter", "bluesky", "mastodon", "reddit", "synthetic"}

// Kinds of change records. A delete carries the platform and id of the
// deleted post and no text; an edit carries the new text under the same id.
const (
	KindDelete = "delete"
	KindEdit   = "edit"
)

// Engagement holds the counts a platform reports with a post, when it does.
type Engagement struct {
	Likes   int64 `json:"likes,omitempty"`
	Reposts int64 `json:"reposts,omitempty"`
	Replies int64 `json:"replies,omitempty"`
	Quotes  int64 `json:"quotes,omitempty"`
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
// the basis of every deterministic ID derived from the post. A push
// tenant's posts carry ids in the tenant's own name space (TenantID), so
// their keys never meet a connector's or another tenant's.
func (p *Post) Key() string { return p.Platform + ":" + p.ID }

// pushSource begins the sources of the push endpoint's posts: "push:" and
// the tenant.
const pushSource = "push:"

// PushSource is the source of the posts tenant sends to the push endpoint.
func PushSource(tenant string) string { return pushSource + tenant }

// TenantID is the id under which a push tenant's post (or delete, or
// edit) with the given id flows and is stored: "push:<tenant>:<id>", the
// tenant query-escaped. Every stage keys, deduplicates and derives ids
// from platform and id, so a tenant can then neither take a platform id
// before the connector that delivers it (whose post "the same id from
// another source" would refuse) nor replace or delete another source's
// stored post by sending its id. The escaped tenant holds no ':', so two
// tenants' name spaces never overlap. An id that already begins with the
// tenant's own prefix (as the API and the alerts show it) is kept, so the
// tenant can delete a post by the id it reads back.
func TenantID(tenant, id string) string {
	prefix := pushSource + url.QueryEscape(tenant) + ":"
	if strings.HasPrefix(id, prefix) {
		return id
	}
	return prefix + id
}

// Match records that one watchlist matched a post.
type Match struct {
	Watchlist string   `json:"watchlist"`
	Version   int      `json:"version"`
	Brand     string   `json:"brand,omitempty"`
	Team      string   `json:"team,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	Regions   []string `json:"regions,omitempty"` // the watchlist's scope: enrichment drops the match for a post resolved elsewhere
	Keywords  []string `json:"keywords"`          // the watchlist terms that hit
	Spans     []Span   `json:"spans,omitempty"`   // where, in the post text, the terms that satisfied the rule are
}

// Span is a byte range [Start, End) of the post text that a term matched.
type Span struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	Term  string `json:"term"`
}

// IntentScores is the calibrated probability of each intent (0 to 1), kept
// beside Enrichment.Intents (the intents whose probability passed their
// threshold) so that consumers can apply their own cut-off. It is a value,
// not a map, so that tagging a post allocates nothing.
type IntentScores struct {
	Complaint float32 `json:"complaint,omitzero"`
	Question  float32 `json:"question,omitzero"`
	Praise    float32 `json:"praise,omitzero"`
	Feedback  float32 `json:"feedback,omitzero"` // product feedback and feature requests
	Purchase  float32 `json:"purchase,omitzero"`
	Crisis    float32 `json:"crisis,omitzero"`
	Job       float32 `json:"job,omitzero"`
	Spam      float32 `json:"spam,omitzero"`
}

// Enrichment holds the tags the enrich stage adds to a matched post.
// Every tag has a confidence in [0, 1]; a tag the stage cannot support with
// evidence is "unknown" (or "und" for language) rather than a guess.
type Enrichment struct {
	Lang                string  `json:"lang"` // ISO 639-1 where one exists, else 639-3; "und" when unknown
	LangConfidence      float64 `json:"lang_confidence,omitempty"`
	Sentiment           float64 `json:"sentiment"`       // in [-1, 1]
	SentimentLabel      string  `json:"sentiment_label"` // negative, neutral, positive, or unknown (the model abstained)
	SentimentConfidence float64 `json:"sentiment_confidence,omitempty"`
	// SentimentProbs are the calibrated probabilities of negative, neutral
	// and positive.
	SentimentProbs    [3]float32 `json:"sentiment_probs,omitzero"`
	Emotion           string     `json:"emotion,omitempty"` // anger, joy, optimism, sadness (English); empty when none is clear
	EmotionConfidence float64    `json:"emotion_confidence,omitempty"`
	Irony             bool       `json:"irony,omitempty"`            // English
	IronyConfidence   float64    `json:"irony_confidence,omitempty"` // of the irony judgement, either way
	Country           string     `json:"country,omitempty"`
	Region            string     `json:"region"`                  // EMEA, APAC, LATAM, NA (or the organisation's own) or unknown
	RegionSource      string     `json:"region_source,omitempty"` // geo, place, profile, language, timezone
	RegionConfidence  float64    `json:"region_confidence,omitempty"`
	Market            string     `json:"market,omitempty"`  // the organisation's market of Country (org.yaml markets), or empty
	Intents           []string   `json:"intents,omitempty"` // complaint, question, praise, feedback, purchase, crisis, job, spam, other
	IntentConfidence  float64    `json:"intent_confidence,omitempty"`
	Influence         float64    `json:"influence,omitempty"` // comparable across platforms, 0 to 100
	ClusterID         string     `json:"cluster_id,omitempty"`
	ClusterSize       int        `json:"cluster_size,omitempty"`
	RedactedText      string     `json:"redacted_text,omitempty"` // the text with PII removed, when redaction is on

	// IntentScores is every intent's probability, tagged or not.
	IntentScores IntentScores `json:"intent_scores,omitzero"`
}

// Alert is a routed, actionable post on a responder queue.
type Alert struct {
	ID            string    `json:"id"` // deterministic: a redelivered post yields the same ID
	Queue         string    `json:"queue"`
	Priority      string    `json:"priority"` // P1 (most urgent) to P4
	Rule          string    `json:"rule"`     // the routing rule that produced it
	CreatedAt     time.Time `json:"created_at"`
	Team          string    `json:"team,omitempty"`            // the team that works the queue
	DueAt         time.Time `json:"due_at,omitzero"`           // first-response deadline (SLA), if the queue has one
	HandedOffFrom string    `json:"handed_off_from,omitempty"` // the rule's queue, when its team was off duty
	Unstaffed     bool      `json:"unstaffed,omitempty"`       // nobody on duty in the whole hand-off chain
	Incident      string    `json:"incident,omitempty"`        // the near-duplicate cluster the alert stands for
	IncidentSize  int       `json:"incident_size,omitempty"`   // posts in that cluster so far
	Spike         *Spike    `json:"spike,omitempty"`           // set on volume-spike alerts; the post is the spike's first
	Retracted     bool      `json:"retracted,omitempty"`       // the post was deleted or edited out of every watchlist: close the alert with this id
	EscalateTo    string    `json:"escalate_to,omitempty"`     // the queue that takes the alert over if it is still unacknowledged at EscalateAt
	EscalateAt    time.Time `json:"escalate_at,omitzero"`
	Of            string    `json:"of,omitempty"`     // on a stakeholder copy or an escalation: the id of the alert it accompanies
	Reason        string    `json:"reason,omitempty"` // why a copy exists: "notify" (for the stakeholders' information) or "escalation"
	// Resolved, on the desk topic only, says a responder resolved the
	// alert on the desk: the notification channels close what they opened.
	Resolved *Resolution `json:"resolved,omitempty"`
}

// Resolution is a desk resolve, as the notification channels are told it.
type Resolution struct {
	By      string    `json:"by"`
	Outcome string    `json:"outcome"`
	At      time.Time `json:"at"`
}

// Spike says why a volume-spike alert was raised.
type Spike struct {
	Watchlist   string    `json:"watchlist"`
	Region      string    `json:"region"`
	WindowStart time.Time `json:"window_start"`
	Window      string    `json:"window"`
	Count       int       `json:"count"`
	Baseline    float64   `json:"baseline"`
	Why         string    `json:"why"`
	TopTerms    []string  `json:"top_terms,omitempty"`
	TopAuthors  []string  `json:"top_authors,omitempty"`
}

// Item is one record on a pipeline topic. Each stage adds its part: match
// adds Matches, enrich adds Enrichment, route adds Alert.
type Item struct {
	Post       *Post       `json:"post"`
	Matches    []Match     `json:"matches,omitempty"`
	Enrichment *Enrichment `json:"enrichment,omitempty"`
	Alert      *Alert      `json:"alert,omitempty"`
	Volume     *Volume     `json:"volume,omitempty"` // on the volume topic only: counts of all posts heard (Post.Kind is KindVolume)
	// Suppression, on the suppressed topic only, records that a routing
	// rule decided not to respond to the post (it carries no Alert).
	Suppression *Suppression `json:"suppression,omitempty"`
}

// Suppression is a routing rule's "do not respond": the post raised no
// alert because Rule suppressed it for Reason, as of At.
type Suppression struct {
	Rule   string    `json:"rule"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
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
	Class  Class // the reason's class; empty is ClassOther
}

// DeadLetter is what lands on the dead-letter topic.
type DeadLetter struct {
	Stage    string    `json:"stage"`
	Reason   string    `json:"reason"`
	Class    Class     `json:"class,omitempty"` // one of Classes; absent from letters written before it: read as ClassOther
	Key      string    `json:"key,omitempty"`
	Item     *Item     `json:"item,omitempty"`
	Raw      string    `json:"raw,omitempty"` // the input as received, cut to RawLimit bytes
	RawBytes int       `json:"raw_bytes,omitempty"`
	At       time.Time `json:"at"`
}

// jetstreamSource begins the sources of the Bluesky connector, which
// records the Jetstream instance it read a post from ("jetstream:" and the
// endpoint).
const jetstreamSource = "jetstream:"

// JetstreamSource is the source of the posts read from the Jetstream
// instance at endpoint.
func JetstreamSource(endpoint string) string { return jetstreamSource + endpoint }

// SameSource reports whether two sources (Post.Source) are one for the
// rule that only the source that delivered a post may delete or change it.
// They are when equal, and when both are Jetstream instances: the public
// ones serve the same network's events and the connector fails over
// between them (and starts at the first again after a restart), so a
// delete read from another instance than its post is the post's own.
func SameSource(a, b string) bool { return SourceKey(a) == SourceKey(b) }

// SourceKey is what SameSource compares: the source, or "jetstream:" for
// every Jetstream instance. Sets of (post, source) key on it.
func SourceKey(source string) string {
	if strings.HasPrefix(source, jetstreamSource) {
		return jetstreamSource
	}
	return source
}
