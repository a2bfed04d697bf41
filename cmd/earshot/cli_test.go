package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// walk calls fn with the arguments that name every command of the tree,
// hidden ones (cobra's __complete) left out.
func walk(c *cobra.Command, path []string, fn func(path []string, c *cobra.Command)) {
	for _, s := range c.Commands() {
		if s.Hidden {
			continue
		}
		p := append(append([]string{}, path...), s.Name())
		fn(p, s)
		walk(s, p, fn)
	}
}

// TestEveryCommandHelpAndMisuse walks every subcommand: -h prints its
// usage on stdout and exits 0; an unknown flag exits 2 before anything
// runs; a command that needs positional arguments exits 2 without them.
func TestEveryCommandHelpAndMisuse(t *testing.T) {
	n := 0
	walk(newRoot(&bytes.Buffer{}, &bytes.Buffer{}), nil, func(path []string, c *cobra.Command) {
		n++
		name := strings.Join(path, " ")
		var stdout, stderr bytes.Buffer
		err := run(append(path, "-h"), &stdout, &stderr)
		if exitCode(err) != 0 || !strings.Contains(stdout.String(), "Usage:") || !strings.Contains(stdout.String(), "earshot "+name) {
			t.Errorf("earshot %s -h: exit %d (%v), stdout %q", name, exitCode(err), err, stdout.String())
		}
		if err := run(append(path, "--no-such-flag"), &stdout, &stderr); exitCode(err) != 2 || !strings.Contains(err.Error(), "no-such-flag") {
			t.Errorf("earshot %s --no-such-flag: exit %d (%v), want 2", name, exitCode(err), err)
		}
		if c.Args != nil && c.Args(c, nil) != nil {
			if err := run(path, &stdout, &stderr); exitCode(err) != 2 {
				t.Errorf("earshot %s without its arguments: exit %d (%v), want 2", name, exitCode(err), err)
			}
		}
	})
	if n < 40 {
		t.Errorf("walked %d commands; the tree has more", n)
	}
}

// TestUsageListsEveryCommand: the generated usage names every command,
// the ones the hand-written usage had left out among them.
func TestUsageListsEveryCommand(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"-h"}, []string{"eval", "route", "watchlist", "ingest", "completion", "search", "insights", "token"}},
		{[]string{"route", "-h"}, []string{"simulate", "validate"}},
		{[]string{"ingest", "-h"}, []string{"file"}},
		{[]string{"watchlist", "-h"}, []string{"validate", "publish", "backtest", "list", "show", "apply", "submit", "approve", "reject", "pause", "resume", "delete", "import", "sync"}},
	} {
		var stdout bytes.Buffer
		if err := run(c.args, &stdout, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(stdout.String(), "  "+w+" ") {
				t.Errorf("earshot %v does not list %s:\n%s", c.args, w, stdout.String())
			}
		}
	}
}

// TestCompletion: earshot completion bash|zsh|fish prints a script that
// completes earshot.
func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		var stdout bytes.Buffer
		if err := run([]string{"completion", sh}, &stdout, &bytes.Buffer{}); err != nil || !strings.Contains(stdout.String(), "earshot") {
			t.Errorf("completion %s: %v, %d bytes", sh, err, stdout.Len())
		}
	}
	var stdout bytes.Buffer
	run([]string{"__complete", "watchlist", "ap"}, &stdout, &bytes.Buffer{})
	if !strings.Contains(stdout.String(), "apply") || !strings.Contains(stdout.String(), "approve") {
		t.Errorf("completing watchlist ap: %q", stdout.String())
	}
}

// TestFlagsAnywhere: flags may follow positional arguments (earshot
// watchlist reject ID --note …), and the Go flag package's single-dash
// long flags still work.
func TestFlagsAnywhere(t *testing.T) {
	if got := longFlags([]string{"run", "-config", "x", "-h", "--rate", "-7", "--", "-q"}); strings.Join(got, " ") != "run --config x -h --rate -7 -- -q" {
		t.Errorf("longFlags = %q", got)
	}
	var stdout bytes.Buffer
	if err := run([]string{"watchlist", "import", "powertrack", `acme -is:retweet`}, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatalf("watchlist import: %v", err)
	}
}
