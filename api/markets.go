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
// action on it; both stores of earshot are.
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

func (c *CHAlerts) alertMarket(ctx context.Context, queue, id string) (string, error) {
	r, ok, err := c.Table.Find(ctx, queue, id)
	switch {
	case err != nil:
		return "", err
	case !ok:
		return "", ErrAlertNotFound
	}
	return r.Market, nil
}

// checkAlertMarket answers 404 for an alert of a market outside the
// caller's scope, as for one not on the queue, before anything is done to
// it. A store that cannot tell refuses every market-scoped caller.
func (s *Server) checkAlertMarket(c *call, st AlertStore, queue, id string) error {
	if len(c.id.Scope.Markets) == 0 {
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
