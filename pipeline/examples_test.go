package pipeline

import (
	"slices"
	"testing"

	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/route"
)

// TestExamplesReferToEachOther loads every example together, as `make run`
// (embedded.yaml) and the distributed example do, and checks that what one
// file names another defines: each watchlist's team is a team of org.yaml
// (its gatherers and coaches are scoped by it, and team_quota counts by
// it); each routing rule's watchlists and brands are the example
// watchlists'; each queue a rule sends, copies or escalates to is one of
// org.yaml's queues (with a team to work it).
func TestExamplesReferToEachOther(t *testing.T) {
	for _, file := range []string{"embedded.yaml", "distributed.yaml"} {
		cfg, err := Load(examples(t, file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		org, err := route.LoadOrg(cfg.Route.Org)
		if err != nil {
			t.Fatalf("%s: %s: %v", file, cfg.Route.Org, err)
		}
		policy, err := route.Load(cfg.Route)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		lists, err := match.LoadDir(cfg.Match.Watchlists)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var teams, queues, ids, brands []string
		for _, tm := range org.Teams {
			teams = append(teams, tm.Name)
		}
		for _, q := range org.Queues {
			queues = append(queues, q.Name)
		}
		for _, w := range lists {
			ids, brands = append(ids, w.ID), append(brands, w.Brand)
			if !slices.Contains(teams, w.Team) {
				t.Errorf("%s: watchlist %s: team %q is not a team of %s %v", file, w.ID, w.Team, cfg.Route.Org, teams)
			}
		}
		for _, q := range policy.AllQueues() {
			if !slices.Contains(queues, q) {
				t.Errorf("%s: routing queue %q is not a queue of %s %v", file, q, cfg.Route.Org, queues)
			}
		}
		for _, r := range policy.Rules {
			for _, w := range r.When.Watchlists {
				if !slices.Contains(ids, w) {
					t.Errorf("%s: rule %s: watchlist %q is not an example watchlist %v", file, r.Name, w, ids)
				}
			}
			for _, b := range r.When.Brands {
				if !slices.Contains(brands, b) {
					t.Errorf("%s: rule %s: brand %q is no example watchlist's brand %v", file, r.Name, b, brands)
				}
			}
		}
		if len(lists) == 0 || len(policy.Rules) == 0 || len(teams) == 0 {
			t.Errorf("%s: %d watchlists, %d rules, %d teams: the examples did not load", file, len(lists), len(policy.Rules), len(teams))
		}
	}
}
