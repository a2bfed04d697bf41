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
	all, err := a.entries()
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(a.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []Meta{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer root.Close()
	out := []Meta{}
	for _, e := range all {
		if slugs != nil && !slices.Contains(slugs, e.slug) {
			continue
		}
		if m, ok := readMeta(root, e); ok {
			out = append(out, m)
		}
	}
	return out, nil
}

// ErrBadPosition: a position that Page did not give out.
var ErrBadPosition = errors.New("not a position in the digest archive")

// Page returns, in List's order (newest period first, then by slug), up to
// limit digests after the position after ("" for the start) for which keep
// is true, and the position to go on from ("" when nothing is left).
//
// It lists the directories (names only) and reads the meta.json of the
// digests it passes on the way, and of no others: at most scan of them,
// so a caller whose scope keeps few digests gets a short (even empty)
// page with a position to go on from rather than a read of the whole
// archive. A position is "<period>/<slug>", a place in the order, not an
// offset: digests archived between two pages (always newer) do not shift
// the next page.
func (a Archive) Page(after string, limit, scan int, keep func(Meta) bool) (items []Meta, next string, err error) {
	limit, scan = max(limit, 1), max(scan, 1)
	var from entry
	if after != "" {
		period, slug, ok := strings.Cut(after, "/")
		if !ok || !periodRE.MatchString(period) || !slugRE.MatchString(slug) {
			return nil, "", fmt.Errorf("%.80q: %w", after, ErrBadPosition)
		}
		from = entry{slug: slug, period: period}
	}
	all, err := a.entries()
	if err != nil {
		return nil, "", err
	}
	i := 0
	if after != "" {
		i, _ = slices.BinarySearchFunc(all, from, compareEntries)
		if i < len(all) && all[i] == from {
			i++
		}
	}
	root, err := os.OpenRoot(a.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []Meta{}, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	defer root.Close()
	items = []Meta{}
	for read := 0; i < len(all) && len(items) < limit && read < scan; i, read = i+1, read+1 {
		if m, ok := readMeta(root, all[i]); ok && keep(m) {
			items = append(items, m)
		}
	}
	if i < len(all) {
		next = all[i-1].period + "/" + all[i-1].slug
	}
	return items, next, nil
}

// Meta returns the meta.json of one archived digest; fs.ErrNotExist when
// there is none (or it does not parse: a render cut short).
func (a Archive) Meta(slug, period string) (Meta, error) {
	if !slugRE.MatchString(slug) || !periodRE.MatchString(period) {
		return Meta{}, fs.ErrNotExist
	}
	root, err := os.OpenRoot(a.Dir)
	if err != nil {
		return Meta{}, err
	}
	defer root.Close()
	m, ok := readMeta(root, entry{slug: slug, period: period})
	if !ok {
		return Meta{}, fmt.Errorf("digest %s %s: %w", slug, period, fs.ErrNotExist)
	}
	return m, nil
}

// entry is one digest's directory: <slug>/<period>.
type entry struct{ slug, period string }

// compareEntries is List's order: newest period first (period IDs sort by
// time), then by slug.
func compareEntries(x, y entry) int {
	if c := strings.Compare(y.period, x.period); c != 0 {
		return c
	}
	return strings.Compare(x.slug, y.slug)
}

// entries lists the digests' directories, sorted by compareEntries,
// reading directory names only. A slug that is a symbolic link is not a
// directory here; a period that is one is refused by os.Root when read.
func (a Archive) entries() ([]entry, error) {
	dirs, err := os.ReadDir(a.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []entry
	for _, d := range dirs {
		if !d.IsDir() || !slugRE.MatchString(d.Name()) {
			continue
		}
		periods, err := os.ReadDir(filepath.Join(a.Dir, d.Name()))
		if err != nil {
			return nil, err
		}
		for _, p := range periods {
			if periodRE.MatchString(p.Name()) {
				out = append(out, entry{slug: d.Name(), period: p.Name()})
			}
		}
	}
	slices.SortFunc(out, compareEntries)
	return out, nil
}

// readMeta reads and parses a digest's meta.json through root; false when
// it is missing or damaged (left out, like a render cut short).
func readMeta(root *os.Root, e entry) (Meta, bool) {
	b, err := readIn(root, filepath.Join(e.slug, e.period, FileMeta))
	if err != nil {
		return Meta{}, false
	}
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return Meta{}, false
	}
	return m, true
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
