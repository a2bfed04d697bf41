package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/earshot-dev/earshot/route"
)

// routeTool is `earshot route validate --policy FILE [--org FILE]`: errors
// (exit 2) and, as warnings, rules that overlap.
func routeTool(args []string, stdout, stderr io.Writer) error {
	if args[0] != "validate" {
		return exitError{2, fmt.Errorf("route: unknown tool %q (route validate --policy FILE [--org FILE])", args[0])}
	}
	fs := flag.NewFlagSet("earshot route validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg route.Config
	fs.StringVar(&cfg.Policy, "policy", "deploy/examples/routing.yaml", "routing policy")
	fs.StringVar(&cfg.Org, "org", "", "organisation (teams, hours, queues)")
	if err := fs.Parse(args[1:]); err != nil {
		return exitError{2, err}
	}
	if cfg.Policy == "" {
		return exitError{2, errors.New("route validate: --policy is needed")}
	}
	p, err := route.Load(cfg)
	if err != nil {
		return err
	}
	for _, o := range p.Overlaps() {
		fmt.Fprintln(stdout, "warning:", o)
	}
	fmt.Fprintf(stdout, "%s: %d rules, queues %v: ok\n", cfg.Policy, len(p.Rules), p.AllQueues())
	return nil
}
