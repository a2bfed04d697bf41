package api

import (
	"encoding/base64"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/earshot-dev/earshot/digest"
)

// DigestArchive lists and opens the rendered stakeholder digests
// (docs/digests.md); digest.Archive is one.
type DigestArchive interface {
	// Page is a page of the archive, newest first, of the digests keep
	// keeps, reading at most scan of them (digest.Archive.Page).
	Page(after string, limit, scan int, keep func(digest.Meta) bool) (items []digest.Meta, next string, err error)
	Meta(slug, period string) (digest.Meta, error)
	Open(slug, period, file string) ([]byte, error)
}

// digestScan bounds the digests one GET /v1/digests reads: a caller whose
// scope keeps few of them gets a short page and a cursor, not a read of
// the whole archive (200 digests × a year of periods is 73,200 files).
const digestScan = 1000

var (
	digestSlug   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	digestPeriod = regexp.MustCompile(`^\d{8}T\d{4}Z$`)
	digestFile   = regexp.MustCompile(`^[a-z_]+\.(html|txt|pdf|png|csv|json)$`)
)

// digestTypes are the content types of a digest's files.
var digestTypes = map[string]string{".html": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8", ".pdf": "application/pdf",
	".png": "image/png", ".csv": "text/csv; charset=utf-8", ".json": "application/json"}

// sees reports whether a caller of scope s may read a digest of scope d:
// everything the digest covers must be inside the caller's scope. A
// caller scoped to teams sees the digests scoped to some of its teams, one
// scoped to regions those scoped to some of its regions, one scoped to
// markets those scoped to some of its markets (compared without regard to
// case, as everywhere markets are); a caller scoped to brands sees none (a
// digest's scope names no brands).
func (s Scope) sees(d digest.Scope) bool {
	within := func(mine, theirs []string, eq func(a, b string) bool) bool {
		if len(mine) == 0 {
			return true
		}
		if len(theirs) == 0 {
			return false
		}
		for _, t := range theirs {
			if !slices.ContainsFunc(mine, func(m string) bool { return eq(m, t) }) {
				return false
			}
		}
		return true
	}
	exact := func(a, b string) bool { return a == b }
	return len(s.Brands) == 0 && within(s.Teams, d.Teams, exact) && within(s.Regions, d.Regions, exact) &&
		within(s.Markets, d.Markets, strings.EqualFold)
}

// listDigests is GET /v1/digests: the archived digests the caller's scope
// covers, newest first, a page at a time (?limit=, ?cursor=). The cursor
// is a place in the archive's order, not an offset (digests archived
// between two pages do not shift the next), opaque like the other lists'.
func (s *Server) listDigests(c *call) error {
	if s.d.Digests == nil {
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "digests are not served by this process")
	}
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	after := ""
	if v := c.r.URL.Query().Get("cursor"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || !strings.HasPrefix(string(b), "d:") {
			return badDigestCursor(v)
		}
		after = string(b[2:])
	}
	items, next, err := s.d.Digests.Page(after, limit, digestScan, func(m digest.Meta) bool { return c.id.Scope.sees(m.Scope) })
	if errors.Is(err, digest.ErrBadPosition) {
		return badDigestCursor(c.r.URL.Query().Get("cursor"))
	}
	if err != nil {
		return err
	}
	for i := range items {
		items[i].Sources = nil // the query parameters are for the files, not the list
	}
	p := Page[digest.Meta]{Items: items}
	if next != "" {
		p.NextCursor = base64.RawURLEncoding.EncodeToString([]byte("d:" + next))
	}
	return c.json(http.StatusOK, p)
}

func badDigestCursor(v string) error {
	return errorf(http.StatusBadRequest, CodeBadRequest, "cursor %q is not one this API gave out", truncate(v, 40))
}

// getDigestFile is GET /v1/digests/{slug}/{period}/{file}: one file of an
// archived digest (the page, the PDF, a CSV…), if the caller's scope
// covers the digest. The page is served with a policy that lets it load
// nothing and run nothing.
func (s *Server) getDigestFile(c *call) error {
	if s.d.Digests == nil {
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "digests are not served by this process")
	}
	slug, err := pathID(c, "slug", digestSlug)
	if err != nil {
		return err
	}
	period, err := pathID(c, "period", digestPeriod)
	if err != nil {
		return err
	}
	file, err := pathID(c, "file", digestFile)
	if err != nil {
		return err
	}
	m, err := s.d.Digests.Meta(slug, period)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err != nil || !c.id.Scope.sees(m.Scope) {
		return errorf(http.StatusNotFound, CodeNotFound, "no digest %s for the period ending %s", slug, period)
	}
	b, err := s.d.Digests.Open(slug, period, file)
	if errors.Is(err, fs.ErrNotExist) {
		return errorf(http.StatusNotFound, CodeNotFound, "digest %s %s has no file %s", slug, period, file)
	}
	if err != nil {
		return err
	}
	h := c.w.Header()
	h.Set("Content-Type", digestTypes[path.Ext(file)])
	h.Set("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	if path.Ext(file) != ".html" {
		h.Set("Content-Disposition", `attachment; filename="`+slug+"-"+period+"-"+file+`"`)
	}
	c.w.WriteHeader(http.StatusOK)
	_, err = c.w.Write(b)
	return err
}
