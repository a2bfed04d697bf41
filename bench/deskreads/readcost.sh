#!/usr/bin/env bash
# readcost.sh: what the desk's reads cost the ClickHouse server, before and
# after the one-read change (issue 19), measured by the server itself
# (system.query_log: CPU time, read rows and bytes, marks), so that the
# figure does not depend on how loaded the machine is the way a client's
# latency does.
#
#   bench/deskreads/readcost.sh TEMPLATE_DB DB N [big]
#
# TEMPLATE_DB: any database earshot migrated, at version 10 or later (its
# alerts, alert_events, deletions and alert_times tables are copied empty); DB: a database to create (dropped
# first if it exists); N: repetitions. It stores 100,000 alerts of ~1 KiB on
# queue care with their "created" events (and, with "big", 900,000 more desk
# notes and 2,000,000 deleted posts), then runs the old and the new queries
# alternately N times on alerts spread over the queue and prints, per
# query, the median and p90 of the server's wall time and CPU time, the
# CPU wait (time the query's threads were runnable but not running: the
# load), and the rows, bytes and marks read. Needs curl and the HTTP port
# (CH, default http://127.0.0.1:8123).
set -euo pipefail
CH="${CH:-http://127.0.0.1:8123}"
T="$1"; M="$2"; N="$3"; BIG="${4:-}"
q() { curl -sS --fail-with-body "$CH/" --data-binary "$1"; }
q "DROP DATABASE IF EXISTS $M"
q "CREATE DATABASE $M"
for t in alerts alert_events deletions alert_times; do q "CREATE TABLE $M.$t AS $T.$t"; done
q "CREATE VIEW $M.alerts_latest AS SELECT alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike,
   retracted, handed_off_from, unstaffed, created_at, due_at, payload, inserted_at, acknowledged_at, acknowledged_by, market
   FROM (SELECT * FROM $M.alerts FINAL WHERE post_key NOT IN (SELECT post_key FROM $M.deletions)) AS a
   ANY LEFT JOIN (SELECT alert_id, min(at) AS acknowledged_at, argMin(actor, at) AS acknowledged_by FROM $M.alert_events
   WHERE event = 'acknowledged' GROUP BY alert_id) AS ack USING alert_id"
q "INSERT INTO $M.alerts (alert_id, queue, priority, rule, post_key, created_at, due_at, payload, inserted_at)
   SELECT concat('b', toString(number)), 'care', 'P2', 'r', concat('x:b', toString(number)), now() - 3600 + intDiv(number, 100), now() + 3600,
   concat('{\"post\":{\"text\":\"', arrayStringConcat(arrayMap(x -> 'acme is down ', range(80))), '\"}}'), now()
   FROM system.numbers LIMIT 100000"
q "INSERT INTO $M.alert_events (alert_id, queue, event, actor, at, note, inserted_at)
   SELECT concat('b', toString(number)), 'care', 'created', 'sink', now() - 3600, 'r', now() FROM system.numbers LIMIT 100000"
# The queue's order (migration 10; the sink's materialised view fills it).
q "INSERT INTO $M.alert_times (queue, created_at, alert_id, inserted_at) SELECT queue, created_at, alert_id, inserted_at FROM $M.alerts"
if [ "$BIG" = big ]; then
  q "INSERT INTO $M.alert_events (alert_id, queue, event, actor, at, note, event_id, seq, inserted_at)
     SELECT concat('b', toString(number % 100000)), 'care', concat('desk.note:n', toString(number)), 'rita', now() - 600,
     'a note of forty characters or so, fine.', concat('n', toString(number)), number, now() FROM system.numbers LIMIT 900000"
  q "INSERT INTO $M.deletions (post_key, deleted_at, inserted_at) SELECT concat('y:', toString(number)), now(), now() FROM system.numbers LIMIT 2000000"
fi
TAG="readcost$RANDOM"
run() { curl -sS "$CH/?log_queries=1&query_id=$TAG-$1-$2" --data-binary "$3" > /dev/null; }
ALERT="alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted, handed_off_from, unstaffed, created_at, due_at, payload"
EVCOLS="alert_id, queue, event, actor, at, note, event_id, seq, assignee, outcome, snoozed_until, url"
for i in $(seq 1 "$N"); do
  id="b$(( (i * 7919 + 1) % 100000 ))"
  # Before: Find (alerts FINAL with every column of the granule, every deletion), then the events by has().
  run old_find "$i" "SELECT $ALERT, acknowledged_at, acknowledged_by, market FROM (SELECT * FROM $M.alerts FINAL WHERE queue = 'care' AND alert_id = '$id' AND post_key NOT IN (SELECT post_key FROM $M.deletions)) AS a ANY LEFT JOIN (SELECT alert_id, min(at) AS acknowledged_at, argMin(actor, at) AS acknowledged_by FROM $M.alert_events WHERE queue = 'care' AND alert_id = '$id' AND event = 'acknowledged' GROUP BY alert_id) AS ack USING alert_id LIMIT 1 FORMAT Null"
  run old_events "$i" "SELECT $EVCOLS FROM $M.alert_events WHERE queue = 'care' AND has(['$id'], alert_id) AND (event LIKE 'desk.%' OR event = 'retracted') ORDER BY alert_id, at, seq, event_id FORMAT Null"
  # After: FindDesk (the alert, its ack and events in one query), and the events by key (the read after a write).
  run new_finddesk "$i" "SELECT $ALERT, market, ev_event, ev_actor, ev_at, ev_note, ev_event_id, ev_seq, ev_assignee, ev_outcome, ev_snoozed_until, ev_url FROM (SELECT * FROM $M.alerts FINAL PREWHERE queue = 'care' AND alert_id = '$id' WHERE post_key NOT IN (SELECT post_key FROM $M.deletions WHERE post_key IN (SELECT post_key FROM $M.alerts PREWHERE queue = 'care' AND alert_id = '$id'))) AS a ANY LEFT JOIN (SELECT alert_id, groupArray(event) AS ev_event, groupArray(actor) AS ev_actor, groupArray(at) AS ev_at, groupArray(note) AS ev_note, groupArray(event_id) AS ev_event_id, groupArray(seq) AS ev_seq, groupArray(assignee) AS ev_assignee, groupArray(outcome) AS ev_outcome, groupArray(snoozed_until) AS ev_snoozed_until, groupArray(url) AS ev_url FROM $M.alert_events PREWHERE queue = 'care' AND alert_id = '$id' WHERE event = 'acknowledged' OR event = 'retracted' OR event LIKE 'desk.%' GROUP BY alert_id) AS ev USING alert_id LIMIT 1 FORMAT Null"
  run new_events "$i" "SELECT $EVCOLS FROM $M.alert_events PREWHERE queue = 'care' AND alert_id IN ('$id') WHERE event LIKE 'desk.%' OR event = 'retracted' ORDER BY alert_id, at, seq, event_id FORMAT Null"
  # A page of 50 (+1), before (the view) and after.
  run old_list50 "$i" "SELECT $ALERT, acknowledged_at, acknowledged_by, market FROM $M.alerts_latest WHERE queue = 'care' ORDER BY created_at DESC, alert_id LIMIT 0, 51 FORMAT Null"
  P="SELECT alert_id FROM $M.alerts FINAL PREWHERE queue = 'care' WHERE post_key NOT IN (SELECT post_key FROM $M.deletions WHERE post_key IN (SELECT post_key FROM $M.alerts PREWHERE queue = 'care')) ORDER BY created_at DESC, alert_id LIMIT 51"
  run new_list50 "$i" "SELECT $ALERT, acknowledged_at, acknowledged_by, market FROM (SELECT * FROM $M.alerts FINAL PREWHERE queue = 'care' AND alert_id IN ($P)) AS a ANY LEFT JOIN (SELECT alert_id, min(at) AS acknowledged_at, argMin(actor, at) AS acknowledged_by FROM $M.alert_events PREWHERE queue = 'care' WHERE event = 'acknowledged' GROUP BY alert_id) AS ack USING alert_id ORDER BY created_at DESC, alert_id LIMIT 0, 51 FORMAT Null"
  # The list through alert_times (issue 19, desk19): the cutoff (the 79th
  # newest row's time: 51 + 51/4 + 16), then the page from it.
  run times_list50_cut "$i" "SELECT min(created_at), count() FROM (SELECT created_at FROM $M.alert_times PREWHERE queue = 'care' ORDER BY created_at DESC LIMIT 79) FORMAT Null"
  C=$(q "SELECT toUInt32(min(created_at)) FROM (SELECT created_at FROM $M.alert_times PREWHERE queue = 'care' ORDER BY created_at DESC LIMIT 79)")
  IDS="SELECT alert_id FROM $M.alert_times PREWHERE queue = 'care' AND created_at >= toDateTime($C)"
  PAGE="SELECT alert_id FROM $M.alerts FINAL PREWHERE queue = 'care' AND alert_id IN ($IDS) WHERE post_key NOT IN (SELECT post_key FROM $M.deletions WHERE post_key IN (SELECT post_key FROM $M.alerts PREWHERE queue = 'care' AND alert_id IN ($IDS))) ORDER BY created_at DESC, alert_id LIMIT 51"
  run times_list50_page "$i" "SELECT $ALERT, acknowledged_at, acknowledged_by, market FROM (SELECT * FROM $M.alerts FINAL PREWHERE queue = 'care' AND alert_id IN ($PAGE)) AS a ANY LEFT JOIN (SELECT alert_id, min(at) AS acknowledged_at, argMin(actor, at) AS acknowledged_by FROM $M.alert_events PREWHERE queue = 'care' AND alert_id IN ($PAGE) WHERE event = 'acknowledged' GROUP BY alert_id) AS ack USING alert_id ORDER BY created_at DESC, alert_id LIMIT 51 FORMAT Null"
done
q "SYSTEM FLUSH LOGS"; sleep 2; q "SYSTEM FLUSH LOGS"
ev() { echo "arraySum(arrayFilter((v, k) -> k = '$1', ProfileEvents.Values, ProfileEvents.Names))"; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
q "SELECT splitByChar('-', query_id)[2] AS query, count() AS n,
     quantileExact(0.5)(query_duration_ms) AS wall_ms_p50, quantileExact(0.9)(query_duration_ms) AS wall_ms_p90,
     round(quantileExact(0.5)($(ev OSCPUVirtualTimeMicroseconds)) / 1000, 1) AS cpu_ms_p50,
     round(quantileExact(0.9)($(ev OSCPUVirtualTimeMicroseconds)) / 1000, 1) AS cpu_ms_p90,
     round(quantileExact(0.5)($(ev OSCPUWaitMicroseconds)) / 1000, 1) AS cpu_wait_ms_p50,
     quantileExact(0.5)(read_rows) AS read_rows, quantileExact(0.5)(read_bytes) AS read_bytes, quantileExact(0.5)($(ev SelectedMarks)) AS marks
   FROM system.query_log WHERE type = 2 AND startsWith(query_id, '$TAG-') GROUP BY query ORDER BY query FORMAT PrettyCompactNoEscapes"
q "DROP DATABASE $M"
