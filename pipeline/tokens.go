package pipeline

import (
	"fmt"
	"io"

	"github.com/earshot-dev/earshot/api"
	"github.com/earshot-dev/earshot/route"
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
		// A new token's markets are checked against the org file's; with
		// --tokens and --state-dir the configuration, and so the org file,
		// is not read, and they are taken as given (with a warning).
		if sub == "create" && cfg.Route.Org != "" {
			org, err := route.LoadOrg(cfg.Route.Org)
			if err != nil {
				return fmt.Errorf("the org file, which names the markets: %w", err)
			}
			a.Org = cfg.Route.Org
			for _, m := range org.Markets {
				a.OrgMarkets = append(a.OrgMarkets, m.Name)
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
		return a.List(stdout)
	case "revoke":
		return a.Revoke(args[0], stdout)
	}
	return a.Create(f.Req, stdout, stderr)
}
