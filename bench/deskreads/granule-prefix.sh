#!/usr/bin/env bash
# granule-prefix.sh: what a desk lookup of one alert (sink.AlertTables.FindDesk)
# decompresses, and so what it costs the server, by where the alert sits in
# its index granule (issue 19, helper desk19c).
#
#   bench/deskreads/granule-prefix.sh TEMPLATE_DB DB N
#
# TEMPLATE_DB: a database earshot migrated (version 10 or later); DB: a
# database to create (dropped first, and at the end); N: repetitions. It
# stores 100,000 alerts of ≈ 1 KiB with their "created" events (as
# finddesk-variants.sh does), copies alerts into a table with
# index_granularity 256, and alternates on alerts spread over the queue:
# FindDesk as main had it (fd_8k), with max_block_size = 1024 as it is now
# (fd_8k_mbs1024), on the 256-row copy (fd_g256), and the alert's read alone
# on each table (a_8k, a_g256). Prints per variant the median wall and CPU
# time, the p90 CPU, the rows read and the median bytes decompressed
# (CompressedReadBufferBytes: the granule's columns from its first row to
# the alert's block — the cost the rows read do not show).
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
q "OPTIMIZE TABLE $M.alert_events FINAL"
q "$(q "SHOW CREATE TABLE $M.alerts" | sed "s/\\\\n/ /g; s/\\\\'/'/g; s/$M\\.alerts /$M.alerts_g256 /; s/index_granularity = 8192/index_granularity = 256/")"
q "INSERT INTO $M.alerts_g256 SELECT * FROM $M.alerts"
q "OPTIMIZE TABLE $M.alerts_g256 FINAL"
TAG="gp$RANDOM"
run() { curl -sS --fail-with-body "$CH/?log_queries=1&query_id=$TAG-$1-$2" --data-binary "$3" > /dev/null; }
ALERT="alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted, handed_off_from, unstaffed, created_at, due_at, payload"
OUT="$ALERT, market, ev_event, ev_actor, ev_at, ev_note, ev_event_id, ev_seq, ev_assignee, ev_outcome, ev_snoozed_until, ev_url"
ev() { # id
  echo "(SELECT alert_id, groupArray(event) AS ev_event, groupArray(actor) AS ev_actor, groupArray(at) AS ev_at, groupArray(note) AS ev_note, groupArray(event_id) AS ev_event_id, groupArray(seq) AS ev_seq, groupArray(assignee) AS ev_assignee, groupArray(outcome) AS ev_outcome, groupArray(snoozed_until) AS ev_snoozed_until, groupArray(url) AS ev_url FROM $M.alert_events PREWHERE queue = 'care' AND alert_id = '$1' WHERE event = 'acknowledged' OR event = 'retracted' OR event LIKE 'desk.%' GROUP BY alert_id)"
}
dels() { echo "post_key NOT IN (SELECT post_key FROM $M.deletions WHERE post_key IN (SELECT post_key FROM $M.$1 PREWHERE queue = 'care' AND alert_id = '$2'))"; }
fd() { # table id settings
  echo "SELECT $OUT FROM (SELECT * FROM $M.$1 FINAL PREWHERE queue = 'care' AND alert_id = '$2' WHERE $(dels "$1" "$2")) AS a ANY LEFT JOIN $(ev "$2") AS ev USING alert_id LIMIT 1$3 FORMAT Null"
}
for i in $(seq 1 "$N"); do
  id="b$(( (i * 7919 + 1) % 100000 ))"
  run fd_8k "$i" "$(fd alerts "$id" "")"
  run fd_8k_mbs1024 "$i" "$(fd alerts "$id" " SETTINGS max_block_size = 1024")"
  run fd_g256 "$i" "$(fd alerts_g256 "$id" "")"
  run a_8k "$i" "SELECT * FROM $M.alerts FINAL PREWHERE queue = 'care' AND alert_id = '$id' FORMAT Null"
  run a_g256 "$i" "SELECT * FROM $M.alerts_g256 FINAL PREWHERE queue = 'care' AND alert_id = '$id' FORMAT Null"
done
sleep 1
q "SYSTEM FLUSH LOGS"
q "SELECT extract(query_id, '^$TAG-([a-z_0-9]+)-[0-9]+\$') AS query, count() AS n, quantileExact(0.5)(query_duration_ms) AS wall_ms_p50,
  round(quantileExact(0.5)(ProfileEvents.Values[indexOf(ProfileEvents.Names, 'OSCPUVirtualTimeMicroseconds')]) / 1000, 1) AS cpu_ms_p50,
  round(quantileExact(0.9)(ProfileEvents.Values[indexOf(ProfileEvents.Names, 'OSCPUVirtualTimeMicroseconds')]) / 1000, 1) AS cpu_ms_p90,
  max(read_rows) AS read_rows,
  round(quantileExact(0.5)(ProfileEvents.Values[indexOf(ProfileEvents.Names, 'CompressedReadBufferBytes')]) / 1e6, 2) AS decompressed_mb_p50
  FROM system.query_log WHERE type = 2 AND query_id LIKE '$TAG-%' GROUP BY query ORDER BY query FORMAT PrettyCompactMonoBlock"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
q "DROP DATABASE $M"
