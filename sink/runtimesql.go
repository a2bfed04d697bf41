package sink

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/internal/sqlrecord"
	"github.com/earshot-dev/earshot/post"
)

// RuntimeStatements renders the reads the sink, the API's alert store
// (AlertTables) and the escalation job (Escalations) build at run time,
// with representative arguments bound as literals, by running the real
// code over a recording connection: name -> SQL, for `earshot migrate
// --print` and deploy/local/sqlcheck.py. The arguments name what
// sqlcheck.py seeds: queue "care", alerts "al1" and "al2", post "p:1";
// the windows end at now. A name ending in ".cluster" is the statement of
// a database on a cluster (sink.cluster: GLOBAL subqueries).
func RuntimeStatements(db string, now time.Time) (map[string]string, error) {
	ctx := context.Background()
	out := map[string]string{}
	rec := &sqlrecord.Conn{Scan: func(sql string, dest ...any) error {
		if sql == "SELECT version()" {
			return sqlrecord.Set(dest[0], "24.8.1.1") // a server with TTL: ApplyRetention reads on
		}
		if strings.HasPrefix(sql, "SELECT min(created_at), count() FROM (") && len(dest) == 2 {
			// Latest's cutoff: a queue of two alerts from 1970 on, so that
			// Latest goes on to read them (recorded as alerts.latest.2).
			if err := sqlrecord.Set(dest[0], time.Unix(0, 0).UTC()); err != nil {
				return err
			}
			return sqlrecord.Set(dest[1], uint64(2))
		}
		return nil
	}}
	// take runs fn over the recorder and names its reads: name alone for
	// one, name.1, name.2, ... for several.
	take := func(name string, fn func() error) error {
		rec.Reset()
		if err := fn(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		reads, err := rec.Reads()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if len(reads) == 0 {
			return fmt.Errorf("%s: no statement recorded", name)
		}
		for i, q := range reads {
			key := name
			if len(reads) > 1 {
				key = fmt.Sprintf("%s.%d", name, i+1)
			}
			out[key] = q
		}
		return nil
	}
	since := now.Add(-24 * time.Hour)
	for _, cluster := range []bool{false, true} {
		suffix := ""
		if cluster {
			suffix = ".cluster"
		}
		t := &AlertTables{Conn: rec, DB: db, Cluster: cluster}
		steps := []struct {
			name string
			fn   func() error
		}{
			{"alerts.find", func() error { _, _, err := t.Find(ctx, "care", "al1"); return err }},
			{"alerts.latest", func() error { _, err := t.Latest(ctx, "care", 0, 50); return err }},
			{"alerts.desk_counts", func() error {
				_, err := t.DeskCounts(ctx, DeskQuery{Since: since, Now: now, BreachedFrom: since, MaxBreached: 100,
					ResolveTargets: map[string]map[string]time.Duration{"care": {"P1": time.Hour}}})
				return err
			}},
		}
		if !cluster { // no GLOBAL in these
			steps = append(steps, []struct {
				name string
				fn   func() error
			}{
				{"alerts.desk_events", func() error { _, err := t.DeskEvents(ctx, "care", []string{"al1", "al2"}); return err }},
				{"alerts.desk_events_since", func() error { _, err := t.DeskEventsSince(ctx, []string{"care", "pr"}, since, 100); return err }},
			}...)
		}
		for _, s := range steps {
			if err := take(s.name+suffix, s.fn); err != nil {
				return nil, err
			}
		}
	}
	if err := take("escalations.overdue", func() error {
		_, err := NewEscalations(rec, db).Overdue(ctx, now, 100)
		return err
	}); err != nil {
		return nil, err
	}
	s := New(rec, db)
	del := &post.Item{Post: &post.Post{Kind: post.KindDelete, Platform: "p", ID: "1", Source: "s"}}
	edit := &post.Item{Post: &post.Post{Kind: post.KindEdit, Platform: "p", ID: "2", Source: "s'"}}
	alert := &post.Item{Post: &post.Post{Platform: "p", ID: "1"}, Alert: &post.Alert{ID: "al1", Queue: "care"}}
	for _, st := range []struct {
		name string
		fn   func() error
	}{
		{"sink.deleted_matches", func() error { return s.subtractDeleted(ctx, []*post.Item{del}) }},
		{"sink.post_sources", func() error {
			_, _, _, err := s.refuseForeign(ctx, []*post.Item{edit}, []*post.Item{del})
			return err
		}},
		{"sink.stored_alerts", func() error { _, err := s.storedAlerts(ctx, []*post.Item{alert}); return err }},
		{"schema.server_version", func() error { _, err := Version(ctx, rec); return err }},
	} {
		if err := take(st.name, st.fn); err != nil {
			return nil, err
		}
	}
	// Migrate reads the version, then the columns of each table an ALTER
	// … ADD COLUMN adds to (see Schema.apply); one of those is enough to
	// check the form.
	rec.Reset()
	if _, err := (Schema{DB: db}).migrateTo(ctx, rec, SchemaVersion()); err != nil {
		return nil, fmt.Errorf("schema.version: %w", err)
	}
	reads, err := rec.Reads()
	if err != nil {
		return nil, err
	}
	for _, q := range reads {
		switch {
		case strings.Contains(q, ".schema_migrations"):
			out["schema.version"] = q
		case strings.Contains(q, "system.columns") && out["schema.columns"] == "":
			out["schema.columns"] = q
		}
	}
	if out["schema.version"] == "" || out["schema.columns"] == "" {
		return nil, fmt.Errorf("schema.version, schema.columns: not recorded in %q", reads)
	}
	// ApplyRetention reads the engine of each table with a retention; one
	// is enough to check the form.
	rec.Reset()
	if err := (Schema{DB: db, Retention: Retention{"posts": "90d"}}).ApplyRetention(ctx, rec, nil); err != nil {
		return nil, fmt.Errorf("schema.ttl_read: %w", err)
	}
	reads, err = rec.Reads()
	if err != nil {
		return nil, err
	}
	for _, q := range reads {
		if strings.Contains(q, "system.tables") {
			out["schema.ttl_read"] = q
		}
	}
	if out["schema.ttl_read"] == "" {
		return nil, fmt.Errorf("schema.ttl_read: no statement recorded")
	}
	return out, nil
}

// RuntimeBatches renders the native batch inserts of the API, the desk,
// the audit log, the escalation job and the sink's delete path ("INSERT
// INTO db.table (columns)"), by running them over a recording connection:
// name -> statement, for `earshot migrate --print` ("batch_inserts"), whose
// columns sqlcheck.py checks against the tables. The sink's stage inserts
// are InsertColumns.
func RuntimeBatches(db string, now time.Time) (map[string]string, error) {
	ctx := context.Background()
	out := map[string]string{}
	rec := &sqlrecord.Conn{}
	t := &AlertTables{Conn: rec, DB: db, Now: func() time.Time { return now }}
	alert := &post.Item{Post: &post.Post{Platform: "p", ID: "1"}, Alert: &post.Alert{ID: "al1", Queue: "care", EscalateTo: "duty"}}
	for _, st := range []struct {
		name string
		fn   func() error
	}{
		{"alerts.add_event", func() error { return t.AddEvent(ctx, "al1", "care", "acknowledged", "ann", now, "") }},
		{"alerts.add_desk_event", func() error {
			return t.AddDeskEvent(ctx, DeskEventRow{AlertID: "al1", Queue: "care", Event: "desk.claim", Actor: "ann", At: now, EventID: "e1"})
		}},
		{"audit.insert", func() error { return (&AuditTable{Conn: rec, DB: db}).Insert(ctx, []AuditRow{{At: now, Actor: "ann"}}) }},
		{"escalations.mark", func() error { return NewEscalations(rec, db).MarkEscalated(ctx, []*post.Item{alert}, now) }},
		{"sink.deleted_matches", func() error {
			// PrepareBatch comes after the read, whatever it found.
			return New(rec, db).subtractDeleted(ctx, []*post.Item{{Post: &post.Post{Kind: post.KindDelete, Platform: "p", ID: "1"}}})
		}},
	} {
		rec.Reset()
		if err := st.fn(); err != nil {
			return nil, fmt.Errorf("%s: %w", st.name, err)
		}
		for _, s := range rec.Statements {
			if s.Kind == "batch" {
				out[st.name] = s.SQL
			}
		}
		if out[st.name] == "" {
			return nil, fmt.Errorf("%s: no batch recorded", st.name)
		}
	}
	return out, nil
}
