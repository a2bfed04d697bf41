// Package watchlist keeps the watchlists a team edits: every revision, its
// status on the way from draft to live (draft → pending → live, paused,
// rejected), who changed it and when, and the live set that the matchers
// use. A change needs a second person's approval before it goes live; the
// revision that is live keeps matching while a new one waits for review.
//
// The store lives in one directory: one JSON file per watchlist (written to
// a temporary file, synced and renamed into place) and history.jsonl, an
// append-only log of every change, synced on each append. Approving
// validates the whole live set (match.Compile and match.CheckQuota) before
// anything changes, then writes it to Options.LiveDir as YAML for
// match.Watch and hands it to Options.Publish (the Kafka table in
// distributed mode).
//
// The store knows actors only by name: who may approve for which team is
// the API's business (package api); the store enforces the four-eyes rule
// (an approver other than the last editor) and the allowed transitions.
package watchlist

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/strictyaml"
)

// Status is where a watchlist's working revision is in its life.
type Status string

// The statuses. Only a live list matches; a pending one waits for review.
const (
	Draft    Status = "draft"    // edited, not yet submitted
	Pending  Status = "pending"  // submitted for approval
	Approved Status = "approved" // approved while the list is paused: resume puts it live
	Live     Status = "live"     // the working revision is the one matching
	Paused   Status = "paused"   // taken out of the live set; resume puts the last approved revision back
	Rejected Status = "rejected" // the reviewer said no; edit it again to make a new draft
)

// Spec is what a gatherer edits: the fields of match.Watchlist.
type Spec struct {
	ID       string   `json:"id" yaml:"id"`
	Name     string   `json:"name" yaml:"name"`
	Team     string   `json:"team" yaml:"team"`
	Brand    string   `json:"brand,omitempty" yaml:"brand,omitempty"`
	Regions  []string `json:"regions,omitempty" yaml:"regions,omitempty"`
	Tags     []string `json:"tags,omitempty" yaml:"tags,omitempty"`
	Priority string   `json:"priority,omitempty" yaml:"priority,omitempty"`
	Rule     string   `json:"rule,omitempty" yaml:"rule,omitempty"`
	Keywords []string `json:"keywords,omitempty" yaml:"keywords,omitempty"`
	Exclude  []string `json:"exclude,omitempty" yaml:"exclude,omitempty"`
}

// Record is a watchlist as the store keeps it.
type Record struct {
	Spec                  // the working revision (what was last applied)
	Status      Status    `json:"status"`
	Version     int       `json:"version"`        // of the working revision; +1 on every apply
	Live        *Spec     `json:"live,omitempty"` // the revision matching now (nil: none)
	LiveVersion int       `json:"live_version,omitempty"`
	UpdatedBy   string    `json:"updated_by"`
	UpdatedAt   time.Time `json:"updated_at"`
	SubmittedBy string    `json:"submitted_by,omitempty"`
	ApprovedBy  string    `json:"approved_by,omitempty"`
	ApprovedAt  time.Time `json:"approved_at,omitzero"`
	Paused      bool      `json:"paused,omitempty"` // the live revision is held out of the live set (status paused, or a newer draft of a paused list)
}

// InLive reports whether the record's live revision is in the live set.
func (r *Record) InLive() bool { return r.Live != nil && !r.Paused }

// Change is one entry of a watchlist's history.
type Change struct {
	Seq     int       `json:"seq"` // position in the store's history, from 1
	ID      string    `json:"id"`
	Version int       `json:"version"` // of the working revision after the change
	Action  string    `json:"action"`  // apply, submit, approve, reject, pause, resume, delete, import
	Actor   string    `json:"actor"`
	At      time.Time `json:"at"`
	Note    string    `json:"note,omitempty"`
	Before  *Record   `json:"before,omitempty"` // nil when created
	After   *Record   `json:"after,omitempty"`  // nil when deleted
}

// Filter selects records; an empty field matches any.
type Filter struct {
	Teams   []string
	Brands  []string
	Regions []string // a list matches if it covers any of these, or is global
	Status  Status
}

// Errors a caller (the API) maps to responses.
var (
	ErrNotFound     = errors.New("watchlist not found")
	ErrConflict     = errors.New("watchlist changed since it was read") // stale ifVersion
	ErrState        = errors.New("transition not allowed")
	ErrSelfApproval = errors.New("a change must be approved by someone other than its last editor")
)

// InvalidError is a watchlist, or a live set, that does not validate; its
// message carries match's messages (rules with line and column).
type InvalidError struct{ Err error }

func (e *InvalidError) Error() string { return "invalid watchlist: " + e.Err.Error() }
func (e *InvalidError) Unwrap() error { return e.Err }

// Is makes an invalid watchlist a strictyaml.ErrInvalid too, so that the
// CLI exits with 2 as for a bad file.
func (e *InvalidError) Is(target error) bool { return target == strictyaml.ErrInvalid }

// Options of a store.
type Options struct {
	LiveDir   string                                                  // where the live set is written as YAML for match.Watch (embedded); "" = none
	Publish   func(ctx context.Context, live []match.Watchlist) error // e.g. the Kafka table; nil = none
	OnChange  func(Change)                                            // audit hook, called after each change is durable
	TeamQuota int                                                     // as match.team_quota; 0 is none
	Match     match.Options                                           // what watchlists compile with (enrich.regions, owned accounts), as the matcher's
	Now       func() time.Time                                        // nil: time.Now
	Log       *slog.Logger                                            // nil: discard
}
