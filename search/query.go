// Package search keeps a full-text index of recent posts (bleve, one shard
// per day) and answers ranked, faceted queries over it.
package search

import "time"

// Query is one search. Empty filters match everything.
type Query struct {
	Text       string    `json:"q"`                    // bleve query-string syntax over the post text
	Watchlists []string  `json:"watchlist,omitempty"`  // any of
	Regions    []string  `json:"region,omitempty"`     // any of
	Sentiments []string  `json:"sentiment,omitempty"`  // negative, neutral, positive: any of
	Langs      []string  `json:"lang,omitempty"`       // any of
	Since      time.Time `json:"since,omitzero"`       // created at or after
	Until      time.Time `json:"until,omitzero"`       // created before
	Size       int       `json:"size,omitempty"`       // hits per page (default 20, at most 200)
	From       int       `json:"from,omitempty"`       // offset of the first hit, for paging
	Exhaustive bool      `json:"exhaustive,omitempty"` // search every day of the window, whatever search.hit_budget says
	Scope      *Scope    `json:"-"`                    // set by the API from the caller's token
}

// Scope narrows a search to what a caller may see; nil sees everything.
type Scope struct {
	Watchlists []string // only these watchlists' posts, when not empty
	Regions    []string // only posts of these regions, when not empty
	Markets    []string // only posts of these markets (org.yaml markets), when not empty
}

// Result is one page of hits with facets over every hit. A partial result
// searched only the newest days, from SearchedFrom to the window's end:
// they held search.hit_budget hits or more. Its total and facets count
// those days, and its hits are the best of those days.
type Result struct {
	Total        uint64             `json:"total"`
	Partial      bool               `json:"partial,omitempty"`
	SearchedFrom string             `json:"searched_from,omitempty"` // the oldest day searched (UTC, 2006-01-02), when partial
	Took         time.Duration      `json:"took_ns"`
	Hits         []Hit              `json:"hits"`
	Facets       map[string][]Facet `json:"facets"` // watchlist, region, sentiment, lang
}

// Hit is one matching post.
type Hit struct {
	Key        string              `json:"key"` // platform:id, as post.Key
	Score      float64             `json:"score"`
	Platform   string              `json:"platform"`
	Author     string              `json:"author"`
	Text       string              `json:"text"`
	TextBytes  int                 `json:"text_bytes,omitempty"` // set when Text is cut to search.max_text_bytes: the full text's length
	CreatedAt  time.Time           `json:"created_at"`
	Lang       string              `json:"lang,omitempty"`
	Region     string              `json:"region,omitempty"`
	Sentiment  string              `json:"sentiment,omitempty"`
	Watchlists []string            `json:"watchlists,omitempty"`
	Highlights map[string][]string `json:"highlights,omitempty"` // field → fragments with <mark>…</mark>
}

// Facet is one term of a facet with its count.
type Facet struct {
	Term  string `json:"term"`
	Count int    `json:"count"`
}
