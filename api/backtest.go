package api

import (
	"context"
	"time"

	"github.com/earshot-dev/earshot/backtest"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/search"
	"github.com/earshot-dev/earshot/watchlist"
)

// IndexBacktester backtests a draft over the search index, beside the
// store's live set (for the overlap).
type IndexBacktester struct {
	Index   func() *search.Index // nil result: no index (yet)
	Live    func() ([]*match.Watchlist, error)
	Regions map[string]string // country → region, as the matcher has it
	Markets map[string]string // country → market (org.yaml markets), as the matcher has it
}

// MarketBacktester is a Backtester that can narrow a backtest to the posts
// of some markets, for a market-scoped caller; IndexBacktester is one. A
// market-scoped caller's backtest on a Backtester that is not one is
// refused.
type MarketBacktester interface {
	BacktestMarkets(ctx context.Context, spec watchlist.Spec, since time.Duration, markets []string) (any, error)
}

// Backtest implements Backtester.
func (b IndexBacktester) Backtest(ctx context.Context, spec watchlist.Spec, since time.Duration) (any, error) {
	return b.BacktestMarkets(ctx, spec, since, nil)
}

// BacktestMarkets implements MarketBacktester: the draft is tried on the
// posts of markets only (all posts when markets is empty).
func (b IndexBacktester) BacktestMarkets(ctx context.Context, spec watchlist.Spec, since time.Duration, markets []string) (any, error) {
	x := b.Index()
	if x == nil {
		return nil, errorf(503, CodeNotConfigured, "the search index is not open in this process")
	}
	draft := &match.Watchlist{ID: spec.ID, Name: spec.Name, Team: spec.Team, Brand: spec.Brand, Regions: spec.Regions, Tags: spec.Tags,
		Priority: spec.Priority, Status: "live", Version: 1, Rule: spec.Rule, Keywords: spec.Keywords, Exclude: spec.Exclude}
	if err := draft.Validate(); err != nil {
		return nil, &watchlist.InvalidError{Err: err}
	}
	var live []*match.Watchlist
	if b.Live != nil {
		var err error
		if live, err = b.Live(); err != nil {
			return nil, err
		}
	}
	return backtest.Run(ctx, x, draft, live, backtest.Options{Since: since, Regions: b.Regions, Markets: b.Markets, Only: markets})
}
