#!/usr/bin/env python3
"""Check earshot's ClickHouse SQL against a current ClickHouse engine.

The tests run the schema on Debian's ClickHouse 18.16; users run current
releases. This runs the same statements in chdb (ClickHouse in-process, from
PyPI), inserts a row through each of the sink's column lists, and reads the
deduplicating views back. Usage: earshot migrate --print | sqlcheck.py
"""
import json
import re
import sys
import tempfile

from chdb import session

spec = json.load(sys.stdin)
passed, failed = 0, 0


def check(what, sql):
    global passed, failed
    try:
        out = sess.query(sql, "CSV")
        passed += 1
        return str(out).strip()
    except Exception as e:  # report every problem, then fail
        failed += 1
        print(f"FAIL {what}: {e}\n  {sql[:300]}", file=sys.stderr)
        return None


with tempfile.TemporaryDirectory() as path:
    sess = session.Session(path)
    version = sess.query("SELECT version()", "CSV")
    print(f"ClickHouse {str(version).strip()} (chdb)")
    for i, stmt in enumerate(spec["statements"]):
        check(f"statement {i + 1}", stmt)
    # Twice, as Migrate may be: IF NOT EXISTS must hold for the first statements.
    for i, stmt in enumerate(spec["statements"][:3]):
        check(f"statement {i + 1} again", stmt)
    for table, cols in spec["inserts"].items():
        names = [c.strip() for c in cols.split(",")]
        types = dict(
            (r.split(",")[0].strip('"'), r.split(",", 1)[1].strip('"'))
            for r in str(sess.query(f"SELECT name, type FROM system.columns WHERE database = 'earshot' AND table = '{table}'", "CSV")).strip().splitlines()
        )
        missing = [n for n in names if n not in types]
        if missing:
            failed += 1
            print(f"FAIL insert into {table}: columns {missing} do not exist", file=sys.stderr)
            continue

        def value(t):
            if t.startswith("Array"):
                return "[]"
            if t.startswith("DateTime"):
                return "'2026-11-01 10:00:00'"
            if t.startswith(("Int", "UInt", "Float")):
                return "1"
            return "'another'" if table == "deletions" else "'x'"

        row = ", ".join(value(types[n]) for n in names)
        check(f"insert into {table}", f"INSERT INTO earshot.{table} ({cols}) VALUES ({row})")
        check(f"insert into {table} again", f"INSERT INTO earshot.{table} ({cols}) VALUES ({row})")
    for view, want in (("posts_dedup", "1"), ("matches_dedup", "1"), ("alerts_latest", "1")):
        got = check(f"count {view}", f"SELECT count() FROM earshot.{view}")
        if got is not None and got != want:
            failed += 1
            print(f"FAIL {view}: {got} rows after inserting one row twice, want {want} (deduplication)", file=sys.stderr)
    # alerts_desk (migration 11) is fed from alerts by its materialised
    # view, in granules of 256 rows: the row inserted twice into alerts is
    # one row of it under FINAL.
    for what, sql, want in (
        ("alerts_desk fed from alerts", "SELECT count() FROM earshot.alerts_desk FINAL", "1"),
        ("alerts_desk's granules", "SELECT position(engine_full, 'index_granularity = 256') > 0 FROM system.tables WHERE database = 'earshot' AND name = 'alerts_desk'", "1"),
    ):
        got = check(what, sql)
        if got is not None and got != want:
            failed += 1
            print(f"FAIL {what}: {got}, want {want}", file=sys.stderr)
    # The roll-ups count each post once however often its rows are written.
    check("insert match with a term", "INSERT INTO earshot.matches (post_key, watchlist, keywords, created_at, region, sentiment_label, inserted_at) VALUES ('x', 'x', ['acme'], '2026-11-01 10:00:00', 'x', 'x', now())")
    check("insert audit_log", "INSERT INTO earshot.audit_log (at, actor, role, action, object_type, object_id, before, after, request_id, inserted_at) VALUES (now(), 'a', 'admin', 'ack', 'alert', 'x', '{}', '{}', 'r1', now())")
    check("insert acknowledged", "INSERT INTO earshot.alert_events (alert_id, queue, event, actor, at, note, inserted_at) VALUES ('x', 'x', 'acknowledged', 'ann', '2026-11-01 10:05:00', '', now())")
    for what, sql, want in (
        ("volume_per_minute", "SELECT sum(posts) FROM earshot.volume_per_minute", "1"),
        ("mentions_hourly", "SELECT sum(mentions) FROM earshot.mentions_hourly", "1"),
        ("terms_daily", "SELECT sum(mentions) FROM earshot.terms_daily WHERE term = 'acme'", "1"),
        ("alerts_latest acknowledged", "SELECT acknowledged_by FROM earshot.alerts_latest", '"ann"'),
    ):
        got = check(what, sql)
        if got is not None and got != want:
            failed += 1
            print(f"FAIL {what}: {got}, want {want}", file=sys.stderr)
    # A delete of the stored post hides it from both views.
    check("delete", "INSERT INTO earshot.deletions (post_key, deleted_at, inserted_at) VALUES ('x', now(), now())")
    for view in ("posts_dedup", "matches_dedup", "alerts_latest"):
        got = check(f"count {view} after the delete", f"SELECT count() FROM earshot.{view}")
        if got is not None and got != "0":
            failed += 1
            print(f"FAIL {view}: {got} rows after the post was deleted, want 0", file=sys.stderr)
    # Retention: the TTL statements the sink runs where the server has TTL,
    # and the form system.tables shows them in, which the sink compares with.
    for i, stmt in enumerate(spec.get("retention", [])):
        check(f"retention statement {i + 1}", stmt)
    for table, want in spec.get("ttl_check", {}).items():
        got = check(f"TTL of {table}", f"SELECT engine_full FROM system.tables WHERE database = 'earshot' AND name = '{table}'")
        if got is not None and want not in got:
            failed += 1
            print(f"FAIL TTL of {table}: {got} does not contain {want!r}", file=sys.stderr)
    # Cluster mode: there is no cluster here, so the rendered statements are only parsed.
    for i, stmt in enumerate(spec.get("cluster", [])):
        check(f"cluster statement {i + 1} parses", "EXPLAIN AST " + stmt)
    # The analysts' cookbook (insights/queries), defaults bound, over a few
    # rows that fall inside the default windows: every query must run, and
    # all but those with a threshold return rows.
    for stmt in (
        "INSERT INTO earshot.posts (post_key, platform, id, author_id, author_handle, author_followers, text, created_at, lang, hashtags, region, sentiment, sentiment_label, watchlists, ingested_at, inserted_at, intents, influence, likes) VALUES ('p:1', 'p', '1', 'au', 'au', 10, 't', now() - 3600, 'en', ['#acme'], 'EMEA', -0.5, 'negative', ['acme'], now(), now(), ['complaint'], 50, 3)",
        "INSERT INTO earshot.matches (post_key, watchlist, keywords, created_at, lang, region, sentiment, sentiment_label, intents, inserted_at) VALUES ('p:1', 'acme', ['acme', 'refund'], now() - 3600, 'en', 'EMEA', -0.5, 'negative', ['complaint'], now()), ('p:2', 'acme', ['acme'], now() - 8 * 86400, 'en', 'NA', 0.5, 'positive', [], now())",
        "INSERT INTO earshot.volume_in (minute, platform, lang, post_hash) VALUES (toStartOfMinute(now() - 3600), 'p', 'en', 1), (toStartOfMinute(now() - 3600), 'p', 'en', 2)",
        "INSERT INTO earshot.alerts (alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted, handed_off_from, unstaffed, created_at, due_at, payload, inserted_at) VALUES ('al1', 'care', 'care-team', 'P1', 'r', 'p:1', ['acme'], 'EMEA', 'inc1', 2, 0, 0, 'pr', 0, now() - 7200, now() - 3600, '{}', now()), ('al2', 'care', 'care-team', 'P2', 'r', 'p:1', ['acme'], 'EMEA', '', 1, 0, 0, '', 0, now() - 7200, now() + 3600, '{}', now())",
        # al3: raised 8 days ago (before the default 7-day windows) and never
        # answered: overdue_alerts (no window by default) lists it.
        "INSERT INTO earshot.alerts (alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted, handed_off_from, unstaffed, created_at, due_at, payload, inserted_at) VALUES ('al3', 'care', 'care-team', 'P1', 'r', 'p:1', ['acme'], 'EMEA', '', 1, 0, 0, '', 0, now() - 8 * 86400, now() - 8 * 86400 + 900, '{}', now())",
        "INSERT INTO earshot.alert_events (alert_id, queue, event, actor, at, note, inserted_at) VALUES ('al1', 'care', 'created', 'sink', now() - 7200, '', now()), ('al2', 'care', 'created', 'sink', now() - 7200, '', now()), ('al2', 'care', 'acknowledged', 'ann', now() - 7140, '', now())",
        # A desk claim of al1 past its deadline, written twice (a redelivery).
        "INSERT INTO earshot.alert_events (alert_id, queue, event, actor, at, note, event_id, seq, inserted_at) VALUES ('al1', 'care', 'desk.claim:e1', 'ann', now() - 1800, '', 'e1', 1, now())",
        "INSERT INTO earshot.alert_events (alert_id, queue, event, actor, at, note, event_id, seq, inserted_at) VALUES ('al1', 'care', 'desk.claim:e1', 'ann', now() - 1800, '', 'e1', 1, now())",
    ):
        check("cookbook seed", stmt)
    # These return rows only above a threshold the few seeded rows are below
    # (10 mentions in an hour; a word in 5 posts): they must only run.
    thresholds = {"mention_spikes", "digest_spikes", "significant_words"}
    for name, sql in sorted(spec.get("queries", {}).items()):
        got = check(f"cookbook query {name}", sql)
        if got is not None and got == "" and name not in thresholds:
            failed += 1
            print(f"FAIL cookbook query {name}: no rows over the seeded data", file=sys.stderr)
    # The desk's SLA, row by row: al1 claimed past its deadline, al2
    # acknowledged in time and unclaimed; neither past the 1d resolve target.
    if "desk_sla" in spec.get("queries", {}):
        got = check("cookbook query desk_sla again", spec["queries"]["desk_sla"])
        if got is not None and got != '"care",2,1,1,0,2,1,0':
            failed += 1
            print(f"FAIL cookbook query desk_sla: {got!r}, want care,2,1,1,0,2,1,0", file=sys.stderr)
    # The SQL the sink, the API, the escalation job, insights and themes
    # build at run time (earshot migrate --print renders it with arguments
    # naming these seeds): every statement must run, and where the seeds
    # make the answer knowable it must be that answer.
    for stmt in (
        "INSERT INTO earshot.alert_events (alert_id, queue, event, actor, at, note, event_id, seq, assignee, outcome, snoozed_until, url, inserted_at) VALUES ('al2', 'care', 'desk.claim:e1', 'ann', now() - 7000, '', 'e1', 1, 'ann', '', toDateTime(0), '', now())",
        "INSERT INTO earshot.posts (post_key, platform, id, author_id, author_handle, author_followers, text, created_at, lang, hashtags, region, sentiment, sentiment_label, watchlists, ingested_at, inserted_at, intents, influence, likes) VALUES ('p:3', 'p', '3', 'au', 'au', 10, 'battery drains', now() - 3600, 'en', [], 'EMEA', -0.5, 'negative', ['acme'], now(), now(), [], 50, 3)",
        "INSERT INTO earshot.matches (post_key, watchlist, team, keywords, created_at, lang, region, sentiment, sentiment_label, intents, inserted_at) VALUES ('p:3', 'acme', 'care', ['battery'], now() - 3600, 'en', 'EMEA', -0.5, 'negative', [], now())",
    ):
        check("runtime seed", stmt)
    want_rows = {  # name: the CSV rows, sorted; a name not here must only run
        # al1 claimed by the desk_sla seed (written twice), al2 by the seed above
        "alerts.desk_counts.1": ['"care","claimed",2'],
        "alerts.desk_counts.cluster.1": ['"care","claimed",2'],
        "alerts.desk_counts.2": ['"care","al1"'],
        "alerts.desk_counts.cluster.2": ['"care","al1"'],
        "themes.count": ["1"],
        "sink.post_sources": ['"p:1",""'],  # the seeded post has no source
    }
    # alerts.desk_events: al1's claim twice (the raw table keeps both), al2's once.
    # alerts.latest.2: care's alerts al1, al2 and the old al3.
    want_count = {"alerts.latest.1": 1, "alerts.latest.2": 3, "alerts.latest.cluster.1": 1, "alerts.latest.cluster.2": 3, "alerts.find": 1, "alerts.find.cluster": 1, "alerts.desk_events": 3,
                  "themes.sample": 1, "themes.sample.cluster": 1, "sink.stored_alerts": 1, "sink.deleted_matches": 1}
    # The native batch inserts of the API, the desk, the audit log and the
    # escalation job: their columns must exist (a batch sends no SQL values).
    for name, sql in sorted(spec.get("batch_inserts", {}).items()):
        m = re.fullmatch(r"INSERT INTO (\w+)\.(\w+) \((.*)\)", sql)
        if not m:
            failed += 1
            print(f"FAIL batch insert {name}: not INSERT INTO db.table (columns): {sql}", file=sys.stderr)
            continue
        db, table, cols = m.groups()
        have = set(str(sess.query(f"SELECT name FROM system.columns WHERE database = '{db}' AND table = '{table}'", "CSV")).replace('"', "").split())
        missing = [c.strip() for c in cols.split(",") if c.strip() not in have]
        if missing:
            failed += 1
            print(f"FAIL batch insert {name}: columns {missing} not in {db}.{table}", file=sys.stderr)
        else:
            passed += 1
    for name, sql in sorted(spec.get("runtime", {}).items()):
        got = check(f"runtime {name}", sql)
        if got is None:
            continue
        rows = sorted(r for r in got.splitlines() if r)
        if name in want_rows and rows != want_rows[name]:
            failed += 1
            print(f"FAIL runtime {name}: {rows}, want {want_rows[name]}", file=sys.stderr)
        if name in want_count and len(rows) != want_count[name]:
            failed += 1
            print(f"FAIL runtime {name}: {len(rows)} rows, want {want_count[name]}", file=sys.stderr)
    print(f"sqlcheck: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
