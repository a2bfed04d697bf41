package pipeline

import (
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/earshot-dev/earshot/api"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/region"
	"github.com/earshot-dev/earshot/route"
	"github.com/earshot-dev/earshot/watchlist"
)

// TokenFlags are the flags of `earshot token create|list|revoke`.
type TokenFlags struct {
	Config, Tokens, StateDir, By string // the config file; the tokens file and state directory overriding it
	Req                          api.TokenRequest
}

// TokenCommand runs `earshot token create|list|revoke` (sub) on the
// tokens of the configuration's API, or of the files the flags name. A bad
// request is api.ErrTokenRequest.
func TokenCommand(sub string, args []string, f TokenFlags, stdout, stderr io.Writer) error {
	a := api.TokenAdmin{Config: api.DefaultConfig(), By: f.By}
	if f.Tokens == "" || f.StateDir == "" {
		cfg, err := Load(f.Config)
		if err != nil {
			return err
		}
		a.Config = cfg.API
		// A new token's teams, regions and markets are checked against
		// the organisation's, and token list warns of stored ones it does
		// not know; with --tokens and --state-dir the configuration, and
		// so the org file, is not read, and they are taken as given (with
		// a warning).
		if sub == "create" || sub == "list" {
			if a.Names, err = ScopeNames(cfg); err != nil && sub == "create" {
				return err
			} else if err != nil {
				fmt.Fprintf(stderr, "warning: the scopes of the tokens are not checked: %v\n", err)
			}
		}
	}
	if f.StateDir != "" {
		a.Config.StateDir = f.StateDir
	}
	if f.Tokens != "" {
		a.Config.TokensFile = f.Tokens
	}
	switch sub {
	case "list":
		return a.List(stdout, stderr)
	case "revoke":
		return a.Revoke(args[0], stdout)
	}
	return a.Create(f.Req, stdout, stderr)
}

// ScopeNames are the names a token's or OIDC identity's scope may use:
// the regions of enrich.regions and, with an org file (none known
// without one), its markets and teams with those the watchlists name
// (match.watchlists and the live set of match.store: a match carries its
// watchlist's team).
func ScopeNames(cfg Config) (api.ScopeNames, error) {
	regions := region.Map(cfg.Enrich.Regions)
	n := api.ScopeNames{Regions: region.Names(regions)}
	if cfg.Route.Org == "" {
		return n, nil
	}
	org, err := route.LoadOrgIn(cfg.Route.Org, regions)
	if err != nil {
		return n, fmt.Errorf("the org file, which names the teams and markets of a scope: %w", err)
	}
	teams, err := cfg.watchlistTeams()
	if err != nil {
		return n, fmt.Errorf("the watchlists, which name teams of a scope: %w", err)
	}
	if cfg.Match.Store != "" {
		live := watchlist.DefaultLiveDir(cfg.Match.Store)
		if _, err := os.Stat(live); err == nil {
			ws, err := match.LoadDir(live)
			if err != nil {
				return n, fmt.Errorf("the live watchlists of match.store, which name teams of a scope: %w", err)
			}
			for _, w := range ws {
				teams = append(teams, w.Team)
			}
		}
	}
	for _, t := range org.Teams {
		teams = append(teams, t.Name)
	}
	n.Org, n.Teams, n.Markets = cfg.Route.Org, []string{}, []string{}
	for _, t := range teams {
		if t != "" && !slices.Contains(n.Teams, t) {
			n.Teams = append(n.Teams, t)
		}
	}
	for _, m := range org.Markets {
		n.Markets = append(n.Markets, m.Name)
	}
	return n, nil
}
