#!/usr/bin/env bash
# alerts-desk.sh: migration 11's copy of alerts (alerts_desk, 256 rows a
# granule) against alerts (8,192) and a copy at 1,024 rows a granule: the
# backfill's time, the disk each takes, and what a desk lookup
# (sink.AlertTables.FindDesk) and a page of 50 alerts spread over the queue
# (the list's page rows) cost the server on each (issue 19, helper
# desk19d; the variants of granule-prefix.sh).
#
#   bench/deskreads/alerts-desk.sh TEMPLATE_DB DB ALERTS N
#
# TEMPLATE_DB: a database earshot migrated (version 11 or later); DB: a
# database to create (dropped first, and at the end); ALERTS: how many
# alerts to store (≈ 1 KiB payloads: 80 bytes of text and 40 hashes, which
# compress about as a post's JSON does, not as a repeated word); N:
# lookups per variant, alternated, on alerts spread over the queue.
set -euo pipefail
CH="${CH:-http://127.0.0.1:8123}"
T="$1"; M="$2"; A="$3"; N="$4"
q() { curl -sS --fail-with-body "$CH/" --data-binary "$1"; }
q "DROP DATABASE IF EXISTS $M"
q "CREATE DATABASE $M"
for t in alerts alerts_desk alert_events deletions; do q "CREATE TABLE $M.$t AS $T.$t"; done
q "$(q "SHOW CREATE TABLE $M.alerts_desk" | sed "s/\\\\n/ /g; s/\\\\'/'/g; s/$M\\.alerts_desk /$M.alerts_g1024 /; s/index_granularity = 256/index_granularity = 1024/")"
COLS="alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted, handed_off_from, unstaffed, created_at, due_at, payload, inserted_at, market"
q "INSERT INTO $M.alerts (alert_id, queue, priority, rule, post_key, created_at, due_at, payload, inserted_at)
   SELECT concat('b', toString(number)), 'care', 'P2', 'r', concat('x:b', toString(number)), now() - 3600 + intDiv(number, 100), now() + 3600,
   concat('{\"post\":{\"text\":\"acme is down again, third time this week, nobody answers the phone ',
     arrayStringConcat(arrayMap(x -> toString(cityHash64(number, x)), range(40)), ' '), '\"}}'), now()
   FROM system.numbers LIMIT $A"
q "INSERT INTO $M.alert_events (alert_id, queue, event, actor, at, note, inserted_at)
   SELECT concat('b', toString(number)), 'care', 'created', 'sink', now() - 3600, 'r', now() FROM system.numbers LIMIT $A"
q "OPTIMIZE TABLE $M.alerts FINAL"
q "OPTIMIZE TABLE $M.alert_events FINAL"
TAG="ad$RANDOM"
# The backfill, as migration 11 runs it (twice: a second run, as after a
# kill -9 before the record, then merged away).
for k in 1 2; do
  curl -sS --fail-with-body "$CH/?log_queries=1&query_id=$TAG-backfill-$k" --data-binary "INSERT INTO $M.alerts_desk ($COLS) SELECT $COLS FROM $M.alerts"
done
q "OPTIMIZE TABLE $M.alerts_desk FINAL"
q "INSERT INTO $M.alerts_g1024 SELECT * FROM $M.alerts"
q "OPTIMIZE TABLE $M.alerts_g1024 FINAL"
run() { curl -sS --fail-with-body "$CH/?log_queries=1&query_id=$TAG-$1-$2" --data-binary "$3" > /dev/null; }
ALERT="alert_id, queue, team, priority, rule, post_key, watchlists, region, incident, incident_size, spike, retracted, handed_off_from, unstaffed, created_at, due_at, payload"
OUT="$ALERT, market, ev_event, ev_actor, ev_at, ev_note, ev_event_id, ev_seq, ev_assignee, ev_outcome, ev_snoozed_until, ev_url"
ev() { # id
  echo "(SELECT alert_id, groupArray(event) AS ev_event, groupArray(actor) AS ev_actor, groupArray(at) AS ev_at, groupArray(note) AS ev_note, groupArray(event_id) AS ev_event_id, groupArray(seq) AS ev_seq, groupArray(assignee) AS ev_assignee, groupArray(outcome) AS ev_outcome, groupArray(snoozed_until) AS ev_snoozed_until, groupArray(url) AS ev_url FROM $M.alert_events PREWHERE queue = 'care' AND alert_id = '$1' WHERE event = 'acknowledged' OR event = 'retracted' OR event LIKE 'desk.%' GROUP BY alert_id)"
}
dels() { echo "post_key NOT IN (SELECT post_key FROM $M.deletions WHERE post_key IN (SELECT post_key FROM $M.$1 PREWHERE queue = 'care' AND alert_id = '$2'))"; }
fd() { # table id
  echo "SELECT $OUT FROM (SELECT * FROM $M.$1 FINAL PREWHERE queue = 'care' AND alert_id = '$2' WHERE $(dels "$1" "$2")) AS a ANY LEFT JOIN $(ev "$2") AS ev USING alert_id LIMIT 1 SETTINGS max_block_size = 1024 FORMAT Null"
}
for i in $(seq 1 "$N"); do
  id="b$(( (i * 7919 + 1) % A ))"
  run fd_g8192 "$i" "$(fd alerts "$id")"
  run fd_g256 "$i" "$(fd alerts_desk "$id")"
  run fd_g1024 "$i" "$(fd alerts_g1024 "$id")"
  run a_g8192 "$i" "SELECT * FROM $M.alerts FINAL PREWHERE queue = 'care' AND alert_id = '$id' FORMAT Null"
  run a_g256 "$i" "SELECT * FROM $M.alerts_desk FINAL PREWHERE queue = 'care' AND alert_id = '$id' FORMAT Null"
  run a_g1024 "$i" "SELECT * FROM $M.alerts_g1024 FINAL PREWHERE queue = 'care' AND alert_id = '$id' FORMAT Null"
  # A page of the desk's list: 50 alerts whose ids are spread over the
  # queue (route's ids are not in time order), read whole by id.
  ids="$(for j in $(seq 0 49); do printf "'b%d'," $(( (i * 31 + j * 1999) % A )); done)"
  for t in alerts:g8192 alerts_desk:g256 alerts_g1024:g1024; do
    run "page50_${t#*:}" "$i" "SELECT * FROM $M.${t%%:*} FINAL PREWHERE queue = 'care' AND alert_id IN (${ids%,}) FORMAT Null"
  done
done
sleep 1
q "SYSTEM FLUSH LOGS"
q "SELECT extract(query_id, '^$TAG-([a-z_0-9]+)-[0-9]+\$') AS query, count() AS n, quantileExact(0.5)(query_duration_ms) AS wall_ms_p50,
  round(quantileExact(0.5)(ProfileEvents.Values[indexOf(ProfileEvents.Names, 'OSCPUVirtualTimeMicroseconds')]) / 1000, 1) AS cpu_ms_p50,
  round(quantileExact(0.9)(ProfileEvents.Values[indexOf(ProfileEvents.Names, 'OSCPUVirtualTimeMicroseconds')]) / 1000, 1) AS cpu_ms_p90,
  max(read_rows) AS read_rows,
  round(quantileExact(0.5)(ProfileEvents.Values[indexOf(ProfileEvents.Names, 'CompressedReadBufferBytes')]) / 1e6, 2) AS decompressed_mb_p50
  FROM system.query_log WHERE type = 2 AND query_id LIKE '$TAG-%' GROUP BY query ORDER BY query FORMAT PrettyCompactMonoBlock"
q "SELECT table, sum(rows) AS rows, round(sum(data_compressed_bytes) / 1e6, 1) AS compressed_mb, round(sum(data_uncompressed_bytes) / 1e6, 1) AS uncompressed_mb,
  round(sum(bytes_on_disk) / 1e6, 1) AS on_disk_mb, round(sum(marks_bytes) / 1e3, 1) AS marks_kb, round(sum(primary_key_bytes_in_memory) / 1e3, 1) AS pk_mem_kb
  FROM system.parts WHERE database = '$M' AND active AND table LIKE 'alerts%' GROUP BY table ORDER BY table FORMAT PrettyCompactMonoBlock"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
q "DROP DATABASE $M"
