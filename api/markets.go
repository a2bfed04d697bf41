package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
)

// Markets in the API: a caller scoped to markets (Scope.Markets, a market
// team's token) sees the alerts, posts and search results of those
// markets only, on every queue they may see; an alert of another market,
// or of none, is not found, to list, to follow, or to act on.

// alertMarketer is a store that can tell an alert's market before an
// action on it (the in-memory one; CHAlerts checks on its own read).
type alertMarketer interface {
	alertMarket(ctx context.Context, queue, id string) (string, error)
}

func (m *MemAlerts) alertMarket(_ context.Context, queue, id string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.queues[queue]
	if q == nil || q.byID[id] == nil {
		return "", ErrAlertNotFound
	}
	return q.byID[id].Market, nil
}

// marketCheckingStore is a store whose actions read the alert anyway
// (CHAlerts: one query on ClickHouse): it refuses an alert of a market
// outside the scope its context carries (withMarkets) as not found, on
// that read, before anything is written — rather than the handler reading
// the alert once more beforehand (a second FindDesk, about 10 ms of the
// server's CPU per action).
type marketCheckingStore interface {
	checksMarketOnRead()
}

func (c *CHAlerts) checksMarketOnRead() {}

type marketScopeKey struct{}

// withMarkets carries a market-scoped caller's scope to the store's read.
func withMarkets(ctx context.Context, sc Scope) context.Context {
	return context.WithValue(ctx, marketScopeKey{}, sc)
}

// marketHidden tells whether the caller whose scope ctx carries may not
// see an alert of market; a context without one hides nothing.
func marketHidden(ctx context.Context, market string) bool {
	sc, ok := ctx.Value(marketScopeKey{}).(Scope)
	return ok && !sc.seesMarket(market)
}

// checkAlertMarket answers 404 for an alert of a market outside the
// caller's scope, as for one not on the queue, before anything is done to
// it. A store that checks on its own read (marketCheckingStore) is handed
// the caller's scope in the request's context instead, and answers
// ErrAlertNotFound (404) from that read. A store that cannot tell refuses
// every market-scoped caller.
func (s *Server) checkAlertMarket(c *call, st AlertStore, queue, id string) error {
	if len(c.id.Scope.Markets) == 0 {
		return nil
	}
	if _, ok := st.(marketCheckingStore); ok {
		c.r = c.r.WithContext(withMarkets(c.r.Context(), c.id.Scope))
		return nil
	}
	notFound := errorf(http.StatusNotFound, CodeNotFound, "alert %q not found on queue %q", id, queue)
	am, ok := st.(alertMarketer)
	if !ok {
		return notFound
	}
	market, err := am.alertMarket(c.r.Context(), queue, id)
	switch {
	case errors.Is(err, ErrAlertNotFound):
		return notFound
	case err != nil:
		return err
	case !c.id.Scope.seesMarket(market):
		return notFound
	}
	return nil
}

// inMarkets is the alerts of items the caller's market scope allows.
func inMarkets(id Identity, items []Alert) []Alert {
	if len(id.Scope.Markets) == 0 {
		return items
	}
	return slices.DeleteFunc(items, func(a Alert) bool { return !id.Scope.seesMarket(a.Market) })
}
