package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/insights"
	"github.com/earshot-dev/earshot/insights/themes"
)

// Themes finds what people talk about in a scope and period;
// themes.Bound (a ClickHouse reader with its options) is one.
type Themes interface {
	Find(ctx context.Context, sc themes.Scope, from, to time.Time, limit int) (*themes.Result, error)
}

// ThemesAnswer is the answer of GET /v1/insights/themes.
type ThemesAnswer struct {
	*themes.Result
	From  time.Time    `json:"from"`
	To    time.Time    `json:"to"`
	Scope themes.Scope `json:"scope"`
}

// maxThemeScope bounds each list parameter of a themes request.
const maxThemeScope = 50

// findThemes answers GET /v1/insights/themes?watchlist=…&team=…&region=…
// &market=…&since=7d&until=now&limit=10. A caller scoped to teams or
// brands sees the themes of their watchlists only (all of them when none
// is named; a watchlist of another team is not found), one scoped to
// regions those of their regions, one scoped to markets those of their
// markets (another market is not found).
func (s *Server) findThemes(c *call) error {
	if s.d.Themes == nil {
		return errorf(http.StatusServiceUnavailable, CodeNotConfigured, "themes need ClickHouse, which is not configured")
	}
	q := c.r.URL.Query()
	for k := range q {
		switch k {
		case "watchlist", "team", "region", "market", "since", "until", "limit":
		default:
			return errorf(http.StatusBadRequest, CodeBadRequest, "unknown parameter %q: want watchlist, team, region, market, since, until, limit", truncate(k, 40))
		}
	}
	sc := themes.Scope{Watchlists: q["watchlist"], Teams: q["team"], Regions: q["region"], Markets: q["market"]}
	// An empty region or market asks for every one: for a caller scoped
	// to regions or markets that is out of scope, said as the cookbook
	// queries say it (not a bad request about a region called "").
	if own := c.id.Scope; len(own.Regions) > 0 && slices.Contains(sc.Regions, "") {
		return errorf(http.StatusForbidden, CodeOutOfScope, "themes without a region span every region; your token is scoped to %v: give one of them as the region parameter, or none for all of yours", own.Regions)
	} else if len(own.Markets) > 0 && slices.Contains(sc.Markets, "") {
		return errorf(http.StatusForbidden, CodeOutOfScope, "themes without a market span every market; your token is scoped to %v: give one of them as the market parameter, or none for all of yours", own.Markets)
	}
	for _, l := range [][]string{sc.Watchlists, sc.Teams, sc.Regions, sc.Markets} {
		if len(l) > maxThemeScope {
			return errorf(http.StatusBadRequest, CodeBadRequest, "at most %d values of each of watchlist, team, region and market", maxThemeScope)
		}
		for _, v := range l {
			if v == "" || len(v) > 200 {
				return errorf(http.StatusBadRequest, CodeBadRequest, "an empty or over-long watchlist, team, region or market")
			}
		}
	}
	now := s.now()
	when := func(name, def string) (time.Time, error) {
		v := q.Get(name)
		if v == "" {
			v = def
		}
		t, err := insights.ParseDatetime(v, now)
		if err != nil {
			return t, errorf(http.StatusBadRequest, CodeBadRequest, "%s: %v", name, err)
		}
		return t, nil
	}
	from, err := when("since", "7d")
	if err != nil {
		return err
	}
	to, err := when("until", "now")
	if err != nil {
		return err
	}
	limit := 10
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > themes.MaxLimit {
			return errorf(http.StatusBadRequest, CodeBadRequest, "limit: %q, want 1 to %d", truncate(v, 20), themes.MaxLimit)
		}
	}
	if sc, err = s.scopeThemes(c.id, sc); err != nil {
		return err
	}
	var res *themes.Result
	err = s.heavy(c, s.queryTimeout, func(ctx context.Context) (err error) {
		res, err = s.d.Themes.Find(ctx, sc, from, to, limit)
		return err
	})
	if errors.Is(err, themes.ErrInvalid) {
		return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: "bad parameters", Details: strings.Split(err.Error(), "\n")}
	}
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, ThemesAnswer{Result: res, From: from, To: to, Scope: sc})
}

// scopeThemes narrows a themes request to what the caller may see.
func (s *Server) scopeThemes(id Identity, sc themes.Scope) (themes.Scope, error) {
	own := id.Scope
	if own.Unscoped() {
		return sc, nil
	}
	if len(own.Teams)+len(own.Brands) > 0 {
		visible, any := s.searchScope(Identity{Scope: Scope{Teams: own.Teams, Brands: own.Brands}})
		if !any || visible == nil || len(visible.Watchlists) == 0 {
			return sc, errorf(http.StatusNotFound, CodeNotFound, "your token (%s) sees no watchlist", own)
		}
		for _, wl := range sc.Watchlists {
			if !slices.Contains(visible.Watchlists, wl) {
				return sc, errorf(http.StatusNotFound, CodeNotFound, "watchlist %q not found", truncate(wl, 80))
			}
		}
		if len(sc.Watchlists) == 0 {
			sc.Watchlists = slices.Clone(visible.Watchlists)
		}
	}
	if len(own.Regions) > 0 {
		for _, r := range sc.Regions {
			if !slices.Contains(own.Regions, r) {
				return sc, errorf(http.StatusNotFound, CodeNotFound, "region %q not found", truncate(r, 40))
			}
		}
		if len(sc.Regions) == 0 {
			sc.Regions = slices.Clone(own.Regions)
		}
	}
	if len(own.Markets) > 0 {
		// Markets compare without regard to case (Scope.seesMarket); the
		// caller's own spelling (the org file's) is what the column holds.
		for i, m := range sc.Markets {
			j := slices.IndexFunc(own.Markets, func(o string) bool { return strings.EqualFold(o, m) })
			if j < 0 {
				return sc, errorf(http.StatusNotFound, CodeNotFound, "market %q not found", truncate(m, 40))
			}
			sc.Markets[i] = own.Markets[j]
		}
		if len(sc.Markets) == 0 {
			sc.Markets = slices.Clone(own.Markets)
		}
	}
	return sc, nil
}
