// Package match finds, in one pass over each post, every keyword of every
// watchlist, and decides which watchlists the post matches.
package match

import (
	"errors"
	"fmt"
	"github.com/earshot-dev/earshot/textnorm"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/earshot-dev/earshot/region"
	"github.com/earshot-dev/earshot/strictyaml"
)

// Config says where the watchlists are.
type Config struct {
	Watchlists     string        `yaml:"watchlists"`      // a directory of *.yaml files, one watchlist each
	ReloadInterval time.Duration `yaml:"reload_interval"` // how often to look for changed files; 0 never reloads
	Follow         string        `yaml:"follow"`          // "" reads the directory; "kafka" follows the published set on <prefix>.watchlists
	TeamQuota      int           `yaml:"team_quota"`      // most keywords and filters one team's live watchlists may hold; 0 is no quota
	Store          string        `yaml:"store"`           // a watchlist store directory (package watchlist); its live set is what matches
}

// MaxTeamQuota bounds match.team_quota: the quota keeps one team from
// crowding a shared cluster, and 10 million keywords already take
// gigabytes to compile.
const MaxTeamQuota = 10_000_000

// DefaultConfig reloads changed watchlists within five seconds.
func DefaultConfig() Config { return Config{ReloadInterval: 5 * time.Second, TeamQuota: 100_000} }

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Watchlists == "" && c.Follow == "" && c.Store == "" {
		errs = append(errs, errors.New("match.watchlists: a directory of watchlist files is required (or match.store, or match.follow: kafka)"))
	}
	if c.Watchlists != "" && c.Store != "" {
		errs = append(errs, errors.New("match.store: the matcher uses the store's live set; set match.store or match.watchlists, not both"))
	}
	if c.ReloadInterval < 0 || c.ReloadInterval > 24*time.Hour {
		errs = append(errs, fmt.Errorf("match.reload_interval: %v, want 0 (never) to 24h", c.ReloadInterval))
	}
	if c.TeamQuota < 0 || c.TeamQuota > MaxTeamQuota {
		errs = append(errs, fmt.Errorf("match.team_quota: %d, want 0 (no quota) to %d", c.TeamQuota, MaxTeamQuota))
	}
	if c.Follow != "" && c.Follow != "kafka" {
		errs = append(errs, fmt.Errorf("match.follow: %q, want kafka or nothing", c.Follow))
	}
	return errors.Join(errs...)
}

// Watchlist is what a team listens for: a rule (see docs/rules.md) or, for
// simple lists, keywords of which any must occur and none of the excluded.
type Watchlist struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name"`
	Team     string   `yaml:"team"`
	Brand    string   `yaml:"brand"`
	Regions  []string `yaml:"regions"` // scope; empty is global
	Tags     []string `yaml:"tags"`
	Priority string   `yaml:"priority"`
	Status   string   `yaml:"status"` // draft, approved, live (the default) or paused; only live lists match
	Version  int      `yaml:"version"`
	Rule     string   `yaml:"rule"`
	Keywords []string `yaml:"keywords"`
	Exclude  []string `yaml:"exclude"`

	file string // where it was read from, for messages
	raw  []byte // the file as read, for publishing
}

// Statuses of a watchlist's life.
var statuses = []string{"draft", "approved", "live", "paused"}

// Live reports whether the list takes part in matching.
func (w *Watchlist) Live() bool { return w.Status == "live" }

// tree parses the rule, or builds one from keywords and exclusions.
func (w *Watchlist) tree() (*node, error) {
	if w.Rule != "" {
		n, err := parseRule(w.Rule)
		if err != nil {
			return nil, fmt.Errorf("%s: watchlist %s: rule: %w", w.file, w.ID, err)
		}
		return expandSlop(n), nil
	}
	if len(w.Keywords) == 0 {
		return nil, fmt.Errorf("%s: watchlist %s: a rule or at least one keyword is needed", w.file, w.ID)
	}
	any := &node{op: opOr}
	for i, k := range w.Keywords {
		spec, err := listTerm(k)
		if err != nil {
			return nil, fmt.Errorf("%s: watchlist %s: keywords[%d] %q: %w", w.file, w.ID, i, k, err)
		}
		any.kids = append(any.kids, &node{op: opTerm, term: spec})
	}
	if len(w.Exclude) == 0 {
		return any, nil
	}
	none := &node{op: opOr}
	for i, k := range w.Exclude {
		spec, err := listTerm(k)
		if err != nil {
			return nil, fmt.Errorf("%s: watchlist %s: exclude[%d] %q: %w", w.file, w.ID, i, k, err)
		}
		none.kids = append(none.kids, &node{op: opTerm, term: spec})
	}
	return &node{op: opAnd, kids: []*node{any, {op: opNot, kids: []*node{none}}}}, nil
}

// listTerm reads one entry of a keywords or exclude list with the rule
// language's meaning of its marks: a single word may be =exact, a #hashtag,
// an @handle and end in a * wildcard, as in a rule; an entry with spaces is
// a phrase (="…" exact with a leading =), in which # @ and * mean nothing
// and are refused rather than read literally.
func listTerm(k string) (*termSpec, error) {
	k = strings.TrimSpace(k)
	spec := &termSpec{}
	if len(k) > 1 && k[0] == '=' {
		spec.exact, k = true, k[1:]
	}
	if k == "" {
		return nil, errors.New("is empty")
	}
	if strings.ContainsFunc(k, unicode.IsSpace) {
		for _, word := range strings.Fields(k) {
			if strings.ContainsAny(word, "*") || word[0] == '#' || word[0] == '@' {
				return nil, fmt.Errorf("a phrase cannot hold %q: # @ and * mark single words only (write a rule to combine them)", word)
			}
		}
		spec.text, spec.phrase = strings.Join(strings.Fields(k), " "), true
		return spec, nil
	}
	switch k[0] {
	case '#':
		spec.kind, k = textnorm.KindHashtag, k[1:]
	case '@':
		spec.kind, k = textnorm.KindMention, k[1:]
	}
	if strings.HasSuffix(k, "*") {
		spec.wildcard, k = true, strings.TrimRight(k, "*")
	}
	switch {
	case strings.Contains(k, "*"):
		return nil, errors.New("a wildcard * may only end a word, as in refund*")
	case k == "":
		return nil, errors.New("has no word after its mark")
	}
	spec.text = k
	return spec, nil
}

// expandSlop turns "a b c"~n into NEAR over its words.
func expandSlop(n *node) *node {
	if n.op == opTerm && n.term.slop > 0 {
		near := &node{op: opNear, n: n.term.slop, pos: n.pos}
		for _, w := range strings.Fields(n.term.text) {
			near.kids = append(near.kids, &node{op: opTerm, term: &termSpec{text: w, plain: n.term.plain}, pos: n.pos})
		}
		if len(near.kids) > 1 {
			return near
		}
		n.term.slop = 0
		return n
	}
	for i, k := range n.kids {
		n.kids[i] = expandSlop(k)
	}
	return n
}

var (
	idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	// regionPattern is the shape of a region name (the names themselves
	// are enrich.regions', checked when the watchlists are compiled).
	regionPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,31}$`)
	// defaultRegions are the default region names, whose spelling a
	// watchlist's regions take (emea → EMEA) when it is read.
	defaultRegions = region.Names(region.Map(nil))
)

// Validate checks one watchlist; problems name its file.
func (w *Watchlist) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", w.file, fmt.Sprintf(format, args...)))
	}
	if !idPattern.MatchString(w.ID) {
		bad("id %q: use 1 to 64 lower-case letters, digits, - or _", w.ID)
	}
	if w.Version < 1 {
		bad("version %d: must be 1 or more", w.Version)
	}
	for i, r := range w.Regions {
		if !regionPattern.MatchString(r) {
			bad("regions[%d] %q: a region name is a letter and up to 31 more letters, digits, - or _", i, r)
		}
	}
	if !slices.Contains(statuses, w.Status) {
		bad("status %q: want one of %v", w.Status, statuses)
	}
	switch {
	case w.Rule != "" && (len(w.Keywords) > 0 || len(w.Exclude) > 0):
		bad("set rule, or keywords (with exclude), not both")
	case w.Rule == "" && len(w.Keywords) == 0:
		bad("a rule or at least one keyword is needed")
	case len(w.Keywords)+len(w.Exclude) > MaxKeywords:
		bad("%d keywords and exclusions; the limit is %d per watchlist: split it", len(w.Keywords)+len(w.Exclude), MaxKeywords)
	}
	for _, l := range []struct {
		name string
		list []string
	}{{"keywords", w.Keywords}, {"exclude", w.Exclude}} {
		for i, k := range l.list {
			if _, err := listTerm(k); err != nil {
				bad("%s[%d] %q: %v", l.name, i, k, err)
			}
		}
	}
	return errors.Join(errs...)
}

// LoadDir reads every *.yaml and *.yml file (the extension in any case) in
// dir as one watchlist. All
// problems in all files are reported together.
func LoadDir(dir string) ([]*Watchlist, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, errors.Join(strictyaml.ErrInvalid, fmt.Errorf("match.watchlists: reading %s: %w", dir, err))
	}
	var (
		out  []*Watchlist
		errs []error
		ids  = map[string]string{}
	)
	for _, e := range entries {
		if e.IsDir() || !IsWatchlistFile(e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := strictyaml.ReadFile(path)
		if err != nil {
			if !errors.Is(err, strictyaml.ErrInvalid) {
				// an unreadable watchlist file is a configuration problem
				err = errors.Join(strictyaml.ErrInvalid, err)
			}
			errs = append(errs, err)
			continue
		}
		w, err := Parse(path, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := ids[w.ID]; dup {
			errs = append(errs, fmt.Errorf("%w: %s: id %q is already used by %s", strictyaml.ErrInvalid, path, w.ID, prev))
			continue
		}
		ids[w.ID] = path
		out = append(out, w)
	}
	if len(out) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%w: no watchlist files (*.yaml) in %s", strictyaml.ErrInvalid, dir))
	}
	return out, errors.Join(strictyaml.Cap(errs)...)
}

// IsWatchlistFile reports whether a file name is a watchlist's: it ends in
// .yaml or .yml, in any case (c.YAML is one).
func IsWatchlistFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// Parse reads one watchlist file; name labels its messages.
func Parse(name string, data []byte) (*Watchlist, error) {
	w := &Watchlist{Version: 1, Status: "live", file: name, raw: data}
	if err := strictyaml.Decode(name, data, w); err != nil {
		return nil, err
	}
	w.Regions = CanonicalRegions(w.Regions)
	if err := w.Validate(); err != nil {
		return nil, errors.Join(strictyaml.ErrInvalid, err)
	}
	return w, nil
}

// ParseTable reads the watchlists of a published set: id → file contents.
func ParseTable(source string, table map[string][]byte) ([]*Watchlist, error) {
	var out []*Watchlist
	var errs []error
	for id, data := range table {
		w, err := Parse(source+"/"+id, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if w.ID != id {
			errs = append(errs, fmt.Errorf("%s/%s: published under id %q but says id %q", source, id, id, w.ID))
			continue
		}
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b *Watchlist) int { return strings.Compare(a.ID, b.ID) })
	return out, errors.Join(errs...)
}

// CanonicalRegions returns regions with each default region name spelt as
// it is (emea → EMEA), so that scopes compare equal wherever they are
// compared; other names are kept as written.
func CanonicalRegions(regions []string) []string {
	var out []string
	for i, r := range regions {
		if c, ok := region.Canonical(strings.TrimSpace(r), defaultRegions); ok && c != r {
			if out == nil {
				out = slices.Clone(regions)
			}
			out[i] = c
		}
	}
	if out == nil {
		return regions
	}
	return out
}

// Source returns the watchlist's file as it was read.
func (w *Watchlist) Source() []byte { return w.raw }

// MaxKeywords bounds a keywords list, as MaxClauses bounds a rule.
const MaxKeywords = 10_000

// CheckQuota reports each team whose live watchlists hold more than quota
// keywords and filters in all (0 is no quota), so that one team cannot
// crowd a shared cluster. The counts are of what the team wrote.
func CheckQuota(lists []*Watchlist, quota int) error {
	if quota <= 0 {
		return nil
	}
	used := map[string]int{}
	for _, w := range lists {
		if !w.Live() {
			continue
		}
		n := len(w.Keywords) + len(w.Exclude)
		if w.Rule != "" {
			if root, err := parseRule(w.Rule); err == nil {
				n = countClauses(root)
			}
		}
		used[w.Team] += n
	}
	var errs []error
	for team, n := range used {
		if n > quota {
			errs = append(errs, fmt.Errorf("team %q: its live watchlists hold %d keywords and filters, over the quota of %d per team (match.team_quota); pause some or ask an admin to raise it", team, n, quota))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

func countClauses(n *node) int {
	if n.op == opTerm || n.op == opField {
		return 1
	}
	c := 0
	for _, k := range n.kids {
		c += countClauses(k)
	}
	return c
}
