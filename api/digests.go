package api

import (
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
	List(slugs []string) ([]digest.Meta, error)
	Open(slug, period, file string) ([]byte, error)
}

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
// covers, newest first.
func (s *Server) listDigests(c *call) error {
	if s.d.Digests == nil {
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "digests are not served by this process")
	}
	all, err := s.d.Digests.List(nil)
	if err != nil {
		return err
	}
	items := []digest.Meta{}
	for _, m := range all {
		if c.id.Scope.sees(m.Scope) {
			m.Sources = nil // the query parameters are for the files, not the list
			items = append(items, m)
		}
	}
	return c.json(http.StatusOK, map[string]any{"items": items})
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
	ms, err := s.d.Digests.List([]string{slug})
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ms, func(m digest.Meta) bool { return m.Period == period })
	if i < 0 || !c.id.Scope.sees(ms[i].Scope) {
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
