package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/earshot-dev/earshot/insights"
	"github.com/earshot-dev/earshot/internal/secret"
	"github.com/earshot-dev/earshot/pipeline"
	"github.com/earshot-dev/earshot/sink"
)

const insightsUsage = `usage:
  earshot insights list [--format table|json]
  earshot insights run NAME [--param k=v ...] [--config F] [--format table|json] [--sql]
      [--user U --password P] [--addr host:9000] [--database DB] [--max-rows N] [--timeout D]`

// paramFlags collects repeated --param k=v.
type paramFlags map[string]string

func (p paramFlags) String() string { return fmt.Sprint(map[string]string(p)) }

func (p paramFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q: want name=value", s)
	}
	if _, dup := p[k]; dup {
		return fmt.Errorf("%s given twice", k)
	}
	p[k] = v
	return nil
}

// insightsTool is `earshot insights list|run`: the analysts' cookbook
// (docs/analysts.md) from the command line.
func insightsTool(args []string, stdout, stderr io.Writer) error {
	if helpWanted(args) {
		fmt.Fprintln(stderr, insightsUsage)
		return nil
	}
	if len(args) == 0 {
		return exitError{2, errors.New(insightsUsage)}
	}
	cat, err := insights.Load()
	if err != nil {
		return err
	}
	switch args[0] {
	case "list":
		fs := flag.NewFlagSet("earshot insights list", flag.ContinueOnError)
		fs.SetOutput(stderr)
		format := fs.String("format", "table", "table or json")
		if err := fs.Parse(args[1:]); err != nil {
			return exitError{2, err}
		}
		switch *format {
		case "json":
			return json.NewEncoder(stdout).Encode(cat.List())
		case "table":
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			for _, q := range cat.List() {
				var ps []string
				for _, p := range q.Params {
					s := p.Name + ":" + p.Type
					if !p.Required {
						s += "=" + p.Default
					}
					ps = append(ps, s)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", q.Name, q.Title, strings.Join(ps, " "))
			}
			return tw.Flush()
		}
		return exitError{2, fmt.Errorf("--format %q: want table or json", *format)}
	case "run":
		return insightsRun(cat, args[1:], stdout, stderr)
	}
	return exitError{2, fmt.Errorf("unknown insights command %q\n%s", args[0], insightsUsage)}
}

func insightsRun(cat *insights.Catalog, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("earshot insights run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	params := paramFlags{}
	fs.Var(params, "param", "a query parameter, name=value (repeatable)")
	config := fs.String("config", "deploy/examples/distributed.yaml", "configuration file (its sink section gives the ClickHouse server); \"\" for the local defaults (127.0.0.1:9000, database earshot, user default)")
	format := fs.String("format", "table", "table or json")
	printSQL := fs.Bool("sql", false, "print the bound SQL and do not run it")
	user := fs.String("user", "", "ClickHouse user, overriding the config (e.g. analyst)")
	password := fs.String("password", "", "ClickHouse password, overriding the config")
	addr := fs.String("addr", "", "ClickHouse native address, overriding the config")
	database := fs.String("database", "", "database, overriding the config")
	limits := insights.DefaultConfig()
	fs.IntVar(&limits.MaxRows, "max-rows", limits.MaxRows, "rows returned at most")
	fs.DurationVar(&limits.Timeout, "timeout", limits.Timeout, "query time limit")
	// The name may come before or after the flags.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return exitError{2, err}
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return exitError{2, err}
		}
	}
	if name == "" || fs.NArg() > 0 {
		return exitError{2, fmt.Errorf("want one query name (earshot insights list shows them)\n%s", insightsUsage)}
	}
	if *format != "table" && *format != "json" {
		return exitError{2, fmt.Errorf("--format %q: want table or json", *format)}
	}
	if err := limits.Validate(); err != nil {
		return exitError{2, err}
	}
	cat.Limits = limits
	sc := sink.DefaultConfig()
	if *config != "" {
		cfg, err := pipeline.Load(*config)
		if err != nil {
			return err
		}
		sc = cfg.Sink
	}
	for flagVal, field := range map[*string]*string{user: &sc.Username, database: &sc.Database} {
		if *flagVal != "" {
			*field = *flagVal
		}
	}
	if *password != "" { // the flag wins over the file's password, its file or its variable
		sc.Password, sc.PasswordFile, sc.PasswordEnv = secret.New(*password), "", ""
	}
	if *addr != "" {
		sc.Addr = []string{*addr}
	}
	if *printSQL {
		sql, err := cat.Bind(sc.Database, name, params)
		if err != nil {
			return exitError{2, err}
		}
		fmt.Fprintln(stdout, sql)
		return nil
	}
	// Check everything that can be checked before connecting.
	if _, err := cat.Bind(sc.Database, name, params); err != nil {
		return exitError{2, err}
	}
	sc.Cluster = "" // it only reads; a readonly analyst may not send the cluster's insert setting
	conn, err := sink.Open(sc)
	if err != nil {
		return err
	}
	defer conn.Close()
	t, err := cat.Run(context.Background(), conn, sc.Database, name, params)
	if err != nil {
		return err
	}
	if *format == "json" {
		return json.NewEncoder(stdout).Encode(t)
	}
	return writeTable(stdout, stderr, t)
}

func writeTable(stdout, stderr io.Writer, t *insights.Table) error {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.Columns, "\t"))
	for _, row := range t.Rows {
		cells := make([]string, len(row))
		for i, v := range row {
			switch x := v.(type) {
			case time.Time:
				cells[i] = x.UTC().Format(time.DateTime)
			case nil:
				cells[i] = "-"
			default:
				cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(fmt.Sprint(x))
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d rows", len(t.Rows))
	if t.Truncated {
		fmt.Fprint(stderr, " (cut at --max-rows)")
	}
	fmt.Fprintln(stderr)
	return nil
}

// insightsDefaults is every cookbook query with its defaults bound (and
// "acme" for required parameters), for migrate --print: sqlcheck.py runs
// them on a current ClickHouse.
func insightsDefaults(db string) (map[string]string, error) {
	cat, err := insights.Load()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, q := range cat.List() {
		params := map[string]string{}
		for _, p := range q.Params {
			if p.Required {
				params[p.Name] = "acme"
			}
		}
		sql, err := cat.Bind(db, q.Name, params)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", q.Name, err)
		}
		out[q.Name] = sql
	}
	return out, nil
}
