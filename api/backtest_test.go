package api

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/backtest"
	"github.com/earshot-dev/earshot/watchlist"
)

type overlapBacktester []string

func (o overlapBacktester) Backtest(_ context.Context, spec watchlist.Spec, _ time.Duration) (any, error) {
	r := &backtest.Report{Watchlist: spec.ID}
	for _, id := range o {
		r.Overlap = append(r.Overlap, backtest.Overlap{Watchlist: id, Both: 1})
	}
	return r, nil
}

// A backtest's overlap names only the live watchlists the caller may see:
// another team's watchlist is never named to them, as everywhere else.
func TestBacktestOverlapIsScoped(t *testing.T) {
	e := newEnv(t, func(_ *Config, d *Deps) {
		d.Backtester = overlapBacktester{"acme-gr", "apac-list", "global-brand", "gr-global", "from-a-directory"}
	})
	spec := `{"since":"7d","spec":{"id":"d","team":"greece","keywords":["x"]}}`
	for _, c := range []struct {
		caller string
		want   []string
	}{
		{"gatherer-gr", []string{"acme-gr", "gr-global"}},
		{"admin", []string{"acme-gr", "apac-list", "global-brand", "gr-global", "from-a-directory"}},
	} {
		r := e.do(c.caller, "POST", "/v1/watchlists/backtest", spec)
		var rep backtest.Report
		if r.code != 200 || json.Unmarshal(r.body, &rep) != nil {
			t.Fatalf("%s: %d %s", c.caller, r.code, r.body)
		}
		var got []string
		for _, o := range rep.Overlap {
			got = append(got, o.Watchlist)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: overlap names %v, want %v", c.caller, got, c.want)
		}
	}
}
