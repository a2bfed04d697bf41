package api

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Role is what a caller may do; a Scope narrows it to teams, brands and
// regions.
type Role string

// The roles.
const (
	Admin     Role = "admin"     // everything
	Coach     Role = "coach"     // reviews (approves, rejects, pauses) the watchlists of the teams they coach
	Gatherer  Role = "gatherer"  // drafts and edits their team's watchlists, runs backtests
	Analyst   Role = "analyst"   // reads insights and search
	Responder Role = "responder" // reads and acknowledges the alerts of their queues
	Ingest    Role = "ingest"    // a machine identity that only pushes posts
	Viewer    Role = "viewer"    // reads watchlists and alerts
)

// Roles lists every role.
var Roles = []Role{Admin, Coach, Gatherer, Analyst, Responder, Ingest, Viewer}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("role %q: want one of %v", s, Roles)
	}
	return r, nil
}

// Action is one thing the API lets a caller do.
type Action string

// The actions, each granted to the roles of Permissions.
const (
	ReadWatchlists   Action = "watchlists.read"     // list, get, history
	EditWatchlists   Action = "watchlists.edit"     // validate, create, edit, submit, delete
	ReviewWatchlists Action = "watchlists.review"   // approve, reject, pause, resume
	Backtest         Action = "watchlists.backtest" // backtest a draft over recent posts
	ReadAlerts       Action = "alerts.read"         // list a queue's alerts, live feed
	AckAlerts        Action = "alerts.ack"          // acknowledge an alert
	DeskAlerts       Action = "alerts.desk"         // claim, assign, snooze, resolve, note an alert
	ReassignAlerts   Action = "alerts.reassign"     // take over or move an alert someone else holds
	Search           Action = "search"              // full-text search of posts
	ReadInsights     Action = "insights"            // list and run the insight queries
	ReadDigests      Action = "digests.read"        // list and read the rendered stakeholder digests their scope covers
	PushPosts        Action = "posts.push"          // POST /v1/posts
	ReadAudit        Action = "audit.read"          // read the audit log
	ReadRouting      Action = "routing.read"        // the routing policy and organisation, a pending change
	ProposeRouting   Action = "routing.propose"     // validate and propose a routing change
	ReviewRouting    Action = "routing.review"      // approve or reject a routing change
)

// Permissions says which roles may take each action. Admin may take all.
// Who may take an action on a given object is then narrowed by the
// caller's scope.
var Permissions = map[Action][]Role{
	ReadWatchlists:   {Admin, Coach, Gatherer, Analyst, Viewer},
	EditWatchlists:   {Admin, Gatherer},
	ReviewWatchlists: {Admin, Coach},
	Backtest:         {Admin, Coach, Gatherer},
	ReadAlerts:       {Admin, Coach, Responder, Viewer},
	AckAlerts:        {Admin, Responder},
	DeskAlerts:       {Admin, Coach, Responder},
	ReassignAlerts:   {Admin, Coach},
	Search:           {Admin, Coach, Gatherer, Analyst},
	ReadInsights:     {Admin, Coach, Analyst},
	ReadDigests:      {Admin, Coach, Gatherer, Analyst, Viewer},
	PushPosts:        {Admin, Ingest},
	ReadAudit:        {Admin},
	ReadRouting:      {Admin, Coach, Gatherer, Analyst, Responder, Viewer},
	ProposeRouting:   {Admin, Coach},
	ReviewRouting:    {Admin, Coach},
}

// Can reports whether role r may take action a (before scope).
func (r Role) Can(a Action) bool { return slices.Contains(Permissions[a], r) }

// Actions lists the actions role r may take (before scope), sorted.
func (r Role) Actions() []Action {
	var out []Action
	for a := range Permissions {
		if r.Can(a) {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// whoami is GET /v1/whoami's answer: the caller and what its role may do
// (a page shows only the actions it may take).
type whoami struct {
	Identity
	Can []Action `json:"can"`
}

// Scope narrows a role: an empty list is no narrowing.
type Scope struct {
	Teams   []string `json:"teams,omitempty"`
	Brands  []string `json:"brands,omitempty"`
	Regions []string `json:"regions,omitempty"`
	// Markets narrows to the alerts, posts and search results of these
	// markets (org.yaml markets): a market team sees its market.
	Markets []string `json:"markets,omitempty"`
}

// String is the scope as messages and the token list show it:
// "teams=a,b regions=EMEA", or "everything".
func (s Scope) String() string {
	var parts []string
	for _, p := range []struct {
		k string
		v []string
	}{{"teams", s.Teams}, {"brands", s.Brands}, {"regions", s.Regions}, {"markets", s.Markets}} {
		if len(p.v) > 0 {
			parts = append(parts, p.k+"="+strings.Join(p.v, ","))
		}
	}
	if len(parts) == 0 {
		return "everything"
	}
	return strings.Join(parts, " ")
}

// Unscoped reports whether the scope narrows nothing.
func (s Scope) Unscoped() bool { return len(s.Teams)+len(s.Brands)+len(s.Regions)+len(s.Markets) == 0 }

// seesMarket reports whether the scope allows market: a market-scoped
// caller sees their markets only, and not the posts of no market.
func (s Scope) seesMarket(market string) bool {
	return len(s.Markets) == 0 || market != "" && slices.ContainsFunc(s.Markets, func(m string) bool { return strings.EqualFold(m, market) })
}

// unique is s with each value once, in the order first given: markets
// compare without regard to case (seesMarket), so "dach,DACH" is one
// market, its first spelling kept; teams, brands and regions compare
// exactly, as in does.
func (s Scope) unique() Scope {
	once := func(l []string, eq func(a, b string) bool) []string {
		var out []string
		for _, v := range l {
			if !slices.ContainsFunc(out, func(o string) bool { return eq(o, v) }) {
				out = append(out, v)
			}
		}
		return out
	}
	same := func(a, b string) bool { return a == b }
	s.Teams, s.Brands, s.Regions, s.Markets = once(s.Teams, same), once(s.Brands, same), once(s.Regions, same), once(s.Markets, strings.EqualFold)
	return s
}

// in reports whether v is allowed by list (empty allows all).
func in(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }

// Identity is an authenticated caller.
type Identity struct {
	ID        string    `json:"id"`   // token id, or oidc:<subject>
	Name      string    `json:"name"` // who, in the audit log and the stores
	Role      Role      `json:"role"`
	Scope     Scope     `json:"scope"`
	Via       string    `json:"via"` // token or oidc
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}
