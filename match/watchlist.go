// Package match finds, in one pass over each post, every keyword of every
// watchlist, and decides which watchlists the post matches.
package match

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/earshot-dev/earshot/strictyaml"
)

// Config says where the watchlists are.
type Config struct {
	Watchlists string `yaml:"watchlists"` // a directory of *.yaml files, one watchlist each
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	if c.Watchlists == "" {
		return errors.New("match.watchlists: a directory of watchlist files is required")
	}
	return nil
}

// Watchlist is a named set of keywords a team listens for. A post matches
// when it contains any keyword and no excluded term.
type Watchlist struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name"`
	Team     string   `yaml:"team"`
	Brand    string   `yaml:"brand"`
	Version  int      `yaml:"version"`
	Keywords []string `yaml:"keywords"`
	Exclude  []string `yaml:"exclude"`

	file string
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

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
	if len(w.Keywords) == 0 {
		bad("keywords: at least one is needed")
	}
	for _, k := range append(slices.Clone(w.Keywords), w.Exclude...) {
		if strings.TrimSpace(string(normalize(nil, k))) == "" {
			bad("keyword %q has no letters or digits and could never match", k)
		}
	}
	return errors.Join(errs...)
}

// LoadDir reads every *.yaml and *.yml file in dir as one watchlist. All
// problems in all files are reported together.
func LoadDir(dir string) ([]*Watchlist, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading watchlists: %w", err)
	}
	var (
		out  []*Watchlist
		errs []error
		ids  = map[string]string{}
	)
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		w := &Watchlist{Version: 1, file: path}
		if err := strictyaml.File(path, w); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := w.Validate(); err != nil {
			errs = append(errs, errors.Join(strictyaml.ErrInvalid, err))
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
	return out, errors.Join(errs...)
}
