#!/usr/bin/env bash
# finddesk-variants.sh: what the server's CPU for a desk action's read
# (sink.AlertTables.FindDesk) is made of, and what cheaper forms of it
# would save, measured by the server (system.query_log), the variants
# alternated on the same tables (issue 19, helper desk19p).
#
#   bench/deskreads/finddesk-variants.sh TEMPLATE_DB DB N
#
# TEMPLATE_DB: a database earshot migrated (version 10 or later); DB: a
# database to create (dropped first, and at the end); N: repetitions. It
# stores 100,000 alerts with their "created" events as readcost.sh does,
# copies alerts and alert_events into tables with index_granularity 1024,
# then runs on alerts spread over the queue: FindDesk as it is (8k), on the
# 1024 copies (1k), without FINAL, without the deletions lookup, with the
# uncompressed cache, with max_threads 1, and its pieces alone (the alert,
# its events, the deletions lookup), the re-read of the events (8k, 1k),
# and SELECT 1. Prints per variant the median wall and CPU time, the p90
# CPU, the median CPU wait (the load's share) and the rows read.
set -euo pipefail
CH="${CH:-http://127.0.0.1:8123}"
T="$1"; M="$2"; N="$3"
q() { curl -sS --fail-with-body "$CH/" --data-binary "$1"; }
q "DROP DATABASE IF EXISTS $M"
q "CREATE DATABASE $M"
for t in alerts alert_events deletions; do q "CREATE TABLE $M.$t AS $T.$t"; done
q "INSERT INTO $M.alerts (alert_id, queue, priority, rule, post_key, created_at, due_at, payload, inserted_at)
   SELECT concat('b', toString(number)), 'care', 'P2', 'r', concat('x:b', toString(number)), now() - 3600 + intDiv(number, 100), now() + 3600,
   concat('{\"post\":{\"text\":\"', arrayStringConcat(arrayMap(x -> 'acme is down ', range(80))), '\"}}'), now()
   FROM system.numbers LIMIT 100000"
q "INSERT INTO $M.alert_events (alert_id, queue, event, actor, at, note, inserted_at)
   SELECT concat('b', toString(number)), 'care', 'created', 'sink', now() - 3600, 'r', now() FROM system.numbers LIMIT 100000"
q "OPTIMIZE TABLE $M.alerts FINAL"
for t in alerts alert_events; do
  q "$(q "SHOW CREATE TABLE $M.$t" | sed "s/\\\\n/ /g; s/\\\\'/'/g; s/$M\\.$t /$M.${t}_g1k /; s/index_granularity = 8192/index_granularity = 1024/")"
  q "INSERT INTO $M.${t}_g1k SELECT * FROM $M.$t"
done
TAG="fdv$RANDOM"
run() { curl -sS --fail-with-body "$CH/?log_queries=1&query_id=$TAG-$1-$2" --data-binary "$3" > /dev/null; }
ALERT="alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted, handed_off_from, unstaffed, created_at, due_at, payload"
OUT="$ALERT, market, ev_event, ev_actor, ev_at, ev_note, ev_event_id, ev_seq, ev_assignee, ev_outcome, ev_snoozed_until, ev_url"
EVCOLS="alert_id, queue, event, actor, at, note, event_id, seq, assignee, outcome, snoozed_until, url"
ev() { # events table, id
  echo "(SELECT alert_id, groupArray(event) AS ev_event, groupArray(actor) AS ev_actor, groupArray(at) AS ev_at, groupArray(note) AS ev_note, groupArray(event_id) AS ev_event_id, groupArray(seq) AS ev_seq, groupArray(assignee) AS ev_assignee, groupArray(outcome) AS ev_outcome, groupArray(snoozed_until) AS ev_snoozed_until, groupArray(url) AS ev_url FROM $M.$1 PREWHERE queue = 'care' AND alert_id = '$2' WHERE event = 'acknowledged' OR event = 'retracted' OR event LIKE 'desk.%' GROUP BY alert_id)"
}
dels() { echo "post_key NOT IN (SELECT post_key FROM $M.deletions WHERE post_key IN (SELECT post_key FROM $M.$1 PREWHERE queue = 'care' AND alert_id = '$2'))"; }
for i in $(seq 1 "$N"); do
  id="b$(( (i * 7919 + 1) % 100000 ))"
  run finddesk_8k "$i" "SELECT $OUT FROM (SELECT * FROM $M.alerts FINAL PREWHERE queue = 'care' AND alert_id = '$id' WHERE $(dels alerts "$id")) AS a ANY LEFT JOIN $(ev alert_events "$id") AS ev USING alert_id LIMIT 1 FORMAT Null"
  run finddesk_1k "$i" "SELECT $OUT FROM (SELECT * FROM $M.alerts_g1k FINAL PREWHERE queue = 'care' AND alert_id = '$id' WHERE $(dels alerts_g1k "$id")) AS a ANY LEFT JOIN $(ev alert_events_g1k "$id") AS ev USING alert_id LIMIT 1 FORMAT Null"
  run nofinal "$i" "SELECT $OUT FROM (SELECT * FROM $M.alerts PREWHERE queue = 'care' AND alert_id = '$id' WHERE $(dels alerts "$id")) AS a ANY LEFT JOIN $(ev alert_events "$id") AS ev USING alert_id LIMIT 1 FORMAT Null"
  run nodeletions "$i" "SELECT $OUT FROM (SELECT * FROM $M.alerts FINAL PREWHERE queue = 'care' AND alert_id = '$id') AS a ANY LEFT JOIN $(ev alert_events "$id") AS ev USING alert_id LIMIT 1 FORMAT Null"
  run ucache "$i" "SELECT $OUT FROM (SELECT * FROM $M.alerts FINAL PREWHERE queue = 'care' AND alert_id = '$id' WHERE $(dels alerts "$id")) AS a ANY LEFT JOIN $(ev alert_events "$id") AS ev USING alert_id LIMIT 1 SETTINGS use_uncompressed_cache = 1 FORMAT Null"
  run threads1 "$i" "SELECT $OUT FROM (SELECT * FROM $M.alerts FINAL PREWHERE queue = 'care' AND alert_id = '$id' WHERE $(dels alerts "$id")) AS a ANY LEFT JOIN $(ev alert_events "$id") AS ev USING alert_id LIMIT 1 SETTINGS max_threads = 1 FORMAT Null"
  run piece_alert "$i" "SELECT * FROM $M.alerts FINAL PREWHERE queue = 'care' AND alert_id = '$id' FORMAT Null"
  run piece_events "$i" "SELECT * FROM $(ev alert_events "$id") FORMAT Null"
  run piece_deletions "$i" "SELECT post_key FROM $M.deletions WHERE post_key IN (SELECT post_key FROM $M.alerts PREWHERE queue = 'care' AND alert_id = '$id') FORMAT Null"
  run reread_8k "$i" "SELECT $EVCOLS FROM $M.alert_events PREWHERE queue = 'care' AND alert_id IN ('$id') WHERE event LIKE 'desk.%' OR event = 'retracted' ORDER BY alert_id, at, seq, event_id FORMAT Null"
  run reread_1k "$i" "SELECT $EVCOLS FROM $M.alert_events_g1k PREWHERE queue = 'care' AND alert_id IN ('$id') WHERE event LIKE 'desk.%' OR event = 'retracted' ORDER BY alert_id, at, seq, event_id FORMAT Null"
  run select1 "$i" "SELECT 1 FORMAT Null"
done
sleep 1
q "SYSTEM FLUSH LOGS"
q "SELECT extract(query_id, '^$TAG-([a-z_0-9]+)-[0-9]+\$') AS query, count() AS n, quantileExact(0.5)(query_duration_ms) AS wall_ms_p50,
  round(quantileExact(0.5)(ProfileEvents.Values[indexOf(ProfileEvents.Names, 'OSCPUVirtualTimeMicroseconds')]) / 1000, 1) AS cpu_ms_p50,
  round(quantileExact(0.9)(ProfileEvents.Values[indexOf(ProfileEvents.Names, 'OSCPUVirtualTimeMicroseconds')]) / 1000, 1) AS cpu_ms_p90,
  round(quantileExact(0.5)(ProfileEvents.Values[indexOf(ProfileEvents.Names, 'OSCPUWaitMicroseconds')]) / 1000, 1) AS cpu_wait_ms_p50,
  max(read_rows) AS read_rows
  FROM system.query_log WHERE type = 2 AND query_id LIKE '$TAG-%' GROUP BY query ORDER BY query FORMAT PrettyCompactMonoBlock"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
q "DROP DATABASE $M"
