package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/earshot-dev/earshot/api"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/stream"
	"github.com/earshot-dev/earshot/strictyaml"
	"github.com/earshot-dev/earshot/watchlist"
)

const storeUsage = `usage: earshot watchlist COMMAND [--store DIR | --config FILE] [--actor NAME] …
  list [--status S] [--team T]          the store's watchlists
  show ID [--history]                   one watchlist (JSON), or its history
  apply FILE.yaml [--if-version N]      create or edit a watchlist: a new draft version
  submit ID [--note TEXT]               ask for approval
  approve ID --if-version N [--note TEXT]     make the submitted version N, the one reviewed, live (not by its editor)
  reject ID --note TEXT                 send the submitted version back
  pause ID | resume ID [--note TEXT]    take the live version out of the live set, put it back
  delete ID [--note TEXT]               remove a watchlist (its history stays)
  import DIR                            bring a directory of watchlist files (reviewed in git) in, live
  sync                                  write and publish the live set again
The store is --store DIR, or match.store of --config FILE; with transport.kind:
kafka in the configuration, changes to the live set are published to
<prefix>.watchlists. The actor defaults to $USER; role checks are the API's.`

// storeCommands are the `earshot watchlist` subcommands that act on a store.
var storeCommands = map[string]bool{"list": true, "show": true, "apply": true, "submit": true, "approve": true,
	"reject": true, "pause": true, "resume": true, "delete": true, "import": true, "sync": true}

// watchlistStoreTool is `earshot watchlist list|show|apply|submit|approve|
// reject|pause|resume|delete|import|sync`: the watchlist store in local
// mode, acting on the store directory as the operator named by --actor.
func watchlistStoreTool(args []string, stdout, stderr io.Writer) error {
	cmd := args[0]
	fs := flag.NewFlagSet("earshot watchlist "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, storeUsage); fs.PrintDefaults() }
	storeDir := fs.String("store", "", "watchlist store directory (default: match.store of --config)")
	config := fs.String("config", "", "configuration file: match.store, match.team_quota, and Kafka for publishing")
	actor := fs.String("actor", os.Getenv("USER"), "who makes the change (recorded in the history)")
	note := fs.String("note", "", "a note for the history (a reason for a rejection)")
	status := fs.String("status", "", "list: only this status (draft, pending, approved, live, paused, rejected)")
	team := fs.String("team", "", "list: only this team's watchlists")
	history := fs.Bool("history", false, "show: the watchlist's history instead of its record")
	ifVersion := fs.Int("if-version", -1, "apply: refuse unless the stored version is N (0: create only); approve (required): the version reviewed, refused unless it is the one submitted")
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return exitError{2, err}
	}
	want := map[string]int{"list": 0, "sync": 0, "import": 1}
	n, ok := want[cmd]
	if !ok {
		n = 1
	}
	if len(pos) != n {
		return exitError{2, fmt.Errorf("earshot watchlist %s takes %d argument(s), got %q\n%s", cmd, n, pos, storeUsage)}
	}
	if cmd == "approve" && *ifVersion < 1 {
		// four eyes: the approver names what they reviewed, so that an edit
		// made since is not approved unread
		return exitError{2, errors.New("earshot watchlist approve: name the version you reviewed with --if-version N (the version of earshot watchlist show ID)")}
	}
	if cmd == "reject" && strings.TrimSpace(*note) == "" {
		return exitError{2, errors.New("earshot watchlist reject: say why with --note")}
	}
	if *status != "" && !validStatus(watchlist.Status(*status)) {
		return exitError{2, fmt.Errorf("--status %q: want draft, pending, approved, live, paused or rejected", *status)}
	}
	log, _ := newLogger("warn", stderr)
	s, closeStore, err := openStoreFor(*storeDir, *config, log)
	if err != nil {
		return err
	}
	defer closeStore()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	arg := ""
	if len(pos) > 0 {
		arg = pos[0]
	}
	if cmd != "list" && cmd != "show" && cmd != "sync" && strings.TrimSpace(*actor) == "" {
		return exitError{2, errors.New("--actor: who makes the change is needed ($USER is not set)")}
	}
	var r watchlist.Record
	switch cmd {
	case "list":
		f := watchlist.Filter{Status: watchlist.Status(*status)}
		if *team != "" {
			f.Teams = []string{*team}
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTEAM\tBRAND\tSTATUS\tVERSION\tLIVE\tUPDATED BY\tUPDATED")
		for _, r := range s.List(f) {
			live := "-"
			if r.Live != nil {
				live = fmt.Sprintf("v%d", r.LiveVersion)
				if r.Paused {
					live += " (paused)"
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\tv%d\t%s\t%s\t%s\n", r.ID, r.Team, r.Brand, r.Status, r.Version, live, r.UpdatedBy, r.UpdatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	case "show":
		if *history {
			h, err := s.History(arg)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tAT\tACTOR\tACTION\tVERSION\tSTATUS\tNOTE")
			for _, c := range h {
				st := "deleted"
				if c.After != nil {
					st = string(c.After.Status)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\tv%d\t%s\t%s\n", c.Seq, c.At.Format(time.RFC3339), c.Actor, c.Action, c.Version, st, c.Note)
			}
			return tw.Flush()
		}
		if r, err = s.Get(arg); err != nil {
			return err
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "apply":
		sp, err := readSpec(arg, stderr)
		if err != nil {
			return err
		}
		r, err = s.Apply(ctx, *actor, sp, *ifVersion)
		if err != nil {
			return err
		}
	case "submit":
		r, err = s.Submit(ctx, *actor, arg, *note)
	case "approve":
		r, err = s.ApproveVersion(ctx, *actor, arg, *ifVersion, *note)
	case "reject":
		r, err = s.Reject(ctx, *actor, arg, *note)
	case "pause":
		r, err = s.Pause(ctx, *actor, arg, *note)
	case "resume":
		r, err = s.Resume(ctx, *actor, arg, *note)
	case "delete":
		if err := s.Delete(ctx, *actor, arg, *note); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: deleted\n", arg)
		return nil
	case "import":
		recs, err := s.Import(ctx, *actor, arg)
		if err != nil {
			return err
		}
		for _, r := range recs {
			fmt.Fprintln(stdout, describe(r))
		}
		fmt.Fprintf(stdout, "%d watchlists imported from %s\n", len(recs), arg)
		return nil
	case "sync":
		n, err := s.Sync(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d watchlists live\n", n)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, describe(r))
	return nil
}

func validStatus(s watchlist.Status) bool {
	switch s {
	case watchlist.Draft, watchlist.Pending, watchlist.Approved, watchlist.Live, watchlist.Paused, watchlist.Rejected:
		return true
	}
	return false
}

// describe is one line about a record: its version, status and what is live.
func describe(r watchlist.Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: version %d, %s", r.ID, r.Version, r.Status)
	switch {
	case r.Live == nil:
		b.WriteString("; nothing live")
	case r.LiveVersion != r.Version || r.Paused:
		fmt.Fprintf(&b, "; live: version %d", r.LiveVersion)
		if r.Paused {
			b.WriteString(" (paused)")
		}
	}
	switch r.Status {
	case watchlist.Draft, watchlist.Rejected:
		fmt.Fprintf(&b, "; next: earshot watchlist submit %s", r.ID)
	case watchlist.Pending:
		fmt.Fprintf(&b, "; next: approval by someone other than %s", r.UpdatedBy)
	}
	return b.String()
}

// applyFile is a watchlist file as `earshot watchlist apply` reads it: the
// spec, and the status and version a file kept in git may carry, which the
// store sets itself.
type applyFile struct {
	watchlist.Spec `yaml:",inline"`
	Status         string `yaml:"status"`
	Version        int    `yaml:"version"`
}

func readSpec(path string, stderr io.Writer) (watchlist.Spec, error) {
	var f applyFile
	if err := strictyaml.File(path, &f); err != nil {
		return watchlist.Spec{}, err
	}
	if f.Status != "" || f.Version != 0 {
		fmt.Fprintf(stderr, "%s: status and version are the store's to set; ignored (the change becomes a draft with the next version)\n", path)
	}
	return f.Spec, nil
}

// parseInterleaved parses flags that may come before or after the
// positional arguments (earshot watchlist reject ID --note …, earshot
// search "query" --lang el).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// openStoreFor opens the watchlist store named by --store, or by
// match.store of the configuration file, with the live directory the
// embedded matcher reloads and, in distributed mode, publishing to the
// watchlists topic the matchers follow.
func openStoreFor(storeDir, config string, log *slog.Logger) (*watchlist.Store, func(), error) {
	cfg := pipeline.Default()
	if config != "" {
		var err error
		if cfg, err = pipeline.Load(config); err != nil {
			return nil, nil, err
		}
		if storeDir == "" {
			storeDir = cfg.Match.Store
		}
	}
	if storeDir == "" {
		return nil, nil, exitError{2, errors.New("the watchlist store: --store DIR, or --config FILE with match.store, is needed")}
	}
	cfg.Match.Store = storeDir
	if config == "" || cfg.API.StateDir == "" {
		return OpenWatchlistStore(cfg, nil, log)
	}
	// Changes made here are audited like the API's, as the local operator
	// (role "cli"), in the API's audit log, which ships to ClickHouse.
	audit, err := api.OpenAudit(cfg.API.StateDir)
	if err != nil {
		return nil, nil, err
	}
	st, closeStore, err := OpenWatchlistStore(cfg, api.WatchlistHook(audit, "cli", log), log)
	if err != nil {
		audit.Close()
		return nil, nil, err
	}
	return st, func() { closeStore(); audit.Close() }, nil
}

// OpenWatchlistStore opens cfg.Match.Store the way every process that
// changes it must (the CLI, the API): its live set is written to
// watchlist.DefaultLiveDir for the embedded matcher, checked against
// match.team_quota, and, with transport.kind: kafka, published to the
// watchlists topic that matchers following it (match.follow: kafka) read.
// onChange is the audit hook (nil: none). The returned function closes it.
func OpenWatchlistStore(cfg pipeline.Config, onChange func(watchlist.Change), log *slog.Logger) (*watchlist.Store, func(), error) {
	mo, err := pipeline.MatchOptions(cfg)
	if err != nil {
		return nil, nil, err
	}
	opt := watchlist.Options{LiveDir: watchlist.DefaultLiveDir(cfg.Match.Store), TeamQuota: cfg.Match.TeamQuota, Match: mo, OnChange: onChange, Log: log}
	var k *stream.Kafka
	if cfg.Transport.Kind == "kafka" {
		var err error
		if k, err = stream.NewKafka(cfg.Transport.Kafka, "", log); err != nil {
			return nil, nil, err
		}
		publish := watchlist.KafkaPublisher(k, pipeline.NewTopics(cfg.Transport.TopicPrefix).Watchlists())
		opt.Publish = func(ctx context.Context, live []match.Watchlist) error {
			if err := k.WaitReady(ctx); err != nil {
				return err
			}
			return publish(ctx, live)
		}
	}
	s, err := watchlist.Open(cfg.Match.Store, opt)
	if err != nil {
		if k != nil {
			k.Close()
		}
		return nil, nil, err
	}
	return s, func() {
		s.Close()
		if k != nil {
			k.Close()
		}
	}, nil
}
