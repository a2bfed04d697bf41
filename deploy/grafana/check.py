#!/usr/bin/env python3
"""Run the ClickHouse queries of the Grafana dashboards on a current engine.

The integration tests run them on Debian's ClickHouse 18.16 over data the
pipeline wrote; this runs them in chdb (current ClickHouse, in-process) on
the same schema. Usage: earshot migrate --print | check.py DASHBOARD.json...
"""
import json
import re
import sys
import tempfile
import time

from chdb import session

spec = json.load(sys.stdin)
now = int(time.time())
frm, to = now - 7 * 86400, now + 60
variables = {"watchlist": ["acme", "it's"], "region": ["EMEA", "NA", ""], "market": ["DACH", "GR-CY", ""]}


def expand(sql):
    sql = re.sub(r"\$__timeFilter\((\w+)\)", rf"\1 >= toDateTime({frm}) AND \1 <= toDateTime({to})", sql)
    sql = sql.replace("$__fromTime", f"toDateTime({frm})").replace("$__toTime", f"toDateTime({to})").replace("${db}", "earshot")
    for name, vals in variables.items():
        quoted = ",".join("'" + v.replace("'", "\\'") + "'" for v in vals)
        sql = sql.replace("${" + name + ":singlequote}", quoted)
    return sql


failed = passed = 0
with tempfile.TemporaryDirectory() as path:
    sess = session.Session(path)
    for stmt in spec["statements"]:
        sess.query(stmt)
    sess.query(
        "INSERT INTO earshot.matches (post_key, watchlist, watchlist_version, created_at, region, sentiment_label, keywords, inserted_at) "
        f"VALUES ('x:1', 'acme', 1, toDateTime({now - 3600}), 'EMEA', 'negative', ['acme', 'refund'], now())"
    )
    for f in sys.argv[1:]:
        d = json.load(open(f))
        queries = [v["query"] for v in d.get("templating", {}).get("list", [])
                   if v.get("type") == "query" and v.get("datasource", {}).get("type") == "grafana-clickhouse-datasource"]
        queries += [t["rawSql"] for p in d.get("panels", []) for t in p.get("targets", []) if "rawSql" in t]
        for q in queries:
            sql = expand(q)
            try:
                sess.query(sql, "CSV")
                passed += 1
            except Exception as e:
                failed += 1
                print(f"FAIL {f}: {e}\n  {sql[:300]}", file=sys.stderr)
    print(f"grafana check: {passed} dashboard queries passed, {failed} failed")
    sys.exit(1 if failed else 0)
