package digest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/internal/durable"
)

// Meta describes one rendered digest (meta.json of its directory).
type Meta struct {
	Name      string    `json:"name"`
	Slug      string    `json:"slug"`
	Period    string    `json:"period"` // PeriodID of Until
	Since     time.Time `json:"since"`
	Until     time.Time `json:"until"`
	Timezone  string    `json:"timezone"`
	Generated time.Time `json:"generated"`
	Subject   string    `json:"subject"`
	Scope     Scope     `json:"scope"`
	Mentions  int64     `json:"mentions"`
	Files     []string  `json:"files"`
	Sources   []Source  `json:"sources"`
}

// Files of a rendered digest.
const (
	FileHTML = "digest.html"
	FileText = "digest.txt"
	FilePDF  = "digest.pdf"
	FileMeta = "meta.json"
)

// WriteDir writes a rendered digest into dir (created if needed): the
// HTML page, the text, the chart, the CSVs, the PDF when given, and
// meta.json last, each file durably, so a directory with meta.json is whole.
func WriteDir(dir string, r *Report, loc *time.Location, out *Rendered, pdf []byte) (Meta, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Meta{}, err
	}
	files := map[string][]byte{FileHTML: []byte(out.HTML), FileText: []byte(out.Text)}
	if out.Chart != nil {
		files[ChartCID] = out.Chart
	}
	if pdf != nil {
		files[FilePDF] = pdf
	}
	for name, b := range out.CSV {
		files[name] = b
	}
	m := Meta{Name: r.Name, Slug: r.Slug, Period: PeriodID(r.Until), Since: r.Since.UTC(), Until: r.Until.UTC(), Timezone: loc.String(),
		Generated: r.Generated.UTC(), Subject: out.Subject, Scope: r.Scope, Mentions: r.This.Mentions, Sources: r.Sources}
	for name, b := range files {
		if err := durable.WriteFile(filepath.Join(dir, name), b, 0o640); err != nil {
			return m, err
		}
		m.Files = append(m.Files, name)
	}
	slices.Sort(m.Files)
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	return m, durable.WriteFile(filepath.Join(dir, FileMeta), append(b, '\n'), 0o640)
}

// Archive is the rendered digests kept under a directory, one
// <slug>/<period>/ directory each (api.state_dir/digests).
type Archive struct{ Dir string }

// Path is the directory of a digest's period.
func (a Archive) Path(slug, period string) string { return filepath.Join(a.Dir, slug, period) }

var (
	slugRE   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	periodRE = regexp.MustCompile(`^\d{8}T\d{4}Z$`)
	fileRE   = regexp.MustCompile(`^[a-z_]+\.(html|txt|pdf|png|csv|json)$`)
)

// List returns the archived digests, newest period first; slugs, when
// given, keeps only those digests. A directory without meta.json (a render
// cut short), or whose meta.json does not parse, is left out.
func (a Archive) List(slugs []string) ([]Meta, error) {
	dirs, err := os.ReadDir(a.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []Meta{}, nil
	}
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(a.Dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	out := []Meta{}
	for _, d := range dirs {
		if !d.IsDir() || !slugRE.MatchString(d.Name()) || (slugs != nil && !slices.Contains(slugs, d.Name())) {
			continue
		}
		periods, err := os.ReadDir(filepath.Join(a.Dir, d.Name()))
		if err != nil {
			return nil, err
		}
		for _, p := range periods {
			if !periodRE.MatchString(p.Name()) {
				continue
			}
			b, err := readIn(root, filepath.Join(d.Name(), p.Name(), FileMeta))
			if err != nil {
				continue
			}
			var m Meta
			if err := json.Unmarshal(b, &m); err != nil {
				continue // damaged: left out like a render cut short, not failing every digest's list
			}
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(x, y Meta) int {
		if c := y.Until.Compare(x.Until); c != 0 {
			return c
		}
		return strings.Compare(x.Slug, y.Slug)
	})
	return out, nil
}

// Prune removes all but the newest keep periods of a digest.
func (a Archive) Prune(slug string, keep int) error {
	if !slugRE.MatchString(slug) || keep < 1 {
		return fmt.Errorf("prune %q keeping %d: bad arguments", slug, keep)
	}
	entries, err := os.ReadDir(filepath.Join(a.Dir, slug))
	if err != nil {
		return err
	}
	var periods []string
	for _, e := range entries {
		if e.IsDir() && periodRE.MatchString(e.Name()) {
			periods = append(periods, e.Name())
		}
	}
	slices.Sort(periods) // period IDs sort by time
	var errs []error
	for _, p := range periods[:max(0, len(periods)-keep)] {
		errs = append(errs, os.RemoveAll(filepath.Join(a.Dir, slug, p)))
	}
	return errors.Join(errs...)
}

// Open returns one file of an archived digest, checking every part of the
// path so a request cannot leave the archive, nor a symbolic link in it
// (a link out is not followed: fs.ErrNotExist).
func (a Archive) Open(slug, period, file string) ([]byte, error) {
	if !slugRE.MatchString(slug) || !periodRE.MatchString(period) || !fileRE.MatchString(file) {
		return nil, fs.ErrNotExist
	}
	return a.readFile(filepath.Join(slug, period, file))
}

// readFile reads a file of the archive by its path inside it, never out of
// the archive's directory, whatever links are in it.
func (a Archive) readFile(name string) ([]byte, error) {
	root, err := os.OpenRoot(a.Dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return readIn(root, name)
}

// readIn reads a file by its path inside root.
func readIn(root *os.Root, name string) ([]byte, error) {
	b, err := root.ReadFile(name)
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Err.Error() == "path escapes from parent" { // os.Root's error, not exported
		return nil, fmt.Errorf("%s: %w (a link out of the archive)", name, fs.ErrNotExist)
	}
	return b, err
}
