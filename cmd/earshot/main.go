// Command earshot is the one binary: every stage in one process (earshot
// run), or one stage per process (earshot ingest|match|enrich|route|sink),
// and the tools around them. It is a CLI and nothing else: the commands
// and their flags are declared here (spf13/cobra), the work is done by the
// packages that own it, and pipeline.Process assembles a running process.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/spf13/cobra"

	"github.com/earshot-dev/earshot/internal/buildinfo"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/strictyaml"
)

// exitError carries a process exit code.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// usageError is exit code 2 for a command used wrongly.
func usageError(format string, args ...any) error {
	return exitError{2, fmt.Errorf(format, args...)}
}

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	report(err, os.Stderr)
	os.Exit(exitCode(err))
}

// report prints the error a command ended with.
func report(err error, stderr io.Writer) {
	if err != nil {
		fmt.Fprintln(stderr, "earshot:", strictyaml.Bound(err.Error()))
	}
}

// exitCode is the exit code for what run returned: 2 for bad usage or
// configuration (pipeline.ErrConfig), 1 for a failure, 0 when done or when
// help was asked for.
func exitCode(err error) int {
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, pipeline.ErrConfig):
		return 2
	}
	return 1
}

// lockedWriter serialises writers that share stderr: the logger and the
// progress report.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// run runs the command line args: help asked for goes to stdout (it is the
// answer: earshot watchlist -h | less works), errors are returned for main
// to report on stderr.
func run(args []string, stdout, stderr io.Writer) error {
	root := newRoot(stdout, &lockedWriter{w: stderr})
	root.SetArgs(longFlags(args))
	return root.Execute()
}

// longFlags accepts the Go flag package's single-dash long flags, which
// earshot took before it used cobra: -config F is --config F. Single
// letters (-h) and what follows -- are left alone.
func longFlags(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if a == "--" {
			copy(out[i:], args[i:])
			break
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' && (a[1] < '0' || a[1] > '9') && a[1] != '.' {
			out[i] = "-" + a
		}
	}
	return out
}

// newRoot is the command tree; stdout and stderr are the commands' own.
func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "earshot",
		Short: "social listening on a stream",
		Long: `earshot: social listening on a stream

Exit codes: 0 done, 1 failed, 2 bad usage or configuration.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				fmt.Fprint(stderr, c.UsageString())
				return usageError("no command")
			}
			return unknownCommand(c, args[0])
		},
	}
	root.Version = buildinfo.Current().String() // --version prints it, as earshot version
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError("%w (%s -h lists the flags)", err, c.CommandPath())
	})
	root.AddCommand(versionCommand(stdout))
	addTools(root, addStageCommands(root, stdout, stderr), stdout, stderr)
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	return root
}

// group is a command that only holds subcommands: without one, or with an
// unknown one, it is a usage error (exit 2); "help" prints its help.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use + " COMMAND", Short: short, Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) > 0 && args[0] == "help" {
				return c.Help()
			}
			if len(args) == 0 {
				return usageError("%s: which command? (earshot %s -h lists them)", use, use)
			}
			return unknownCommand(c, args[0])
		}}
	c.AddCommand(subs...)
	return c
}

// unknownCommand is exit 2, naming the command meant when one is within
// two edits of typed.
func unknownCommand(c *cobra.Command, typed string) error {
	c.SuggestionsMinimumDistance = 2
	if near := c.SuggestionsFor(typed); len(near) > 0 {
		return usageError("unknown command %q: did you mean %q? (%s -h lists the commands)", typed, near[0], c.CommandPath())
	}
	return usageError("unknown command %q (%s -h lists the commands)", typed, c.CommandPath())
}

// noArgs refuses positional arguments (exit 2).
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError("unexpected arguments %q", args)
	}
	return nil
}

// nArgs wants min to max positional arguments, named what (exit 2).
func nArgs(min, max int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) < min || len(args) > max {
			return usageError("%s: want %s, got %q (%s -h)", c.CommandPath(), what, args, c.CommandPath())
		}
		return nil
	}
}

// versionCommand is `earshot version [--json]`.
func versionCommand(stdout io.Writer) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{Use: "version", Short: "the version, commit and Go toolchain of this binary", Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			if asJSON {
				return json.NewEncoder(stdout).Encode(buildinfo.Current())
			}
			_, err := fmt.Fprintln(stdout, buildinfo.Current())
			return err
		}}
	c.Flags().BoolVar(&asJSON, "json", false, "the version as a JSON object: version, revision, time, modified, go")
	return c
}
