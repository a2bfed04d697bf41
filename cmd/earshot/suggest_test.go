package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestUnknownCommandSuggests: a mistyped command names the command meant
// and points at the help, instead of printing the whole usage; exit 2.
func TestUnknownCommandSuggests(t *testing.T) {
	for typed, want := range map[string]string{"rnu": "run", "watchlsit": "watchlist", "serach": "search", "inget": "ingest", "zzzzzz": ""} {
		var stdout, stderr bytes.Buffer
		err := run([]string{typed}, &stdout, &stderr)
		if exitCode(err) != 2 {
			t.Errorf("%s: exit %d, want 2", typed, exitCode(err))
		}
		msg := err.Error() + stderr.String()
		if want != "" && !strings.Contains(msg, `did you mean "`+want+`"`) {
			t.Errorf("%s: %q, want a suggestion of %s", typed, msg, want)
		}
		if want == "" && strings.Contains(msg, "did you mean") {
			t.Errorf("%s: %q suggests something for a word like no command", typed, msg)
		}
		if strings.Count(stderr.String(), "\n") > 3 {
			t.Errorf("%s: printed the whole usage (%d lines)", typed, strings.Count(stderr.String(), "\n"))
		}
	}
}

// TestFlagErrorsPrintedOnce: the flag package prints a bad flag's error
// with the command's usage; the closing report must not print it again.
func TestFlagErrorsPrintedOnce(t *testing.T) {
	for _, args := range [][]string{{"run", "--bogus"}, {"eval", "--bogus", "x"}, {"run", "--rate", "fast"}} {
		var stdout, stderr bytes.Buffer
		err := run(args, &stdout, &stderr)
		report(err, &stderr)
		first, _, _ := strings.Cut(err.Error(), "\n")
		if n := strings.Count(stderr.String(), first); n != 1 {
			t.Errorf("%v: %q printed %d times:\n%s", args, first, n, stderr.String())
		}
		if exitCode(err) != 2 {
			t.Errorf("%v: exit %d, want 2", args, exitCode(err))
		}
	}
}

// TestStageFlagsApply: a stage's help lists only flags that do something
// there: the synthetic firehose's --rate, --seed and --limit belong to the
// commands that run the ingest stage.
func TestStageFlagsApply(t *testing.T) {
	for _, cmd := range []string{"match", "enrich", "route", "sink"} {
		var stdout, stderr bytes.Buffer
		run([]string{cmd, "-h"}, &stdout, &stderr)
		if !strings.Contains(stdout.String(), "--config ") {
			t.Fatalf("earshot %s -h printed no flags:\n%s", cmd, stdout.String())
		}
		for _, f := range []string{"--rate", "--seed", "--limit"} {
			if strings.Contains(stdout.String(), " "+f+" ") {
				t.Errorf("earshot %s -h lists %s, which does nothing there", cmd, f)
			}
		}
		if err := run([]string{cmd, "--rate", "5"}, &stdout, &stderr); exitCode(err) != 2 {
			t.Errorf("earshot %s --rate 5: exit %d, want 2", cmd, exitCode(err))
		}
	}
	for _, cmd := range []string{"run", "ingest"} {
		var stdout, stderr bytes.Buffer
		run([]string{cmd, "-h"}, &stdout, &stderr)
		if !strings.Contains(stdout.String(), " --rate ") {
			t.Errorf("earshot %s -h does not list --rate:\n%s", cmd, stdout.String())
		}
	}
}

// TestHelpGoesToStdout: help asked for is printed on stdout with exit 0;
// a usage error still goes to stderr with exit 2.
func TestHelpGoesToStdout(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"help"}, {"run", "-h"}, {"watchlist", "-h"}, {"eval", "-h"}, {"match", "-h"}, {"token", "--help"}} {
		var stdout, stderr bytes.Buffer
		err := run(args, &stdout, &stderr)
		if exitCode(err) != 0 || !strings.Contains(strings.ToLower(stdout.String()), "usage") || stderr.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %d bytes, stderr %q", args, exitCode(err), stdout.Len(), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if err := run(nil, &stdout, &stderr); exitCode(err) != 2 || stdout.Len() != 0 || stderr.Len() == 0 {
		t.Errorf("no command: exit %d, stdout %q", exitCode(err), stdout.String())
	}
}
